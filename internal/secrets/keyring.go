// Package secrets holds iamd's security primitives for data at rest and
// credentials: AEAD sealing of stored secrets, argon2id password hashing,
// generation of random credential material and constant-time comparison.
//
// Everything here is pure (no file system, no clock, no logging) apart from
// LoadOrCreateKeyFile, which exists to manage the on-disk master key.
// Randomness comes from crypto/rand, which cannot fail on supported platforms.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// KeySize is the required master key length: AES-256.
const KeySize = 32

// Sealed layout: version(1) | keyID(4) | nonce(12) | ciphertext | tag(16).
// The version byte lets the format change later; the key id lets Open pick
// the right key once keys have been rotated, without trial decryption.
const (
	formatV1    byte = 1
	keyIDSize        = 4
	nonceSize        = 12
	tagSize          = 16
	headerSize       = 1 + keyIDSize + nonceSize
	minSealSize      = headerSize + tagSize
)

// Errors returned by Keyring. Open deliberately reports every
// authentication failure (tampering, wrong associated data, wrong key
// material) as ErrDecrypt so callers cannot distinguish the cases.
var (
	ErrKeySize      = errors.New("secrets: key must be 32 bytes")
	ErrDuplicateKey = errors.New("secrets: two keyring keys share a key id")
	ErrMalformed    = errors.New("secrets: malformed sealed value")
	ErrUnknownKey   = errors.New("secrets: sealed with a key not in the keyring")
	ErrDecrypt      = errors.New("secrets: message authentication failed")
)

type ringKey struct {
	id   uint32
	aead cipher.AEAD
}

// Keyring seals and opens secrets with AES-256-GCM. It is immutable after
// construction and therefore safe for concurrent use. Build it with
// NewKeyring or NewRotatingKeyring; the zero value is not usable.
type Keyring struct {
	primary ringKey
	all     []ringKey // primary first, then previous keys for Open only
}

// NewKeyring returns a keyring that seals and opens with a single key.
func NewKeyring(key []byte) (*Keyring, error) {
	return NewRotatingKeyring(key)
}

// NewRotatingKeyring returns a keyring that seals with primary and can still
// open values sealed under any of previous, so a master key can be rotated
// by re-sealing records lazily.
func NewRotatingKeyring(primary []byte, previous ...[]byte) (*Keyring, error) {
	kr := &Keyring{}
	seen := make(map[uint32]bool, 1+len(previous))
	for i, k := range append([][]byte{primary}, previous...) {
		rk, err := newRingKey(k)
		if err != nil {
			return nil, fmt.Errorf("keyring key %d: %w", i, err)
		}
		if seen[rk.id] {
			return nil, fmt.Errorf("keyring key %d: %w", i, ErrDuplicateKey)
		}
		seen[rk.id] = true
		kr.all = append(kr.all, rk)
	}
	kr.primary = kr.all[0]
	return kr, nil
}

func newRingKey(key []byte) (ringKey, error) {
	if len(key) != KeySize {
		return ringKey{}, ErrKeySize
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return ringKey{}, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return ringKey{}, fmt.Errorf("gcm: %w", err)
	}
	return ringKey{id: KeyID(key), aead: aead}, nil
}

// KeyID derives the public identifier stored in every sealed value. It is a
// domain-separated SHA-256 truncation: identifying, but revealing nothing
// usable about a 256-bit key.
func KeyID(key []byte) uint32 {
	h := sha256.New()
	h.Write([]byte("iamd/secrets keyring key id v1\x00"))
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// Seal encrypts plaintext under the primary key. associatedData is
// authenticated but not stored: pass something that identifies the owning
// record (e.g. account id + access key id) so a ciphertext copied into
// another record fails to open.
func (k *Keyring) Seal(plaintext, associatedData []byte) ([]byte, error) {
	out := make([]byte, headerSize, headerSize+len(plaintext)+tagSize)
	out[0] = formatV1
	binary.BigEndian.PutUint32(out[1:1+keyIDSize], k.primary.id)
	nonce := out[1+keyIDSize : headerSize]
	// Random 96-bit nonces are safe for far more secrets than iamd will
	// ever store under one key (NIST SP 800-38D bound: 2^32 messages).
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secrets: nonce: %w", err)
	}
	return k.primary.aead.Seal(out, nonce, plaintext, associatedData), nil
}

// Open authenticates and decrypts a value produced by Seal with the same
// associatedData.
func (k *Keyring) Open(ciphertext, associatedData []byte) ([]byte, error) {
	if len(ciphertext) < minSealSize {
		return nil, ErrMalformed
	}
	if ciphertext[0] != formatV1 {
		return nil, fmt.Errorf("%w: unknown format version %d", ErrMalformed, ciphertext[0])
	}
	id := binary.BigEndian.Uint32(ciphertext[1 : 1+keyIDSize])
	for _, rk := range k.all {
		if rk.id != id {
			continue
		}
		nonce := ciphertext[1+keyIDSize : headerSize]
		pt, err := rk.aead.Open(nil, nonce, ciphertext[headerSize:], associatedData)
		if err != nil {
			return nil, ErrDecrypt
		}
		return pt, nil
	}
	return nil, ErrUnknownKey
}

// NeedsReseal reports whether a sealed value was produced under a key other
// than the primary one, i.e. should be re-sealed after a rotation.
func (k *Keyring) NeedsReseal(ciphertext []byte) bool {
	if len(ciphertext) < minSealSize || ciphertext[0] != formatV1 {
		return false
	}
	return binary.BigEndian.Uint32(ciphertext[1:1+keyIDSize]) != k.primary.id
}
