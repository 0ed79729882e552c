package policy

import (
	"bytes"
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Condition operators:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html

type opKind uint8

const (
	opStringEquals opKind = iota
	opStringEqualsIgnoreCase
	opStringLike
	opNumEq
	opNumLT
	opNumLE
	opNumGT
	opNumGE
	opDateEq
	opDateLT
	opDateLE
	opDateGT
	opDateGE
	opBool
	opBinary
	opIP
	opArn
	opNull
)

type qualifier uint8

const (
	qualNone qualifier = iota
	qualAll            // ForAllValues:
	qualAny            // ForAnyValue:
)

type opInfo struct {
	kind opKind
	neg  bool
}

var operators = map[string]opInfo{
	"StringEquals":              {opStringEquals, false},
	"StringNotEquals":           {opStringEquals, true},
	"StringEqualsIgnoreCase":    {opStringEqualsIgnoreCase, false},
	"StringNotEqualsIgnoreCase": {opStringEqualsIgnoreCase, true},
	"StringLike":                {opStringLike, false},
	"StringNotLike":             {opStringLike, true},
	"NumericEquals":             {opNumEq, false},
	"NumericNotEquals":          {opNumEq, true},
	"NumericLessThan":           {opNumLT, false},
	"NumericLessThanEquals":     {opNumLE, false},
	"NumericGreaterThan":        {opNumGT, false},
	"NumericGreaterThanEquals":  {opNumGE, false},
	"DateEquals":                {opDateEq, false},
	"DateNotEquals":             {opDateEq, true},
	"DateLessThan":              {opDateLT, false},
	"DateLessThanEquals":        {opDateLE, false},
	"DateGreaterThan":           {opDateGT, false},
	"DateGreaterThanEquals":     {opDateGE, false},
	"Bool":                      {opBool, false},
	"BinaryEquals":              {opBinary, false},
	"IpAddress":                 {opIP, false},
	"NotIpAddress":              {opIP, true},
	"ArnEquals":                 {opArn, false},
	"ArnLike":                   {opArn, false},
	"ArnNotEquals":              {opArn, true},
	"ArnNotLike":                {opArn, true},
	"Null":                      {opNull, false},
}

// parseOperator splits "ForAnyValue:StringLikeIfExists" into its parts.
func parseOperator(name string) (op opInfo, q qualifier, ifExists, ok bool) {
	base := name
	switch {
	case strings.HasPrefix(base, "ForAllValues:"):
		q, base = qualAll, base[len("ForAllValues:"):]
	case strings.HasPrefix(base, "ForAnyValue:"):
		q, base = qualAny, base[len("ForAnyValue:"):]
	}
	if b, found := strings.CutSuffix(base, "IfExists"); found {
		base, ifExists = b, true
	}
	op, ok = operators[base]
	if ok && op.kind == opNull && (ifExists || q != qualNone) {
		return opInfo{}, 0, false, false
	}
	return op, q, ifExists, ok
}

// variablesAllowed: policy variables only expand with string and ARN operators.
func (k opKind) variablesAllowed() bool {
	return k == opStringEquals || k == opStringEqualsIgnoreCase || k == opStringLike || k == opArn
}

type cval struct {
	t     template // string and ARN operators (glob-encoded for Like/Arn)
	raw   string
	num   float64
	when  time.Time
	pfx   netip.Prefix
	bin   []byte
	valid bool // the policy value parsed for its operator's type
}

type ccond struct {
	op       opKind
	neg      bool
	q        qualifier
	ifExists bool
	key      string // lower-cased
	kh       uint64 // hashKey(key), so a lookup hashes nothing
	keyName  string // as written, for Result.Missing
	vals     []cval
}

func compileCondition(op opInfo, q qualifier, ifExists bool, key string, values []string, withVars bool) ccond {
	c := ccond{op: op.kind, neg: op.neg, q: q, ifExists: ifExists, key: strings.ToLower(key), keyName: key}
	c.kh = hashKey(c.key)
	c.vals = make([]cval, len(values))
	for i, v := range values {
		cv := cval{raw: v, valid: true}
		switch op.kind {
		case opStringEquals, opStringEqualsIgnoreCase:
			cv.t = compileTemplate(v, withVars, false, 0)
		case opStringLike, opArn:
			cv.t = compileTemplate(v, withVars, true, 0)
		case opNumEq, opNumLT, opNumLE, opNumGT, opNumGE:
			f, err := strconv.ParseFloat(v, 64)
			cv.num, cv.valid = f, err == nil
		case opDateEq, opDateLT, opDateLE, opDateGT, opDateGE:
			cv.when, cv.valid = parseDate(v)
		case opBool:
			cv.valid = strings.EqualFold(v, "true") || strings.EqualFold(v, "false")
		case opBinary:
			b, err := base64.StdEncoding.DecodeString(v)
			cv.bin, cv.valid = b, err == nil
		case opIP:
			cv.pfx, cv.valid = parseCIDR(v)
		case opNull:
			cv.valid = strings.EqualFold(v, "true") || strings.EqualFold(v, "false")
		}
		c.vals[i] = cv
	}
	return c
}

func parseCIDR(v string) (netip.Prefix, bool) {
	v = strings.TrimSpace(v)
	if strings.IndexByte(v, '/') >= 0 {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseDate accepts the ISO 8601 forms AWS documents and epoch seconds.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date
func parseDate(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	allDigits := true
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			allDigits = false
			break
		}
	}
	if allDigits {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// evalScratch is per-evaluation working memory, owned by a Result.
type evalScratch struct {
	buf []byte
	pos []int32 // candidate positions chosen for a request

	// memo holds single-valued context entries parsed for the typed
	// operators, by entry index, so that an aws:SourceIp tested by 200
	// statements is parsed once. Slots are valid for generation gen only:
	// starting an evaluation invalidates them all without clearing.
	memo []memo
	gen  uint32
	// keys caches, by a Set's condition-key id, where the key sits in the
	// request context, valid for generation gen (see Set.keyIDs).
	keys []keySlot
}

type keySlot struct {
	gen uint32
	ei  int32
}

// keyEntry finds condition key id of c (one lookup per evaluation).
func (sc *evalScratch) keyEntry(ctx *Context, id uint16, c *ccond) (int, []string) {
	if int(id) >= len(sc.keys) {
		sc.keys = append(sc.keys, make([]keySlot, int(id)+1-len(sc.keys))...)
	}
	k := &sc.keys[id]
	if k.gen != sc.gen {
		ei, _ := ctx.entry(c.key, c.kh)
		k.gen, k.ei = sc.gen, int32(ei)
	}
	if k.ei < 0 {
		return -1, nil
	}
	return int(k.ei), ctx.ents[k.ei].vals
}

type memo struct {
	gen  uint32
	done uint8 // memoIP | memoNum | memoDate once attempted
	ok   uint8 // the same bits: the parse succeeded
	addr netip.Addr
	num  float64
	when time.Time
}

const (
	memoIP uint8 = 1 << iota
	memoNum
	memoDate
)

// begin starts an evaluation: memoized parses of an earlier one (whose
// context may since have changed) no longer count.
func (sc *evalScratch) begin() {
	sc.gen++
	if sc.gen == 0 { // wrapped: stale slots could carry the new generation
		clear(sc.memo)
		clear(sc.keys)
		sc.gen = 1
	}
}

// slot returns the memo of entry ei for this evaluation, or nil when the
// value cannot be memoized (multi-valued keys are parsed per use).
func (sc *evalScratch) slot(vals []string, ei int) *memo {
	if len(vals) != 1 {
		return nil
	}
	if ei >= len(sc.memo) {
		sc.memo = append(sc.memo, make([]memo, ei+1-len(sc.memo))...)
	}
	m := &sc.memo[ei]
	if m.gen != sc.gen {
		*m = memo{gen: sc.gen}
	}
	return m
}

// addr is request value vals[i] as an IP address, IPv4-mapped addresses
// unmapped.
func (sc *evalScratch) addr(vals []string, ei, i int) (netip.Addr, bool) {
	m := sc.slot(vals, ei)
	if m == nil {
		return parseAddr(vals[i])
	}
	if m.done&memoIP == 0 {
		a, ok := parseAddr(vals[0])
		m.addr, m.done = a, m.done|memoIP
		if ok {
			m.ok |= memoIP
		}
	}
	return m.addr, m.ok&memoIP != 0
}

func parseAddr(v string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(strings.TrimSpace(v))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// number is request value vals[i] as a float.
func (sc *evalScratch) number(vals []string, ei, i int) (float64, bool) {
	m := sc.slot(vals, ei)
	if m == nil {
		f, err := strconv.ParseFloat(vals[i], 64)
		return f, err == nil
	}
	if m.done&memoNum == 0 {
		f, err := strconv.ParseFloat(vals[0], 64)
		m.num, m.done = f, m.done|memoNum
		if err == nil {
			m.ok |= memoNum
		}
	}
	return m.num, m.ok&memoNum != 0
}

// date is request value vals[i] as a date.
func (sc *evalScratch) date(vals []string, ei, i int) (time.Time, bool) {
	m := sc.slot(vals, ei)
	if m == nil {
		return parseDate(vals[i])
	}
	if m.done&memoDate == 0 {
		t, ok := parseDate(vals[0])
		m.when, m.done = t, m.done|memoDate
		if ok {
			m.ok |= memoDate
		}
	}
	return m.when, m.ok&memoDate != 0
}

// eval reports whether the condition holds for ctx; missing is set when the
// request lacked a key the condition needed.
func (c *ccond) eval(ctx *Context, sc *evalScratch) (ok, missing bool) {
	ei, vals := ctx.entry(c.key, c.kh)
	return c.evalEntry(ctx, ei, vals, sc)
}

// evalEntry is eval with the key already looked up: ei is its entry index
// in ctx (-1 when absent) and vals its values.
func (c *ccond) evalEntry(ctx *Context, ei int, vals []string, sc *evalScratch) (ok, missing bool) {
	present := ei >= 0
	if c.op == opNull {
		absent := !present || len(vals) == 0
		for i := range c.vals {
			if c.vals[i].valid && strings.EqualFold(c.vals[i].raw, "true") == absent {
				return true, false
			}
		}
		return false, false
	}
	if !present || len(vals) == 0 {
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
		// ForAllValues over an absent or empty key is true; ForAnyValue is
		// false; a plain negated operator over an absent key is true.
		// IfExists only excuses an absent key, not a present empty set.
		if c.ifExists && !present {
			return true, false
		}
		switch c.q {
		case qualAll:
			return true, true
		case qualAny:
			return false, true
		}
		return c.neg, true
	}
	switch c.q {
	case qualAll:
		for i := range vals {
			if c.anyMatch(vals, ei, i, ctx, sc) == c.neg {
				return false, false
			}
		}
		return true, false
	case qualAny:
		for i := range vals {
			if c.anyMatch(vals, ei, i, ctx, sc) != c.neg {
				return true, false
			}
		}
		return false, false
	}
	for i := range vals {
		if c.anyMatch(vals, ei, i, ctx, sc) {
			return !c.neg, false
		}
	}
	return c.neg, false
}

// anyMatch: does request value rv match any of the policy values under the
// positive form of the operator? Values in one condition are OR'ed. rv is
// vals[i], the values of context entry ei; typed operators take its parsed
// form from the evaluation's memo.
func (c *ccond) anyMatch(vals []string, ei, i int, ctx *Context, sc *evalScratch) bool {
	rv := vals[i]
	switch c.op {
	case opNumEq, opNumLT, opNumLE, opNumGT, opNumGE:
		f, ok := sc.number(vals, ei, i)
		if !ok {
			return false
		}
		for i := range c.vals {
			v := &c.vals[i]
			if v.valid && cmpMatch(c.op-opNumEq, cmpFloat(f, v.num)) {
				return true
			}
		}
		return false
	case opDateEq, opDateLT, opDateLE, opDateGT, opDateGE:
		t, ok := sc.date(vals, ei, i)
		if !ok {
			return false
		}
		for i := range c.vals {
			v := &c.vals[i]
			if v.valid && cmpMatch(c.op-opDateEq, t.Compare(v.when)) {
				return true
			}
		}
		return false
	case opBool:
		for i := range c.vals {
			if c.vals[i].valid && strings.EqualFold(rv, c.vals[i].raw) {
				return true
			}
		}
		return false
	case opBinary:
		b, err := base64.StdEncoding.DecodeString(rv)
		if err != nil {
			return false
		}
		for i := range c.vals {
			if c.vals[i].valid && bytes.Equal(b, c.vals[i].bin) {
				return true
			}
		}
		return false
	case opIP:
		a, ok := sc.addr(vals, ei, i)
		if !ok {
			return false
		}
		for i := range c.vals {
			if c.vals[i].valid && c.vals[i].pfx.Contains(a) {
				return true
			}
		}
		return false
	}
	// String and ARN operators, possibly with policy variables.
	for i := range c.vals {
		t := &c.vals[i].t
		if !t.hasVars() {
			if strMatch(c.op, t.text, rv) {
				return true
			}
			continue
		}
		b, ok := t.resolve(ctx, sc.buf[:0])
		sc.buf = b
		if ok && strMatch(c.op, b, rv) {
			return true
		}
	}
	return false
}

func strMatch[P text](op opKind, p P, rv string) bool {
	switch op {
	case opStringEquals:
		return string(p) == rv
	case opStringEqualsIgnoreCase:
		return equalFold(p, rv)
	case opStringLike:
		return globMatch(p, rv)
	case opArn:
		return arnMatch(p, rv)
	}
	return false
}

func equalFold[P text](p P, s string) bool {
	if len(p) != len(s) {
		// Unicode folding can change byte length (e.g. the Kelvin sign).
		return strings.EqualFold(string(p), s)
	}
	for i := 0; i < len(s); i++ {
		a, b := p[i], s[i]
		if a >= 0x80 || b >= 0x80 {
			return strings.EqualFold(string(p), s)
		}
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpMatch maps an operator offset (Eq, LT, LE, GT, GE) and a comparison of
// request value to policy value onto a match.
func cmpMatch(rel opKind, cmp int) bool {
	switch rel {
	case 0:
		return cmp == 0
	case 1:
		return cmp < 0
	case 2:
		return cmp <= 0
	case 3:
		return cmp > 0
	case 4:
		return cmp >= 0
	}
	return false
}
