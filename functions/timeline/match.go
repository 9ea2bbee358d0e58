package timeline

import "fmt"

// The marker table is compiled once into an Aho-Corasick automaton (a DFA
// over byte classes) that reads an event's normalised text in one pass,
// whatever the size of the table. Normalisation happens on the fly: ASCII
// letters are lower-cased, every run of other ASCII bytes that are not word
// bytes becomes one space, a space separates ASCII word bytes from adjacent
// non-ASCII characters (English next to Chinese, "服务Error", is a word of
// its own), and the text is read between two spaces, so a whole-word row
// " error " is a plain substring of the stream.

// norm maps a byte to its normalised form: lower-case for ASCII letters,
// ' ' for ASCII bytes that are not word bytes, itself otherwise.
var norm = func() (t [256]byte) {
	for i := range t {
		b := byte(i)
		switch {
		case 'A' <= b && b <= 'Z':
			t[i] = b + 'a' - 'A'
		case isWordByte(b):
			t[i] = b
		default:
			t[i] = ' '
		}
	}
	return t
}()

// normalize returns s normalised as the automaton reads it, without the
// surrounding spaces.
func normalize(s string) string {
	out := make([]byte, 0, len(s))
	space, hi := true, false
	for i := 0; i < len(s); i++ {
		b := norm[s[i]]
		if b == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			if !space && hi != (b >= 0x80) {
				out = append(out, ' ')
			}
			space, hi = false, b >= 0x80
		}
		out = append(out, b)
	}
	if len(out) > 0 && out[len(out)-1] == ' ' {
		out = out[:len(out)-1]
	}
	return string(out)
}

// effect is what a text's matched rows say together.
type effect struct {
	kinds kind
	phase int8   // the highest phase named + 1 (0: none)
	hint  hintID // the most specific hint (hintNone: none)
}

func (e *effect) merge(o effect) {
	e.kinds |= o.kinds
	e.phase = max(e.phase, o.phase)
	if o.hint != hintNone && (e.hint == hintNone || o.hint < e.hint) {
		e.hint = o.hint
	}
}

// automaton is the compiled marker table.
type automaton struct {
	class   [256]uint8 // byte -> class; 0 for bytes in no row
	nclass  int
	delta   []uint16 // state*nclass + class -> state
	out     []uint16 // state -> index in effects of its merged output (0: none)
	effects []effect
	start   uint16 // the state after the leading space
	// serviceWordLen is the length of " service ": a match of the word
	// ending there is at the start of the text.
	serviceWordLen int
}

var table = compile(markers)

// compile builds the automaton of rows. It panics on a malformed row (the
// table is data checked by the tests).
func compile(rows []marker) *automaton {
	a := &automaton{serviceWordLen: len(" service ")}
	needles := make([]string, len(rows))
	for i, r := range rows {
		n := normalize(r.text)
		if n == "" || n != normalize(n) {
			panic(fmt.Sprintf("timeline: marker %q normalises to %q", r.text, n))
		}
		if r.word {
			n = " " + n + " "
		}
		needles[i] = n
	}
	// Byte classes: one per byte that occurs in a needle.
	a.class[' '] = 1
	a.nclass = 2
	for _, n := range needles {
		for i := 0; i < len(n); i++ {
			if a.class[n[i]] == 0 {
				if a.nclass == 256 {
					panic("timeline: too many byte classes")
				}
				a.class[n[i]] = uint8(a.nclass)
				a.nclass++
			}
		}
	}
	// The trie.
	type node struct {
		next map[uint8]int
		eff  effect
		has  bool
	}
	nodes := []node{{next: map[uint8]int{}}}
	for i, n := range needles {
		s := 0
		for j := 0; j < len(n); j++ {
			c := a.class[n[j]]
			nx, ok := nodes[s].next[c]
			if !ok {
				nx = len(nodes)
				nodes = append(nodes, node{next: map[uint8]int{}})
				nodes[s].next[c] = nx
			}
			s = nx
		}
		r := rows[i]
		e := effect{kinds: r.kinds, hint: r.hint}
		if r.phase != noPhase {
			e.phase = int8(r.phase)
		}
		if e.kinds&kWeak != 0 {
			e.kinds &^= kPhase // a weak row names its phase, it is no marker
		}
		nodes[s].eff.merge(e)
		nodes[s].has = true
	}
	if len(nodes) > 1<<16 {
		panic("timeline: marker table too large")
	}
	// Breadth first: failure links, merged outputs and the full DFA.
	nc := a.nclass
	a.delta = make([]uint16, len(nodes)*nc)
	fail := make([]int, len(nodes))
	queue := make([]int, 0, len(nodes))
	for c := range nc {
		if nx, ok := nodes[0].next[uint8(c)]; ok {
			a.delta[c] = uint16(nx)
			queue = append(queue, nx)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := fail[s]
		if nodes[f].has {
			nodes[s].eff.merge(nodes[f].eff)
			nodes[s].has = true
		}
		for c := range nc {
			if nx, ok := nodes[s].next[uint8(c)]; ok {
				fail[nx] = int(a.delta[f*nc+c])
				a.delta[s*nc+c] = uint16(nx)
				queue = append(queue, nx)
			} else {
				a.delta[s*nc+c] = a.delta[f*nc+c]
			}
		}
	}
	a.out = make([]uint16, len(nodes))
	a.effects = []effect{{}}
	for s, n := range nodes {
		if n.has {
			a.out[s] = uint16(len(a.effects))
			a.effects = append(a.effects, n.eff)
		}
	}
	a.start = a.delta[a.class[' ']]
	return a
}

// scanned is the result of reading one text.
type scanned struct {
	effect
	servicePrefix bool // the text begins with the word "service"
	lastStarted   bool // its last word is "started"
}

// scan reads s through the automaton.
func (a *automaton) scan(s string) scanned {
	var r scanned
	nc := a.nclass
	st := int(a.start)
	pos := 1 // normalised bytes read, the leading space included
	space, hi := true, false
	for i := 0; i < len(s); i++ {
		b := norm[s[i]]
		if b == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			if !space && hi != (b >= 0x80) {
				// A script change separates words: read a space.
				st = int(a.delta[st*nc+int(a.class[' '])])
				pos++
				if o := a.out[st]; o != 0 {
					e := a.effects[o]
					r.merge(e)
					if e.kinds&kServiceWord != 0 && pos == a.serviceWordLen {
						r.servicePrefix = true
					}
				}
			}
			space, hi = false, b >= 0x80
		}
		st = int(a.delta[st*nc+int(a.class[b])])
		pos++
		if o := a.out[st]; o != 0 {
			e := a.effects[o]
			r.merge(e)
			if e.kinds&kServiceWord != 0 && pos == a.serviceWordLen {
				r.servicePrefix = true
			}
		}
	}
	if !space {
		st = int(a.delta[st*nc+int(a.class[' '])])
		if o := a.out[st]; o != 0 {
			e := a.effects[o]
			r.merge(e)
			r.lastStarted = e.kinds&kStarted != 0
			if e.kinds&kServiceWord != 0 && pos+1 == a.serviceWordLen {
				r.servicePrefix = true
			}
		}
	} else if o := a.out[st]; o != 0 && len(s) > 0 {
		// The text ended with a separator: the last state read a space.
		r.lastStarted = a.effects[o].kinds&kStarted != 0
	}
	return r
}
