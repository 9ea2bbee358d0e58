package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
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
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
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
//
// LoadMany reads with BatchGetItem, 100 keys a call, up to 4 calls at once,
// strongly consistent; keys DynamoDB leaves unprocessed are asked again
// after a bounded, jittered backoff. SaveMany runs Save's conditional
// PutItem for each checkpoint, up to 32 at once (one service's entries in
// batch order). DynamoDB has no conditional batch write, so the items of a
// SaveMany are independent: a failure leaves some saved and some not, and
// each reports its own result.
//
// Every request asks for its consumed capacity (ReturnConsumedCapacity
// TOTAL), and the store adds it up: see Consumed and Requests.
type DynamoDB struct {
	client DynamoDBAPI
	table  string
	now    func() time.Time
	writes atomic.Int64

	// Request counts, and consumed capacity units (mu).
	readRequests, writeRequests atomic.Int64
	mu                          sync.Mutex
	readUnits, writeUnits       float64

	// Batching; fixed by NewDynamoDB, changed by tests.
	loadConcurrency, saveConcurrency int
	retryAttempts                    int           // BatchGetItem calls for one chunk of keys, at most
	retryBase, retryMax              time.Duration // backoff before the 2nd call, and its cap
}

// Batch limits of the DynamoDB store.
const (
	batchGetKeys        = 100 // BatchGetItem's limit
	loadConcurrency     = 4
	saveConcurrency     = 32
	batchGetAttempts    = 8
	batchGetBackoffBase = 25 * time.Millisecond
	batchGetBackoffMax  = time.Second
)

// maxConnections is how many idle connections to DynamoDB the store's
// client keeps (NewHTTPClient): a poll may have loads (loadConcurrency),
// saves of services with nothing to deliver (one per service read at
// once: 16 by default) and SaveMany's (saveConcurrency) in flight
// together. With fewer, each round of requests beyond them opens and
// closes connections (in AWS, each with a TLS handshake).
const maxConnections = 64

// NewHTTPClient is the HTTP client a DynamoDB store's client should use:
// the SDK's default keeps 10 idle connections a host, fewer than the
// store has requests in flight.
func NewHTTPClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = maxConnections
	})
}

var _ Store = (*DynamoDB)(nil)

// NewDynamoDB returns a store in the given table.
func NewDynamoDB(client DynamoDBAPI, table string) *DynamoDB {
	return &DynamoDB{
		client: client, table: table, now: time.Now,
		loadConcurrency: loadConcurrency, saveConcurrency: saveConcurrency,
		retryAttempts: batchGetAttempts, retryBase: batchGetBackoffBase, retryMax: batchGetBackoffMax,
	}
}

// Load reads the service's item with a strongly consistent read.
func (d *DynamoDB) Load(ctx context.Context, serviceID string) (Checkpoint, bool, error) {
	out, err := d.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:              aws.String(d.table),
		Key:                    map[string]types.AttributeValue{AttrServiceID: &types.AttributeValueMemberS{Value: serviceID}},
		ConsistentRead:         aws.Bool(true),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	d.readRequests.Add(1)
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("load checkpoint of service %s from table %s: %w", serviceID, d.table, err)
	}
	d.addUnits(out.ConsumedCapacity, nil)
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
	item := d.item(next.ServiceID, next.Version, body)
	if size := itemSize(item); size > maxItemBytes {
		return fmt.Errorf("save checkpoint of service %s: item is %d bytes, over DynamoDB's %d-byte limit (prune the checkpoint)",
			cp.ServiceID, size, maxItemBytes)
	}
	in := &dynamodb.PutItemInput{
		TableName:                           aws.String(d.table),
		Item:                                item,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              types.ReturnConsumedCapacityTotal,
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
	out, err := d.client.PutItem(ctx, in)
	d.writeRequests.Add(1)
	if err != nil {
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			// DynamoDB bills a failed condition as a write of the stored
			// item (at least one unit), but does not say so in the error.
			d.addWriteUnits(writeUnits(itemSize(failed.Item)))
			return d.conflict(cp, failed.Item)
		}
		return fmt.Errorf("save checkpoint of service %s to table %s: %w", cp.ServiceID, d.table, err)
	}
	d.addUnits(nil, out.ConsumedCapacity)
	d.writes.Add(1)
	cp.Version = next.Version
	return nil
}

// Writes returns how many times Save and SaveMany wrote an item. (DynamoDB
// also bills a write for a put whose condition failed; those are not
// counted here, but are in Consumed.)
func (d *DynamoDB) Writes() int { return int(d.writes.Load()) }

