package checkpoint_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint/checkpointtest"
)

// newDynamo starts dynalite and returns a client for it.
func newDynamo(t *testing.T) *dynamodb.Client {
	t.Helper()
	return checkpointtest.NewDynamoClient(t, checkpointtest.StartDynalite(t))
}

// TestDynamoDB runs every DynamoDB test against one dynalite (starting one
// takes most of a second); each subtest makes its own table.
func TestDynamoDB(t *testing.T) {
	client := newDynamo(t)
	t.Run("contract", func(t *testing.T) {
		checkpointtest.TestStore(t, func(t *testing.T) checkpoint.Store {
			return checkpoint.NewDynamoDB(client, checkpointtest.NewTable(t, client))
		})
	})
	t.Run("item layout", func(t *testing.T) { testDynamoDBItemLayout(t, client) })
	t.Run("writes and requests", func(t *testing.T) { testDynamoDBWritesAndRequests(t, client) })
	t.Run("conflict message", func(t *testing.T) { testDynamoDBConflictMessage(t, client) })
	t.Run("malformed item", func(t *testing.T) { testDynamoDBMalformedItem(t, client) })
	t.Run("item too large", func(t *testing.T) { testDynamoDBItemTooLarge(t, client) })
	t.Run("table missing", func(t *testing.T) { testDynamoDBTableMissing(t, client) })
	t.Run("CreateTable is idempotent", func(t *testing.T) { testCreateTableIsIdempotent(t, client) })
	t.Run("batches", func(t *testing.T) { testDynamoDBBatches(t, client) })
}

func testDynamoDBItemLayout(t *testing.T, client *dynamodb.Client) {
	table := checkpointtest.NewTable(t, client)
	store := checkpoint.NewDynamoDB(client, table)

	before := time.Now().UTC().Truncate(time.Millisecond)
	cp := checkpointtest.Sample("svc-a")
	for range 2 {
		if err := store.Save(t.Context(), &cp); err != nil {
			t.Fatalf("Save: %v", err)
		}
	}
	after := time.Now().UTC()

	out, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"service_id": &types.AttributeValueMemberS{Value: "svc-a"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	item := out.Item
	names := slices.Sorted(maps.Keys(item))
	if diff := cmp.Diff([]string{"checkpoint", "service_id", "updated_at", "version"}, names); diff != "" {
		t.Errorf("item attributes (-want +got):\n%s", diff)
	}
	if id, ok := item["service_id"].(*types.AttributeValueMemberS); !ok || id.Value != "svc-a" {
		t.Errorf("service_id = %#v, want string svc-a", item["service_id"])
	}
	if v, ok := item["version"].(*types.AttributeValueMemberN); !ok || v.Value != "2" {
		t.Errorf("version = %#v, want number 2", item["version"])
	}
	body, ok := item["checkpoint"].(*types.AttributeValueMemberS)
	if !ok {
		t.Fatalf("checkpoint = %#v, want a string of JSON", item["checkpoint"])
	}
	var stored checkpoint.Checkpoint
	if err := json.Unmarshal([]byte(body.Value), &stored); err != nil {
		t.Fatalf("checkpoint attribute is not JSON: %v", err)
	}
	want := checkpointtest.Sample("svc-a")
	want.Version = 2
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("checkpoint attribute (-want +got):\n%s", diff)
	}
	updated, ok := item["updated_at"].(*types.AttributeValueMemberS)
	if !ok {
		t.Fatalf("updated_at = %#v, want a string", item["updated_at"])
	}
	at, err := time.Parse(time.RFC3339, updated.Value)
	if err != nil || !strings.HasSuffix(updated.Value, "Z") || at.Before(before) || at.After(after) {
		t.Errorf("updated_at = %q (%v), want RFC 3339 UTC between %v and %v", updated.Value, err, before, after)
	}
}

// countingDynamo forwards to DynamoDB and counts the calls.
type countingDynamo struct {
	checkpoint.DynamoDBAPI
	gets, puts atomic.Int64
	lastPut    atomic.Pointer[dynamodb.PutItemInput]
}

func (c *countingDynamo) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.gets.Add(1)
	return c.DynamoDBAPI.GetItem(ctx, in, opts...)
}

