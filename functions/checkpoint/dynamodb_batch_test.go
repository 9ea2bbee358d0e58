package checkpoint_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint/checkpointtest"
)

// testDynamoDBBatches holds the DynamoDB store's own batch tests (the
// contract test covers what every store does).
func testDynamoDBBatches(t *testing.T, client *dynamodb.Client) {
	t.Run("load many: chunks, consistency, capacity", func(t *testing.T) { testDynamoDBLoadManyChunks(t, client) })
	t.Run("load many: unprocessed keys are retried", func(t *testing.T) { testDynamoDBUnprocessedKeys(t, client) })
	t.Run("load many: failures fail the call", func(t *testing.T) { testDynamoDBLoadManyFailures(t, client) })
	t.Run("save many: bounded concurrency, capacity", func(t *testing.T) { testDynamoDBSaveManyConcurrency(t, client) })
	t.Run("save many: items are independent", func(t *testing.T) { testDynamoDBSaveManyPartialFailure(t, client) })
	t.Run("consumed capacity of Load, Save and conflicts", func(t *testing.T) { testDynamoDBConsumedSingle(t, client) })
	t.Run("item size matches DynamoDB's count", func(t *testing.T) { testDynamoDBItemSizeMatchesCapacity(t, client) })
	t.Run("a 50-event edge fits one write unit", func(t *testing.T) { testDynamoDBRealisticItem(t, client) })
	t.Run("items of the previous release", func(t *testing.T) { testDynamoDBLegacyItems(t, client) })
}

// hookedDynamo forwards to DynamoDB, records requests and the most
// requests in flight at once, can hold requests at a barrier, and lets a
// test replace BatchGetItem or fail puts.
type hookedDynamo struct {
	checkpoint.DynamoDBAPI
	batchGet    func(ctx context.Context, in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error)
	failPut     func(serviceID string) error
	mu          sync.Mutex
	batchGets   []*dynamodb.BatchGetItemInput
	puts        []*dynamodb.PutItemInput
	gets        []*dynamodb.GetItemInput
	inFlight    map[string]int
	maxInFlight map[string]int
	barriers    map[string]*barrier
}

// barrier holds the calls that reach it until want of them are held at
// once, then lets them and every later call through. A store that never
// has want calls in flight at once never opens it.
type barrier struct {
	want int
	mu   sync.Mutex
	held int
	open chan struct{}
	once sync.Once
}

func newBarrier(want int) *barrier { return &barrier{want: want, open: make(chan struct{})} }

func (b *barrier) wait(ctx context.Context) {
	b.mu.Lock()
	b.held++
	if b.held == b.want {
		b.release()
	}
	b.mu.Unlock()
	select {
	case <-b.open:
	case <-ctx.Done():
	}
}

func (b *barrier) release() { b.once.Do(func() { close(b.open) }) }

// barrierTimeout bounds the wait for a barrier to open: only a store that
// does not make its calls concurrently, and so never opens it, waits this
// long. No test asserts on how long anything takes.
const barrierTimeout = time.Minute

// throughBarrier runs run (which must not call t.Fatal) while a barrier
// holds h's op calls until want of them are in flight at once: it proves
// that run makes want such calls concurrently. It fails the test if run
// ends, or barrierTimeout passes, without the barrier opening, naming the
// most calls that were in flight at once.
func throughBarrier(t *testing.T, h *hookedDynamo, op string, want int, run func()) {
	t.Helper()
	b := newBarrier(want)
	h.mu.Lock()
	if h.barriers == nil {
		h.barriers = map[string]*barrier{}
	}
	h.barriers[op] = b
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.barriers, op)
		h.mu.Unlock()
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		run()
	}()
	select {
	case <-b.open:
		<-done
	case <-done:
		t.Fatalf("%s calls: at most %d were in flight at once, want %d at once", op, h.max(op), want)
	case <-time.After(barrierTimeout):
		b.release()
		<-done
		t.Fatalf("%s calls: after %v only %d were in flight at once, each held until %d are; the store does not make %d at once",
			op, barrierTimeout, h.max(op), want, want)
	}
}

