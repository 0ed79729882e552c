package awsproto

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Validate checks a decoded input document against the operation's input
// shape constraints (required, length, range, enum, pattern) and returns the
// service's validation error in AWS's message format, or nil.
func (op *Operation) Validate(doc map[string]any) *Error {
	if op.Input == nil {
		return nil
	}
	var v validator
	v.structure(op.Input, doc, "")
	if len(v.errs) == 0 {
		return nil
	}
	return op.Service.NewError(op.Service.validationCode(), validationMessage(v.errs))
}

// validationMessage renders Coral's aggregate message:
// "2 validation errors detected: <first>; <second>".
func validationMessage(errs []string) string {
	noun := "errors"
	if len(errs) == 1 {
		noun = "error"
	}
	return fmt.Sprintf("%d validation %s detected: %s", len(errs), noun, strings.Join(errs, "; "))
}

type validator struct{ errs []string }

// memberPath prints a member the way AWS does: the member name with its first
// letter lower-cased ("UserName" -> "userName", "SAMLAssertion" ->
// "sAMLAssertion"), joined with dots.
func memberPath(parent, name string) string {
	r, n := utf8.DecodeRuneInString(name)
	lc := strings.ToLower(string(r)) + name[n:]
	if parent == "" {
		return lc
	}
	return parent + "." + lc
}

func (v *validator) add(path string, sh *Shape, val any, constraint string) {
	if sh.Sensitive {
		// Sensitive values are not echoed back ("Value at 'password' ...").
		v.errs = append(v.errs, fmt.Sprintf("Value at '%s' failed to satisfy constraint: %s", path, constraint))
		return
	}
	v.errs = append(v.errs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", quoteValue(val), path, constraint))
}

func (v *validator) structure(sh *Shape, d map[string]any, parent string) {
	for _, m := range sh.Members {
		path := memberPath(parent, m.Name)
		val, ok := d[m.Name]
		if !ok || val == nil {
			if sh.required[m.Name] {
				v.errs = append(v.errs, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", path))
			}
			continue
		}
		v.value(m.Shape, val, path)
	}
}

func (v *validator) value(sh *Shape, val any, path string) {
	switch sh.Type {
	case "structure":
		if d, ok := val.(map[string]any); ok {
			v.structure(sh, d, path)
		}
	case "list":
		l, ok := val.([]any)
		if !ok {
			return
		}
		for _, c := range lengthConstraints(sh, len(l)) {
			v.add(path, sh, val, c)
		}
		if sh.Member.Shape.Type == "structure" || sh.Member.Shape.Type == "list" || sh.Member.Shape.Type == "map" {
			for i, e := range l {
				v.value(sh.Member.Shape, e, fmt.Sprintf("%s.%d.member", path, i+1))
			}
			return
		}
		// Scalar elements: AWS reports one error for the list naming the
		// element constraints that failed.
		var failed []string
		for _, e := range l {
			failed = appendUnique(failed, scalarConstraints(sh.Member.Shape, e)...)
		}
		if len(failed) > 0 {
			v.add(path, sh, val, "Member must satisfy constraint: ["+strings.Join(failed, ", ")+"]")
		}
	case "map":
		m, ok := val.(map[string]any)
		if !ok {
			return
		}
		for _, c := range lengthConstraints(sh, len(m)) {
			v.add(path, sh, val, c)
		}
		var keyFailed, valFailed []string
		for _, k := range sortedKeys(m) {
			keyFailed = appendUnique(keyFailed, scalarConstraints(sh.Key.Shape, k)...)
			switch sh.Value.Shape.Type {
			case "structure", "list", "map":
				v.value(sh.Value.Shape, m[k], path+"."+k+".member")
			default:
				valFailed = appendUnique(valFailed, scalarConstraints(sh.Value.Shape, m[k])...)
			}
		}
		if len(keyFailed) > 0 {
			v.add(path, sh, val, "Map keys must satisfy constraint: ["+strings.Join(keyFailed, ", ")+"]")
		}
		if len(valFailed) > 0 {
			v.add(path, sh, val, "Map value must satisfy constraint: ["+strings.Join(valFailed, ", ")+"]")
		}
	default:
		for _, c := range scalarConstraints(sh, val) {
			v.add(path, sh, val, c)
		}
	}
}

// scalarConstraints returns the constraint messages a scalar value violates,
// in the order AWS lists them (pattern before length).
func scalarConstraints(sh *Shape, val any) []string {
	var out []string
	switch x := val.(type) {
	case string:
		if !sh.matchPattern(x) {
			out = append(out, "Member must satisfy regular expression pattern: "+sh.Pattern)
		}
		out = append(out, lengthConstraints(sh, javaLen(x))...)
		if len(sh.enumSet) > 0 && !sh.enumSet[x] {
			out = append(out, "Member must satisfy enum value set: ["+strings.Join(sh.Enum, ", ")+"]")
		}
	case []byte:
		out = append(out, lengthConstraints(sh, len(x))...)
	case int64:
		out = append(out, rangeConstraints(sh, float64(x))...)
	case float64:
		out = append(out, rangeConstraints(sh, x)...)
	}
	return out
}

func lengthConstraints(sh *Shape, n int) []string {
	var out []string
	if sh.HasMin && float64(n) < sh.Min {
		out = append(out, "Member must have length greater than or equal to "+formatBound(sh.Min))
	}
	if sh.HasMax && float64(n) > sh.Max {
		out = append(out, "Member must have length less than or equal to "+formatBound(sh.Max))
	}
	return out
}

func rangeConstraints(sh *Shape, x float64) []string {
	var out []string
	if sh.HasMin && x < sh.Min {
		out = append(out, "Member must have value greater than or equal to "+formatBound(sh.Min))
	}
	if sh.HasMax && x > sh.Max {
		out = append(out, "Member must have value less than or equal to "+formatBound(sh.Max))
	}
	return out
}

func formatBound(f float64) string {
	if f == float64(int64(f)) {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// javaLen counts UTF-16 code units, which is what AWS's (Java) length
// constraints measure.
func javaLen(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}

func appendUnique(dst []string, add ...string) []string {
next:
	for _, a := range add {
		for _, d := range dst {
			if d == a {
				continue next
			}
		}
		dst = append(dst, a)
	}
	return dst
}

// quoteValue renders a value the way Coral's messages do: 'text' for
// scalars, '[a, b]' for lists.
func quoteValue(val any) string {
	return "'" + plainValue(val) + "'"
}

func plainValue(val any) string {
	switch x := val.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case []byte:
		return fmt.Sprintf("java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]", len(x), len(x))
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = plainValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := sortedKeys(x)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + plainValue(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(val)
}
