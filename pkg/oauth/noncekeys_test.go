package oauth

import (
	"testing"
	"time"
)

// TestNonceKeysCacheBounded: the cache keeps only secrets of live periods
// (nonces are valid two periods from their start), and never more than
// maxCachedNonceKeys.
func TestNonceKeysCacheBounded(t *testing.T) {
	k := newSharedNonceKeys(nil)
	const p = time.Minute
	for i := int64(0); i < 100; i++ {
		k.remember(nonceKeyID{p, 1_700_000_000 + 60*i}, []byte{byte(i)})
		if len(k.cache) > maxCachedNonceKeys {
			t.Fatalf("%d cached", len(k.cache))
		}
	}
	if len(k.cache) != 2 {
		t.Fatalf("%d secrets cached for one lifetime, want the current and the previous", len(k.cache))
	}
	for _, tt := range []struct {
		issued int64
		want   bool
	}{
		{1_700_000_000 + 60*99, true},
		{1_700_000_000 + 60*98, true},
		{1_700_000_000 + 60*97, false},
	} {
		if _, ok := k.cache[nonceKeyID{p, tt.issued}]; ok != tt.want {
			t.Errorf("period starting %d cached: %v", tt.issued, ok)
		}
	}
}
