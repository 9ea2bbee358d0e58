package notifier

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

// The one Retry-After rule of both boundaries: eventsapi reads the same
// table (eventsapi/retryafter_test.go).
func TestParseRetryAfterTable(t *testing.T) {
	b, err := os.ReadFile("../eventsapi/testdata/retry-after.json")
	if err != nil {
		t.Fatal(err)
	}
	var tb struct {
		Now   time.Time `json:"now"`
		Cases []struct {
			Header string `json:"header"`
			WaitMS int64  `json:"wait_ms"`
			OK     bool   `json:"ok"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &tb); err != nil {
		t.Fatal(err)
	}
	for _, c := range tb.Cases {
		d, ok := parseRetryAfter(c.Header, tb.Now)
		if d.Milliseconds() != c.WaitMS || ok != c.OK {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %dms, %v", c.Header, d, ok, c.WaitMS, c.OK)
		}
	}
}
