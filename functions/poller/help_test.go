package main

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/modelarts-notifier/modelarts-notifier/functions/demo"
	"github.com/modelarts-notifier/modelarts-notifier/functions/setup"
)

// helpWidth bounds every line of -h, in terminal columns.
const helpWidth = 100

// columns is the terminal width of a line: tabs to the next multiple of
// 8, East Asian wide runes two columns.
func columns(line string) int {
	n := 0
	for _, r := range line {
		switch {
		case r == '\t':
			n += 8 - n%8
		case r >= 0x1100 && (r <= 0x115F || (r >= 0x2E80 && r <= 0xA4CF) || (r >= 0xAC00 && r <= 0xD7A3) ||
			(r >= 0xF900 && r <= 0xFAFF) || (r >= 0xFE30 && r <= 0xFE4F) || (r >= 0xFF00 && r <= 0xFF60) ||
			(r >= 0xFFE0 && r <= 0xFFE6) || r >= 0x1F300):
			n += 2
		default:
			n++
		}
	}
	return n
}

// Regression (issue 17): `poller -h` ran to 236 columns, the thresholds'
// default setting the column of every meaning; and -demo's help described
// four services where the demo has five.
func TestHelpWithin100Columns(t *testing.T) {
	cleanEnv(t)
	var out, errOut bytes.Buffer
	if err := realMain(context.Background(), []string{"-h"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("-h wrote to stdout: %q", out.String())
	}
	if setup.UsageWidth != helpWidth {
		t.Errorf("setup.UsageWidth = %d, want %d", setup.UsageWidth, helpWidth)
	}
	for i, line := range strings.Split(errOut.String(), "\n") {
		if c := columns(line); c > helpWidth {
			t.Errorf("line %d is %d columns wide (at most %d): %q", i+1, c, helpWidth, line)
		}
	}
}

var numberWords = []string{"no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}

func TestHelpCountsTheDemosServices(t *testing.T) {
	cleanEnv(t)
	d, err := demo.Start(context.Background(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	n := len(d.ServiceIDs)

	var errOut bytes.Buffer
	if err := realMain(context.Background(), []string{"-h"}, &bytes.Buffer{}, &errOut); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(errOut.String()), " ")
	m := regexp.MustCompile(`-demo poll the built-in simulated ModelArts: (\w+) services \(([^)]*)\)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("-h does not describe -demo as \"... ModelArts: N services (...)\":\n%s", errOut.String())
	}
	if n >= len(numberWords) || m[1] != numberWords[n] {
		t.Errorf("-demo's help says %q services; the demo has %d", m[1], n)
	}
	if items := regexp.MustCompile(`, | and `).Split(m[2], -1); len(items) != n {
		t.Errorf("-demo's help lists %d services (%q); the demo has %d", len(items), items, n)
	}
}
