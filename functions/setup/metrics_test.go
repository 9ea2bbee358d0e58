package setup

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// The record follows the CloudWatch Embedded Metric Format: every metric
// declared under _aws.CloudWatchMetrics has a value at the top level.
func TestWriteEMF(t *testing.T) {
	var buf bytes.Buffer
	m := RunMetrics{Function: "poller", EventsRead: 27, NotificationsSent: 4, NotificationsFailed: 1, Stalls: 1, APIRetries: 2, Duration: 1500 * time.Millisecond}
	if err := m.WriteEMF(&buf, time.UnixMilli(1795874343662)); err != nil {
		t.Fatal(err)
	}
	if bytes.Count(buf.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("want one line, got %q", buf.String())
	}
	var rec struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
	}
	var flat map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(buf.Bytes(), &flat)
	if rec.AWS.Timestamp != 1795874343662 || len(rec.AWS.CloudWatchMetrics) != 1 || rec.AWS.CloudWatchMetrics[0].Namespace != MetricsNamespace {
		t.Fatalf("record %s", buf.String())
	}
	for _, d := range rec.AWS.CloudWatchMetrics[0].Dimensions[0] {
		if _, ok := flat[d]; !ok {
			t.Errorf("dimension %s has no value", d)
		}
	}
	for _, metric := range rec.AWS.CloudWatchMetrics[0].Metrics {
		if _, ok := flat[metric.Name].(float64); !ok {
			t.Errorf("metric %s has no numeric value", metric.Name)
		}
	}
	if flat["EventsRead"] != 27.0 || flat["Duration"] != 1500.0 || flat["APIRetries"] != 2.0 {
		t.Errorf("values: %s", buf.String())
	}
}
