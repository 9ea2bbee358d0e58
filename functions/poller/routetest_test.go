package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// poller -route-test reads only the destinations and ROUTES (no project,
// no credentials, no API) and prints where a notification would go.
func TestRouteTest(t *testing.T) {
	cleanEnv(t)
	t.Setenv("WEBHOOK_URLS", "pager=https://pager.example.com/h,nlp-alerts=https://nlp.example.com/h")
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-s3cr3t")
	t.Setenv("SLACK_CHANNEL", "C0PLATFORM")
	t.Setenv("ROUTES", `
routes:
  - match: {service: ["bert-*"]}
    to: [nlp-alerts, "slack-bot:#nlp"]
  - match: {type: [deployment.failed]}
    to: [pager]
  - match: {service: ["scratch-*"]}
    to: []
default: [slack-bot]
mute:
  - service: ["bench-*"]
`)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-route-test", "bert-ner"}, "nlp-alerts\nslack-bot:#nlp\n"},
		{[]string{"-route-test", "yolo", "-type", "deployment.failed"}, "pager\n"},
		{[]string{"-route-test", "yolo"}, "slack-bot:C0PLATFORM\n"},
		{[]string{"-route-test", "scratch-1"}, ""},
		{[]string{"-route-test", "bench-1", "-type", "deployment.failed", "-phase", "image_pull"}, "muted\n"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			if err := realMain(context.Background(), tc.args, &out, &errOut); err != nil {
				t.Fatalf("err %v (stderr %s)", err, errOut.String())
			}
			if out.String() != tc.want {
				t.Fatalf("stdout %q, want %q", out.String(), tc.want)
			}
		})
	}
	for _, args := range [][]string{{"-route-test", "x", "-type", "deployment.failing"}, {"-route-test", "x", "-phase", "pull"}, {"-type", "deployment.failed"}} {
		if err := realMain(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	t.Setenv("ROUTES", "default: [nobody]")
	if err := realMain(context.Background(), []string{"-route-test", "x"}, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `ROUTES: default: unknown destination "nobody"`) {
		t.Errorf("a bad document: %v", err)
	}
}
