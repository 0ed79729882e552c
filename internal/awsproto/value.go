package awsproto

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Encoders accept the canonical document types plus a few conveniences
// handlers naturally produce (int, int32, []string, map[string]string, named
// string types, pointers); the coercions below centralise that tolerance.

// isAbsent reports whether v should be treated as a missing member: nil, a
// nil pointer, or a nil slice/map.
func isAbsent(v any) bool {
	if v == nil {
		return true
	}
	switch x := v.(type) {
	case string, int64, bool, time.Time:
		return false
	case []any:
		return x == nil
	case map[string]any:
		return x == nil
	case []byte:
		return x == nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// deref unwraps non-nil pointers so *string and friends encode like their
// targets.
func deref(v any) any {
	if t := reflect.TypeOf(v); t == nil || t.Kind() != reflect.Pointer {
		return v // fast path: no re-boxing (and no allocation) for plain values
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return nil
	}
	return rv.Interface()
}

func asString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case fmt.Stringer:
		if _, isTime := v.(time.Time); !isTime {
			return x.String(), true
		}
		return "", false
	}
	rv := reflect.ValueOf(deref(v))
	if rv.Kind() == reflect.String {
		return rv.String(), true
	}
	return "", false
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			return int64(x), true
		}
		return 0, false
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	rv := reflect.ValueOf(deref(v))
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return 0, false
		}
		return int64(u), true
	}
	return 0, false
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	if n, ok := asInt(v); ok {
		return float64(n), true
	}
	rv := reflect.ValueOf(deref(v))
	if rv.Kind() == reflect.Float32 || rv.Kind() == reflect.Float64 {
		return rv.Float(), true
	}
	return 0, false
}

func asBool(v any) (bool, bool) {
	if b, ok := v.(bool); ok {
		return b, true
	}
	rv := reflect.ValueOf(deref(v))
	if rv.Kind() == reflect.Bool {
		return rv.Bool(), true
	}
	return false, false
}

func asTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case *time.Time:
		if x != nil {
			return *x, true
		}
	}
	return time.Time{}, false
}

func asBytes(v any) ([]byte, bool) {
	switch x := v.(type) {
	case []byte:
		return x, true
	case string:
		return []byte(x), true
	}
	return nil, false
}

// forEach calls fn for each element of a list value.
func forEach(v any, fn func(e any) error) (bool, error) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if err := fn(e); err != nil {
				return true, err
			}
		}
		return true, nil
	case []string:
		for _, e := range x {
			if err := fn(e); err != nil {
				return true, err
			}
		}
		return true, nil
	case []map[string]any:
		for _, e := range x {
			if err := fn(e); err != nil {
				return true, err
			}
		}
		return true, nil
	}
	rv := reflect.ValueOf(deref(v))
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return false, nil
	}
	if rv.Type().Elem().Kind() == reflect.Uint8 {
		return false, nil // []byte is a blob, not a list
	}
	for i := 0; i < rv.Len(); i++ {
		if err := fn(rv.Index(i).Interface()); err != nil {
			return true, err
		}
	}
	return true, nil
}

// mapEntries returns a model-map value's entries sorted by key, for
// deterministic output.
func mapEntries(v any) ([]string, func(string) any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return sortedKeys(x), func(k string) any { return x[k] }, true
	case map[string]string:
		return sortedKeys(x), func(k string) any { return x[k] }, true
	case map[string]int64:
		return sortedKeys(x), func(k string) any { return x[k] }, true
	}
	rv := reflect.ValueOf(deref(v))
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, nil, false
	}
	vals := make(map[string]any, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		vals[it.Key().String()] = it.Value().Interface()
	}
	return sortedKeys(vals), func(k string) any { return vals[k] }, true
}

// asStruct returns a structure value's members.
func asStruct(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return x, true
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = e
		}
		return out, true
	}
	return nil, false
}

// --- timestamps ------------------------------------------------------------

const isoSeconds = "2006-01-02T15:04:05Z"

// timestampFormat resolves the member's timestamp format, falling back to
// the shape's and then the protocol/location default.
func timestampFormat(m *Member, def string) string {
	if m != nil && m.TimestampFormat != "" {
		return m.TimestampFormat
	}
	if m != nil && m.Shape.TimestampFormat != "" {
		return m.Shape.TimestampFormat
	}
	return def
}

func formatTimestamp(t time.Time, format string) string {
	return string(appendTimestamp(nil, t, format))
}

// rfc822 is the HTTP-date form AWS uses for rfc822 timestamps.
const rfc822 = "Mon, 02 Jan 2006 15:04:05 GMT"

func appendTimestamp(b []byte, t time.Time, format string) []byte {
	t = t.UTC()
	switch format {
	case "unixTimestamp":
		return append(b, formatEpoch(t)...)
	case "rfc822":
		return t.AppendFormat(b, rfc822)
	}
	return t.AppendFormat(b, isoSeconds)
}

// formatEpoch renders epoch seconds, with millisecond precision only when
// the time has a sub-second part (as AWS JSON services do).
func formatEpoch(t time.Time) string {
	sec := t.Unix()
	ms := t.Nanosecond() / int(time.Millisecond)
	if ms == 0 {
		return strconv.FormatInt(sec, 10)
	}
	return strings.TrimRight(fmt.Sprintf("%d.%03d", sec, ms), "0")
}

var isoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02",
}

// parseTimestamp accepts ISO 8601 (the SDKs' wire form), RFC 822/1123 and
// epoch seconds, whichever the text is.
func parseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range isoLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	for _, l := range []string{time.RFC1123, time.RFC1123Z, time.RFC850, time.ANSIC} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return epochToTime(f), nil
	}
	return time.Time{}, fmt.Errorf("invalid timestamp %q", s)
}

func epochToTime(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond)).UTC()
}

func decodeBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid base64: %w", err)
	}
	return b, nil
}
