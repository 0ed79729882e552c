package sts

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/policy"
)

// Test keys are generated once per test binary: RSA generation is slow.
var (
	testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
	testRSAKey2 = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
	testP256 = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		return k
	})
	testP384 = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		return k
	})
)

func enc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// signJWT makes a compact JWS of claims with key under alg.
func signJWT(t testing.TB, alg, kid string, key crypto.Signer, claims map[string]any) string {
	t.Helper()
	hdr := map[string]any{"alg": alg, "typ": "JWT"}
	if kid != "" {
		hdr["kid"] = kid
	}
	hb, _ := json.Marshal(hdr)
	cb, _ := json.Marshal(claims)
	input := enc(hb) + "." + enc(cb)
	a, ok := jwtAlgs[alg]
	if !ok {
		return input + "." + enc([]byte("sig"))
	}
	h := digest(a.hash, []byte(input))
	var sig []byte
	switch k := key.(type) {
	case *rsa.PrivateKey:
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, k, a.hash, h); err != nil {
			t.Fatal(err)
		}
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, h)
		if err != nil {
			t.Fatal(err)
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		sig = make([]byte, 2*size)
		r.FillBytes(sig[:size])
		s.FillBytes(sig[size:])
	}
	return input + "." + enc(sig)
}

// jwkOf renders a public key as a JWK.
func jwkOf(kid string, pub crypto.PublicKey) map[string]any {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "n": enc(k.N.Bytes()), "e": enc(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		x, y := make([]byte, size), make([]byte, size)
		pt, _ := k.Bytes()
		copy(x, pt[1:1+size])
		copy(y, pt[1+size:])
		return map[string]any{"kty": "EC", "kid": kid, "crv": k.Curve.Params().Name, "x": enc(x), "y": enc(y)}
	}
	return nil
}

