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
