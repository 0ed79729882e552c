package iam

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/secrets"
)

// credCode is the AWS error code of err ("" for nil).
func credCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("not an apierr: %v", err)
	}
	return ae.Code
}

func TestValidatePassword(t *testing.T) {
	strict := &PasswordPolicy{MinLength: 10, RequireSymbols: true, RequireNumbers: true, RequireUpper: true, RequireLower: true}
	tests := []struct {
		name   string
		policy *PasswordPolicy
		pw     string
		names  []string
		unmet  []string // substrings of the message; nil means valid
	}{
		{"default ok: three classes", nil, "abcDEF123", nil, nil},
		{"default ok: symbols count", nil, "abcdef!@#1", nil, nil},
		{"default too short", nil, "aB1!", nil, []string{"at least 8 characters"}},
		{"default two classes", nil, "abcdefgh12", nil, []string{"at least three of"}},
		{"default equals user name", nil, "Alice-Pass1", []string{"alice-pass1"}, []string{"same as the user name"}},
		{"default short and weak", nil, "abc", nil, []string{"at least 8", "at least three"}},
		{"policy ok", strict, "Abcdefgh1!", nil, nil},
		{"policy needs symbol", strict, "Abcdefgh12", nil, []string{"one symbol"}},
		{"policy needs upper and digit", strict, "abcdefgh!!", nil, []string{"uppercase", "number"}},
		{"policy length", strict, "Ab1!", nil, []string{"at least 10 characters"}},
		{"policy: non-AWS symbol does not count", strict, "Abcdefgh1~", nil, []string{"one symbol"}},
		{"policy: apostrophe is a symbol", strict, "Abcdefgh1'", nil, nil},
		{"lenient policy ignores classes and names", &PasswordPolicy{MinLength: 6}, "aaaaaa", []string{"aaaaaa"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidatePassword(tt.policy, tt.pw, tt.names...)
			if tt.unmet == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if credCode(t, err) != "PasswordPolicyViolation" {
				t.Fatalf("err = %v, want PasswordPolicyViolation", err)
			}
			msg := err.(*apierr.Error).Message
			if !strings.HasPrefix(msg, "Password does not conform to the account password policy.") {
				t.Errorf("message %q lacks AWS's prefix", msg)
			}
			for _, u := range tt.unmet {
				if !strings.Contains(msg, u) {
					t.Errorf("message %q lacks %q", msg, u)
				}
			}
		})
	}
}

func TestPasswordPolicyIn(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want PasswordPolicy
		code string
	}{
		{"defaults", map[string]any{}, PasswordPolicy{MinLength: defaultMinPasswordLength}, ""},
		{"all set", map[string]any{"MinimumPasswordLength": int64(14), "MaxPasswordAge": int64(90), "PasswordReusePrevention": int64(24), "RequireSymbols": true, "AllowUsersToChangePassword": true},
			PasswordPolicy{MinLength: 14, MaxAgeDays: 90, ReusePrevention: 24, RequireSymbols: true, AllowChange: true}, ""},
		{"length too small", map[string]any{"MinimumPasswordLength": int64(5)}, PasswordPolicy{}, apierr.ValidationError},
		{"length too large", map[string]any{"MinimumPasswordLength": int64(129)}, PasswordPolicy{}, apierr.ValidationError},
		{"age too large", map[string]any{"MaxPasswordAge": int64(1096)}, PasswordPolicy{}, apierr.ValidationError},
		{"reuse zero", map[string]any{"PasswordReusePrevention": int64(0)}, PasswordPolicy{}, apierr.ValidationError},
		{"reuse 25", map[string]any{"PasswordReusePrevention": int64(25)}, PasswordPolicy{}, apierr.ValidationError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := passwordPolicyIn(tt.in)
			if got := credCode(t, err); got != tt.code {
				t.Fatalf("code = %q, want %q (%v)", got, tt.code, err)
			}
			if err == nil && (*p != tt.want) {
				t.Fatalf("policy = %+v, want %+v", *p, tt.want)
			}
		})
	}
}

