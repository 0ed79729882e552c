package awsproto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// JSONContentType is the JSON 1.1 protocol's content type.
const JSONContentType = "application/x-amz-json-1.1"

// DecodeJSON decodes a JSON 1.1 request body (Organizations, CloudTrail,
// Budgets) into the operation's input document and validates it. An empty
// body is an empty input. Unknown members are ignored, as AWS does.
func (op *Operation) DecodeJSON(body []byte) (map[string]any, error) {
	doc, err := op.decodeJSONBody(body, false)
	if err != nil {
		return nil, err
	}
	if verr := op.Validate(doc); verr != nil {
		return nil, verr
	}
	return doc, nil
}

// decodeJSONBody parses body into the input shape; bodyOnly restricts to
// members without an HTTP location (rest-json).
func (op *Operation) decodeJSONBody(body []byte, bodyOnly bool) (map[string]any, error) {
	doc := map[string]any{}
	if len(bytes.TrimSpace(body)) == 0 || op.Input == nil {
		return doc, nil
	}
	raw, err := parseJSON(body)
	if err != nil {
		return nil, op.Service.malformed("Invalid JSON request body: %v", err)
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		if raw == nil {
			return doc, nil
		}
		return nil, op.Service.malformed("Expected a JSON object as the request body")
	}
	d := jsonDecoder{svc: op.Service, bodyOnly: bodyOnly}
	if err := d.structure(op.Input, obj, doc); err != nil {
		return nil, err
	}
	return doc, nil
}

func parseJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("malformed JSON: trailing data after the value")
	}
	return v, nil
}

type jsonDecoder struct {
	svc      *Service
	bodyOnly bool
}

func jsonName(m *Member) string {
	if m.LocationName != "" && m.Location == "" {
		return m.LocationName
	}
	return m.Name
}

func (d jsonDecoder) structure(sh *Shape, obj map[string]any, into map[string]any) error {
	for _, m := range sh.Members {
		if d.bodyOnly && m.Location != "" {
			continue
		}
		raw, ok := obj[jsonName(m)]
		if !ok || raw == nil {
			continue
		}
		v, err := d.value(m, raw)
		if err != nil {
			return err
		}
		into[m.Name] = v
	}
	return nil
}

// jsonKind names a JSON value's kind the way Coral's messages do.
func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "STRING_VALUE"
	case json.Number:
		return "NUMBER_VALUE"
	case bool:
		return "BOOLEAN_VALUE"
	case map[string]any:
		return "START_OBJECT"
	case []any:
		return "START_ARRAY"
	}
	return "VALUE"
}

var typeArticle = map[string]string{
	"string": "a String", "integer": "an Integer", "long": "a Long", "double": "a Double",
	"float": "a Float", "boolean": "a Boolean", "timestamp": "a Timestamp", "blob": "a Blob",
}

func (d jsonDecoder) mismatch(sh *Shape, v any) error {
	switch v.(type) {
	case map[string]any:
		return d.svc.malformed("Start of structure or map found where not expected.")
	case []any:
		return d.svc.malformed("Start of list found where not expected")
	}
	switch sh.Type {
	case "structure", "map":
		return d.svc.malformed("Expected a structure or map but found %s", jsonKind(v))
	case "list":
		return d.svc.malformed("Expected a list but found %s", jsonKind(v))
	}
	return d.svc.malformed("%s can not be converted to %s", jsonKind(v), typeArticle[sh.Type])
}

