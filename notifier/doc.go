// Package notifier formats deployment summaries and project reports and
// delivers them: one send stage (send.go) that every destination uses
// (Slack webhook and bot, Standard Webhooks, Teams, Feishu/Lark, DingTalk,
// WeCom, the terminal), one view of a summary (view.go) that every
// renderer draws, and the registry of destination kinds (registry.go).
//
// It does not know where summaries come from: the watch loop in functions/
// builds them. This package must not import eventsapi or functions.
package notifier
