package oauth

import (
	"fmt"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/jwks"
	"github.com/kong-authkit/kong-authkit/pkg/provider"
)

func discoveriesHeld() int {
	discoveriesMu.Lock()
	defer discoveriesMu.Unlock()
	return len(discoveries)
}

// TestCloseReleasesSharedState: compiled configs with ever new jwks_uri,
// issuer and timeout values (a churn of config changes) leave no key set
// and no discovery document behind once closed; while two configs hold
// the same set, closing one keeps it for the other.
func TestCloseReleasesSharedState(t *testing.T) {
	sets, discs := jwks.Registered(), discoveriesHeld()
	for i := range 50 {
		cfgs := []Config{
			{JWKSURI: fmt.Sprintf("https://idp%d.example/jwks", i), AllowedIssuers: []string{"https://i"}, HTTPTimeoutMS: ptr(1000 + i)},
			{Issuer: fmt.Sprintf("https://idp%d.example", i)},
		}
		for _, c := range cfgs {
			a, err := c.Compile()
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			a.Close() // idempotent
		}
	}
	if got := jwks.Registered(); got != sets {
		t.Errorf("key sets held after closing every config: %d, want %d", got, sets)
	}
	if got := discoveriesHeld(); got != discs {
		t.Errorf("discovery documents held after closing every config: %d, want %d", got, discs)
	}

	shared := Config{JWKSURI: "https://shared.example/jwks", AllowedIssuers: []string{"https://i"}}
	a, _ := shared.Compile()
	b, _ := shared.Compile()
	a.Close()
	if jwks.Registered() != sets+1 {
		t.Fatal("closing one config dropped the set another still holds")
	}
	b.Close()
	if jwks.Registered() != sets {
		t.Fatal("the set outlived its last holder")
	}
}

// TestDiscoveredKeysFollowTheURL: a discovered jwks_uri that changes
// releases the old set; close releases the current one, and a lookup
// racing the close holds nothing afterwards.
func TestDiscoveredKeysFollowTheURL(t *testing.T) {
	before := jwks.Registered()
	k := &discoveredKeys{opts: jwks.RemoteOptions{Client: provider.New(time.Second)}}
	k.follow("https://a.example/jwks")
	k.follow("https://a.example/jwks")
	k.follow("https://b.example/jwks")
	if got := jwks.Registered(); got != before+1 {
		t.Fatalf("held %d sets while following one URL, want %d", got, before+1)
	}
	if k.current() == nil || k.current().URL() != "https://b.example/jwks" {
		t.Fatalf("current set: %v", k.current())
	}
	k.close()
	k.follow("https://c.example/jwks")
	if got := jwks.Registered(); got != before {
		t.Fatalf("held %d sets after close, want %d", got, before)
	}
}
