package kongwire

import (
	"encoding/json"
	"strings"
	"testing"
)

// AuthkitLines returns the messages of the event's `authkit {…}` log lines.
func (r *Result) AuthkitLines() []string {
	var out []string
	for _, l := range r.Logs {
		if strings.HasPrefix(l.Message, "authkit {") {
			out = append(out, l.Message)
		}
	}
	return out
}

// CheckRecord asserts what every authkit refusal or explanation leaves in
// Kong: exactly one `authkit {…}` log line naming code and plugin, and the
// same code and plugin in the `authkit` serialize value. It returns the
// log line for further checks. Warnings about requests let through
// (`"outcome":"accepted"`, such as a config warning on a config's first
// request) are not refusals and are not counted.
func CheckRecord(t testing.TB, r *Result, plugin, code string) string {
	t.Helper()
	var lines []string
	for _, l := range r.AuthkitLines() {
		if !strings.Contains(l, `"outcome":"accepted"`) {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], `"code":"`+code+`"`) || !strings.Contains(lines[0], `"plugin":"`+plugin+`"`) {
		t.Fatalf("want one authkit log line with %s from %s, got %v", code, plugin, r.Logs)
	}
	if ak, _ := r.Serialize["authkit"].(map[string]any); ak["code"] != code || ak["plugin"] != plugin {
		t.Fatalf("serialize value %v, want code %s from %s", r.Serialize, code, plugin)
	}
	return lines[0]
}

// CheckRefusal asserts an authkit refusal: the event exited with status, a
// JSON body whose "code" is code (and a non-empty "message", unless the
// plugin answers in RFC 6749 form), and CheckRecord. It returns the log line.
func CheckRefusal(t testing.TB, r *Result, plugin string, status int, code string) string {
	t.Helper()
	if !r.Exited || r.Status != status {
		t.Fatalf("status %d exited=%v, want %d %s; body %s; logs %v", r.Status, r.Exited, status, code, r.Body, r.Logs)
	}
	var body map[string]string
	if err := json.Unmarshal(r.Body, &body); err != nil || body["code"] != code || body["message"]+body["error_description"] == "" {
		t.Fatalf("body %s, want code %s (%v)", r.Body, code, err)
	}
	if ct := r.Header("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q", ct)
	}
	return CheckRecord(t, r, plugin, code)
}

// CheckTrips asserts an event's cost: its PDK round trips, how many
// separate writes of the plugin Kong read (batches), and the calls in order.
func CheckTrips(t testing.TB, what string, r *Result, trips, batches int, calls ...string) {
	t.Helper()
	if r.RoundTrips() != trips || r.Batches() != batches || strings.Join(r.Calls, ",") != strings.Join(calls, ",") {
		t.Errorf("%s: %d round trips in %d batches, calls %v; want %d in %d, calls %v", what, r.RoundTrips(), r.Batches(), r.Calls, trips, batches, calls)
	}
}
