// Package sessiontoken seals and opens STS session tokens. A token carries
// the whole session (the principal, its secret key, expiry, MFA, tags and
// session policies) encrypted and authenticated with the server's keyring,
// bound to its ASIA access key id: sessions need no store writes or reads,
// and every node sharing the key accepts them, as AWS's opaque tokens work.
package sessiontoken

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/secrets"
)

// version prefixes every token so the format can change.
const version = "IQoJaWFtZA" // base64-looking, like AWS's "IQoJb3JpZ2lu…" tokens

// ErrInvalid is any token that does not open for its key id.
var ErrInvalid = errors.New("sessiontoken: invalid")

// Claims is what a token carries.
type Claims struct {
	Secret    string              `json:"s"`
	Principal principal.Principal `json:"p"`
}

// Seal makes the token for claims, bound to accessKeyID.
func Seal(kr *secrets.Keyring, accessKeyID string, c *Claims) (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("sessiontoken: %w", err)
	}
	sealed, err := kr.Seal(b, ad(accessKeyID))
	if err != nil {
		return "", err
	}
	return version + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Open returns the claims of a token if it was sealed for accessKeyID. It
// does not check expiry: callers compare Principal.Expiration with their clock.
func Open(kr *secrets.Keyring, accessKeyID, token string) (*Claims, error) {
	if len(token) <= len(version) || token[:len(version)] != version {
		return nil, ErrInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(token[len(version):])
	if err != nil {
		return nil, ErrInvalid
	}
	b, err := kr.Open(raw, ad(accessKeyID))
	if err != nil {
		return nil, ErrInvalid
	}
	c := new(Claims)
	if err := json.Unmarshal(b, c); err != nil {
		return nil, ErrInvalid
	}
	return c, nil
}

func ad(accessKeyID string) []byte { return []byte("sts-session:" + accessKeyID) }

// Expired reports whether the session is past its expiration at now.
func (c *Claims) Expired(now time.Time) bool { return !now.Before(c.Principal.Expiration) }
