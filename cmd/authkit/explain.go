package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
)

func newExplainCmd() *cobra.Command {
	var all, asJSON bool
	cmd := &cobra.Command{
		Use:   "explain CODE",
		Short: "Explain an authkit error code: what the client saw, the likely cause and the fix",
		Example: "  authkit explain OAUTH_TOKEN_EXPIRED\n" +
			"  authkit explain basic_locked_out --json\n" +
			"  authkit explain --all",
		Args: usageArgs(func(cmd *cobra.Command, args []string) error {
			if all {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		}),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if all {
				return explainAll(out, asJSON)
			}
			ent, ok := lookupCode(args[0])
			if !ok {
				msg := fmt.Sprintf("unknown code %q", args[0])
				if m := closeMatches(args[0]); len(m) > 0 {
					msg += "; did you mean: " + strings.Join(m, ", ")
				}
				return &exitError{code: 2, err: fmt.Errorf("%s (authkit explain --all lists every code)", msg)}
			}
			if asJSON {
				return writeJSON(out, explanationOf(ent))
			}
			return explainText(out, explanationOf(ent))
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "list every code")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// lookupCode is case-insensitive and accepts '-' for '_', since codes are
// often retyped from a JSON body or a chat message.
func lookupCode(s string) (errcode.Entry, bool) {
	c := errcode.Code(normCode(s))
	ent, ok := errcode.Lookup(c)
	return ent, ok && ent.Code == c
}

func normCode(s string) string {
	return strings.ReplaceAll(strings.ToUpper(strings.TrimSpace(s)), "-", "_")
}

// closeMatches suggests codes for a mistyped one: codes containing the input
// (TOKEN_EXPIRED → OAUTH_TOKEN_EXPIRED) or within a small edit distance.
func closeMatches(s string) []string {
	in := normCode(s)
	type cand struct {
		code string
		d    int
	}
	var cs []cand
	for _, e := range errcode.All() {
		code := string(e.Code)
		d := editDistance(in, code)
		if _, short, ok := strings.Cut(code, "_"); ok { // without the family prefix
			d = min(d, editDistance(in, short))
		}
		if len(in) >= 3 && strings.Contains(code, in) {
			d = 0
		}
		if d <= max(2, len(in)/4) {
			cs = append(cs, cand{code, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	out := make([]string, 0, 5)
	for i := 0; i < len(cs) && i < 5; i++ {
		out = append(out, cs[i].code)
	}
	return out
}

// editDistance is the Levenshtein distance (codes are short ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// explanation is what `explain` prints; also its JSON shape.
type explanation struct {
	Code       string `json:"code"`
	Status     int    `json:"status"`
	StatusText string `json:"status_text"`
	// RFCError is the RFC 6750 §3.1 / RFC 6749 §5.2 error value, "" for none.
	RFCError string `json:"rfc_error"`
	Class    string `json:"class"`
	LogLevel string `json:"log_level"`
	Client   struct {
		Message string `json:"message"`
		// Body is the JSON body of the refusal ("" for token-endpoint
		// explanations, where the client sees the provider's answer).
		Body string `json:"body,omitempty"`
		// WWWAuthenticate is the challenge sent with it ("" for none).
		WWWAuthenticate string `json:"www_authenticate,omitempty"`
		// Note says where the answer came from when it is not a refusal.
		Note string `json:"note,omitempty"`
	} `json:"client"`
	Cause string `json:"cause"`
	Fix   string `json:"fix"`
	Spec  string `json:"spec,omitempty"`
}

// tokenEndpointCodes explain an OAuth provider's token-endpoint answer
// (authkit-oauth-explain) instead of being a refusal by the gateway.
var tokenEndpointCodes = map[errcode.Code]bool{
	errcode.RedirectURIMismatch: true, errcode.InvalidGrant: true, errcode.InvalidScope: true,
	errcode.UnauthorizedClient: true, errcode.UnsupportedGrantType: true, errcode.ClientAuthFailed: true,
	errcode.TokenRequestInvalid: true, errcode.AccessDenied: true,
}

// realmPlaceholder stands for the configured realm in example challenges.
const realmPlaceholder = "<realm>"

func explanationOf(e errcode.Entry) explanation {
	x := explanation{
		Code: string(e.Code), Status: e.Status, StatusText: http.StatusText(e.Status), RFCError: e.BearerError,
		Class: string(e.Class), LogLevel: e.LogLevel(), Cause: e.Cause, Fix: e.Hint, Spec: e.Spec,
	}
	x.Client.Message = e.Message
	if tokenEndpointCodes[e.Code] {
		x.Client.Note = "the client saw the provider's token-endpoint error (RFC 6749 §5.2), " +
			`a JSON body with "error": "` + e.BearerError + `"; authkit-oauth-explain logs this code for it`
		return x
	}
	x.Client.Body = string(gateway.ClientBody(e))
	// The challenge comes from the same functions the plugins use, so this
	// cannot drift from what a client really receives.
	var ch gateway.Challenge
	switch {
	case strings.HasPrefix(x.Code, "OAUTH_DPOP_"):
		// As authkit-oauth with proof_of_possession_dpop sends it.
		dpopCh := gateway.DPoPChallenges(realmPlaceholder, []string{"<dpop_allowed_algs>"}, true)
		ch = func(e *errcode.Error) string { return strings.Join(dpopCh(e), ", ") }
	case strings.HasPrefix(x.Code, "OAUTH_"):
		ch = gateway.BearerChallenge(realmPlaceholder)
	case strings.HasPrefix(x.Code, "APIKEY_"):
		ch = gateway.KeyChallenge(realmPlaceholder)
	case strings.HasPrefix(x.Code, "BASIC_"):
		ch = gateway.BasicChallenge(realmPlaceholder)
	}
	if ch != nil {
		x.Client.WWWAuthenticate = ch(errcode.New(e.Code, "").With("required_scope", "<required scopes>"))
	}
	return x
}

func explainText(out io.Writer, x explanation) error {
	w := &errWriter{w: out}
	rfc := x.RFCError
	if rfc == "" {
		rfc = "- (none)"
	}
	fmt.Fprintln(w, x.Code)
	fmt.Fprintf(w, "  status       %d %s\n", x.Status, x.StatusText)
	fmt.Fprintf(w, "  RFC error    %s\n", rfc)
	fmt.Fprintf(w, "  client saw   %s\n", x.Client.Message)
	if x.Client.Body != "" {
		fmt.Fprintf(w, "               body: %s\n", x.Client.Body)
	}
	if x.Client.WWWAuthenticate != "" {
		fmt.Fprintf(w, "               WWW-Authenticate: %s\n", x.Client.WWWAuthenticate)
	} else if x.Client.Note == "" {
		fmt.Fprintln(w, "               no WWW-Authenticate challenge")
	}
	if x.Client.Note != "" {
		fmt.Fprintf(w, "               (%s)\n", x.Client.Note)
	}
	fmt.Fprintf(w, "  cause        %s\n", x.Cause)
	fmt.Fprintf(w, "  fix          %s\n", x.Fix)
	if x.Spec != "" {
		fmt.Fprintf(w, "  spec         %s\n", x.Spec)
	}
	fmt.Fprintf(w, "  logged at    %s (%s problem)\n", x.LogLevel, x.Class)
	return w.err
}

func explainAll(out io.Writer, asJSON bool) error {
	all := errcode.All()
	if asJSON {
		xs := make([]explanation, 0, len(all))
		for _, e := range all {
			xs = append(xs, explanationOf(e))
		}
		return writeJSON(out, xs)
	}
	w := &errWriter{w: out}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tSTATUS\tRFC ERROR\tCLASS\tCLIENT MESSAGE")
	for _, e := range all {
		rfc := e.BearerError
		if rfc == "" {
			rfc = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", e.Code, e.Status, rfc, e.Class, e.Message)
	}
	_ = tw.Flush()
	return w.err
}

func writeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
