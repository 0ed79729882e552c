package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCacheSize is the signing-key cache bound of a zero Verifier.
const DefaultCacheSize = 4096

// Verifier checks SigV4 signatures. It caches derived signing keys, which
// are good for one (secret, day, region, service) and cost four HMACs to
// derive. The zero value is ready to use; it is safe for concurrent use.
type Verifier struct {
	// AllowUnsignedPayload accepts x-amz-content-sha256: UNSIGNED-PAYLOAD
	// (or X-Amz-Content-Sha256 in a presigned query), leaving the body out
	// of the signature. IAM-plane clients never send it, so it is off.
	AllowUnsignedPayload bool

	mu   sync.Mutex
	size int
	// Two generations: when cur fills, it becomes old and a fresh cur starts;
	// a hit in old is promoted. Bounded, O(1), and close enough to LRU.
	cur, old map[cacheKey][sha256.Size]byte
}

// cacheKey holds a digest of the secret, not the secret: a different secret
// never finds another's key, and no plaintext secret lives in the cache.
type cacheKey struct {
	secret                [sha256.Size]byte
	date, region, service string
}

// NewVerifier returns a Verifier whose cache holds at most size signing keys
// (DefaultCacheSize when size <= 0).
func NewVerifier(size int) *Verifier {
	return &Verifier{size: size}
}

// Verify checks the time window and recomputes the signature of r under
// secret, comparing in constant time. r.PayloadHash must be set. The caller
// has already resolved a.AccessKeyID to secret (and its session token).
func (v *Verifier) Verify(r *Request, a *Auth, secret string, now time.Time) error {
	return v.verify(r, a, now, secret, nil)
}

// VerifyKeys is Verify for a long-lived secret whose derived signing keys
// the caller keeps (an authenticator's cache entry for an access key): a
// warm request then neither hashes the secret nor consults the shared
// cache.
func (v *Verifier) VerifyKeys(r *Request, a *Auth, k *SigningKeys, now time.Time) error {
	return v.verify(r, a, now, "", k)
}

func (v *Verifier) verify(r *Request, a *Auth, now time.Time, secret string, k *SigningKeys) error {
	if err := a.CheckTime(now); err != nil {
		return err
	}
	payloadHash, err := v.payloadHash(r, a)
	if err != nil {
		return err
	}
	var want [sha256.Size]byte
	if !decodeSignature(&want, a.Signature) {
		return ErrSignatureDoesNotMatch()
	}
	// Sized for a canonical request carrying a full STS session token
	// (~1 KB) so the common cases stay off the heap.
	var buf [3072]byte
	creq, err := appendCanonicalRequest(buf[:0], r, a, payloadHash)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(creq)
	sts := appendStringToSign(buf[:0], a, &sum)
	var key [sha256.Size]byte
	if k != nil {
		key = k.key(a.Date, a.Region, a.Service)
	} else {
		key = v.signingKey(secret, a.Date, a.Region, a.Service)
	}
	got := hmacSHA256(&key, sts)
	if !hmac.Equal(got[:], want[:]) {
		return ErrSignatureDoesNotMatch()
	}
	return nil
}

// SigningKeys is one secret with the signing keys most recently derived
// from it. Safe for concurrent use; the zero value is not (use
// NewSigningKeys).
type SigningKeys struct {
	secret string
	recent atomic.Pointer[[]scopedKey] // newest first, at most maxRecentScopes; replaced, never modified
}

type scopedKey struct {
	date, region, service string
	key                   [sha256.Size]byte
}

// maxRecentScopes is how many (date, region, service) scopes one secret
// keeps: a key is typically used for a service or two in one region, and
// a scope lasts a day.
const maxRecentScopes = 4

// NewSigningKeys returns an empty key set for secret.
func NewSigningKeys(secret string) *SigningKeys { return &SigningKeys{secret: secret} }

func (k *SigningKeys) key(date, region, service string) [sha256.Size]byte {
	var old []scopedKey
	if p := k.recent.Load(); p != nil {
		old = *p
		for i := range old {
			if s := &old[i]; s.date == date && s.region == region && s.service == service {
				return s.key
			}
		}
	}
	key := deriveKey(k.secret, date, region, service)
	// Racing derivations may each store their own list; any is correct.
	next := make([]scopedKey, 0, maxRecentScopes)
	next = append(next, scopedKey{date: date, region: region, service: service, key: key})
	next = append(next, old[:min(len(old), maxRecentScopes-1)]...)
	k.recent.Store(&next)
	return key
}

