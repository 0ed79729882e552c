package secrets

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
)

func TestNewSecretAccessKey(t *testing.T) {
	alphabet := regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`)
	seen := map[string]bool{}
	counts := map[rune]int{}
	const n = 2000
	for range n {
		k := NewSecretAccessKey()
		if !alphabet.MatchString(k) {
			t.Fatalf("%q is not 40 chars of A-Za-z0-9+/", k)
		}
		if seen[k] {
			t.Fatalf("duplicate key %q", k)
		}
		seen[k] = true
		for _, r := range k {
			counts[r]++
		}
	}
	// 80,000 characters over 64 symbols: each expected 1250 times. A
	// biased generator (e.g. modulo over a non-power-of-two) or a missing
	// symbol shows up far outside this loose band.
	if len(counts) != 64 {
		t.Errorf("only %d distinct characters used", len(counts))
	}
	for r, c := range counts {
		if c < 1000 || c > 1500 {
			t.Errorf("character %q appeared %d times, expected about 1250", r, c)
		}
	}
}

func TestRandomToken(t *testing.T) {
	for _, n := range []int{1, 2, 3, 16, 32, 33} {
		tok := RandomToken(n)
		if strings.ContainsAny(tok, "+/=") {
			t.Errorf("n=%d: token %q is not unpadded URL-safe base64", n, tok)
		}
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(b) != n {
			t.Errorf("n=%d: decodes to %d bytes, err %v", n, len(b), err)
		}
	}
	if a, b := RandomToken(32), RandomToken(32); a == b {
		t.Error("two 32-byte tokens are equal")
	}
	for _, n := range []int{0, -1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RandomToken(%d) did not panic", n)
				}
			}()
			RandomToken(n)
		}()
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "ab", false},
		{"", "a", false},
		{"abc", "ABC", false},
	}
	for _, tt := range tests {
		if got := Equal(tt.a, tt.b); got != tt.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
