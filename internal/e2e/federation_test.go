package e2e

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/iamd/iamd/internal/app"
	stssvc "github.com/iamd/iamd/internal/service/sts"
	"github.com/iamd/iamd/internal/testenv"
)

// anonymousSTS is an STS client without credentials: the federated calls
// are unsigned, as the SDK sends them.
func anonymousSTS(env *testenv.Env) *sts.Client {
	cfg := env.Config("", "", "")
	cfg.Credentials = aws.AnonymousCredentials{}
	return testenv.STS(cfg)
}

// withHTTPClient re-registers STS so AssumeRoleWithWebIdentity reaches
// issuers through client (httptest's TLS client, which routes example.com
// to the local issuer and trusts its certificate).
func withHTTPClient(client *http.Client) testenv.Hook {
	return func(a *app.App) {
		(&stssvc.Service{Store: a.Store, IDs: a.IDs, Keys: a.Keys, IAM: a.IAM, HTTPClient: client}).Register(a.Registry)
	}
}

func sessionSTS(env *testenv.Env, c *ststypes.Credentials) *sts.Client {
	return testenv.STS(env.Config(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)))
}

func mustRSA(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// signRS256 makes an RS256 ID token.
func signRS256(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	hb, _ := json.Marshal(map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid})
	cb, _ := json.Marshal(claims)
	input := b64u(hb) + "." + b64u(cb)
	h := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64u(sig)
}

func TestAssumeRoleWithWebIdentity(t *testing.T) {
	key, forger := mustRSA(t), mustRSA(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/tenant/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": "https://example.com/tenant", "jwks_uri": "https://example.com/tenant/keys"})
	})
	mux.HandleFunc("/tenant/keys", func(w http.ResponseWriter, r *http.Request) {
		jwk := map[string]any{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "n": b64u(key.N.Bytes()), "e": b64u(big.NewInt(int64(key.E)).Bytes())}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{jwk}})
	})
	idp := httptest.NewTLSServer(mux)
	defer idp.Close()

	env := testenv.StartWith(t, []testenv.Hook{withHTTPClient(idp.Client())})
	ctx := context.Background()
	admin := env.AdminIAM()
	prov, err := admin.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://example.com/tenant"), ClientIDList: []string{"client-1"},
		ThumbprintList: []string{strings.Repeat("ab", 20)},
	})
	if err != nil {
		t.Fatal(err)
	}
	provARN := aws.ToString(prov.OpenIDConnectProviderArn)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + provARN + `"},` +
		`"Action":["sts:AssumeRoleWithWebIdentity","sts:TagSession"],` +
		`"Condition":{"StringEquals":{"example.com/tenant:aud":"client-1"},"StringLike":{"example.com/tenant:sub":"repo:acme/*"}}}]}`
	role, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ci"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	roleARN := aws.ToString(role.Role.Arn)

	now := time.Now()
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{"iss": "https://example.com/tenant", "sub": "repo:acme/app:ref:refs/heads/main", "aud": "client-1", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		if edit != nil {
			edit(c)
		}
		return c
	}
	anon := anonymousSTS(env)
	assume := func(tok string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		return anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(roleARN), RoleSessionName: aws.String("build-42"), WebIdentityToken: aws.String(tok),
		})
	}

	out, err := assume(signRS256(t, key, "k1", claims(func(c map[string]any) {
		c["https://aws.amazon.com/tags"] = map[string]any{"principal_tags": map[string]any{"team": []string{"ci"}}}
	})))
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Provider) != provARN || aws.ToString(out.Audience) != "client-1" ||
		aws.ToString(out.SubjectFromWebIdentityToken) != "repo:acme/app:ref:refs/heads/main" ||
		aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::"+env.Account+":assumed-role/ci/build-42" ||
		aws.ToString(out.AssumedRoleUser.AssumedRoleId) != aws.ToString(role.Role.RoleId)+":build-42" {
		t.Fatalf("response = %+v %+v", out, out.AssumedRoleUser)
	}
	if !strings.HasPrefix(aws.ToString(out.Credentials.AccessKeyId), "ASIA") {
		t.Fatalf("access key %s", aws.ToString(out.Credentials.AccessKeyId))
	}
	id, err := sessionSTS(env, out.Credentials).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Arn) != aws.ToString(out.AssumedRoleUser.Arn) {
		t.Fatalf("caller = %s", aws.ToString(id.Arn))
	}

	tests := []struct {
		name string
		tok  string
		code string
	}{
		{"audience not a client id", signRS256(t, key, "k1", claims(func(c map[string]any) { c["aud"] = "other" })), "InvalidIdentityToken"},
		{"subject outside the trust condition", signRS256(t, key, "k1", claims(func(c map[string]any) { c["sub"] = "repo:evil/app" })), "AccessDenied"},
		{"expired", signRS256(t, key, "k1", claims(func(c map[string]any) { c["exp"] = now.Add(-10 * time.Minute).Unix() })), "ExpiredTokenException"},
		{"forged", signRS256(t, forger, "k1", claims(nil)), "InvalidIdentityToken"},
		{"unregistered issuer", signRS256(t, key, "k1", claims(func(c map[string]any) { c["iss"] = "https://other.example.com" })), "InvalidIdentityToken"},
		{"not a JWT", "not-a-token", "InvalidIdentityToken"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := assume(tc.tok)
			if got := apiCode(t, err); got != tc.code {
				t.Fatalf("code %s, want %s (%v)", got, tc.code, err)
			}
		})
	}

	// DurationSeconds beyond the role's MaxSessionDuration.
	_, err = anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("long"), WebIdentityToken: aws.String(signRS256(t, key, "k1", claims(nil))),
		DurationSeconds: aws.Int32(7200),
	})
	if got := apiCode(t, err); got != "ValidationError" {
		t.Fatalf("long session: %v", err)
	}
}

