package setup

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kelseyhightower/envconfig"

	"github.com/modelarts-notifier/modelarts-notifier/eventsapi"
	"github.com/modelarts-notifier/modelarts-notifier/functions/duration"
	"github.com/modelarts-notifier/modelarts-notifier/functions/timeline"
	"github.com/modelarts-notifier/modelarts-notifier/notifier"
)

// ModelArts is where and how to reach the ModelArts API.
type ModelArts struct {
	Region     string `envconfig:"MODELARTS_REGION" default:"cn-north-4" desc:"Huawei Cloud region, e.g. cn-north-4"`
	Endpoint   string `envconfig:"MODELARTS_ENDPOINT" shown:"https://modelarts.{region}.myhuaweicloud.com" desc:"ModelArts API base URL, both generations (http:// only on loopback)"`
	ProjectID  string `envconfig:"MODELARTS_PROJECT_ID" desc:"project id, 32 hexadecimal characters (required)"`
	ServiceIDs List   `envconfig:"MODELARTS_SERVICE_IDS" desc:"comma-separated service ids (each once); empty = every service in the project"`
	API        string `envconfig:"MODELARTS_API" default:"auto" desc:"API generations watched: auto (v1 and v2, new-version inference), v1 or v2"`
	// Concurrency bounds the services read at once.
	Concurrency int `envconfig:"MODELARTS_CONCURRENCY" default:"16" desc:"services read at once (1-256)"`

	Token Secret `envconfig:"MODELARTS_TOKEN" desc:"a static X-Auth-Token (secret)"`

	IAMEndpoint string `envconfig:"HUAWEICLOUD_IAM_ENDPOINT" shown:"https://iam.{region}.myhuaweicloud.com" desc:"IAM base URL for password auth"`
	DomainName  string `envconfig:"HUAWEICLOUD_DOMAIN_NAME" desc:"IAM password auth: account (domain) name; the project-scoped token is cached, refreshed an hour before expiry and once on a 401"`
	Username    string `envconfig:"HUAWEICLOUD_USERNAME" desc:"IAM password auth: IAM user name"`
	Password    Secret `envconfig:"HUAWEICLOUD_PASSWORD" desc:"IAM password auth: password (secret)"`

	AccessKey     string `envconfig:"HUAWEICLOUD_ACCESS_KEY" desc:"AK/SK auth (SDK-HMAC-SHA256 request signing): access key id"`
	SecretKey     Secret `envconfig:"HUAWEICLOUD_SECRET_KEY" desc:"AK/SK auth: secret access key (secret)"`
	SecurityToken Secret `envconfig:"HUAWEICLOUD_SECURITY_TOKEN" desc:"AK/SK auth: security token of temporary credentials (secret)"`
}

// Notify is where notifications go: the value of every variable of every
// destination kind in [notifier.Registry], as the environment (or
// SECRETS_ARN) sets it. The kinds themselves say what a good value is:
// Validate builds the destinations once to find out.
type Notify struct {
	DestinationVars DestinationVars `ignored:"true"`
	// Routes is the ROUTES document (YAML or JSON): who hears what. It may
	// come from SECRETS_ARN (CloudFormation parameters and Lambda's
	// environment stop at 4 KB).
	Routes string `envconfig:"ROUTES" desc:"who hears what: routes, default and mutes (YAML or JSON; see README); may be kept in the secret"`
	// ConsoleURL is the console link's template (see notifier.ConsoleTemplate).
	ConsoleURL string `envconfig:"CONSOLE_URL" shown:"https://console.huaweicloud.com/modelarts/?region={region} (console-intl outside cn- regions)" desc:"the console link in every notification: a URL template with {region}, {project_id}, {service_id}, {service_name}, {generation}"`
}

// readDestinationVars fills DestinationVars from the environment.
func (n *Notify) readDestinationVars() {
	n.DestinationVars = DestinationVars{}
	for _, v := range notifier.RegistryVars() {
		if s := os.Getenv(v.Name); s != "" {
			n.DestinationVars[v.Name] = s
		}
	}
}

