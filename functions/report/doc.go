// Command report prints a one-off report: without -service, the project
// report (every watched service at a glance: deployments by outcome, phase
// durations, failures by phase and hint); with -service ID or NAME, the
// summary of every deployment of that service in a time window, with its
// five phases. Under AWS Lambda it answers {"service_id": "...", "since":
// "24h", "notify": false} with the report JSON, and a payload without
// service_id with the project report ({"since": "24h", "notify": true} is
// the daily schedule's: it posts it). -h lists every flag and variable.
package main
