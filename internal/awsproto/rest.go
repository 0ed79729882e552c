package awsproto

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// RESTContentType is the rest-json protocol's content type.
const RESTContentType = "application/json"

// route is a parsed rest-json requestUri template, e.g. "/things/{Id}?list".
type route struct {
	op       *Operation
	method   string
	segs     []routeSeg
	query    map[string]string // literal query constraints from the template
	literals int
}

type routeSeg struct {
	lit    string
	param  string
	greedy bool
}

func parseRoute(op *Operation) (*route, error) {
	path, rawQuery, _ := strings.Cut(op.RequestURI, "?")
	r := &route{op: op, method: strings.ToUpper(op.HTTPMethod)}
	for _, s := range splitPath(path) {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			name := s[1 : len(s)-1]
			greedy := strings.HasSuffix(name, "+")
			r.segs = append(r.segs, routeSeg{param: strings.TrimSuffix(name, "+"), greedy: greedy})
			continue
		}
		if strings.ContainsAny(s, "{}") {
			return nil, fmt.Errorf("unsupported uri template segment %q", s)
		}
		r.segs = append(r.segs, routeSeg{lit: s})
		r.literals++
	}
	if rawQuery != "" {
		r.query = map[string]string{}
		for kv := range strings.SplitSeq(rawQuery, "&") {
			k, v, _ := strings.Cut(kv, "=")
			r.query[k] = v
		}
	}
	return r, nil
}

// sortRoutes puts more specific templates first so literals win over params.
func sortRoutes(rs []*route) {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].literals != rs[j].literals {
			return rs[i].literals > rs[j].literals
		}
		if len(rs[i].query) != len(rs[j].query) {
			return len(rs[i].query) > len(rs[j].query)
		}
		return rs[i].op.Name < rs[j].op.Name
	})
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// Match routes a rest-json request by method and path (which may carry a
// query string) to an operation, returning the unescaped URI parameters.
func (s *Service) Match(method, path string) (*Operation, map[string]string) {
	p, rawQuery, _ := strings.Cut(path, "?")
	segs := splitPath(p)
	var q url.Values
	method = strings.ToUpper(method)
	for _, r := range s.routes {
		if r.method != method {
			continue
		}
		params, ok := r.match(segs)
		if !ok {
			continue
		}
		if len(r.query) > 0 {
			if q == nil {
				q, _ = url.ParseQuery(rawQuery)
			}
			if !queryMatches(r.query, q) {
				continue
			}
		}
		return r.op, params
	}
	return nil, nil
}

func queryMatches(want map[string]string, q url.Values) bool {
	for k, v := range want {
		got, ok := q[k]
		if !ok || (v != "" && (len(got) == 0 || got[0] != v)) {
			return false
		}
	}
	return true
}

func (r *route) match(segs []string) (map[string]string, bool) {
	params := map[string]string{}
	i := 0
	for si, rs := range r.segs {
		if rs.greedy {
			if i >= len(segs) || si != len(r.segs)-1 {
				return nil, false
			}
			v, err := url.PathUnescape(strings.Join(segs[i:], "/"))
			if err != nil {
				return nil, false
			}
			params[rs.param] = v
			return params, true
		}
		if i >= len(segs) {
			return nil, false
		}
		if rs.param != "" {
			v, err := url.PathUnescape(segs[i])
			if err != nil || v == "" {
				return nil, false
			}
			params[rs.param] = v
		} else if segs[i] != rs.lit {
			return nil, false
		}
		i++
	}
	if i != len(segs) {
		return nil, false
	}
	return params, true
}

// DecodeREST decodes a rest-json request (Account): members bound to the URI,
// query string and headers come from those; the rest from the JSON body (or
// the payload member). The document is validated against the model.
func (op *Operation) DecodeREST(uriParams map[string]string, query url.Values, header http.Header, body []byte) (map[string]any, error) {
	if op.Input == nil {
		return map[string]any{}, nil
	}
	var doc map[string]any
	if pl := op.Input.Payload; pl != "" {
		doc = map[string]any{}
		if m := op.Input.MemberByName(pl); m != nil && len(body) > 0 {
			switch m.Shape.Type {
			case "blob":
				doc[pl] = append([]byte(nil), body...)
			case "string":
				doc[pl] = string(body)
			default:
				raw, err := parseJSON(body)
				if err != nil {
					return nil, op.Service.malformed("Invalid JSON request body: %v", err)
				}
				if raw != nil {
					v, err := jsonDecoder{svc: op.Service}.value(m, raw)
					if err != nil {
						return nil, err
					}
					doc[pl] = v
				}
			}
		}
	} else {
		var err error
		if doc, err = op.decodeJSONBody(body, true); err != nil {
			return nil, err
		}
	}
	for _, m := range op.Input.Members {
		if err := op.decodeLocated(m, uriParams, query, header, doc); err != nil {
			return nil, err
		}
	}
	if verr := op.Validate(doc); verr != nil {
		return nil, verr
	}
	return doc, nil
}