// Common is the configuration both functions share.
type Common struct {
	ModelArts
	Notify
	SecretsARN string `envconfig:"SECRETS_ARN" desc:"AWS Secrets Manager secret: a JSON object holding any of the secret variables; a variable set in the environment wins"`
	LogLevel   string `envconfig:"LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
}

// Poller is the poller function's configuration.
type Poller struct {
	Common
	CheckpointTable  string              `envconfig:"CHECKPOINT_TABLE" desc:"DynamoDB table for checkpoints (endpoint overridable with AWS_ENDPOINT_URL_DYNAMODB); required in Lambda"`
	CheckpointFile   string              `envconfig:"CHECKPOINT_FILE" shown:".modelarts-notifier/checkpoints.json (outside Lambda)" desc:"local checkpoint file, used when CHECKPOINT_TABLE is empty"`
	StallThresholds  timeline.Thresholds `envconfig:"STALL_THRESHOLDS" shown:"image_build=30m,environment=10m,scheduling=15m,image_pull=20m,model_startup=20m" desc:"per-phase stall thresholds (durations such as 30m, 1h30m, 1d); unnamed phases keep their default"`
	FirstRunLookback duration.Value      `envconfig:"FIRST_RUN_LOOKBACK" default:"1h" desc:"how far back a service with no checkpoint is read (e.g. 90m, 1h, 2d; at most 7d)"`
	StallLearning    string              `envconfig:"STALL_LEARNING" default:"on" desc:"on: stall thresholds learned per service and phase from its last 20 successful deployments (max(2 x p90, 3m) with 3 or more); off: STALL_THRESHOLDS alone"`
}

// Learn reports whether STALL_LEARNING is on.
func (c *Poller) Learn() bool { return strings.EqualFold(strings.TrimSpace(c.StallLearning), "on") }

// Report is the report function's configuration.
type Report struct {
	Common
	StallThresholds timeline.Thresholds `envconfig:"STALL_THRESHOLDS" shown:"image_build=30m,environment=10m,scheduling=15m,image_pull=20m,model_startup=20m" desc:"per-phase stall thresholds (as for the poller)"`
}

// MaxFirstRunLookback bounds FIRST_RUN_LOOKBACK: a first poll reports the
// abnormal events of its window, and a longer one would flood.
const MaxFirstRunLookback = 7 * 24 * time.Hour

// DefaultCheckpointFile is the checkpoint file used outside Lambda when
// neither CHECKPOINT_TABLE nor CHECKPOINT_FILE is set.
const DefaultCheckpointFile = ".modelarts-notifier/checkpoints.json"

// ConfigError is a bad configuration value. It names the variable and never
// carries a secret value.
type ConfigError struct {
	Var    string
	Reason string
}

func (e *ConfigError) Error() string { return "configuration: " + e.Var + ": " + e.Reason }

func bad(v, format string, args ...any) error {
	return &ConfigError{Var: v, Reason: fmt.Sprintf(format, args...)}
}

// ConfigErrors is every bad or missing variable of one configuration, in
// the order they were checked, one per variable. Its text lists each on a
// line of its own, naming the variable (and, like ConfigError, never
// quoting a secret).
type ConfigErrors []*ConfigError

func (es ConfigErrors) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "configuration: %d problems:", len(es))
	for _, e := range es {
		b.WriteString("\n  " + e.Var + ": " + e.Reason)
	}
	return b.String()
}

// Unwrap gives errors.As and errors.Is each *ConfigError.
func (es ConfigErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// problems collects what is wrong with a configuration, so that one
// message lists all of it. A variable found bad once is not reported
// again: its later checks would see a value that never parsed.
type problems struct{ list ConfigErrors }

// add records err: a *ConfigError, a ConfigErrors, or (not expected)
// another error, kept as a problem of the environment as a whole.
func (p *problems) add(err error) {
	var ces ConfigErrors
	var ce *ConfigError
	switch {
	case err == nil:
	case errors.As(err, &ces):
		for _, e := range ces {
			p.add(e)
		}
	case errors.As(err, &ce):
		if !p.has(ce.Var) {
			p.list = append(p.list, ce)
		}
	default:
		p.list = append(p.list, &ConfigError{Var: "environment", Reason: err.Error()})
	}
}

// bad records a problem of the variable v.
func (p *problems) bad(v, format string, args ...any) { p.add(bad(v, format, args...)) }

// has reports whether v is already known to be bad.
func (p *problems) has(v string) bool {
	return slices.ContainsFunc(p.list, func(e *ConfigError) bool { return e.Var == v })
}

// err is nil, the one *ConfigError, or ConfigErrors.
func (p *problems) err() error {
	switch len(p.list) {
	case 0:
		return nil
	case 1:
		return p.list[0]
	}
	return p.list
}

// LoadPoller reads and validates the poller's configuration from the
// environment. inLambda makes a durable checkpoint store mandatory.
func LoadPoller(inLambda bool) (*Poller, error) { return LoadPollerWith(inLambda, nil) }

// LoadPollerWith is LoadPoller with override applied (when not nil) to
// what the environment gave, before validation: the demo points the
// configuration at its simulated ModelArts this way, leaving the process
// environment alone.
func LoadPollerWith(inLambda bool, override func(*Poller)) (*Poller, error) {
	var c Poller
	var p problems
	process(&c, &p)
	if override != nil {
		override(&c)
	}
	c.validate(inLambda, &p)
	if err := p.err(); err != nil {
		return nil, err
	}
	return &c, nil
}

// LoadReport reads and validates the report function's configuration.
func LoadReport() (*Report, error) { return LoadReportWith(nil) }

// LoadReportWith is LoadReport with override applied (when not nil) before
// validation, as LoadPollerWith.
func LoadReportWith(override func(*Report)) (*Report, error) {
	var c Report
	var p problems
	process(&c, &p)
	if override != nil {
		override(&c)
	}
	if c.StallThresholds == nil {
		c.StallThresholds = timeline.DefaultThresholds()
	}
	c.Common.validate(&p)
	if err := p.err(); err != nil {
		return nil, err
	}
	return &c, nil
}

// process fills spec (a pointer to a configuration struct) from the
// environment, one variable at a time, so that every value that does not
// parse is a problem naming its variable (and never quoting a secret's
// value), not only the first. A field whose value does not parse is left
// zero.
func process(spec any, p *problems) {
	processFields(reflect.ValueOf(spec).Elem(), p)
	if n, ok := spec.(interface{ readDestinationVars() }); ok {
		n.readDestinationVars()
	}
}

// processFields fills the envconfig fields of the struct v, and of the
// structs it embeds, each through envconfig on a struct of that field
// alone (with its tags: default, required, ...).
func processFields(v reflect.Value, p *problems) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		switch {
		case f.Tag.Get("ignored") == "true" || !f.IsExported():
		case f.Anonymous && f.Type.Kind() == reflect.Struct && f.Tag.Get("envconfig") == "":
			processFields(v.Field(i), p)
		case f.Tag.Get("envconfig") != "":
			one := reflect.New(reflect.StructOf([]reflect.StructField{{Name: f.Name, Type: f.Type, Tag: f.Tag}}))
			if err := envconfig.Process("", one.Interface()); err != nil {
				p.add(envconfigError(err))
				continue
			}
			v.Field(i).Set(one.Elem().Field(0))
		}
	}
}

// envconfigError turns one of envconfig's errors into a ConfigError naming
// the variable.
func envconfigError(err error) error {
	var pe *envconfig.ParseError
	if errors.As(err, &pe) {
		return bad(pe.KeyName, "invalid value: %v", pe.Err)
	}
	// "required key X missing value"
	msg := strings.TrimPrefix(err.Error(), "required key ")
	if name, _, ok := strings.Cut(msg, " "); ok {
		return bad(name, "required, not set")
	}
	return bad("environment", "%v", err)
}

// Validate checks the poller's values: nil, a *ConfigError, or
// ConfigErrors listing every bad or missing variable.
func (c *Poller) Validate(inLambda bool) error {
	var p problems
	c.validate(inLambda, &p)
	return p.err()
}

func (c *Poller) validate(inLambda bool, p *problems) {
	c.Common.validate(p)
	if c.StallThresholds == nil {
		c.StallThresholds = timeline.DefaultThresholds()
	}
	if c.FirstRunLookback <= 0 || c.FirstRunLookback.D() > MaxFirstRunLookback {
		p.bad("FIRST_RUN_LOOKBACK", "must be a positive duration such as 1h, at most %s", duration.Format(MaxFirstRunLookback))
	}
	if v := strings.ToLower(strings.TrimSpace(c.StallLearning)); v != "on" && v != "off" {
		p.bad("STALL_LEARNING", "%q is not on or off", c.StallLearning)
	}
	if c.CheckpointTable != "" && !tableName.MatchString(c.CheckpointTable) {
		p.bad("CHECKPOINT_TABLE", "not a valid DynamoDB table name (3-255 of a-z A-Z 0-9 _ - .)")
	}
	if c.CheckpointTable == "" && c.CheckpointFile == "" {
		if inLambda {
			p.bad("CHECKPOINT_TABLE", "required in Lambda (its file system does not survive between runs)")
		} else {
			c.CheckpointFile = DefaultCheckpointFile
		}
	}
	if inLambda && !c.HasDestination() {
		vars := EnablingVars()
		p.bad(vars[0], "no destination configured: set %s or %s", strings.Join(vars[:len(vars)-1], ", "), vars[len(vars)-1])
	}
}

var (
	regionRE  = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)*-[0-9]+$`)
	tableName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)
	projectID = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
)

