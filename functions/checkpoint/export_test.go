package checkpoint

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// SaveConcurrency is how many puts SaveMany has in flight at most.
const SaveConcurrency = saveConcurrency

// ItemSize exposes itemSize to the tests.
var ItemSize = itemSize

// Item returns the DynamoDB item Save would write for cp at its next
// version.
func Item(d *DynamoDB, cp Checkpoint) (map[string]types.AttributeValue, error) {
	next := cp.Clone()
	next.Version++
	body, err := next.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return d.item(next.ServiceID, next.Version, body), nil
}

// FileIO returns how many times f read and wrote its file.
func FileIO(f *File) (reads, writes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fileReads, f.fileWrites
}

// SetBeforeRename makes f call hook just before each write renames the new
// file into place (a crash there leaves the old file).
func SetBeforeRename(f *File, hook func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.beforeRename = hook
}

// SetRetry changes how d retries unprocessed keys.
func SetRetry(d *DynamoDB, attempts int, base, limit time.Duration) {
	d.retryAttempts, d.retryBase, d.retryMax = attempts, base, limit
}
