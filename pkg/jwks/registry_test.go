package jwks

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// The registry holds sets weakly: a set no config keeps leaves it, so
// jwks_uri rotated through config changes does not grow it; a set in use
// is shared.
func TestRegistryForgetsUnusedSets(t *testing.T) {
	before := RegisteredSets()
	kept := Remote("https://kept.example/jwks", RemoteOptions{})
	for i := range 100 {
		Remote(fmt.Sprintf("https://rotated.example/jwks?v=%d", i), RemoteOptions{})
	}
	deadline := time.Now().Add(10 * time.Second)
	for RegisteredSets() != before+1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d sets registered, want %d", RegisteredSets(), before+1)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if Remote("https://kept.example/jwks", RemoteOptions{}) != kept {
		t.Fatal("a set in use was not shared")
	}
	runtime.KeepAlive(kept)
}
