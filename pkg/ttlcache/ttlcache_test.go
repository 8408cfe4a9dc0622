package ttlcache

import (
	"testing"
	"time"
)

func TestExpiryAndBound(t *testing.T) {
	now := time.Unix(1000, 0)
	c := New[string, int](3)
	c.SetClock(func() time.Time { return now })
	c.Set("a", 1, time.Second)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("get a: %v %v", v, ok)
	}
	now = now.Add(time.Second)
	if _, ok := c.Get("a"); ok {
		t.Fatal("entry must expire at its ttl")
	}
	for i, k := range []string{"b", "c", "d", "e", "f"} {
		c.Set(k, i, time.Minute)
	}
	if c.Len() > 3 {
		t.Fatalf("len %d exceeds the bound", c.Len())
	}
	if v, ok := c.Get("f"); !ok || v != 4 {
		t.Fatal("the newest entry must be kept")
	}
	c.Set("f", 0, 0)
	if _, ok := c.Get("f"); ok {
		t.Fatal("ttl 0 must delete")
	}
}

func BenchmarkGetHit(b *testing.B) {
	c := New[string, int](1000)
	c.Set("k", 1, time.Hour)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Get("k")
	}
}
