// Package awsproto implements the AWS wire protocols spoken by iamd (query,
// JSON 1.1 and rest-json), driven entirely by the embedded botocore service
// models: requests are decoded into generic documents (map[string]any keyed
// by model member names), validated against the model's constraints, and
// handler results are encoded back in the exact shape the AWS SDKs expect.
//
// Document value types are: string, int64, float64, bool, time.Time, []byte,
// []any (lists) and map[string]any (structures and model maps).
package awsproto

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

//go:embed models/*.json
var modelFS embed.FS

// serviceFiles lists the embedded model base names, in a stable order.
var serviceFiles = []string{"iam", "sts", "organizations", "cloudtrail", "budgets", "account"}

// Service is one AWS service model.
type Service struct {
	Name         string // endpointPrefix, e.g. "iam"
	Protocol     string // "query", "json" or "rest-json"
	APIVersion   string
	XMLNamespace string
	TargetPrefix string
	JSONVersion  string
	SigningName  string
	ServiceID    string

	Operations map[string]*Operation
	Shapes     map[string]*Shape

	errorByCode map[string]*Shape
	routes      []*route
}

// Operation is one API action of a service.
type Operation struct {
	Name          string
	Service       *Service
	Input, Output *Shape
	ResultWrapper string
	HTTPMethod    string
	RequestURI    string
	ResponseCode  int
	Errors        []*Shape

	pager *Pagination
}

// Pagination is the paginator description of an operation.
type Pagination struct {
	InputToken, OutputToken, LimitKey, MoreResults string
	ResultKeys                                     []string
}

// Member is a reference from a structure, list or map to a shape, carrying
// the reference-level serialization traits.
type Member struct {
	Name            string // member name (as used in documents)
	Shape           *Shape
	LocationName    string // wire name override
	Location        string // rest: "uri", "querystring", "header", "headers", "statusCode" or ""
	Flattened       bool
	TimestampFormat string
	Deprecated      bool
}

// Shape is a model shape.
type Shape struct {
	Name            string
	Type            string // structure, list, map, string, integer, long, double, float, boolean, timestamp, blob
	Members         []*Member
	Required        []string
	Member          *Member // list element
	Key, Value      *Member // map key and value
	Min, Max        float64
	HasMin, HasMax  bool
	Pattern         string
	Enum            []string
	LocationName    string
	Flattened       bool
	TimestampFormat string
	Sensitive       bool
	Payload         string // rest: member bound to the body

	// Error traits.
	Exception   bool
	Fault       bool
	ErrorCode   string // wire code ("error.code"), defaults to the shape name
	ErrorStatus int
	SenderFault bool

	memberIndex map[string]*Member
	required    map[string]bool
	enumSet     map[string]bool
	re          *regexp.Regexp   // compiled pattern; nil if none or not expressible in RE2
	reNot       []*regexp.Regexp // look-ahead translations: the value must match none of these
}

// MemberByName returns the structure member with the given name, or nil.
func (s *Shape) MemberByName(name string) *Member { return s.memberIndex[name] }

// IsRequired reports whether the structure member is required.
func (s *Shape) IsRequired(name string) bool { return s.required[name] }

// IsEnum reports whether the string shape restricts values to an enum set.
func (s *Shape) IsEnum() bool { return len(s.Enum) > 0 }

// PatternUnsupported reports whether the model gives a pattern that cannot be
// expressed in Go's RE2 syntax (e.g. look-ahead); such patterns are not
// enforced.
func (s *Shape) PatternUnsupported() bool { return s.Pattern != "" && s.re == nil }

var (
	loadOnce sync.Once
	services []*Service
	byName   map[string]*Service
)

// Services returns all embedded service models, loaded once. It panics only
// if the embedded models are corrupt, which is a build defect.
func Services() []*Service {
	loadOnce.Do(func() {
		byName = map[string]*Service{}
		for _, f := range serviceFiles {
			s, err := loadService(f)
			if err != nil {
				panic(fmt.Sprintf("awsproto: embedded model %s: %v", f, err))
			}
			services = append(services, s)
			byName[s.Name] = s
			if s.SigningName != "" {
				byName[s.SigningName] = s
			}
		}
	})
	return services
}

// LookupService returns the service with the given endpoint prefix or
// signing name ("iam", "sts", "organizations", ...), or nil.
func LookupService(name string) *Service {
	Services()
	return byName[name]
}

// Operation returns the named operation (exact name, e.g. "CreateUser"), or nil.
func (s *Service) Operation(name string) *Operation { return s.Operations[name] }

