package e2e

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/iamd/iamd/internal/testenv"
)

// TestSTSPreferences sets the global endpoint token version and reads it
// back from GetAccountSummary.
func TestSTSPreferences(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()
	version := func() int32 {
		t.Helper()
		out, err := c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		if err != nil {
			t.Fatal(err)
		}
		return out.SummaryMap["GlobalEndpointTokenVersion"]
	}
	if v := version(); v != 1 {
		t.Fatalf("default GlobalEndpointTokenVersion = %d, want 1", v)
	}
	for _, c2 := range []struct {
		set  types.GlobalEndpointTokenVersion
		want int32
	}{{types.GlobalEndpointTokenVersionV2Token, 2}, {types.GlobalEndpointTokenVersionV2Token, 2}, {types.GlobalEndpointTokenVersionV1Token, 1}} {
		if _, err := c.SetSecurityTokenServicePreferences(ctx, &iam.SetSecurityTokenServicePreferencesInput{GlobalEndpointTokenVersion: c2.set}); err != nil {
			t.Fatal(err)
		}
		if v := version(); v != c2.want {
			t.Fatalf("after %s: GlobalEndpointTokenVersion = %d, want %d", c2.set, v, c2.want)
		}
	}
	_, err := c.SetSecurityTokenServicePreferences(ctx, &iam.SetSecurityTokenServicePreferencesInput{GlobalEndpointTokenVersion: "v3Token"})
	if code := apiCode(t, err); code != "ValidationError" {
		t.Fatalf("v3Token: %s", code)
	}
}

