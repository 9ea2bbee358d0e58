package checkpoint

import (
	"bytes"
	"encoding/json"
	"testing"
)

// The file is written one checkpoint at a time: the bytes are those
// json.MarshalIndent gives for the whole map, as before.
func TestEncodeAllIsMarshalIndent(t *testing.T) {
	for _, all := range []map[string]Checkpoint{
		{},
		{"a": {ServiceID: "a"}},
		{
			"svc-2":     {ServiceID: "svc-2", Version: 3, ReadThrough: 1700000000000, Edge: []string{EdgeKey("x"), EdgeKey("y")}, Generation: "v2"},
			"svc-1":     {ServiceID: "svc-1", FirstRunFrom: 5, Sent: map[string]Sent{"msg_1": {At: 7, Destinations: []string{"slack", "webhook"}}}, Threads: map[string]Thread{"svc-1/5": {TS: "1.2", At: 5}}},
			"<&>\u2028": {ServiceID: "<&>\u2028"},
		},
	} {
		want, err := json.MarshalIndent(all, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		got, err := encodeAll(all)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("encodeAll:\n%s\nwant:\n%s", got, want)
		}
	}
}
