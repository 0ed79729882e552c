package policy

import "strings"

// Context holds the condition-key values of one request. Keys are
// case-insensitive (stored lower-cased); every key holds a set of values, so
// single- and multi-valued keys share one shape. A Context is a small slice
// searched linearly: request contexts hold a few dozen keys at most, and this
// keeps building and resetting one allocation-free once warmed up.
type Context struct {
	keys []string // lower-cased
	vals [][]string
}

// NewContext returns an empty context with room for n keys.
func NewContext(n int) *Context {
	return &Context{keys: make([]string, 0, n), vals: make([][]string, 0, n)}
}

// Reset empties the context, keeping its storage for reuse.
func (c *Context) Reset() {
	clear(c.vals)
	c.keys = c.keys[:0]
	c.vals = c.vals[:0]
}

// Len is the number of keys present.
func (c *Context) Len() int {
	if c == nil {
		return 0
	}
	return len(c.keys)
}

// Set replaces the values of key. Set with no values records the key as
// present with an empty set (e.g. aws:TagKeys of a request with no tags).
// The values slice is retained, not copied.
func (c *Context) Set(key string, values ...string) {
	k := lowerASCII(key)
	if i := c.index(k); i >= 0 {
		c.vals[i] = values
		return
	}
	c.keys = append(c.keys, k)
	c.vals = append(c.vals, values)
}

// Add appends one value to key, creating it if absent.
func (c *Context) Add(key, value string) {
	k := lowerASCII(key)
	if i := c.index(k); i >= 0 {
		c.vals[i] = append(c.vals[i], value)
		return
	}
	c.keys = append(c.keys, k)
	c.vals = append(c.vals, []string{value})
}

// Delete removes key.
func (c *Context) Delete(key string) {
	k := lowerASCII(key)
	if i := c.index(k); i >= 0 {
		last := len(c.keys) - 1
		c.keys[i], c.vals[i] = c.keys[last], c.vals[last]
		c.vals[last] = nil
		c.keys, c.vals = c.keys[:last], c.vals[:last]
	}
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
	return append([]string(nil), c.keys...)
}

// lookup takes an already lower-cased key (compiled policies store them so).
func (c *Context) lookup(k string) ([]string, bool) {
	if c == nil {
		return nil, false
	}
	if i := c.index(k); i >= 0 {
		return c.vals[i], true
	}
	return nil, false
}

func (c *Context) index(k string) int {
	for i, have := range c.keys {
		if have == k {
			return i
		}
	}
	return -1
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
