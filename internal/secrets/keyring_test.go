package secrets

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func TestNewKeyringKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if _, err := NewKeyring(make([]byte, n)); !errors.Is(err, ErrKeySize) {
			t.Errorf("len %d: err = %v, want ErrKeySize", n, err)
		}
	}
	if _, err := NewKeyring(nil); !errors.Is(err, ErrKeySize) {
		t.Errorf("nil key: err = %v, want ErrKeySize", err)
	}
	if _, err := NewRotatingKeyring(testKey(1), testKey(2)[:16]); !errors.Is(err, ErrKeySize) {
		t.Errorf("short previous key: err = %v, want ErrKeySize", err)
	}
	if _, err := NewRotatingKeyring(testKey(1), testKey(1)); !errors.Is(err, ErrDuplicateKey) {
		t.Errorf("duplicate key: err = %v, want ErrDuplicateKey", err)
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	kr, err := NewKeyring(testKey(7))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		pt, ad []byte
	}{
		{"empty", nil, nil},
		{"empty with ad", []byte{}, []byte("acct#123")},
		{"secret key", []byte("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), []byte("123456789012/AKIAIOSFODNN7EXAMPLE")},
		{"binary", bytes.Repeat([]byte{0, 0xff}, 5000), []byte{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := kr.Seal(tt.pt, tt.ad)
			if err != nil {
				t.Fatal(err)
			}
			if want := len(tt.pt) + minSealSize; len(ct) != want {
				t.Errorf("sealed length %d, want %d", len(ct), want)
			}
			if len(tt.pt) >= 8 && bytes.Contains(ct, tt.pt[:8]) {
				t.Error("ciphertext contains plaintext")
			}
			got, err := kr.Open(ct, tt.ad)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.pt) {
				t.Errorf("round trip mismatch")
			}
			ct2, _ := kr.Seal(tt.pt, tt.ad)
			if bytes.Equal(ct, ct2) {
				t.Error("two seals of the same plaintext are identical: nonce reuse")
			}
		})
	}
}

func TestOpenRejectsTampering(t *testing.T) {
	kr, _ := NewKeyring(testKey(1))
	other, _ := NewKeyring(testKey(2))
	pt, ad := []byte("top secret value"), []byte("111122223333/AKIAEXAMPLE1")
	ct, err := kr.Seal(pt, ad)
	if err != nil {
		t.Fatal(err)
	}
	// Every single-bit flip anywhere must be detected.
	for i := range len(ct) * 8 {
		bad := bytes.Clone(ct)
		bad[i/8] ^= 1 << (i % 8)
		if got, err := kr.Open(bad, ad); err == nil {
			t.Fatalf("bit %d flipped: opened to %q", i, got)
		}
	}
	tests := []struct {
		name string
		kr   *Keyring
		ct   []byte
		ad   []byte
		want error
	}{
		{"wrong ad", kr, ct, []byte("111122223333/AKIAEXAMPLE2"), ErrDecrypt},
		{"missing ad", kr, ct, nil, ErrDecrypt},
		{"wrong key", other, ct, ad, ErrUnknownKey},
		{"truncated", kr, ct[:len(ct)-1], ad, ErrDecrypt},
		{"too short", kr, ct[:minSealSize-1], ad, ErrMalformed},
		{"empty", kr, nil, ad, ErrMalformed},
		{"bad version", kr, append([]byte{9}, ct[1:]...), ad, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.kr.Open(tt.ct, tt.ad); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// A wrong key that happens to claim the right key id (forged header) must
// still fail authentication rather than return garbage.
func TestOpenForgedKeyID(t *testing.T) {
	a, _ := NewKeyring(testKey(1))
	b, _ := NewKeyring(testKey(2))
	ct, _ := b.Seal([]byte("x"), nil)
	binary.BigEndian.PutUint32(ct[1:1+keyIDSize], KeyID(testKey(1)))
	if _, err := a.Open(ct, nil); !errors.Is(err, ErrDecrypt) {
		t.Errorf("err = %v, want ErrDecrypt", err)
	}
}

func TestRotation(t *testing.T) {
	oldK, newK := testKey(1), testKey(2)
	oldRing, _ := NewKeyring(oldK)
	ct, _ := oldRing.Seal([]byte("legacy"), []byte("ad"))

	rotated, err := NewRotatingKeyring(newK, oldK)
	if err != nil {
		t.Fatal(err)
	}
	if !rotated.NeedsReseal(ct) {
		t.Error("value sealed under previous key not flagged for reseal")
	}
	pt, err := rotated.Open(ct, []byte("ad"))
	if err != nil || string(pt) != "legacy" {
		t.Fatalf("open old ciphertext after rotation: %q, %v", pt, err)
	}
	ct2, _ := rotated.Seal(pt, []byte("ad"))
	if rotated.NeedsReseal(ct2) {
		t.Error("fresh value flagged for reseal")
	}
	if _, err := oldRing.Open(ct2, []byte("ad")); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old ring opened value sealed under new key: %v", err)
	}
}

func BenchmarkSeal(b *testing.B) {
	kr, _ := NewKeyring(testKey(3))
	pt, ad := []byte("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), []byte("123456789012/AKIAIOSFODNN7EXAMPLE")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Seal(pt, ad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	kr, _ := NewKeyring(testKey(3))
	pt, ad := []byte("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), []byte("123456789012/AKIAIOSFODNN7EXAMPLE")
	ct, _ := kr.Seal(pt, ad)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Open(ct, ad); err != nil {
			b.Fatal(err)
		}
	}
}
