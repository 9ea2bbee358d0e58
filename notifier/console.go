package notifier

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// DefaultConsoleURL is the CONSOLE_URL used when none is set: the
// ModelArts console of the region (console-intl for regions outside the
// Chinese mainland, whose names do not start with "cn-").
const DefaultConsoleURL = "https://console.huaweicloud.com/modelarts/?region={region}"

// defaultConsoleURLIntl is DefaultConsoleURL outside cn- regions.
const defaultConsoleURLIntl = "https://console-intl.huaweicloud.com/modelarts/?region={region}"

// ConsoleValues fill a CONSOLE_URL template's placeholders.
type ConsoleValues struct {
	Region, ProjectID, ServiceID, ServiceName, Generation string
}

// ConsoleTemplate is a parsed CONSOLE_URL: a URL with the placeholders
// {region}, {project_id}, {service_id}, {service_name} and {generation},
// each replaced by its value query-escaped.
type ConsoleTemplate struct{ raw string }

var placeholderRE = regexp.MustCompile(`\{[^{}]*\}`)

var placeholders = []string{"{region}", "{project_id}", "{service_id}", "{service_name}", "{generation}"}

// ParseConsoleTemplate checks a CONSOLE_URL template: only the known
// placeholders, and, filled with sample values, an absolute https URL
// (http on loopback) that is safe to put in a chat link. Empty is the
// default for region.
func ParseConsoleTemplate(raw, region string) (ConsoleTemplate, error) {
	if strings.TrimSpace(raw) == "" {
		if strings.HasPrefix(region, "cn-") {
			return ConsoleTemplate{DefaultConsoleURL}, nil
		}
		return ConsoleTemplate{defaultConsoleURLIntl}, nil
	}
	for _, p := range placeholderRE.FindAllString(raw, -1) {
		if !isPlaceholder(p) {
			return ConsoleTemplate{}, fmt.Errorf("unknown placeholder %s (use %s)", p, strings.Join(placeholders, ", "))
		}
	}
	t := ConsoleTemplate{strings.TrimSpace(raw)}
	sample := t.URL(ConsoleValues{Region: "cn-north-4", ProjectID: "0123456789abcdef0123456789abcdef",
		ServiceID: "5f1c2a8e-0d4b-4c61-9a57-3e8f2b6d7c90", ServiceName: "bert-ner", Generation: "v2"})
	u, err := url.Parse(sample)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return ConsoleTemplate{}, fmt.Errorf("not an absolute URL")
	}
	if _, _, err := checkURL("CONSOLE_URL", sample); err != nil {
		return ConsoleTemplate{}, fmt.Errorf("must be https (http only on loopback)")
	}
	if !safeLinkURL(sample) {
		return ConsoleTemplate{}, fmt.Errorf("holds characters a chat link cannot carry")
	}
	return t, nil
}

func isPlaceholder(p string) bool {
	for _, q := range placeholders {
		if p == q {
			return true
		}
	}
	return false
}

// URL is the template filled with v (each value query-escaped); "" for
// the zero template.
func (t ConsoleTemplate) URL(v ConsoleValues) string {
	if t.raw == "" {
		return ""
	}
	r := strings.NewReplacer(
		"{region}", url.QueryEscape(v.Region),
		"{project_id}", url.QueryEscape(v.ProjectID),
		"{service_id}", url.QueryEscape(v.ServiceID),
		"{service_name}", url.QueryEscape(v.ServiceName),
		"{generation}", url.QueryEscape(v.Generation),
	)
	return r.Replace(t.raw)
}