// Validate checks the values both functions share: nil, a *ConfigError,
// or ConfigErrors listing every bad or missing variable.
func (c *Common) Validate() error {
	var p problems
	c.validate(&p)
	return p.err()
}

func (c *Common) validate(p *problems) {
	regionOK := regionRE.MatchString(c.Region)
	if !regionOK {
		p.bad("MODELARTS_REGION", "%q is not a region name such as cn-north-4", c.Region)
	}
	if c.Endpoint == "" && regionOK {
		c.Endpoint = eventsapi.DefaultEndpoint(c.Region)
	}
	if c.Endpoint != "" {
		if err := checkURL(c.Endpoint); err != nil {
			p.bad("MODELARTS_ENDPOINT", "%v", err)
		}
	}
	if c.ProjectID == "" {
		p.bad("MODELARTS_PROJECT_ID", "required, not set")
	} else if err := eventsapi.ValidateID(c.ProjectID); err != nil {
		p.bad("MODELARTS_PROJECT_ID", "%v", err)
	} else if !projectID.MatchString(c.ProjectID) {
		p.bad("MODELARTS_PROJECT_ID", "%q is not a project id: 32 hexadecimal characters (the console's My Credentials page lists them per region)", c.ProjectID)
	}
	switch c.API {
	case "auto", "v1", "v2":
	default:
		p.bad("MODELARTS_API", "%q: want auto, v1 or v2", c.API)
	}
	if c.Concurrency < 1 || c.Concurrency > 256 {
		p.bad("MODELARTS_CONCURRENCY", "%d: want a number of services from 1 to 256", c.Concurrency)
	}
	seen := map[string]bool{}
	for _, id := range c.ServiceIDs {
		if err := eventsapi.ValidateID(id); err != nil {
			p.bad("MODELARTS_SERVICE_IDS", "%v", err)
			break
		}
		if seen[id] {
			p.bad("MODELARTS_SERVICE_IDS", "%q is listed twice", id)
			break
		}
		seen[id] = true
	}

	c.validateCredentials(p, regionOK)

	if _, err := notifier.ParseConsoleTemplate(c.ConsoleURL, c.Region); err != nil {
		p.bad("CONSOLE_URL", "%v", err)
	}
	if ds, err := c.buildDestinations(notifier.DestinationOptions{}); err != nil {
		p.add(err)
	} else if _, err := c.routeTable(ds); err != nil {
		p.add(err)
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		p.bad("LOG_LEVEL", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
}

// validateCredentials checks that exactly one kind of ModelArts
// credentials is set, and completely.
func (c *Common) validateCredentials(p *problems, regionOK bool) {
	iam := c.DomainName != "" || c.Username != "" || c.Password != ""
	aksk := c.AccessKey != "" || c.SecretKey != "" || c.SecurityToken != ""
	// The kinds of credentials set, each named by the variables that set it.
	var kinds, firstVars []string
	for _, k := range []struct {
		on   bool
		name string
		vars []string
	}{
		{c.Token != "", "a static token (MODELARTS_TOKEN)", []string{"MODELARTS_TOKEN"}},
		{iam, "IAM password auth (HUAWEICLOUD_DOMAIN_NAME/USERNAME/PASSWORD)", setVars(map[string]bool{
			"HUAWEICLOUD_DOMAIN_NAME": c.DomainName != "", "HUAWEICLOUD_USERNAME": c.Username != "", "HUAWEICLOUD_PASSWORD": c.Password != ""})},
		{aksk, "AK/SK signing (HUAWEICLOUD_ACCESS_KEY/SECRET_KEY)", setVars(map[string]bool{
			"HUAWEICLOUD_ACCESS_KEY": c.AccessKey != "", "HUAWEICLOUD_SECRET_KEY": c.SecretKey != "", "HUAWEICLOUD_SECURITY_TOKEN": c.SecurityToken != ""})},
	} {
		if k.on {
			kinds = append(kinds, k.name)
			firstVars = append(firstVars, k.vars[0])
		}
	}
	switch {
	case len(kinds) == 0:
		p.bad("MODELARTS_TOKEN", "no ModelArts credentials: set MODELARTS_TOKEN, or HUAWEICLOUD_DOMAIN_NAME + HUAWEICLOUD_USERNAME + HUAWEICLOUD_PASSWORD, or HUAWEICLOUD_ACCESS_KEY + HUAWEICLOUD_SECRET_KEY")
	case len(kinds) > 1:
		// Name the variable of the kind found last: the first is the one
		// kept when the others are unset.
		p.bad(firstVars[len(firstVars)-1], "more than one kind of ModelArts credentials is set: %s; set exactly one",
			strings.Join(kinds, " and "))
	case iam:
		for _, v := range []struct {
			name string
			set  bool
		}{
			{"HUAWEICLOUD_DOMAIN_NAME", c.DomainName != ""},
			{"HUAWEICLOUD_USERNAME", c.Username != ""},
			{"HUAWEICLOUD_PASSWORD", c.Password != ""},
		} {
			if !v.set {
				p.bad(v.name, "required with IAM password authentication")
			}
		}
		if c.IAMEndpoint == "" && regionOK {
			c.IAMEndpoint = eventsapi.DefaultIAMEndpoint(c.Region)
		}
		if c.IAMEndpoint != "" {
			if err := checkURL(c.IAMEndpoint); err != nil {
				p.bad("HUAWEICLOUD_IAM_ENDPOINT", "%v", err)
			}
		}
	case aksk:
		if c.AccessKey == "" {
			p.bad("HUAWEICLOUD_ACCESS_KEY", "required with AK/SK authentication")
		}
		if c.SecretKey == "" {
			p.bad("HUAWEICLOUD_SECRET_KEY", "required with AK/SK authentication")
		}
	}
}

// Console is the console link's template, checked at start-up.
func (c *Common) Console() notifier.ConsoleTemplate {
	t, _ := notifier.ParseConsoleTemplate(c.ConsoleURL, c.Region)
	return t
}

// HasDestination reports whether any notification destination is set.
func (c *Common) HasDestination() bool {
	for _, k := range notifier.Registry() {
		if k.Configured(c.DestinationVars) {
			return true
		}
	}
	return false
}

// EnablingVars lists the variables that turn a destination kind on, in
// Registry order: SLACK_WEBHOOK_URL, SLACK_BOT_TOKEN, WEBHOOK_URLS, ...
func EnablingVars() []string {
	var out []string
	for _, v := range notifier.RegistryVars() {
		if v.Enables {
			out = append(out, v.Name)
		}
	}
	return out
}

// checkURL accepts absolute https URLs, and http only on loopback. Its
// errors never quote the URL, which may carry a credential.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if u.Host == "" {
		return errors.New("not an absolute URL with a host")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return nil
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return nil
		}
		return errors.New("http:// is refused except on loopback; use https://")
	default:
		return fmt.Errorf("scheme %q is not https", u.Scheme)
	}
}

