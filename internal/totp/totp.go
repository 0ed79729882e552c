// Package totp implements the one-time passwords of AWS virtual MFA
// devices: RFC 4226 HOTP and RFC 6238 TOTP with HMAC-SHA-1, 6 digits and a
// 30-second step, which is what authenticator apps produce for the otpauth
// URI that IAM's CreateVirtualMFADevice returns.
//
// The package is pure: the current time is always passed in, randomness is
// an io.Reader supplied by the caller, and replay state (the last accepted
// step) is stored by the caller.
package totp

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"io"
	"net/url"
	"time"

	"rsc.io/qr"
)

const (
	// SeedSize is the seed length AWS uses: its Base32StringSeed is 64
	// Base32 characters, i.e. 40 bytes (320 bits).
	SeedSize = 40
	// Digits is the code length AWS accepts (AuthenticationCode is a
	// fixed-length six-digit string).
	Digits = 6
	// Step is the TOTP time step (RFC 6238 default, used by all
	// authenticator apps for otpauth URIs without a period parameter).
	Step = 30 * time.Second
	// Drift is how many steps either side of the current one Verify
	// accepts, absorbing clock skew and the time a user takes to type.
	Drift = 1
	// ResyncWindow is how many steps either side of now VerifyConsecutive
	// searches. AWS does not document its resync window; ±10 steps (±5
	// minutes) recovers the clock skew seen on real phones while keeping
	// the chance that a random pair of codes matches negligible
	// (21 candidate pairs × 10⁻¹² ≈ 2·10⁻¹¹).
	ResyncWindow = 10
)

const stepSeconds = int64(Step / time.Second)

// base32NoPad is RFC 4648/3548 Base32 without padding: authenticator apps
// reject '=' in otpauth secrets, and AWS's 40-byte seeds never need it.
var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// GenerateSeed reads a fresh SeedSize-byte seed from r (normally
// crypto/rand.Reader).
func GenerateSeed(r io.Reader) ([]byte, error) {
	seed := make([]byte, SeedSize)
	if _, err := io.ReadFull(r, seed); err != nil {
		return nil, fmt.Errorf("totp: read seed: %w", err)
	}
	return seed, nil
}

// Base32 returns the seed as IAM's Base32StringSeed (before the wire's
// base64 wrapping): upper-case RFC 4648 Base32 without padding.
func Base32(seed []byte) string {
	return base32NoPad.EncodeToString(seed)
}

// StepAt returns the RFC 6238 time-step counter for t: floor(unix / 30).
func StepAt(t time.Time) int64 {
	u := t.Unix()
	s := u / stepSeconds
	if u%stepSeconds < 0 { // floor, not truncation, before the epoch
		s--
	}
	return s
}

// Code returns the 6-digit TOTP code for seed at time t.
func Code(seed []byte, t time.Time) string {
	return codeString(hotp(new(newHMACKey(seed)), uint64(StepAt(t)), Digits), Digits)
}

// Verify checks a user-supplied code against the steps within Drift of now,
// refusing any step at or before lastUsedStep so that a code, once
// accepted, can never be accepted again. On success it returns the matched
// step, which the caller must persist as the new lastUsedStep; pass
// math.MinInt64 (or any step far in the past) when nothing was used yet.
//
// Anything but exactly six ASCII digits is rejected before any HMAC work.
// Every candidate step is computed and compared in constant time, so the
// response time does not reveal which step (if any) matched.
func Verify(seed []byte, code string, now time.Time, lastUsedStep int64) (step int64, ok bool) {
	want, valid := parseCode(code, Digits)
	// An empty seed is a caller bug that would make codes public knowledge.
	if !valid || len(seed) == 0 {
		return 0, false
	}
	k := newHMACKey(seed)
	cur := StepAt(now)
	matched := 0
	for s := cur - Drift; s <= cur+Drift; s++ {
		eq := subtle.ConstantTimeEq(int32(hotp(&k, uint64(s), Digits)), int32(want))
		fresh := 0
		if s > lastUsedStep {
			fresh = 1
		}
		hit := eq & fresh
		// Take the first (oldest) fresh match without branching on it.
		take := hit & (1 - matched)
		step = int64(take)*s + int64(1-take)*step
		matched |= hit
	}
	if matched == 0 {
		return 0, false
	}
	return step, true
}

