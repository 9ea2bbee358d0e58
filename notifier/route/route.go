package route

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // zones load the same in a Lambda without a zone database

	"gopkg.in/yaml.v3"
)

// Variable is the configuration variable the document comes from; every
// error names it.
const Variable = "ROUTES"

// Destination is one configured destination as routing knows it: Key is
// the name deliveries are recorded under (unchanged by naming an entry),
// Name the name the document may use (an entry's NAME, or the key when it
// has none), Kind its kind (slack-webhook, slack-bot, webhook, teams,
// feishu, dingtalk, wecom).
type Destination struct {
	Key, Name, Kind string
}

// Kinds are the destination kinds a document may name.
var Kinds = []string{"slack-webhook", "slack-bot", "webhook", "teams", "feishu", "dingtalk", "wecom"}

// Query is one notification as routing sees it. Empty fields are absent.
type Query struct {
	ServiceName, ServiceID string
	Type                   string // the notification kind, e.g. deployment.failed
	Phase                  string
	Generation             string // v1 or v2
}

// Table is a parsed, validated ROUTES document. The zero Table (no
// document) sends everything everywhere and mutes nothing.
type Table struct {
	routes   []compiledRoute
	def      []string // destination keys
	defSet   bool
	mutes    []compiledMute
	all      []string // every destination key, in configuration order
	channels []string // slack-bot:CHANNEL targets the document names, beyond the configured bot's
}

// Decision is where one notification goes.
type Decision struct {
	// To are the keys of the destinations it goes to, in configuration
	// order (slack-bot:CHANNEL targets last, in the order first named).
	To []string
	// Muted: a mute in force matched; To is then where it would go
	// without the mute (so a caller can tell a notification told to all
	// of them before the mute began from one told to some).
	Muted bool
	// Routed: a route matched (To may still be empty: "to: []" drops).
	Routed bool
}

// Dropped reports whether the notification goes nowhere and is not muted:
// a route sent it to [] (or default is []).
func (d Decision) Dropped() bool { return !d.Muted && len(d.To) == 0 }

// Route decides where q goes at time now.
func (t *Table) Route(q Query, now time.Time) Decision {
	if t == nil {
		return Decision{}
	}
	var to []string
	routed := false
	for _, r := range t.routes {
		if !r.match.fits(q) {
			continue
		}
		routed = true
		to = append(to, r.to...)
		if !r.cont {
			break
		}
	}
	if !routed {
		to = t.all
		if t.defSet {
			to = t.def
		}
	}
	d := Decision{To: t.order(to), Routed: routed}
	for _, m := range t.mutes {
		if m.match.fits(q) && m.inForce(now) {
			d.Muted = true
			break
		}
	}
	return d
}

// order returns keys deduplicated, in configuration order, extra channels
// after.
func (t *Table) order(keys []string) []string {
	var out []string
	for _, k := range t.all {
		if slices.Contains(keys, k) {
			out = append(out, k)
		}
	}
	for _, k := range t.channels {
		if slices.Contains(keys, k) && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// Channels are the slack-bot:CHANNEL targets the document names that are
// not the configured bot's own destination: the caller builds a bot
// destination for each (same token, that channel), keyed as returned.
func (t *Table) Channels() []string {
	if t == nil {
		return nil
	}
	return slices.Clone(t.channels)
}

// Empty reports whether t routes nothing (no document).
func (t *Table) Empty() bool {
	return t == nil || len(t.routes) == 0 && !t.defSet && len(t.mutes) == 0
}

// document is the YAML (or JSON) shape; unknown fields are errors.
type document struct {
	Routes  []routeDoc `yaml:"routes"`
	Default *[]string  `yaml:"default"`
	Mute    []muteDoc  `yaml:"mute"`
}

type matchDoc struct {
	Service    stringList `yaml:"service"`
	Type       stringList `yaml:"type"`
	Phase      stringList `yaml:"phase"`
	Generation stringList `yaml:"generation"`
}

type routeDoc struct {
	Match    matchDoc  `yaml:"match"`
	To       *[]string `yaml:"to"`
	Continue bool      `yaml:"continue"`
}

type muteDoc struct {
	Service    stringList `yaml:"service"`
	Type       stringList `yaml:"type"`
	Phase      stringList `yaml:"phase"`
	Generation stringList `yaml:"generation"`
	From       string     `yaml:"from"`
	Until      string     `yaml:"until"`
	Days       stringList `yaml:"days"`
	Hours      string     `yaml:"hours"`
	Location   string     `yaml:"location"`
}

// stringList is a list of strings that may be written as one string.
type stringList []string

func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		var s string
		if err := n.Decode(&s); err != nil {
			return err
		}
		*l = stringList{s}
		return nil
	}
	var ss []string
	if err := n.Decode(&ss); err != nil {
		return err
	}
	*l = ss
	return nil
}

