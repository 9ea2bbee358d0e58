// Package schema holds the versioned JSON Schemas of what modelarts-notifier
// sends, so receivers and tests can validate against the same file.
//
// webhook-v1.json describes the body POSTed to generic webhooks:
//
//	{"type": "<kind>", "timestamp": "<RFC 3339 UTC ms>", "data": <summary>}
//
// Within a version fields may only be added; a change that removes or
// redefines one is published as a new file (webhook-v2.json) alongside.
package schema
