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

// TestDelegationRequests walks a partner's delegation request through a
// customer account: associate, update, accept, send the token, trade it
// for credentials; and the rejection path and the main errors.
func TestDelegationRequests(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	partner := env.AdminIAM()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	tmpl, err := partner.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("read-users"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","iam:GetUser"],"Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	custID, custCfg := orgAccountConfig(t, env, "customer@example.com", "customer")
	cust := testenv.IAM(custCfg)
	must(cust.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}))
	must(cust.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("delegate"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","iam:GetUser","iam:CreateUser","iam:*DelegationRequest*","iam:SendDelegationToken"],"Resource":"*"}]}`)}))
	key, err := cust.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	bob := testenv.IAM(env.Config(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), ""))
	bobARN := "arn:aws:iam::" + custID + ":user/bob"

	create := func(workflow string) string {
		t.Helper()
		out, err := partner.CreateDelegationRequest(ctx, &iam.CreateDelegationRequestInput{
			OwnerAccountId: aws.String(custID), Description: aws.String("read your users"),
			Permissions:         &types.DelegationPermission{PolicyTemplateArn: tmpl.Policy.Arn, Parameters: []types.PolicyParameter{{Name: aws.String("scope"), Type: types.PolicyParameterTypeEnumString, Values: []string{"all"}}}},
			RequestorWorkflowId: aws.String(workflow), NotificationChannel: aws.String("arn:aws:sns:us-east-1:" + env.Account + ":delegation"),
			SessionDuration: aws.Int32(900), RequestMessage: aws.String("please"),
		})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.ConsoleDeepLink) == "" {
			t.Fatal("no ConsoleDeepLink")
		}
		return aws.ToString(out.DelegationRequestId)
	}
	state := func(c *iam.Client, id string) *types.DelegationRequest {
		t.Helper()
		out, err := c.GetDelegationRequest(ctx, &iam.GetDelegationRequestInput{DelegationRequestId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		return out.DelegationRequest
	}

	id := create("workflow-0001")
	_, err = partner.CreateDelegationRequest(ctx, &iam.CreateDelegationRequestInput{
		Description: aws.String("again"), Permissions: &types.DelegationPermission{PolicyTemplateArn: tmpl.Policy.Arn},
		RequestorWorkflowId: aws.String("workflow-0001"), NotificationChannel: aws.String("topic"), SessionDuration: aws.Int32(900)})
	if code := apiCode(t, err); code != "EntityAlreadyExists" {
		t.Fatalf("duplicate workflow id: %s", code)
	}
	_, err = partner.CreateDelegationRequest(ctx, &iam.CreateDelegationRequestInput{
		Description: aws.String("x"), Permissions: &types.DelegationPermission{PolicyTemplateArn: aws.String("arn:aws:iam::" + env.Account + ":policy/nope")},
		RequestorWorkflowId: aws.String("workflow-0002"), NotificationChannel: aws.String("topic"), SessionDuration: aws.Int32(900)})
	if code := apiCode(t, err); code != "InvalidInput" {
		t.Fatalf("missing template: %s", code)
	}

	dr := state(partner, id)
	if dr.State != types.StateTypeUnassigned || aws.ToString(dr.RequestorId) != env.Account || aws.ToString(dr.OwnerAccountId) != custID ||
		!strings.Contains(aws.ToString(dr.PermissionPolicy), "iam:ListUsers") || aws.ToInt32(dr.SessionDuration) != 900 {
		t.Fatalf("created = %+v", dr)
	}
	if l, err := bob.ListDelegationRequests(ctx, &iam.ListDelegationRequestsInput{}); err != nil || len(l.DelegationRequests) != 0 {
		t.Fatalf("unowned requests are not listed: %v %+v", err, l)
	}
	_, err = partner.AssociateDelegationRequest(ctx, &iam.AssociateDelegationRequestInput{DelegationRequestId: aws.String(id)})
	if code := apiCode(t, err); code != "NoSuchEntity" {
		t.Fatalf("associate from another account: %s", code)
	}
	must(bob.AssociateDelegationRequest(ctx, &iam.AssociateDelegationRequestInput{DelegationRequestId: aws.String(id)}))
	_, err = bob.AssociateDelegationRequest(ctx, &iam.AssociateDelegationRequestInput{DelegationRequestId: aws.String(id)})
	if code := apiCode(t, err); code != "InvalidInput" {
		t.Fatalf("second associate: %s", code)
	}
	chk, err := bob.GetDelegationRequest(ctx, &iam.GetDelegationRequestInput{DelegationRequestId: aws.String(id), DelegationPermissionCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if chk.DelegationRequest.State != types.StateTypeAssigned || aws.ToString(chk.DelegationRequest.OwnerId) != bobARN ||
		chk.PermissionCheckStatus != types.PermissionCheckStatusTypeComplete || chk.PermissionCheckResult != types.PermissionCheckResultTypeAllowed {
		t.Fatalf("after associate: %+v %v %v", chk.DelegationRequest, chk.PermissionCheckStatus, chk.PermissionCheckResult)
	}
	_, err = bob.SendDelegationToken(ctx, &iam.SendDelegationTokenInput{DelegationRequestId: aws.String(id)})
	if code := apiCode(t, err); code != "InvalidInput" {
		t.Fatalf("send before accept: %s", code)
	}
	must(bob.UpdateDelegationRequest(ctx, &iam.UpdateDelegationRequestInput{DelegationRequestId: aws.String(id), Notes: aws.String("needs a look")}))
	if dr := state(bob, id); dr.State != types.StateTypePendingApproval || aws.ToString(dr.Notes) != "needs a look" {
		t.Fatalf("after update: %+v", dr)
	}
	_, err = partner.AcceptDelegationRequest(ctx, &iam.AcceptDelegationRequestInput{DelegationRequestId: aws.String(id)})
	if code := apiCode(t, err); code != "NoSuchEntity" {
		t.Fatalf("accept by the partner: %s", code)
	}
	must(bob.AcceptDelegationRequest(ctx, &iam.AcceptDelegationRequestInput{DelegationRequestId: aws.String(id)}))
	if dr := state(bob, id); dr.State != types.StateTypeAccepted || aws.ToString(dr.ApproverId) != bobARN {
		t.Fatalf("after accept: %+v", dr)
	}
	must(bob.SendDelegationToken(ctx, &iam.SendDelegationTokenInput{DelegationRequestId: aws.String(id)}))
	dr = state(partner, id)
	if dr.State != types.StateTypeFinalized || dr.ExpirationTime == nil {
		t.Fatalf("after send: %+v", dr)
	}

	tok, err := env.App.IAM.DelegationExchangeToken(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	_, err = testenv.STS(custCfg).GetDelegatedAccessToken(ctx, &sts.GetDelegatedAccessTokenInput{TradeInToken: aws.String(tok)})
	if code := apiCode(t, err); code != "ExpiredTradeInTokenException" {
		t.Fatalf("redeemed by another account than the partner: %s", code)
	}
	_, err = testenv.STS(env.AdminConfig()).GetDelegatedAccessToken(ctx, &sts.GetDelegatedAccessTokenInput{TradeInToken: aws.String(id + ".forged")})
	if code := apiCode(t, err); code != "ExpiredTradeInTokenException" {
		t.Fatalf("forged token: %s", code)
	}
	got, err := testenv.STS(env.AdminConfig()).GetDelegatedAccessToken(ctx, &sts.GetDelegatedAccessTokenInput{TradeInToken: aws.String(tok)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.AssumedPrincipal) != bobARN || !got.Credentials.Expiration.Equal(*dr.ExpirationTime) {
		t.Fatalf("delegated: %s until %v (request until %v)", aws.ToString(got.AssumedPrincipal), got.Credentials.Expiration, dr.ExpirationTime)
	}
	delegated := env.Config(aws.ToString(got.Credentials.AccessKeyId), aws.ToString(got.Credentials.SecretAccessKey), aws.ToString(got.Credentials.SessionToken))
	who, err := testenv.STS(delegated).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Account) != custID {
		t.Fatalf("delegated identity: %v %+v", err, who)
	}
	if _, err := testenv.IAM(delegated).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("delegated ListUsers: %v", err)
	}
	_, err = testenv.IAM(delegated).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")})
	if code := apiCode(t, err); code != "AccessDenied" {
		t.Fatalf("delegated CreateUser, which bob may call but the permission policy does not allow: %s", code)
	}

	// Rejection.
	id2 := create("workflow-0003")
	must(bob.AssociateDelegationRequest(ctx, &iam.AssociateDelegationRequestInput{DelegationRequestId: aws.String(id2)}))
	must(bob.RejectDelegationRequest(ctx, &iam.RejectDelegationRequestInput{DelegationRequestId: aws.String(id2), Notes: aws.String("no thanks")}))
	if dr := state(partner, id2); dr.State != types.StateTypeRejected || aws.ToString(dr.RejectionReason) != "no thanks" || dr.ExpirationTime == nil {
		t.Fatalf("after reject: %+v", dr)
	}
	_, err = bob.AcceptDelegationRequest(ctx, &iam.AcceptDelegationRequestInput{DelegationRequestId: aws.String(id2)})
	if code := apiCode(t, err); code != "InvalidInput" {
		t.Fatalf("accept after reject: %s", code)
	}
	_, err = bob.UpdateDelegationRequest(ctx, &iam.UpdateDelegationRequestInput{DelegationRequestId: aws.String(id2)})
	if code := apiCode(t, err); code != "InvalidInput" {
		t.Fatalf("update after reject: %s", code)
	}

	l, err := bob.ListDelegationRequests(ctx, &iam.ListDelegationRequestsInput{})
	if err != nil || len(l.DelegationRequests) != 2 {
		t.Fatalf("owned requests: %v %+v", err, l)
	}
	l, err = bob.ListDelegationRequests(ctx, &iam.ListDelegationRequestsInput{MaxItems: aws.Int32(1)})
	if err != nil || len(l.DelegationRequests) != 1 || !l.IsTruncated || l.Marker == nil {
		t.Fatalf("first page: %v %+v", err, l)
	}
	l, err = bob.ListDelegationRequests(ctx, &iam.ListDelegationRequestsInput{OwnerId: aws.String("arn:aws:iam::" + custID + ":user/someone")})
	if err != nil || len(l.DelegationRequests) != 0 {
		t.Fatalf("filtered by another owner: %v %+v", err, l)
	}
	_, err = bob.GetDelegationRequest(ctx, &iam.GetDelegationRequestInput{DelegationRequestId: aws.String("dr-000000000000000000000000")})
	if code := apiCode(t, err); code != "NoSuchEntity" {
		t.Fatalf("unknown request: %s", code)
	}
}

// TestHumanReadableSummary summarizes a delegation request under the
// access rules of GetDelegationRequest.
func TestHumanReadableSummary(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()
	tmpl, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("read-users"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	custID, custCfg := orgAccountConfig(t, env, "customer@example.com", "customer")
	out, err := c.CreateDelegationRequest(ctx, &iam.CreateDelegationRequestInput{
		OwnerAccountId: aws.String(custID), Description: aws.String("Audit your users."),
		Permissions:         &types.DelegationPermission{PolicyTemplateArn: tmpl.Policy.Arn},
		RequestorWorkflowId: aws.String("workflow-0001"), NotificationChannel: aws.String("topic"), SessionDuration: aws.Int32(3600)})
	if err != nil {
		t.Fatal(err)
	}
	entity := "arn:aws:iam::" + env.Account + ":delegation-request/" + aws.ToString(out.DelegationRequestId)
	sum, err := testenv.IAM(custCfg).GetHumanReadableSummary(ctx, &iam.GetHumanReadableSummaryInput{EntityArn: aws.String(entity)})
	if err != nil {
		t.Fatal(err)
	}
	content := aws.ToString(sum.SummaryContent)
	if sum.SummaryState != types.SummaryStateTypeAvailable || aws.ToString(sum.Locale) != "en-US" ||
		!strings.Contains(content, "iam:ListUsers") || !strings.Contains(content, custID) || !strings.Contains(content, "1h0m0s") {
		t.Fatalf("summary = %v %q", sum.SummaryState, content)
	}
	fr, err := c.GetHumanReadableSummary(ctx, &iam.GetHumanReadableSummaryInput{EntityArn: aws.String(entity), Locale: aws.String("fr-FR")})
	if err != nil || fr.SummaryState != types.SummaryStateTypeNotSupported || fr.SummaryContent != nil {
		t.Fatalf("fr-FR: %v %+v", err, fr)
	}
	_, err = c.GetHumanReadableSummary(ctx, &iam.GetHumanReadableSummaryInput{EntityArn: aws.String("arn:aws:iam::" + env.Account + ":user/admin")})
	if code := apiCode(t, err); code != "InvalidInput" {
		t.Fatalf("user ARN: %s", code)
	}
	_, err = c.GetHumanReadableSummary(ctx, &iam.GetHumanReadableSummaryInput{EntityArn: aws.String("arn:aws:iam::" + env.Account + ":delegation-request/dr-000000000000000000000000")})
	if code := apiCode(t, err); code != "NoSuchEntity" {
		t.Fatalf("unknown request: %s", code)
	}
	// A third account does not see a request addressed to the customer.
	_, otherCfg := orgAccountConfig(t, env, "other@example.com", "other")
	_, err = testenv.IAM(otherCfg).GetHumanReadableSummary(ctx, &iam.GetHumanReadableSummaryInput{EntityArn: aws.String(entity)})
	if code := apiCode(t, err); code != "NoSuchEntity" {
		t.Fatalf("third account: %s", code)
	}
}
