package errcode

import (
	"bytes"
	"fmt"
	"strings"
)

//go:generate go run gendoc.go

// Markdown renders the catalog as docs/error-codes.md. The file is generated
// (go generate ./pkg/errcode) and a test fails when it is stale.
func Markdown() []byte {
	var b bytes.Buffer
	b.WriteString("# kong-authkit error codes\n\n")
	b.WriteString("<!-- Generated from pkg/errcode by `go generate ./pkg/errcode`. DO NOT EDIT. -->\n\n")
	b.WriteString("Every refusal carries one code: in the JSON body (`{\"message\":…,\"code\":…}`), in `WWW-Authenticate` ")
	b.WriteString("(`error_code` parameter), in the `authkit {…}` line in Kong's error.log, and under `authkit` in file-log/http-log entries. ")
	b.WriteString("`authkit explain CODE` prints the same text.\n\n")
	b.WriteString("| code | status | RFC error | client message | log level |\n|---|---|---|---|---|\n")
	for _, e := range All() {
		rfc := e.BearerError
		if rfc == "" {
			rfc = "–"
		}
		fmt.Fprintf(&b, "| [`%s`](#%s) | %d | %s | %s | %s |\n", e.Code, strings.ToLower(string(e.Code)), e.Status, rfc, e.Message, e.LogLevel())
	}
	b.WriteString("\n")
	for _, e := range All() {
		fmt.Fprintf(&b, "## %s\n\n", e.Code)
		fmt.Fprintf(&b, "- **Status:** %d", e.Status)
		if e.BearerError != "" {
			fmt.Fprintf(&b, " · **error:** `%s`", e.BearerError)
		}
		if e.Spec != "" {
			fmt.Fprintf(&b, " · **spec:** %s", e.Spec)
		}
		b.WriteString("\n")
		fmt.Fprintf(&b, "- **Client sees:** %s\n", e.Message)
		fmt.Fprintf(&b, "- **Cause:** %s\n", e.Cause)
		fmt.Fprintf(&b, "- **Fix:** %s\n\n", e.Hint)
	}
	return b.Bytes()
}