func TestPasswordReuseAndExpiry(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	lp := &LoginProfile{}
	for i, pw := range []string{"first-Pass1", "second-Pass1", "third-Pass1"} {
		h, err := secrets.HashPasswordWith(secrets.TestParams, pw)
		if err != nil {
			t.Fatal(err)
		}
		lp.setPassword(h, t0.Add(time.Duration(i)*time.Hour))
	}
	if len(lp.History) != 2 {
		t.Fatalf("history = %d, want 2", len(lp.History))
	}
	tests := []struct {
		reuse int
		pw    string
		code  string
	}{
		{0, "third-Pass1", ""},
		{1, "third-Pass1", "PasswordPolicyViolation"},
		{1, "second-Pass1", ""},
		{2, "second-Pass1", "PasswordPolicyViolation"},
		{2, "first-Pass1", ""},
		{3, "first-Pass1", "PasswordPolicyViolation"},
		{24, "never-used-1", ""},
	}
	for _, tt := range tests {
		err := checkReuse(&PasswordPolicy{ReusePrevention: tt.reuse}, lp, tt.pw)
		if got := credCode(t, err); got != tt.code {
			t.Errorf("reuse %d %q: code %q, want %q", tt.reuse, tt.pw, got, tt.code)
		}
	}

	// History is capped at the largest reuse window AWS accepts.
	for range 30 {
		lp.setPassword("$argon2id$x", t0)
	}
	if len(lp.History) != maxPasswordHistory {
		t.Fatalf("history = %d, want %d", len(lp.History), maxPasswordHistory)
	}

	pol := &PasswordPolicy{MaxAgeDays: 30}
	for _, tt := range []struct {
		pol  *PasswordPolicy
		at   time.Time
		want bool
	}{
		{nil, t0.Add(10000 * time.Hour), false},
		{pol, t0.Add(29 * 24 * time.Hour), false},
		{pol, t0.Add(30 * 24 * time.Hour), true},
		{&PasswordPolicy{}, t0.Add(10000 * time.Hour), false},
	} {
		if got := passwordExpired(tt.pol, t0, tt.at); got != tt.want {
			t.Errorf("passwordExpired(%+v, %s) = %v", tt.pol, tt.at, got)
		}
	}
}

func TestValidAccountAlias(t *testing.T) {
	tests := []struct {
		alias string
		ok    bool
	}{
		{"example", true},
		{"my-corp-2", true},
		{"a1b", true},
		{strings.Repeat("a", 63), true},
		{"ab", false},
		{strings.Repeat("a", 64), false},
		{"-abc", false},
		{"abc-", false},
		{"a--b", false},
		{"Upper", false},
		{"under_score", false},
		{"123456789012", false},
		{"123-456", true},
	}
	for _, tt := range tests {
		if err := validAccountAlias(tt.alias); (err == nil) != tt.ok {
			t.Errorf("validAccountAlias(%q) = %v, want ok=%v", tt.alias, err, tt.ok)
		}
	}
}

func TestOIDCKey(t *testing.T) {
	tests := []struct {
		url, key string
	}{
		{"https://token.actions.githubusercontent.com", "token.actions.githubusercontent.com"},
		{"https://Accounts.Google.com/", "accounts.google.com"},
		{"HTTPS://example.com/tenant/v2.0/", "example.com/tenant/v2.0"},
		{"https://oidc.eks.us-east-1.amazonaws.com/id/ABCDEF", "oidc.eks.us-east-1.amazonaws.com/id/ABCDEF"},
		{"http://example.com", ""},
		{"example.com", ""},
		{"https://", ""},
		{"https://example.com:8443", ""},
		{"https://example.com/?a=b", ""},
		{"https://example.com/#frag", ""},
		{"https://user@example.com", ""},
	}
	for _, tt := range tests {
		k, err := oidcKey(tt.url)
		if tt.key == "" {
			if credCode(t, err) != apierr.InvalidInput {
				t.Errorf("oidcKey(%q) = %q, %v; want InvalidInput", tt.url, k, err)
			}
			continue
		}
		if err != nil || k != tt.key {
			t.Errorf("oidcKey(%q) = %q, %v; want %q", tt.url, k, err, tt.key)
		}
	}
}

