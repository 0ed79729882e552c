package secrets

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters. They are encoded into every hash so
// they can be raised later without invalidating stored passwords.
type Params struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
	SaltLen     uint32 // bytes
	KeyLen      uint32 // bytes
}

// DefaultParams and TestParams are variables only because Go has no struct
// constants; treat them as read-only.

// DefaultParams is the OWASP Password Storage Cheat Sheet argon2id
// configuration (19 MiB, t=2, p=1):
// https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html
var DefaultParams = Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// TestParams is a deliberately weak configuration for test suites only, so
// hashing thousands of passwords in tests stays fast.
var TestParams = Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// Bounds applied to parameters, both when hashing and when parsing a stored
// hash, so a corrupted or hostile record cannot make verification allocate
// gigabytes or spin for minutes.
const (
	maxMemoryKiB  = 1 << 21 // 2 GiB
	maxIterations = 64
	minSaltLen    = 8
	maxSaltLen    = 64
	minKeyLen     = 16
	maxKeyLen     = 64
)

// ErrInvalidHash is returned when a stored password hash cannot be parsed
// or carries parameters outside the accepted bounds.
var ErrInvalidHash = errors.New("secrets: invalid argon2id password hash")

func (p Params) validate() error {
	switch {
	case p.Parallelism == 0:
		return errors.New("parallelism must be at least 1")
	case p.Memory < 8*uint32(p.Parallelism) || p.Memory > maxMemoryKiB:
		return fmt.Errorf("memory %d KiB out of range [%d, %d]", p.Memory, 8*uint32(p.Parallelism), maxMemoryKiB)
	case p.Iterations == 0 || p.Iterations > maxIterations:
		return fmt.Errorf("iterations %d out of range [1, %d]", p.Iterations, maxIterations)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d out of range [%d, %d]", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("key length %d out of range [%d, %d]", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// HashPassword hashes pw with DefaultParams.
func HashPassword(pw string) (string, error) {
	return HashPasswordWith(DefaultParams, pw)
}

// HashPasswordWith hashes pw with argon2id and a fresh random salt and
// returns the PHC string $argon2id$v=19$m=<KiB>,t=<iter>,p=<par>$<salt>$<hash>
// (unpadded standard base64, as the reference implementation emits).
func HashPasswordWith(p Params, pw string) (string, error) {
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("secrets: argon2 params: %w", err)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("secrets: salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Iterations, p.Parallelism,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword checks pw against an encoded hash. needsRehash is true when
// the password matched but the hash was made with parameters other than
// DefaultParams; the caller should then store a fresh HashPassword result.
// err is non-nil only for a malformed hash, never for a wrong password.
func VerifyPassword(encoded, pw string) (ok, needsRehash bool, err error) {
	return VerifyPasswordWith(DefaultParams, encoded, pw)
}

// VerifyPasswordWith is VerifyPassword with want as the parameters a
// current hash should carry.
func VerifyPasswordWith(want Params, encoded, pw string) (ok, needsRehash bool, err error) {
	p, salt, hash, err := parseHash(encoded)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
	if subtle.ConstantTimeCompare(got, hash) != 1 {
		return false, false, nil
	}
	return true, p != want, nil
}

// parseHash decodes a PHC argon2id string strictly: any deviation from the
// format HashPasswordWith produces is rejected rather than guessed at.
func parseHash(encoded string) (Params, []byte, []byte, error) {
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, ErrInvalidHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return Params{}, nil, nil, fmt.Errorf("%w: unsupported version %q", ErrInvalidHash, parts[2])
	}
	var p Params
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return Params{}, nil, nil, fmt.Errorf("%w: parameters %q", ErrInvalidHash, parts[3])
	}
	for i, name := range []string{"m", "t", "p"} {
		val, found := strings.CutPrefix(kv[i], name+"=")
		if !found {
			return Params{}, nil, nil, fmt.Errorf("%w: parameters %q", ErrInvalidHash, parts[3])
		}
		bits := 32
		if name == "p" {
			bits = 8
		}
		n, err := strconv.ParseUint(val, 10, bits)
		if err != nil {
			return Params{}, nil, nil, fmt.Errorf("%w: parameter %s: %w", ErrInvalidHash, name, err)
		}
		switch name {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Iterations = uint32(n)
		case "p":
			p.Parallelism = uint8(n)
		}
	}
	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: salt: %w", ErrInvalidHash, err)
	}
	hash, err := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: hash: %w", ErrInvalidHash, err)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(hash))
	if err := p.validate(); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %w", ErrInvalidHash, err)
	}
	return p, salt, hash, nil
}