// OperationForTarget resolves a JSON-protocol X-Amz-Target header value
// ("AWSOrganizationsV20161128.CreateAccount") to an operation, or nil.
func (s *Service) OperationForTarget(target string) *Operation {
	prefix, name, ok := strings.Cut(target, ".")
	// Target prefixes may themselves contain dots (CloudTrail's does), so
	// match on the known prefix rather than the first dot.
	if s.TargetPrefix != "" {
		rest, found := strings.CutPrefix(target, s.TargetPrefix+".")
		if !found {
			return nil
		}
		return s.Operations[rest]
	}
	if !ok || prefix == "" {
		return nil
	}
	return s.Operations[name]
}

// Paginator returns the operation's pagination tokens from the model's
// paginators file.
func (op *Operation) Paginator() (inputToken, outputToken, limitKey string, ok bool) {
	if op.pager == nil {
		return "", "", "", false
	}
	return op.pager.InputToken, op.pager.OutputToken, op.pager.LimitKey, true
}

// Pagination returns the full paginator description, or nil.
func (op *Operation) Pagination() *Pagination { return op.pager }

// --- model loading ---------------------------------------------------------

type rawModel struct {
	Metadata struct {
		APIVersion     string `json:"apiVersion"`
		EndpointPrefix string `json:"endpointPrefix"`
		Protocol       string `json:"protocol"`
		XMLNamespace   string `json:"xmlNamespace"`
		TargetPrefix   string `json:"targetPrefix"`
		JSONVersion    string `json:"jsonVersion"`
		SigningName    string `json:"signingName"`
		ServiceID      string `json:"serviceId"`
	} `json:"metadata"`
	Operations map[string]struct {
		Name string `json:"name"`
		HTTP struct {
			Method       string `json:"method"`
			RequestURI   string `json:"requestUri"`
			ResponseCode int    `json:"responseCode"`
		} `json:"http"`
		Input  *rawRef   `json:"input"`
		Output *rawRef   `json:"output"`
		Errors []*rawRef `json:"errors"`
	} `json:"operations"`
	Shapes map[string]json.RawMessage `json:"shapes"`
}

type rawRef struct {
	Shape           string `json:"shape"`
	LocationName    string `json:"locationName"`
	Location        string `json:"location"`
	Flattened       bool   `json:"flattened"`
	TimestampFormat string `json:"timestampFormat"`
	Deprecated      bool   `json:"deprecated"`
	ResultWrapper   string `json:"resultWrapper"`
}

type rawShape struct {
	Type            string          `json:"type"`
	Members         json.RawMessage `json:"members"`
	Required        []string        `json:"required"`
	Member          *rawRef         `json:"member"`
	Key             *rawRef         `json:"key"`
	Value           *rawRef         `json:"value"`
	Min             *float64        `json:"min"`
	Max             *float64        `json:"max"`
	Pattern         string          `json:"pattern"`
	Enum            []string        `json:"enum"`
	LocationName    string          `json:"locationName"`
	Flattened       bool            `json:"flattened"`
	TimestampFormat string          `json:"timestampFormat"`
	Sensitive       bool            `json:"sensitive"`
	Payload         string          `json:"payload"`
	Exception       bool            `json:"exception"`
	Fault           bool            `json:"fault"`
	Error           *struct {
		Code           string `json:"code"`
		HTTPStatusCode int    `json:"httpStatusCode"`
		SenderFault    bool   `json:"senderFault"`
	} `json:"error"`
}

type rawPaginators struct {
	Pagination map[string]struct {
		InputToken  any    `json:"input_token"`
		OutputToken any    `json:"output_token"`
		LimitKey    string `json:"limit_key"`
		MoreResults string `json:"more_results"`
		ResultKey   any    `json:"result_key"`
	} `json:"pagination"`
}

