package policy

import "strings"

// A template is a Resource or condition value that may hold policy variables
// (${aws:username}, ${aws:PrincipalTag/team, 'default'}, ${*}...).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
type template struct {
	text  string  // compiled value when there are no variables
	parts []tpart // non-nil when the value holds at least one variable
	// prefix is literal text every match must start with (glob mode only):
	// a cheap first test that rejects most candidates before matching.
	prefix string
}

type tpart struct {
	lit    string // literal text (already glob-encoded in glob mode)
	key    string // lower-cased condition key; "" for a literal part
	kh     uint64 // hashKey(key)
	def    string // default used when key is absent
	hasDef bool
}

// compileTemplate parses s. withVars is false for policies without
// Version 2012-10-17, where ${...} is literal text. glob encodes the literal
// wildcards of Like/Arn/Resource patterns; substituted values and ${*} ${?}
// ${$} always stand for themselves. fromOffset leaves the first bytes of s
// without variable expansion (ARNs: only the resource part may hold variables).
func compileTemplate(s string, withVars, glob bool, fromOffset int) template {
	t := compileTemplateParts(s, withVars, glob, fromOffset)
	if glob {
		lit := t.text
		if t.parts != nil {
			lit = t.parts[0].lit // "" when the value starts with a variable
		}
		if i := strings.IndexAny(lit, string([]byte{wStar, wOne})); i >= 0 {
			lit = lit[:i]
		}
		t.prefix = lit
	}
	return t
}

func compileTemplateParts(s string, withVars, glob bool, fromOffset int) template {
	enc := func(x string) string {
		if glob {
			return encodeGlob(x)
		}
		return x
	}
	if !withVars || !strings.Contains(s[fromOffset:], "${") {
		return template{text: enc(s)}
	}
	var parts []tpart
	var lit strings.Builder
	lit.WriteString(enc(s[:fromOffset]))
	rest := s[fromOffset:]
	sawVar := false
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			lit.WriteString(enc(rest))
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			lit.WriteString(enc(rest))
			break
		}
		lit.WriteString(enc(rest[:i]))
		body := rest[i+2 : i+j]
		rest = rest[i+j+1:]
		switch body {
		case "*", "?", "$":
			lit.WriteString(body) // literal character, never a wildcard
			continue
		}
		key, def, hasDef, ok := parseVarBody(body)
		if !ok {
			lit.WriteString(enc("${" + body + "}"))
			continue
		}
		if lit.Len() > 0 {
			parts = append(parts, tpart{lit: lit.String()})
			lit.Reset()
		}
		lk := strings.ToLower(key)
		parts = append(parts, tpart{key: lk, kh: hashKey(lk), def: def, hasDef: hasDef})
		sawVar = true
	}
	if !sawVar {
		return template{text: lit.String()}
	}
	if lit.Len() > 0 {
		parts = append(parts, tpart{lit: lit.String()})
	}
	return template{parts: parts}
}

// parseVarBody splits "key" or "key, 'default'".
func parseVarBody(body string) (key, def string, hasDef, ok bool) {
	key = body
	if c := strings.IndexByte(body, ','); c >= 0 {
		key = body[:c]
		d := strings.TrimSpace(body[c+1:])
		if len(d) < 2 || d[0] != '\'' || d[len(d)-1] != '\'' {
			return "", "", false, false
		}
		def, hasDef = d[1:len(d)-1], true
	}
	key = strings.TrimSpace(key)
	if key == "" || !strings.Contains(key, ":") {
		return "", "", false, false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c <= ' ' || c == '$' || c == '{' || c == '}' || c == '\'' {
			return "", "", false, false
		}
	}
	return key, def, hasDef, true
}

func (t *template) hasVars() bool { return t.parts != nil }

// resolve appends the expanded template to buf. ok is false when a variable
// has no value (absent without default, or multi-valued): AWS then treats the
// whole value as matching nothing.
func (t *template) resolve(ctx *Context, buf []byte) ([]byte, bool) {
	for i := range t.parts {
		p := &t.parts[i]
		if p.key == "" {
			buf = append(buf, p.lit...)
			continue
		}
		ei, vals := ctx.entry(p.key, p.kh)
		present := ei >= 0
		var v string
		switch {
		case present && len(vals) == 1:
			v = vals[0]
		case !present && p.hasDef:
			v = p.def
		default:
			return buf, false
		}
		if strings.IndexByte(v, wStar) >= 0 || strings.IndexByte(v, wOne) >= 0 {
			return buf, false // would be read as a wildcard
		}
		buf = append(buf, v...)
	}
	return buf, true
}