// List is a comma-separated list; items are trimmed and empty ones dropped.
type List []string

// Decode implements envconfig.Decoder.
func (l *List) Decode(v string) error {
	*l = splitList(v)
	return nil
}

// splitList splits a comma-separated list, trimming spaces and dropping
// empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// varDoc is one variable as -h and the README show it.
type varDoc struct{ name, def, desc string }

// varDocs lists the variables of a configuration struct, in field order:
// its envconfig fields (the default shown is the tag "default", else the
// tag "shown", for a default the code applies), and, where Notify's
// DestinationVars sits, every variable of notifier.Registry.
func varDocs(t reflect.Type) []varDoc {
	var out []varDoc
	for i := range t.NumField() {
		f := t.Field(i)
		switch {
		case f.Type == reflect.TypeFor[DestinationVars]():
			for _, v := range notifier.RegistryVars() {
				desc := v.Desc
				if v.Secret {
					desc += " (secret)"
				}
				out = append(out, varDoc{name: v.Name, desc: desc})
			}
		case f.Anonymous && f.Type.Kind() == reflect.Struct:
			out = append(out, varDocs(f.Type)...)
		case f.Tag.Get("envconfig") != "":
			def := f.Tag.Get("default")
			if def == "" {
				def = f.Tag.Get("shown")
			}
			out = append(out, varDoc{name: f.Tag.Get("envconfig"), def: def, desc: f.Tag.Get("desc")})
		}
	}
	return out
}

