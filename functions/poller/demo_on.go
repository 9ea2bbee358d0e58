//go:build demo

package main

import "github.com/modelarts-notifier/modelarts-notifier/functions/demo"

// startDemo is the built-in simulated ModelArts (build tag demo only).
var startDemo = demo.ForPoller
