package policy

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A tiny JSON reader of our own: encoding/json cannot report duplicate keys,
// keep member order, or tell us where a statement starts and ends, and AWS
// needs all three (duplicates are errors; SimulatePolicy reports positions).

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

type jmember struct {
	key string
	val *jnode
}

type jnode struct {
	kind       jkind
	str        string // string value, or the literal text of a number/bool
	arr        []*jnode
	obj        []jmember
	start, end int // byte offsets; end is exclusive
}

func (n *jnode) get(key string) *jnode {
	for _, m := range n.obj {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// maxDepth bounds recursion so hostile documents cannot exhaust the stack.
const maxDepth = 64

type jparser struct {
	s     []byte
	i     int
	depth int
	err   bool
	slab  []jnode // nodes are carved from chunks to keep allocations few
}

func (p *jparser) node(k jkind, start int) *jnode {
	if len(p.slab) == cap(p.slab) {
		p.slab = make([]jnode, 0, 64)
	}
	p.slab = append(p.slab, jnode{kind: k, start: start})
	return &p.slab[len(p.slab)-1]
}

// parseJSON returns nil when doc is not one well-formed JSON value or an
// object repeats a key.
func parseJSON(doc []byte) *jnode {
	p := &jparser{s: doc}
	p.ws()
	n := p.value()
	if p.err || n == nil {
		return nil
	}
	p.ws()
	if p.i != len(p.s) {
		return nil
	}
	return n
}

func (p *jparser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jparser) fail() *jnode { p.err = true; return nil }

func (p *jparser) value() *jnode {
	if p.i >= len(p.s) {
		return p.fail()
	}
	start := p.i
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, ok := p.str()
		if !ok {
			return p.fail()
		}
		n := p.node(jString, start)
		n.str, n.end = s, p.i
		return n
	case c == 't':
		return p.lit("true", jBool, start)
	case c == 'f':
		return p.lit("false", jBool, start)
	case c == 'n':
		return p.lit("null", jNull, start)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return p.fail()
}

func (p *jparser) lit(word string, k jkind, start int) *jnode {
	if len(p.s)-p.i < len(word) || string(p.s[p.i:p.i+len(word)]) != word {
		return p.fail()
	}
	p.i += len(word)
	n := p.node(k, start)
	n.str, n.end = word, p.i
	return n
}

func (p *jparser) number() *jnode {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.s) && p.s[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return p.fail()
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return p.fail()
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return p.fail()
		}
	}
	n := p.node(jNumber, start)
	n.str, n.end = string(p.s[start:p.i]), p.i
	return n
}

func (p *jparser) str() (string, bool) {
	p.i++ // opening quote
	start := p.i
	// Fast path: no escapes.
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			s := string(p.s[start:p.i])
			p.i++
			if !utf8.ValidString(s) {
				return "", false
			}
			return s, true
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", false
		}
		p.i++
	}
	buf := append([]byte(nil), p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			if !utf8.Valid(buf) {
				return "", false
			}
			return string(buf), true
		case c < 0x20:
			return "", false
		case c != '\\':
			buf = append(buf, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.s) {
			return "", false
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if p.i+1 < len(p.s) && p.s[p.i] == '\\' && p.s[p.i+1] == 'u' {
					p.i += 2
					if r2, ok = p.hex4(); !ok {
						return "", false
					}
				}
				r = utf16.DecodeRune(r, r2)
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", false
		}
	}
	return "", false
}

func (p *jparser) hex4() (rune, bool) {
	if len(p.s)-p.i < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(p.s[p.i:p.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(v), true
}

func (p *jparser) array() *jnode {
	if p.depth++; p.depth > maxDepth {
		return p.fail()
	}
	defer func() { p.depth-- }()
	n := p.node(jArray, p.i)
	p.i++
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		n.end = p.i
		return n
	}
	for {
		p.ws()
		v := p.value()
		if v == nil {
			return p.fail()
		}
		n.arr = append(n.arr, v)
		p.ws()
		if p.i >= len(p.s) {
			return p.fail()
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			n.end = p.i
			return n
		default:
			return p.fail()
		}
	}
}

func (p *jparser) object() *jnode {
	if p.depth++; p.depth > maxDepth {
		return p.fail()
	}
	defer func() { p.depth-- }()
	n := p.node(jObject, p.i)
	p.i++
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		n.end = p.i
		return n
	}
	for {
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return p.fail()
		}
		k, ok := p.str()
		if !ok {
			return p.fail()
		}
		for _, m := range n.obj {
			if m.key == k {
				return p.fail() // duplicate key
			}
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return p.fail()
		}
		p.i++
		p.ws()
		v := p.value()
		if v == nil {
			return p.fail()
		}
		n.obj = append(n.obj, jmember{k, v})
		p.ws()
		if p.i >= len(p.s) {
			return p.fail()
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			n.end = p.i
			return n
		default:
			return p.fail()
		}
	}
}

// Position is a 1-based line and column (in characters) within a policy document.
type Position struct{ Line, Column int }

// positioner converts byte offsets to positions.
type positioner struct {
	doc   []byte
	lines []int // byte offset at which each line starts
}

func newPositioner(doc []byte) *positioner {
	p := &positioner{doc: doc, lines: []int{0}}
	for i, c := range doc {
		if c == '\n' {
			p.lines = append(p.lines, i+1)
		}
	}
	return p
}

func (p *positioner) at(off int) Position {
	lo, hi := 0, len(p.lines)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if p.lines[mid] <= off {
			lo = mid
		} else {
			hi = mid
		}
	}
	return Position{Line: lo + 1, Column: utf8.RuneCount(p.doc[p.lines[lo]:off]) + 1}
}
