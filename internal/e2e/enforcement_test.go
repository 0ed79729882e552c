package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/iamd/iamd/internal/config"
	"github.com/iamd/iamd/internal/testenv"
)

// Enforcement scenarios, each driven through the AWS SDK with the access
// keys of real users.

const (
	readOnlyIAM = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}]}`
	denyCreate  = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:CreateUser","Resource":"*"}]}`
	adminARN    = "arn:aws:iam::aws:policy/AdministratorAccess"
)

// newUser creates a user with inline policies (name → document) and
// returns an IAM client signed with the user's own new access key.
func newUser(t *testing.T, env *testenv.Env, name string, tags map[string]string, policies map[string]string) *iam.Client {
	t.Helper()
	ctx := context.Background()
	admin := env.AdminIAM()
	in := &iam.CreateUserInput{UserName: aws.String(name)}
	for k, v := range tags {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if _, err := admin.CreateUser(ctx, in); err != nil {
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
	return testenv.IAM(env.Config(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), ""))
}

// wantDenied asserts an AccessDenied whose message ends with reason.
func wantDenied(t *testing.T, err error, reason string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("want AccessDenied, got %v", err)
	}
	if !strings.HasSuffix(ae.ErrorMessage(), reason) {
		t.Fatalf("message %q; want it to end with %q", ae.ErrorMessage(), reason)
	}
}

func TestEnforceReadOnlyUser(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	reader := newUser(t, env, "reader", nil, map[string]string{"read": readOnlyIAM})

	if _, err := reader.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if _, err := reader.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("reader")}); err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if _, err := reader.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("reader")}); err != nil {
		t.Fatalf("ListUserPolicies: %v", err)
	}
	_, err := reader.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")})
	wantDenied(t, err, "because no identity-based policy allows the iam:CreateUser action")
	var ae smithy.APIError
	errors.As(err, &ae)
	if want := "User: arn:aws:iam::" + env.Account + ":user/reader is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::" + env.Account + ":user/mallory"; !strings.HasPrefix(ae.ErrorMessage(), want) {
		t.Fatalf("message %q; want prefix %q", ae.ErrorMessage(), want)
	}
	_, err = reader.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("read")})
	wantDenied(t, err, "because no identity-based policy allows the iam:DeleteUserPolicy action")
}

func TestEnforceExplicitDenyBeatsAdministratorAccess(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	admin := env.AdminIAM()
	u := newUser(t, env, "almost-admin", nil, map[string]string{"no-create": denyCreate})
	if _, err := admin.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("almost-admin"), PolicyArn: aws.String(adminARN)}); err != nil {
		t.Fatal(err)
	}
	if _, err := u.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")}); err != nil {
		t.Fatalf("CreateGroup under AdministratorAccess: %v", err)
	}
	_, err := u.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("x")})
	wantDenied(t, err, "with an explicit deny in an identity-based policy")

	// Removing the deny takes effect within moments: the authorizer's cache
	// is dropped when the store reports the change (asynchronously; IAM is
	// eventually consistent in AWS too).
	if _, err := admin.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("almost-admin"), PolicyName: aws.String("no-create")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() error {
		_, err := u.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("x")})
		return err
	})
}

// eventually retries fn for up to two seconds: policy changes reach the
// authorizer's cache through the store's asynchronous change feed.
func eventually(t *testing.T, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after 2s: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEnforcePermissionsBoundaryCapsAdmin(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	admin := env.AdminIAM()
	u := newUser(t, env, "capped", nil, nil)
	if _, err := admin.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("capped"), PolicyArn: aws.String(adminARN)}); err != nil {
		t.Fatal(err)
	}
	bp, err := admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("read-only-boundary"), PolicyDocument: aws.String(readOnlyIAM)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("capped"), PermissionsBoundary: bp.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := u.ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Fatalf("ListRoles inside the boundary: %v", err)
	}
	_, err = u.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + env.Account + `"},"Action":"sts:AssumeRole"}]}`)})
	wantDenied(t, err, "because no permissions boundary allows the iam:CreateRole action")
}

func TestEnforceSourceIPCondition(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	cond := func(cidr string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"` + cidr + `"}}}]}`
	}
	// The test client connects from 127.0.0.1.
	local := newUser(t, env, "local", nil, map[string]string{"p": cond("127.0.0.0/8")})
	remote := newUser(t, env, "remote", nil, map[string]string{"p": cond("203.0.113.0/24")})
	if _, err := local.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("ListUsers from 127.0.0.1 with 127.0.0.0/8 allowed: %v", err)
	}
	_, err := remote.ListUsers(ctx, &iam.ListUsersInput{})
	wantDenied(t, err, "because no identity-based policy allows the iam:ListUsers action")
}

func TestEnforcePrincipalTagCondition(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	admin := env.AdminIAM()
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListGroups","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"}}}]}`
	blue := newUser(t, env, "blue", map[string]string{"team": "blue"}, map[string]string{"p": doc})
	red := newUser(t, env, "red", map[string]string{"team": "red"}, map[string]string{"p": doc})
	if _, err := blue.ListGroups(ctx, &iam.ListGroupsInput{}); err != nil {
		t.Fatalf("team=blue: %v", err)
	}
	_, err := red.ListGroups(ctx, &iam.ListGroupsInput{})
	wantDenied(t, err, "because no identity-based policy allows the iam:ListGroups action")

	// Retagging decides the next request.
	if _, err := admin.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("red"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() error {
		_, err := red.ListGroups(ctx, &iam.ListGroupsInput{})
		return err
	})
}

func TestEnforceUsernameVariable(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	own := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateAccessKey","iam:ListAccessKeys","iam:DeleteAccessKey","iam:UpdateAccessKey"],"Resource":"arn:aws:iam::*:user/${aws:username}"}]}`
	bob := newUser(t, env, "bob", nil, map[string]string{"own-keys": own})
	newUser(t, env, "alice", nil, nil)

	k, err := bob.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatalf("bob creating his own key: %v", err)
	}
	// Without UserName the call acts on the caller.
	if _, err := bob.ListAccessKeys(ctx, &iam.ListAccessKeysInput{}); err != nil {
		t.Fatalf("bob listing his own keys: %v", err)
	}
	if _, err := bob.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: k.AccessKey.AccessKeyId}); err != nil {
		t.Fatalf("bob deleting his own key: %v", err)
	}
	_, err = bob.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	wantDenied(t, err, "because no identity-based policy allows the iam:CreateAccessKey action")
	_, err = bob.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
	wantDenied(t, err, "because no identity-based policy allows the iam:ListAccessKeys action")
}

func TestEnforceSoftModeAllows(t *testing.T) {
	env := testenv.Start(t, testenv.WithAuth(config.AuthSoft))
	ctx := context.Background()
	nobody := newUser(t, env, "nobody", nil, nil)
	// In soft mode a refusal is logged and the call goes through.
	if _, err := nobody.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("made-anyway")}); err != nil {
		t.Fatalf("CreateUser under --auth soft: %v", err)
	}
	if _, err := env.AdminIAM().GetUser(ctx, &iam.GetUserInput{UserName: aws.String("made-anyway")}); err != nil {
		t.Fatalf("the user was not created: %v", err)
	}
}
