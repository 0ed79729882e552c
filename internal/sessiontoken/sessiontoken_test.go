package sessiontoken

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/secrets"
)

func keyring(t testing.TB, b byte) *secrets.Keyring {
	kr, err := secrets.NewKeyring(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestSealOpen(t *testing.T) {
	kr := keyring(t, 1)
	exp := time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)
	c := &Claims{Secret: "s3cr3t", Principal: principal.Principal{Type: principal.AssumedRole, Account: "123456789012", ARN: "arn:aws:sts::123456789012:assumed-role/r/s", Expiration: exp, SessionPolicies: []string{`{"Version":"2012-10-17"}`}}}
	tok, err := Seal(kr, "ASIAEXAMPLE", c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Open(kr, "ASIAEXAMPLE", tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.Secret != "s3cr3t" || got.Principal.ARN != c.Principal.ARN || !got.Principal.Expiration.Equal(exp) || len(got.Principal.SessionPolicies) != 1 {
		t.Fatalf("claims = %+v", got)
	}
	if !got.Expired(exp) || got.Expired(exp.Add(-time.Second)) {
		t.Fatal("expiry boundary wrong")
	}

	cases := map[string]func() (string, string, *secrets.Keyring){
		"other key id":  func() (string, string, *secrets.Keyring) { return "ASIAOTHER", tok, kr },
		"other keyring": func() (string, string, *secrets.Keyring) { return "ASIAEXAMPLE", tok, keyring(t, 2) },
		"truncated":     func() (string, string, *secrets.Keyring) { return "ASIAEXAMPLE", tok[:len(tok)-3], kr },
		"no prefix":     func() (string, string, *secrets.Keyring) { return "ASIAEXAMPLE", tok[len(version):], kr },
		"garbage":       func() (string, string, *secrets.Keyring) { return "ASIAEXAMPLE", version + "!!!", kr },
		"flipped": func() (string, string, *secrets.Keyring) {
			b := []byte(tok)
			b[len(b)-5] ^= 1
			return "ASIAEXAMPLE", string(b), kr
		},
	}
	for name, f := range cases {
		id, tk, k := f()
		if _, err := Open(k, id, tk); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func FuzzOpen(f *testing.F) {
	kr := keyring(f, 3)
	tok, _ := Seal(kr, "ASIAFUZZ", &Claims{Secret: "x"})
	f.Add(tok)
	f.Add(version)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Open(kr, "ASIAFUZZ", s)
		if err == nil && c == nil {
			t.Fatal("nil claims without error")
		}
	})
}
