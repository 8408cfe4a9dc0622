package main

import "testing"

func TestUUIDV5(t *testing.T) {
	for _, tc := range []struct{ ns, name, want string }{
		// resty.jit-uuid's own example (the library Kong uses).
		{"e6ebd542-06ae-11e6-8e82-bba81706b27d", "hello", "4850816f-1658-5890-8bfd-1ed14251f1f0"},
		// RFC 9562 Appendix A.4: the DNS namespace and "www.example.com".
		{"6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com", "2ed6657d-e927-568b-95e1-2665a8aea6a2"},
	} {
		if got := uuidV5(tc.ns, tc.name); got != tc.want {
			t.Errorf("uuidV5(%s, %q) = %s, want %s", tc.ns, tc.name, got, tc.want)
		}
	}
}

// TestDeclarativeIDMatchesKong: ids real Kong 3.9.3 gave (GET /routes and
// /services of a DB-less gateway) to entities declared by name only, one
// route nested under its service and one at the top level.
func TestDeclarativeIDMatchesKong(t *testing.T) {
	for _, tc := range []struct{ entity, name, want string }{
		{"routes", "basic-demo", "a0a10d12-03a2-54da-9bcd-bd4d4595f8f5"},
		{"routes", "oauth-demo", "69dc3e1a-9a51-5c19-bd97-07a073469081"},
		{"routes", "top-level", "1c9c77c1-ed08-51c3-91d4-9a3bac4bc04e"},
		{"services", "echo", "adbd70b3-4224-5183-a52a-179d7b34ab5b"},
	} {
		if got := declarativeID(tc.entity, tc.name); got != tc.want {
			t.Errorf("%s %s: %s, want %s (Kong's)", tc.entity, tc.name, got, tc.want)
		}
	}
}