// samlIdP is a test SAML identity provider: a key, its certificate and
// its metadata.
type samlIdP struct {
	key      *rsa.PrivateKey
	certB64  string
	entityID string
}

func newSAMLIdP(t *testing.T) *samlIdP {
	t.Helper()
	key := mustRSA(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "idp"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &samlIdP{key: key, certB64: base64.StdEncoding.EncodeToString(der), entityID: "https://idp.example.com/entity"}
}

func (p *samlIdP) metadata() string {
	return `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + p.entityID + `">` +
		`<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		`<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>` + p.certB64 + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
		`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>` +
		`</md:IDPSSODescriptor></md:EntityDescriptor>`
}

// response builds a signed SAML response. The Assertion is written in its
// exclusive canonical form, so its digest is the digest of the text, and
// the SignedInfo likewise: the signature does not depend on iamd's code.
func (p *samlIdP) response(t *testing.T, nameID string, roles []string, attrs string, notOnOrAfter time.Time) string {
	t.Helper()
	ts := func(x time.Time) string { return x.UTC().Format("2006-01-02T15:04:05Z") }
	issued := time.Now().Add(-time.Minute)
	var ra strings.Builder
	for _, r := range roles {
		ra.WriteString(`<saml:AttributeValue>` + r + `</saml:AttributeValue>`)
	}
	open := `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_assert1" IssueInstant="` + ts(issued) + `" Version="2.0">`
	body := `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">` + nameID + `</saml:NameID>` +
		`<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="` + ts(notOnOrAfter) + `" Recipient="https://signin.aws.amazon.com/saml"></saml:SubjectConfirmationData></saml:SubjectConfirmation></saml:Subject>` +
		`<saml:Conditions NotBefore="` + ts(issued) + `" NotOnOrAfter="` + ts(notOnOrAfter) + `"><saml:AudienceRestriction><saml:Audience>https://signin.aws.amazon.com/saml</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
		`<saml:AttributeStatement><saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role">` + ra.String() + `</saml:Attribute>` +
		`<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><saml:AttributeValue>` + nameID + `</saml:AttributeValue></saml:Attribute>` + attrs +
		`</saml:AttributeStatement></saml:Assertion>`
	issuer := `<saml:Issuer>` + p.entityID + `</saml:Issuer>`
	digest := sha256.Sum256([]byte(open + issuer + body))
	si := `<ds:SignedInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:CanonicalizationMethod>` +
		`<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"></ds:SignatureMethod><ds:Reference URI="#_assert1"><ds:Transforms>` +
		`<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></ds:Transform><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:Transform></ds:Transforms>` +
		`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></ds:DigestMethod><ds:DigestValue>` + base64.StdEncoding.EncodeToString(digest[:]) + `</ds:DigestValue></ds:Reference></ds:SignedInfo>`
	h := sha256.Sum256([]byte(si))
	sig, err := rsa.SignPKCS1v15(rand.Reader, p.key, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	signature := `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>` + strings.TrimPrefix(si, `<ds:SignedInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">`) +
		`<ds:SignatureValue>` + base64.StdEncoding.EncodeToString(sig) + `</ds:SignatureValue></ds:Signature>`
	doc := `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_resp1" Version="2.0" IssueInstant="` + ts(issued) + `">` +
		"\n  " + issuer + "\n  " + `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
		"\n  " + open + issuer + signature + body + "\n</samlp:Response>"
	return base64.StdEncoding.EncodeToString([]byte(doc))
}

func TestAssumeRoleWithSAML(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	admin := env.AdminIAM()
	idp := newSAMLIdP(t)
	prov, err := admin.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("Corp"), SAMLMetadataDocument: aws.String(idp.metadata())})
	if err != nil {
		t.Fatal(err)
	}
	provARN := aws.ToString(prov.SAMLProviderArn)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + provARN + `"},` +
		`"Action":["sts:AssumeRoleWithSAML","sts:TagSession"],"Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"},"StringNotEquals":{"saml:sub":"mallory"}}}]}`
	role, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("corp-dev"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	roleARN := aws.ToString(role.Role.Arn)
	pair := roleARN + "," + provARN
	anon := anonymousSTS(env)
	assume := func(assertion string) (*sts.AssumeRoleWithSAMLOutput, error) {
		return anon.AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(roleARN), PrincipalArn: aws.String(provARN), SAMLAssertion: aws.String(assertion)})
	}
	tag := `<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/PrincipalTag:Dept"><saml:AttributeValue>eng</saml:AttributeValue></saml:Attribute>`
	out, err := assume(idp.response(t, "alice", []string{pair}, tag, time.Now().Add(5*time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	q := sha1.Sum([]byte(idp.entityID + env.Account + "/Corp"))
	if aws.ToString(out.Subject) != "alice" || aws.ToString(out.SubjectType) != "persistent" || aws.ToString(out.Issuer) != idp.entityID ||
		aws.ToString(out.Audience) != "https://signin.aws.amazon.com/saml" || aws.ToString(out.NameQualifier) != base64.StdEncoding.EncodeToString(q[:]) ||
		aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::"+env.Account+":assumed-role/corp-dev/alice" {
		t.Fatalf("response = %+v", out)
	}
	id, err := sessionSTS(env, out.Credentials).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != aws.ToString(out.AssumedRoleUser.Arn) {
		t.Fatalf("caller = %v, %v", id, err)
	}

	good := idp.response(t, "bob", []string{pair}, "", time.Now().Add(5*time.Minute))
	raw, _ := base64.StdEncoding.DecodeString(good)
	tampered := base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(raw), "bob", "bobby", 1)))
	other := newSAMLIdP(t)
	tests := []struct {
		name, assertion, code string
	}{
		{"tampered", tampered, "InvalidIdentityToken"},
		{"signed by another IdP", other.response(t, "bob", []string{pair}, "", time.Now().Add(5*time.Minute)), "InvalidIdentityToken"},
		{"role not in the Role attribute", idp.response(t, "bob", []string{"arn:aws:iam::" + env.Account + ":role/other," + provARN}, "", time.Now().Add(5*time.Minute)), "AccessDenied"},
		{"trust condition on the subject", idp.response(t, "mallory", []string{pair}, "", time.Now().Add(5*time.Minute)), "AccessDenied"},
		{"expired", idp.response(t, "bob", []string{pair}, "", time.Now().Add(-10*time.Minute)), "ExpiredTokenException"},
		{"not base64", "%%%%", "InvalidIdentityToken"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := assume(tc.assertion)
			if got := apiCode(t, err); got != tc.code {
				t.Fatalf("code %s, want %s (%v)", got, tc.code, err)
			}
		})
	}
	_, err = anon.AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(roleARN), PrincipalArn: aws.String("arn:aws:iam::" + env.Account + ":saml-provider/Nope"), SAMLAssertion: aws.String(good)})
	if got := apiCode(t, err); got != "InvalidIdentityToken" {
		t.Fatalf("unknown provider: %v", err)
	}
}
