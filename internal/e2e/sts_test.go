package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/pquerna/otp"
	ptotp "github.com/pquerna/otp/totp"

	"github.com/iamd/iamd/internal/app"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/sigv4"
	"github.com/iamd/iamd/internal/testenv"
)

// stsUser is a user with its own key and clients.
type stsUser struct {
	name, arn, key, secret string
	cfg                    aws.Config
}

// newSTSUser creates a user with inline policies and an access key.
func newSTSUser(t *testing.T, env *testenv.Env, name string, policies map[string]string) *stsUser {
	t.Helper()
	ctx := context.Background()
	admin := env.AdminIAM()
	u, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	for pn, doc := range policies {
		if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(pn), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	k, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	su := &stsUser{name: name, arn: aws.ToString(u.User.Arn), key: aws.ToString(k.AccessKey.AccessKeyId), secret: aws.ToString(k.AccessKey.SecretAccessKey)}
	su.cfg = env.Config(su.key, su.secret, "")
	return su
}

// newRole creates a role with a trust policy and inline policies.
func newRole(t *testing.T, env *testenv.Env, name, trust string, maxSession int32, policies map[string]string) string {
	t.Helper()
	ctx := context.Background()
	admin := env.AdminIAM()
	in := &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}
	if maxSession > 0 {
		in.MaxSessionDuration = aws.Int32(maxSession)
	}
	r, err := admin.CreateRole(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for pn, doc := range policies {
		if _, err := admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	return aws.ToString(r.Role.Arn)
}

// gstPolicy grants sts:GetSessionToken, which AWS does not require; see
// the "needs no permission" subtest.
var gstPolicy = allow(`"sts:GetSessionToken"`, "*")

func allow(actions, resource string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":` + actions + `,"Resource":"` + resource + `"}]}`
}

func trustAWS(principal, extra string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":["sts:AssumeRole","sts:TagSession"]` + extra + `}]}`
}

func creds(env *testenv.Env, c *ststypes.Credentials) aws.Config {
	return env.Config(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
}

// within reports whether got is want ± a minute.
func within(got, want time.Time) bool { d := got.Sub(want); return d > -time.Minute && d < time.Minute }

func TestGetSessionTokenDurations(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	t.Run("needs no permission", func(t *testing.T) {
		// "No permissions are required for a user to get a session token"
		// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_getsessiontoken.html).
		bare := newSTSUser(t, env, "bare", nil)
		_, err := testenv.STS(bare.cfg).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
		if err != nil {
			t.Fatal(err)
		}
	})
	u := newSTSUser(t, env, "dur", map[string]string{"gst": gstPolicy})
	c := testenv.STS(u.cfg)
	for _, tc := range []struct {
		in   *int32
		want time.Duration
	}{{nil, 12 * time.Hour}, {aws.Int32(900), 15 * time.Minute}, {aws.Int32(129600), 36 * time.Hour}} {
		out, err := c.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: tc.in})
		if err != nil {
			t.Fatal(err)
		}
		if !within(aws.ToTime(out.Credentials.Expiration), time.Now().Add(tc.want)) {
			t.Errorf("DurationSeconds %v: expiration %v", tc.in, out.Credentials.Expiration)
		}
	}
	_, err := c.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(129601)})
	if got := apiCode(t, err); got != "ValidationError" {
		t.Fatalf("beyond 36 h: %v", err)
	}

	// The root user's sessions last at most an hour, whatever is asked.
	root := rootConfig(t, env)
	out, err := testenv.STS(root).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(7200)})
	if err != nil {
		t.Fatal(err)
	}
	if !within(aws.ToTime(out.Credentials.Expiration), time.Now().Add(time.Hour)) {
		t.Errorf("root session expires %v", out.Credentials.Expiration)
	}
}