// errNoPayloadHash flags a caller bug, not a client error.
var errNoPayloadHash = errors.New("sigv4: Request.PayloadHash is empty; the caller must hash the body")

// payloadHash picks the hash that ends the canonical request: the one the
// client declared, if any (it must match the body), else the body's own.
func (v *Verifier) payloadHash(r *Request, a *Auth) (string, error) {
	if r.PayloadHash == "" {
		return "", errNoPayloadHash
	}
	declared := a.ContentSHA256
	switch {
	case declared == "":
		return r.PayloadHash, nil
	case declared == UnsignedPayload:
		if !v.AllowUnsignedPayload {
			return "", incomplete("x-amz-content-sha256 '%s' is not supported by this service.", UnsignedPayload)
		}
		return declared, nil
	case !strings.EqualFold(declared, r.PayloadHash):
		return "", &Error{
			Code:    CodeContentSHA256Mismatch,
			Message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
			Status:  http.StatusBadRequest,
		}
	}
	return declared, nil
}

// SigningKey derives the SigV4 signing key:
// HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
func SigningKey(secret, date, region, service string) []byte {
	k := deriveKey(secret, date, region, service)
	return k[:]
}

func deriveKey(secret, date, region, service string) [sha256.Size]byte {
	mac := func(key []byte, data string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(data))
		return h.Sum(nil)
	}
	k := mac([]byte("AWS4"+secret), date)
	k = mac(k, region)
	k = mac(k, service)
	k = mac(k, Terminator)
	return [sha256.Size]byte(k)
}

func (v *Verifier) signingKey(secret, date, region, service string) [sha256.Size]byte {
	ck := cacheKey{secret: digestSecret(secret), date: date, region: region, service: service}
	v.mu.Lock()
	if key, ok := v.cur[ck]; ok {
		v.mu.Unlock()
		return key
	}
	if key, ok := v.old[ck]; ok {
		v.putLocked(ck, key)
		v.mu.Unlock()
		return key
	}
	v.mu.Unlock()
	// Derive outside the lock; a racing duplicate derivation is harmless.
	key := deriveKey(secret, date, region, service)
	v.mu.Lock()
	v.putLocked(ck, key)
	v.mu.Unlock()
	return key
}

// digestSecret hashes a secret through a stack buffer: converting the string
// to a slice directly would allocate on every request.
func digestSecret(secret string) [sha256.Size]byte {
	var buf [128]byte
	if len(secret) > len(buf) {
		return sha256.Sum256([]byte(secret))
	}
	n := copy(buf[:], secret)
	return sha256.Sum256(buf[:n])
}

func (v *Verifier) putLocked(ck cacheKey, key [sha256.Size]byte) {
	gen := v.size / 2
	if v.size <= 0 {
		gen = DefaultCacheSize / 2
	}
	gen = max(gen, 1)
	if v.cur == nil || len(v.cur) >= gen {
		v.old, v.cur = v.cur, make(map[cacheKey][sha256.Size]byte, min(gen, 64))
	}
	v.cur[ck] = key
}

// cached reports how many signing keys are held (for tests).
func (v *Verifier) cached() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.cur) + len(v.old)
}

// hmacSHA256 is HMAC-SHA256 (RFC 2104) for a 32-byte key, written against
// sha256.Sum256 so the hot path does not allocate the way hmac.New does.
// Tests hold it equal to crypto/hmac.
func hmacSHA256(key *[sha256.Size]byte, msg []byte) [sha256.Size]byte {
	const block = 64
	var inner [block + 512]byte
	in := inner[:block]
	for i := range in {
		in[i] = 0x36
	}
	for i, b := range key {
		in[i] ^= b
	}
	in = append(in, msg...)
	ih := sha256.Sum256(in)

	var outer [block + sha256.Size]byte
	for i := range block {
		outer[i] = 0x5c
	}
	for i, b := range key {
		outer[i] ^= b
	}
	copy(outer[block:], ih[:])
	return sha256.Sum256(outer[:])
}

// decodeSignature hex-decodes a 64-digit signature (either case).
func decodeSignature(dst *[sha256.Size]byte, s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := range dst {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}
