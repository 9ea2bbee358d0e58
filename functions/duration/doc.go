// Package duration reads and writes durations the way users write them:
// Go durations ("90m", "1h30m") with days too ("7d", "1d12h"), and prints
// them back the same way ("7d", not "168h0m0s"). Every duration variable
// and flag of the functions goes through it.
package duration