func loadService(file string) (*Service, error) {
	data, err := modelFS.ReadFile("models/" + file + ".json")
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	var raw rawModel
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse model: %w", err)
	}
	md := raw.Metadata
	s := &Service{
		Name: md.EndpointPrefix, Protocol: md.Protocol, APIVersion: md.APIVersion,
		XMLNamespace: md.XMLNamespace, TargetPrefix: md.TargetPrefix, JSONVersion: md.JSONVersion,
		SigningName: md.SigningName, ServiceID: md.ServiceID,
		Operations: map[string]*Operation{}, Shapes: map[string]*Shape{},
		errorByCode: map[string]*Shape{},
	}
	if s.SigningName == "" {
		s.SigningName = s.Name
	}
	// Two passes: allocate every shape, then resolve references, so
	// recursive shapes resolve to the same pointers.
	raws := make(map[string]*rawShape, len(raw.Shapes))
	for name, msg := range raw.Shapes {
		var rs rawShape
		if err := json.Unmarshal(msg, &rs); err != nil {
			return nil, fmt.Errorf("shape %s: %w", name, err)
		}
		raws[name] = &rs
		s.Shapes[name] = &Shape{Name: name}
	}
	ref := func(r *rawRef, name string) (*Member, error) {
		if r == nil {
			return nil, nil
		}
		sh := s.Shapes[r.Shape]
		if sh == nil {
			return nil, fmt.Errorf("unknown shape %q", r.Shape)
		}
		return &Member{Name: name, Shape: sh, LocationName: r.LocationName, Location: r.Location,
			Flattened: r.Flattened, TimestampFormat: r.TimestampFormat, Deprecated: r.Deprecated}, nil
	}
	for name, rs := range raws {
		sh := s.Shapes[name]
		sh.Type, sh.Required, sh.Pattern, sh.Enum = rs.Type, rs.Required, rs.Pattern, rs.Enum
		sh.LocationName, sh.Flattened, sh.TimestampFormat = rs.LocationName, rs.Flattened, rs.TimestampFormat
		sh.Sensitive, sh.Payload, sh.Exception, sh.Fault = rs.Sensitive, rs.Payload, rs.Exception, rs.Fault
		if rs.Min != nil {
			sh.Min, sh.HasMin = *rs.Min, true
		}
		if rs.Max != nil {
			sh.Max, sh.HasMax = *rs.Max, true
		}
		var err error
		if sh.Member, err = ref(rs.Member, "member"); err != nil {
			return nil, fmt.Errorf("shape %s: %w", name, err)
		}
		if sh.Key, err = ref(rs.Key, "key"); err != nil {
			return nil, fmt.Errorf("shape %s: %w", name, err)
		}
		if sh.Value, err = ref(rs.Value, "value"); err != nil {
			return nil, fmt.Errorf("shape %s: %w", name, err)
		}
		if len(rs.Members) > 0 {
			keys, err := orderedKeys(rs.Members)
			if err != nil {
				return nil, fmt.Errorf("shape %s members: %w", name, err)
			}
			var refs map[string]*rawRef
			if err := json.Unmarshal(rs.Members, &refs); err != nil {
				return nil, fmt.Errorf("shape %s members: %w", name, err)
			}
			sh.memberIndex = make(map[string]*Member, len(keys))
			for _, k := range keys {
				m, err := ref(refs[k], k)
				if err != nil {
					return nil, fmt.Errorf("shape %s member %s: %w", name, k, err)
				}
				sh.Members = append(sh.Members, m)
				sh.memberIndex[k] = m
			}
		}
		if len(sh.Required) > 0 {
			sh.required = make(map[string]bool, len(sh.Required))
			for _, r := range sh.Required {
				sh.required[r] = true
			}
		}
		if len(sh.Enum) > 0 {
			sh.enumSet = make(map[string]bool, len(sh.Enum))
			for _, e := range sh.Enum {
				sh.enumSet[e] = true
			}
		}
		if sh.Pattern != "" {
			// A pattern RE2 cannot express and that has no known equivalent
			// is left unenforced; PatternUnsupported reports it.
			sh.re, sh.reNot, _ = compilePattern(sh.Pattern)
		}
		if rs.Exception || rs.Error != nil {
			sh.Exception = true
			sh.ErrorCode = name
			sh.ErrorStatus = 400
			sh.SenderFault = !rs.Fault
			if rs.Fault {
				sh.ErrorStatus = 500
			}
			if rs.Error != nil {
				if rs.Error.Code != "" {
					sh.ErrorCode = rs.Error.Code
				}
				if rs.Error.HTTPStatusCode != 0 {
					sh.ErrorStatus = rs.Error.HTTPStatusCode
				}
				sh.SenderFault = rs.Error.SenderFault
			}
			s.errorByCode[sh.ErrorCode] = sh
			if _, dup := s.errorByCode[name]; !dup {
				s.errorByCode[name] = sh
			}
		}
	}
	for name, ro := range raw.Operations {
		op := &Operation{Name: name, Service: s, HTTPMethod: ro.HTTP.Method, RequestURI: ro.HTTP.RequestURI,
			ResponseCode: ro.HTTP.ResponseCode}
		if ro.Input != nil {
			if op.Input = s.Shapes[ro.Input.Shape]; op.Input == nil {
				return nil, fmt.Errorf("operation %s: unknown input shape %q", name, ro.Input.Shape)
			}
		}
		if ro.Output != nil {
			if op.Output = s.Shapes[ro.Output.Shape]; op.Output == nil {
				return nil, fmt.Errorf("operation %s: unknown output shape %q", name, ro.Output.Shape)
			}
			op.ResultWrapper = ro.Output.ResultWrapper
		}
		for _, e := range ro.Errors {
			sh := s.Shapes[e.Shape]
			if sh == nil {
				return nil, fmt.Errorf("operation %s: unknown error shape %q", name, e.Shape)
			}
			op.Errors = append(op.Errors, sh)
		}
		s.Operations[name] = op
		if s.Protocol == "rest-json" {
			r, err := parseRoute(op)
			if err != nil {
				return nil, fmt.Errorf("operation %s: %w", name, err)
			}
			s.routes = append(s.routes, r)
		}
	}
	sortRoutes(s.routes)
	if err := loadPaginators(s, file); err != nil {
		return nil, err
	}
	return s, nil
}