// rootConfig makes an access key for the account's root user by running
// CreateAccessKey as root inside the server (iamd's bootstrap gives root a
// password, not a key) and returns its SDK configuration.
func rootConfig(t *testing.T, env *testenv.Env) aws.Config {
	t.Helper()
	root := &principal.Principal{Type: principal.Root, Partition: "aws", Account: env.Account, ARN: "arn:aws:iam::" + env.Account + ":root", UserID: env.Account}
	c := &service.Call{RequestID: "test", Service: "iam", Operation: "CreateAccessKey", Region: "us-east-1", Partition: "aws", Account: env.Account, Principal: root, Now: time.Now()}
	out, err := env.App.Registry.Lookup("iam", "CreateAccessKey")(context.Background(), c, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	k := out["AccessKey"].(map[string]any)
	return env.Config(k["AccessKeyId"].(string), k["SecretAccessKey"].(string), "")
}

func TestSessionTokenRestrictionsAndIdentity(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	u := newSTSUser(t, env, "carol", map[string]string{"all": allow(`"*"`, "*")})
	_ = gstPolicy
	out, err := testenv.STS(u.cfg).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	sess := creds(env, out.Credentials)
	// Without MFA, GetSessionToken credentials cannot call IAM...
	_, err = testenv.IAM(sess).ListUsers(ctx, &iam.ListUsersInput{})
	if got := apiCode(t, err); got != "InvalidClientTokenId" {
		t.Fatalf("IAM with a non-MFA session: %v", err)
	}
	// ...but can ask who they are.
	id, err := testenv.STS(sess).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != u.arn {
		t.Fatalf("GetCallerIdentity = %v, %v", id, err)
	}
	// GetAccessKeyInfo answers the account for long-term and session keys.
	for _, k := range []string{u.key, aws.ToString(out.Credentials.AccessKeyId)} {
		info, err := testenv.STS(env.AdminConfig()).GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(k)})
		if err != nil || aws.ToString(info.Account) != env.Account {
			t.Fatalf("GetAccessKeyInfo(%s) = %v, %v", k, info, err)
		}
	}
	if !strings.HasPrefix(u.key, "AKIA") || !strings.HasPrefix(aws.ToString(out.Credentials.AccessKeyId), "ASIA") {
		t.Fatalf("key prefixes %s %s", u.key, aws.ToString(out.Credentials.AccessKeyId))
	}
}

func TestAssumeRoleTrust(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	u := newSTSUser(t, env, "dave", nil)
	direct := newRole(t, env, "direct", trustAWS(u.arn, ""), 0, nil)
	viaAccount := newRole(t, env, "via-account", trustAWS("arn:aws:iam::"+env.Account+":root", ""), 0, nil)
	external := newRole(t, env, "external", trustAWS(u.arn, `,"Condition":{"StringEquals":{"sts:ExternalId":"xyz-123"}}`), 0, nil)
	c := testenv.STS(u.cfg)
	assume := func(role string, mod func(*sts.AssumeRoleInput)) (*sts.AssumeRoleOutput, error) {
		in := &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1")}
		if mod != nil {
			mod(in)
		}
		return c.AssumeRole(ctx, in)
	}

	// A trust policy naming the user is enough on its own.
	out, err := assume(direct, nil)
	if err != nil {
		t.Fatal(err)
	}
	role, _ := env.AdminIAM().GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("direct")})
	id, err := testenv.STS(creds(env, out.Credentials)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Arn) != "arn:aws:sts::"+env.Account+":assumed-role/direct/s1" ||
		aws.ToString(id.UserId) != aws.ToString(role.Role.RoleId)+":s1" || !strings.HasPrefix(aws.ToString(id.UserId), "AROA") {
		t.Fatalf("role session identity = %s %s", aws.ToString(id.Arn), aws.ToString(id.UserId))
	}

	// A trust policy naming the account delegates to identity policies
	// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts).
	t.Run("account trust needs an identity policy", func(t *testing.T) {
		_, err := assume(viaAccount, nil)
		if apiCode(t, err) != "AccessDenied" {
			t.Fatalf("account trust without identity policy: %v", err)
		}
	})
	if _, err := env.AdminIAM().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dave"), PolicyName: aws.String("assume"), PolicyDocument: aws.String(allow(`"sts:AssumeRole"`, viaAccount))}); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() error { _, err := assume(viaAccount, nil); return err })

	// ExternalId.
	for _, tc := range []struct {
		ext  *string
		code string
	}{{nil, "AccessDenied"}, {aws.String("wrong-id"), "AccessDenied"}, {aws.String("xyz-123"), ""}} {
		_, err := assume(external, func(in *sts.AssumeRoleInput) { in.ExternalId = tc.ext })
		if tc.code == "" && err != nil || tc.code != "" && apiCode(t, err) != tc.code {
			t.Errorf("ExternalId %v: %v", aws.ToString(tc.ext), err)
		}
	}

	// A role's trust policy must allow the caller: an identity policy
	// granting sts:AssumeRole on every role does not make up for it
	// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-trust-policy).
	t.Run("identity policy cannot replace the trust policy", func(t *testing.T) {
		// The trust policy names another (existing) user: AWS refuses a
		// policy naming a user that does not exist.
		if _, err := env.AdminIAM().CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("someone-else")}); err != nil {
			t.Fatal(err)
		}
		other := newRole(t, env, "trusts-nobody", trustAWS("arn:aws:iam::"+env.Account+":user/someone-else", ""), 0, nil)
		_, err := assume(other, nil)
		if apiCode(t, err) != "AccessDenied" {
			t.Fatalf("untrusted role: %v", err)
		}
	})

	// DurationSeconds beyond the role's MaxSessionDuration (default 1 h).
	if _, err := assume(direct, func(in *sts.AssumeRoleInput) { in.DurationSeconds = aws.Int32(7200) }); apiCode(t, err) != "ValidationError" {
		t.Fatalf("beyond MaxSessionDuration: %v", err)
	}
}

