package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// helpWidth bounds every line of -h, in terminal columns.
const helpWidth = 100

// columns is the terminal width of a line: tabs (flag.PrintDefaults
// writes them) to the next multiple of 8, East Asian wide runes two
// columns.
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

// Regression (issue 17): `report -h` ran past 200 columns, and said
// -notify posts to "Slack and webhook" destinations: it posts to every
// configured destination, of every kind.
func TestHelp(t *testing.T) {
	cleanEnv(t)
	var out, errOut bytes.Buffer
	if err := realMain(context.Background(), []string{"-h"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	help := errOut.String()
	for i, line := range strings.Split(help, "\n") {
		if c := columns(line); c > helpWidth {
			t.Errorf("line %d is %d columns wide (at most %d): %q", i+1, c, helpWidth, line)
		}
	}
	flat := strings.Join(strings.Fields(help), " ")
	if strings.Contains(flat, "Slack and webhook") {
		t.Errorf("-h still says -notify posts to Slack and webhooks only:\n%s", help)
	}
	for _, want := range []string{
		"-notify also posts it to every configured destination",
		"-notify also post the report to every configured destination",
		"FEISHU_WEBHOOK_URLS", "STALL_THRESHOLDS", "default: image_build=30m,environment=10m",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("-h lacks %q:\n%s", want, help)
		}
	}
}
