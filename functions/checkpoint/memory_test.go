package checkpoint_test

import (
	"testing"

	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint"
	"github.com/modelarts-notifier/modelarts-notifier/functions/checkpoint/checkpointtest"
)

func TestMemory(t *testing.T) {
	checkpointtest.TestStore(t, func(*testing.T) checkpoint.Store { return checkpoint.NewMemory() })
}
