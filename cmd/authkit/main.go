// Command authkit is the operator CLI of kong-authkit: it reads the
// refusals the plugins log (`authkit logs`), explains error codes
// (`authkit explain`) and creates the password hashes and API keys the
// plugins are configured with (`authkit hash`).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	// Ctrl-C ends `logs --follow` through the context, so it can still
	// print its summary.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the CLI in-process and returns the exit status: 0 success,
// 1 failure, 2 usage error or unknown code. Tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		err = ee.err
	} else if strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag") {
		code = 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "authkit:", err)
	}
	return code
}