// specDocs is varDocs of spec, a pointer to a configuration struct.
func specDocs(spec any) ([]varDoc, error) {
	t := reflect.TypeOf(spec)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("configuration: %T is not a pointer to a struct", spec)
	}
	return varDocs(t.Elem()), nil
}

// UsageWidth bounds the lines of -h, in terminal columns.
const UsageWidth = 100

// Usage writes every variable of spec with its meaning and default, for
// -h: the name on a line of its own, then the meaning and the default
// indented below it, wrapped within UsageWidth columns.
func Usage(w io.Writer, spec any) error {
	docs, err := specDocs(spec)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, d := range docs {
		b.WriteString("  " + d.name + "\n")
		lines := wrap(d.desc, "      ", UsageWidth)
		if d.def != "" {
			lines = append(lines, wrap("default: "+d.def, "      ", UsageWidth)...)
		}
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// wrap breaks text into lines of at most width columns, each starting with
// indent. Words break at spaces; a word too wide for a line of its own
// breaks after a comma, or else where the line ends.
func wrap(text, indent string, width int) []string {
	avail := max(width-columns(indent), 1)
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		for _, piece := range splitWide(word, avail) {
			switch {
			case line == "":
				line = piece
			case columns(line)+1+columns(piece) <= avail:
				line += " " + piece
			default:
				lines = append(lines, indent+line)
				line = piece
			}
		}
	}
	if line != "" {
		lines = append(lines, indent+line)
	}
	return lines
}

// splitWide cuts word into pieces of at most avail columns: after its
// last comma that fits, or else at the last rune that fits.
func splitWide(word string, avail int) []string {
	var out []string
	for columns(word) > avail {
		comma, fits, w := 0, 0, 0
		for i, r := range word {
			if w += runeColumns(r); w > avail {
				break
			}
			fits = i + utf8.RuneLen(r)
			if r == ',' {
				comma = fits
			}
		}
		cut := cmp.Or(comma, fits)
		if cut == 0 { // a rune wider than the line
			_, cut = utf8.DecodeRuneInString(word)
		}
		out = append(out, word[:cut])
		word = word[cut:]
	}
	return append(out, word)
}

// columns is how many terminal columns s takes: East Asian wide and
// full-width runes take two, control and combining runes none.
func columns(s string) int {
	n := 0
	for _, r := range s {
		n += runeColumns(r)
	}
	return n
}

func runeColumns(r rune) int {
	switch {
	case unicode.IsControl(r) || unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	case r >= 0x1100 && r <= 0x115F, r >= 0x2E80 && r <= 0x303E, r >= 0x3041 && r <= 0x33FF,
		r >= 0x3400 && r <= 0x4DBF, r >= 0x4E00 && r <= 0x9FFF, r >= 0xA000 && r <= 0xA4CF,
		r >= 0xAC00 && r <= 0xD7A3, r >= 0xF900 && r <= 0xFAFF, r >= 0xFE30 && r <= 0xFE4F,
		r >= 0xFF00 && r <= 0xFF60, r >= 0xFFE0 && r <= 0xFFE6, r >= 0x1F300 && r <= 0x1F64F,
		r >= 0x20000 && r <= 0x3FFFD:
		return 2
	}
	return 1
}

// Reference writes the README's reference of variables, generated from
// the configuration structs and the registry of destination kinds: one
// Markdown table row per variable, in struct order, the poller's first,
// then the report function's own.
func Reference(w io.Writer) error {
	seen := map[string]bool{}
	fmt.Fprintln(w, "| variable | meaning | default |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, spec := range []any{&Poller{}, &Report{}} {
		docs, err := specDocs(spec)
		if err != nil {
			return err
		}
		for _, d := range docs {
			if seen[d.name] {
				continue
			}
			seen[d.name] = true
			def := d.def
			if def != "" {
				def = "`" + def + "`"
			}
			fmt.Fprintf(w, "| `%s` | %s | %s |\n", d.name, strings.ReplaceAll(d.desc, "|", "\\|"), def)
		}
	}
	return nil
}

// InLambda reports whether the process runs under a Lambda runtime.
func InLambda() bool { return os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" }

// setVars returns the names whose value is true, sorted.
func setVars(set map[string]bool) []string {
	var out []string
	for name, on := range set {
		if on {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