func (h *hookedDynamo) enter(ctx context.Context, op string) func() {
	h.mu.Lock()
	if h.inFlight == nil {
		h.inFlight, h.maxInFlight = map[string]int{}, map[string]int{}
	}
	h.inFlight[op]++
	h.maxInFlight[op] = max(h.maxInFlight[op], h.inFlight[op])
	b := h.barriers[op]
	h.mu.Unlock()
	if b != nil {
		b.wait(ctx)
	}
	return func() {
		h.mu.Lock()
		h.inFlight[op]--
		h.mu.Unlock()
	}
}

func (h *hookedDynamo) max(op string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.maxInFlight[op]
}

func (h *hookedDynamo) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	defer h.enter(ctx, "get")()
	h.mu.Lock()
	h.gets = append(h.gets, in)
	h.mu.Unlock()
	return h.DynamoDBAPI.GetItem(ctx, in, opts...)
}

func (h *hookedDynamo) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	defer h.enter(ctx, "put")()
	h.mu.Lock()
	h.puts = append(h.puts, in)
	h.mu.Unlock()
	if h.failPut != nil {
		if err := h.failPut(in.Item["service_id"].(*types.AttributeValueMemberS).Value); err != nil {
			return nil, err
		}
	}
	return h.DynamoDBAPI.PutItem(ctx, in, opts...)
}

func (h *hookedDynamo) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	defer h.enter(ctx, "batch")()
	h.mu.Lock()
	h.batchGets = append(h.batchGets, in)
	h.mu.Unlock()
	if h.batchGet != nil {
		return h.batchGet(ctx, in)
	}
	return h.DynamoDBAPI.BatchGetItem(ctx, in, opts...)
}

// saveServices saves n minimal checkpoints named prefix-0000... with one
// SaveMany and returns their ids.
func saveServices(t *testing.T, s checkpoint.Store, prefix string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	cps := make([]*checkpoint.Checkpoint, n)
	for i := range n {
		ids[i] = fmt.Sprintf("%s-%04d", prefix, i)
		cps[i] = &checkpoint.Checkpoint{ServiceID: ids[i], ReadThrough: int64(i)}
	}
	if err := errors.Join(s.SaveMany(t.Context(), cps)...); err != nil {
		t.Fatal(err)
	}
	return ids
}

