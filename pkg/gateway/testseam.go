//go:build authkit_testseam

package gateway

// Built only with -tags authkit_testseam (the wire-level tests): a request
// with this header panics inside the handler. Release builds never have it.
func init() { testPanicHeader = "X-Authkit-Test-Panic" }
