package policy

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Principal is the caller as Principal/NotPrincipal see it.
type Principal struct {
	Account       string // 12-digit account id of the caller
	ARN           string // user, role (for a role session), federated user or root ARN
	SessionARN    string // arn:aws:sts::ACCT:assumed-role/ROLE/SESSION for role sessions
	Service       string // e.g. "ec2.amazonaws.com" when a service calls
	Federated     string // identity provider for AssumeRoleWith{SAML,WebIdentity}
	CanonicalUser string
	Anonymous     bool
}

// Request is one authorization question.
type Request struct {
	Action    string // "service:ActionName"
	Resource  string // ARN, or "*" for actions without a resource
	Principal *Principal
	Context   *Context
}

// Match identifies a statement that applied to a request.
type Match struct {
	Policy     int // index of the policy in NewSet's arguments
	Statement  int // index of the statement in the policy
	Sid        string
	Effect     Effect
	Start, End Position
}

// Result of evaluating a Set. Allowed means some Allow statement applied and
// no Deny did; Denied means an explicit Deny applied. Neither means an
// implicit deny. Reuse a Result across calls to avoid allocations.
type Result struct {
	Allowed bool
	Denied  bool
	Matched []Match
	Missing []string // condition keys (as written) a condition needed but the request lacked

	// DecisionOnly asks for Allowed and Denied alone, as request
	// enforcement needs: Evaluate then skips Allow statements once one has
	// allowed and stops at the first explicit deny, leaving Matched and
	// Missing incomplete. Reset keeps it.
	DecisionOnly bool

	sc evalScratch
}

// Reset clears r, keeping its storage.
func (r *Result) Reset() {
	r.Allowed, r.Denied = false, false
	r.Matched = r.Matched[:0]
	r.Missing = r.Missing[:0]
}

func (r *Result) addMissing(k string) {
	for _, m := range r.Missing {
		if m == k {
			return
		}
	}
	r.Missing = append(r.Missing, k)
}

// cstmt is a statement compiled for evaluation.
type cstmt struct {
	effect    Effect
	notAction bool
	actions   []string // lower-cased, glob-encoded

	anyResource bool // Resource "*" (or Trust: no resource element)
	notResource bool
	resources   []template

	principal    *cprincipal // nil: statement has no Principal element
	notPrincipal bool

	conds []ccond
}

type cprincipal struct {
	all                                     bool
	accounts, arns, services, feds, canonic []string
}

func compileStatement(st *Statement, withVars bool) cstmt {
	c := cstmt{effect: st.Effect}
	acts := st.Action
	if st.NotAction != nil {
		acts, c.notAction = st.NotAction, true
	}
	for _, a := range acts {
		c.actions = append(c.actions, encodeGlob(strings.ToLower(a)))
	}
	res := st.Resource
	if st.NotResource != nil {
		res, c.notResource = st.NotResource, true
	}
	if res == nil {
		c.anyResource = true // trust policies: the role itself
	}
	for _, r := range res {
		if r == "*" && !c.notResource {
			c.anyResource = true
		}
		c.resources = append(c.resources, compileTemplate(r, withVars, true, resourcePartOffset(r)))
	}
	if c.anyResource {
		c.resources = nil
	}
	ps := st.Principal
	if st.NotPrincipal != nil {
		ps, c.notPrincipal = st.NotPrincipal, true
	}
	if ps != nil {
		c.principal = compilePrincipal(ps)
	}
	for _, cd := range st.Condition {
		op, q, ifExists, _ := parseOperator(cd.Operator)
		c.conds = append(c.conds, compileCondition(op, q, ifExists, cd.Key, cd.Values, withVars && op.kind.variablesAllowed()))
	}
	return c
}

// resourcePartOffset is where the resource part of an ARN begins (after the
// fifth colon); variables may appear only there.
func resourcePartOffset(arn string) int {
	off := 0
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(arn[off:], ':')
		if j < 0 {
			return len(arn)
		}
		off += j + 1
	}
	return off
}

func compilePrincipal(ps *PrincipalSpec) *cprincipal {
	cp := &cprincipal{all: ps.Wildcard}
	for _, v := range ps.AWS {
		switch {
		case v == "*":
			cp.all = true // {"AWS":"*"} is the same as "*"
		case isAccountID(v):
			cp.accounts = append(cp.accounts, v)
		case strings.HasSuffix(v, ":root") && strings.Count(v, ":") == 5:
			cp.accounts = append(cp.accounts, strings.Split(v, ":")[4])
		default:
			cp.arns = append(cp.arns, v)
		}
	}
	cp.services = ps.Service
	cp.feds = ps.Federated
	cp.canonic = ps.CanonicalUser
	return cp
}

