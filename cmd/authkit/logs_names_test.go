package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/authlog"
)

func TestLoadConfigNames(t *testing.T) {
	write := func(body string) string {
		p := filepath.Join(t.TempDir(), "kong.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, yaml string
		want       routeNames
		unnamed    int
		wantErr    error
	}{
		{"named, nested", "services:\n- name: echo\n  url: http://e\n  routes:\n  - name: oauth-demo\n    paths: [/o]\n",
			routeNames{declarativeID("routes", "oauth-demo"): {"oauth-demo", "echo"}}, 0, nil},
		{"explicit ids win", "services:\n- id: s-1\n  name: echo\n  routes:\n  - id: r-1\n    name: a\n",
			routeNames{"r-1": {"a", "echo"}}, 0, nil},
		{"top-level routes by service name and id", "services:\n- id: s-1\n  name: echo\nroutes:\n- name: a\n  service: echo\n- id: r-2\n  service: {id: s-1}\n",
			routeNames{declarativeID("routes", "a"): {"a", "echo"}, "r-2": {"", "echo"}}, 0, nil},
		{"some unnamed", "services:\n- name: echo\n  routes:\n  - paths: [/x]\n  - name: b\n",
			routeNames{declarativeID("routes", "b"): {"b", "echo"}}, 1, nil},
		{"none resolvable", "services:\n- url: http://e\n  routes:\n  - paths: [/x]\n", nil, 1, errNoRouteIDs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, unnamed, err := loadConfigNames(write(tc.yaml))
			if !errors.Is(err, tc.wantErr) || unnamed != tc.unnamed {
				t.Fatalf("err %v unnamed %d, want %v %d", err, unnamed, tc.wantErr, tc.unnamed)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for id, rn := range tc.want {
				if got[id] != rn {
					t.Errorf("%s: %+v, want %+v", id, got[id], rn)
				}
			}
		})
	}
	if _, _, err := loadConfigNames(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// The repository's own kong.yaml declares routes by name only: the ids are
// the ones Kong derives, so a record's route_id gets its name.
func TestLogsConfigNamesRepoKongYAML(t *testing.T) {
	id := declarativeID("routes", "basic-demo")
	line := errLine(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), "notice", rec("authkit-basic", "BASIC_MISSING", 401, id), "1.1.1.1", "GET / HTTP/1.1")
	out, errOut, code := cli(t, line+"\n", "logs", "--tz", "UTC", "--config", "../../kong.yaml")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if want := "routes     basic-demo (" + id + ", service echo) ×1"; !strings.Contains(out, want) {
		t.Errorf("missing %q in\n%s", want, out)
	}
	doc := logsJSONOf(t, line+"\n", "--config", "../../kong.yaml")
	if r := doc.Codes[0].Routes.Top[0]; r.Name != "basic-demo" || r.Service != "echo" {
		t.Errorf("json route row %+v", r)
	}
	if _, errOut, code := cli(t, "", "logs", "--config", "nope.yaml"); code != 1 || !strings.Contains(errOut, "--config") {
		t.Errorf("missing config: exit %d %q", code, errOut)
	}
}

// fakeAdmin serves /services and /routes in pages of one, with Kong's
// `next` ("/routes?offset=…"), under an optional path prefix.
func fakeAdmin(t *testing.T, prefix string, services, routes []map[string]any) *httptest.Server {
	page := func(w http.ResponseWriter, r *http.Request, items []map[string]any, path string) {
		i := 0
		if off := r.URL.Query().Get("offset"); off != "" {
			i = int(off[0] - '0')
		}
		body := map[string]any{"data": []any{}, "next": nil}
		if i < len(items) {
			body["data"] = []any{items[i]}
		}
		if i+1 < len(items) {
			body["next"] = path + "?offset=" + string(rune('0'+i+1))
		}
		_ = json.NewEncoder(w).Encode(body)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(prefix+"/services", func(w http.ResponseWriter, r *http.Request) { page(w, r, services, "/services") })
	mux.HandleFunc(prefix+"/routes", func(w http.ResponseWriter, r *http.Request) { page(w, r, routes, "/routes") })
	srv := httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return srv
}

func TestLogsAdminNames(t *testing.T) {
	services := []map[string]any{{"id": "s-1", "name": "echo"}, {"id": "s-2", "name": "orders"}}
	routes := []map[string]any{
		{"id": "r-1", "name": "basic-demo", "service": map[string]any{"id": "s-1"}},
		{"id": "r-2", "name": nil, "service": map[string]any{"id": "s-2"}},
		{"id": "r-3", "name": "key-demo", "service": map[string]any{"id": "s-1"}},
	}
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	var in strings.Builder
	for _, r := range []string{"r-1", "r-2", "r-3", "r-3", "r-9"} {
		in.WriteString(errLine(at, "notice", rec("authkit-basic", "BASIC_MISSING", 401, r), "1.1.1.1", "GET / HTTP/1.1") + "\n")
	}
	for _, prefix := range []string{"", "/admin"} {
		srv := fakeAdmin(t, prefix, services, routes)
		out, errOut, code := cli(t, in.String(), "logs", "--tz", "UTC", "--admin-url", srv.URL+prefix)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		want := "routes     key-demo (r-3, service echo) ×2, basic-demo (r-1, service echo) ×1, r-2 (service orders) ×1, r-9 ×1"
		if !strings.Contains(out, want) {
			t.Errorf("prefix %q: missing %q in\n%s", prefix, want, out)
		}
	}
	for _, bad := range []string{"ftp://127.0.0.1", "http://127.0.0.1:1", fakeAdmin(t, "/other", nil, nil).URL} {
		if _, errOut, code := cli(t, "", "logs", "--admin-url", bad); code != 1 || !strings.Contains(errOut, "--admin-url") {
			t.Errorf("%s: exit %d %q", bad, code, errOut)
		}
	}
}

func TestRouteNamesKeepFileLogName(t *testing.T) {
	rep := authlog.Report{Codes: []authlog.CodeReport{{Routes: authlog.Top{Top: []authlog.KeyCount{{Key: "r-1", Name: "from-file-log"}}}}}}
	routeNames{"r-1": {"from-config", "echo"}}.name(&rep)
	if got := rep.Codes[0].Routes.Top[0]; got.Name != "from-file-log" || got.Service != "echo" {
		t.Errorf("%+v", got)
	}
}
