package notifier

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./notifier -run %s -update)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got); if intended, rerun with -update:\n%s", path, diff)
	}
}

// kindFile is a file-name-friendly kind: "deployment.failed" -> "deployment_failed".
func kindFile(k Kind) string { return strings.ReplaceAll(string(k), ".", "_") }

// slackJSON is the message as Slack receives it, indented.
func slackJSON(t *testing.T, text string, blocks any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // readable goldens; Slack reads both forms
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"text": text, "blocks": blocks}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGoldenSlackBlocks(t *testing.T) {
	for _, n := range fixtures() {
		t.Run(string(n.Kind), func(t *testing.T) {
			blocks, text, cut := SlackBlocks(n)
			if cut {
				t.Error("a fixture was truncated")
			}
			golden(t, kindFile(n.Kind)+".blocks.golden", slackJSON(t, text, blocks))
		})
	}
	t.Run("digest", func(t *testing.T) {
		blocks, text, _ := DigestBlocks(fixtures())
		golden(t, "digest.blocks.golden", slackJSON(t, text, blocks))
	})
	t.Run("stopped parent", func(t *testing.T) {
		blocks, text, cut := slackStoppedBlocks(stoppedFixture())
		if cut {
			t.Error("the stopped fixture was truncated")
		}
		golden(t, "deployment_stopped.blocks.golden", slackJSON(t, text, blocks))
	})
	t.Run("waits between phases", func(t *testing.T) {
		blocks, text, cut := SlackBlocks(gapFixture())
		if cut {
			t.Error("the fixture was truncated")
		}
		golden(t, "deployment_succeeded_waits.blocks.golden", slackJSON(t, text, blocks))
	})
	t.Run("thread reply", func(t *testing.T) {
		blocks, text, _ := slackDetailBlocks(fixture(KindFailed))
		golden(t, "deployment_failed.reply.blocks.golden", slackJSON(t, text, blocks))
	})
}

func TestGoldenText(t *testing.T) {
	for _, n := range fixtures() {
		t.Run(string(n.Kind), func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderText(&buf, n, false); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(buf.Bytes(), []byte("\x1b[")) {
				t.Error("colour without asking")
			}
			golden(t, kindFile(n.Kind)+".txt.golden", buf.Bytes())
		})
	}
	t.Run("colour", func(t *testing.T) {
		var buf bytes.Buffer
		if err := RenderText(&buf, fixture(KindFailed), true); err != nil {
			t.Fatal(err)
		}
		golden(t, "deployment_failed.color.txt.golden", buf.Bytes())
	})
	t.Run("waits between phases", func(t *testing.T) {
		var buf bytes.Buffer
		if err := RenderText(&buf, gapFixture(), false); err != nil {
			t.Fatal(err)
		}
		golden(t, "deployment_succeeded_waits.txt.golden", buf.Bytes())
	})
	t.Run("report", func(t *testing.T) {
		var sums []Summary
		for _, n := range fixtures() {
			if n.Kind == KindReport || n.Kind == KindSucceeded {
				sums = append(sums, n.Summary)
			}
		}
		var buf bytes.Buffer
		if err := RenderReportText(&buf, sums, false); err != nil {
			t.Fatal(err)
		}
		golden(t, "report.txt.golden", buf.Bytes())
	})
}

// TestGoldenReport is the text of a whole report: a deployment that
// succeeded with waits between its phases, runtime events (one abnormal)
// and a v2 stall with pod events.
func TestGoldenReport(t *testing.T) {
	for _, color := range []bool{false, true} {
		var buf bytes.Buffer
		if err := RenderReport(&buf, reportFixture(), color); err != nil {
			t.Fatal(err)
		}
		name := "report_view.txt.golden"
		if color {
			name = "report_view.color.txt.golden"
		} else if bytes.Contains(buf.Bytes(), []byte("\x1b[")) {
			t.Error("colour without asking")
		}
		golden(t, name, buf.Bytes())
	}
}

func TestTerminalNotifier(t *testing.T) {
	var buf bytes.Buffer
	ns := fixtures()[:2]
	results := NewTerminal(&buf, false).Notify(t.Context(), ns)
	want := []Result{{ID: ns[0].ID}, {ID: ns[1].ID}}
	if diff := cmp.Diff(want, results); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	var one bytes.Buffer
	_ = RenderText(&one, ns[0], false)
	if !strings.HasPrefix(buf.String(), one.String()+"\n") {
		t.Errorf("terminal output does not start with the first notification:\n%s", buf.String())
	}
}