// match: an account (id or root ARN) stands for every principal of the
// account; a role ARN also matches sessions of the role (Principal.ARN is the
// role ARN for those); an assumed-role ARN matches that session only.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
func (cp *cprincipal) match(p *Principal) bool {
	if cp.all {
		return true
	}
	if p == nil || p.Anonymous {
		return false
	}
	if p.Account != "" && slices.Contains(cp.accounts, p.Account) {
		return true
	}
	for _, a := range cp.arns {
		if (p.ARN != "" && a == p.ARN) || (p.SessionARN != "" && a == p.SessionARN) {
			return true
		}
	}
	if p.Service != "" {
		for _, s := range cp.services {
			if strings.EqualFold(s, p.Service) {
				return true
			}
		}
	}
	if p.Federated != "" && slices.Contains(cp.feds, p.Federated) {
		return true
	}
	return p.CanonicalUser != "" && slices.Contains(cp.canonic, p.CanonicalUser)
}

// excludes reports whether NotPrincipal names the caller. AWS checks the
// caller layer by layer (account, then role, then session), and a layer the
// element does not name keeps the statement applying, so a user is excluded
// only when both its account and its ARN are listed, and a role session only
// when its account, role and session are.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
func (cp *cprincipal) excludes(p *Principal) bool {
	if cp.all {
		return true
	}
	if p == nil || p.Anonymous {
		return false
	}
	switch {
	case p.Service != "":
		for _, s := range cp.services {
			if strings.EqualFold(s, p.Service) {
				return true
			}
		}
		return false
	case p.Federated != "":
		return slices.Contains(cp.feds, p.Federated)
	case p.CanonicalUser != "":
		return slices.Contains(cp.canonic, p.CanonicalUser)
	}
	if p.Account == "" || !slices.Contains(cp.accounts, p.Account) {
		return false
	}
	if p.ARN != "" && !strings.HasSuffix(p.ARN, ":root") && !slices.Contains(cp.arns, p.ARN) {
		return false
	}
	return p.SessionARN == "" || slices.Contains(cp.arns, p.SessionARN)
}

// Set is a compiled, immutable collection of policies, safe for concurrent
// use (its only internal state is a bounded cache of resolved actions). Statements are indexed by action so that a decision only visits the
// statements that can apply: those naming the action exactly, those with a
// wildcard inside the action's service, and those matching any service
// ("*" and NotAction).
type Set struct {
	stmts      []setStmt
	exact      map[string]*candList // "service:action" → candidates, in statement order
	service    map[string]*svcIndex // wildcard candidates of a service, for actions no policy names exactly
	global     []cand
	globalList *candList

	// resolved caches, per action the index does not name exactly, the
	// candidate list with wildcard patterns already matched. It is a
	// copy-on-write map so reads take no lock; it changes no decision and is
	// bounded, so hostile action names cannot grow it without limit.
	resolved atomic.Pointer[map[string]*candList]
	mu       sync.Mutex
}

// maxResolved bounds the per-Set cache of resolved actions; AWS services
// number their actions in the thousands, and a server evaluates far fewer.
const maxResolved = 2048

// svcIndex buckets a service's wildcard action patterns by the first byte
// of their action-name part, so "s3:Put*" is never visited for s3:GetObject.
type svcIndex struct {
	byFirst map[byte][]cand // merged with the patterns starting with a wildcard and with global
	rest    []cand          // patterns starting with a wildcard, merged with global
}

type setStmt struct {
	c          *cstmt
	policy, ix int
	sid        string
	start, end Position
	// keyIDs numbers each condition's key (aligned with c.conds) by the
	// Set's distinct keys, so an evaluation looks each key up once however
	// many statements test it.
	keyIDs []uint16
}

// maxKeyIDs bounds the distinct condition keys a Set numbers; keys past it
// are looked up per condition.
const maxKeyIDs = 1 << 15

const noKeyID = uint16(0xffff)

type cand struct {
	idx int32
	// check: the action still has to be matched (wildcard or NotAction);
	// false when the index entry is itself an exact match.
	check bool
}

