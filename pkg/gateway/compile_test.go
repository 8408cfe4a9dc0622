package gateway

import "testing"

// BenchmarkCompileWarmParallel is the per-request cost of finding an
// instance's compiled config: one atomic load once it has been compiled.
func BenchmarkCompileWarmParallel(b *testing.B) {
	var m Meta
	if err := DecodeConfig([]byte(`{"x":"bench"}`), &struct {
		X string `json:"x"`
	}{}, &m); err != nil {
		b.Fatal(err)
	}
	build := func() (int, error) { return 1, nil }
	Compile("bench", &m, build)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if v, _ := Compile("bench", &m, build); v != 1 {
				b.Fatal(v)
			}
		}
	})
}

// BenchmarkCompileWarmNoMemo is the same lookup through the process-wide
// table (its lock and key), as every request paid before the memo.
func BenchmarkCompileWarmNoMemo(b *testing.B) {
	m := Meta{Fingerprint: "bench-nomemo"}
	build := func() (int, error) { return 1, nil }
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if v, _ := Compile("bench", &m, build); v != 1 {
				b.Fatal(v)
			}
		}
	})
}
