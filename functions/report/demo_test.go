package main

import "github.com/modelarts-notifier/modelarts-notifier/functions/demo"

// The tests run the demo whatever the build tags: test binaries may hold
// the fake ModelArts, production bootstraps may not.
func init() { startDemo = demo.ForReport }