func mfaCode(t *testing.T, seed string, at time.Time) string {
	t.Helper()
	c, err := ptotp.GenerateCodeCustom(seed, at, ptotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMFASessions(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	admin := env.AdminIAM()
	mfaOnly := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}},` +
		`{"Effect":"Allow","Action":"sts:GetSessionToken","Resource":"*"}]}`
	u := newSTSUser(t, env, "erin", map[string]string{"mfa": mfaOnly})
	dev, err := admin.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("erin")})
	if err != nil {
		t.Fatal(err)
	}
	seed := string(dev.VirtualMFADevice.Base32StringSeed)
	serial := aws.ToString(dev.VirtualMFADevice.SerialNumber)
	now := time.Now()
	// Two consecutive codes from the last two steps, so the current step's
	// code is still fresh afterwards.
	if _, err := admin.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{
		UserName: aws.String("erin"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(mfaCode(t, seed, now.Add(-60*time.Second))), AuthenticationCode2: aws.String(mfaCode(t, seed, now.Add(-30*time.Second))),
	}); err != nil {
		t.Fatal(err)
	}
	c := testenv.STS(u.cfg)

	// Long-term keys carry no MFA: the conditional allow does not apply.
	if _, err := testenv.IAM(u.cfg).ListUsers(ctx, &iam.ListUsersInput{}); apiCode(t, err) != "AccessDenied" {
		t.Fatalf("without MFA: %v", err)
	}
	code := mfaCode(t, seed, time.Now())
	out, err := c.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String(code)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.IAM(creds(env, out.Credentials)).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("MFA session: %v", err)
	}
	// A code is accepted once.
	if _, err := c.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String(code)}); apiCode(t, err) != "AccessDenied" {
		t.Fatalf("reused code: %v", err)
	}

	// A trust policy requiring MFA.
	needMFA := newRole(t, env, "needs-mfa", trustAWS(u.arn, `,"Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`), 0, nil)
	if _, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(needMFA), RoleSessionName: aws.String("mfa-session")}); apiCode(t, err) != "AccessDenied" {
		t.Fatalf("AssumeRole without MFA: %v", err)
	}
	t.Run("AssumeRole with MFA", func(t *testing.T) {
		next := mfaCode(t, seed, time.Now().Add(30*time.Second))
		_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(needMFA), RoleSessionName: aws.String("mfa-session"), SerialNumber: aws.String(serial), TokenCode: aws.String(next)})
		if err != nil {
			t.Fatalf("AssumeRole with MFA: %v", err)
		}
	})
}

func TestRoleSessionsPoliciesTagsChaining(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	u := newSTSUser(t, env, "frank", nil)
	second := "arn:aws:iam::" + env.Account + ":role/second"
	first := newRole(t, env, "first", trustAWS(u.arn, ""), 0, map[string]string{
		"admin": allow(`["iam:ListUsers","iam:ListRoles","sts:AssumeRole","sts:TagSession"]`, "*"),
	})
	tagged := `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/dept":"eng"}}},` +
		`{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/project":"apollo"}}}]}`
	newRole(t, env, "second", trustAWS(first, ""), 43200, map[string]string{"tagged": tagged})
	c := testenv.STS(u.cfg)

	// A session policy narrows the role to its intersection.
	out, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(first), RoleSessionName: aws.String("narrow"), Policy: aws.String(allow(`"iam:ListRoles"`, "*"))})
	if err != nil {
		t.Fatal(err)
	}
	narrow := testenv.IAM(creds(env, out.Credentials))
	if _, err := narrow.ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Fatalf("allowed by both: %v", err)
	}
	if _, err := narrow.ListUsers(ctx, &iam.ListUsersInput{}); apiCode(t, err) != "AccessDenied" {
		t.Fatalf("outside the session policy: %v", err)
	}

	// Session tags; only the transitive one survives role chaining.
	out, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(first), RoleSessionName: aws.String("tagged"),
		Tags:              []ststypes.Tag{{Key: aws.String("dept"), Value: aws.String("eng")}, {Key: aws.String("project"), Value: aws.String("apollo")}},
		TransitiveTagKeys: []string{"dept"},
	})
	if err != nil {
		t.Fatal(err)
	}
	firstSTS := testenv.STS(creds(env, out.Credentials))
	// Chained sessions last at most an hour.
	if _, err := firstSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(second), RoleSessionName: aws.String("c"), DurationSeconds: aws.Int32(7200)}); apiCode(t, err) != "ValidationError" {
		t.Fatalf("chained 2 h session: %v", err)
	}
	// A transitive tag cannot be overridden down the chain.
	if _, err := firstSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(second), RoleSessionName: aws.String("c"), Tags: []ststypes.Tag{{Key: aws.String("dept"), Value: aws.String("ops")}}}); err == nil {
		t.Fatal("overriding a transitive tag succeeded")
	}
	chained, err := firstSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(second), RoleSessionName: aws.String("chained")})
	if err != nil {
		t.Fatal(err)
	}
	if !within(aws.ToTime(chained.Credentials.Expiration), time.Now().Add(time.Hour)) {
		t.Errorf("chained session expires %v", chained.Credentials.Expiration)
	}
	secondIAM := testenv.IAM(creds(env, chained.Credentials))
	if _, err := secondIAM.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("transitive tag dept=eng not carried: %v", err)
	}
	if _, err := secondIAM.ListRoles(ctx, &iam.ListRolesInput{}); apiCode(t, err) != "AccessDenied" {
		t.Fatalf("non-transitive tag project carried: %v", err)
	}
}

