package setup

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite README.md's variable reference from the configuration structs")

const (
	refBegin = "<!-- variables: generated from functions/setup by `go test ./functions/setup -update-readme`; do not edit -->\n"
	refEnd   = "<!-- end of variables -->\n"
)

// The README's reference of variables is the configuration structs': a
// variable added, renamed or redescribed in the code without the README
// fails here.
func TestReadmeVariableReference(t *testing.T) {
	var want bytes.Buffer
	if err := Reference(&want); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(moduleRoot(t), "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok := strings.Cut(string(readme), refBegin)
	_, after, ok2 := strings.Cut(rest, refEnd)
	if !ok || !ok2 {
		t.Fatalf("README.md has no generated variable reference (the markers %q … %q)", strings.TrimSpace(refBegin), strings.TrimSpace(refEnd))
	}
	got, _, _ := strings.Cut(rest, refEnd)
	if *updateReadme {
		if err := os.WriteFile(path, []byte(before+refBegin+want.String()+refEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != want.String() {
		t.Errorf("README.md's variable reference differs from the configuration structs; run `go test ./functions/setup -update-readme`.\ngot:\n%s\nwant:\n%s", got, want.String())
	}
}
