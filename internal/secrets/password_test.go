package secrets

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	enc, err := HashPasswordWith(TestParams, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(enc) {
		t.Fatalf("encoding %q is not the expected PHC string", enc)
	}
	enc2, _ := HashPasswordWith(TestParams, "correct horse battery staple")
	if enc == enc2 {
		t.Error("same password hashed twice to the same string: salt not random")
	}
	tests := []struct {
		name       string
		want       Params
		pw         string
		ok, rehash bool
	}{
		{"match, current params", TestParams, "correct horse battery staple", true, false},
		{"match, stale params", DefaultParams, "correct horse battery staple", true, true},
		{"wrong password", TestParams, "correct horse battery stapl", false, false},
		{"empty password", TestParams, "", false, false},
		{"case differs", TestParams, "Correct horse battery staple", false, false},
		{"wrong password never asks rehash", DefaultParams, "nope", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := VerifyPasswordWith(tt.want, enc, tt.pw)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.ok || rehash != tt.rehash {
				t.Errorf("ok=%v rehash=%v, want %v %v", ok, rehash, tt.ok, tt.rehash)
			}
		})
	}
}

func TestRehashOnParamChange(t *testing.T) {
	tests := []struct {
		name   string
		p      Params
		rehash bool
	}{
		{"same", TestParams, false},
		{"more memory", Params{Memory: 128, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}, true},
		{"more iterations", Params{Memory: 64, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}, true},
		{"more lanes", Params{Memory: 64, Iterations: 1, Parallelism: 2, SaltLen: 16, KeyLen: 32}, true},
		{"shorter salt", Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 8, KeyLen: 32}, true},
		{"shorter key", Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 16}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := HashPasswordWith(tt.p, "pw")
			if err != nil {
				t.Fatal(err)
			}
			ok, rehash, err := VerifyPasswordWith(TestParams, enc, "pw")
			if err != nil || !ok || rehash != tt.rehash {
				t.Errorf("ok=%v rehash=%v err=%v, want rehash %v", ok, rehash, err, tt.rehash)
			}
		})
	}
}

// A hash produced by an independent argon2id implementation (the reference
// C argon2 CLI: echo -n password | argon2 somesalt -id -t 2 -m 16 -p 1 -l 32)
// must verify, proving the PHC encoding is interoperable.
func TestVerifyReferenceVector(t *testing.T) {
	const enc = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	ok, rehash, err := VerifyPassword(enc, "password")
	if err != nil || !ok || !rehash {
		t.Errorf("ok=%v rehash=%v err=%v, want true true nil", ok, rehash, err)
	}
	if ok, _, _ := VerifyPassword(enc, "passworD"); ok {
		t.Error("wrong password accepted")
	}
}

func TestVerifyMalformed(t *testing.T) {
	good, _ := HashPasswordWith(TestParams, "pw")
	parts := strings.Split(good, "$")
	salt, hash := parts[4], parts[5]
	tests := []string{
		"",
		"plaintext",
		"$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + hash,
		"$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + hash,
		"$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + hash,
		"$argon2id$m=64,t=1,p=1$" + salt + "$" + hash,
		"$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + hash,
		"$argon2id$v=19$m=64,t=1$" + salt + "$" + hash,
		"$argon2id$v=19$m=64,t=1,p=1,x=2$" + salt + "$" + hash,
		"$argon2id$v=19$m=-1,t=1,p=1$" + salt + "$" + hash,
		"$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + hash,
		"$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + hash,
		"$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + hash,
		"$argon2id$v=19$m=4,t=1,p=1$" + salt + "$" + hash,
		"$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + hash,
		"$argon2id$v=19$m=64,t=1000000,p=1$" + salt + "$" + hash,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + hash,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + hash + "=",
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + hash[:10],
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + hash,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + hash + "$",
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Replace(hash, hash[:1], "*", 1),
		"x$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + hash,
	}
	for _, enc := range tests {
		ok, rehash, err := VerifyPassword(enc, "pw")
		if !errors.Is(err, ErrInvalidHash) || ok || rehash {
			t.Errorf("%q: ok=%v rehash=%v err=%v, want ErrInvalidHash", enc, ok, rehash, err)
		}
	}
}

func TestHashPasswordWithInvalidParams(t *testing.T) {
	for _, p := range []Params{
		{},
		{Memory: 64, Iterations: 1, Parallelism: 0, SaltLen: 16, KeyLen: 32},
		{Memory: 7, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 4, KeyLen: 32},
		{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 8},
	} {
		if _, err := HashPasswordWith(p, "pw"); err == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}

// The default cost is a security property: guard against it being lowered
// by accident below the OWASP minimum.
func TestDefaultParamsMeetOWASP(t *testing.T) {
	p := DefaultParams
	if p.Memory < 19*1024 || p.Iterations < 2 || p.Parallelism < 1 || p.SaltLen < 16 || p.KeyLen < 32 {
		t.Errorf("DefaultParams %+v below OWASP minimum (m=19456,t=2,p=1)", p)
	}
}

func BenchmarkVerifyPasswordDefault(b *testing.B) {
	enc, err := HashPassword("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, _ := VerifyPassword(enc, "correct horse battery staple"); !ok {
			b.Fatal("verify failed")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

func BenchmarkVerifyPasswordTest(b *testing.B) {
	enc, _ := HashPasswordWith(TestParams, "pw")
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, _ := VerifyPasswordWith(TestParams, enc, "pw"); !ok {
			b.Fatal("verify failed")
		}
	}
}
