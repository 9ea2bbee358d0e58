package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names of a checkpoint item in DynamoDB.
const (
	// AttrServiceID is the partition key (string): the ModelArts service id.
	AttrServiceID = "service_id"
	// AttrVersion (number) is the checkpoint's version, the one Save's
	// condition compares.
	AttrVersion = "version"
	// AttrCheckpoint (string) is the checkpoint as JSON, exactly as File
	// stores it. A JSON string, not a DynamoDB map, keeps the item's schema
	// fixed while the checkpoint evolves, and avoids DynamoDB's rules for
	// empty sets and maps.
	AttrCheckpoint = "checkpoint"
	// AttrUpdatedAt (string) is when the item was written, RFC 3339 UTC
	// with milliseconds; for people reading the table.
	AttrUpdatedAt = "updated_at"
)

// maxItemBytes is DynamoDB's item size limit (400 KB: attribute names and
// values).
const maxItemBytes = 400 * 1024

// DynamoDBAPI is the part of the DynamoDB client the store uses;
// *dynamodb.Client satisfies it.
type DynamoDBAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

var _ DynamoDBAPI = (*dynamodb.Client)(nil)

// DynamoDB is a Store keeping one item per service in a DynamoDB table whose
// partition key is the string AttrServiceID. The item holds AttrVersion,
// AttrCheckpoint and AttrUpdatedAt.
//
// Reads are strongly consistent. Writes are conditional: the first save of a
// service requires that no item exists (attribute_not_exists(service_id)),
// later ones that the stored version is the one the writer read
// (version = :expected). A stale writer gets ErrConflict and overwrites
// nothing.
type DynamoDB struct {
	client DynamoDBAPI
	table  string
	now    func() time.Time
	writes atomic.Int64
}

var _ Store = (*DynamoDB)(nil)

// NewDynamoDB returns a store in the given table.
func NewDynamoDB(client DynamoDBAPI, table string) *DynamoDB {
	return &DynamoDB{client: client, table: table, now: time.Now}
}

// Load reads the service's item with a strongly consistent read.
func (d *DynamoDB) Load(ctx context.Context, serviceID string) (Checkpoint, bool, error) {
	out, err := d.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(d.table),
		Key:            map[string]types.AttributeValue{AttrServiceID: &types.AttributeValueMemberS{Value: serviceID}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("load checkpoint of service %s from table %s: %w", serviceID, d.table, err)
	}
	if len(out.Item) == 0 {
		return Checkpoint{}, false, nil
	}
	cp, err := decodeItem(out.Item)
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("load checkpoint of service %s from table %s: malformed item: %w", serviceID, d.table, err)
	}
	if cp.ServiceID != serviceID {
		return Checkpoint{}, false, fmt.Errorf("load checkpoint of service %s from table %s: malformed item: it holds service %q", serviceID, d.table, cp.ServiceID)
	}
	return cp, true, nil
}

// Save writes cp with a conditional put and sets cp.Version to the new
// version.
func (d *DynamoDB) Save(ctx context.Context, cp *Checkpoint) error {
	if err := validate(cp); err != nil {
		return err
	}
	next := cp.Clone()
	next.Version++
	body, err := json.Marshal(next)
	if err != nil {
		return fmt.Errorf("save checkpoint of service %s: encode: %w", cp.ServiceID, err)
	}
	item := map[string]types.AttributeValue{
		AttrServiceID:  &types.AttributeValueMemberS{Value: cp.ServiceID},
		AttrVersion:    &types.AttributeValueMemberN{Value: strconv.FormatInt(next.Version, 10)},
		AttrCheckpoint: &types.AttributeValueMemberS{Value: string(body)},
		AttrUpdatedAt:  &types.AttributeValueMemberS{Value: d.now().UTC().Format("2006-01-02T15:04:05.000Z07:00")},
	}
	if size := itemSize(item); size > maxItemBytes {
		return fmt.Errorf("save checkpoint of service %s: item is %d bytes, over DynamoDB's %d-byte limit (prune the checkpoint)",
			cp.ServiceID, size, maxItemBytes)
	}
	in := &dynamodb.PutItemInput{
		TableName:                           aws.String(d.table),
		Item:                                item,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	if cp.Version == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(#id)")
		in.ExpressionAttributeNames = map[string]string{"#id": AttrServiceID}
	} else {
		in.ConditionExpression = aws.String("#v = :expected")
		in.ExpressionAttributeNames = map[string]string{"#v": AttrVersion}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{
			":expected": &types.AttributeValueMemberN{Value: strconv.FormatInt(cp.Version, 10)},
		}
	}
	if _, err := d.client.PutItem(ctx, in); err != nil {
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			return d.conflict(cp, failed.Item)
		}
		return fmt.Errorf("save checkpoint of service %s to table %s: %w", cp.ServiceID, d.table, err)
	}
	d.writes.Add(1)
	cp.Version = next.Version
	return nil
}

