package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
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
