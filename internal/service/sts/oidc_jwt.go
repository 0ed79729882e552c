package sts

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// OIDC ID tokens are compact JWS (RFC 7515) with JSON claims (RFC 7519).
// This file is pure: parsing, key decoding and signature checks, no I/O.

// jwtSkew is the clock skew IAM allows around a token's times: "IAM provides
// a five-minute window beyond the expiration time specified in the JWT to
// account for clock skew"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_oidc.html).
const jwtSkew = 5 * time.Minute

// jwtMaxLen bounds the decoded sizes so a hostile token cannot make the
// JSON decoder work hard; AWS's own limit on the token is 20,000 characters.
const jwtMaxLen = 20000

// Errors of the JWT layer; the handler maps them to AWS error codes.
var (
	errJWTMalformed = errors.New("jwt: malformed token")
	errJWTAlg       = errors.New("jwt: unsupported signing algorithm")
	errJWTSignature = errors.New("jwt: signature does not verify")
	errJWTNoKey     = errors.New("jwt: no key of the issuer matches the token")
)

// jwtHeader is the JOSE header fields iamd reads.
type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
	// Crit lists extensions the verifier must understand; iamd knows none.
	Crit []string `json:"crit"`
}

// jwt is a parsed, not yet verified token.
type jwt struct {
	Header  jwtHeader
	Claims  map[string]any // json.Number for numbers
	signed  []byte         // header.payload, the signing input
	sig     []byte
	Issuer  string
	Subject string
	Aud     []string
	Azp     string
	Exp     time.Time
	Nbf     time.Time // zero when absent
	Iat     time.Time // zero when absent
}

func b64url(s string) ([]byte, error) {
	// Compact JWS uses unpadded base64url; tolerate padding some issuers add.
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// parseJWT splits and decodes a compact JWS. It checks the structure and
// the registered claims' types, not the signature or the times.
func parseJWT(tok string) (*jwt, error) {
	if len(tok) > jwtMaxLen {
		return nil, fmt.Errorf("%w: longer than %d characters", errJWTMalformed, jwtMaxLen)
	}
	h, rest, ok := strings.Cut(tok, ".")
	if !ok {
		return nil, errJWTMalformed
	}
	p, s, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(s, ".") {
		return nil, errJWTMalformed // five parts would be JWE, which IAM does not take
	}
	hb, err := b64url(h)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %w", errJWTMalformed, err)
	}
	pb, err := b64url(p)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %w", errJWTMalformed, err)
	}
	sig, err := b64url(s)
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %w", errJWTMalformed, err)
	}
	t := &jwt{signed: []byte(tok[:len(h)+1+len(p)]), sig: sig}
	if err := json.Unmarshal(hb, &t.Header); err != nil {
		return nil, fmt.Errorf("%w: header: %w", errJWTMalformed, err)
	}
	if len(t.Header.Crit) > 0 {
		return nil, fmt.Errorf("%w: critical header extensions %v", errJWTMalformed, t.Header.Crit)
	}
	dec := json.NewDecoder(bytes.NewReader(pb))
	dec.UseNumber()
	if err := dec.Decode(&t.Claims); err != nil || t.Claims == nil {
		return nil, fmt.Errorf("%w: claims are not a JSON object", errJWTMalformed)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the claims", errJWTMalformed)
	}
	if err := t.registeredClaims(); err != nil {
		return nil, err
	}
	return t, nil
}

// registeredClaims reads iss, sub, aud, azp, exp, nbf and iat.
func (t *jwt) registeredClaims() error {
	str := func(name string) (string, error) {
		v, present := t.Claims[name]
		if !present {
			return "", nil
		}
		s, isStr := v.(string)
		if !isStr {
			return "", fmt.Errorf("%w: claim %s is not a string", errJWTMalformed, name)
		}
		return s, nil
	}
	var err error
	if t.Issuer, err = str("iss"); err != nil {
		return err
	}
	if t.Subject, err = str("sub"); err != nil {
		return err
	}
	if t.Azp, err = str("azp"); err != nil {
		return err
	}
	switch a := t.Claims["aud"].(type) {
	case nil:
	case string:
		t.Aud = []string{a}
	case []any:
		for _, v := range a {
			s, isStr := v.(string)
			if !isStr {
				return fmt.Errorf("%w: claim aud holds a non-string", errJWTMalformed)
			}
			t.Aud = append(t.Aud, s)
		}
	default:
		return fmt.Errorf("%w: claim aud is neither a string nor an array", errJWTMalformed)
	}
	for _, c := range []struct {
		name string
		dst  *time.Time
	}{{"exp", &t.Exp}, {"nbf", &t.Nbf}, {"iat", &t.Iat}} {
		v, present := t.Claims[c.name]
		if !present {
			continue
		}
		n, isNum := v.(json.Number)
		if !isNum {
			return fmt.Errorf("%w: claim %s is not a number", errJWTMalformed, c.name)
		}
		f, ferr := n.Float64()
		if ferr != nil || f < 0 || f > 1e11 {
			return fmt.Errorf("%w: claim %s is not a valid NumericDate", errJWTMalformed, c.name)
		}
		sec := int64(f)
		*c.dst = time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
	}
	return nil
}

