package passwd

import "testing"

// Realistic-cost benchmarks; run with -bench (the unit tests use cheap
// parameters):
//
//	go test -run '^$' -bench Verify -benchmem ./pkg/passwd/

func benchVerify(b *testing.B, encoded string, err error) {
	if err != nil {
		b.Fatal(err)
	}
	h := MustParse(encoded)
	pw := []byte("correct horse battery staple")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if !h.Verify(pw) {
			b.Fatal("Verify = false")
		}
	}
}

func BenchmarkVerifyBcrypt10(b *testing.B) {
	s, err := HashBcrypt([]byte("correct horse battery staple"), 10)
	benchVerify(b, s, err)
}

func BenchmarkVerifyArgon2idDefault(b *testing.B) {
	s, err := HashArgon2id([]byte("correct horse battery staple"), DefaultArgon2Params)
	benchVerify(b, s, err)
}

func BenchmarkVerifyPBKDF2_600k(b *testing.B) {
	s, err := HashPBKDF2([]byte("correct horse battery staple"), DefaultPBKDF2Iterations)
	benchVerify(b, s, err)
}