func loadPaginators(s *Service, file string) error {
	data, err := modelFS.ReadFile("models/" + file + ".paginators.json")
	if err != nil {
		return nil // paginators are optional
	}
	var rp rawPaginators
	if err := json.Unmarshal(data, &rp); err != nil {
		return fmt.Errorf("parse paginators: %w", err)
	}
	for name, p := range rp.Pagination {
		op := s.Operations[name]
		if op == nil {
			continue
		}
		op.pager = &Pagination{InputToken: firstString(p.InputToken), OutputToken: firstString(p.OutputToken),
			LimitKey: p.LimitKey, MoreResults: p.MoreResults, ResultKeys: allStrings(p.ResultKey)}
	}
	return nil
}

// firstString handles paginator fields that are either a string or a list of
// strings (multi-token paginators); the first token is the primary one.
func firstString(v any) string {
	if all := allStrings(v); len(all) > 0 {
		return all[0]
	}
	return ""
}

func allStrings(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// orderedKeys returns the keys of a JSON object in document order; member
// order matters for XML output and error message order.
func orderedKeys(obj json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("read object: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("expected object")
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("read key: %w", err)
		}
		k, _ := tok.(string)
		keys = append(keys, k)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, fmt.Errorf("read value: %w", err)
		}
	}
	return keys, nil
}

// javaUnicodeEscape matches Java's \uXXXX escape, which RE2 spells \x{XXXX}.
var javaUnicodeEscape = regexp.MustCompile(`\\u([0-9A-Fa-f]{4})`)

// re2Equivalents rewrites the model patterns Go's RE2 cannot compile into an
// equivalent positive pattern plus patterns the value must not contain
// (replacing Java's negative look-ahead), keyed by the exact model pattern.
var re2Equivalents = map[string]struct {
	must    string
	mustNot []string
}{
	// IAM account alias: no "--" anywhere, alphanumeric at both ends.
	`^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$`: {must: `^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`, mustNot: []string{`--`}},
	// Budget names: no ':' or backslash, no "/action/", no <script> element.
	`^(?![^:\\]*/action/|(?i).*<script>.*</script>.*)[^:\\]+$`: {must: `^[^:\\]+$`, mustNot: []string{`/action/`, `(?i)<script>.*</script>`}},
	// CloudTrail partition keys: Java's surrogate-pair ranges denote the
	// supplementary planes, which Go sees as single runes.
	`[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*`: {must: `[\x{20}-\x{D7FF}\x{E000}-\x{FFFD}\x{10000}-\x{10FFFF}\t]*`},
}

// compilePattern compiles a model pattern with whole-value semantics: AWS's
// server-side validation requires the entire value to match (IAM rejects
// "a b" for [\w+=,.@-]+ even though the pattern is unanchored).
func compilePattern(p string) (*regexp.Regexp, []*regexp.Regexp, error) {
	conv := javaUnicodeEscape.ReplaceAllString(p, `\x{$1}`)
	var mustNot []string
	if eq, ok := re2Equivalents[p]; ok {
		conv, mustNot = eq.must, eq.mustNot
	}
	re, err := regexp.Compile(`^(?:` + conv + `)$`)
	if err != nil {
		return nil, nil, fmt.Errorf("compile pattern %q: %w", p, err)
	}
	var nots []*regexp.Regexp
	for _, n := range mustNot {
		nre, err := regexp.Compile(n)
		if err != nil {
			return nil, nil, fmt.Errorf("compile pattern %q: %w", p, err)
		}
		nots = append(nots, nre)
	}
	return re, nots, nil
}

// matchPattern reports whether s satisfies the shape's pattern (true when
// the shape has none or it is unsupported).
func (s *Shape) matchPattern(v string) bool {
	if s.re == nil {
		return true
	}
	if !s.re.MatchString(v) {
		return false
	}
	for _, n := range s.reNot {
		if n.MatchString(v) {
			return false
		}
	}
	return true
}

// sortedKeys returns map keys sorted, for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
