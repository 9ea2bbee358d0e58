package eventsapi

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeEventsPageFast decodes the common shape of an events page without
// reflection: an object of the page's fields (service_name, total_count,
// service_id, count, events) whose events are objects of event_type,
// event_info and occur_time, each field at most once and spelled exactly
// so, with a usable occur_time. Fields it does not know are skipped (their
// values are checked with json.Valid). Anything else (a null, a value of
// another type, a duplicate or differently-cased field name, invalid JSON,
// a bad or missing occur_time) makes it return false, and
// decodeEventsPageJSON decodes the page (or reports its error) exactly as
// before: what it accepts, it decodes as encoding/json would.
//
// Decoding a 1,000-event page with encoding/json costs about 1 ms of CPU
// and two allocations an event; this takes a fraction of that and one
// allocation an event (the text; the usual event types are shared).
func decodeEventsPageFast(data []byte) (*EventsPage, bool) {
	d := fastDecoder{b: data}
	page := &EventsPage{}
	_, ok := d.object(func(key []byte) (bit uint8, ok bool) {
		switch string(key) { // no allocation
		case "service_name":
			page.ServiceName, ok = d.str()
			return 1, ok
		case "total_count":
			page.TotalCount, ok = d.int()
			return 2, ok
		case "service_id":
			page.ServiceID, ok = d.str()
			return 4, ok
		case "count":
			page.Count, ok = d.int()
			return 8, ok
		case "events":
			page.Events, ok = d.events(page.Count)
			return 16, ok
		}
		return 0, !foldsToAny(key, "service_name", "total_count", "service_id", "count", "events") && d.skip()
	})
	if !ok {
		return nil, false
	}
	d.ws()
	if d.i != len(d.b) {
		return nil, false
	}
	if page.Events == nil {
		page.Events = []Event{}
	}
	return page, true
}

// fastDecoder reads JSON from b at i.
type fastDecoder struct {
	b []byte
	i int
}

