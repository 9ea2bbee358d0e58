// Package notifiertest provides stand-ins for the receivers that package
// notifier delivers to, served over HTTP on loopback like net/http/httptest:
// a webhook receiver that verifies every request with the Standard Webhooks
// reference library, and the part of Slack's Web API the Slack bot calls
// (chat.postMessage, chat.update), which checks each message against Slack's
// limits and for text that would mention people or forge links. Both record
// what they received and can be told to fail the next requests in order
// (Fail). Recorder wraps any notifier.Notifier and records what it reported
// delivered (not parent updates, which are no notifications of their own).
//
// Everything here is safe for concurrent use.
package notifiertest
