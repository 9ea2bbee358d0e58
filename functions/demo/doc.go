// Package demo runs the built-in simulated ModelArts that `make run` (the
// poller's -demo) and the report's -demo poll. It is compiled into the two
// functions only with the build tag demo (`make run`, `make run-rie`), so
// the production bootstraps hold neither it nor the fake ModelArts. It is a
// fake ModelArts on loopback with five services: a deployment that
// succeeds, one that fails in scheduling, one whose image pull stalls, a
// running service with a runtime abnormal event, and a new-version (v2)
// service whose scheduling stalls for want of GPUs (its pod events say so).
//
// The scenario's times are anchored once and kept beside the demo's
// checkpoint file, so a second run sees the same events and reports nothing
// new. Deleting the folder starts the demo afresh.
package demo