func (d *fastDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek is the next byte, 0 at the end.
func (d *fastDecoder) peek() byte {
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// byte skips white space and c.
func (d *fastDecoder) byte(c byte) bool {
	d.ws()
	if d.peek() != c {
		return false
	}
	d.i++
	return true
}

// next skips white space up to ',' or end (not consumed).
func (d *fastDecoder) next(end byte) bool {
	d.ws()
	c := d.peek()
	return c == ',' || c == end
}

// key reads an object key without escapes and the colon after it.
func (d *fastDecoder) key() ([]byte, bool) {
	raw, plain, ok := d.rawString()
	if !ok || !plain || !d.byte(':') {
		return nil, false
	}
	return raw, true
}

// rawString reads a string at i (after white space) and returns its bytes
// between the quotes; plain is false when they hold an escape or a byte
// that is not ASCII.
func (d *fastDecoder) rawString() (raw []byte, plain, ok bool) {
	d.ws()
	if d.peek() != '"' {
		return nil, false, false
	}
	start := d.i + 1
	plain = true
	for i := start; i < len(d.b); i++ {
		switch c := d.b[i]; {
		case c == '"':
			d.i = i + 1
			return d.b[start:i], plain, true
		case c == '\\':
			plain = false
			i++ // the escaped byte: json.Unmarshal checks the escape
		case c < 0x20:
			return nil, false, false
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	return nil, false, false
}

// str reads a string value as encoding/json would.
func (d *fastDecoder) str() (string, bool) {
	start := d.i
	raw, plain, ok := d.rawString()
	if !ok {
		return "", false
	}
	if plain || utf8.Valid(raw) && !containsBackslash(raw) {
		return string(raw), true
	}
	if s, ok := unescape(raw); ok {
		return s, true
	}
	// Invalid UTF-8 (replaced), surrogates, bad escapes: encoding/json
	// decides.
	var s string
	if err := json.Unmarshal(d.b[start:d.i], &s); err != nil {
		return "", false
	}
	return s, true
}

// unescape decodes the escapes of a string's raw bytes that hold valid
// UTF-8, as encoding/json does, except \u escapes of UTF-16 surrogates (a
// pair makes one character, a lone one U+FFFD): those return false.
func unescape(raw []byte) (string, bool) {
	if !utf8.Valid(raw) {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i++; i >= len(raw) {
			return "", false
		}
		switch raw[i] {
		case '"', '\\', '/':
			b.WriteByte(raw[i])
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			if i+4 >= len(raw) {
				return "", false
			}
			var r rune
			for _, h := range raw[i+1 : i+5] {
				switch {
				case '0' <= h && h <= '9':
					h -= '0'
				case 'a' <= h && h <= 'f':
					h -= 'a' - 10
				case 'A' <= h && h <= 'F':
					h -= 'A' - 10
				default:
					return "", false
				}
				r = r<<4 | rune(h)
			}
			if utf16.IsSurrogate(r) {
				return "", false
			}
			b.WriteRune(r)
			i += 4
		default:
			return "", false
		}
	}
	return b.String(), true
}

func containsBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// eventType reads event_type, sharing the usual values.
func (d *fastDecoder) eventType() (string, bool) {
	save := d.i
	raw, plain, ok := d.rawString()
	if ok && plain {
		switch string(raw) {
		case EventTypeNormal:
			return EventTypeNormal, true
		case EventTypeAbnormal:
			return EventTypeAbnormal, true
		}
	}
	d.i = save
	return d.str()
}

// number reads a JSON number and returns its text; integer is true when
// it has no fraction or exponent.
func (d *fastDecoder) number() (raw []byte, integer, ok bool) {
	d.ws()
	b, i := d.b, d.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return nil, false, false
	}
	integer = true
	if i < len(b) && b[i] == '.' {
		integer = false
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false, false
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		integer = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false, false
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	d.i = i
	return b[start:i], integer, true
}

// int reads an integer into an int, as encoding/json would (a fraction, an
// exponent or an overflow is its error: left to it).
func (d *fastDecoder) int() (int, bool) {
	raw, integer, ok := d.number()
	if !ok || !integer {
		return 0, false
	}
	v, err := strconv.ParseInt(string(raw), 10, strconv.IntSize)
	return int(v), err == nil
}

// events reads the events array; hint is the page's count, if read yet.
func (d *fastDecoder) events(hint int) ([]Event, bool) {
	if !d.byte('[') {
		return nil, false
	}
	// count is the server's word only: it sizes the slice, within what
	// the body can hold (an event takes at least 40 bytes).
	evs := make([]Event, 0, max(0, min(hint, (len(d.b)-d.i)/40)))
	d.ws()
	if d.peek() == ']' {
		d.i++
		return evs, true
	}
	for {
		ev, ok := d.event()
		if !ok {
			return nil, false
		}
		evs = append(evs, ev)
		if !d.next(']') {
			return nil, false
		}
		if d.peek() == ']' {
			d.i++
			return evs, true
		}
		d.i++ // ','
	}
}

// event reads one event object; occur_time must be present and usable.
func (d *fastDecoder) event() (Event, bool) {
	var ev Event
	seen, ok := d.object(func(key []byte) (bit uint8, ok bool) {
		switch string(key) { // no allocation
		case "event_type":
			ev.EventType, ok = d.eventType()
			return 1, ok
		case "event_info":
			ev.EventInfo, ok = d.str()
			return 2, ok
		case "occur_time":
			ev.OccurTime, ok = d.occurTime()
			return 4, ok
		}
		return 0, !foldsToAny(key, "event_type", "event_info", "occur_time") && d.skip()
	})
	return ev, ok && seen&4 != 0
}

// object reads an object, each field's value by field, which says which
// bit of seen the key is (0: one passed over); a key seen twice, or any
// failure, is false. It returns the bits seen.
func (d *fastDecoder) object(field func(key []byte) (bit uint8, ok bool)) (seen uint8, ok bool) {
	if !d.byte('{') {
		return 0, false
	}
	d.ws()
	if d.peek() == '}' {
		d.i++
		return 0, true
	}
	for {
		key, ok := d.key()
		if !ok {
			return 0, false
		}
		bit, ok := field(key)
		if !ok || seen&bit != 0 {
			return 0, false
		}
		seen |= bit
		if !d.next('}') {
			return 0, false
		}
		if d.peek() == '}' {
			d.i++
			return seen, true
		}
		d.i++ // ','
		d.ws()
	}
}

// occurTime reads occur_time as millis would: a number or a string without
// escapes, whose text parseMillis accepts.
func (d *fastDecoder) occurTime() (int64, bool) {
	d.ws()
	var raw []byte
	if d.peek() == '"' {
		start := d.i
		_, plain, ok := d.rawString()
		if !ok || !plain {
			return 0, false
		}
		raw = d.b[start:d.i]
	} else {
		var integer, ok bool
		if raw, integer, ok = d.number(); !ok {
			return 0, false
		}
		if integer && len(raw) <= 18 && raw[0] != '-' {
			// What parseMillis makes of it, without a conversion.
			var ms int64
			for _, c := range raw {
				ms = ms*10 + int64(c-'0')
			}
			return ms, true
		}
	}
	ms, reason := parseMillis(raw)
	return ms, reason == ""
}

// skip skips a value of a field the decoder does not know, checking that
// it is valid JSON.
func (d *fastDecoder) skip() bool {
	d.ws()
	start := d.i
	switch d.peek() {
	case '"':
		if _, _, ok := d.rawString(); !ok {
			return false
		}
	case '{', '[':
		depth := 0
	scan:
		for d.i < len(d.b) {
			switch d.b[d.i] {
			case '"':
				if _, _, ok := d.rawString(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					d.i++
					break scan
				}
			}
			d.i++
		}
		if depth != 0 {
			return false
		}
	default:
		for d.i < len(d.b) {
			c := d.b[d.i]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				break
			}
			d.i++
		}
	}
	return d.i > start && json.Valid(d.b[start:d.i])
}

// foldsToAny reports whether key is one of names in another spelling
// (encoding/json matches field names without regard to case): such a page
// is left to encoding/json. Keys that are not ASCII are left to it too.
func foldsToAny(key []byte, names ...string) bool {
	for i := 0; i < len(key); i++ {
		if key[i] >= utf8.RuneSelf {
			return true
		}
	}
	for _, n := range names {
		if strings.EqualFold(string(key), n) {
			return true
		}
	}
	return false
}