func (d jsonDecoder) value(m *Member, raw any) (any, error) {
	sh := m.Shape
	switch sh.Type {
	case "structure":
		obj, ok := raw.(map[string]any)
		if !ok {
			return nil, d.mismatch(sh, raw)
		}
		out := map[string]any{}
		inner := jsonDecoder{svc: d.svc} // HTTP locations only apply at the top level
		if err := inner.structure(sh, obj, out); err != nil {
			return nil, err
		}
		return out, nil
	case "list":
		arr, ok := raw.([]any)
		if !ok {
			return nil, d.mismatch(sh, raw)
		}
		out := make([]any, 0, len(arr))
		for _, e := range arr {
			if e == nil {
				continue
			}
			v, err := d.value(sh.Member, e)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case "map":
		obj, ok := raw.(map[string]any)
		if !ok {
			return nil, d.mismatch(sh, raw)
		}
		out := make(map[string]any, len(obj))
		for k, e := range obj {
			if e == nil {
				continue
			}
			v, err := d.value(sh.Value, e)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case "string":
		if s, ok := raw.(string); ok {
			return s, nil
		}
	case "integer", "long":
		if n, ok := raw.(json.Number); ok {
			bits := 64
			if sh.Type == "integer" {
				bits = 32
			}
			if i, err := strconv.ParseInt(string(n), 10, bits); err == nil {
				return i, nil
			}
			return nil, d.svc.malformed("NUMBER_VALUE %s can not be converted to %s", n, typeArticle[sh.Type])
		}
	case "double", "float":
		switch x := raw.(type) {
		case json.Number:
			if f, err := strconv.ParseFloat(string(x), 64); err == nil {
				return f, nil
			}
		case string:
			// JSON cannot carry non-finite numbers; AWS sends them as strings.
			switch x {
			case "NaN":
				return math.NaN(), nil
			case "Infinity":
				return math.Inf(1), nil
			case "-Infinity":
				return math.Inf(-1), nil
			}
		}
	case "boolean":
		if b, ok := raw.(bool); ok {
			return b, nil
		}
	case "timestamp":
		switch x := raw.(type) {
		case json.Number:
			f, err := strconv.ParseFloat(string(x), 64)
			if err == nil && !math.IsInf(f, 0) && math.Abs(f) < 1e15 {
				return epochToTime(f), nil
			}
			return nil, d.svc.malformed("Invalid timestamp %s", x)
		case string:
			t, err := parseTimestamp(x)
			if err != nil {
				return nil, d.svc.malformed("Invalid timestamp %q", x)
			}
			return t, nil
		}
	case "blob":
		if s, ok := raw.(string); ok {
			b, err := decodeBase64(s)
			if err != nil {
				return nil, d.svc.malformed("Invalid base64 value for %s", m.Name)
			}
			return b, nil
		}
	}
	return nil, d.mismatch(sh, raw)
}

// EncodeJSON renders a JSON 1.1 response body for the operation's output
// document. Members are written in model order; absent members are omitted.
func (op *Operation) EncodeJSON(out map[string]any) ([]byte, error) {
	if op.Output == nil {
		return []byte("{}"), nil
	}
	if out == nil {
		out = map[string]any{}
	}
	b, err := appendJSONStruct(make([]byte, 0, 256), op.Output, out, false)
	if err != nil {
		return nil, fmt.Errorf("awsproto: encode %s: %w", op.Name, err)
	}
	return b, nil
}

// EncodeJSONError renders a JSON 1.1 error: {"__type":"Code","message":…}
// plus any extra error-shape members from e.Fields, with the
// X-Amzn-ErrorType and Content-Type headers.
func (s *Service) EncodeJSONError(e *Error) (body []byte, header http.Header) {
	header = http.Header{}
	header.Set("Content-Type", JSONContentType)
	header.Set("X-Amzn-ErrorType", e.Code)
	b := append([]byte(nil), `{"__type":`...)
	b = appendJSONString(b, e.Code)
	b = s.appendErrorMembers(b, e, false, header)
	return append(b, '}'), header
}

// appendErrorMembers writes the message and e.Fields members (after a
// leading comma) using the error shape's member names.
func (s *Service) appendErrorMembers(b []byte, e *Error, first bool, header http.Header) []byte {
	sh := s.errorByCode[e.Code]
	msgKey := "message"
	if sh != nil {
		for _, m := range sh.Members {
			if m.Name == "Message" || m.Name == "message" {
				msgKey = m.Name
			}
		}
	}
	sep := func() {
		if !first {
			b = append(b, ',')
		}
		first = false
	}
	if e.Message != "" {
		sep()
		b = appendJSONString(b, msgKey)
		b = append(b, ':')
		b = appendJSONString(b, e.Message)
	}
	if sh == nil {
		return b
	}
	for _, m := range sh.Members {
		v, ok := e.Fields[m.Name]
		if !ok || isAbsent(v) || m.Name == msgKey {
			continue
		}
		if m.Location == "header" {
			if text, err := scalarText(m, deref(v), "rfc822"); err == nil {
				header.Set(m.LocationName, text)
			}
			continue
		}
		if m.Location != "" {
			continue
		}
		// A field that does not fit its shape is dropped rather than
		// failing the error response itself.
		nb := append(b, ',')
		if first {
			nb = b
		}
		nb = appendJSONString(nb, jsonName(m))
		nb = append(nb, ':')
		if nb, err := appendJSONValue(nb, m, v); err == nil {
			b = nb
			first = false
		}
	}
	return b
}

func appendJSONStruct(b []byte, sh *Shape, v any, bodyOnly bool) ([]byte, error) {
	d, ok := asStruct(deref(v))
	if !ok {
		return b, fmt.Errorf("%s: cannot encode %T as structure", sh.Name, v)
	}
	b = append(b, '{')
	first := true
	for _, m := range sh.Members {
		if bodyOnly && m.Location != "" {
			continue
		}
		mv, ok := d[m.Name]
		if !ok || isAbsent(mv) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, jsonName(m))
		b = append(b, ':')
		var err error
		if b, err = appendJSONValue(b, m, mv); err != nil {
			return b, fmt.Errorf("%s: %w", m.Name, err)
		}
	}
	return append(b, '}'), nil
}

func appendJSONValue(b []byte, m *Member, v any) ([]byte, error) {
	sh := m.Shape
	v = deref(v)
	switch sh.Type {
	case "structure":
		return appendJSONStruct(b, sh, v, false)
	case "list":
		b = append(b, '[')
		first := true
		var err error
		ok, ferr := forEach(v, func(e any) error {
			if isAbsent(e) {
				return nil
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b, err = appendJSONValue(b, sh.Member, e)
			return err
		})
		if !ok {
			return b, fmt.Errorf("cannot encode %T as list", v)
		}
		if ferr != nil {
			return b, ferr
		}
		return append(b, ']'), nil
	case "map":
		keys, get, ok := mapEntries(v)
		if !ok {
			return b, fmt.Errorf("cannot encode %T as map", v)
		}
		b = append(b, '{')
		first := true
		for _, k := range keys {
			e := get(k)
			if isAbsent(e) {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendJSONString(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendJSONValue(b, sh.Value, e); err != nil {
				return b, fmt.Errorf("[%s]: %w", k, err)
			}
		}
		return append(b, '}'), nil
	case "string":
		if s, ok := asString(v); ok {
			return appendJSONString(b, s), nil
		}
	case "integer", "long":
		if n, ok := asInt(v); ok {
			return strconv.AppendInt(b, n, 10), nil
		}
	case "double", "float":
		if f, ok := asFloat(v); ok {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return appendJSONString(b, formatFloatText(f)), nil
			}
			return strconv.AppendFloat(b, f, 'g', -1, 64), nil
		}
	case "boolean":
		if x, ok := asBool(v); ok {
			return strconv.AppendBool(b, x), nil
		}
	case "timestamp":
		if t, ok := asTime(v); ok {
			f := timestampFormat(m, "unixTimestamp")
			if f == "unixTimestamp" {
				return append(b, formatEpoch(t)...), nil
			}
			return appendJSONString(b, formatTimestamp(t, f)), nil
		}
	case "blob":
		if p, ok := asBytes(v); ok {
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, p)
			return append(b, '"'), nil
		}
	}
	return b, fmt.Errorf("cannot encode %T as %s", v, sh.Type)
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[last:i]...)
				b = append(b, `\ufffd`...)
				i += size
				last = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[last:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		last = i
	}
	b = append(b, s[last:]...)
	return append(b, '"')
}
