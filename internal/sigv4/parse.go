// Package sigv4 verifies AWS Signature Version 4 on the server side: it parses
// the Authorization header or presigned query parameters, rebuilds the
// canonical request exactly as the AWS SDKs do, and compares signatures in
// constant time. It is pure: no I/O, no clock (time is passed in), no logging.
//
// Typical use at the edge:
//
//	req := sigv4.NewRequest(httpReq, hexSHA256(body))
//	auth, err := sigv4.Parse(req)                 // syntax; MissingAuthenticationToken…
//	err = auth.CheckScope("iam", "us-east-1")     // service and region of the credential
//	err = auth.CheckTime(now)                     // skew / expiry, before any key lookup
//	secret := lookup(auth.AccessKeyID)            // unknown → ErrInvalidClientTokenID()
//	err = verifier.Verify(req, auth, secret, now) // canonical request + signature
package sigv4

import (
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only signing algorithm accepted.
const Algorithm = "AWS4-HMAC-SHA256"

// Terminator ends every SigV4 credential scope.
const Terminator = "aws4_request"

// UnsignedPayload is the payload-hash marker for a body left out of the signature.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

// EmptyPayloadHash is the hex SHA-256 of an empty body.
const EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// MaxSkew is how far a request's timestamp may be from the server clock.
const MaxSkew = 15 * time.Minute

// MaxPresignExpires is the longest validity a presigned request may claim:
// a signing key is only good for seven days.
const MaxPresignExpires = 7 * 24 * time.Hour

// TimeFormat is ISO 8601 basic format, as used by X-Amz-Date.
const TimeFormat = "20060102T150405Z"

// Query parameter names of presigned (query-string) authentication.
const (
	QueryAlgorithm     = "X-Amz-Algorithm"
	QueryCredential    = "X-Amz-Credential"
	QueryDate          = "X-Amz-Date"
	QueryExpires       = "X-Amz-Expires"
	QuerySignedHeaders = "X-Amz-SignedHeaders"
	QuerySignature     = "X-Amz-Signature"
	QuerySecurityToken = "X-Amz-Security-Token"
	QueryContentSHA256 = "X-Amz-Content-Sha256"
)

// Request is the part of an HTTP request that SigV4 covers. Fields hold
// wire forms: Path and RawQuery exactly as received, still percent-encoded.
type Request struct {
	Method   string
	Path     string // escaped path as sent; "" means "/"
	RawQuery string // without the leading '?'
	Header   http.Header
	Host     string // the Host header (net/http moves it out of Header)
	// ContentLength signs "content-length" when the header map lacks it;
	// net/http drops the header for some transfer encodings.
	ContentLength int64
	// PayloadHash is the lowercase hex SHA-256 of the body, computed by the
	// caller (EmptyPayloadHash for no body). Required.
	PayloadHash string
}

// NewRequest copies what SigV4 needs out of a server-side *http.Request. It
// reads no body: the caller hashes the body and passes the hex digest.
func NewRequest(r *http.Request, payloadHash string) *Request {
	path := r.URL.EscapedPath()
	// RequestURI is the request-target as it came off the wire; prefer its
	// path so that a client's own escaping choices survive untouched.
	if uri := r.RequestURI; strings.HasPrefix(uri, "/") {
		if i := strings.IndexByte(uri, '?'); i >= 0 {
			uri = uri[:i]
		}
		path = uri
	}
	return &Request{
		Method:        r.Method,
		Path:          path,
		RawQuery:      r.URL.RawQuery,
		Header:        r.Header,
		Host:          r.Host,
		ContentLength: r.ContentLength,
		PayloadHash:   payloadHash,
	}
}

// Auth is the parsed SigV4 authentication of a request.
type Auth struct {
	AccessKeyID string
	Date        string // YYYYMMDD of the credential scope
	Region      string
	Service     string
	// Time is the request timestamp (X-Amz-Date, or the Date header).
	Time time.Time
	// AmzDate is Time as it enters the string to sign (ISO 8601 basic).
	AmzDate       string
	SignedHeaders []string // lowercase names, in the order sent
	Signature     string   // hex, as sent
	Presigned     bool
	// Expires is X-Amz-Expires of a presigned request; 0 when absent, in
	// which case the ±15-minute window of header authentication applies.
	Expires       time.Duration
	SecurityToken string
	// ContentSHA256 is the payload hash the client declared through
	// x-amz-content-sha256 (header) or X-Amz-Content-Sha256 (query); "" if none.
	ContentSHA256 string
}

// Scope returns the credential scope: date/region/service/aws4_request.
func (a *Auth) Scope() string {
	return a.Date + "/" + a.Region + "/" + a.Service + "/" + Terminator
}

// Parse extracts SigV4 authentication from the Authorization header or from
// presigned query parameters. It checks syntax and internal consistency only;
// scope, time and signature are checked by CheckScope, CheckTime and Verify.
func Parse(r *Request) (*Auth, error) {
	q, err := scanAuthQuery(r.RawQuery)
	if err != nil {
		return nil, err
	}
	authz := headerValue(r.Header, "authorization")
	if authz != "" {
		if q.presigned() {
			return nil, incomplete("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter " +
				"or the Authorization header should be specified")
		}
		return parseHeaderAuth(r, authz)
	}
	if q.presigned() {
		return parsePresigned(&q)
	}
	return nil, ErrMissingAuthenticationToken()
}

func parseHeaderAuth(r *Request, authz string) (*Auth, error) {
	alg, rest, _ := strings.Cut(authz, " ")
	if alg != Algorithm && strings.HasPrefix(alg, "AWS4-") {
		return nil, incomplete("Unsupported AWS 'algorithm': '%s'.", alg)
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	if alg == Algorithm {
		for rest != "" {
			var part string
			part, rest, _ = strings.Cut(rest, ",")
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			k, v, ok := strings.Cut(part, "=")
			if !ok {
				return nil, incomplete("'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", part, authz)
			}
			var dup bool
			switch k {
			case "Credential":
				dup, cred, haveCred = haveCred, v, true
			case "SignedHeaders":
				dup, signed, haveSigned = haveSigned, v, true
			case "Signature":
				dup, sig, haveSig = haveSig, v, true
			}
			if dup {
				return nil, incomplete("Authorization header has a duplicate '%s' parameter. Authorization=%s", k, authz)
			}
		}
	}

	dateStr := headerValue(r.Header, "x-amz-date")
	fromDateHeader := false
	if dateStr == "" {
		dateStr = headerValue(r.Header, "date")
		fromDateHeader = dateStr != ""
	}

	// AWS lists every missing piece in one message, then echoes the header.
	var missing strings.Builder
	if !haveCred {
		missing.WriteString("Authorization header requires 'Credential' parameter. ")
	}
	if !haveSig {
		missing.WriteString("Authorization header requires 'Signature' parameter. ")
	}
	if !haveSigned {
		missing.WriteString("Authorization header requires 'SignedHeaders' parameter. ")
	}
	if dateStr == "" {
		missing.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	if missing.Len() > 0 {
		return nil, incomplete("%sAuthorization=%s", missing.String(), authz)
	}

	t, amzDate, err := parseRequestTime(dateStr, fromDateHeader)
	if err != nil {
		return nil, err
	}
	a := &Auth{
		Time:          t,
		AmzDate:       amzDate,
		Signature:     sig,
		SecurityToken: headerValue(r.Header, "x-amz-security-token"),
		ContentSHA256: headerValue(r.Header, "x-amz-content-sha256"),
	}
	if err := a.setCredential(cred); err != nil {
		return nil, err
	}
	if err := a.setSignedHeaders(signed); err != nil {
		return nil, err
	}
	return a, nil
}

func parsePresigned(q *authQuery) (*Auth, error) {
	var missing []string
	for i, name := range authQueryNames {
		if i < numRequiredQuery && !q.seen[i] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, incomplete("AWS query-string parameters must include '%s'. Re-examine the query-string parameters.",
			strings.Join(missing, "', '"))
	}
	if q.val[qAlgorithm] != Algorithm {
		return nil, incomplete("X-Amz-Algorithm only supports \"%s\".", Algorithm)
	}
	t, amzDate, err := parseRequestTime(q.val[qDate], false)
	if err != nil {
		return nil, err
	}
	a := &Auth{
		Time:          t,
		AmzDate:       amzDate,
		Signature:     q.val[qSignature],
		Presigned:     true,
		SecurityToken: q.val[qSecurityToken],
		ContentSHA256: q.val[qContentSHA256],
	}
	if q.seen[qExpires] {
		exp, err := parseExpires(q.val[qExpires])
		if err != nil {
			return nil, err
		}
		a.Expires = exp
	}
	if err := a.setCredential(q.val[qCredential]); err != nil {
		return nil, err
	}
	if err := a.setSignedHeaders(q.val[qSignedHeaders]); err != nil {
		return nil, err
	}
	return a, nil
}

func parseExpires(s string) (time.Duration, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil:
		return 0, incomplete("X-Amz-Expires should be a number.")
	case n < 0:
		return 0, incomplete("X-Amz-Expires must be non-negative.")
	case n == 0:
		return 0, incomplete("X-Amz-Expires must be at least 1 second.")
	case n > int64(MaxPresignExpires/time.Second):
		return 0, incomplete("X-Amz-Expires must be less than a week (in seconds) that is; %d.", int64(MaxPresignExpires/time.Second))
	}
	return time.Duration(n) * time.Second, nil
}

// parseRequestTime reads X-Amz-Date (ISO 8601 basic). The Date header may
// also be an HTTP date; either way the string to sign carries the ISO form.
func parseRequestTime(s string, httpDateAllowed bool) (time.Time, string, error) {
	if t, err := time.Parse(TimeFormat, s); err == nil {
		return t, s, nil
	}
	if httpDateAllowed {
		if t, err := http.ParseTime(s); err == nil {
			t = t.UTC()
			return t, t.Format(TimeFormat), nil
		}
	}
	return time.Time{}, "", incomplete("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", s)
}

// setCredential parses keyid/date/region/service/aws4_request.
func (a *Auth) setCredential(cred string) error {
	if strings.Count(cred, "/") != 4 {
		return incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", cred)
	}
	var parts [5]string
	rest := cred
	for i := range 4 {
		parts[i], rest, _ = strings.Cut(rest, "/")
	}
	parts[4] = rest
	if parts[4] != Terminator {
		return mismatch("Credential should be scoped with a valid terminator: '%s', not '%s'.", Terminator, parts[4])
	}
	if parts[1] != a.AmzDate[:8] {
		return mismatch("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			parts[1], a.AmzDate[:8], a.AmzDate)
	}
	a.AccessKeyID, a.Date, a.Region, a.Service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

func (a *Auth) setSignedHeaders(s string) error {
	if s == "" {
		return incomplete("SignedHeaders must not be empty.")
	}
	a.SignedHeaders = strings.Split(s, ";")
	host := false
	for _, h := range a.SignedHeaders {
		if h == "" {
			return incomplete("SignedHeaders '%s' contains an empty header name.", s)
		}
		host = host || strings.EqualFold(h, "host")
	}
	if !host {
		return incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return nil
}

// CheckScope checks the credential scope's service, and its region when
// regions is not empty (e.g. IAM signs for us-east-1 only).
func (a *Auth) CheckScope(service string, regions ...string) error {
	if len(regions) > 0 {
		ok := false
		for _, r := range regions {
			ok = ok || a.Region == r
		}
		if !ok {
			return mismatch("Credential should be scoped to a valid region. ")
		}
	}
	if a.Service != service {
		return mismatch("Credential should be scoped to correct service: '%s'. ", service)
	}
	return nil
}

// CheckTime enforces the validity window. Header authentication (and a
// presigned request without X-Amz-Expires, which is how STS treats them) must
// be within MaxSkew of now either way; a presigned request with X-Amz-Expires
// is good until Time+Expires. Messages mirror AWS's, e.g.
// https://github.com/aws/aws-cli/issues/6676
func (a *Auth) CheckTime(now time.Time) error {
	now = now.UTC()
	if latest := now.Add(MaxSkew); a.Time.After(latest) {
		return mismatch("Signature not yet current: %s is still later than %s (%s + 15 min.)",
			a.Time.UTC().Format(TimeFormat), latest.Format(TimeFormat), now.Format(TimeFormat))
	}
	if a.Presigned && a.Expires > 0 {
		if now.After(a.Time.Add(a.Expires)) {
			// S3's wording; the one AWS documents for an expired presigned URL.
			return &Error{Code: CodeAccessDenied, Message: "Request has expired", Status: http.StatusForbidden}
		}
		return nil
	}
	if earliest := now.Add(-MaxSkew); a.Time.Before(earliest) {
		return mismatch("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			a.Time.UTC().Format(TimeFormat), earliest.Format(TimeFormat), now.Format(TimeFormat))
	}
	return nil
}

// Indexes into authQuery; the first numRequiredQuery are mandatory.
const (
	qAlgorithm = iota
	qCredential
	qDate
	qSignedHeaders
	qSignature
	qExpires
	qSecurityToken
	qContentSHA256
	numRequiredQuery = qSignature + 1
)

var authQueryNames = [...]string{
	qAlgorithm:     QueryAlgorithm,
	qCredential:    QueryCredential,
	qDate:          QueryDate,
	qSignedHeaders: QuerySignedHeaders,
	qSignature:     QuerySignature,
	qExpires:       QueryExpires,
	qSecurityToken: QuerySecurityToken,
	qContentSHA256: QueryContentSHA256,
}

type authQuery struct {
	seen [len(authQueryNames)]bool
	val  [len(authQueryNames)]string
}

// presigned reports whether the query claims query-string authentication.
func (q *authQuery) presigned() bool {
	return q.seen[qAlgorithm] || q.seen[qCredential] || q.seen[qSignature]
}

// scanAuthQuery picks the X-Amz-* authentication parameters out of a raw
// query, decoding names and values as url.ParseQuery would, so that Parse and
// the canonical query agree on what the parameters are.
func scanAuthQuery(raw string) (authQuery, error) {
	var q authQuery
	if !strings.ContainsAny(raw, "X%;") {
		return q, nil // fast path: no X-Amz-* parameter, nothing malformed to report
	}
	err := forEachQueryPair(raw, func(rk, rv string) error {
		k, err := queryUnescape(rk)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(k, "X-Amz-") {
			return nil
		}
		for i, name := range authQueryNames {
			if k != name {
				continue
			}
			if q.seen[i] {
				return incomplete("Query-string parameter '%s' must not be given more than once.", name)
			}
			v, err := queryUnescape(rv)
			if err != nil {
				return err
			}
			q.seen[i], q.val[i] = true, v
		}
		return nil
	})
	return q, err
}

// forEachQueryPair splits a raw query the way url.ParseQuery does, but
// rejects what ParseQuery would silently drop (';' separators), since a
// parameter the signature skips must not reach the service either.
func forEachQueryPair(raw string, fn func(key, value string) error) error {
	for raw != "" {
		var seg string
		seg, raw, _ = strings.Cut(raw, "&")
		if seg == "" {
			continue
		}
		if strings.IndexByte(seg, ';') >= 0 {
			return malformedQuery("invalid semicolon separator in query")
		}
		k, v, _ := strings.Cut(seg, "=")
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// queryUnescape decodes a query component ('+' is a space), without
// allocating when there is nothing to decode.
func queryUnescape(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for s != "" {
		// Copy the run up to the next escape in one go: session tokens are
		// long and mostly plain.
		i := strings.IndexAny(s, "%+")
		if i < 0 {
			b = append(b, s...)
			break
		}
		b = append(b, s[:i]...)
		if s[i] == '+' {
			b = append(b, ' ')
			s = s[i+1:]
			continue
		}
		d, ok := unhexPair(s, i)
		if !ok {
			return "", malformedQuery("invalid URL escape")
		}
		b = append(b, d)
		s = s[i+3:]
	}
	return string(b), nil
}

// unhexPair decodes the two hex digits after s[i] == '%'.
func unhexPair(s string, i int) (byte, bool) {
	if i+2 >= len(s) {
		return 0, false
	}
	hi, ok1 := unhex(s[i+1])
	lo, ok2 := unhex(s[i+2])
	return hi<<4 | lo, ok1 && ok2
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// headerValue returns the first value of a header by lowercase name.
func headerValue(h http.Header, lower string) string {
	if v := headerValues(h, lower); len(v) > 0 {
		return v[0]
	}
	return ""
}

// headerValues finds a header by lowercase name the way http.Header.Get
// does (by canonical MIME key, which net/http always stores), building the
// key on the stack for the common names so the hot path does not allocate.
func headerValues(h http.Header, lower string) []string {
	var buf [64]byte
	if len(lower) > len(buf) {
		return h[textproto.CanonicalMIMEHeaderKey(lower)]
	}
	k := buf[:len(lower)]
	upper := true
	for i := 0; i < len(lower); i++ {
		c := lower[i]
		switch {
		case 'a' <= c && c <= 'z':
			if upper {
				c -= 'a' - 'A'
			}
		case '0' <= c && c <= '9', c == '-':
		default:
			// Rare bytes: let textproto apply its exact rules.
			return h[textproto.CanonicalMIMEHeaderKey(lower)]
		}
		k[i] = c
		upper = c == '-'
	}
	return h[string(k)]
}
