package route

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// compiledMute is one mute: a match, and when it is in force (absolute
// from/until, recurring days/hours in a zone, or always).
type compiledMute struct {
	match       matcher
	from, until time.Time // zero: unbounded
	days        [7]bool   // by time.Weekday; all false: every day
	anyDay      bool
	start, end  int // minutes of the local day; end > start, or end <= start: wraps midnight
	hours       bool
	loc         *time.Location
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

func (p *parser) mute(where string, m muteDoc) compiledMute {
	c := compiledMute{
		match: p.match(where, m.Service, m.Type, m.Phase, m.Generation),
		loc:   time.UTC,
	}
	if m.Location != "" {
		loc, err := time.LoadLocation(m.Location)
		if err != nil || strings.EqualFold(m.Location, "local") {
			p.errorf("%s: location: %q is not an IANA time zone (e.g. Asia/Shanghai)", where, m.Location)
		} else {
			c.loc = loc
		}
	}
	parse := func(field, v string) time.Time {
		if v == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			p.errorf("%s: %s: %q is not an RFC 3339 time (e.g. 2026-12-27T00:00:00+08:00)", where, field, v)
		}
		return t
	}
	c.from, c.until = parse("from", m.From), parse("until", m.Until)
	if !c.from.IsZero() && !c.until.IsZero() && !c.until.After(c.from) {
		p.errorf("%s: until: %s is not after from %s", where, m.Until, m.From)
	}
	c.anyDay = len(m.Days) == 0
	for _, d := range m.Days {
		wd, ok := dayNames[strings.ToLower(strings.TrimSpace(d))]
		if !ok {
			p.errorf("%s: days: %q is not a day (mon, tue, wed, thu, fri, sat, sun)", where, d)
			continue
		}
		c.days[wd] = true
	}
	if m.Hours != "" {
		start, end, err := parseHours(m.Hours)
		if err != nil {
			p.errorf("%s: hours: %q: %v", where, m.Hours, err)
		}
		c.start, c.end, c.hours = start, end, true
	}
	return c
}

// parseHours parses "HH:MM-HH:MM" (end 24:00 allowed) into minutes of the
// day. An end at or before the start wraps midnight ("22:00-08:00").
func parseHours(s string) (start, end int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("want HH:MM-HH:MM")
	}
	if start, err = clock(strings.TrimSpace(a), false); err != nil {
		return 0, 0, err
	}
	if end, err = clock(strings.TrimSpace(b), true); err != nil {
		return 0, 0, err
	}
	if start == end {
		return 0, 0, fmt.Errorf("an empty range (write 00:00-24:00 for the whole day)")
	}
	return start, end, nil
}

func clock(s string, isEnd bool) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(h) != 2 || len(m) != 2 || mm < 0 || mm > 59 || hh < 0 || hh > 24 || hh == 24 && (mm != 0 || !isEnd) {
		return 0, fmt.Errorf("%q is not a time of day HH:MM", s)
	}
	return hh*60 + mm, nil
}

// inForce reports whether the mute holds at t: within from/until, and on
// one of its days within its hours, in its zone. A window that wraps
// midnight belongs to the day it starts on ("fri 22:00-08:00" holds until
// Saturday 08:00).
func (m compiledMute) inForce(t time.Time) bool {
	if !m.from.IsZero() && t.Before(m.from) || !m.until.IsZero() && !t.Before(m.until) {
		return false
	}
	local := t.In(m.loc)
	day := local.Weekday()
	if !m.hours {
		return m.anyDay || m.days[day]
	}
	min := local.Hour()*60 + local.Minute()
	if m.start < m.end {
		return min >= m.start && min < m.end && (m.anyDay || m.days[day])
	}
	// Wraps midnight: [start, 24:00) on its day, [00:00, end) on the next.
	if min >= m.start {
		return m.anyDay || m.days[day]
	}
	return min < m.end && (m.anyDay || m.days[(day+6)%7])
}
