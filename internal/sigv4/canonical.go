package sigv4

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// CanonicalRequest returns the canonical request SigV4 signs for r, with
// payloadHash as its last line. Useful in tests and in debug output; Verify
// builds the same bytes without allocating a string.
func CanonicalRequest(r *Request, a *Auth, payloadHash string) (string, error) {
	b, err := appendCanonicalRequest(nil, r, a, payloadHash)
	return string(b), err
}

// StringToSign returns the string to sign for a canonical request.
func StringToSign(a *Auth, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return string(appendStringToSign(nil, a, &sum))
}

func appendStringToSign(dst []byte, a *Auth, creqHash *[sha256.Size]byte) []byte {
	dst = append(dst, Algorithm...)
	dst = append(dst, '\n')
	if a.AmzDate != "" {
		dst = append(dst, a.AmzDate...)
	} else {
		dst = a.Time.UTC().AppendFormat(dst, TimeFormat)
	}
	dst = append(dst, '\n')
	dst = append(dst, a.Date...)
	dst = append(dst, '/')
	dst = append(dst, a.Region...)
	dst = append(dst, '/')
	dst = append(dst, a.Service...)
	dst = append(dst, '/')
	dst = append(dst, Terminator...)
	dst = append(dst, '\n')
	return hex.AppendEncode(dst, creqHash[:])
}

// appendCanonicalRequest builds
//
//	Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash
//
// as the AWS SDKs do for every service but S3.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
func appendCanonicalRequest(dst []byte, r *Request, a *Auth, payloadHash string) ([]byte, error) {
	dst = append(dst, r.Method...)
	dst = append(dst, '\n')
	path := r.Path
	if path == "" {
		path = "/"
	}
	// The path arrives already escaped and is escaped once more: non-S3
	// services sign each segment URI-encoded twice. The SDKs do not
	// normalise the path (no dot-segment removal), so neither do we.
	dst = appendEscaped(dst, path, true)
	dst = append(dst, '\n')
	var err error
	if dst, err = appendCanonicalQuery(dst, r.RawQuery, a.Presigned); err != nil {
		return nil, err
	}
	dst = append(dst, '\n')
	for _, name := range a.SignedHeaders {
		dst = append(dst, name...)
		dst = append(dst, ':')
		dst = appendHeaderValue(dst, r, name)
		dst = append(dst, '\n')
	}
	dst = append(dst, '\n')
	// Joining the parsed list reproduces the list as sent (it was split on ';').
	for i, name := range a.SignedHeaders {
		if i > 0 {
			dst = append(dst, ';')
		}
		dst = append(dst, name...)
	}
	dst = append(dst, '\n')
	dst = append(dst, payloadHash...)
	return dst, nil
}

func appendHeaderValue(dst []byte, r *Request, name string) []byte {
	if strings.EqualFold(name, "host") {
		host := r.Host
		if host == "" {
			host = headerValue(r.Header, "host")
		}
		return appendTrimmed(dst, host)
	}
	vals := headerValues(r.Header, strings.ToLower(name))
	if len(vals) == 0 && strings.EqualFold(name, "content-length") && r.ContentLength > 0 {
		return strconv.AppendInt(dst, r.ContentLength, 10)
	}
	// Repeated headers are joined with commas, each value trimmed.
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendTrimmed(dst, v)
	}
	return dst
}

// appendTrimmed appends v without leading/trailing whitespace and with runs
// of spaces folded to one, per the SigV4 header-value rule.
func appendTrimmed(dst []byte, v string) []byte {
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		dst = append(dst, v[i])
	}
	return dst
}

// unreserved marks RFC 3986's unreserved set, the only bytes SigV4 leaves
// unescaped.
var unreserved = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~'
	}
	return t
}()

const upperHex = "0123456789ABCDEF"

func appendEscapedByte(dst []byte, c byte) []byte {
	if unreserved[c] {
		return append(dst, c)
	}
	return append(dst, '%', upperHex[c>>4], upperHex[c&15])
}

// appendEscaped percent-encodes every byte outside the unreserved set (and
// '/' unless keepSlash).
func appendEscaped(dst []byte, s string, keepSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		if keepSlash && s[i] == '/' {
			dst = append(dst, '/')
			continue
		}
		dst = appendEscapedByte(dst, s[i])
	}
	return dst
}

// appendQueryComponent decodes a raw query component ('+' → space, %XX)
// and re-encodes it SigV4-style in one pass; equal to escaping the value
// url.ParseQuery would return.
func appendQueryComponent(dst []byte, raw string) ([]byte, error) {
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '+':
			dst = append(dst, "%20"...)
		case '%':
			d, ok := unhexPair(raw, i)
			if !ok {
				return nil, malformedQuery("invalid URL escape")
			}
			dst = appendEscapedByte(dst, d)
			i += 2
		default:
			dst = appendEscapedByte(dst, c)
		}
	}
	return dst, nil
}

// qspan locates one encoded name=value pair inside an arena.
type qspan struct{ k0, k1, v1 int32 }

// appendCanonicalQuery encodes every parameter, then sorts by encoded name
// and value: SigV4 sorts after encoding, which can differ from sorting
// decoded values. A presigned request leaves out its own X-Amz-Signature.
func appendCanonicalQuery(dst []byte, raw string, presigned bool) ([]byte, error) {
	if raw == "" {
		return dst, nil
	}
	var spanBuf [16]qspan
	var arenaBuf [2048]byte
	spans, arena := spanBuf[:0], arenaBuf[:0]
	err := forEachQueryPair(raw, func(rk, rv string) error {
		k0 := len(arena)
		var err error
		if arena, err = appendQueryComponent(arena, rk); err != nil {
			return err
		}
		k1 := len(arena)
		if presigned && string(arena[k0:k1]) == QuerySignature {
			arena = arena[:k0]
			return nil
		}
		if arena, err = appendQueryComponent(arena, rv); err != nil {
			return err
		}
		spans = append(spans, qspan{int32(k0), int32(k1), int32(len(arena))})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(spans, func(x, y qspan) int {
		if c := bytes.Compare(arena[x.k0:x.k1], arena[y.k0:y.k1]); c != 0 {
			return c
		}
		return bytes.Compare(arena[x.k1:x.v1], arena[y.k1:y.v1])
	})
	for i, s := range spans {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, arena[s.k0:s.k1]...)
		dst = append(dst, '=')
		dst = append(dst, arena[s.k1:s.v1]...)
	}
	return dst, nil
}
