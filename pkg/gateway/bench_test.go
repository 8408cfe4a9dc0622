package gateway

import (
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/metrics"
)

// benchKong answers every call at once: the benchmarks measure the
// decision path in the plugin process, not a fake's bookkeeping.
type benchKong struct{ headers map[string][]string }

func (b benchKong) Headers() (map[string][]string, error) { return b.headers, nil }
func (benchKong) Method() (string, error)                 { return "GET", nil }
func (benchKong) RawQuery() (string, error)               { return "", nil }
func (benchKong) RawBody() ([]byte, error)                { return nil, nil }
func (benchKong) ClientIP() (string, error)               { return "192.0.2.1", nil }
func (benchKong) Credential() (string, error)             { return "", nil }
func (benchKong) LoadConsumer(string) (Consumer, error) {
	return Consumer{ID: "c-1", Username: "alice"}, nil
}
func (benchKong) Authenticate(*Consumer, string) error       { return nil }
func (benchKong) SetUpstreamHeaders(map[string]string) error { return nil }
func (benchKong) SetUpstreamRawQuery(string) error           { return nil }
func (benchKong) SetUpstreamBody([]byte) error               { return nil }
func (benchKong) Log(string, string) error                   { return nil }
func (benchKong) SetSerializeValue(string, map[string]any) error {
	return nil
}
func (benchKong) Exit(int, []byte, map[string][]string) {}
func (benchKong) ServiceResponse() (int, map[string][]string, []byte, error) {
	return 200, nil, nil, nil
}
func (benchKong) SetResponseHeader(string, string) error { return nil }

var _ Kong = benchKong{}

// benchServe runs the whole decision path of one access event (Serve: the
// prefetch, the authenticator, the consumer cache, the identity headers or
// the refusal's record, log line and body) with metrics off or on.
// Compare …/metrics=off with …/metrics=on: the difference is what
// counting costs a request.
func benchServe(b *testing.B, auth Authenticator) {
	var plain struct {
		Realm string `json:"realm"`
	}
	var meta Meta
	if err := DecodeConfig([]byte(`{"realm":"r","route_id":"9a1c2b3d-bench","__seq__":1}`), &plain, &meta); err != nil {
		b.Fatal(err)
	}
	pol := &Policy{Plugin: "authkit-bench", RunOnPreflight: true, Challenge: BasicChallenge("r")}
	prep := prepared(pol, auth)
	k := benchKong{headers: map[string][]string{"authorization": {"Basic YWxpY2U6cHc="}}}
	for _, on := range []bool{false, true} {
		name := "metrics=off"
		if on {
			name = "metrics=on"
		}
		b.Run(name, func(b *testing.B) {
			if on {
				metrics.Enable("authkit-bench", "0.0.0")
			} else {
				metrics.Disable()
			}
			defer metrics.Disable()
			Serve(k, "authkit-bench", &meta, prep) // warm the caches
			b.ReportAllocs()
			for b.Loop() {
				Serve(k, "authkit-bench", &meta, prep)
			}
		})
	}
}

func BenchmarkServeAccept(b *testing.B) {
	benchServe(b, authFunc(func(r *Request) (*Identity, error) {
		return &Identity{Consumer: "alice", CredentialID: "alice"}, nil
	}))
}

func BenchmarkServeRefuse(b *testing.B) {
	benchServe(b, authFunc(func(r *Request) (*Identity, error) {
		return nil, errcode.New(errcode.BasicInvalidCredentials, "unknown user or wrong password").With("credential", "1f9d3a2b")
	}))
}
