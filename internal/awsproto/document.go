package awsproto

import "time"

// Helpers for handlers reading decoded documents. They tolerate absent
// members and the encoder-accepted variants, so handlers need no type
// switches for the common cases.

// Str returns d[k] as a string, or "" if absent or not a string.
func Str(d map[string]any, k string) string {
	if d[k] == nil {
		return ""
	}
	s, _ := asString(d[k])
	return s
}

// Int returns d[k] as an int64 and whether it was present.
func Int(d map[string]any, k string) (int64, bool) {
	if d[k] == nil {
		return 0, false
	}
	return asInt(d[k])
}

// Bool returns d[k] as a bool and whether it was present.
func Bool(d map[string]any, k string) (bool, bool) {
	if d[k] == nil {
		return false, false
	}
	return asBool(d[k])
}

// Time returns d[k] as a time and whether it was present.
func Time(d map[string]any, k string) (time.Time, bool) {
	return asTime(d[k])
}

// List returns d[k] as a list, or nil if absent or not a list.
func List(d map[string]any, k string) []any {
	switch x := d[k].(type) {
	case []any:
		return x
	case nil:
		return nil
	}
	var out []any
	if ok, _ := forEach(d[k], func(e any) error { out = append(out, e); return nil }); !ok {
		return nil
	}
	if out == nil {
		out = []any{}
	}
	return out
}

// Strings returns a list of strings at d[k]; non-string elements are skipped.
func Strings(d map[string]any, k string) []string {
	l := List(d, k)
	if l == nil {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Struct returns d[k] as a structure (or model map), or nil.
func Struct(d map[string]any, k string) map[string]any {
	m, _ := asStruct(d[k])
	return m
}