// Consumed returns the capacity units the store's requests consumed so far,
// as DynamoDB reported them (ReturnConsumedCapacity TOTAL): read units of
// GetItem and BatchGetItem, write units of PutItem. A put whose condition
// failed is counted as DynamoDB bills it (the stored item's size, at least
// one unit), since the error does not report it.
func (d *DynamoDB) Consumed() (readUnits, writeUnits float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.readUnits, d.writeUnits
}

// Requests returns how many requests the store made so far: reads
// (GetItem and BatchGetItem calls, retries included) and writes (PutItem
// calls, failed ones included).
func (d *DynamoDB) Requests() (reads, writes int) {
	return int(d.readRequests.Load()), int(d.writeRequests.Load())
}

// addUnits adds the capacity one response reported.
func (d *DynamoDB) addUnits(read, write *types.ConsumedCapacity) {
	r, w := capacityUnits(read), capacityUnits(write)
	d.mu.Lock()
	d.readUnits += r
	d.writeUnits += w
	d.mu.Unlock()
}

func (d *DynamoDB) addWriteUnits(w float64) {
	d.mu.Lock()
	d.writeUnits += w
	d.mu.Unlock()
}

// capacityUnits is the total of a ConsumedCapacity; 0 for none.
func capacityUnits(c *types.ConsumedCapacity) float64 {
	switch {
	case c == nil:
		return 0
	case c.CapacityUnits != nil:
		return *c.CapacityUnits
	default:
		return aws.ToFloat64(c.ReadCapacityUnits) + aws.ToFloat64(c.WriteCapacityUnits)
	}
}

// writeUnits is what DynamoDB bills to write an item of size bytes: one
// unit per KB or part of it, at least one.
func writeUnits(size int) float64 {
	return float64(max(1, (size+1023)/1024))
}

// item is the item a checkpoint of the given id and (new) version is
// stored as; body is its JSON.
func (d *DynamoDB) item(serviceID string, version int64, body []byte) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrServiceID:  &types.AttributeValueMemberS{Value: serviceID},
		AttrVersion:    &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)},
		AttrCheckpoint: &types.AttributeValueMemberS{Value: string(body)},
		AttrUpdatedAt:  &types.AttributeValueMemberS{Value: d.now().UTC().Format("2006-01-02T15:04:05.000Z07:00")},
	}
}

// LoadMany reads the services' items with strongly consistent
// BatchGetItem calls of up to 100 keys, up to 4 at once, asking again
// (with backoff) for the keys DynamoDB leaves unprocessed. A chunk that
// fails, or still has unprocessed keys after 8 calls, fails the whole call
// (the other chunks are abandoned) with an error naming those services (the
// first 20, and how many more).
func (d *DynamoDB) LoadMany(ctx context.Context, serviceIDs []string) (map[string]Checkpoint, error) {
	if err := checkLoadMany(ctx, serviceIDs); err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(serviceIDs))
	ids := make([]string, 0, len(serviceIDs))
	for _, id := range serviceIDs {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	out := make(map[string]Checkpoint, len(ids))
	// The first failure fails the call: the other chunks are abandoned.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, max(1, d.loadConcurrency))
	for chunk := range slices.Chunk(ids, batchGetKeys) {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			got, err := d.batchGet(ctx, chunk)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case firstErr != nil:
			case err != nil:
				firstErr = err
				cancel()
			default:
				maps.Copy(out, got)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// batchGet reads up to 100 distinct services' items.
func (d *DynamoDB) batchGet(ctx context.Context, ids []string) (map[string]Checkpoint, error) {
	want := make(map[string]bool, len(ids))
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		want[id] = true
		keys[i] = map[string]types.AttributeValue{AttrServiceID: &types.AttributeValueMemberS{Value: id}}
	}
	got := make(map[string]Checkpoint, len(ids))
	for attempt := 1; ; attempt++ {
		out, err := d.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
			RequestItems: map[string]types.KeysAndAttributes{
				d.table: {Keys: keys, ConsistentRead: aws.Bool(true)},
			},
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		})
		d.readRequests.Add(1)
		if err != nil {
			return nil, fmt.Errorf("load checkpoints of services %s from table %s: %w", keyNames(keys), d.table, err)
		}
		for i := range out.ConsumedCapacity {
			d.addUnits(&out.ConsumedCapacity[i], nil)
		}
		for _, item := range out.Responses[d.table] {
			id, _ := item[AttrServiceID].(*types.AttributeValueMemberS)
			if id == nil || !want[id.Value] {
				return nil, fmt.Errorf("load checkpoints from table %s: BatchGetItem returned an item that was not asked for (%v)", d.table, item[AttrServiceID])
			}
			cp, err := decodeItem(item)
			if err != nil {
				return nil, fmt.Errorf("load checkpoint of service %s from table %s: malformed item: %w", id.Value, d.table, err)
			}
			if cp.ServiceID != id.Value {
				return nil, fmt.Errorf("load checkpoint of service %s from table %s: malformed item: it holds service %q", id.Value, d.table, cp.ServiceID)
			}
			got[id.Value] = cp
		}
		keys = out.UnprocessedKeys[d.table].Keys
		if len(keys) == 0 {
			return got, nil
		}
		if attempt >= d.retryAttempts {
			return nil, fmt.Errorf("load checkpoints of services %s from table %s: still unprocessed after %d BatchGetItem calls (throttled?)",
				keyNames(keys), d.table, attempt)
		}
		if err := sleep(ctx, backoff(d.retryBase, d.retryMax, attempt)); err != nil {
			return nil, fmt.Errorf("load checkpoints of services %s from table %s: %w", keyNames(keys), d.table, err)
		}
	}
}