func TestOIDCThumbprints(t *testing.T) {
	good := strings.Repeat("a", 40)
	tests := []struct {
		name string
		in   []string
		want int
		ok   bool
	}{
		{"none", nil, 0, true},
		{"one", []string{good}, 1, true},
		{"duplicates folded case-insensitively", []string{good, strings.ToUpper(good)}, 1, true},
		{"five", []string{good, strings.Repeat("b", 40), strings.Repeat("c", 40), strings.Repeat("d", 40), strings.Repeat("e", 40)}, 5, true},
		{"six", []string{"1", "2", "3", "4", "5", "6"}, 0, false},
		{"not hex", []string{strings.Repeat("g", 40)}, 0, false},
		{"short", []string{"abc"}, 0, false},
	}
	for _, tt := range tests {
		got, err := oidcThumbprints(tt.in)
		if (err == nil) != tt.ok || (tt.ok && len(got) != tt.want) {
			t.Errorf("%s: got %v, %v", tt.name, got, err)
		}
	}
}

// credTestCert makes a DER self-signed certificate and its key.
func credTestCert(t *testing.T, notAfter time.Time) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"}, NotBefore: notAfter.Add(-48 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

func TestParseSAMLMetadata(t *testing.T) {
	der, _ := credTestCert(t, time.Now().Add(time.Hour))
	b64 := base64.StdEncoding.EncodeToString(der)
	// Line-wrapped base64, as IdPs commonly emit it.
	wrapped := b64[:40] + "\n    " + b64[40:]
	doc := func(attrs, protocol, use, cert string) string {
		return `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="urn:idp"` + attrs + `>` +
			`<IDPSSODescriptor protocolSupportEnumeration="` + protocol + `">` +
			`<KeyDescriptor` + use + `><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>` + cert +
			`</X509Certificate></X509Data></KeyInfo></KeyDescriptor>` +
			`<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp/sso"/>` +
			`</IDPSSODescriptor></EntityDescriptor>`
	}
	const proto = "urn:oasis:names:tc:SAML:2.0:protocol"
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		doc        string
		ok         bool
		validUntil time.Time
	}{
		{"signing key", doc("", proto, ` use="signing"`, b64), true, created.Add(samlValidity)},
		{"key without use", doc("", proto, "", wrapped), true, created.Add(samlValidity)},
		{"validUntil", doc(` validUntil="2030-05-01T10:00:00Z"`, proto, "", b64), true, time.Date(2030, 5, 1, 10, 0, 0, 0, time.UTC)},
		{"bad validUntil", doc(` validUntil="soon"`, proto, "", b64), false, time.Time{}},
		{"encryption key only", doc("", proto, ` use="encryption"`, b64), false, time.Time{}},
		{"SAML 1.1 only", doc("", "urn:oasis:names:tc:SAML:1.1:protocol", "", b64), false, time.Time{}},
		{"bad base64", doc("", proto, "", "!!!"), false, time.Time{}},
		{"not a certificate", doc("", proto, "", base64.StdEncoding.EncodeToString([]byte("nope"))), false, time.Time{}},
		{"wrong root", `<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"/>`, false, time.Time{}},
		{"wrong namespace", strings.Replace(doc("", proto, "", b64), "urn:oasis:names:tc:SAML:2.0:metadata", "urn:other", 1), false, time.Time{}},
		{"not XML", "hello", false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &SAMLProvider{Created: created}
			err := parseSAMLMetadata(tt.doc, p)
			if !tt.ok {
				if credCode(t, err) != apierr.InvalidInput {
					t.Fatalf("err = %v, want InvalidInput", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			certs, err := p.Certificates()
			if err != nil || len(certs) != 1 || p.EntityID != "urn:idp" || len(p.SSOURLs) != 1 || !p.ValidUntil.Equal(tt.validUntil) {
				t.Fatalf("provider = %+v, certs %d, %v", p, len(certs), err)
			}
		})
	}
}

func TestParseSSHPublicKey(t *testing.T) {
	rsaKey := func(bits int) *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k2048, k1024 := rsaKey(2048), rsaKey(1024)
	authorized := func(pub any) string {
		p, err := ssh.NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return string(ssh.MarshalAuthorizedKey(p))
	}
	pkix, _ := x509.MarshalPKIXPublicKey(&k2048.PublicKey)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := []struct {
		name, body, code string
	}{
		{"ssh-rsa with comment", strings.TrimSpace(authorized(&k2048.PublicKey)) + " me@host", ""},
		{"PKIX PEM", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})), ""},
		{"PKCS1 PEM", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k2048.PublicKey)})), ""},
		{"1024-bit", authorized(&k1024.PublicKey), "InvalidPublicKey"},
		{"ecdsa", authorized(&ec.PublicKey), "UnrecognizedPublicKeyEncoding"},
		{"garbage", "not a key", "UnrecognizedPublicKeyEncoding"},
		{"corrupt ssh-rsa", "ssh-rsa AAAAB3NzaC1yc2E= me", "InvalidPublicKey"},
		{"bad PEM", "-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----", "InvalidPublicKey"},
		{"PEM of a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "UnrecognizedPublicKeyEncoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, err := parseSSHPublicKey(tt.body)
			if got := credCode(t, err); got != tt.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.code)
			}
			if err == nil && ssh.FingerprintLegacyMD5(pub) == "" {
				t.Fatal("no fingerprint")
			}
		})
	}
}