func (op *Operation) decodeLocated(m *Member, uri map[string]string, query url.Values, header http.Header, doc map[string]any) error {
	name := m.LocationName
	if name == "" {
		name = m.Name
	}
	scalar := func(text string) error {
		v, err := parseScalar(m.Shape, text)
		if err != nil {
			return op.Service.malformed("Invalid value for %s: %v", name, err)
		}
		doc[m.Name] = v
		return nil
	}
	switch m.Location {
	case "uri":
		if v, ok := uri[name]; ok {
			return scalar(v)
		}
	case "querystring":
		switch m.Shape.Type {
		case "list":
			vals, ok := query[name]
			if !ok {
				return nil
			}
			out := make([]any, 0, len(vals))
			for _, t := range vals {
				v, err := parseScalar(m.Shape.Member.Shape, t)
				if err != nil {
					return op.Service.malformed("Invalid value for %s: %v", name, err)
				}
				out = append(out, v)
			}
			doc[m.Name] = out
		case "map":
			// A map bound to the query string collects every parameter not
			// claimed by another member.
			out := map[string]any{}
			for k, vals := range query {
				if len(vals) == 0 || op.Input.claimsQuery(k) {
					continue
				}
				out[k] = vals[0]
			}
			if len(out) > 0 {
				doc[m.Name] = out
			}
		default:
			if vals, ok := query[name]; ok && len(vals) > 0 {
				return scalar(vals[0])
			}
		}
	case "header":
		if vals := header.Values(name); len(vals) > 0 {
			if m.Shape.Type == "list" {
				var out []any
				for _, hv := range vals {
					for part := range strings.SplitSeq(hv, ",") {
						v, err := parseScalar(m.Shape.Member.Shape, strings.TrimSpace(part))
						if err != nil {
							return op.Service.malformed("Invalid value for %s: %v", name, err)
						}
						out = append(out, v)
					}
				}
				doc[m.Name] = out
				return nil
			}
			return scalar(vals[0])
		}
	case "headers":
		out := map[string]any{}
		prefix := strings.ToLower(m.LocationName)
		for k, vals := range header {
			if lk := strings.ToLower(k); strings.HasPrefix(lk, prefix) && len(vals) > 0 {
				out[k[len(prefix):]] = vals[0]
			}
		}
		if len(out) > 0 {
			doc[m.Name] = out
		}
	}
	return nil
}

func (sh *Shape) claimsQuery(k string) bool {
	for _, m := range sh.Members {
		if m.Location == "querystring" && m.Shape.Type != "map" && (m.LocationName == k || (m.LocationName == "" && m.Name == k)) {
			return true
		}
	}
	return false
}

// EncodeREST renders a rest-json response: status (the model's responseCode,
// or a statusCode-bound member), header-bound members as headers, and the
// remaining members (or the payload member) as the JSON body.
func (op *Operation) EncodeREST(out map[string]any) (status int, header http.Header, body []byte, err error) {
	status = op.ResponseCode
	if status == 0 {
		status = http.StatusOK
	}
	header = http.Header{}
	header.Set("Content-Type", RESTContentType)
	if op.Output == nil {
		return status, header, []byte("{}"), nil
	}
	for _, m := range op.Output.Members {
		v, ok := out[m.Name]
		if !ok || isAbsent(v) {
			continue
		}
		v = deref(v)
		switch m.Location {
		case "statusCode":
			if n, ok := asInt(v); ok {
				status = int(n)
			}
		case "header":
			text, terr := restHeaderText(m, v)
			if terr != nil {
				return 0, nil, nil, fmt.Errorf("awsproto: encode %s.%s: %w", op.Name, m.Name, terr)
			}
			header.Set(m.LocationName, text)
		case "headers":
			keys, get, ok := mapEntries(v)
			if !ok {
				return 0, nil, nil, fmt.Errorf("awsproto: encode %s.%s: cannot encode %T as map", op.Name, m.Name, v)
			}
			for _, k := range keys {
				if s, ok := asString(get(k)); ok {
					header.Set(m.LocationName+k, s)
				}
			}
		}
	}
	if pl := op.Output.Payload; pl != "" {
		m := op.Output.MemberByName(pl)
		v, ok := out[pl]
		if m == nil || !ok || isAbsent(v) {
			return status, header, nil, nil
		}
		switch m.Shape.Type {
		case "blob", "string":
			p, _ := asBytes(deref(v))
			if s, isStr := asString(deref(v)); isStr {
				p = []byte(s)
			}
			header.Set("Content-Type", "application/octet-stream")
			return status, header, p, nil
		}
		b, jerr := appendJSONValue(nil, m, v)
		if jerr != nil {
			return 0, nil, nil, fmt.Errorf("awsproto: encode %s: %w", op.Name, jerr)
		}
		return status, header, b, nil
	}
	if out == nil {
		out = map[string]any{}
	}
	b, jerr := appendJSONStruct(make([]byte, 0, 256), op.Output, out, true)
	if jerr != nil {
		return 0, nil, nil, fmt.Errorf("awsproto: encode %s: %w", op.Name, jerr)
	}
	return status, header, b, nil
}

func restHeaderText(m *Member, v any) (string, error) {
	if m.Shape.Type == "list" {
		var parts []string
		_, err := forEach(v, func(e any) error {
			t, err := scalarText(m.Shape.Member, deref(e), "rfc822")
			parts = append(parts, t)
			return err
		})
		return strings.Join(parts, ","), err
	}
	return scalarText(m, v, "rfc822")
}

// EncodeRESTError renders a rest-json error: {"message":…} plus extra error
// members, with X-Amzn-ErrorType naming the code (the SDKs read the code
// from that header) and header-bound error members as headers.
func (s *Service) EncodeRESTError(e *Error) (status int, header http.Header, body []byte) {
	header = http.Header{}
	header.Set("Content-Type", RESTContentType)
	header.Set("X-Amzn-ErrorType", e.Code)
	b := append([]byte(nil), '{')
	b = s.appendErrorMembers(b, e, true, header)
	status = e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	// The header-bound errorType member must not override the code header.
	header.Set("X-Amzn-ErrorType", e.Code)
	return status, header, append(b, '}')
}
