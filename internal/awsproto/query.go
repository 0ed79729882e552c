package awsproto

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// formNode is one dotted segment of the query-protocol parameter names:
// "Tags.member.1.Key=k" becomes root→Tags→member→1→Key with value "k".
type formNode struct {
	val    string
	hasVal bool
	kids   map[string]*formNode
}

func buildFormTree(form url.Values) *formNode {
	root := &formNode{}
	for key, vals := range form {
		n := root
		for seg := range strings.SplitSeq(key, ".") {
			if n.kids == nil {
				n.kids = map[string]*formNode{}
			}
			c := n.kids[seg]
			if c == nil {
				c = &formNode{}
				n.kids[seg] = c
			}
			n = c
		}
		if len(vals) > 0 {
			n.val, n.hasVal = vals[0], true
		}
	}
	return root
}

// indexed returns the children whose names are positive integers, in index
// order. Gaps are tolerated and compacted; other names are ignored.
func (n *formNode) indexed() []*formNode {
	type ent struct {
		i int
		n *formNode
	}
	var ents []ent
	for k, c := range n.kids {
		i, err := strconv.Atoi(k)
		if err != nil || i < 1 || k[0] == '+' {
			continue
		}
		ents = append(ents, ent{i, c})
	}
	sort.Slice(ents, func(a, b int) bool { return ents[a].i < ents[b].i })
	out := make([]*formNode, len(ents))
	for i, e := range ents {
		out[i] = e.n
	}
	return out
}

// DecodeQuery decodes a query-protocol (IAM, STS) form into the operation's
// input document and validates it against the model. Parameters that are not
// members of the input shape (Action, Version, unknown names) are ignored.
func (op *Operation) DecodeQuery(form url.Values) (map[string]any, error) {
	doc := map[string]any{}
	if op.Input == nil {
		return doc, nil
	}
	d := queryDecoder{svc: op.Service}
	if err := d.structure(op.Input, buildFormTree(form), doc); err != nil {
		return nil, err
	}
	if verr := op.Validate(doc); verr != nil {
		return nil, verr
	}
	return doc, nil
}

type queryDecoder struct{ svc *Service }

func queryName(m *Member) string {
	if m.LocationName != "" {
		return m.LocationName
	}
	return m.Name
}

func (d queryDecoder) structure(sh *Shape, n *formNode, into map[string]any) error {
	for _, m := range sh.Members {
		name := queryName(m)
		c := n.kids[name]
		if c == nil {
			continue
		}
		v, ok, err := d.value(m, c)
		if err != nil {
			return err
		}
		if ok {
			into[m.Name] = v
		}
	}
	return nil
}

func (d queryDecoder) value(m *Member, n *formNode) (any, bool, error) {
	sh := m.Shape
	switch sh.Type {
	case "structure":
		if len(n.kids) == 0 {
			return nil, false, nil
		}
		out := map[string]any{}
		if err := d.structure(sh, n, out); err != nil {
			return nil, false, err
		}
		return out, true, nil
	case "list":
		if len(n.kids) == 0 {
			// "Member=" is how the SDKs send an explicitly empty list.
			if n.hasVal && n.val == "" {
				return []any{}, true, nil
			}
			return nil, false, nil
		}
		items := n
		if !(m.Flattened || sh.Flattened) {
			name := "member"
			if sh.Member.LocationName != "" {
				name = sh.Member.LocationName
			}
			items = n.kids[name]
			if items == nil {
				return nil, false, nil
			}
		}
		idx := items.indexed()
		out := make([]any, 0, len(idx))
		for _, c := range idx {
			v, ok, err := d.value(sh.Member, c)
			if err != nil {
				return nil, false, err
			}
			if ok {
				out = append(out, v)
			}
		}
		return out, true, nil
	case "map":
		if len(n.kids) == 0 {
			if n.hasVal && n.val == "" {
				return map[string]any{}, true, nil
			}
			return nil, false, nil
		}
		entries := n
		if !(m.Flattened || sh.Flattened) {
			entries = n.kids["entry"]
			if entries == nil {
				return nil, false, nil
			}
		}
		keyName, valName := "key", "value"
		if sh.Key.LocationName != "" {
			keyName = sh.Key.LocationName
		}
		if sh.Value.LocationName != "" {
			valName = sh.Value.LocationName
		}
		out := map[string]any{}
		for _, e := range entries.indexed() {
			k := e.kids[keyName]
			if k == nil || !k.hasVal {
				continue
			}
			vn := e.kids[valName]
			if vn == nil {
				continue
			}
			v, ok, err := d.value(sh.Value, vn)
			if err != nil {
				return nil, false, err
			}
			if ok {
				out[k.val] = v
			}
		}
		return out, true, nil
	}
	if !n.hasVal {
		return nil, false, nil
	}
	v, err := parseScalar(sh, n.val)
	if err != nil {
		// AWS query services (Coral) reject unparseable scalars before
		// validation with MalformedInput, e.g. "boolean must follow xsd1.1
		// definition" for Enabled=yes; other types follow the same form.
		return nil, false, d.svc.malformed("%s must follow xsd1.1 definition", sh.Type)
	}
	return v, true, nil
}

