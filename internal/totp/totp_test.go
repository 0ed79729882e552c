package totp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"image/png"
	"io"
	"math"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/pquerna/otp"
	ptotp "github.com/pquerna/otp/totp"
)

// rfcSeed is the SHA-1 key of RFC 4226 Appendix D and RFC 6238 Appendix B.
var rfcSeed = []byte("12345678901234567890")

// testSeed is a fixed 40-byte seed so window tests are deterministic (a
// random seed could, rarely, produce colliding codes and flake).
var testSeed = []byte("0123456789abcdefghijklmnopqrstuvwxyzABCD")

func TestRFC4226Vectors(t *testing.T) {
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	k := newHMACKey(rfcSeed)
	for counter, w := range want {
		if got := codeString(hotp(&k, uint64(counter), 6), 6); got != w {
			t.Errorf("HOTP(%d) = %s, want %s", counter, got, w)
		}
	}
}

func TestRFC6238Vectors(t *testing.T) {
	tests := []struct {
		unix int64
		step int64
		code string // 8 digits, SHA-1
	}{
		{59, 0x1, "94287082"},
		{1111111109, 0x23523EC, "07081804"},
		{1111111111, 0x23523ED, "14050471"},
		{1234567890, 0x273EF07, "89005924"},
		{2000000000, 0x3F940AA, "69279037"},
		{20000000000, 0x27BC86AA, "65353130"},
	}
	k := newHMACKey(rfcSeed)
	for _, tt := range tests {
		at := time.Unix(tt.unix, 0)
		if got := StepAt(at); got != tt.step {
			t.Errorf("StepAt(%d) = %#x, want %#x", tt.unix, got, tt.step)
		}
		if got := codeString(hotp(&k, uint64(StepAt(at)), 8), 8); got != tt.code {
			t.Errorf("TOTP8(%d) = %s, want %s", tt.unix, got, tt.code)
		}
		// The 6-digit code is the low six digits of the same truncation.
		if got := Code(rfcSeed, at); got != tt.code[2:] {
			t.Errorf("Code(%d) = %s, want %s", tt.unix, got, tt.code[2:])
		}
	}
}

func TestStepAtFloorsBeforeEpoch(t *testing.T) {
	tests := []struct {
		unix, step int64
	}{{0, 0}, {29, 0}, {30, 1}, {-1, -1}, {-30, -1}, {-31, -2}}
	for _, tt := range tests {
		if got := StepAt(time.Unix(tt.unix, 0)); got != tt.step {
			t.Errorf("StepAt(%d) = %d, want %d", tt.unix, got, tt.step)
		}
	}
}

func TestHMACMatchesStdlib(t *testing.T) {
	for _, n := range []int{0, 1, 20, 40, 63, 64, 65, 200} {
		key := bytes.Repeat([]byte{byte(n + 1)}, n)
		k := newHMACKey(key)
		for _, c := range []uint64{0, 1, 0xdeadbeef, math.MaxUint64} {
			var msg [8]byte
			binary.BigEndian.PutUint64(msg[:], c)
			m := hmac.New(sha1.New, key)
			m.Write(msg[:])
			if got := k.sum(msg); !bytes.Equal(got[:], m.Sum(nil)) {
				t.Errorf("key len %d counter %#x: HMAC mismatch", n, c)
			}
		}
	}
}

