package gateway_test

import (
	"slices"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
	"github.com/kong-authkit/kong-authkit/pkg/gateway"
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
func (benchKong) RequestURL() (gateway.RequestURL, error) { return gateway.RequestURL{}, nil }
func (benchKong) Credential() (string, error)             { return "", nil }
func (benchKong) LoadConsumer(string) (gateway.Consumer, error) {
	return gateway.Consumer{ID: "c-1", Username: "alice"}, nil
}
func (benchKong) Authenticate(*gateway.Consumer, string) error { return nil }
func (benchKong) SetUpstreamHeaders(map[string]string) error   { return nil }
func (benchKong) SetUpstreamRawQuery(string) error             { return nil }
func (benchKong) SetUpstreamBody([]byte) error                 { return nil }
func (benchKong) Log(string, string) error                     { return nil }
func (benchKong) SetSerializeValue(string, map[string]any) error {
	return nil
}
func (benchKong) Exit(int, []byte, map[string][]string) {}
func (benchKong) ServiceResponse() (int, map[string][]string, []byte, error) {
	return 200, nil, nil, nil
}
func (benchKong) SetResponseHeader(string, string) error { return nil }

var _ gateway.Kong = benchKong{}

// benchServe runs the whole decision path of one access event (Serve: the
// prefetch, the authenticator, the consumer cache, the identity headers or
// the refusal's record, log line and body) with metrics off or on.
// Compare …/metrics=off with …/metrics=on: the difference is what
// counting costs a request.
func benchServe(b *testing.B, auth gateway.Authenticator) {
	var plain struct {
		Realm string `json:"realm"`
	}
	var meta gateway.Meta
	if err := gateway.DecodeConfig([]byte(`{"realm":"r","route_id":"9a1c2b3d-bench","__seq__":1}`), &plain, &meta); err != nil {
		b.Fatal(err)
	}
	pol := &gateway.Policy{Plugin: "authkit-bench", RunOnPreflight: true, Challenge: gateway.BasicChallenge("r")}
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
			gateway.Serve(k, "authkit-bench", &meta, prep) // warm the caches
			b.ReportAllocs()
			for b.Loop() {
				gateway.Serve(k, "authkit-bench", &meta, prep)
			}
		})
	}
}

func BenchmarkServeAccept(b *testing.B) {
	benchServe(b, authFunc(func(r *gateway.Request) (*gateway.Identity, error) {
		return &gateway.Identity{Consumer: "alice", CredentialID: "alice"}, nil
	}))
}

func BenchmarkServeRefuse(b *testing.B) {
	benchServe(b, authFunc(func(r *gateway.Request) (*gateway.Identity, error) {
		return nil, errcode.New(errcode.BasicInvalidCredentials, "unknown user or wrong password").With("credential", "1f9d3a2b")
	}))
}

// BenchmarkServeMetricsOverhead measures what counting adds to the
// decision path on a busy machine: each of b.N rounds runs 200 decisions
// with metrics off and 200 with metrics on (in alternating order), and
// the figures are medians over the rounds: off-ns/op, on-ns/op and
// added-ns/op, the median of the rounds' differences. gateway.Run it with
// -benchtime 2000x or so.
func BenchmarkServeMetricsOverhead(b *testing.B) {
	for _, c := range []struct {
		name string
		auth gateway.Authenticator
	}{
		{"accept", authFunc(func(r *gateway.Request) (*gateway.Identity, error) {
			return &gateway.Identity{Consumer: "alice", CredentialID: "alice"}, nil
		})},
		{"refuse", authFunc(func(r *gateway.Request) (*gateway.Identity, error) {
			return nil, errcode.New(errcode.BasicInvalidCredentials, "unknown user or wrong password").With("credential", "1f9d3a2b")
		})},
	} {
		b.Run(c.name, func(b *testing.B) {
			var plain struct {
				Realm string `json:"realm"`
			}
			var meta gateway.Meta
			if err := gateway.DecodeConfig([]byte(`{"realm":"r","route_id":"9a1c2b3d-overhead","__seq__":1}`), &plain, &meta); err != nil {
				b.Fatal(err)
			}
			prep := prepared(&gateway.Policy{Plugin: "authkit-bench", RunOnPreflight: true, Challenge: gateway.BasicChallenge("r")}, c.auth)
			k := benchKong{headers: map[string][]string{"authorization": {"Basic YWxpY2U6cHc="}}}
			const per = 200
			round := func(on bool) float64 {
				if on {
					metrics.Enable("authkit-bench", "0.0.0")
				} else {
					metrics.Disable()
				}
				start := time.Now()
				for range per {
					gateway.Serve(k, "authkit-bench", &meta, prep)
				}
				return float64(time.Since(start).Nanoseconds()) / per
			}
			round(true)
			round(false)
			var offs, ons, diffs []float64
			for i := 0; i < b.N; i++ {
				var off, on float64
				if i%2 == 0 {
					off, on = round(false), round(true)
				} else {
					on, off = round(true), round(false)
				}
				offs, ons, diffs = append(offs, off), append(ons, on), append(diffs, on-off)
			}
			metrics.Disable()
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(median(offs), "off-ns/op")
			b.ReportMetric(median(ons), "on-ns/op")
			b.ReportMetric(median(diffs), "added-ns/op")
		})
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
