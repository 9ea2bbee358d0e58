// Package e2e holds the end-to-end tests: the real Lambda bootstraps under
// the Lambda Runtime Interface Emulator, with DynamoDB (dynalite), a fake
// ModelArts, a Slack stand-in and a verifying webhook receiver. `make test`
// installs the emulator and dynalite into .tools/ first.
package e2e