// Cross-check against an independent implementation over many seeds and
// times, including the base32 encoding the other side decodes.
func TestCrossCheckPquerna(t *testing.T) {
	opts := ptotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	for i := range 50 {
		seed := bytes.Repeat([]byte{byte(i * 37)}, SeedSize)
		seed[i%SeedSize] ^= 0xa5
		at := time.Unix(1_700_000_000+int64(i)*7919, 0)
		want, err := ptotp.GenerateCodeCustom(Base32(seed), at, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := Code(seed, at); got != want {
			t.Errorf("seed %d: Code = %s, pquerna = %s", i, got, want)
		}
	}
}

func TestGenerateSeed(t *testing.T) {
	r := bytes.NewReader(bytes.Repeat([]byte{0xff}, 100))
	seed, err := GenerateSeed(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(seed) != SeedSize {
		t.Fatalf("seed length %d, want %d", len(seed), SeedSize)
	}
	b32 := Base32(seed)
	if len(b32) != 64 || !regexp.MustCompile(`^[A-Z2-7]{64}$`).MatchString(b32) {
		t.Errorf("Base32 = %q, want 64 chars of A-Z2-7 (AWS Base32StringSeed)", b32)
	}
	if _, err := GenerateSeed(bytes.NewReader(make([]byte, SeedSize-1))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short reader: err = %v", err)
	}
	boom := errors.New("boom")
	if _, err := GenerateSeed(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("failing reader: err = %v, want wrapped boom", err)
	}
}

func TestBase32(t *testing.T) {
	tests := []struct {
		in   []byte
		want string
	}{
		{nil, ""},
		{[]byte("f"), "MY"},
		{[]byte("foobar"), "MZXW6YTBOI"},
		{rfcSeed, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
	}
	for _, tt := range tests {
		if got := Base32(tt.in); got != tt.want {
			t.Errorf("Base32(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestVerifyDrift(t *testing.T) {
	now := time.Unix(1_700_000_015, 0) // mid-step
	cur := StepAt(now)
	tests := []struct {
		offset int64
		ok     bool
	}{{-3, false}, {-2, false}, {-1, true}, {0, true}, {1, true}, {2, false}, {3, false}}
	for _, tt := range tests {
		code := Code(testSeed, now.Add(time.Duration(tt.offset)*Step))
		step, ok := Verify(testSeed, code, now, math.MinInt64)
		if ok != tt.ok {
			t.Errorf("offset %d: ok = %v, want %v", tt.offset, ok, tt.ok)
		}
		if ok && step != cur+tt.offset {
			t.Errorf("offset %d: step = %d, want %d", tt.offset, step, cur+tt.offset)
		}
	}
}

func TestVerifyReplay(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	cur := StepAt(now)
	code := Code(testSeed, now)
	step, ok := Verify(testSeed, code, now, math.MinInt64)
	if !ok || step != cur {
		t.Fatalf("first use: step=%d ok=%v", step, ok)
	}
	tests := []struct {
		name     string
		code     string
		at       time.Time
		lastUsed int64
		ok       bool
	}{
		{"same code again", code, now, step, false},
		{"same code a step later", code, now.Add(Step), step, false},
		{"previous step after current used", Code(testSeed, now.Add(-Step)), now, step, false},
		{"next step after current used", Code(testSeed, now.Add(Step)), now, step, true},
		{"current step, older step used", code, now, step - 1, true},
		{"future step used (clock went back)", code, now, step + 1, false},
		{"wrong code", wrongCode(code), now, math.MinInt64, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := Verify(testSeed, tt.code, tt.at, tt.lastUsed); ok != tt.ok {
				t.Errorf("ok = %v, want %v", ok, tt.ok)
			}
		})
	}
}

// With testSeed, steps 56470499 and 56470501 share the code 390609 (found
// by search). Verify must take the oldest fresh match, and after that step
// is used the same digits are still valid once for the other step.
func TestVerifyCollidingSteps(t *testing.T) {
	const a, b = 56470499, 56470501
	now := time.Unix((a+1)*30, 0)
	if Code(testSeed, time.Unix(a*30, 0)) != "390609" || Code(testSeed, time.Unix(b*30, 0)) != "390609" {
		t.Fatal("collision fixture no longer holds")
	}
	tests := []struct {
		lastUsed int64
		step     int64
		ok       bool
	}{{math.MinInt64, a, true}, {a, b, true}, {b, 0, false}}
	for _, tt := range tests {
		if step, ok := Verify(testSeed, "390609", now, tt.lastUsed); step != tt.step || ok != tt.ok {
			t.Errorf("lastUsed %d: got (%d, %v), want (%d, %v)", tt.lastUsed, step, ok, tt.step, tt.ok)
		}
	}
}

// wrongCode returns a code that differs from c in its last digit.
func wrongCode(c string) string {
	return c[:5] + string(rune('0'+(c[5]-'0'+1)%10))
}

func TestVerifyRejectsMalformed(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	good := Code(testSeed, now)
	for _, c := range []string{
		"", "12345", "1234567", good + " ", " " + good, "+" + good[1:], "-" + good[1:],
		"12a456", "１２３４５６", "123\x00456", good[:5] + "\u0660", "0x1234",
	} {
		if _, ok := Verify(testSeed, c, now, math.MinInt64); ok {
			t.Errorf("Verify(%q) accepted", c)
		}
	}
	if _, ok := Verify(testSeed, good, now, math.MinInt64); !ok {
		t.Error("good code rejected")
	}
	if _, ok := Verify(nil, Code(nil, now), now, math.MinInt64); ok {
		t.Error("empty seed accepted")
	}
	if _, ok := VerifyConsecutive(nil, Code(nil, now), Code(nil, now.Add(Step)), now); ok {
		t.Error("empty seed accepted by VerifyConsecutive")
	}
}

func TestVerifyConsecutive(t *testing.T) {
	now := time.Unix(1_700_000_010, 0)
	cur := StepAt(now)
	at := func(s int64) string { return Code(testSeed, time.Unix(s*30, 0)) }
	tests := []struct {
		name         string
		code1, code2 string
		ok           bool
		step         int64
	}{
		{"now, next", at(cur), at(cur + 1), true, cur + 1},
		{"previous, now", at(cur - 1), at(cur), true, cur},
		{"edge of window behind", at(cur - ResyncWindow), at(cur - ResyncWindow + 1), true, cur - ResyncWindow + 1},
		{"edge of window ahead", at(cur + ResyncWindow), at(cur + ResyncWindow + 1), true, cur + ResyncWindow + 1},
		{"beyond window behind", at(cur - ResyncWindow - 1), at(cur - ResyncWindow), false, 0},
		{"beyond window ahead", at(cur + ResyncWindow + 1), at(cur + ResyncWindow + 2), false, 0},
		{"reversed", at(cur + 1), at(cur), false, 0},
		{"same code twice", at(cur), at(cur), false, 0},
		{"gap of one step", at(cur), at(cur + 2), false, 0},
		{"wrong second", at(cur), wrongCode(at(cur + 1)), false, 0},
		{"malformed first", "12345", at(cur + 1), false, 0},
		{"malformed second", at(cur), "abcdef", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, ok := VerifyConsecutive(testSeed, tt.code1, tt.code2, now)
			if ok != tt.ok || step != tt.step {
				t.Errorf("got (%d, %v), want (%d, %v)", step, ok, tt.step, tt.ok)
			}
			// The returned step is what the caller stores: the second code
			// must then be refused by Verify.
			if ok {
				if _, again := Verify(testSeed, tt.code2, time.Unix(step*30, 0), step); again {
					t.Error("code2 replayable after VerifyConsecutive")
				}
			}
		})
	}
}

func TestURI(t *testing.T) {
	seed := bytes.Repeat([]byte{0}, SeedSize)
	zeros := strings.Repeat("A", 64)
	tests := []struct {
		account, alias, want string
	}{
		{"alice", "alice-phone", "otpauth://totp/alice-phone@alice?secret=" + zeros},
		{"123456789012", "root-mfa", "otpauth://totp/root-mfa@123456789012?secret=" + zeros},
		{"bob+ops=1.x@corp", "dev_1", "otpauth://totp/dev_1@bob+ops=1.x@corp?secret=" + zeros},
		{"a,b", "d", "otpauth://totp/d@a%2Cb?secret=" + zeros},
		{"evil?secret=X", "d/x", "otpauth://totp/d%2Fx@evil%3Fsecret=X?secret=" + zeros},
	}
	for _, tt := range tests {
		got := URI(tt.account, tt.alias, seed)
		if got != tt.want {
			t.Errorf("URI(%q, %q) = %q, want %q", tt.account, tt.alias, got, tt.want)
		}
		// An independent otpauth parser must recover label and secret.
		k, err := otp.NewKeyFromURL(got)
		if err != nil {
			t.Fatalf("pquerna cannot parse %q: %v", got, err)
		}
		if k.Secret() != zeros || k.AccountName() != tt.alias+"@"+tt.account {
			t.Errorf("pquerna parsed %q: account %q secret %q", got, k.AccountName(), k.Secret())
		}
	}
}

func TestQRCodePNG(t *testing.T) {
	uri := URI("123456789012", "alice-mfa", testSeed)
	b, err := QRCodePNG(uri)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	bnd := img.Bounds()
	if bnd.Dx() != bnd.Dy() || bnd.Dx() < 100 {
		t.Fatalf("unexpected image size %v", bnd)
	}
	// Quiet zone is white, the finder pattern's corner (just inside it)
	// is black: the image really is a QR code, not a blank.
	if r, _, _, _ := img.At(0, 0).RGBA(); r != 0xffff {
		t.Error("quiet zone not white")
	}
	if r, _, _, _ := img.At(4*4, 4*4).RGBA(); r != 0 {
		t.Error("finder pattern corner not black")
	}
	if _, err := QRCodePNG(strings.Repeat("x", 5000)); err == nil {
		t.Error("oversized payload encoded without error")
	}
}

func FuzzVerify(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	for _, s := range []string{Code(testSeed, now), "000000", "12345", "1234567", "12a456", "", "-12345", "１２３４５６"} {
		f.Add(s)
	}
	digits := regexp.MustCompile(`^[0-9]{6}$`)
	f.Fuzz(func(t *testing.T, code string) {
		step, ok := Verify(testSeed, code, now, math.MinInt64)
		_, parsed := parseCode(code, Digits)
		if parsed != digits.MatchString(code) {
			t.Fatalf("parseCode(%q) = %v, disagrees with ^[0-9]{6}$", code, parsed)
		}
		if !ok {
			return
		}
		if !parsed {
			t.Fatalf("accepted malformed code %q", code)
		}
		if d := step - StepAt(now); d < -Drift || d > Drift {
			t.Fatalf("accepted step %d outside drift", step)
		}
		if Code(testSeed, time.Unix(step*30, 0)) != code {
			t.Fatalf("accepted %q which is not the code of step %d", code, step)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	now := time.Unix(1_700_000_000, 0)
	code := Code(testSeed, now.Add(Step)) // worst case: last candidate
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Verify(testSeed, code, now, 0); !ok {
			b.Fatal("rejected")
		}
	}
}

func BenchmarkVerifyConsecutive(b *testing.B) {
	now := time.Unix(1_700_000_000, 0)
	c1, c2 := Code(testSeed, now), Code(testSeed, now.Add(Step))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := VerifyConsecutive(testSeed, c1, c2, now); !ok {
			b.Fatal("rejected")
		}
	}
}
