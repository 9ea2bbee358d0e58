package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

type (
	ddbAttr   = types.AttributeValue
	ddbString = types.AttributeValueMemberS
)

// repoRoot is the module root (the folder holding go.mod).
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// rieBinary finds the Lambda Runtime Interface Emulator: $RIE_BIN, else
// .tools/bin/aws-lambda-rie (what `make test` builds). Missing is a
// failure that says how to get it, never a skip.
func rieBinary(t testing.TB) string {
	t.Helper()
	path := os.Getenv("RIE_BIN")
	if path == "" {
		path = filepath.Join(repoRoot(t), ".tools", "bin", "aws-lambda-rie")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the Lambda Runtime Interface Emulator is not at %s: run `make test` (it builds it), or "+
			"`go build -o .tools/bin/aws-lambda-rie github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie`", path)
	}
	return path
}

// buildBootstrap builds a function as a Lambda bootstrap for this machine.
func buildBootstrap(t testing.TB, root, pkg, dir string) string {
	return buildBootstrapTags(t, root, pkg, dir, "lambda.norpc")
}

// buildBootstrapTags is buildBootstrap with the build tags tags.
func buildBootstrapTags(t testing.TB, root, pkg, dir, tags string) string {
	t.Helper()
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", tags, "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// checkLogLines decodes every JSON line of a function's output strictly:
// each must be one JSON object, and no object may carry a key twice (log
// tools resolve duplicates differently). Lines that are not JSON (the
// emulator's own, the demo's terminal text) are skipped. It returns the
// number of JSON lines checked.
func checkLogLines(t *testing.T, output string) int {
	t.Helper()
	n := 0
	for _, line := range strings.Split(output, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "{") || !json.Valid([]byte(line)) {
			continue
		}
		n++
		dec := json.NewDecoder(strings.NewReader(line))
		if err := noDuplicateKeys(dec); err != nil {
			t.Errorf("log line %s: %v", line, err)
		}
	}
	return n
}

// noDuplicateKeys reads one JSON value from dec and reports an object with
// a key twice.
func noDuplicateKeys(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return err
			}
			key := k.(string)
			if seen[key] {
				return fmt.Errorf("key %q twice", key)
			}
			seen[key] = true
			if err := noDuplicateKeys(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token() // '}'
		return err
	case json.Delim('['):
		for dec.More() {
			if err := noDuplicateKeys(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ']'
		return err
	}
	return nil
}

func TestNoDuplicateKeysCatchesDuplicates(t *testing.T) {
	for in, want := range map[string]bool{
		`{"a":1,"b":{"c":2}}`:       true,
		`{"a":1,"a":2}`:             false,
		`{"a":{"b":1,"b":2}}`:       false,
		`{"a":[{"x":1},{"x":1}]}`:   true,
		`{"a":[{"x":1,"x":1}]}`:     false,
		`{"component":"a","msg":1}`: true,
	} {
		if got := noDuplicateKeys(json.NewDecoder(strings.NewReader(in))) == nil; got != want {
			t.Errorf("%s: ok = %v, want %v", in, got, want)
		}
	}
}
