package setup

import (
	"encoding/json"
	"io"
	"time"
)

// MetricsNamespace is the CloudWatch namespace of the run metrics.
const MetricsNamespace = "ModelArtsNotifier"

// RunMetrics are the figures of one run, written as one CloudWatch Embedded
// Metric Format record (a JSON log line CloudWatch turns into metrics).
type RunMetrics struct {
	Function             string
	EventsRead           int
	NotificationsSent    int
	NotificationsFailed  int
	NotificationsMuted   int
	NotificationsDropped int
	Stalls               int
	APIRetries           int64
	ServicesPolled       int
	ServicesFailed       int
	ServicesDeferred     int
	CheckpointWrites     int
	Duration             time.Duration
}

// WriteEMF writes m as one EMF record on its own line.
func (m RunMetrics) WriteEMF(w io.Writer, now time.Time) error {
	type metric struct {
		Name string `json:"Name"`
		Unit string `json:"Unit"`
	}
	values := []struct {
		name, unit string
		v          any
	}{
		{"EventsRead", "Count", m.EventsRead},
		{"NotificationsSent", "Count", m.NotificationsSent},
		{"NotificationsFailed", "Count", m.NotificationsFailed},
		{"NotificationsMuted", "Count", m.NotificationsMuted},
		{"NotificationsDropped", "Count", m.NotificationsDropped},
		{"Stalls", "Count", m.Stalls},
		{"APIRetries", "Count", m.APIRetries},
		{"ServicesPolled", "Count", m.ServicesPolled},
		{"ServicesFailed", "Count", m.ServicesFailed},
		{"ServicesDeferred", "Count", m.ServicesDeferred},
		{"CheckpointWrites", "Count", m.CheckpointWrites},
		{"Duration", "Milliseconds", m.Duration.Milliseconds()},
	}
	rec := map[string]any{"Function": m.Function}
	metrics := make([]metric, 0, len(values))
	for _, v := range values {
		metrics = append(metrics, metric{v.name, v.unit})
		rec[v.name] = v.v
	}
	rec["_aws"] = map[string]any{
		"Timestamp": now.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  MetricsNamespace,
			"Dimensions": [][]string{{"Function"}},
			"Metrics":    metrics,
		}},
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
