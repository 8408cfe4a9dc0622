package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/kong-authkit/kong-authkit/pkg/passwd"
	"github.com/kong-authkit/kong-authkit/pkg/secret"
)

// KeyPrefix marks generated API keys, so a leaked one is recognisable by
// secret scanners and in support requests.
const KeyPrefix = "ak_"

// keyBytes is the entropy of a generated key: 256 bits, beyond brute force,
// which is why a fast SHA-256 (not a slow password hash) suffices to store it.
const keyBytes = 32

// maxSecretLine bounds what is read from stdin for a password or key.
const maxSecretLine = 4096

func newHashCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hash",
		Short: "Create password hashes and API keys for the plugins' credentials",
	}
	cmd.AddCommand(newHashPasswordCmd(), newHashKeyCmd())
	return cmd
}

func newHashPasswordCmd() *cobra.Command {
	var (
		algorithm  string
		cost       int
		iterations int
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "password",
		Short: "Hash a password for authkit-basic (read from stdin, or prompted for on a terminal)",
		Long: "password reads the password from stdin (the first line, without its newline) or, on a\n" +
			"terminal, prompts twice without echo. It never takes the password as an argument: the\n" +
			"command line is visible to other users and kept in shell history. Only the hash is printed.",
		Example: "  authkit hash password\n" +
			"  printf '%s\\n' \"$PW\" | authkit hash password --algorithm bcrypt --cost 12",
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			hashFn, err := passwordHasher(algorithm, cost, iterations)
			if err != nil {
				return usageError(err)
			}
			pw, err := readSecret(cmd, "Password: ", true)
			if err != nil {
				return err
			}
			defer clear(pw) // best effort: do not leave it in the heap longer than needed
			h, err := hashFn(pw)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), map[string]string{"algorithm": algorithm, "hash": h})
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), h)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&algorithm, "algorithm", passwd.SchemeArgon2id, "argon2id, bcrypt or pbkdf2-sha256")
	f.IntVar(&cost, "cost", passwd.DefaultBcryptCost, "bcrypt cost (4-31)")
	f.IntVar(&iterations, "iterations", passwd.DefaultPBKDF2Iterations, "pbkdf2-sha256 iterations")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// passwordHasher picks the hash function; argon2id uses the OWASP
// parameters the plugins are tuned for (passwd.DefaultArgon2Params).
func passwordHasher(algorithm string, cost, iterations int) (func([]byte) (string, error), error) {
	switch algorithm {
	case passwd.SchemeArgon2id:
		return func(pw []byte) (string, error) { return passwd.HashArgon2id(pw, passwd.DefaultArgon2Params) }, nil
	case passwd.SchemeBcrypt:
		return func(pw []byte) (string, error) { return passwd.HashBcrypt(pw, cost) }, nil
	case passwd.SchemePBKDF2SHA256:
		return func(pw []byte) (string, error) { return passwd.HashPBKDF2(pw, iterations) }, nil
	}
	return nil, fmt.Errorf("--algorithm %q: want argon2id, bcrypt or pbkdf2-sha256", algorithm)
}

func newHashKeyCmd() *cobra.Command {
	var (
		keyFrom string
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Generate an API key for authkit-key and print its hash (or hash a key from stdin)",
		Long: "key generates a random 32-byte key, prints it once (base64url with the ak_ prefix) with\n" +
			"its sha256:<hex> hash for the credential configuration and its log fingerprint. Only the\n" +
			"hash should be stored. With --key - it reads an existing key from stdin and prints its hash.",
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var key string
			generated := false
			switch keyFrom {
			case "":
				b := make([]byte, keyBytes)
				_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
				key, generated = KeyPrefix+base64.RawURLEncoding.EncodeToString(b), true
			case "-":
				k, err := readSecret(cmd, "API key: ", false)
				if err != nil {
					return err
				}
				key = string(k)
			default:
				return usageError(errors.New("--key takes only \"-\" (stdin): a key on the command line is visible in ps and shell history"))
			}
			sum := sha256.Sum256([]byte(key))
			out := struct {
				Key         string `json:"key,omitempty"`
				Hash        string `json:"hash"`
				Fingerprint string `json:"fingerprint"`
			}{Hash: "sha256:" + hex.EncodeToString(sum[:]), Fingerprint: secret.Fingerprint(key)}
			if generated {
				out.Key = key
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			w := &errWriter{w: cmd.OutOrStdout()}
			if generated {
				fmt.Fprintf(w, "key:         %s\n", out.Key)
			}
			fmt.Fprintf(w, "hash:        %s\n", out.Hash)
			fmt.Fprintf(w, "fingerprint: %s\n", out.Fingerprint)
			if generated {
				fmt.Fprintln(cmd.ErrOrStderr(), "Give the key to its client now; it is not stored and cannot be shown again. Configure only the hash.")
			}
			return w.err
		},
	}
	cmd.Flags().StringVar(&keyFrom, "key", "", `"-" reads an existing key from stdin and hashes it`)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// readSecret reads a secret from a terminal without echo (twice when
// confirm is set, since a typo would lock the user out), or else the first
// line of stdin, without its line ending.
func readSecret(cmd *cobra.Command, prompt string, confirm bool) ([]byte, error) {
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		errw := cmd.ErrOrStderr()
		fmt.Fprint(errw, prompt)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(errw)
		if err != nil {
			return nil, err
		}
		if confirm {
			fmt.Fprint(errw, "Repeat "+prompt)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(errw)
			if err != nil {
				return nil, err
			}
			same := bytes.Equal(a, b)
			clear(b)
			if !same {
				clear(a)
				return nil, errors.New("the two entries differ")
			}
		}
		if len(a) == 0 {
			return nil, errors.New("empty input")
		}
		return a, nil
	}
	line, err := bufio.NewReaderSize(io.LimitReader(in, maxSecretLine+2), maxSecretLine+2).ReadSlice('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading stdin: %w", err)
	}
	if errors.Is(err, io.EOF) && len(line) > maxSecretLine {
		return nil, fmt.Errorf("stdin: first line longer than %d bytes", maxSecretLine)
	}
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	if len(line) == 0 {
		return nil, errors.New("empty input on stdin (pipe the secret in, or run on a terminal to be prompted)")
	}
	return bytes.Clone(line), nil
}
