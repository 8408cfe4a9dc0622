//go:build authkit_testseam

package gateway

// Built only with -tags authkit_testseam (the wire-level tests): a request
// with this header panics inside the handler. Release builds never have it.
// A request with testClockHeader sets the refusal log's clock.
func init() {
	testPanicHeader = "X-Authkit-Test-Panic"
	testClockHeader = "X-Authkit-Test-Now"
}
