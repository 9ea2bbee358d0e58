package checkpointtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
)

// DynaliteEnv names the environment variable holding the path of dynalite's
// cli.js; the Makefile sets it.
const DynaliteEnv = "DYNALITE_CLI"

// dynaliteRel is where `make tools` installs dynalite, relative to the
// module root.
var dynaliteRel = filepath.Join(".tools", "node_modules", "dynalite", "cli.js")

// howToGet tells a developer how to install dynalite.
const howToGet = "run `make test`, or `npm install --prefix .tools dynalite@4` at the module root"

// startupTimeout bounds the wait for dynalite to listen.
const startupTimeout = 20 * time.Second

// StartDynalite starts an in-memory dynalite on a free loopback port and
// returns its endpoint (http://127.0.0.1:PORT). The process is killed when
// the test ends. dynalite's cli.js is found through DYNALITE_CLI or in the
// module's .tools directory; when it is missing, or Node.js is, the test
// fails (it is never skipped) with instructions.
//
// Tables become active at once (--createTableMs 0), so tests need not wait.
func StartDynalite(t testing.TB) (endpoint string) {
	t.Helper()
	cli, err := DynaliteCLI()
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("dynalite needs Node.js, and node is not on PATH: %v", err)
	}
	const attempts = 3 // another process may take the free port before dynalite does
	var lastErr error
	for range attempts {
		endpoint, stop, err := startDynalite(node, cli)
		if err == nil {
			t.Cleanup(stop)
			return endpoint
		}
		lastErr = err
	}
	t.Fatalf("start dynalite (%s): %v", cli, lastErr)
	return ""
}

// DynaliteCLI returns the path of dynalite's cli.js: $DYNALITE_CLI, else
// .tools/node_modules/dynalite/cli.js under the module root found by walking
// up from the working directory to go.mod.
func DynaliteCLI() (string, error) {
	if p := os.Getenv(DynaliteEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("dynalite: %s=%s: %w; %s", DynaliteEnv, p, err, howToGet)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("dynalite: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, dynaliteRel)
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("dynalite is not installed (%s is missing, and %s is not set): %s", p, DynaliteEnv, howToGet)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("dynalite: no go.mod above the working directory and %s is not set: %s", DynaliteEnv, howToGet)
		}
		dir = parent
	}
}

// startDynalite runs one dynalite and waits until it says it listens.
func startDynalite(node, cli string) (endpoint string, stop func(), err error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var out syncBuffer
	cmd := exec.Command(node, cli, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.SysProcAttr = sysProcAttr()
	// Pdeathsig (sysProcAttr) is sent when the thread that started the
	// child exits, not the process, and the Go runtime may end a thread
	// mid-test: dynalite was killed under a busy `go test ./...` and the
	// tests after that talked to nothing. The child is started from a
	// goroutine locked to its thread, which stays in cmd.Wait (so the
	// thread lives) until the child is gone.
	exited := make(chan struct{})
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			close(exited)
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(exited)
	}()
	if err := <-started; err != nil {
		return "", nil, err
	}
	stop = func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	deadline := time.Now().Add(startupTimeout)
	for {
		select {
		case <-exited:
			return "", nil, fmt.Errorf("dynalite exited before listening on %s: %s", addr, strings.TrimSpace(out.String()))
		default:
		}
		// Its own word, not a dial: between freePort and dynalite's
		// listen another process (a test package running alongside) can
		// take the port, and a dial would reach that one; dynalite then
		// exits (address in use) and is started again on another port.
		if strings.Contains(out.String(), "listening at") {
			return "http://" + addr, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("dynalite did not listen on %s within %s: %s", addr, startupTimeout, strings.TrimSpace(out.String()))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer collects a child's output, written from os/exec's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// NewDynamoClient returns a DynamoDB client for endpoint (from
// StartDynalite) with static fake credentials in us-east-1, over the
// poller's HTTP client (checkpoint.NewHTTPClient). It
// reads nothing from the environment or ~/.aws, so tests never touch a
// real account.
func NewDynamoClient(t testing.TB, endpoint string) *dynamodb.Client {
	t.Helper()
	if endpoint == "" {
		t.Fatal("NewDynamoClient: empty endpoint")
	}
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDCHECKPOINTTEST", "checkpointtest-fake-secret", ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   checkpoint.NewHTTPClient(),
	})
}

var tableSeq atomic.Int64

// NewTable creates a checkpoint table with a name unique in this process
// (checkpoint.CreateTable) and returns its name.
func NewTable(t testing.TB, client checkpoint.TableAPI) string {
	t.Helper()
	name := fmt.Sprintf("checkpoints-%d-%d", os.Getpid(), tableSeq.Add(1))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := checkpoint.CreateTable(ctx, client, name); err != nil {
		t.Fatal(err)
	}
	return name
}
