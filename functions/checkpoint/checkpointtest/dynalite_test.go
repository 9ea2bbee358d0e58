package checkpointtest_test

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint/checkpointtest"
)

func TestDynaliteCLI(t *testing.T) {
	root := t.TempDir()
	cli := filepath.Join(root, ".tools", "node_modules", "dynalite", "cli.js")
	deep := filepath.Join(root, "functions", "checkpoint")
	for _, dir := range []string{filepath.Dir(cli), deep} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path string) {
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "go.mod"))

	t.Run("from the environment", func(t *testing.T) {
		write(cli)
		t.Setenv(checkpointtest.DynaliteEnv, cli)
		if got, err := checkpointtest.DynaliteCLI(); err != nil || got != cli {
			t.Errorf("DynaliteCLI() = %q, %v; want %q", got, err, cli)
		}
	})
	t.Run("environment names a missing file", func(t *testing.T) {
		t.Setenv(checkpointtest.DynaliteEnv, filepath.Join(root, "nowhere.js"))
		_, err := checkpointtest.DynaliteCLI()
		wantHowTo(t, err)
	})
	t.Run("found under the module root", func(t *testing.T) {
		write(cli)
		t.Setenv(checkpointtest.DynaliteEnv, "")
		t.Chdir(deep)
		got, err := checkpointtest.DynaliteCLI()
		if err != nil {
			t.Fatal(err)
		}
		// The temporary directory may sit behind a symbolic link (macOS).
		if want, _ := filepath.EvalSymlinks(cli); mustEval(t, got) != want {
			t.Errorf("DynaliteCLI() = %q, want %q", got, cli)
		}
	})
	t.Run("not installed", func(t *testing.T) {
		if err := os.Remove(cli); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		t.Setenv(checkpointtest.DynaliteEnv, "")
		t.Chdir(deep)
		_, err := checkpointtest.DynaliteCLI()
		wantHowTo(t, err)
	})
}

func mustEval(t *testing.T, path string) string {
	t.Helper()
	p, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func wantHowTo(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("DynaliteCLI() found dynalite, want an error")
	}
	for _, want := range []string{"make test", "npm install --prefix .tools dynalite@4"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestStartDynalite(t *testing.T) {
	var addr string
	t.Run("running", func(t *testing.T) {
		endpoint := checkpointtest.StartDynalite(t)
		u, err := url.Parse(endpoint)
		if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" {
			t.Fatalf("endpoint %q, want http://127.0.0.1:PORT", endpoint)
		}
		addr = u.Host
		client := checkpointtest.NewDynamoClient(t, endpoint)
		table := checkpointtest.NewTable(t, client)
		out, err := client.ListTables(t.Context(), &dynamodb.ListTablesInput{})
		if err != nil {
			t.Fatalf("ListTables: %v", err)
		}
		if len(out.TableNames) != 1 || out.TableNames[0] != table {
			t.Errorf("tables = %v, want [%s]", out.TableNames, table)
		}
	})
	// The subtest's cleanup killed dynalite: nothing listens any more.
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Errorf("dynalite still listens on %s after the test ended", addr)
	}
}
