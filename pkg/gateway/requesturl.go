package gateway

// RequestURL is the request URI as the client addressed it, from Kong's
// PDK.
//
// ForwardedScheme, ForwardedHost and ForwardedPort are Kong's
// kong.request.get_forwarded_scheme/_host/_port: the values of
// X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Port when the
// request comes from an address in Kong's `trusted_ips` (with
// `real_ip_header`/`real_ip_recursive` deciding which address that is),
// and the connection's own scheme, Host header and listening port (mapped
// through `port_maps`) otherwise. Only a load balancer in `trusted_ips`
// can set them; a client that sends X-Forwarded-* itself is ignored.
//
// PathWithQuery is kong.request.get_path_with_query: nginx's $request_uri,
// the request target exactly as received (no normalisation, no slash
// merging, no X-Forwarded-Path: the plugin protocol of Kong 3.9 has no
// get_forwarded_path). Scheme is the scheme of the connection to Kong
// itself (kong.request.get_scheme), which no header can change.
type RequestURL struct {
	Scheme          string
	ForwardedScheme string
	ForwardedHost   string
	ForwardedPort   int
	PathWithQuery   string
}