func jwksOf(t testing.TB, keys ...map[string]any) []jwk {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"keys": keys})
	set, err := parseJWKS(b)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func baseClaims(now time.Time) map[string]any {
	return map[string]any{"iss": "https://example.com", "sub": "user-123456", "aud": "client-1", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
}

func TestParseJWTRejectsMalformed(t *testing.T) {
	good := signJWT(t, "RS256", "k1", testRSAKey(), baseClaims(time.Unix(1e9, 0)))
	parts := strings.Split(good, ".")
	hdr := func(s string) string { return enc([]byte(s)) }
	body := func(s string) string { return enc([]byte(s)) }
	tests := []struct {
		name, tok string
	}{
		{"two parts", parts[0] + "." + parts[1]},
		{"four parts", good + ".x"},
		{"header not base64", "!!!." + parts[1] + "." + parts[2]},
		{"header not JSON", hdr("nope") + "." + parts[1] + "." + parts[2]},
		{"claims not object", parts[0] + "." + body(`[1,2]`) + "." + parts[2]},
		{"claims null", parts[0] + "." + body(`null`) + "." + parts[2]},
		{"trailing claims", parts[0] + "." + body(`{"iss":"x"} {}`) + "." + parts[2]},
		{"aud number", parts[0] + "." + body(`{"aud":5}`) + "." + parts[2]},
		{"aud array of numbers", parts[0] + "." + body(`{"aud":[5]}`) + "." + parts[2]},
		{"iss number", parts[0] + "." + body(`{"iss":5}`) + "." + parts[2]},
		{"exp string", parts[0] + "." + body(`{"exp":"soon"}`) + "." + parts[2]},
		{"exp negative", parts[0] + "." + body(`{"exp":-1}`) + "." + parts[2]},
		{"crit header", hdr(`{"alg":"RS256","crit":["b64"]}`) + "." + parts[1] + "." + parts[2]},
		{"too long", strings.Repeat("a", jwtMaxLen+1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseJWT(tc.tok); !errors.Is(err, errJWTMalformed) {
				t.Fatalf("parseJWT = %v, want errJWTMalformed", err)
			}
		})
	}
	tok, err := parseJWT(good)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Issuer != "https://example.com" || tok.Subject != "user-123456" || !slices.Equal(tok.Aud, []string{"client-1"}) || tok.Exp.Unix() != 1e9+3600 {
		t.Fatalf("claims = %+v", tok)
	}
}

func TestJWTVerify(t *testing.T) {
	now := time.Unix(1.7e9, 0)
	rsaSet := jwksOf(t, jwkOf("r1", &testRSAKey().PublicKey), jwkOf("r2", &testRSAKey2().PublicKey))
	ecSet := jwksOf(t, jwkOf("e256", &testP256().PublicKey), jwkOf("e384", &testP384().PublicKey))
	all := append(slices.Clone(rsaSet), ecSet...)
	tests := []struct {
		name    string
		alg     string
		kid     string
		key     crypto.Signer
		set     []jwk
		tamper  bool
		wantErr error
	}{
		{"RS256", "RS256", "r1", testRSAKey(), rsaSet, false, nil},
		{"RS384", "RS384", "r1", testRSAKey(), rsaSet, false, nil},
		{"RS512", "RS512", "r2", testRSAKey2(), rsaSet, false, nil},
		{"ES256", "ES256", "e256", testP256(), ecSet, false, nil},
		{"ES384", "ES384", "e384", testP384(), ecSet, false, nil},
		{"no kid tries every key", "RS256", "", testRSAKey2(), all, false, nil},
		{"kid names the wrong key", "RS256", "r1", testRSAKey2(), rsaSet, false, errJWTSignature},
		{"unknown kid", "RS256", "r9", testRSAKey(), rsaSet, false, errJWTNoKey},
		{"tampered payload", "RS256", "r1", testRSAKey(), rsaSet, true, errJWTSignature},
		{"ES256 header on a P-384 key", "ES256", "e384", testP384(), ecSet, false, errJWTSignature},
		{"RS256 header on an EC key", "RS256", "e256", testRSAKey(), ecSet, false, errJWTSignature},
		{"none", "none", "r1", testRSAKey(), rsaSet, false, errJWTAlg},
		{"HS256", "HS256", "r1", testRSAKey(), rsaSet, false, errJWTAlg},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := signJWT(t, tc.alg, tc.kid, tc.key, baseClaims(now))
			if tc.tamper {
				p := strings.Split(s, ".")
				c := baseClaims(now)
				c["sub"] = "admin"
				b, _ := json.Marshal(c)
				s = p[0] + "." + enc(b) + "." + p[2]
			}
			tok, err := parseJWT(s)
			if err != nil {
				t.Fatal(err)
			}
			if err := tok.verify(tc.set); !errors.Is(err, tc.wantErr) {
				t.Fatalf("verify = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestParseJWKS(t *testing.T) {
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	tests := []struct {
		name    string
		keys    []map[string]any
		want    int
		wantErr bool
	}{
		{"rsa and ec", []map[string]any{jwkOf("a", &testRSAKey().PublicKey), jwkOf("b", &testP256().PublicKey)}, 2, false},
		{"encryption key skipped", []map[string]any{{"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"}}, 0, false},
		{"unknown kty skipped", []map[string]any{{"kty": "OKP", "crv": "Ed25519", "x": "AA"}}, 0, false},
		{"unknown curve skipped", []map[string]any{{"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"}}, 0, false},
		{"weak RSA", []map[string]any{jwkOf("w", &weak.PublicKey)}, 0, true},
		{"EC point off the curve", []map[string]any{{"kty": "EC", "crv": "P-256", "x": enc(make([]byte, 32)), "y": enc(append(make([]byte, 31), 5))}}, 0, true},
		{"RSA without modulus", []map[string]any{{"kty": "RSA", "e": "AQAB"}}, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := json.Marshal(map[string]any{"keys": tc.keys})
			got, err := parseJWKS(b)
			if (err != nil) != tc.wantErr || len(got) != tc.want {
				t.Fatalf("parseJWKS = %d keys, %v; want %d, err %v", len(got), err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestCheckJWTTimes(t *testing.T) {
	now := time.Unix(1.7e9, 0)
	tests := []struct {
		name          string
		exp, nbf, iat time.Duration // relative to now; 0 = absent
		wantCode      string
	}{
		{"valid", time.Hour, 0, -time.Minute, ""},
		{"expired within skew", -4 * time.Minute, 0, 0, ""},
		{"expired beyond skew", -5 * time.Minute, 0, 0, "ExpiredTokenException"},
		{"nbf within skew", time.Hour, 4 * time.Minute, 0, ""},
		{"nbf beyond skew", time.Hour, 6 * time.Minute, 0, "InvalidIdentityToken"},
		{"iat in the future", time.Hour, 0, 10 * time.Minute, "InvalidIdentityToken"},
		{"no exp", 0, 0, 0, "InvalidIdentityToken"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := &jwt{}
			for _, x := range []struct {
				d   time.Duration
				dst *time.Time
			}{{tc.exp, &tok.Exp}, {tc.nbf, &tok.Nbf}, {tc.iat, &tok.Iat}} {
				if x.d != 0 {
					*x.dst = now.Add(x.d)
				}
			}
			if got := codeOf(checkJWTTimes(tok, now)); got != tc.wantCode {
				t.Fatalf("code = %q, want %q", got, tc.wantCode)
			}
		})
	}
}

func TestMatchAudience(t *testing.T) {
	tests := []struct {
		aud     []string
		azp     string
		clients []string
		want    string
		ok      bool
	}{
		{[]string{"a"}, "", []string{"a", "b"}, "a", true},
		{[]string{"x", "b"}, "", []string{"a", "b"}, "b", true},
		{[]string{"x"}, "a", []string{"a"}, "a", true},
		{[]string{"x"}, "", []string{"a"}, "", false},
		{nil, "", nil, "", false},
	}
	for _, tc := range tests {
		got, ok := matchAudience(&jwt{Aud: tc.aud, Azp: tc.azp}, tc.clients)
		if got != tc.want || ok != tc.ok {
			t.Errorf("matchAudience(%v, %q, %v) = %q, %v", tc.aud, tc.azp, tc.clients, got, ok)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"gitlab.com", "gitlab.com", true},
		{"gitlab.com", "gitlab.com/x", false},
		{"token.actions.githubusercontent.com/*", "token.actions.githubusercontent.com/", false},
		{"token.actions.githubusercontent.com/*", "token.actions.githubusercontent.com/acme", true},
		{"agent.*.buildkite.dev", "agent.acme.buildkite.dev", true},
		{"agent.*.buildkite.dev", "agent..buildkite.dev", false},
		{"agent.*.buildkite.dev", "agent.acme.buildkite.dev.evil", false},
	}
	for _, tc := range tests {
		if got := globMatch(tc.p, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

func TestOIDCContextKeys(t *testing.T) {
	tests := []struct {
		name     string
		provider string
		claims   string
		want     map[string][]string
		absent   []string
	}{
		{
			name: "plain", provider: "example.com/tenant",
			claims: `{"iss":"https://example.com/tenant","sub":"s1","aud":["a","b"],"amr":["authenticated","pwd"]}`,
			want:   map[string][]string{"example.com/tenant:aud": {"a", "b"}, "example.com/tenant:sub": {"s1"}, "example.com/tenant:amr": {"authenticated", "pwd"}},
			absent: []string{"example.com/tenant:oaud"},
		},
		{
			name: "azp moves aud to oaud", provider: "accounts.google.com",
			claims: `{"sub":"s1","aud":"web","azp":"android","google":{"organization_number":1234}}`,
			want:   map[string][]string{"accounts.google.com:aud": {"android"}, "accounts.google.com:oaud": {"web"}, "accounts.google.com:google/organization_number": {"1234"}},
		},
		{
			name: "github claims", provider: "token.actions.githubusercontent.com",
			claims: `{"sub":"repo:o/r:ref:refs/heads/main","aud":"sts.amazonaws.com","repository":"o/r","ref":"refs/heads/main","email":"x@y"}`,
			want:   map[string][]string{"token.actions.githubusercontent.com:repository": {"o/r"}, "token.actions.githubusercontent.com:ref": {"refs/heads/main"}},
			absent: []string{"token.actions.githubusercontent.com:email"},
		},
		{
			name: "other providers expose no extra claims", provider: "example.com",
			claims: `{"sub":"s","aud":"a","repository":"o/r"}`,
			absent: []string{"example.com:repository"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := &jwt{}
			dec := json.NewDecoder(strings.NewReader(tc.claims))
			dec.UseNumber()
			if err := dec.Decode(&tok.Claims); err != nil {
				t.Fatal(err)
			}
			if err := tok.registeredClaims(); err != nil {
				t.Fatal(err)
			}
			ctx := policy.NewContext(8)
			oidcContextKeys(ctx, tc.provider, tok)
			for k, want := range tc.want {
				if got, _ := ctx.Get(k); !slices.Equal(got, want) {
					t.Errorf("%s = %v, want %v", k, got, want)
				}
			}
			for _, k := range tc.absent {
				if _, ok := ctx.Get(k); ok {
					t.Errorf("%s is set", k)
				}
			}
		})
	}
}

func TestOIDCSessionTags(t *testing.T) {
	tests := []struct {
		name       string
		claim      string
		tags       map[string]string
		transitive []string
		wantErr    bool
	}{
		{"none", `{}`, nil, nil, false},
		{"tags", `{"https://aws.amazon.com/tags":{"principal_tags":{"dept":["hr"],"team":"blue"},"transitive_tag_keys":["dept"]}}`, map[string]string{"dept": "hr", "team": "blue"}, []string{"dept"}, false},
		{"two values", `{"https://aws.amazon.com/tags":{"principal_tags":{"dept":["hr","it"]}}}`, nil, nil, true},
		{"transitive not a tag", `{"https://aws.amazon.com/tags":{"principal_tags":{"dept":["hr"]},"transitive_tag_keys":["x"]}}`, nil, nil, true},
		{"case-insensitive duplicate", `{"https://aws.amazon.com/tags":{"principal_tags":{"dept":["hr"],"DEPT":["it"]}}}`, nil, nil, true},
		{"not an object", `{"https://aws.amazon.com/tags":"x"}`, nil, nil, true},
		{"bad key", `{"https://aws.amazon.com/tags":{"principal_tags":{"a<b":["x"]}}}`, nil, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var claims map[string]any
			if err := json.Unmarshal([]byte(tc.claim), &claims); err != nil {
				t.Fatal(err)
			}
			tags, tr, err := oidcSessionTags(claims)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil && (len(tags) != len(tc.tags) || !slices.Equal(tr, tc.transitive)) {
				t.Fatalf("tags = %v %v, want %v %v", tags, tr, tc.tags, tc.transitive)
			}
			for k, v := range tc.tags {
				if tags[k] != v {
					t.Errorf("tag %s = %q, want %q", k, tags[k], v)
				}
			}
		})
	}
}

// issuer is a local OpenID provider serving discovery and keys over TLS
// at https://example.com (httptest's client routes example.com to it).
type issuer struct {
	srv      *httptest.Server
	fetches  atomic.Int32
	status   atomic.Int32 // answer for the key set; 0 = 200
	mu       sync.Mutex
	keyset   []map[string]any
	jwksPath string
}

func newIssuer(t testing.TB, keys ...map[string]any) *issuer {
	is := &issuer{keyset: keys, jwksPath: "/keys"}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": "https://example.com", "jwks_uri": "https://example.com" + is.jwksPath})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		is.fetches.Add(1)
		if s := is.status.Load(); s != 0 {
			w.WriteHeader(int(s))
			return
		}
		is.mu.Lock()
		defer is.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": is.keyset})
	})
	is.srv = httptest.NewTLSServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

func (is *issuer) setKeys(keys ...map[string]any) {
	is.mu.Lock()
	is.keyset = keys
	is.mu.Unlock()
}

func TestOIDCKeysCache(t *testing.T) {
	is := newIssuer(t, jwkOf("k1", &testRSAKey().PublicKey))
	o := newOIDCKeys(is.srv.Client())
	ctx := context.Background()
	now := time.Unix(1.7e9, 0)
	get := func(at time.Time, refresh bool) []jwk {
		t.Helper()
		k, err := o.keys(ctx, "https://example.com", at, refresh)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	if k := get(now, false); len(k) != 1 || k[0].Kid != "k1" {
		t.Fatalf("keys = %+v", k)
	}
	get(now.Add(30*time.Minute), false)
	if n := is.fetches.Load(); n != 1 {
		t.Fatalf("fetches within the TTL = %d, want 1", n)
	}
	// A refresh request soon after a fetch is served from the cache.
	get(now.Add(30*time.Second), true)
	if n := is.fetches.Load(); n != 1 {
		t.Fatalf("fetches after an early refresh = %d, want 1", n)
	}
	// Rotation: a refresh after jwksMinRefresh fetches the new set.
	is.setKeys(jwkOf("k2", &testRSAKey2().PublicKey))
	if k := get(now.Add(2*time.Minute), true); k[0].Kid != "k2" {
		t.Fatalf("after refresh keys = %+v", k)
	}
	// The TTL expires.
	is.setKeys(jwkOf("k3", &testRSAKey().PublicKey))
	if k := get(now.Add(2*time.Minute+jwksTTL), false); k[0].Kid != "k3" {
		t.Fatalf("after TTL keys = %+v", k)
	}
	// Server errors are communication errors; a 404 is not.
	is.status.Store(http.StatusServiceUnavailable)
	if _, err := o.keys(ctx, "https://example.com", now.Add(10*jwksTTL), false); !errors.Is(err, errIDPUnreachable) {
		t.Fatalf("503: err = %v", err)
	}
	is.status.Store(http.StatusNotFound)
	if _, err := o.keys(ctx, "https://example.com", now.Add(10*jwksTTL), false); err == nil || errors.Is(err, errIDPUnreachable) {
		t.Fatalf("404: err = %v", err)
	}
	// An issuer nobody answers for is unreachable.
	if _, err := newOIDCKeys(is.srv.Client()).keys(ctx, "https://127.0.0.1:1", now, false); !errors.Is(err, errIDPUnreachable) {
		t.Fatalf("closed port: err = %v", err)
	}
}

func TestVerifyJWTWithIssuerRotates(t *testing.T) {
	is := newIssuer(t, jwkOf("k1", &testRSAKey().PublicKey))
	o := newOIDCKeys(is.srv.Client())
	now := time.Unix(1.7e9, 0)
	parse := func(kid string, key crypto.Signer) *jwt {
		tok, err := parseJWT(signJWT(t, "RS256", kid, key, baseClaims(now)))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	if err := verifyJWTWithIssuer(context.Background(), o, parse("k1", testRSAKey()), now); err != nil {
		t.Fatal(err)
	}
	is.setKeys(jwkOf("k2", &testRSAKey2().PublicKey))
	// The new kid is unknown to the cached set: one refetch finds it.
	if err := verifyJWTWithIssuer(context.Background(), o, parse("k2", testRSAKey2()), now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := codeOf(verifyJWTWithIssuer(context.Background(), o, parse("k2", testRSAKey()), now.Add(3*time.Minute))); got != "InvalidIdentityToken" {
		t.Fatalf("forged token: code %q", got)
	}
}

func FuzzParseJWT(f *testing.F) {
	now := time.Unix(1.7e9, 0)
	f.Add(signJWT(f, "RS256", "k", testRSAKey(), baseClaims(now)))
	f.Add(signJWT(f, "ES256", "", testP256(), map[string]any{"aud": []string{"a", "b"}, "exp": 1.5}))
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	set := jwksOf(f, jwkOf("k", &testRSAKey().PublicKey), jwkOf("e", &testP256().PublicKey))
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := parseJWT(s)
		if err != nil {
			if !errors.Is(err, errJWTMalformed) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		_ = tok.verify(set)
		_ = checkJWTTimes(tok, now)
	})
}

func BenchmarkJWTVerify(b *testing.B) {
	now := time.Unix(1.7e9, 0)
	for _, bc := range []struct {
		alg string
		key crypto.Signer
	}{{"RS256", testRSAKey()}, {"ES256", testP256()}} {
		b.Run(bc.alg, func(b *testing.B) {
			set := jwksOf(b, jwkOf("k", bc.key.Public()))
			s := signJWT(b, bc.alg, "k", bc.key, baseClaims(now))
			b.ReportAllocs()
			for b.Loop() {
				tok, err := parseJWT(s)
				if err != nil {
					b.Fatal(err)
				}
				if err := tok.verify(set); err != nil {
					b.Fatal(err)
				}
				if err := checkJWTTimes(tok, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