// Writes returns how many times Save wrote an item. (DynamoDB also bills a
// write for a put whose condition failed; those are not counted here.)
func (d *DynamoDB) Writes() int { return int(d.writes.Load()) }

// conflict describes a failed condition, with the stored version when
// DynamoDB returned the old item (ReturnValuesOnConditionCheckFailure;
// DynamoDB does, some emulators do not).
func (d *DynamoDB) conflict(cp *Checkpoint, old map[string]types.AttributeValue) error {
	stored := "the stored version differs"
	switch v, ok := old[AttrVersion].(*types.AttributeValueMemberN); {
	case ok:
		stored = "version " + v.Value + " is stored"
	case cp.Version == 0:
		stored = "an item is already stored"
	}
	return fmt.Errorf("save checkpoint of service %s to table %s: read at version %d, but %s: %w",
		cp.ServiceID, d.table, cp.Version, stored, ErrConflict)
}

// decodeItem turns an item into a checkpoint; the version attribute is
// authoritative.
func decodeItem(item map[string]types.AttributeValue) (Checkpoint, error) {
	body, ok := item[AttrCheckpoint].(*types.AttributeValueMemberS)
	if !ok {
		return Checkpoint{}, fmt.Errorf("attribute %s is missing or not a string", AttrCheckpoint)
	}
	ver, ok := item[AttrVersion].(*types.AttributeValueMemberN)
	if !ok {
		return Checkpoint{}, fmt.Errorf("attribute %s is missing or not a number", AttrVersion)
	}
	v, err := strconv.ParseInt(ver.Value, 10, 64)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("attribute %s: %w", AttrVersion, err)
	}
	var cp Checkpoint
	if err := json.Unmarshal([]byte(body.Value), &cp); err != nil {
		return Checkpoint{}, fmt.Errorf("attribute %s: %w", AttrCheckpoint, err)
	}
	cp.Version = v
	return cp, nil
}

// itemSize is the size DynamoDB counts for an item of string and number
// attributes: names plus values (numbers counted generously as their text).
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			n += len(v.Value) + 1
		}
	}
	return n
}

// TableAPI is the part of the DynamoDB client CreateTable uses;
// *dynamodb.Client satisfies it.
type TableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	dynamodb.DescribeTableAPIClient
}

var _ TableAPI = (*dynamodb.Client)(nil)

// CreateTable creates a checkpoint table (partition key AttrServiceID, a
// string; on-demand billing) and waits, up to a minute, until it is active.
// A table that already exists is not an error. It is meant for tests and
// the local demo: in AWS, template.yaml creates the table.
func CreateTable(ctx context.Context, client TableAPI, table string) error {
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrServiceID), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrServiceID), KeyType: types.KeyTypeHash},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create checkpoint table %s: %w", table, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, time.Minute); err != nil {
		return fmt.Errorf("create checkpoint table %s: wait until active: %w", table, err)
	}
	return nil
}