func TestCertificateParsing(t *testing.T) {
	der, key := credTestCert(t, time.Now().Add(time.Hour))
	_, other := credTestCert(t, time.Now().Add(time.Hour))
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	pemKey := func(k *ecdsa.PrivateKey, typ string) string {
		var b []byte
		var err error
		if typ == "PRIVATE KEY" {
			b, err = x509.MarshalPKCS8PrivateKey(k)
		} else {
			b, err = x509.MarshalECPrivateKey(k)
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}))
	}
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, key, code string
		match           bool
	}{
		{"PKCS8", pemKey(key, "PRIVATE KEY"), "", true},
		{"SEC1", pemKey(key, "EC PRIVATE KEY"), "", true},
		{"other key", pemKey(other, "PRIVATE KEY"), "", false},
		{"not PEM", "key", "MalformedCertificate", false},
		{"unknown block", "-----BEGIN DSA PRIVATE KEY-----\nAAAA\n-----END DSA PRIVATE KEY-----", "MalformedCertificate", false},
	} {
		priv, err := parsePrivateKeyPEM(tt.key)
		if got := credCode(t, err); got != tt.code {
			t.Errorf("%s: code %q (%v), want %q", tt.name, got, err, tt.code)
			continue
		}
		if err == nil && keyMatches(cert, priv) != tt.match {
			t.Errorf("%s: keyMatches = %v", tt.name, !tt.match)
		}
	}
	for _, tt := range []struct {
		name, body string
		ok         bool
	}{
		{"one", certPEM, true},
		{"two in body", certPEM + certPEM, false},
		{"key instead", pemKey(key, "PRIVATE KEY"), false},
		{"garbage", "x", false},
	} {
		if _, err := parseCertPEM(tt.body); (err == nil) != tt.ok {
			t.Errorf("parseCertPEM %s: %v", tt.name, err)
		}
	}
	if err := parseChainPEM(certPEM + "\n" + certPEM); err != nil {
		t.Errorf("chain of two: %v", err)
	}
	if err := parseChainPEM(certPEM + "junk"); err == nil {
		t.Error("chain with junk accepted")
	}
}
