package policy

import (
	"hash/maphash"
	"strings"
)

// Context holds the condition-key values of one request. Keys are
// case-insensitive (stored lower-cased); every key holds a set of values, so
// single- and multi-valued keys share one shape.
//
// Entries sit in a slice (insertion order) indexed by a small open-addressing
// table of key hashes, so Set and lookups cost one hash, not a scan of every
// key: a decision over 1,000 statements looks keys up hundreds of times.
// Evaluation only reads a Context (several goroutines may evaluate with one
// at once); a values slice passed to Set must not be modified afterwards.
type Context struct {
	ents []ctxEntry
	tab  []uint16 // len a power of two (or 0); 0 = empty, else entry index+1
	// arena backs SetString's one-value slices, so a request's dozen
	// single-valued keys cost no allocation each. Slots are never
	// overwritten (Reset moves past them, a full arena is replaced), so a
	// values slice handed out stays valid, as with Set.
	arena []string
}

// arenaChunk is how many single values one arena allocation holds.
const arenaChunk = 128

type ctxEntry struct {
	key  string // lower-cased
	h    uint64
	vals []string
}

// maxCtxEntries bounds a Context (the table stores uint16 indexes); request
// contexts hold a few dozen keys.
const maxCtxEntries = 1<<16 - 2

// keySeed seeds key hashing; set once at start-up and never changed.
var keySeed = maphash.MakeSeed()

func hashKey(k string) uint64 { return maphash.String(keySeed, k) }

// NewContext returns an empty context with room for n keys.
func NewContext(n int) *Context {
	c := &Context{ents: make([]ctxEntry, 0, n)}
	c.tab = make([]uint16, tableSize(n))
	return c
}

func tableSize(n int) int {
	s := 16
	for s < 2*n {
		s <<= 1
	}
	return s
}

// Reset empties the context, keeping its storage for reuse.
func (c *Context) Reset() {
	clear(c.ents) // drop references to values
	c.ents = c.ents[:0]
	clear(c.tab)
	c.arena = c.arena[len(c.arena):] // never reuse slots that may still be referenced
}

// CopyFrom makes c a copy of src (sharing src's value slices, which are
// never modified in place), reusing c's storage. A per-principal template
// context is copied into each request's context this way.
func (c *Context) CopyFrom(src *Context) {
	c.arena = c.arena[len(c.arena):]
	clear(c.ents)
	c.ents = append(c.ents[:0], src.ents...)
	if cap(c.tab) >= len(src.tab) {
		c.tab = c.tab[:len(src.tab)]
	} else {
		c.tab = make([]uint16, len(src.tab))
	}
	copy(c.tab, src.tab)
}

// Clone returns an independent copy of c.
func (c *Context) Clone() *Context {
	n := &Context{}
	if c != nil {
		n.ents = make([]ctxEntry, 0, len(c.ents)+8)
		n.CopyFrom(c)
	}
	return n
}

// Len is the number of keys present.
func (c *Context) Len() int {
	if c == nil {
		return 0
	}
	return len(c.ents)
}

// Set replaces the values of key. Set with no values records the key as
// present with an empty set (e.g. aws:TagKeys of a request with no tags).
// The values slice is retained, not copied.
func (c *Context) Set(key string, values ...string) {
	k := lowerASCII(key)
	h := hashKey(k)
	if i := c.index(k, h); i >= 0 {
		c.ents[i].vals = values
		return
	}
	c.insert(ctxEntry{key: k, h: h, vals: values})
}

// SetString replaces the values of key with the single value v; unlike
// Set it retains nothing of the caller's and does not allocate per call.
func (c *Context) SetString(key, v string) {
	if len(c.arena) == cap(c.arena) {
		c.arena = make([]string, 0, arenaChunk)
	}
	n := len(c.arena)
	c.arena = append(c.arena, v)
	c.Set(key, c.arena[n:n+1:n+1]...)
}

// Add appends one value to key, creating it if absent.
func (c *Context) Add(key, value string) {
	k := lowerASCII(key)
	h := hashKey(k)
	if i := c.index(k, h); i >= 0 {
		e := &c.ents[i]
		// A fresh slice: values passed to Set are the caller's.
		e.vals = append(e.vals[:len(e.vals):len(e.vals)], value)
		return
	}
	c.insert(ctxEntry{key: k, h: h, vals: []string{value}})
}

// Delete removes key.
func (c *Context) Delete(key string) {
	k := lowerASCII(key)
	i := c.index(k, hashKey(k))
	if i < 0 {
		return
	}
	last := len(c.ents) - 1
	c.ents[i] = c.ents[last]
	c.ents[last] = ctxEntry{}
	c.ents = c.ents[:last]
	c.rehash(len(c.tab)) // deletion is rare (resource tags); rebuild rather than tombstone
}

// Get returns the values of key and whether it is present.
func (c *Context) Get(key string) ([]string, bool) {
	return c.lookup(lowerASCII(key))
}

// Keys returns the (lower-cased) keys present, in insertion order except after Delete.
func (c *Context) Keys() []string {
	if c == nil {
		return nil
	}
	ks := make([]string, len(c.ents))
	for i := range c.ents {
		ks[i] = c.ents[i].key
	}
	return ks
}

// lookup takes an already lower-cased key (compiled policies store them so).
func (c *Context) lookup(k string) ([]string, bool) {
	i, vals := c.entry(k, hashKey(k))
	return vals, i >= 0
}

// entry finds lower-cased key k with hash h: its index and values, or
// -1 when absent.
func (c *Context) entry(k string, h uint64) (int, []string) {
	if c == nil {
		return -1, nil
	}
	if i := c.index(k, h); i >= 0 {
		return i, c.ents[i].vals
	}
	return -1, nil
}

func (c *Context) index(k string, h uint64) int {
	if len(c.tab) == 0 {
		return -1
	}
	mask := uint64(len(c.tab) - 1)
	for j := h & mask; ; j = (j + 1) & mask {
		s := c.tab[j]
		if s == 0 {
			return -1
		}
		if e := &c.ents[s-1]; e.h == h && e.key == k {
			return int(s - 1)
		}
	}
}

func (c *Context) insert(e ctxEntry) {
	if len(c.ents) >= maxCtxEntries {
		panic("policy: too many condition keys in one context")
	}
	c.ents = append(c.ents, e)
	if 2*len(c.ents) > len(c.tab) {
		c.rehash(tableSize(len(c.ents)))
		return
	}
	c.place(e.h, len(c.ents)-1)
}

func (c *Context) place(h uint64, i int) {
	mask := uint64(len(c.tab) - 1)
	j := h & mask
	for c.tab[j] != 0 {
		j = (j + 1) & mask
	}
	c.tab[j] = uint16(i + 1)
}

func (c *Context) rehash(size int) {
	if cap(c.tab) >= size {
		c.tab = c.tab[:size]
		clear(c.tab)
	} else {
		c.tab = make([]uint16, size)
	}
	for i := range c.ents {
		c.place(c.ents[i].h, i)
	}
}

// lowerASCII lower-cases without allocating when s is already lower case.
// Condition keys are ASCII; non-ASCII input falls back to strings.ToLower.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return strings.ToLower(s)
		}
		if 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
