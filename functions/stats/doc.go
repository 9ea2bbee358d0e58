// Package stats computes the duration statistics the notifier shows and
// learns from: the median, a percentile by nearest rank, and the maximum of
// a set of samples. It is the one place these are computed: the learned
// stall thresholds (functions/timeline) and the project report's phase
// durations (functions/watch) both use it.
package stats