func testDynamoDBLoadManyChunks(t *testing.T, client *dynamodb.Client) {
	hooked := &hookedDynamo{DynamoDBAPI: client}
	table := checkpointtest.NewTable(t, client)
	store := checkpoint.NewDynamoDB(hooked, table)
	ids := saveServices(t, store, "svc", 950)
	ask := slices.Clone(ids)
	for i := range 50 {
		ask = append(ask, fmt.Sprintf("svc-missing-%d", i))
	}
	ask = append(ask, ids[:10]...) // repeats are asked once

	reads0, _ := store.Requests()
	units0, _ := store.Consumed()
	// 10 chunks, 4 at once: the first 4 are held until all 4 are in
	// flight together.
	var (
		got map[string]checkpoint.Checkpoint
		err error
	)
	throughBarrier(t, hooked, "batch", 4, func() { got, err = store.LoadMany(t.Context(), ask) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ids) {
		t.Errorf("LoadMany returned %d checkpoints, want %d", len(got), len(ids))
	}
	if len(hooked.batchGets) != 10 || len(hooked.gets) != 0 {
		t.Errorf("%d BatchGetItem and %d GetItem calls for 1,000 distinct ids; want 10 and 0", len(hooked.batchGets), len(hooked.gets))
	}
	seen := map[string]bool{}
	for _, in := range hooked.batchGets {
		ka := in.RequestItems[table]
		if len(in.RequestItems) != 1 || len(ka.Keys) > 100 || !aws.ToBool(ka.ConsistentRead) ||
			in.ReturnConsumedCapacity != types.ReturnConsumedCapacityTotal {
			t.Errorf("BatchGetItem input: %d tables, %d keys, consistent %v, capacity %q; want 1, ≤ 100, true, TOTAL",
				len(in.RequestItems), len(ka.Keys), aws.ToBool(ka.ConsistentRead), in.ReturnConsumedCapacity)
		}
		for _, k := range ka.Keys {
			id := k["service_id"].(*types.AttributeValueMemberS).Value
			if seen[id] {
				t.Errorf("key %s asked twice", id)
			}
			seen[id] = true
		}
	}
	if m := hooked.max("batch"); m != 4 {
		t.Errorf("at most %d BatchGetItem calls were in flight at once; want 4", m)
	}
	reads, _ := store.Requests()
	units, _ := store.Consumed()
	if reads-reads0 != 10 {
		t.Errorf("Requests() counted %d reads, want 10", reads-reads0)
	}
	// dynalite bills a strongly consistent read of an item under 4 KB, or
	// of a missing one, as one unit.
	if units-units0 != 1000 {
		t.Errorf("Consumed() grew by %v read units, want 1000", units-units0)
	}
}

// halfProcessing answers each BatchGetItem with the first half of its keys
// (at least one) and returns the rest as unprocessed, as DynamoDB does
// under load; keys of services named stuck are never processed.
func halfProcessing(client checkpoint.DynamoDBAPI, table string) func(context.Context, *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error) {
	return func(ctx context.Context, in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error) {
		ka := in.RequestItems[table]
		var stuck, rest []map[string]types.AttributeValue
		for _, k := range ka.Keys {
			if strings.Contains(k["service_id"].(*types.AttributeValueMemberS).Value, "stuck") {
				stuck = append(stuck, k)
			} else {
				rest = append(rest, k)
			}
		}
		n := (len(rest) + 1) / 2
		out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
		if n > 0 {
			sub := *in
			sub.RequestItems = map[string]types.KeysAndAttributes{table: {Keys: rest[:n], ConsistentRead: ka.ConsistentRead}}
			var err error
			if out, err = client.BatchGetItem(ctx, &sub); err != nil {
				return nil, err
			}
		}
		if un := append(rest[n:], stuck...); len(un) > 0 {
			out.UnprocessedKeys = map[string]types.KeysAndAttributes{table: {Keys: un, ConsistentRead: ka.ConsistentRead}}
		}
		return out, nil
	}
}

func testDynamoDBUnprocessedKeys(t *testing.T, client *dynamodb.Client) {
	table := checkpointtest.NewTable(t, client)
	hooked := &hookedDynamo{DynamoDBAPI: client}
	hooked.batchGet = halfProcessing(client, table)
	store := checkpoint.NewDynamoDB(hooked, table)
	checkpoint.SetRetry(store, 8, time.Millisecond, 4*time.Millisecond)
	ids := saveServices(t, store, "svc", 100)
	stuck := saveServices(t, store, "svc-stuck", 3)

	// 100 keys: 50 answered, then 25, 13, 6, 3, 2, 1: seven calls.
	got, err := store.LoadMany(t.Context(), ids)
	if err != nil {
		t.Fatalf("LoadMany: %v", err)
	}
	if len(got) != 100 || len(hooked.batchGets) != 7 {
		t.Errorf("LoadMany returned %d checkpoints in %d calls; want 100 in 7", len(got), len(hooked.batchGets))
	}
	for _, in := range hooked.batchGets[1:] {
		if !aws.ToBool(in.RequestItems[table].ConsistentRead) {
			t.Error("a retry of unprocessed keys is not strongly consistent")
		}
	}
	if reads, _ := store.Requests(); reads != 7 {
		t.Errorf("Requests() counted %d reads, want 7", reads)
	}

	// Keys that stay unprocessed fail the call after 8 calls, naming them.
	hooked.batchGets = nil
	got, err = store.LoadMany(t.Context(), append(slices.Clone(ids[:10]), stuck...))
	if err == nil || got != nil {
		t.Fatalf("LoadMany with keys that are never processed = %d checkpoints, %v; want an error", len(got), err)
	}
	t.Log(err)
	for _, id := range stuck {
		if !strings.Contains(err.Error(), id) {
			t.Errorf("error %q does not name %s", err, id)
		}
	}
	if strings.Contains(err.Error(), ids[0]) || !strings.Contains(err.Error(), table) {
		t.Errorf("error %q names a service that was read, or not the table", err)
	}
	if len(hooked.batchGets) != 8 {
		t.Errorf("%d BatchGetItem calls, want 8 (the bound)", len(hooked.batchGets))
	}

	// The backoff stops when the context does: the context ends as the
	// first answer (all keys unprocessed) comes back, so the store meets
	// its end at the hour-long backoff, not in a request.
	checkpoint.SetRetry(store, 8, time.Hour, time.Hour)
	hooked.batchGets = nil
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	half := hooked.batchGet
	hooked.batchGet = func(ctx context.Context, in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error) {
		defer cancel()
		return half(ctx, in)
	}
	done := make(chan error, 1)
	go func() {
		_, err := store.LoadMany(ctx, stuck)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || len(hooked.batchGets) != 1 {
			t.Errorf("LoadMany whose context ends before the backoff = %v after %d BatchGetItem calls, want context.Canceled after 1", err, len(hooked.batchGets))
		}
	case <-time.After(barrierTimeout):
		t.Errorf("LoadMany still waits %v after its context ended: the backoff does not stop with the context", barrierTimeout)
	}
}

func testDynamoDBLoadManyFailures(t *testing.T, client *dynamodb.Client) {
	table := checkpointtest.NewTable(t, client)
	hooked := &hookedDynamo{DynamoDBAPI: client}
	store := checkpoint.NewDynamoDB(hooked, table)
	ids := saveServices(t, store, "svc", 150)

	// A malformed item fails the call, naming it.
	if _, err := client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"service_id": &types.AttributeValueMemberS{Value: "svc-bad"},
		"version":    &types.AttributeValueMemberN{Value: "1"},
		"checkpoint": &types.AttributeValueMemberS{Value: `{"service_id":"svc-bad","edge_keys":"#"}`},
	}}); err != nil {
		t.Fatal(err)
	}
	_, err := store.LoadMany(t.Context(), append(slices.Clone(ids), "svc-bad"))
	if err == nil || !strings.Contains(err.Error(), "svc-bad") || !strings.Contains(err.Error(), table) {
		t.Errorf("LoadMany with a malformed item = %v, want an error naming svc-bad and %s", err, table)
	}

	// A failed request fails the call, naming the ids it asked for.
	hooked.batchGet = func(ctx context.Context, in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error) {
		for _, k := range in.RequestItems[table].Keys {
			if k["service_id"].(*types.AttributeValueMemberS).Value == ids[120] {
				return nil, errors.New("injected: connection reset")
			}
		}
		return client.BatchGetItem(ctx, in)
	}
	got, err := store.LoadMany(t.Context(), ids)
	if err == nil || got != nil || !strings.Contains(err.Error(), "injected") ||
		!strings.Contains(err.Error(), ids[100]+", "+ids[101]) || !strings.Contains(err.Error(), "and 30 more") {
		t.Errorf("LoadMany with a failing request = %d checkpoints, %v; want an error naming the chunk's ids from %s, and 30 more", len(got), err, ids[100])
	}
	hooked.batchGet = nil

	missing := checkpoint.NewDynamoDB(client, "no-such-table")
	if _, err := missing.LoadMany(t.Context(), ids[:3]); err == nil || !strings.Contains(err.Error(), "no-such-table") {
		t.Errorf("LoadMany from a missing table = %v, want an error naming it", err)
	}
	if _, err := missing.LoadMany(t.Context(), nil); err != nil {
		t.Errorf("LoadMany of no ids = %v, want no error and no request", err)
	}
}

