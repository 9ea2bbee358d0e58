package schema

import _ "embed"

// WebhookV1 is the JSON Schema (draft 2020-12) of the webhook body, v1.
//
//go:embed webhook-v1.json
var WebhookV1 []byte
