// Package ids generates AWS-style identifiers: unique ids such as AIDA… for
// users and AKIA… access key ids, and 12-digit account ids.
package ids

import (
	"crypto/rand"
	"io"
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

// Account returns a 12-digit account id that does not start with 0.
func (s Source) Account() string {
	return s.chars(1, "123456789") + s.chars(11, "0123456789")
}

// Hex returns n lower-case hex characters (request ids, certificate ids).
func (s Source) Hex(n int) string { return s.chars(n, "0123456789abcdef") }

// RequestID returns a UUID-shaped request id, as AWS's x-amzn-RequestId.
func (s Source) RequestID() string {
	h := s.Hex(32)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