func testDynamoDBSaveManyConcurrency(t *testing.T, client *dynamodb.Client) {
	hooked := &hookedDynamo{DynamoDBAPI: client}
	store := checkpoint.NewDynamoDB(hooked, checkpointtest.NewTable(t, client))
	const n = 200
	cps := make([]*checkpoint.Checkpoint, n)
	for i := range cps {
		cp := checkpointtest.RealisticSample(fmt.Sprintf("svc-%04d", i), 50, 2)
		cps[i] = &cp
	}
	// 200 services, SaveConcurrency (32) at once: the first puts are held
	// until that many are in flight together; no more may be in flight
	// at any time.
	var errs []error
	throughBarrier(t, hooked, "put", checkpoint.SaveConcurrency, func() { errs = store.SaveMany(t.Context(), cps) })
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if m := hooked.max("put"); m != checkpoint.SaveConcurrency {
		t.Errorf("at most %d PutItem calls were in flight at once; want %d", m, checkpoint.SaveConcurrency)
	}
	for _, in := range hooked.puts {
		if in.ReturnConsumedCapacity != types.ReturnConsumedCapacityTotal || aws.ToString(in.ConditionExpression) != "attribute_not_exists(#id)" {
			t.Fatalf("PutItem: capacity %q, condition %q; want TOTAL and attribute_not_exists(#id)", in.ReturnConsumedCapacity, aws.ToString(in.ConditionExpression))
		}
	}
	_, writes := store.Requests()
	_, units := store.Consumed()
	if writes != n || store.Writes() != n || units != n {
		t.Errorf("Requests() writes %d, Writes() %d, Consumed() write units %v; want %d each (items under 1 KB)", writes, store.Writes(), units, n)
	}
}