// backoff is the wait after the attempt-th call: full jitter over an
// exponentially growing cap, from base up to limit.
func backoff(base, limit time.Duration, attempt int) time.Duration {
	ceiling := limit
	if attempt < 30 {
		ceiling = min(limit, base<<(attempt-1))
	}
	if ceiling <= 0 {
		return 0
	}
	return ceiling/2 + rand.N(ceiling/2+1)
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// keyNames lists the service ids of keys for an error message: the first
// 20, and how many more.
func keyNames(keys []map[string]types.AttributeValue) string {
	const shown = 20
	names := make([]string, 0, min(len(keys), shown))
	for _, k := range keys[:min(len(keys), shown)] {
		if id, ok := k[AttrServiceID].(*types.AttributeValueMemberS); ok {
			names = append(names, id.Value)
		}
	}
	s := strings.Join(names, ", ")
	if len(keys) > shown {
		s += fmt.Sprintf(" and %d more", len(keys)-shown)
	}
	return s
}

// SaveMany saves each checkpoint with Save's conditional PutItem, up to 32
// at once; the entries of one service run one after another, in batch
// order. Items are independent: each error is that item's own, and the
// others are saved regardless.
func (d *DynamoDB) SaveMany(ctx context.Context, cps []*Checkpoint) []error {
	errs, todo := checkSaveMany(ctx, cps)
	// One group per service, in order of first appearance.
	index := make(map[string]int, len(todo))
	var groups [][]int
	for _, i := range todo {
		g, ok := index[cps[i].ServiceID]
		if !ok {
			g = len(groups)
			index[cps[i].ServiceID] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	work := make(chan []int)
	var wg sync.WaitGroup
	for range min(max(1, d.saveConcurrency), len(groups)) {
		wg.Go(func() {
			for g := range work {
				for _, i := range g {
					errs[i] = d.Save(ctx, cps[i])
				}
			}
		})
	}
	for _, g := range groups {
		work <- g
	}
	close(work)
	wg.Wait()
	return errs
}

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

// itemSize is the size DynamoDB bills and limits for an item of string,
// number and binary attributes: each attribute's name (UTF-8 bytes) plus its
// value: a string's UTF-8 bytes, a binary's bytes, a number's numberSize.
// (Other types, which checkpoints do not use, count as their name only.)
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberB:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			n += numberSize(v.Value)
		}
	}
	return n
}

// numberSize is the size of a DynamoDB number: one byte per two significant
// digits, plus one (DynamoDB's documented approximation), plus a byte when
// the digits do not fall evenly into pairs at the decimal point and one for
// a minus sign, as the service and dynalite count. Text that is not a number
// counts as its length plus one.
func numberSize(s string) int {
	neg := strings.HasPrefix(s, "-")
	mant, exp := strings.TrimLeft(s, "+-"), 0
	if i := strings.IndexAny(mant, "eE"); i >= 0 {
		e, err := strconv.Atoi(mant[i+1:])
		if err != nil {
			return len(s) + 1
		}
		mant, exp = mant[:i], e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return len(s) + 1
	}
	// The decimal exponent of the first significant digit.
	lead := len(digits) - len(strings.TrimLeft(digits, "0"))
	digits = strings.Trim(digits, "0")
	if digits == "" {
		return 1 // zero
	}
	e := len(intPart) - 1 - lead + exp
	n := len(digits)
	size := 1 + (n+1)/2
	if n%2 == 0 && e%2 == 0 {
		size++
	}
	if neg {
		size++
	}
	return size
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

// PerItem implements PerItem: every checkpoint is its own conditional put.
func (d *DynamoDB) PerItem() bool { return true }