// TestOutboundWebIdentityFederation enables the account's issuer, mints
// tokens with both algorithms and verifies them against the issuer's
// published keys, then disables it.
func TestOutboundWebIdentityFederation(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()
	st := testenv.STS(env.AdminConfig())
	tokenIn := func(alg string) *sts.GetWebIdentityTokenInput {
		return &sts.GetWebIdentityTokenInput{Audience: []string{"https://api.example.com"}, SigningAlgorithm: aws.String(alg)}
	}

	_, err := c.GetOutboundWebIdentityFederationInfo(ctx, &iam.GetOutboundWebIdentityFederationInfoInput{})
	if code := apiCode(t, err); code != "FeatureDisabled" {
		t.Fatalf("info before enable: %s", code)
	}
	_, err = st.GetWebIdentityToken(ctx, tokenIn("ES384"))
	if code := apiCode(t, err); code != "OutboundWebIdentityFederationDisabledException" {
		t.Fatalf("token before enable: %s", code)
	}
	_, err = c.DisableOutboundWebIdentityFederation(ctx, &iam.DisableOutboundWebIdentityFederationInput{})
	if code := apiCode(t, err); code != "FeatureDisabled" {
		t.Fatalf("disable before enable: %s", code)
	}

	en, err := c.EnableOutboundWebIdentityFederation(ctx, &iam.EnableOutboundWebIdentityFederationInput{})
	if err != nil {
		t.Fatal(err)
	}
	issuer := aws.ToString(en.IssuerIdentifier)
	iu, err := url.Parse(issuer)
	if err != nil || !strings.HasPrefix(iu.Path, "/outbound-oidc/") {
		t.Fatalf("IssuerIdentifier = %q", issuer)
	}
	_, err = c.EnableOutboundWebIdentityFederation(ctx, &iam.EnableOutboundWebIdentityFederationInput{})
	if code := apiCode(t, err); code != "FeatureEnabled" {
		t.Fatalf("second enable: %s", code)
	}
	info, err := c.GetOutboundWebIdentityFederationInfo(ctx, &iam.GetOutboundWebIdentityFederationInfoInput{})
	if err != nil || aws.ToString(info.IssuerIdentifier) != issuer || !info.JwtVendingEnabled {
		t.Fatalf("info: %v %+v", err, info)
	}

	// The discovery document and keys, served by iamd under the issuer path.
	fetch := func(doc string) (int, []byte) {
		t.Helper()
		resp, err := http.Get(env.URL + iu.Path + doc)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	code, body := fetch("/.well-known/openid-configuration")
	var disc struct {
		Issuer  string   `json:"issuer"`
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if code != 200 || json.Unmarshal(body, &disc) != nil || disc.Issuer != issuer || disc.JWKSURI != issuer+"/.well-known/jwks.json" || len(disc.Algs) != 2 {
		t.Fatalf("discovery: %d %s", code, body)
	}
	code, body = fetch("/.well-known/jwks.json")
	var jwks struct {
		Keys []map[string]string `json:"keys"`
	}
	if code != 200 || json.Unmarshal(body, &jwks) != nil || len(jwks.Keys) != 2 {
		t.Fatalf("jwks: %d %s", code, body)
	}

	if _, err := c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("admin"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}}}); err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{"ES384", "RS256"} {
		in := tokenIn(alg)
		in.DurationSeconds = aws.Int32(600)
		in.Tags = []ststypes.Tag{{Key: aws.String("job"), Value: aws.String("42")}}
		before := time.Now().Truncate(time.Second)
		out, err := st.GetWebIdentityToken(ctx, in)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		claims := verifyJWT(t, aws.ToString(out.WebIdentityToken), alg, jwks.Keys)
		if claims["iss"] != issuer || claims["sub"] != "arn:aws:iam::"+env.Account+":user/admin" || claims["aud"] != "https://api.example.com" {
			t.Fatalf("%s claims = %v", alg, claims)
		}
		exp := time.Unix(int64(claims["exp"].(float64)), 0)
		if exp.Sub(time.Unix(int64(claims["iat"].(float64)), 0)) != 600*time.Second || !out.Expiration.Equal(exp) || exp.Before(before.Add(600*time.Second)) {
			t.Fatalf("%s: exp %v, Expiration %v", alg, exp, out.Expiration)
		}
		ns, _ := claims["https://sts.amazonaws.com/"].(map[string]any)
		pt, _ := ns["principal_tags"].(map[string]any)
		rt, _ := ns["request_tags"].(map[string]any)
		if ns["aws_account"] != env.Account || ns["source_region"] != "us-east-1" || pt["team"] != "platform" || rt["job"] != "42" {
			t.Fatalf("%s AWS claims = %v", alg, ns)
		}
	}

	// Two audiences make an array; a token may not outlive its session.
	in := tokenIn("RS256")
	in.Audience = append(in.Audience, "sts.example.org")
	out, err := st.GetWebIdentityToken(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if aud, _ := verifyJWT(t, aws.ToString(out.WebIdentityToken), "RS256", jwks.Keys)["aud"].([]any); len(aud) != 2 {
		t.Fatalf("aud = %v", aud)
	}
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("minter"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + env.Account + `:root"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("minter"), PolicyName: aws.String("mint"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetWebIdentityToken","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	sess, err := st.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + env.Account + ":role/minter"), RoleSessionName: aws.String("mint"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	sst := testenv.STS(env.Config(aws.ToString(sess.Credentials.AccessKeyId), aws.ToString(sess.Credentials.SecretAccessKey), aws.ToString(sess.Credentials.SessionToken)))
	in = tokenIn("ES384")
	in.DurationSeconds = aws.Int32(3600)
	_, err = sst.GetWebIdentityToken(ctx, in)
	if code := apiCode(t, err); code != "SessionDurationEscalationException" {
		t.Fatalf("escalation: %s", code)
	}
	out, err = sst.GetWebIdentityToken(ctx, tokenIn("ES384"))
	if err != nil {
		t.Fatalf("within the session: %v", err)
	}
	if sub := verifyJWT(t, aws.ToString(out.WebIdentityToken), "ES384", jwks.Keys)["sub"]; sub != "arn:aws:iam::"+env.Account+":role/minter" {
		t.Fatalf("role session sub = %v, want the role ARN", sub)
	}
	_, err = st.GetWebIdentityToken(ctx, tokenIn("HS256"))
	if code := apiCode(t, err); code != "ValidationError" {
		t.Fatalf("HS256: %s", code)
	}

	if _, err := c.DisableOutboundWebIdentityFederation(ctx, &iam.DisableOutboundWebIdentityFederationInput{}); err != nil {
		t.Fatal(err)
	}
	if code, _ := fetch("/.well-known/jwks.json"); code != http.StatusNotFound {
		t.Fatalf("jwks after disable: %d", code)
	}
	_, err = st.GetWebIdentityToken(ctx, tokenIn("ES384"))
	if code := apiCode(t, err); code != "OutboundWebIdentityFederationDisabledException" {
		t.Fatalf("token after disable: %s", code)
	}
	en, err = c.EnableOutboundWebIdentityFederation(ctx, &iam.EnableOutboundWebIdentityFederationInput{})
	if err != nil || aws.ToString(en.IssuerIdentifier) != issuer {
		t.Fatalf("re-enable: %v, issuer %q, want %q", err, aws.ToString(en.IssuerIdentifier), issuer)
	}
}

// verifyJWT checks a compact JWS against the JWKS and returns its claims.
func verifyJWT(t *testing.T, tok, alg string, keys []map[string]string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var hdr map[string]string
	if err := json.Unmarshal(dec(parts[0]), &hdr); err != nil || hdr["alg"] != alg || hdr["typ"] != "JWT" {
		t.Fatalf("header %v: %v", hdr, err)
	}
	var jwk map[string]string
	for _, k := range keys {
		if k["kid"] == hdr["kid"] {
			jwk = k
		}
	}
	if jwk == nil || jwk["alg"] != alg {
		t.Fatalf("no %s key %q in the JWKS", alg, hdr["kid"])
	}
	msg, sig := []byte(parts[0]+"."+parts[1]), dec(parts[2])
	switch alg {
	case "ES384":
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P384(), append(append([]byte{4}, dec(jwk["x"])...), dec(jwk["y"])...))
		if err != nil {
			t.Fatal(err)
		}
		h := sha512.Sum384(msg)
		if len(sig) != 96 || !ecdsa.Verify(pub, h[:], new(big.Int).SetBytes(sig[:48]), new(big.Int).SetBytes(sig[48:])) {
			t.Fatal("ES384 signature does not verify")
		}
	case "RS256":
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(dec(jwk["n"])), E: int(new(big.Int).SetBytes(dec(jwk["e"])).Int64())}
		h := sha256.Sum256(msg)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
			t.Fatalf("RS256 signature: %v", err)
		}
	}
	var claims map[string]any
	if err := json.Unmarshal(dec(parts[1]), &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}
