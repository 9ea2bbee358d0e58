// Package checkpointtest helps test code that keeps checkpoints: it starts a
// real DynamoDB API (dynalite, from npm) on loopback, builds clients and
// tables for it, and holds the contract test every checkpoint.Store passes.
package checkpointtest