// jwtAlg describes a supported JWS algorithm.
type jwtAlg struct {
	hash  crypto.Hash
	kty   string         // "RSA" or "EC"
	curve elliptic.Curve // for EC
}

// jwtAlgs are the algorithms IAM accepts for OIDC ID tokens.
var jwtAlgs = map[string]jwtAlg{
	"RS256": {hash: crypto.SHA256, kty: "RSA"},
	"RS384": {hash: crypto.SHA384, kty: "RSA"},
	"RS512": {hash: crypto.SHA512, kty: "RSA"},
	"ES256": {hash: crypto.SHA256, kty: "EC", curve: elliptic.P256()},
	"ES384": {hash: crypto.SHA384, kty: "EC", curve: elliptic.P384()},
}

func digest(h crypto.Hash, msg []byte) []byte {
	switch h {
	case crypto.SHA384:
		s := sha512.Sum384(msg)
		return s[:]
	case crypto.SHA512:
		s := sha512.Sum512(msg)
		return s[:]
	case crypto.SHA1:
		return sha1Sum(msg)
	default:
		s := sha256.Sum256(msg)
		return s[:]
	}
}

// jwk is one key of a JSON Web Key Set (RFC 7517), decoded.
type jwk struct {
	Kid string
	Alg string // optional: the algorithm the key is meant for
	Use string
	Key crypto.PublicKey
}

// rawJWK is a JWK as it appears in a key set.
type rawJWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS decodes a key set, skipping keys of types iamd cannot use (an
// issuer may publish encryption keys or other key types beside its signing
// keys) but failing on a signing key that is malformed.
func parseJWKS(b []byte) ([]jwk, error) {
	var set struct {
		Keys []rawJWK `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	var out []jwk
	for _, r := range set.Keys {
		if r.Use != "" && r.Use != "sig" {
			continue
		}
		k := jwk{Kid: r.Kid, Alg: r.Alg, Use: r.Use}
		switch r.Kty {
		case "RSA":
			n, err1 := b64url(r.N)
			e, err2 := b64url(r.E)
			if err1 != nil || err2 != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
				return nil, fmt.Errorf("jwks: RSA key %q is malformed", r.Kid)
			}
			pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
			if pub.N.BitLen() < 2048 || pub.E < 3 || pub.E%2 == 0 {
				return nil, fmt.Errorf("jwks: RSA key %q is too weak", r.Kid)
			}
			k.Key = pub
		case "EC":
			var curve elliptic.Curve
			switch r.Crv {
			case "P-256":
				curve = elliptic.P256()
			case "P-384":
				curve = elliptic.P384()
			default:
				continue
			}
			x, err1 := b64url(r.X)
			y, err2 := b64url(r.Y)
			size := (curve.Params().BitSize + 7) / 8
			if err1 != nil || err2 != nil || len(x) != size || len(y) != size {
				return nil, fmt.Errorf("jwks: EC key %q is malformed", r.Kid)
			}
			// The uncompressed point; parsing checks it lies on the curve.
			pt := append(append([]byte{4}, x...), y...)
			pub, err := ecdsa.ParseUncompressedPublicKey(curve, pt)
			if err != nil {
				return nil, fmt.Errorf("jwks: EC key %q: %w", r.Kid, err)
			}
			k.Key = pub
		default:
			continue
		}
		out = append(out, k)
	}
	return out, nil
}

// verifyWith checks t's signature with key k.
func (t *jwt) verifyWith(k jwk) error {
	alg, ok := jwtAlgs[t.Header.Alg]
	if !ok {
		return errJWTAlg
	}
	if k.Alg != "" && k.Alg != t.Header.Alg {
		return errJWTSignature
	}
	h := digest(alg.hash, t.signed)
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		if alg.kty != "RSA" {
			return errJWTSignature
		}
		if rsa.VerifyPKCS1v15(pub, alg.hash, h, t.sig) != nil {
			return errJWTSignature
		}
		return nil
	case *ecdsa.PublicKey:
		if alg.kty != "EC" || pub.Curve != alg.curve {
			return errJWTSignature
		}
		size := (pub.Curve.Params().BitSize + 7) / 8
		if len(t.sig) != 2*size {
			return errJWTSignature // JWS carries r||s, not ASN.1
		}
		r := new(big.Int).SetBytes(t.sig[:size])
		s := new(big.Int).SetBytes(t.sig[size:])
		if !ecdsa.Verify(pub, h, r, s) {
			return errJWTSignature
		}
		return nil
	}
	return errJWTSignature
}

// verify checks the signature against a key set: the key named by kid, or
// when the token names none, any key that fits the algorithm. It reports
// errJWTNoKey when no key is a candidate, so the caller can refresh the set.
func (t *jwt) verify(keys []jwk) error {
	if _, ok := jwtAlgs[t.Header.Alg]; !ok {
		return errJWTAlg
	}
	tried := false
	for _, k := range keys {
		if t.Header.Kid != "" && k.Kid != t.Header.Kid {
			continue
		}
		tried = true
		if t.verifyWith(k) == nil {
			return nil
		}
	}
	if !tried {
		return errJWTNoKey
	}
	return errJWTSignature
}
