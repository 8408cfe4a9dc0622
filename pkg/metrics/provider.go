package metrics

import (
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// Endpoint is the kind of provider endpoint a call went to.
type Endpoint string

const (
	// EndpointDiscovery: OIDC Discovery / RFC 8414 metadata.
	EndpointDiscovery Endpoint = "discovery"
	// EndpointJWKS: the JWK Set (jwks_uri).
	EndpointJWKS Endpoint = "jwks"
	// EndpointIntrospection: RFC 7662 token introspection.
	EndpointIntrospection Endpoint = "introspection"
	// EndpointRedis: the Redis of policy redis (one command or script).
	EndpointRedis Endpoint = "redis"
)

// Endpoints lists every endpoint kind.
func Endpoints() []Endpoint {
	return []Endpoint{EndpointDiscovery, EndpointJWKS, EndpointIntrospection, EndpointRedis}
}

var providerSeconds = histogramVec("provider_request_duration_seconds",
	"Calls to the OAuth provider (discovery, JWKS, introspection) and to Redis (policy redis): latency by endpoint kind and result code "+
		"(empty on success, else the catalog code the call failed with). _count is the number of calls.",
	[]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}, []string{"endpoint", "code"})

// ProviderCall records one call to ep that started at start and ended now
// with err (nil: success; otherwise its catalog code labels the call).
// Provider calls are rare (cached keys, cached answers), so the labels are
// looked up per call.
func ProviderCall(ep Endpoint, start time.Time, err error) {
	if !on.Load() {
		return
	}
	code := ""
	if err != nil {
		code = codeNames[index(errcode.From(err).Code)]
	}
	providerSeconds.WithLabelValues(string(ep), code).Observe(time.Since(start).Seconds())
}
