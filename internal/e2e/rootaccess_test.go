package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/pquerna/otp/totp"

	"github.com/iamd/iamd/internal/config"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/testenv"
)

// raMember creates an organization (all features) with one member account
// made by CreateAccount, and returns the member's id.
func raMember(t *testing.T, env *testenv.Env) string {
	t.Helper()
	ctx := context.Background()
	org := testenv.Organizations(env.AdminConfig())
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		t.Fatalf("CreateOrganization: %v", err)
	}
	cs, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("member"), Email: aws.String("member@example.com")})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	st, err := org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: cs.CreateAccountStatus.Id})
	if err != nil || st.CreateAccountStatus.AccountId == nil {
		t.Fatalf("DescribeCreateAccountStatus: %v %v", st, err)
	}
	return aws.ToString(st.CreateAccountStatus.AccountId)
}

func raAssumeRoot(ctx context.Context, env *testenv.Env, member, task string) (*sts.AssumeRootOutput, error) {
	return testenv.STS(env.AdminConfig()).AssumeRoot(ctx, &sts.AssumeRootInput{
		TargetPrincipal: aws.String(member),
		TaskPolicyArn:   &ststypes.PolicyDescriptorType{Arn: aws.String("arn:aws:iam::aws:policy/root-task/" + task)},
	})
}

// TestAssumeRootDeletesMemberRootKeys: the management account enables
// centralized root access, opens a root session in a member account with
// IAMDeleteRootUserCredentials and deletes the member root's access key;
// the session can do nothing its task policy does not allow.
func TestAssumeRootDeletesMemberRootKeys(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	adminIAM := env.AdminIAM()

	// Before any organization: OrganizationNotFound.
	_, err := adminIAM.ListOrganizationsFeatures(ctx, &iam.ListOrganizationsFeaturesInput{})
	if code := apiCode(t, err); code != "OrganizationNotFoundException" {
		t.Fatalf("ListOrganizationsFeatures without an organization: %v", err)
	}
	member := raMember(t, env)
	memberRoot := acctRootKeys(t, env, member)

	// Trusted access for IAM comes first.
	_, err = adminIAM.EnableOrganizationsRootCredentialsManagement(ctx, &iam.EnableOrganizationsRootCredentialsManagementInput{})
	if code := apiCode(t, err); code != "ServiceAccessNotEnabledException" {
		t.Fatalf("enable without trusted access: %v", err)
	}
	org := testenv.Organizations(env.AdminConfig())
	if _, err := org.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("iam.amazonaws.com")}); err != nil {
		t.Fatalf("EnableAWSServiceAccess: %v", err)
	}
	if _, err := adminIAM.EnableOrganizationsRootCredentialsManagement(ctx, &iam.EnableOrganizationsRootCredentialsManagementInput{}); err != nil {
		t.Fatalf("EnableOrganizationsRootCredentialsManagement: %v", err)
	}
	// Root sessions are not on yet: AssumeRoot is refused.
	if _, err := raAssumeRoot(ctx, env, member, "IAMDeleteRootUserCredentials"); apiCode(t, err) != "AccessDenied" {
		t.Fatalf("AssumeRoot before RootSessions: %v", err)
	}
	out, err := adminIAM.EnableOrganizationsRootSessions(ctx, &iam.EnableOrganizationsRootSessionsInput{})
	if err != nil || len(out.EnabledFeatures) != 2 || aws.ToString(out.OrganizationId) == "" {
		t.Fatalf("EnableOrganizationsRootSessions: %v %v", out, err)
	}
	lf, err := adminIAM.ListOrganizationsFeatures(ctx, &iam.ListOrganizationsFeaturesInput{})
	if err != nil || len(lf.EnabledFeatures) != 2 {
		t.Fatalf("ListOrganizationsFeatures: %v %v", lf, err)
	}

	// Bad requests.
	if _, err := raAssumeRoot(ctx, env, member, "AdministratorAccess"); apiCode(t, err) != "ValidationError" {
		t.Fatalf("AssumeRoot with a non-task policy: %v", err)
	}
	if _, err := raAssumeRoot(ctx, env, env.Account, "IAMAuditRootUserCredentials"); apiCode(t, err) != "AccessDenied" {
		t.Fatalf("AssumeRoot into the management account: %v", err)
	}

	// The privileged session.
	ar, err := raAssumeRoot(ctx, env, member, "IAMDeleteRootUserCredentials")
	if err != nil {
		t.Fatalf("AssumeRoot: %v", err)
	}
	if exp := aws.ToTime(ar.Credentials.Expiration); time.Until(exp) > 901*time.Second {
		t.Fatalf("root session expires at %v: more than 15 minutes", exp)
	}
	cfg := env.Config(aws.ToString(ar.Credentials.AccessKeyId), aws.ToString(ar.Credentials.SecretAccessKey), aws.ToString(ar.Credentials.SessionToken))
	who, err := testenv.STS(cfg).GetCallerIdentity(ctx, nil)
	if err != nil || aws.ToString(who.Arn) != "arn:aws:iam::"+member+":root" || aws.ToString(who.Account) != member {
		t.Fatalf("GetCallerIdentity in the root session: %v %v", who, err)
	}
	sess := testenv.IAM(cfg)
	keys, err := sess.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
	if err != nil || len(keys.AccessKeyMetadata) != 1 || aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) != memberRoot.key {
		t.Fatalf("ListAccessKeys of the member root: %v %v", keys, err)
	}
	if _, err := sess.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(memberRoot.key)}); err != nil {
		t.Fatalf("DeleteAccessKey: %v", err)
	}
	if keys, err := sess.ListAccessKeys(ctx, &iam.ListAccessKeysInput{}); err != nil || len(keys.AccessKeyMetadata) != 0 {
		t.Fatalf("ListAccessKeys after delete: %v %v", keys, err)
	}
	// The task policy caps the root session.
	_, err = sess.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("backdoor")})
	if apiCode(t, err) != "AccessDenied" || !strings.Contains(err.Error(), "session policy") {
		t.Fatalf("CreateUser in a root task session: %v", err)
	}
	// The member root's deleted key no longer authenticates.
	acctEventually(t, "deleted member root key refused", func() error {
		_, err := testenv.STS(env.Config(memberRoot.key, memberRoot.secret, "")).GetCallerIdentity(ctx, nil)
		if err == nil {
			return errors.New("deleted key still works")
		}
		return nil
	})

	// Audit task: read-only.
	ar, err = raAssumeRoot(ctx, env, member, "IAMAuditRootUserCredentials")
	if err != nil {
		t.Fatalf("AssumeRoot audit: %v", err)
	}
	audit := testenv.IAM(env.Config(aws.ToString(ar.Credentials.AccessKeyId), aws.ToString(ar.Credentials.SecretAccessKey), aws.ToString(ar.Credentials.SessionToken)))
	if _, err := audit.GetLoginProfile(ctx, &iam.GetLoginProfileInput{}); apiCode(t, err) != "NoSuchEntity" {
		t.Fatalf("GetLoginProfile of a member root without password: %v", err)
	}
	if _, err := audit.ListMFADevices(ctx, &iam.ListMFADevicesInput{}); err != nil {
		t.Fatalf("ListMFADevices in an audit session: %v", err)
	}
	if _, err := audit.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{}); apiCode(t, err) != "AccessDenied" {
		t.Fatalf("DeleteLoginProfile in an audit session: %v", err)
	}

	// Password re-enabled for recovery, then deleted again.
	ar, err = raAssumeRoot(ctx, env, member, "IAMCreateRootUserPassword")
	if err != nil {
		t.Fatalf("AssumeRoot create password: %v", err)
	}
	create := testenv.IAM(env.Config(aws.ToString(ar.Credentials.AccessKeyId), aws.ToString(ar.Credentials.SecretAccessKey), aws.ToString(ar.Credentials.SessionToken)))
	if _, err := create.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{}); err != nil {
		t.Fatalf("CreateLoginProfile for root: %v", err)
	}
	if _, err := create.GetLoginProfile(ctx, &iam.GetLoginProfileInput{}); err != nil {
		t.Fatalf("GetLoginProfile after CreateLoginProfile: %v", err)
	}
	if _, err := create.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{}); apiCode(t, err) != "EntityAlreadyExists" {
		t.Fatalf("CreateLoginProfile twice: %v", err)
	}
}