func testDynamoDBSaveManyPartialFailure(t *testing.T, client *dynamodb.Client) {
	table := checkpointtest.NewTable(t, client)
	hooked := &hookedDynamo{DynamoDBAPI: client}
	store := checkpoint.NewDynamoDB(hooked, table)
	ids := saveServices(t, store, "svc", 10)
	loaded, err := store.LoadMany(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	failing := map[string]bool{ids[3]: true, ids[7]: true}
	hooked.failPut = func(id string) error {
		if failing[id] {
			return errors.New("injected: connection reset")
		}
		return nil
	}
	batch := make([]*checkpoint.Checkpoint, len(ids))
	for i, id := range ids {
		cp := loaded[id]
		cp.ReadThrough = 1000
		batch[i] = &cp
	}
	batch[5].Version = 9 // and one conflict
	errs := store.SaveMany(t.Context(), batch)
	for i, err := range errs {
		switch {
		case failing[ids[i]]:
			if err == nil || errors.Is(err, checkpoint.ErrConflict) || !strings.Contains(err.Error(), ids[i]) || !strings.Contains(err.Error(), table) {
				t.Errorf("%s: %v, want the injected error naming the service and table", ids[i], err)
			}
			if batch[i].Version != 1 {
				t.Errorf("%s: a failed save changed Version to %d", ids[i], batch[i].Version)
			}
		case i == 5:
			if !errors.Is(err, checkpoint.ErrConflict) {
				t.Errorf("%s: %v, want ErrConflict", ids[i], err)
			}
		case err != nil || batch[i].Version != 2:
			t.Errorf("%s: %v, Version %d; want saved at 2", ids[i], err, batch[i].Version)
		}
	}
	stored, err := store.LoadMany(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		want := int64(1000)
		if failing[id] || i == 5 {
			want = int64(i)
		}
		if stored[id].ReadThrough != want {
			t.Errorf("%s: stored read through %d, want %d", id, stored[id].ReadThrough, want)
		}
	}
	if got := store.Writes(); got != 10+7 {
		t.Errorf("Writes() = %d, want 17", got)
	}
}

func testDynamoDBConsumedSingle(t *testing.T, client *dynamodb.Client) {
	hooked := &hookedDynamo{DynamoDBAPI: client}
	store := checkpoint.NewDynamoDB(hooked, checkpointtest.NewTable(t, client))
	cp := checkpoint.Checkpoint{ServiceID: "svc-a"}
	if err := store.Save(t.Context(), &cp); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.Load(t.Context(), "svc-a"); err != nil {
		t.Fatal(err)
	}
	stale := checkpoint.Checkpoint{ServiceID: "svc-a"}
	if err := store.Save(t.Context(), &stale); !errors.Is(err, checkpoint.ErrConflict) {
		t.Fatal(err)
	}
	r, w := store.Consumed()
	reads, writes := store.Requests()
	if r != 1 || w != 2 || reads != 1 || writes != 2 {
		t.Errorf("Consumed() = %v, %v; Requests() = %d, %d; want 1 read unit, 2 write units (the failed condition is billed), 1 read, 2 writes", r, w, reads, writes)
	}
	if in := hooked.gets[0]; in.ReturnConsumedCapacity != types.ReturnConsumedCapacityTotal {
		t.Errorf("GetItem asks for capacity %q, want TOTAL", in.ReturnConsumedCapacity)
	}
}

// testDynamoDBItemSizeMatchesCapacity writes items whose size, by
// ItemSize, is exactly 1,024 and 1,025 bytes, and checks that dynalite
// bills them one and two write units: ItemSize counts as it does.
func testDynamoDBItemSizeMatchesCapacity(t *testing.T, client *dynamodb.Client) {
	table := checkpointtest.NewTable(t, client)
	for i, version := range []string{"1", "12", "1234", "12345", "100", "1795167600000"} {
		for _, size := range []int{1024, 1025, 2048, 2049} {
			item := map[string]types.AttributeValue{
				"service_id": &types.AttributeValueMemberS{Value: fmt.Sprintf("svc-%d-%d", i, size)},
				"version":    &types.AttributeValueMemberN{Value: version},
				"updated_at": &types.AttributeValueMemberS{Value: "2026-12-01T11:05:42.123Z"},
				"checkpoint": &types.AttributeValueMemberS{},
			}
			pad := size - checkpoint.ItemSize(item)
			item["checkpoint"] = &types.AttributeValueMemberS{Value: strings.Repeat("x", pad)}
			if got := checkpoint.ItemSize(item); got != size {
				t.Fatalf("ItemSize = %d after padding to %d", got, size)
			}
			out, err := client.PutItem(t.Context(), &dynamodb.PutItemInput{
				TableName: aws.String(table), Item: item, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
			})
			if err != nil {
				t.Fatal(err)
			}
			want := float64((size + 1023) / 1024)
			if got := aws.ToFloat64(out.ConsumedCapacity.CapacityUnits); got != want {
				t.Errorf("version %s, ItemSize %d: dynalite billed %v write units, want %v", version, size, got, want)
			}
		}
	}
}

func TestItemSize(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	tests := []struct {
		name string
		item map[string]types.AttributeValue
		want int
	}{
		{"empty", nil, 0},
		{"string", map[string]types.AttributeValue{"ab": s("cde")}, 5},
		{"UTF-8 bytes", map[string]types.AttributeValue{"é": s("日本")}, 2 + 6},
		{"binary", map[string]types.AttributeValue{"b": &types.AttributeValueMemberB{Value: []byte{1, 2, 3}}}, 4},
		{"names and values", map[string]types.AttributeValue{"service_id": s("svc"), "version": n("7")}, 10 + 3 + 7 + 2},
	}
	// Number sizes as dynalite (and DynamoDB: about one byte per two
	// significant digits, plus one) counts them.
	for num, want := range map[string]int{
		"0": 1, "1": 2, "12": 2, "123": 3, "1234": 3, "12345": 4, "100": 2, "-1": 3, "-12": 3, "0.5": 2,
		"10": 2, "1562597251764": 8, "12.34": 3, "0.1234": 3, "1234e1": 4, "0.001": 2, "1E2": 2, "-0.05": 3,
	} {
		tests = append(tests, struct {
			name string
			item map[string]types.AttributeValue
			want int
		}{"number " + num, map[string]types.AttributeValue{"x": n(num)}, 1 + want})
	}
	for _, tt := range tests {
		if got := checkpoint.ItemSize(tt.item); got != tt.want {
			t.Errorf("%s: ItemSize = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// testDynamoDBRealisticItem saves the checkpoint of a service with a UUID
// for an id, a 50-event edge and three notifications sent to two webhooks,
// and checks that its item is at most 1 KB and billed one write unit.
func testDynamoDBRealisticItem(t *testing.T, client *dynamodb.Client) {
	table := checkpointtest.NewTable(t, client)
	store := checkpoint.NewDynamoDB(client, table)
	const id = "2a9a5cd3-8e4e-4a6b-9d0b-1f2e3d4c5b6a"
	cp := checkpointtest.RealisticSample(id, 50, 3)
	for range 2 { // the second put replaces the first: billed by the larger
		if err := store.Save(t.Context(), &cp); err != nil {
			t.Fatal(err)
		}
	}
	out, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"service_id": &types.AttributeValueMemberS{Value: id}},
	})
	if err != nil {
		t.Fatal(err)
	}
	size := checkpoint.ItemSize(out.Item)
	if size > 1024 {
		t.Errorf("the item of a service with a 50-event edge is %d bytes, want ≤ 1,024", size)
	}
	if _, w := store.Consumed(); w != 2 {
		t.Errorf("two saves consumed %v write units, want 2 (one each)", w)
	}
	if want, err := checkpoint.Item(store, cp); err != nil || checkpoint.ItemSize(want) != size {
		t.Errorf("Item() of the checkpoint is %d bytes (%v), the stored item %d", checkpoint.ItemSize(want), err, size)
	}

	// The same checkpoint as the previous release stored it: the edge as
	// an array of 16-digit fingerprints.
	body := out.Item["checkpoint"].(*types.AttributeValueMemberS).Value
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &fields); err != nil {
		t.Fatal(err)
	}
	delete(fields, "edge_keys")
	fps := make([]string, 50)
	for i := range fps {
		fps[i] = fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15)
	}
	fields["edge"], _ = json.Marshal(fps)
	legacy, _ := json.Marshal(fields)
	legacySize := size - len(body) + len(legacy)
	t.Logf("item: %d bytes (checkpoint JSON %d); as the previous release stored it: %d bytes", size, len(body), legacySize)
	if legacySize <= 1024 {
		t.Errorf("the legacy item is %d bytes: this test no longer shows the saving", legacySize)
	}
}

