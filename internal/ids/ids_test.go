package ids

import (
	"strings"
	"testing"
)

func TestAccessKeyIDForEncodesAccount(t *testing.T) {
	var s Source
	for _, acct := range []string{"123456789012", "000000000001", "999999999999", "111122223333"} {
		for range 50 {
			id := s.AccessKeyIDFor("ASIA", acct)
			if len(id) != 20 || !strings.HasPrefix(id, "ASIA") || strings.Trim(id[4:], alphabet) != "" {
				t.Fatalf("bad id %q", id)
			}
			got, ok := AccountFromKeyID(id)
			if !ok || got != acct {
				t.Fatalf("AccountFromKeyID(%q) = %q, %v; want %q", id, got, ok, acct)
			}
		}
	}
}

// A published example: AWS's GetAccessKeyInfo answers 609629065308 for
// ASIAY34FZKBOKMUTVV7A (decoding documented by independent research).
func TestAccountFromKnownKeyID(t *testing.T) {
	got, ok := AccountFromKeyID("ASIAY34FZKBOKMUTVV7A")
	if !ok || got != "609629065308" {
		t.Fatalf("got %q %v", got, ok)
	}
	if _, ok := AccountFromKeyID("short"); ok {
		t.Fatal("short id decoded")
	}
}

func TestUniqueShapes(t *testing.T) {
	var s Source
	if id := s.Unique(User); len(id) != 21 || !strings.HasPrefix(id, "AIDA") {
		t.Fatalf("user id %q", id)
	}
	if a := s.Account(); len(a) != 12 || a[0] == '0' {
		t.Fatalf("account %q", a)
	}
	if r := s.RequestID(); len(r) != 36 || strings.Count(r, "-") != 4 {
		t.Fatalf("request id %q", r)
	}
}

func TestRequestIDs(t *testing.T) {
	var s Source
	seen := map[string]bool{}
	for range 1000 {
		r := s.RequestID()
		if len(r) != 36 || strings.Count(r, "-") != 4 || r[8] != '-' || r[13] != '-' || r[18] != '-' || r[23] != '-' ||
			strings.Trim(strings.ReplaceAll(r, "-", ""), "0123456789abcdef") != "" {
			t.Fatalf("request id %q", r)
		}
		if seen[r] {
			t.Fatalf("request id %q repeated", r)
		}
		seen[r] = true
	}
	// An injected reader still decides the id (deterministic tests).
	det := Source{Rand: strings.NewReader(strings.Repeat("\x00", 32))}
	if r := det.RequestID(); r != "00000000-0000-0000-0000-000000000000" {
		t.Fatalf("deterministic id %q", r)
	}
}
