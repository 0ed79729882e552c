package policy

// Compiled glob patterns encode the wildcards as control bytes so that a
// literal '*' or '?' (from ${*}, ${?} or a substituted variable value) can sit
// in the same string without escaping rules.
const (
	wStar = '\x01'
	wOne  = '\x02'
)

// encodeGlob turns a policy pattern into its compiled form.
func encodeGlob(p string) string {
	b := []byte(p)
	for i, c := range b {
		switch c {
		case '*':
			b[i] = wStar
		case '?':
			b[i] = wOne
		}
	}
	return string(b)
}

// hasWild reports whether a compiled pattern contains a wildcard.
func hasWild(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] == wStar || p[i] == wOne {
			return true
		}
	}
	return false
}

type text interface{ ~string | ~[]byte }

// globMatch matches s against a compiled pattern. It keeps only the most
// recent star as a backtrack point, which is correct for globs (a later star
// subsumes any earlier choice) and bounds the work by len(p)*len(s) with no
// exponential blow-up, whatever the pattern. '?' matches exactly one
// character (rune), as in AWS.
func globMatch[P text, S text](p P, s S) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch c := p[pi]; c {
			case wStar:
				starP, starS = pi, si
				pi++
				continue
			case wOne:
				pi++
				si += runeLen(s, si)
				continue
			default:
				if c == s[si] {
					pi++
					si++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last star absorb one more character and retry after it.
		starS += runeLen(s, starS)
		pi, si = starP+1, starS
	}
	for pi < len(p) && p[pi] == wStar {
		pi++
	}
	return pi == len(p)
}

// runeLen is the byte length of the UTF-8 sequence starting at s[i] (1 for
// invalid bytes), so '?' consumes one character rather than one byte.
func runeLen[S text](s S, i int) int {
	c := s[i]
	n := 1
	switch {
	case c >= 0xF0:
		n = 4
	case c >= 0xE0:
		n = 3
	case c >= 0xC0:
		n = 2
	}
	if i+n > len(s) {
		return 1
	}
	for k := 1; k < n; k++ {
		if s[i+k]&0xC0 != 0x80 {
			return 1
		}
	}
	return n
}

// arnMatch matches an ARN against a compiled ARN pattern the way AWS does for
// Resource/NotResource and the Arn* condition operators: the six
// colon-separated components are matched separately, and the last component
// of the pattern covers the rest of the value, so '*' can span ':' and '/'
// inside the resource part but never crosses into the account or region.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
// A value that is not an ARN (e.g. "*") is compared as a whole.
func arnMatch[P text, S text](p P, s S) bool {
	pp, ps := 0, 0
	for part := 0; part < 5; part++ {
		pe := indexColon(p, pp)
		if pe < 0 { // pattern ends here: its last component takes the rest
			break
		}
		se := indexColon(s, ps)
		if se < 0 {
			if part == 0 {
				return globMatch(p, s)
			}
			return false
		}
		if !globMatch(p[pp:pe], s[ps:se]) {
			return false
		}
		pp, ps = pe+1, se+1
	}
	return globMatch(p[pp:], s[ps:])
}

func indexColon[S text](s S, from int) int {
	for i := from; i < len(s); i++ {
		if s[i] == ':' {
			return i
		}
	}
	return -1
}
