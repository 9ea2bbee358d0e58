package checkpoint_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint/checkpointtest"
)

// benchServices is the number of services a benchmark's batch holds: a
// poll of a 1,000-service project.
const benchServices = 1000

// benchStore is a real store under benchmark, with its I/O counters.
type benchStore struct {
	name  string
	store func(b *testing.B) checkpoint.Store
}

// benchStores are the file store, DynamoDB on dynalite, and DynamoDB on
// dynalite behind 5 ms of latency a request (slow): dynalite alone is
// bound by its CPU, DynamoDB by the wait for each request.
func benchStores(client, slow *dynamodb.Client) []benchStore {
	return []benchStore{
		{"file", func(b *testing.B) checkpoint.Store {
			f, err := checkpoint.NewFile(filepath.Join(b.TempDir(), "checkpoints.json"))
			if err != nil {
				b.Fatal(err)
			}
			return f
		}},
		{"dynamodb", func(b *testing.B) checkpoint.Store {
			return checkpoint.NewDynamoDB(client, checkpointtest.NewTable(b, client))
		}},
		{"dynamodb-5ms", func(b *testing.B) checkpoint.Store {
			return checkpoint.NewDynamoDB(slow, checkpointtest.NewTable(b, client))
		}},
	}
}

// benchClients are DynamoDB clients of a new dynalite: one direct, one
// through 5 ms of latency a request.
func benchClients(b *testing.B) (client, slow *dynamodb.Client) {
	endpoint := checkpointtest.StartDynalite(b)
	return checkpointtest.NewDynamoClient(b, endpoint),
		checkpointtest.NewDynamoClient(b, checkpointtest.StartLatencyProxy(b, endpoint, 5*time.Millisecond))
}

// counters reads a store's I/O counters: file reads and writes, or
// DynamoDB requests and capacity units.
func counters(s checkpoint.Store) map[string]float64 {
	switch s := s.(type) {
	case *checkpoint.File:
		r, w := checkpoint.FileIO(s)
		return map[string]float64{"file-reads/op": float64(r), "file-writes/op": float64(w)}
	case *checkpoint.DynamoDB:
		ru, wu := s.Consumed()
		r, w := s.Requests()
		return map[string]float64{"read-units/op": ru, "write-units/op": wu, "read-requests/op": float64(r), "write-requests/op": float64(w)}
	}
	return nil
}

// reportSince reports how much each counter grew per op since before.
func reportSince(b *testing.B, s checkpoint.Store, before map[string]float64) {
	for name, v := range counters(s) {
		b.ReportMetric((v-before[name])/float64(b.N), name)
	}
}

// BenchmarkLoadMany loads the checkpoints of 1,000 services (realistic
// ones: a 50-event edge, two sent notifications) from the real stores.
func BenchmarkLoadMany(b *testing.B) {
	client, slow := benchClients(b)
	for _, bs := range benchStores(client, slow) {
		b.Run(bs.name, func(b *testing.B) {
			s := bs.store(b)
			cps, ids := realisticBatch("svc", benchServices)
			if err := errors.Join(s.SaveMany(b.Context(), cps)...); err != nil {
				b.Fatal(err)
			}
			before := counters(s)
			for b.Loop() {
				got, err := s.LoadMany(b.Context(), ids)
				if err != nil || len(got) != benchServices {
					b.Fatalf("LoadMany = %d checkpoints, %v", len(got), err)
				}
			}
			reportSince(b, s, before)
		})
	}
}

// BenchmarkSaveMany saves the checkpoints of 1,000 services, every one
// changed, to the real stores.
func BenchmarkSaveMany(b *testing.B) {
	client, slow := benchClients(b)
	for _, bs := range benchStores(client, slow) {
		b.Run(bs.name, func(b *testing.B) {
			s := bs.store(b)
			cps, _ := realisticBatch("svc", benchServices)
			if err := errors.Join(s.SaveMany(b.Context(), cps)...); err != nil {
				b.Fatal(err)
			}
			before := counters(s)
			for b.Loop() {
				for _, cp := range cps {
					cp.ReadThrough++
				}
				if err := errors.Join(s.SaveMany(b.Context(), cps)...); err != nil {
					b.Fatal(err)
				}
			}
			reportSince(b, s, before)
		})
	}
}
