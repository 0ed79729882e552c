// Package ids generates AWS-style identifiers: unique ids such as AIDA… for
// users and AKIA… access key ids, and 12-digit account ids.
package ids

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strconv"
)

// Prefixes of AWS unique ids, from the IAM User Guide "IAM identifiers" page
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-prefixes).
const (
	User               = "AIDA"
	Group              = "AGPA"
	Role               = "AROA"
	ManagedPolicy      = "ANPA"
	AWSManagedPolicy   = "ANPA"
	InstanceProfile    = "AIPA"
	AccessKey          = "AKIA"
	TemporaryKey       = "ASIA"
	ServerCertificate  = "ASCA"
	SSHPublicKey       = "APKA"
	SigningCertificate = "ASCA"
	ServiceCredential  = "ACCA"
	MFADevice          = "AMFA"
)

// alphabet is what AWS unique ids are made of after the prefix: upper-case
// letters and the digits 2–7 (base32).
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// Source makes ids from a random reader; tests inject a deterministic one.
type Source struct{ Rand io.Reader }

func (s Source) reader() io.Reader {
	if s.Rand == nil {
		return rand.Reader
	}
	return s.Rand
}

func (s Source) chars(n int, set string) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.reader(), b); err != nil {
		panic("ids: random source failed: " + err.Error())
	}
	for i := range b {
		b[i] = set[int(b[i])%len(set)]
	}
	return string(b)
}

// Unique returns prefix followed by 17 characters: 21 in all, like AIDACKCEVSQ6C2EXAMPLE.
func (s Source) Unique(prefix string) string { return prefix + s.chars(17, alphabet) }

// AccessKeyID returns prefix (AKIA or ASIA) followed by 16 characters: 20 in all.
func (s Source) AccessKeyID(prefix string) string { return prefix + s.chars(16, alphabet) }

// AccessKeyIDFor returns prefix followed by 16 characters that encode
// account the way AWS key ids do (the account id, shifted left 7 bits, in
// the first 48 of the 80 bits the characters spell), so that
// sts:GetAccessKeyInfo can answer from the id alone, as AWS's does.
func (s Source) AccessKeyIDFor(prefix, account string) string {
	acct, err := strconv.ParseUint(account, 10, 64)
	if err != nil || acct >= 1<<40 {
		return s.AccessKeyID(prefix)
	}
	var b [10]byte
	if _, err := io.ReadFull(s.reader(), b[:]); err != nil {
		panic("ids: random source failed: " + err.Error())
	}
	v := acct<<7 | uint64(b[5]&0x7f)
	for i := 0; i < 6; i++ {
		b[i] = byte(v >> (40 - 8*i))
	}
	return prefix + base32.StdEncoding.EncodeToString(b[:])
}

// AccountFromKeyID decodes the account id from an access key id; ok is
// false for ids that are not 20 characters of AWS's alphabet.
func AccountFromKeyID(id string) (string, bool) {
	if len(id) != 20 {
		return "", false
	}
	b, err := base32.StdEncoding.DecodeString(id[4:])
	if err != nil || len(b) != 10 {
		return "", false
	}
	var v uint64
	for i := 0; i < 6; i++ {
		v = v<<8 | uint64(b[i])
	}
	return fmt.Sprintf("%012d", (v&0x7fffffffff80)>>7), true
}

// Account returns a 12-digit account id that does not start with 0.
func (s Source) Account() string {
	return s.chars(1, "123456789") + s.chars(11, "0123456789")
}

// Hex returns n lower-case hex characters (request ids, certificate ids).
func (s Source) Hex(n int) string { return s.chars(n, "0123456789abcdef") }

// RequestID returns a UUID-shaped request id, as AWS's x-amzn-RequestId.
// Request ids need to be unique, not secret, so without an injected Rand
// they come from math/rand/v2's generator (ChaCha8, seeded by the runtime
// from the OS, lock-free per thread) rather than a crypto/rand read per
// request. Never use this for anything secret.
func (s Source) RequestID() string {
	if s.Rand != nil {
		h := s.Hex(32)
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	}
	var b [36]byte
	const hex = "0123456789abcdef"
	hi, lo := mrand.Uint64(), mrand.Uint64()
	j := 0
	for i := range b {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			b[i] = '-'
			continue
		}
		v := &hi
		if j >= 16 {
			v = &lo
		}
		b[i] = hex[*v&0xf]
		*v >>= 4
		j++
	}
	return string(b[:])
}