// NewSet compiles the policies into a Set. Nil policies are skipped but keep
// their index in Match.Policy.
func NewSet(ps ...*Policy) *Set {
	s := &Set{exact: map[string]*candList{}, service: map[string]*svcIndex{}}
	keyIDs := map[string]uint16{}
	exactBy := map[string][]cand{}
	wildBy := map[string][]cand{}
	for pi, p := range ps {
		if p == nil {
			continue
		}
		for si := range p.Statements {
			st := &p.Statements[si]
			idx := int32(len(s.stmts))
			ss := setStmt{c: &st.c, policy: pi, ix: si, sid: st.Sid, start: st.Start, end: st.End}
			if len(st.c.conds) > 0 {
				ss.keyIDs = make([]uint16, len(st.c.conds))
				for ci := range st.c.conds {
					k := st.c.conds[ci].key
					id, ok := keyIDs[k]
					if !ok {
						id = noKeyID
						if len(keyIDs) < maxKeyIDs {
							id = uint16(len(keyIDs))
							keyIDs[k] = id
						}
					}
					ss.keyIDs[ci] = id
				}
			}
			s.stmts = append(s.stmts, ss)
			if st.c.notAction || slices.Contains(st.c.actions, string(wStar)) {
				s.global = append(s.global, cand{idx, st.c.notAction})
				continue
			}
			for _, a := range st.c.actions {
				svc, _, _ := strings.Cut(a, ":")
				if hasWild(a) {
					wildBy[svc] = appendCand(wildBy[svc], cand{idx, true})
				} else {
					exactBy[a] = appendCand(exactBy[a], cand{idx, false})
				}
			}
		}
	}
	for svc, w := range wildBy {
		ix := &svcIndex{byFirst: map[byte][]cand{}}
		var lead []cand
		first := map[byte][]cand{}
		for _, c := range w {
			if b, ok := s.firstLiteral(c.idx, svc); ok {
				for _, fb := range b {
					first[fb] = appendCand(first[fb], c)
				}
			} else {
				lead = append(lead, c)
			}
		}
		ix.rest = mergeCands(lead, s.global)
		for b, l := range first {
			ix.byFirst[b] = mergeCands(l, ix.rest)
		}
		s.service[svc] = ix
	}
	// For an action some policy names exactly, the wildcard patterns can be
	// resolved now: keep only those that match it, with no check left to do.
	for a, e := range exactBy {
		svc, _, _ := strings.Cut(a, ":")
		var hits []cand
		for _, c := range wildBy[svc] {
			if s.stmts[c.idx].c.matchAction([]byte(a)) {
				hits = append(hits, cand{c.idx, false})
			}
		}
		s.exact[a] = s.newCandList(mergeCands(mergeCands(e, hits), s.global))
	}
	s.globalList = s.newCandList(s.global)
	return s
}

// firstLiteral returns the first bytes of the action-name part of the
// statement's wildcard patterns in service svc, or ok=false if one of them
// starts with a wildcard.
func (s *Set) firstLiteral(idx int32, svc string) (bs []byte, ok bool) {
	for _, a := range s.stmts[idx].c.actions {
		asvc, name, _ := strings.Cut(a, ":")
		if asvc != svc || !hasWild(a) {
			continue
		}
		if name == "" || name[0] == wStar || name[0] == wOne {
			return nil, false
		}
		if !slices.Contains(bs, name[0]) {
			bs = append(bs, name[0])
		}
	}
	return bs, true
}

func appendCand(l []cand, c cand) []cand {
	if n := len(l); n > 0 && l[n-1].idx == c.idx {
		l[n-1].check = l[n-1].check && c.check
		return l
	}
	return append(l, c)
}

// mergeCands merges two index-sorted lists; a statement in both needs no
// action check if either entry says so.
func mergeCands(a, b []cand) []cand {
	out := make([]cand, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].idx < b[j].idx):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].idx < a[i].idx:
			out = append(out, b[j])
			j++
		default:
			out = append(out, cand{a[i].idx, a[i].check && b[j].check})
			i++
			j++
		}
	}
	return out
}

// Len is the number of statements in the set.
func (s *Set) Len() int { return len(s.stmts) }

