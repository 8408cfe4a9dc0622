package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

func TestExplainEveryCode(t *testing.T) {
	for _, e := range errcode.All() {
		t.Run(string(e.Code), func(t *testing.T) {
			out, errOut, code := cli(t, "", "explain", strings.ToLower(string(e.Code)))
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, want := range []string{string(e.Code), fmt.Sprint(e.Status), e.Message, e.Cause, e.Hint, e.Spec, e.BearerError} {
				if !strings.Contains(out, want) {
					t.Errorf("missing %q in\n%s", want, out)
				}
			}
			out, _, _ = cli(t, "", "explain", "--json", string(e.Code))
			var x explanation
			if err := json.Unmarshal([]byte(out), &x); err != nil {
				t.Fatal(err)
			}
			if x.Code != string(e.Code) || x.Status != e.Status || x.RFCError != e.BearerError || x.Cause != e.Cause ||
				x.Fix != e.Hint || x.Spec != e.Spec || x.Client.Message != e.Message || x.LogLevel != e.LogLevel() {
				t.Errorf("json: %+v", x)
			}
			if tokenEndpointCodes[e.Code] {
				if x.Client.Note == "" || x.Client.Body != "" {
					t.Errorf("token-endpoint code: %+v", x.Client)
				}
				return
			}
			var body struct{ Message, Code string }
			if err := json.Unmarshal([]byte(x.Client.Body), &body); err != nil || body.Code != string(e.Code) || body.Message != e.Message {
				t.Errorf("body %q: %v", x.Client.Body, err)
			}
			// RFC 6750 §3.1: no error code when no token was sent; 5xx gets no challenge.
			ch := x.Client.WWWAuthenticate
			switch {
			case e.Status >= 500 && ch != "":
				t.Errorf("5xx with a challenge: %q", ch)
			case e.Code == errcode.TokenMissing && (ch == "" || strings.Contains(ch, "error=")):
				t.Errorf("missing token challenge: %q", ch)
			case e.BearerError != "" && e.Status < 500 && !strings.Contains(ch, `error="`+e.BearerError+`"`):
				t.Errorf("challenge %q lacks error=%s", ch, e.BearerError)
			case e.Status == 401 && ch == "":
				t.Errorf("401 without a challenge")
			}
		})
	}
}

func TestExplainAll(t *testing.T) {
	out, _, code := cli(t, "", "explain", "--all")
	if code != 0 || strings.Count(out, "\n") != len(errcode.All())+1 {
		t.Fatalf("exit %d, %d lines", code, strings.Count(out, "\n"))
	}
	out, _, _ = cli(t, "", "explain", "--all", "--json")
	var xs []explanation
	if err := json.Unmarshal([]byte(out), &xs); err != nil || len(xs) != len(errcode.All()) {
		t.Fatalf("%v, %d entries", err, len(xs))
	}
	if _, _, code := cli(t, "", "explain", "--all", "BASIC_MISSING"); code != 2 {
		t.Errorf("--all with a code: exit %d", code)
	}
	if _, _, code := cli(t, "", "explain"); code != 2 {
		t.Errorf("no code: exit %d", code)
	}
}

func TestExplainUnknown(t *testing.T) {
	for in, want := range map[string]string{
		"TOKEN_EXPRED":    "OAUTH_TOKEN_EXPIRED",
		"token-expired":   "OAUTH_TOKEN_EXPIRED",
		"BASIC_LOCKOUT":   "BASIC_LOCKED_OUT",
		"APIKEY_INVALD":   "APIKEY_INVALID",
		"completely_else": "",
	} {
		out, errOut, code := cli(t, "", "explain", in)
		if code != 2 || out != "" || !strings.Contains(errOut, "unknown code") || !strings.Contains(errOut, want) {
			t.Errorf("%s: exit %d stderr %q", in, code, errOut)
		}
		if want == "" && strings.Contains(errOut, "did you mean") {
			t.Errorf("%s: suggested %q", in, errOut)
		}
	}
	if out, _, code := cli(t, "", "explain", " basic-missing "); code != 0 || !strings.HasPrefix(out, "BASIC_MISSING") {
		t.Errorf("normalised lookup: %d %q", code, out)
	}
}
