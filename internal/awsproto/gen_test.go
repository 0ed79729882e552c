package awsproto

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp/syntax"
	"strconv"
	"strings"
	"time"
)

// This file holds test helpers: a model-driven sample document generator and
// an independent query-form serializer (mirroring how the SDKs serialize),
// used to prove every operation's input decodes.

var sampleTime = time.Date(2024, 3, 5, 7, 9, 11, 0, time.UTC)

type sampler struct {
	stack map[string]int
}

func newSampler() *sampler { return &sampler{stack: map[string]int{}} }

// structure builds a document with every member set.
func (g *sampler) structure(sh *Shape) map[string]any {
	g.stack[sh.Name]++
	defer func() { g.stack[sh.Name]-- }()
	d := map[string]any{}
	for _, m := range sh.Members {
		if m.Location == "header" || m.Location == "headers" || m.Location == "statusCode" {
			continue
		}
		// A recursive shape re-entered gets only its required members.
		if g.stack[sh.Name] > 1 && !sh.IsRequired(m.Name) {
			continue
		}
		d[m.Name] = g.value(m.Shape, 0)
	}
	return d
}

func (g *sampler) value(sh *Shape, variant int) any {
	switch sh.Type {
	case "structure":
		return g.structure(sh)
	case "list":
		n := 2
		if sh.HasMax && float64(n) > sh.Max {
			n = int(sh.Max)
		}
		if sh.HasMin && float64(n) < sh.Min {
			n = int(sh.Min)
		}
		l := make([]any, 0, n)
		for i := range n {
			l = append(l, g.value(sh.Member.Shape, i))
		}
		return l
	case "map":
		m := map[string]any{}
		n := 2
		if sh.HasMax && float64(n) > sh.Max {
			n = int(sh.Max)
		}
		for i := range n {
			k := sampleString(sh.Key.Shape, i).(string)
			m[k] = g.value(sh.Value.Shape, i)
		}
		return m
	case "string":
		return sampleString(sh, variant)
	case "integer", "long":
		n := int64(1)
		if sh.HasMin && float64(n) < sh.Min {
			n = int64(sh.Min)
		}
		if sh.HasMax && float64(n) > sh.Max {
			n = int64(sh.Max)
		}
		return n
	case "double", "float":
		f := 1.5
		if sh.HasMin && f < sh.Min {
			f = sh.Min
		}
		if sh.HasMax && f > sh.Max {
			f = sh.Max
		}
		return f
	case "boolean":
		return true
	case "timestamp":
		return sampleTime
	case "blob":
		return []byte("sample-blob")
	}
	panic("unknown type " + sh.Type)
}

// sampleString returns a string satisfying the shape's enum, pattern and
// length constraints, generated from the pattern's syntax tree.
func sampleString(sh *Shape, variant int) any {
	if sh.IsEnum() {
		return sh.Enum[variant%len(sh.Enum)]
	}
	ok := func(s string) bool { return scalarConstraintsOK(sh, s) }
	if sh.re != nil {
		re, err := syntax.Parse(javaUnicodeEscape.ReplaceAllString(sh.Pattern, `\x{$1}`), syntax.Perl)
		if err == nil {
			for reps := 1; reps <= 300; reps++ {
				s := genRegexp(re.Simplify(), reps, variant)
				if ok(s) {
					return s
				}
			}
		}
	}
	for _, c := range []string{"abc" + strconv.Itoa(variant), "sample" + strconv.Itoa(variant)} {
		if ok(c) {
			return c
		}
	}
	if sh.HasMin {
		s := strings.Repeat("a", int(sh.Min))
		if ok(s) {
			return s
		}
	}
	panic(fmt.Sprintf("cannot generate a string for shape %s (pattern %q)", sh.Name, sh.Pattern))
}

func scalarConstraintsOK(sh *Shape, s string) bool { return len(scalarConstraints(sh, s)) == 0 }

// genRegexp produces a string matching re, repeating starred parts reps
// times so length minimums can be reached.
func genRegexp(re *syntax.Regexp, reps, variant int) string {
	var b strings.Builder
	var walk func(r *syntax.Regexp)
	walk = func(r *syntax.Regexp) {
		switch r.Op {
		case syntax.OpLiteral:
			b.WriteString(string(r.Rune))
		case syntax.OpCharClass:
			b.WriteRune(pickRune(r.Rune, variant))
		case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
			b.WriteByte('x')
		case syntax.OpCapture:
			walk(r.Sub[0])
		case syntax.OpConcat:
			for _, s := range r.Sub {
				walk(s)
			}
		case syntax.OpAlternate:
			walk(r.Sub[0])
		case syntax.OpStar, syntax.OpPlus:
			for range reps {
				walk(r.Sub[0])
			}
		case syntax.OpQuest:
			walk(r.Sub[0])
		case syntax.OpRepeat:
			n := max(r.Min, min(reps, r.Max))
			if r.Max == -1 {
				n = max(r.Min, reps)
			}
			for range n {
				walk(r.Sub[0])
			}
		}
	}
	walk(re)
	return b.String()
}

// pickRune prefers a letter or digit from a character class.
func pickRune(ranges []rune, variant int) rune {
	for _, pref := range []rune{'a' + rune(variant%26), 'a', 'b', 'A', '0', '1'} {
		for i := 0; i+1 < len(ranges); i += 2 {
			if pref >= ranges[i] && pref <= ranges[i+1] {
				return pref
			}
		}
	}
	for i := 0; i+1 < len(ranges); i += 2 {
		lo := max(ranges[i], 0x21)
		if lo <= ranges[i+1] {
			return lo
		}
	}
	return ranges[0]
}

// toForm serializes a document the way the SDKs' query serializers do.
func toForm(sh *Shape, d map[string]any, action, version string) url.Values {
	f := url.Values{"Action": {action}, "Version": {version}}
	formStruct(f, "", sh, d)
	return f
}

func formStruct(f url.Values, prefix string, sh *Shape, d map[string]any) {
	for _, m := range sh.Members {
		v, ok := d[m.Name]
		if !ok {
			continue
		}
		name := m.Name
		if m.LocationName != "" {
			name = m.LocationName
		}
		formValue(f, joinKey(prefix, name), m, v)
	}
}

func formValue(f url.Values, key string, m *Member, v any) {
	sh := m.Shape
	switch sh.Type {
	case "structure":
		formStruct(f, key, sh, v.(map[string]any))
	case "list":
		l := v.([]any)
		if len(l) == 0 {
			f.Set(key, "")
			return
		}
		for i, e := range l {
			k := fmt.Sprintf("%s.member.%d", key, i+1)
			if m.Flattened || sh.Flattened {
				k = fmt.Sprintf("%s.%d", key, i+1)
			}
			formValue(f, k, sh.Member, e)
		}
	case "map":
		mp := v.(map[string]any)
		i := 0
		for _, k := range sortedKeys(mp) {
			i++
			base := fmt.Sprintf("%s.entry.%d", key, i)
			f.Set(base+".key", k)
			formValue(f, base+".value", sh.Value, mp[k])
		}
	case "timestamp":
		f.Set(key, v.(time.Time).UTC().Format(time.RFC3339))
	case "blob":
		f.Set(key, base64.StdEncoding.EncodeToString(v.([]byte)))
	case "boolean":
		f.Set(key, strconv.FormatBool(v.(bool)))
	case "integer", "long":
		f.Set(key, strconv.FormatInt(v.(int64), 10))
	case "double", "float":
		f.Set(key, strconv.FormatFloat(v.(float64), 'f', -1, 64))
	default:
		f.Set(key, v.(string))
	}
}

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}