// Evaluate decides r against the set and fills out (reset first). Every
// applicable statement is reported in Matched, in policy and statement order.
func (s *Set) Evaluate(r *Request, out *Result) {
	out.Reset()
	out.sc.begin()
	var stack [128]byte
	act := appendLowerASCII(stack[:0], r.Action)
	cl := s.lookup(act)
	allow := false
	sc := &out.sc
	positions := cl.pick(r.Resource, sc)
	for i := range positions {
		if i > 0 && positions[i] == positions[i-1] {
			continue // a statement reached through two of its resources
		}
		c := cl.c[positions[i]]
		ss := &s.stmts[c.idx]
		st := ss.c
		if allow && out.DecisionOnly && st.effect == Allow {
			continue // cannot change the decision; only a Deny could
		}
		if c.check && !st.matchAction(act) {
			continue
		}
		if !st.matchResource(r, &out.sc) {
			continue
		}
		if st.principal != nil {
			if st.notPrincipal {
				if st.principal.excludes(r.Principal) {
					continue
				}
			} else if !st.principal.match(r.Principal) {
				continue
			}
		}
		if !st.matchConditions(r.Context, ss.keyIDs, out) {
			continue
		}
		out.Matched = append(out.Matched, Match{Policy: ss.policy, Statement: ss.ix, Sid: ss.sid, Effect: st.effect, Start: ss.start, End: ss.end})
		if st.effect == Deny {
			out.Denied = true
			if out.DecisionOnly {
				break // an explicit deny is final
			}
		} else {
			allow = true
		}
	}
	out.Allowed = allow && !out.Denied
}

func (s *Set) lookup(act []byte) *candList {
	if l, ok := s.exact[string(act)]; ok {
		return l
	}
	if m := s.resolved.Load(); m != nil {
		if l, ok := (*m)[string(act)]; ok {
			return l
		}
	}
	l := s.wildcardCands(act)
	if len(l) == 0 {
		return s.globalList
	}
	return s.resolve(act, l)
}

// resolve filters candidates down to the statements whose actions match
// act and remembers the result for the next request for act.
func (s *Set) resolve(act []byte, l []cand) *candList {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.resolved.Load()
	if old != nil {
		if r, ok := (*old)[string(act)]; ok {
			return r
		}
		if len(*old) >= maxResolved {
			return &candList{c: l} // uncached: actions are checked per request
		}
	}
	r := make([]cand, 0, len(l))
	for _, c := range l {
		if !c.check || s.stmts[c.idx].c.matchAction(act) {
			r = append(r, cand{c.idx, false})
		}
	}
	cl := s.newCandList(r)
	next := make(map[string]*candList, 1+mapLen(old))
	if old != nil {
		for k, v := range *old {
			next[k] = v
		}
	}
	next[string(act)] = cl
	s.resolved.Store(&next)
	return cl
}

func mapLen(m *map[string]*candList) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

func (s *Set) wildcardCands(act []byte) []cand {
	svc, name := act, []byte(nil)
	for i, c := range act {
		if c == ':' {
			svc, name = act[:i], act[i+1:]
			break
		}
	}
	ix, ok := s.service[string(svc)]
	if !ok {
		return s.global
	}
	if len(name) > 0 {
		if l, ok := ix.byFirst[name[0]]; ok {
			return l
		}
	}
	return ix.rest
}

func appendLowerASCII(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func (st *cstmt) matchAction(act []byte) bool {
	m := false
	for _, p := range st.actions {
		if globMatch(p, act) {
			m = true
			break
		}
	}
	return m != st.notAction
}

func (st *cstmt) matchResource(r *Request, sc *evalScratch) bool {
	if st.anyResource {
		return true
	}
	m := false
	for i := range st.resources {
		t := &st.resources[i]
		if !strings.HasPrefix(r.Resource, t.prefix) {
			continue
		}
		if !t.hasVars() {
			if arnMatch(t.text, r.Resource) {
				m = true
				break
			}
			continue
		}
		// An ARN whose variable has no value matches nothing (for Resource
		// and NotResource alike).
		b, ok := t.resolve(r.Context, sc.buf[:0])
		sc.buf = b
		if ok && arnMatch(b, r.Resource) {
			m = true
			break
		}
	}
	return m != st.notResource
}

// matchConditions ANDs every operator/key pair of the block.
func (st *cstmt) matchConditions(ctx *Context, keyIDs []uint16, out *Result) bool {
	for i := range st.conds {
		c := &st.conds[i]
		var ok, missing bool
		if id := keyIDs[i]; id != noKeyID {
			ei, vals := out.sc.keyEntry(ctx, id, c)
			ok, missing = c.evalEntry(ctx, ei, vals, &out.sc)
		} else {
			ok, missing = c.eval(ctx, &out.sc)
		}
		if missing {
			out.addMissing(c.keyName)
		}
		if !ok {
			return false
		}
	}
	return true
}