// clock is an adjustable clock for the server.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

func withClock(c *clock) testenv.Hook {
	return func(a *app.App) { a.Now, a.Server.Now = c.now, c.now }
}

func TestExpiredSessionRefused(t *testing.T) {
	clk := &clock{}
	env := testenv.StartWith(t, []testenv.Hook{withClock(clk)})
	ctx := context.Background()
	u := newSTSUser(t, env, "gina", map[string]string{"gst": gstPolicy})
	out, err := testenv.STS(u.cfg).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	sess := testenv.STS(creds(env, out.Credentials))
	if _, err := sess.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	// 901 s on, the session is over. (Expiry is checked before the
	// signature's clock skew, as AWS answers ExpiredToken first.)
	clk.advance(901 * time.Second)
	_, err = sess.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if got := apiCode(t, err); got != "ExpiredToken" {
		t.Fatalf("expired session: %v", err)
	}
}

func TestGetFederationTokenIntersection(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	if _, err := testenv.Organizations(env.AdminConfig()).CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		t.Fatal(err)
	}
	u := newSTSUser(t, env, "hank", map[string]string{"orgs": allow(`["organizations:DescribeOrganization","organizations:ListRoots","sts:GetFederationToken"]`, "*")})
	out, err := testenv.STS(u.cfg).GetFederationToken(ctx, &sts.GetFederationTokenInput{
		Name: aws.String("fed-hank"), Policy: aws.String(allow(`["organizations:DescribeOrganization","organizations:ListAccounts"]`, "*")),
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.FederatedUser.Arn) != "arn:aws:sts::"+env.Account+":federated-user/fed-hank" {
		t.Fatalf("federated user %s", aws.ToString(out.FederatedUser.Arn))
	}
	fed := creds(env, out.Credentials)
	orgs := testenv.Organizations(fed)
	// Allowed by both the user's policy and the passed policy.
	if _, err := orgs.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); err != nil {
		t.Fatalf("in both: %v", err)
	}
	// Only in the user's policy.
	if _, err := orgs.ListRoots(ctx, &organizations.ListRootsInput{}); apiCode(t, err) != "AccessDeniedException" {
		t.Fatalf("only the user allows: %v", err)
	}
	// Only in the passed policy.
	if _, err := orgs.ListAccounts(ctx, &organizations.ListAccountsInput{}); apiCode(t, err) != "AccessDeniedException" {
		t.Fatalf("only the session policy allows: %v", err)
	}
	// Federation tokens cannot call IAM at all.
	if _, err := testenv.IAM(fed).ListUsers(ctx, &iam.ListUsersInput{}); apiCode(t, err) != "InvalidClientTokenId" {
		t.Fatalf("IAM with a federation token: %v", err)
	}
}

// BenchmarkSessionTokenAuthenticate measures the authentication of a
// request signed with session credentials: opening the sealed token and
// verifying the SigV4 signature with the secret it carries.
func BenchmarkSessionTokenAuthenticate(b *testing.B) {
	env := testenv.Start(b)
	ctx := context.Background()
	out, err := testenv.STS(env.AdminConfig()).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		b.Fatal(err)
	}
	body := "Action=GetCallerIdentity&Version=2011-06-15"
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	hash := hex.EncodeToString(sum[:])
	now := time.Now()
	c := out.Credentials
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}, req, hash, "sts", "us-east-1", now); err != nil {
		b.Fatal(err)
	}
	sreq := sigv4.NewRequest(req, hash)
	auth, err := sigv4.Parse(sreq)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p, err := env.App.Authn.Authenticate(ctx, sreq, auth, now)
		if err != nil || !p.Temporary {
			b.Fatal(p, err)
		}
	}
}
