package eventsapi

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

// retryAfterTable is the one Retry-After rule of both boundaries: the
// notifier's deliveries read the same table (notifier/retryafter_test.go).
type retryAfterTable struct {
	Now   time.Time `json:"now"`
	Cases []struct {
		Header string `json:"header"`
		WaitMS int64  `json:"wait_ms"`
		OK     bool   `json:"ok"`
	} `json:"cases"`
}

func TestParseRetryAfterTable(t *testing.T) {
	b, err := os.ReadFile("testdata/retry-after.json")
	if err != nil {
		t.Fatal(err)
	}
	var tb retryAfterTable
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