// Parse parses and validates doc (YAML or JSON) against the configured
// destinations (in configuration order). phases and kinds are the valid
// phase names and notification kinds. An empty document is no Table (nil):
// everything goes everywhere. Every error names ROUTES and where in the
// document it is (route number, field); all errors are reported at once.
func Parse(doc string, dests []Destination, kinds, phases []string) (*Table, error) {
	if strings.TrimSpace(doc) == "" {
		return nil, nil
	}
	var d document
	dec := yaml.NewDecoder(bytes.NewReader([]byte(doc)))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%s: %s", Variable, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	p := parser{dests: dests, kinds: kinds, phases: phases}
	t := &Table{}
	for _, dd := range dests {
		t.all = append(t.all, dd.Key)
	}
	for i, r := range d.Routes {
		where := fmt.Sprintf("route %d", i+1)
		cr := compiledRoute{match: p.match(where+": match", r.Match.Service, r.Match.Type, r.Match.Phase, r.Match.Generation), cont: r.Continue}
		if r.To == nil {
			p.errorf("%s: to: missing (write [] to drop what the route matches)", where)
		} else {
			cr.to = p.targets(where+": to", *r.To, t)
		}
		t.routes = append(t.routes, cr)
	}
	if d.Default != nil {
		t.defSet = true
		t.def = p.targets("default", *d.Default, t)
	}
	for i, m := range d.Mute {
		where := fmt.Sprintf("mute %d", i+1)
		t.mutes = append(t.mutes, p.mute(where, m))
	}
	if len(p.errs) > 0 {
		if len(p.errs) == 1 {
			return nil, fmt.Errorf("%s: %s", Variable, p.errs[0])
		}
		return nil, fmt.Errorf("%s: %d problems:\n  %s", Variable, len(p.errs), strings.Join(p.errs, "\n  "))
	}
	return t, nil
}

type parser struct {
	dests         []Destination
	kinds, phases []string
	errs          []string
}

func (p *parser) errorf(format string, args ...any) {
	p.errs = append(p.errs, fmt.Sprintf(format, args...))
}

// targets resolves the names of a to or default list to destination keys.
func (p *parser) targets(where string, names []string, t *Table) []string {
	out := []string{}
	for _, name := range names {
		name = strings.TrimSpace(name)
		switch {
		case name == "all":
			out = append(out, t.all...)
			continue
		case slices.Contains(Kinds, name):
			found := false
			for _, d := range p.dests {
				if d.Kind == name {
					out = append(out, d.Key)
					found = true
				}
			}
			if !found {
				p.errorf("%s: %q: no %s destination is configured", where, name, name)
			}
			continue
		}
		if ch, ok := strings.CutPrefix(name, "slack-bot:"); ok {
			if !slices.ContainsFunc(p.dests, func(d Destination) bool { return d.Kind == "slack-bot" }) {
				p.errorf("%s: %q: no Slack bot is configured (SLACK_BOT_TOKEN)", where, name)
				continue
			}
			if !validChannel(ch) {
				p.errorf("%s: %q: not a channel (an id like C0123ABCD, or #name)", where, name)
				continue
			}
			if i := slices.IndexFunc(p.dests, func(d Destination) bool { return d.Key == name }); i >= 0 {
				out = append(out, p.dests[i].Key)
				continue
			}
			if !slices.Contains(t.channels, name) {
				t.channels = append(t.channels, name)
			}
			out = append(out, name)
			continue
		}
		i := slices.IndexFunc(p.dests, func(d Destination) bool { return d.Name == name || d.Key == name })
		if i < 0 {
			p.errorf("%s: unknown destination %q (known: %s)", where, name, p.known())
			continue
		}
		out = append(out, p.dests[i].Key)
	}
	return out
}

func (p *parser) known() string {
	var names []string
	for _, d := range p.dests {
		names = append(names, d.Name)
	}
	seen := map[string]bool{}
	for _, d := range p.dests {
		if !seen[d.Kind] {
			seen[d.Kind] = true
			names = append(names, d.Kind)
		}
	}
	return strings.Join(append(names, "all"), ", ")
}

var channelRE = regexp.MustCompile(`^(?:[CGD][A-Z0-9]{2,}|#[a-z0-9][a-z0-9._-]{0,79})$`)

func validChannel(ch string) bool { return channelRE.MatchString(ch) }

func (p *parser) match(where string, service, typ, phase, gen []string) matcher {
	var m matcher
	for _, g := range service {
		re, err := compileGlob(g)
		if err != nil {
			p.errorf("%s: service: %v", where, err)
			continue
		}
		m.service = append(m.service, re)
	}
	m.filterService = service != nil
	for _, k := range typ {
		if !slices.Contains(p.kinds, k) {
			p.errorf("%s: type: unknown notification type %q (one of %s)", where, k, strings.Join(p.kinds, ", "))
		}
	}
	m.types = typ
	for _, ph := range phase {
		if !slices.Contains(p.phases, ph) {
			p.errorf("%s: phase: unknown phase %q (one of %s)", where, ph, strings.Join(p.phases, ", "))
		}
	}
	m.phases = phase
	for _, g := range gen {
		if g != "v1" && g != "v2" {
			p.errorf("%s: generation: %q is not v1 or v2", where, g)
		}
	}
	m.gens = gen
	return m
}

// compileGlob compiles a glob of * (any run of characters) and ? (one
// character); every other character is literal.
func compileGlob(g string) (*regexp.Regexp, error) {
	if g == "" {
		return nil, errors.New("an empty glob matches nothing")
	}
	var b strings.Builder
	b.WriteString(`^`)
	for _, r := range g {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	return regexp.Compile(b.String())
}

type matcher struct {
	filterService bool
	service       []*regexp.Regexp
	types         []string
	phases        []string
	gens          []string
}

// fits reports whether q fits every field m filters on.
func (m matcher) fits(q Query) bool {
	if m.filterService && !slices.ContainsFunc(m.service, func(re *regexp.Regexp) bool {
		return q.ServiceName != "" && re.MatchString(q.ServiceName) || q.ServiceID != "" && re.MatchString(q.ServiceID)
	}) {
		return false
	}
	return in(m.types, q.Type) && in(m.phases, q.Phase) && in(m.gens, q.Generation)
}

// in reports whether v is one of list, or list filters nothing (nil).
func in(list []string, v string) bool {
	return list == nil || v != "" && slices.Contains(list, v)
}

type compiledRoute struct {
	match matcher
	to    []string
	cont  bool
}