func (c *countingDynamo) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.puts.Add(1)
	c.lastPut.Store(in)
	return c.DynamoDBAPI.PutItem(ctx, in, opts...)
}

func testDynamoDBWritesAndRequests(t *testing.T, client *dynamodb.Client) {
	counting := &countingDynamo{DynamoDBAPI: client}
	store := checkpoint.NewDynamoDB(counting, checkpointtest.NewTable(t, client))

	cp := checkpoint.Checkpoint{ServiceID: "svc-a"}
	for i := range 3 {
		cp.ReadThrough = int64(i)
		if err := store.Save(t.Context(), &cp); err != nil {
			t.Fatalf("Save: %v", err)
		}
	}
	// The first put may only create the item; later ones need the version read.
	in := counting.lastPut.Load()
	if got := aws.ToString(in.ConditionExpression); got != "#v = :expected" {
		t.Errorf("condition = %q, want #v = :expected", got)
	}
	if v, ok := in.ExpressionAttributeValues[":expected"].(*types.AttributeValueMemberN); !ok || v.Value != "2" {
		t.Errorf(":expected = %#v, want number 2", in.ExpressionAttributeValues[":expected"])
	}

	stale := checkpoint.Checkpoint{ServiceID: "svc-a", Version: 1}
	if err := store.Save(t.Context(), &stale); !errors.Is(err, checkpoint.ErrConflict) {
		t.Fatalf("stale Save = %v, want ErrConflict", err)
	}
	fresh := checkpoint.Checkpoint{ServiceID: "svc-b"}
	if err := store.Save(t.Context(), &fresh); err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(counting.lastPut.Load().ConditionExpression); got != "attribute_not_exists(#id)" {
		t.Errorf("condition of a first save = %q, want attribute_not_exists(#id)", got)
	}
	if _, _, err := store.Load(t.Context(), "svc-a"); err != nil {
		t.Fatal(err)
	}

	if got := store.Writes(); got != 4 {
		t.Errorf("Writes() = %d, want 4 (the conflicting put stored nothing)", got)
	}
	if got := counting.puts.Load(); got != 5 {
		t.Errorf("PutItem calls = %d, want 5: one per Save, no read before writing", got)
	}
	if got := counting.gets.Load(); got != 1 {
		t.Errorf("GetItem calls = %d, want 1: one per Load", got)
	}
}

func testDynamoDBConflictMessage(t *testing.T, client *dynamodb.Client) {
	table := checkpointtest.NewTable(t, client)
	store := checkpoint.NewDynamoDB(client, table)
	a := checkpoint.Checkpoint{ServiceID: "svc-msg"}
	if err := store.Save(t.Context(), &a); err != nil {
		t.Fatal(err)
	}
	if err := store.Save(t.Context(), &a); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		version int64
	}{
		{"stale version", 1},
		{"first write over an existing item", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp := checkpoint.Checkpoint{ServiceID: "svc-msg", Version: tt.version}
			err := store.Save(t.Context(), &cp)
			if !errors.Is(err, checkpoint.ErrConflict) {
				t.Fatalf("Save = %v, want ErrConflict", err)
			}
			t.Log(err)
			for _, want := range []string{"svc-msg", table, fmt.Sprintf("read at version %d", tt.version), "version conflict"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}

func testDynamoDBMalformedItem(t *testing.T, client *dynamodb.Client) {
	table := checkpointtest.NewTable(t, client)
	store := checkpoint.NewDynamoDB(client, table)
	tests := []struct {
		name string
		item map[string]types.AttributeValue
	}{
		{"checkpoint not JSON", map[string]types.AttributeValue{
			"version":    &types.AttributeValueMemberN{Value: "1"},
			"checkpoint": &types.AttributeValueMemberS{Value: "{not json"},
		}},
		{"checkpoint missing", map[string]types.AttributeValue{
			"version": &types.AttributeValueMemberN{Value: "1"},
		}},
		{"version missing", map[string]types.AttributeValue{
			"checkpoint": &types.AttributeValueMemberS{Value: `{"service_id":"svc"}`},
		}},
		{"version not a number", map[string]types.AttributeValue{
			"version":    &types.AttributeValueMemberS{Value: "1"},
			"checkpoint": &types.AttributeValueMemberS{Value: `{"service_id":"svc"}`},
		}},
		{"another service's checkpoint", map[string]types.AttributeValue{
			"version":    &types.AttributeValueMemberN{Value: "1"},
			"checkpoint": &types.AttributeValueMemberS{Value: `{"service_id":"svc-other"}`},
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("svc-bad-%d", i)
			tt.item["service_id"] = &types.AttributeValueMemberS{Value: id}
			if _, err := client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: tt.item}); err != nil {
				t.Fatal(err)
			}
			_, _, err := store.Load(t.Context(), id)
			if err == nil || !strings.Contains(err.Error(), id) || !strings.Contains(err.Error(), table) {
				t.Errorf("Load of a malformed item = %v, want an error naming %s and %s", err, id, table)
			}
		})
	}
}

