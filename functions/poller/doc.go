// Command poller runs one poll of ModelArts service events and delivers the
// notifications that are due. Under AWS Lambda (AWS_LAMBDA_RUNTIME_API set)
// it is the EventBridge schedule's handler; otherwise it polls once and exits
// 0 only if every due notification was delivered. -demo polls the built-in
// simulated ModelArts. -h lists every variable.
package main
