// Package setup turns the environment into working parts: it reads and
// validates the configuration (PRODUCT.md's variable names), fills secrets
// from AWS Secrets Manager, and builds the ModelArts client, the checkpoint
// store, the notification destinations, the logger and the run metrics that
// the two functions share.
package setup
