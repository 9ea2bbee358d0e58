//go:build !demo

package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/modelarts-notifier/modelarts-notifier/functions/setup"
)

// startDemo: production builds hold no demo (and no fake ModelArts), so
// that it can never run by accident in AWS.
var startDemo = func(context.Context, *slog.Logger) (func(*setup.Poller), func(), error) {
	return nil, nil, errors.New("this build has no demo: build with -tags demo (make run and make run-rie do)")
}