// parseScalar converts wire text to the document type of a scalar shape.
// Timestamps are accepted in any of AWS's formats regardless of the
// member's declared one, as the services themselves are lenient.
func parseScalar(sh *Shape, s string) (any, error) {
	switch sh.Type {
	case "string":
		return s, nil
	case "integer":
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%q is not a valid integer", s)
		}
		return n, nil
	case "long":
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a valid long", s)
		}
		return n, nil
	case "double", "float":
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a valid number", s)
		}
		return f, nil
	case "boolean":
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not a valid boolean", s)
	case "timestamp":
		t, err := parseTimestamp(s)
		if err != nil {
			return nil, err
		}
		return t, nil
	case "blob":
		return decodeBase64(s)
	}
	return nil, fmt.Errorf("unsupported shape type %q", sh.Type)
}

// --- XML encoding ----------------------------------------------------------

// EncodeQuery renders a query-protocol response document:
// <OpResponse xmlns=NS><OpResult>…</OpResult><ResponseMetadata>…</OpResponse>.
// Members are written in model order; absent (nil) members are omitted;
// document keys that are not model members are ignored.
func (op *Operation) EncodeQuery(out map[string]any, requestID string) ([]byte, error) {
	b := make([]byte, 0, 512)
	b = append(b, '<')
	b = append(b, op.Name...)
	b = append(b, "Response xmlns=\""...)
	b = appendEscaped(b, op.Service.XMLNamespace)
	b = append(b, "\">"...)
	if op.Output != nil {
		wrapper := op.ResultWrapper
		if wrapper == "" {
			wrapper = op.Name + "Result"
		}
		b = openTag(b, wrapper)
		if out == nil {
			out = map[string]any{} // an op with an empty result still has its Result element
		}
		var err error
		if b, err = appendXMLStruct(b, op.Output, out); err != nil {
			return nil, fmt.Errorf("awsproto: encode %s: %w", op.Name, err)
		}
		b = closeTag(b, wrapper)
	}
	b = append(b, "<ResponseMetadata><RequestId>"...)
	b = appendEscaped(b, requestID)
	b = append(b, "</RequestId></ResponseMetadata></"...)
	b = append(b, op.Name...)
	b = append(b, "Response>"...)
	return b, nil
}

// EncodeQueryError renders the query-protocol error envelope.
func (s *Service) EncodeQueryError(e *Error, requestID string) []byte {
	b := make([]byte, 0, 256)
	b = append(b, `<ErrorResponse xmlns="`...)
	b = appendEscaped(b, s.XMLNamespace)
	b = append(b, `"><Error><Type>`...)
	if e.Sender {
		b = append(b, "Sender"...)
	} else {
		b = append(b, "Receiver"...)
	}
	b = append(b, "</Type><Code>"...)
	b = appendEscaped(b, e.Code)
	b = append(b, "</Code><Message>"...)
	b = appendEscaped(b, e.Message)
	b = append(b, "</Message>"...)
	if sh := s.errorByCode[e.Code]; sh != nil && len(e.Fields) > 0 {
		for _, m := range sh.Members {
			v, ok := e.Fields[m.Name]
			if !ok || isAbsent(v) || m.Name == "message" || m.Name == "Message" {
				continue
			}
			// A field that does not fit its shape is dropped rather than
			// failing the error response itself.
			if nb, err := appendXMLMember(b, m, v); err == nil {
				b = nb
			}
		}
	}
	b = append(b, "</Error><RequestId>"...)
	b = appendEscaped(b, requestID)
	b = append(b, "</RequestId></ErrorResponse>"...)
	return b
}

func openTag(b []byte, name string) []byte {
	b = append(b, '<')
	b = append(b, name...)
	return append(b, '>')
}

