package notifier

// Escaping: ModelArts text is shown, never obeyed. Slack's mrkdwn and the
// chat platforms' markup each get text in which nothing can mention
// anyone or forge a link.

import (
	"net/url"
	"strings"
)

// EscapeSlack escapes text for Slack: it repairs invalid UTF-8, drops
// control characters and escapes &, < and >, so that text from ModelArts
// cannot mention (<!channel>, <!here>, <@U123>) or forge links (<http://x|y>).
func EscapeSlack(s string) string {
	return slackEscaper.Replace(clean(s))
}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// EscapeChat makes ModelArts text inert in the markup of Teams, Feishu,
// DingTalk and WeCom: it repairs invalid UTF-8, drops control characters,
// folds whitespace onto one line, and replaces the characters every
// mention and link syntax of those platforms needs with their full-width
// look-alikes: "<" and ">" (Feishu's <at user_id="all">, WeCom's
// <@userid>, Teams' <at>, HTML), "[" and "]" (markdown links and images)
// and "@" (DingTalk's and WeCom's @mobile, @all, @所有人). A look-alike
// cannot be turned back into markup by any renderer, unlike a backslash or
// an entity, which these platforms do not all document.
func EscapeChat(s string) string { return chatEscaper.Replace(oneLine(s)) }

var chatEscaper = strings.NewReplacer("<", "＜", ">", "＞", "[", "［", "]", "］", "@", "＠")

// safeLinkURL reports whether u may be shown as a link, in any markup
// (Slack's mrkdwn, the chat platforms' markdown and buttons): https, under
// 500 bytes, and free of characters that could end or break out of link
// markup or format it.
func safeLinkURL(u string) bool {
	if !strings.HasPrefix(u, "https://") || len(u) >= 500 || strings.ContainsAny(u, " <>[]()|\"'`\\\n\r\t*~") {
		return false
	}
	p, err := url.Parse(u)
	return err == nil && p.Host != ""
}
