package notifier

// The table of destination kinds: for each, its environment variables
// (which are secret, which are lists), a line for the docs, its limits and
// its constructor. Configuration, validation, secret loading, -h and the
// README's variable reference can all be derived from Registry; adding a
// destination kind is one file, one row here and one test file.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Var is one environment variable of a destination kind.
type Var struct {
	// Name is the variable, e.g. "FEISHU_WEBHOOK_URLS" (PRODUCT.md's names).
	Name string
	// Desc is one line for -h and the README.
	Desc string
	// Secret: the value never appears in logs or errors, and may come from
	// SECRETS_ARN.
	Secret bool
	// List: a comma-separated list; items are trimmed, empty ones dropped.
	List bool
	// Enables: setting it turns the destination kind on. Other variables
	// only configure it, and are an error when set alone.
	Enables bool
	// Hosts are a URL variable's documented hosts (its platform's own), in
	// lower case. A URL on another https host is accepted with a warning
	// at start-up (see [checkURL]); none: every https host is as good as
	// another (generic webhooks; Teams, whose Workflows hosts vary by
	// region and cloud).
	Hosts []string
}

// Limits are what a destination kind's platform allows; zero means none
// documented (or none applied).
type Limits struct {
	// MessageBytes bounds one message (its body, or its text where the
	// platform bounds that), in bytes.
	MessageBytes int
	// PerSecond and PerMinute bound the messages to one destination.
	PerSecond int
	PerMinute int
	// Note says the rest in a few words, for the docs.
	Note string
}

// DestinationOptions are what every constructor gets besides the
// variables.
type DestinationOptions struct {
	// HTTPClient sends every request; nil means a client with a 15 s
	// timeout. Redirects are never followed.
	HTTPClient *http.Client
	// Version goes into User-Agent headers.
	Version string
	// Logger receives each destination's logs (nil: none).
	Logger *slog.Logger
	// Now and Sleep are the clock; nil means the real one.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Retry bounds the retries of one message.
	Retry RetryPolicy
}

// sendConfig is the SendConfig every destination built from o shares.
func (o DestinationOptions) sendConfig() SendConfig {
	return SendConfig{HTTPClient: o.HTTPClient, Version: o.Version, Now: o.Now, Sleep: o.Sleep, Retry: o.Retry}
}

// DestinationKind is one row of the registry.
type DestinationKind struct {
	// Name names the kind, e.g. "feishu"; its destinations are named
	// after it (see New).
	Name string
	// Desc is one line for the docs.
	Desc string
	// Vars are its variables, the one that enables it first.
	Vars []Var
	// Limits are its platform's limits, as this package keeps them.
	Limits Limits
	// New builds the kind's destinations from the variables' values (env
	// holds any variables; a missing one is unset): none when no enabling
	// variable is set. Destination names are stable and never hold a
	// secret: e.g. "feishu-" and the [ShortHash] of the URL. An error is a
	// *VarError naming the variable at fault, never showing a value.
	New func(env map[string]string, o DestinationOptions) ([]Destination, error)
}

// Configured reports whether env sets any of the kind's enabling
// variables.
func (k DestinationKind) Configured(env map[string]string) bool {
	for _, v := range k.Vars {
		if v.Enables && strings.TrimSpace(env[v.Name]) != "" {
			return true
		}
	}
	return false
}

// VarError is a bad value of one variable. It never holds the value.
type VarError struct {
	Var string // e.g. "DINGTALK_SECRET"
	Msg string // what is wrong, e.g. "set, but DINGTALK_WEBHOOK_URLS is empty"
}

func (e *VarError) Error() string { return e.Var + ": " + e.Msg }

// varError makes err (a constructor's, which names its variable first,
// "NAME: ...") a *VarError for name, prefixed with where (e.g. "URL #2").
func varError(name, where string, err error) error {
	var ve *VarError
	if errors.As(err, &ve) {
		return ve
	}
	msg := err.Error()
	for _, k := range Registry() {
		for _, v := range k.Vars {
			if rest, ok := strings.CutPrefix(msg, v.Name+": "); ok {
				name, msg = v.Name, rest
			}
		}
	}
	if where != "" {
		msg = where + ": " + msg
	}
	return &VarError{Var: name, Msg: msg}
}

