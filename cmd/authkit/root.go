package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newRootCmd builds the command tree. Each subcommand lives in its own file
// with a newXxxCmd constructor, so adding one (check, probe) is one line here.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "authkit",
		Short: "Operate the kong-authkit Kong plugins",
		Long: "authkit reads the refusals the kong-authkit plugins write to Kong's error.log and\n" +
			"file-log/http-log, explains their error codes, and creates password hashes and API keys.",
		// Errors are printed once, by run, with the right exit status; a
		// usage dump after a runtime error only hides the message.
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.AddCommand(
		newLogsCmd(),
		newExplainCmd(),
		newHashCmd(),
		newCheckCmd(),
		newProbeCmd(),
		newSchemaCmd(),
	)
	return root
}

// exitError carries an exit status through cobra. A nil err means the
// command already told the user what went wrong.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as a command-line mistake (exit status 2).
func usageError(err error) error { return &exitError{code: 2, err: err} }

// usageArgs makes a positional-argument check fail with exit status 2.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError(err)
		}
		return nil
	}
}
