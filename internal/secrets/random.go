package secrets

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
)

// secretAccessKeyBytes random bytes encode to exactly 40 characters of the
// standard base64 alphabet, which is AWS's secret access key alphabet
// (A-Z a-z 0-9 + /). 30 bytes is a multiple of 3, so there is no padding
// and every character is uniformly distributed.
const secretAccessKeyBytes = 30

// NewSecretAccessKey returns a fresh 40-character AWS-style secret access
// key carrying 240 bits of entropy.
func NewSecretAccessKey() string {
	b := make([]byte, secretAccessKeyBytes)
	mustRead(b)
	return base64.StdEncoding.EncodeToString(b)
}

// RandomToken returns nBytes of randomness as unpadded URL-safe base64,
// suitable for session tokens, nonces and identifiers in URLs. It panics if
// nBytes < 1: an empty "random" token is a programming error that must not
// silently become a guessable credential.
func RandomToken(nBytes int) string {
	if nBytes < 1 {
		panic("secrets: RandomToken needs at least one byte")
	}
	b := make([]byte, nBytes)
	mustRead(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// mustRead fills b from crypto/rand. Since Go 1.24 rand.Read never returns
// an error (the runtime aborts instead), so the check is only a guard
// against that contract changing.
func mustRead(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic("secrets: crypto/rand failed: " + err.Error())
	}
}

// Equal reports whether a and b are equal in time that depends only on
// their lengths, for comparing secrets such as tokens or signatures.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