// TestAssumeRootRefusesRoot: AssumeRoot cannot be called with root
// credentials.
func TestAssumeRootRefusesRoot(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	root := acctRootKeys(t, env, env.Account)
	_, err := testenv.STS(env.Config(root.key, root.secret, "")).AssumeRoot(ctx, &sts.AssumeRootInput{
		TargetPrincipal: aws.String("111122223333"),
		TaskPolicyArn:   &ststypes.PolicyDescriptorType{Arn: aws.String("arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials")},
	})
	if apiCode(t, err) != "AccessDenied" {
		t.Fatalf("AssumeRoot as root: %v", err)
	}
}

// TestRequireRootMFA: under --require-root-mfa a member account's root
// user without MFA may only enrol a device; once it has one, it may do
// anything.
func TestRequireRootMFA(t *testing.T) {
	env := testenv.Start(t, func(c *config.Config) { c.RequireRootMFA = true })
	ctx := context.Background()
	member := raMember(t, env)
	root := acctRootKeys(t, env, member)
	rootIAM := testenv.IAM(env.Config(root.key, root.secret, ""))

	_, err := rootIAM.ListUsers(ctx, &iam.ListUsersInput{})
	if apiCode(t, err) != "AccessDenied" || !strings.Contains(err.Error(), "MFA") {
		t.Fatalf("root without MFA ListUsers: %v", err)
	}
	if _, err := testenv.STS(env.Config(root.key, root.secret, "")).GetCallerIdentity(ctx, nil); err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	dev, err := rootIAM.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("root-mfa")})
	if err != nil {
		t.Fatalf("CreateVirtualMFADevice: %v", err)
	}
	seed := string(dev.VirtualMFADevice.Base32StringSeed)
	now := time.Now()
	c1, _ := totp.GenerateCode(seed, now.Add(-30*time.Second))
	c2, _ := totp.GenerateCode(seed, now)
	// EnableMFADevice's model requires UserName: AWS's root user enables
	// its device in the console, which this direct call (the handler the
	// console uses, as root) stands in for.
	h := env.App.Registry.Lookup("iam", "EnableMFADevice")
	rc := &service.Call{Service: "iam", Operation: "EnableMFADevice", Account: member, Partition: "aws", Region: "us-east-1", Now: time.Now(),
		Principal: &principal.Principal{Type: principal.Root, Partition: "aws", Account: member, ARN: "arn:aws:iam::" + member + ":root", UserID: member}}
	if _, err := h(ctx, rc, map[string]any{"SerialNumber": aws.ToString(dev.VirtualMFADevice.SerialNumber), "AuthenticationCode1": c1, "AuthenticationCode2": c2}); err != nil {
		t.Fatalf("EnableMFADevice for root: %v", err)
	}
	if _, err := rootIAM.ListMFADevices(ctx, &iam.ListMFADevicesInput{}); err != nil {
		t.Fatalf("ListMFADevices: %v", err)
	}
	acctEventually(t, "root with MFA ListUsers", func() error {
		_, err := rootIAM.ListUsers(ctx, &iam.ListUsersInput{})
		return err
	})
}