func testDynamoDBItemTooLarge(t *testing.T, client *dynamodb.Client) {
	store := checkpoint.NewDynamoDB(client, checkpointtest.NewTable(t, client))
	cp := checkpoint.Checkpoint{ServiceID: "svc-big", Sent: map[string]checkpoint.Sent{}}
	for i := range 8000 {
		cp.Sent[fmt.Sprintf("deployment.failed/%020d", i)] = checkpoint.Sent{At: int64(i), Destinations: []string{"slack"}}
	}
	err := store.Save(t.Context(), &cp)
	if err == nil || !strings.Contains(err.Error(), "svc-big") || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("Save of an oversized checkpoint = %v, want an error naming the service and the limit", err)
	}
	if store.Writes() != 0 || cp.Version != 0 {
		t.Errorf("after the failed Save: Writes() = %d, Version = %d; want 0, 0", store.Writes(), cp.Version)
	}
}

func testDynamoDBTableMissing(t *testing.T, client *dynamodb.Client) {
	store := checkpoint.NewDynamoDB(client, "no-such-table")
	if _, _, err := store.Load(t.Context(), "svc-a"); err == nil || !strings.Contains(err.Error(), "no-such-table") {
		t.Errorf("Load from a missing table = %v, want an error naming the table", err)
	}
	cp := checkpoint.Checkpoint{ServiceID: "svc-a"}
	if err := store.Save(t.Context(), &cp); err == nil || errors.Is(err, checkpoint.ErrConflict) || !strings.Contains(err.Error(), "no-such-table") {
		t.Errorf("Save to a missing table = %v, want an error naming the table, not a conflict", err)
	}
}

func testCreateTableIsIdempotent(t *testing.T, client *dynamodb.Client) {
	table := checkpointtest.NewTable(t, client)
	if err := checkpoint.CreateTable(t.Context(), client, table); err != nil {
		t.Fatalf("CreateTable on an existing table: %v", err)
	}
	out, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Table.BillingModeSummary; got == nil || got.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing mode = %#v, want PAY_PER_REQUEST", got)
	}
	if ks := out.Table.KeySchema; len(ks) != 1 || aws.ToString(ks[0].AttributeName) != "service_id" || ks[0].KeyType != types.KeyTypeHash {
		t.Errorf("key schema = %#v, want service_id HASH", ks)
	}
}

// conflictingDynamo fails every put as DynamoDB does when the condition
// fails and the old item is returned.
type conflictingDynamo struct {
	checkpoint.DynamoDBAPI
	old map[string]types.AttributeValue
}

func (c conflictingDynamo) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed"), Item: c.old}
}

func TestDynamoDBConflictNamesStoredVersion(t *testing.T) {
	store := checkpoint.NewDynamoDB(conflictingDynamo{old: map[string]types.AttributeValue{
		"version": &types.AttributeValueMemberN{Value: "5"},
	}}, "checkpoints")
	cp := checkpoint.Checkpoint{ServiceID: "svc-a", Version: 3}
	err := store.Save(t.Context(), &cp)
	if !errors.Is(err, checkpoint.ErrConflict) {
		t.Fatalf("Save = %v, want ErrConflict", err)
	}
	const want = "save checkpoint of service svc-a to table checkpoints: read at version 3, but version 5 is stored"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %q, want it to start %q", err, want)
	}
	if cp.Version != 3 || store.Writes() != 0 {
		t.Errorf("after a conflict: Version %d, Writes() %d; want 3, 0", cp.Version, store.Writes())
	}
}