// VerifyConsecutive checks the two codes EnableMFADevice and
// ResyncMFADevice require: code1 for some step s and code2 for s+1, with s
// within ResyncWindow steps of now. It returns s+1, the step of code2,
// which the caller stores as the device's last used step so neither code
// can be replayed afterwards. If several positions match (probability
// ~10⁻¹¹), the one closest to now wins.
//
// Replay state is not an input because EnableMFADevice has none; for
// ResyncMFADevice the caller should additionally require step-1 >
// lastUsedStep, so codes Verify already accepted cannot be reused.
func VerifyConsecutive(seed []byte, code1, code2 string, now time.Time) (step int64, ok bool) {
	c1, ok1 := parseCode(code1, Digits)
	c2, ok2 := parseCode(code2, Digits)
	if !ok1 || !ok2 || len(seed) == 0 {
		return 0, false
	}
	k := newHMACKey(seed)
	cur := StepAt(now)
	// One HMAC per step in the window; pair i with i+1.
	var codes [2*ResyncWindow + 2]uint32
	for i := range codes {
		codes[i] = hotp(&k, uint64(cur-ResyncWindow+int64(i)), Digits)
	}
	best, bestDist := int64(0), int64(-1)
	for i := 0; i+1 < len(codes); i++ {
		m := subtle.ConstantTimeEq(int32(codes[i]), int32(c1)) & subtle.ConstantTimeEq(int32(codes[i+1]), int32(c2))
		if m == 1 {
			s := cur - ResyncWindow + int64(i)
			if d := abs(s - cur); bestDist < 0 || d < bestDist {
				best, bestDist = s+1, d
			}
		}
	}
	if bestDist < 0 {
		return 0, false
	}
	return best, true
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// URI returns the otpauth URI IAM encodes in QRCodePNG:
// otpauth://totp/$virtualMFADeviceName@$AccountName?secret=$Base32String,
// where alias is the virtual MFA device name and accountName is the IAM
// user name if the device is assigned, else the account id.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_VirtualMFADevice.html
//
// The label is path-escaped: IAM's name patterns ([\w+=,.@-]) leave it
// unchanged except for ',' (→ %2C, which apps decode), and escaping keeps
// a '?' or '/' from ever corrupting the URI.
func URI(accountName, alias string, seed []byte) string {
	return "otpauth://totp/" + url.PathEscape(alias+"@"+accountName) + "?secret=" + Base32(seed)
}

// QRCodePNG renders uri as a QR code PNG image, as returned in IAM's
// QRCodePNG field.
func QRCodePNG(uri string) ([]byte, error) {
	c, err := qr.Encode(uri, qr.M)
	if err != nil {
		return nil, fmt.Errorf("totp: encode QR code: %w", err)
	}
	// 4 px modules give a ~300 px image for a typical AWS URI: big enough
	// to scan from a screen, small enough for an API response.
	c.Scale = 4
	return c.PNG(), nil
}

// parseCode accepts exactly n ASCII digits. strconv.Atoi is deliberately
// not used: it accepts signs and would need a separate length check.
func parseCode(code string, n int) (uint32, bool) {
	if len(code) != n {
		return 0, false
	}
	var v uint32
	for i := 0; i < len(code); i++ {
		c := code[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint32(c-'0')
	}
	return v, true
}

func codeString(v uint32, digits int) string {
	var buf [10]byte
	for i := digits - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return string(buf[:digits])
}

// hmacKey holds the precomputed HMAC-SHA-1 inner and outer pad blocks
// (RFC 2104) so each step costs two SHA-1 compressions over stack buffers
// and Verify does not allocate. TestHMACMatchesStdlib checks it against
// crypto/hmac.
type hmacKey struct {
	ipad, opad [sha1.BlockSize]byte
}

func newHMACKey(key []byte) hmacKey {
	var k hmacKey
	var block [sha1.BlockSize]byte
	if len(key) > sha1.BlockSize {
		sum := sha1.Sum(key)
		copy(block[:], sum[:])
	} else {
		copy(block[:], key)
	}
	for i, b := range block {
		k.ipad[i] = b ^ 0x36
		k.opad[i] = b ^ 0x5c
	}
	return k
}

func (k *hmacKey) sum(msg [8]byte) [sha1.Size]byte {
	var inner [sha1.BlockSize + 8]byte
	copy(inner[:], k.ipad[:])
	copy(inner[sha1.BlockSize:], msg[:])
	ih := sha1.Sum(inner[:])
	var outer [sha1.BlockSize + sha1.Size]byte
	copy(outer[:], k.opad[:])
	copy(outer[sha1.BlockSize:], ih[:])
	return sha1.Sum(outer[:])
}

// hotp is RFC 4226 §5.3: HMAC-SHA-1 of the big-endian counter, dynamic
// truncation to 31 bits, reduced to the requested number of digits.
func hotp(k *hmacKey, counter uint64, digits int) uint32 {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	h := k.sum(msg)
	off := h[len(h)-1] & 0x0f
	bin := binary.BigEndian.Uint32(h[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return bin % mod
}
