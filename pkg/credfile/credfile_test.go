package credfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type item struct {
	ID  string `json:"id"`
	Key string `json:"key_hash"`
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		wantErr  string
	}{
		{"json list", `[{"id":"a","key_hash":"x"}]`, 1, ""},
		{"yaml list", "- id: a\n  key_hash: x\n- id: b\n", 2, ""},
		{"wrapped", `{"credentials":[{"id":"a"}]}`, 1, ""},
		{"wrapped yaml", "credentials:\n  - id: a\n", 1, ""},
		{"empty", "", 0, "empty file"},
		{"null", "null", 0, "empty file"},
		{"unknown field", `[{"id":"a","keyhash":"x"}]`, 0, "unknown field"},
		{"wrong wrapper", `{"creds":[]}`, 0, "expected a list"},
		{"missing list", `{}`, 0, `missing "credentials"`},
		{"scalar", `42`, 0, "cannot unmarshal"},
		{"bad yaml", "- id: [", 0, "not JSON or YAML"},
		{"wrong type", `[{"id":1}]`, 0, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode[item]([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != tt.n {
				t.Fatalf("got %v, %v", got, err)
			}
		})
	}
}

func TestWatchedRereadsOnChangeOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(path, []byte(`[{"id":"a"}]`), 0o600)
	reads := 0
	w := Watch(path, func(b []byte) ([]item, error) { reads++; return Decode[item](b) })
	now := time.Unix(100, 0)
	w.now = func() time.Time { return now }
	for i := 0; i < 5; i++ {
		if v, err := w.Get(); err != nil || v[0].ID != "a" {
			t.Fatal(v, err)
		}
	}
	now = now.Add(2 * time.Second)
	w.Get()
	if reads != 1 {
		t.Fatalf("unchanged file parsed %d times", reads)
	}
	os.WriteFile(path+".new", []byte(`[{"id":"b"},{"id":"c"}]`), 0o600)
	os.Rename(path+".new", path)
	now = now.Add(2 * time.Second)
	if v, err := w.Get(); err != nil || len(v) != 2 {
		t.Fatal(v, err)
	}
	os.Remove(path)
	now = now.Add(2 * time.Second)
	if _, err := w.Get(); err == nil {
		t.Fatal("a deleted file must fail closed")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`[{"id":"a"}]`))
	f.Add([]byte("credentials:\n- id: x\n"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Decode[item](b)
	})
}
