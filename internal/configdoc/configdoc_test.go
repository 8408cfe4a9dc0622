package configdoc

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestReadmeConfigReferenceFresh fails when the README's config tables no
// longer match the Config structs (run: go generate ./internal/configdoc).
func TestReadmeConfigReferenceFresh(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Render("../..", readme)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readme, want) {
		t.Fatal("README.md config reference is stale: run `go generate ./internal/configdoc`")
	}
}

// Every field must say what it does and what its default is: a
// `default` tag, or for a default the plugin computes, a doc comment
// ending "Default: …" (never both: the tag is the one place).
func TestEveryFieldDocumented(t *testing.T) {
	for _, s := range Sources {
		rows, err := Rows("../..", s.Dir, "Config")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			nested := strings.Contains(r.Path, ".")
			if r.Doc == "" || (!nested && r.Default == "") {
				t.Errorf("%s: %s needs a doc comment and a default (a `default` tag, or \"Default: …\" for a computed one)", s.Plugin, r.Path)
			}
			if r.Tagged && strings.Contains(r.Doc, "Default:") {
				t.Errorf("%s: %s has a `default` tag and a \"Default:\" comment: keep the tag only", s.Plugin, r.Path)
			}
		}
	}
}