func closeTag(b []byte, name string) []byte {
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

func appendXMLStruct(b []byte, sh *Shape, v any) ([]byte, error) {
	d, ok := asStruct(deref(v))
	if !ok {
		return b, fmt.Errorf("%s: cannot encode %T as structure", sh.Name, v)
	}
	for _, m := range sh.Members {
		mv, ok := d[m.Name]
		if !ok || isAbsent(mv) {
			continue
		}
		var err error
		if b, err = appendXMLMember(b, m, mv); err != nil {
			return b, fmt.Errorf("%s: %w", m.Name, err)
		}
	}
	return b, nil
}

func xmlName(m *Member, def string) string {
	if m.LocationName != "" {
		return m.LocationName
	}
	if def != "" {
		return def
	}
	return m.Name
}

func appendXMLMember(b []byte, m *Member, v any) ([]byte, error) {
	sh := m.Shape
	name := xmlName(m, "")
	v = deref(v)
	switch sh.Type {
	case "list":
		flat := m.Flattened || sh.Flattened
		elem := xmlName(sh.Member, "member")
		if flat {
			elem = name
		}
		if !flat {
			b = openTag(b, name)
		}
		var err error
		ok, ferr := forEach(v, func(e any) error {
			if isAbsent(e) {
				return nil
			}
			b, err = appendXMLValue(b, sh.Member, elem, e)
			return err
		})
		if !ok {
			return b, fmt.Errorf("cannot encode %T as list", v)
		}
		if ferr != nil {
			return b, ferr
		}
		if !flat {
			b = closeTag(b, name)
		}
		return b, nil
	case "map":
		flat := m.Flattened || sh.Flattened
		keys, get, ok := mapEntries(v)
		if !ok {
			return b, fmt.Errorf("cannot encode %T as map", v)
		}
		entry := "entry"
		if flat {
			entry = name
		} else {
			b = openTag(b, name)
		}
		keyName, valName := xmlName(sh.Key, "key"), xmlName(sh.Value, "value")
		for _, k := range keys {
			e := get(k)
			if isAbsent(e) {
				continue
			}
			b = openTag(b, entry)
			b = openTag(b, keyName)
			b = appendEscaped(b, k)
			b = closeTag(b, keyName)
			var err error
			if b, err = appendXMLValue(b, sh.Value, valName, e); err != nil {
				return b, fmt.Errorf("[%s]: %w", k, err)
			}
			b = closeTag(b, entry)
		}
		if !flat {
			b = closeTag(b, name)
		}
		return b, nil
	}
	return appendXMLValue(b, m, name, v)
}

// appendXMLValue writes <tag>value</tag> for a value of the member's shape.
func appendXMLValue(b []byte, m *Member, tag string, v any) ([]byte, error) {
	sh := m.Shape
	v = deref(v)
	switch sh.Type {
	case "structure":
		b = openTag(b, tag)
		var err error
		if b, err = appendXMLStruct(b, sh, v); err != nil {
			return b, err
		}
		return closeTag(b, tag), nil
	case "list", "map":
		// Nested collections: the element tag wraps the collection's own
		// member/entry elements.
		inner := *m
		inner.LocationName = tag
		inner.Flattened = false
		return appendXMLMember(b, &inner, v)
	}
	b = openTag(b, tag)
	b, err := appendScalarText(b, m, v, "iso8601", true)
	if err != nil {
		return b, err
	}
	return closeTag(b, tag), nil
}

// scalarText renders a scalar as wire text (headers, query strings).
func scalarText(m *Member, v any, defTimestamp string) (string, error) {
	b, err := appendScalarText(nil, m, v, defTimestamp, false)
	return string(b), err
}

// appendScalarText appends a scalar's wire text, XML-escaping strings when
// asked; appending avoids an allocation per value on large responses.
func appendScalarText(b []byte, m *Member, v any, defTimestamp string, xmlEscape bool) ([]byte, error) {
	sh := m.Shape
	switch sh.Type {
	case "string":
		if s, ok := asString(v); ok {
			if xmlEscape {
				return appendEscaped(b, s), nil
			}
			return append(b, s...), nil
		}
	case "integer", "long":
		if n, ok := asInt(v); ok {
			return strconv.AppendInt(b, n, 10), nil
		}
	case "double", "float":
		if f, ok := asFloat(v); ok {
			return append(b, formatFloatText(f)...), nil
		}
	case "boolean":
		if x, ok := asBool(v); ok {
			return strconv.AppendBool(b, x), nil
		}
	case "timestamp":
		if t, ok := asTime(v); ok {
			return appendTimestamp(b, t, timestampFormat(m, defTimestamp)), nil
		}
	case "blob":
		if p, ok := asBytes(v); ok {
			return base64.StdEncoding.AppendEncode(b, p), nil
		}
	}
	return b, fmt.Errorf("cannot encode %T as %s", v, sh.Type)
}

func formatFloatText(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// appendEscaped writes XML character data. Characters XML 1.0 cannot carry
// are replaced with U+FFFD so the SDKs' parsers never choke; CR and TAB are
// written as references so XML's newline normalisation does not alter them.
func appendEscaped(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '&' && c != '<' && c != '>' && c != '"' && c != '\'' {
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		var esc string
		switch {
		case r == '&':
			esc = "&amp;"
		case r == '<':
			esc = "&lt;"
		case r == '>':
			esc = "&gt;"
		case r == '"':
			esc = "&quot;"
		case r == '\'':
			esc = "&apos;"
		case r == '\n':
			esc = "&#xA;"
		case r == '\r':
			esc = "&#xD;"
		case r == '\t':
			esc = "&#x9;"
		case r == utf8.RuneError && size == 1, !isXMLChar(r):
			esc = "\uFFFD"
		default:
			i += size
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		i += size
		last = i
	}
	return append(b, s[last:]...)
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}