// SplitList splits a comma-separated list, trimming spaces and dropping
// empty items.
func SplitList(v string) []string {
	var out []string
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// entryNameRE is the NAME of a NAME=URL entry: lower-case letters, digits
// and "-", starting with a letter.
var entryNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// entry is one item of a URL list: its URL and, when written NAME=URL, its
// name.
type entry struct{ name, url string }

// splitEntry reads "NAME=URL" or "URL". A prefix before "=" that is not a
// valid NAME is part of the URL only when the item starts with a scheme;
// otherwise it is a bad name.
func splitEntry(item string) (entry, error) {
	before, after, ok := strings.Cut(item, "=")
	if !ok || strings.Contains(before, "://") {
		return entry{url: item}, nil
	}
	name := strings.TrimSpace(before)
	if !entryNameRE.MatchString(name) {
		return entry{}, fmt.Errorf("the name before \"=\" must be lower-case letters, digits and \"-\", starting with a letter")
	}
	if isReservedName(name) {
		return entry{}, fmt.Errorf("the name %q is a destination kind or \"all\"", name)
	}
	return entry{name: name, url: strings.TrimSpace(after)}, nil
}

// isReservedName reports whether name is a kind or "all": names ROUTES
// gives another meaning.
func isReservedName(name string) bool {
	if name == "all" {
		return true
	}
	for _, k := range Registry() {
		if k.Name == name {
			return true
		}
	}
	return false
}

// urlList is the entries of a list variable, with repeated URLs and names
// refused (two destinations of one URL would share their checkpoint
// entries). Errors never show a URL or a name's value beyond the entry's
// number.
func urlList(env map[string]string, name string) ([]entry, error) {
	var out []entry
	for i, item := range SplitList(env[name]) {
		e, err := splitEntry(item)
		if err != nil {
			return nil, &VarError{Var: name, Msg: fmt.Sprintf("URL #%d: %v", i+1, err)}
		}
		for j, o := range out {
			if o.url == e.url {
				return nil, &VarError{Var: name, Msg: fmt.Sprintf("URL #%d repeats URL #%d", i+1, j+1)}
			}
			if e.name != "" && o.name == e.name {
				return nil, &VarError{Var: name, Msg: fmt.Sprintf("URL #%d: the name %q is given to URL #%d too", i+1, e.name, j+1)}
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// requires fails when dependent is set but none of its list's URLs.
func requires(env map[string]string, dependent, list string) error {
	if env[dependent] != "" && len(SplitList(env[list])) == 0 {
		return &VarError{Var: dependent, Msg: "set, but " + list + " is empty"}
	}
	return nil
}

// perURL builds one destination per URL of list, named prefix + "-" +
// ShortHash(url). Once every URL is good, the entries on an https host
// other than the variable's documented ones make one warning (see
// [warnElsewhere]).
func perURL(env map[string]string, list, prefix string, o DestinationOptions, build func(url string) (Notifier, error)) ([]Destination, error) {
	entries, err := urlList(env, list)
	if err != nil {
		return nil, err
	}
	var dests []Destination
	var elsewhere []int
	for i, e := range entries {
		n, err := build(e.url)
		if err != nil {
			return nil, varError(list, fmt.Sprintf("URL #%d", i+1), err)
		}
		if _, where, _ := checkURL(list, e.url); where == hostElsewhere {
			elsewhere = append(elsewhere, i+1)
		}
		// The recorded name is the URL's hash, named or not: naming an
		// entry re-sends nothing.
		dests = append(dests, Destination{Name: prefix + "-" + ShortHash(e.url), Label: e.name, Kind: prefix, Notifier: n})
	}
	warnElsewhere(o.Logger, list, len(entries), elsewhere)
	return dests, nil
}

// hostClass is where a URL points, as the URL rule sees it.
type hostClass int

const (
	// hostDocumented: the variable's documented host, or any https host
	// of a variable that documents none.
	hostDocumented hostClass = iota
	// hostLoopback: a local stand-in (http or https on loopback).
	hostLoopback
	// hostElsewhere: an https host other than the documented ones: a
	// private deployment or an egress relay.
	hostElsewhere
)

// checkURL is the one rule every URL variable follows: https on any host,
// http on loopback only (127.0.0.0/8, ::1, localhost); anything else is an
// error naming the variable, never showing the URL. It says where the URL
// points: the variable's documented host ([Var.Hosts]; a platform's path
// checks apply there only, where they catch a pasted wrong URL), loopback,
// or elsewhere (accepted; the registry warns once at start-up).
func checkURL(name, raw string) (*url.URL, hostClass, error) {
	u, err := parseEndpoint(name, raw)
	if err != nil {
		return nil, 0, err
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if isLoopback(host) {
		return u, hostLoopback, nil
	}
	if hosts := documentedHosts(name); len(hosts) > 0 && !slices.Contains(hosts, host) {
		return u, hostElsewhere, nil
	}
	return u, hostDocumented, nil
}

// documentedHosts are the Hosts of the registry's variable name.
func documentedHosts(name string) []string {
	for _, v := range RegistryVars() {
		if v.Name == name {
			return v.Hosts
		}
	}
	return nil
}

// warnElsewhere logs one warning for the variable name when any of its
// entries (1-based, of n) is on an https host other than the documented
// ones. It names the variable and the entries' numbers, never a URL or its
// host: the URL is the credential.
func warnElsewhere(log *slog.Logger, name string, n int, entries []int) {
	if log == nil || len(entries) == 0 {
		return
	}
	which := "its URL is"
	if n > 1 {
		nums := make([]string, len(entries))
		for i, e := range entries {
			nums[i] = "#" + strconv.Itoa(e)
		}
		which = "URL " + strings.Join(nums, ", ") + " is"
		if len(entries) > 1 {
			which = "URLs " + strings.Join(nums, ", ") + " are"
		}
	}
	log.Warn(fmt.Sprintf("%s: %s on a host other than %s (a private deployment or a relay?); accepted",
		name, which, strings.Join(documentedHosts(name), " or ")),
		"variable", name, "urls", entries)
}

// Registry lists every destination kind, in a stable order: Slack (incoming
// webhook, then bot), generic webhooks, Microsoft Teams, Feishu/Lark,
// DingTalk, WeCom. The terminal is no row: it has no variables.
func Registry() []DestinationKind {
	return []DestinationKind{
		{
			Name: "slack-webhook",
			Desc: "Slack incoming webhook: one Block Kit message per notification",
			Vars: []Var{
				{Name: "SLACK_WEBHOOK_URL", Desc: "Slack incoming webhook URL", Secret: true, Enables: true, Hosts: []string{"hooks.slack.com"}},
			},
			Limits: Limits{PerSecond: 1, Note: "50 blocks, 3000 characters a section, 150 a header; a digest beyond 5 at once"},
			New: func(env map[string]string, o DestinationOptions) ([]Destination, error) {
				u := strings.TrimSpace(env["SLACK_WEBHOOK_URL"])
				if u == "" {
					return nil, nil
				}
				n, err := NewSlackWebhook(SlackWebhookConfig{URL: u, SendConfig: o.sendConfig()}, o.Logger)
				if err != nil {
					return nil, varError("SLACK_WEBHOOK_URL", "", err)
				}
				if _, where, _ := checkURL("SLACK_WEBHOOK_URL", u); where == hostElsewhere {
					warnElsewhere(o.Logger, "SLACK_WEBHOOK_URL", 1, []int{1})
				}
				return []Destination{{Name: "slack-webhook", Kind: "slack-webhook", Notifier: n}}, nil
			},
		},
		{
			Name: "slack-bot",
			Desc: "Slack Web API with a bot token: one parent message per deployment, updated in place, details in its thread",
			Vars: []Var{
				{Name: "SLACK_BOT_TOKEN", Desc: "Slack bot token xoxb-... for threads and updates", Secret: true, Enables: true},
				{Name: "SLACK_CHANNEL", Desc: "Slack channel id or name for the bot token"},
				{Name: "SLACK_API_URL", Desc: "Slack Web API base URL (tests; default https://slack.com/api/)", Hosts: []string{"slack.com"}},
			},
			Limits: Limits{PerSecond: 1, Note: "50 blocks, 3000 characters a section, 150 a header; a digest beyond 5 at once"},
			New: func(env map[string]string, o DestinationOptions) ([]Destination, error) {
				token, channel := strings.TrimSpace(env["SLACK_BOT_TOKEN"]), strings.TrimSpace(env["SLACK_CHANNEL"])
				switch {
				case token == "" && channel == "":
					return nil, nil
				case token == "":
					return nil, &VarError{Var: "SLACK_BOT_TOKEN", Msg: "required when SLACK_CHANNEL is set"}
				case channel == "":
					return nil, &VarError{Var: "SLACK_CHANNEL", Msg: "required when SLACK_BOT_TOKEN is set"}
				}
				apiURL := strings.TrimSpace(env["SLACK_API_URL"])
				n, err := NewSlackBot(SlackBotConfig{Token: token, Channel: channel, APIURL: apiURL, SendConfig: o.sendConfig()}, o.Logger)
				if err != nil {
					return nil, varError("SLACK_BOT_TOKEN", "", err)
				}
				if apiURL != "" {
					if _, where, _ := checkURL("SLACK_API_URL", apiURL); where == hostElsewhere {
						warnElsewhere(o.Logger, "SLACK_API_URL", 1, []int{1})
					}
				}
				return []Destination{{Name: "slack-bot:" + channel, Kind: "slack-bot", Notifier: n}}, nil
			},
		},
		{
			Name: "webhook",
			Desc: "generic webhooks: one signed JSON POST (Standard Webhooks) per notification",
			Vars: []Var{
				{Name: "WEBHOOK_URLS", Desc: "comma-separated generic webhook URLs", Secret: true, List: true, Enables: true},
				{Name: "WEBHOOK_SECRET", Desc: "Standard Webhooks signing secret whsec_...", Secret: true},
			},
			Limits: Limits{MessageBytes: MaxWebhookBody, Note: "events left out (and counted) beyond 64 KiB"},
			New: func(env map[string]string, o DestinationOptions) ([]Destination, error) {
				if err := requires(env, "WEBHOOK_SECRET", "WEBHOOK_URLS"); err != nil {
					return nil, err
				}
				return perURL(env, "WEBHOOK_URLS", "webhook", o, func(u string) (Notifier, error) {
					return NewWebhook(WebhookConfig{URL: u, Secret: env["WEBHOOK_SECRET"], SendConfig: o.sendConfig()}, o.Logger)
				})
			},
		},
		{
			Name: "teams",
			Desc: "Microsoft Teams Workflows webhooks: one Adaptive Card per notification",
			Vars: []Var{
				{Name: "TEAMS_WEBHOOK_URLS", Desc: "comma-separated Microsoft Teams Workflows webhook URLs (Adaptive Cards)", Secret: true, List: true, Enables: true},
			},
			Limits: Limits{MessageBytes: MaxTeamsBody, PerSecond: 4, Note: "Teams takes about 28 KB a message; a digest beyond 5 at once"},
			New: func(env map[string]string, o DestinationOptions) ([]Destination, error) {
				return perURL(env, "TEAMS_WEBHOOK_URLS", "teams", o, func(u string) (Notifier, error) {
					return NewTeams(TeamsConfig{URL: u, SendConfig: o.sendConfig()}, o.Logger)
				})
			},
		},
		{
			Name: "feishu",
			Desc: "Feishu/Lark custom bots: one interactive card per notification, signed when the secret is set",
			Vars: []Var{
				{Name: "FEISHU_WEBHOOK_URLS", Desc: "comma-separated Feishu/Lark custom bot webhook URLs (open.feishu.cn or open.larksuite.com)", Secret: true, List: true, Enables: true, Hosts: []string{FeishuHost, LarkHost}},
				{Name: "FEISHU_SECRET", Desc: "Feishu/Lark bots' signing secret (signature verification)", Secret: true},
			},
			Limits: Limits{MessageBytes: MaxFeishuBody, PerSecond: 5, PerMinute: 100, Note: "a digest beyond 5 at once or beyond the rate limit"},
			New: func(env map[string]string, o DestinationOptions) ([]Destination, error) {
				if err := requires(env, "FEISHU_SECRET", "FEISHU_WEBHOOK_URLS"); err != nil {
					return nil, err
				}
				return perURL(env, "FEISHU_WEBHOOK_URLS", "feishu", o, func(u string) (Notifier, error) {
					return NewFeishu(FeishuConfig{URL: u, Secret: env["FEISHU_SECRET"], SendConfig: o.sendConfig()}, o.Logger)
				})
			},
		},
		{
			Name: "dingtalk",
			Desc: "DingTalk custom robots: one markdown message per notification, signed when the secret is set",
			Vars: []Var{
				{Name: "DINGTALK_WEBHOOK_URLS", Desc: "comma-separated DingTalk custom robot webhook URLs (https://oapi.dingtalk.com/robot/send?access_token=...)", Secret: true, List: true, Enables: true, Hosts: []string{DingTalkHost}},
				{Name: "DINGTALK_SECRET", Desc: "DingTalk robots' signing secret SEC... (加签)", Secret: true},
				{Name: "DINGTALK_KEYWORD", Desc: "a keyword of keyword-security DingTalk robots; every message carries it"},
			},
			Limits: Limits{MessageBytes: MaxDingTalkText, PerMinute: 20, Note: "a digest beyond 5 at once or beyond 20 a minute"},
			New: func(env map[string]string, o DestinationOptions) ([]Destination, error) {
				for _, v := range []string{"DINGTALK_SECRET", "DINGTALK_KEYWORD"} {
					if err := requires(env, v, "DINGTALK_WEBHOOK_URLS"); err != nil {
						return nil, err
					}
				}
				return perURL(env, "DINGTALK_WEBHOOK_URLS", "dingtalk", o, func(u string) (Notifier, error) {
					return NewDingTalk(DingTalkConfig{URL: u, Secret: env["DINGTALK_SECRET"], Keyword: env["DINGTALK_KEYWORD"], SendConfig: o.sendConfig()}, o.Logger)
				})
			},
		},
		{
			Name: "wecom",
			Desc: "WeCom group robots: one markdown message per notification",
			Vars: []Var{
				{Name: "WECOM_WEBHOOK_URLS", Desc: "comma-separated WeCom group robot webhook URLs (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...)", Secret: true, List: true, Enables: true, Hosts: []string{WeComHost}},
			},
			Limits: Limits{MessageBytes: MaxWeComContent, PerMinute: 20, Note: "markdown content cut at 4096 bytes; a digest beyond 5 at once or beyond 20 a minute"},
			New: func(env map[string]string, o DestinationOptions) ([]Destination, error) {
				return perURL(env, "WECOM_WEBHOOK_URLS", "wecom", o, func(u string) (Notifier, error) {
					return NewWeCom(WeComConfig{URL: u, SendConfig: o.sendConfig()}, o.Logger)
				})
			},
		},
	}
}

// BuildDestinations builds every configured destination of every kind, in
// Registry order; the first error stops it.
func BuildDestinations(env map[string]string, o DestinationOptions) ([]Destination, error) {
	var all []Destination
	for _, k := range Registry() {
		ds, err := k.New(env, o)
		if err != nil {
			return nil, err
		}
		all = append(all, ds...)
	}
	return all, nil
}

// RegistryVars lists every variable of every kind, in Registry order.
func RegistryVars() []Var {
	var vs []Var
	for _, k := range Registry() {
		vs = append(vs, k.Vars...)
	}
	return vs
}

// ShortHash is the first 8 hex digits of the SHA-256 of s: destination
// names are derived from it (e.g. "feishu-1a2b3c4d"), so that checkpoints
// can tell destinations apart without ever holding their URLs.
func ShortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:4])
}