// testDynamoDBLegacyItems stores the previous release's checkpoints as items
// of the same layout and loads them with LoadMany and Load.
func testDynamoDBLegacyItems(t *testing.T, client *dynamodb.Client) {
	raw, err := os.ReadFile(legacyFile)
	if err != nil {
		t.Fatal(err)
	}
	var docs map[string]json.RawMessage
	if err := json.Unmarshal(raw, &docs); err != nil {
		t.Fatal(err)
	}
	var want map[string]checkpoint.Checkpoint
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	table := checkpointtest.NewTable(t, client)
	var ids []string
	for id, doc := range docs {
		var compact strings.Builder
		enc := json.NewEncoder(&compact)
		if err := enc.Encode(doc); err != nil {
			t.Fatal(err)
		}
		if _, err := client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"service_id": &types.AttributeValueMemberS{Value: id},
			"version":    &types.AttributeValueMemberN{Value: strconv.FormatInt(want[id].Version, 10)},
			"checkpoint": &types.AttributeValueMemberS{Value: strings.TrimSpace(compact.String())},
			"updated_at": &types.AttributeValueMemberS{Value: "2026-11-30T10:00:00.000Z"},
		}}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	store := checkpoint.NewDynamoDB(client, table)
	got, err := store.LoadMany(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("LoadMany of legacy items (-decoded from the file +loaded):\n%s", diff)
	}
	if stalled := got["svc-stalled"]; len(stalled.Edge) != 7 || stalled.Edge[6] != checkpoint.EdgeKey("19ab2f52b7a9e37d") {
		t.Errorf("svc-stalled's edge = %v, want the EdgeKeys of its 7 fingerprints", stalled.Edge)
	}
	for _, id := range ids {
		cp := mustLoad(t, store, id)
		if !cp.Equal(got[id]) {
			t.Errorf("%s: Load and LoadMany differ", id)
		}
	}
}
