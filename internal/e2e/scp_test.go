package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamd/iamd/internal/testenv"
)

const denyCreateUserSCP = `{"Version":"2012-10-17","Statement":[{"Sid":"NoNewUsers","Effect":"Deny","Action":"iam:CreateUser","Resource":"*"}]}`

// scpEventually retries f until it returns the wanted error code ("" for
// success): organization changes reach cached decisions through the store's
// change notifications.
func scpEventually(t *testing.T, what, want string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := f()
		got := ""
		if err != nil {
			got = apiCode(t, err)
		}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: got %q (%v), want %q", what, got, err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSCPsBindMemberAccounts: an SCP denying iam:CreateUser stops a member
// account's root user and its admin but never the management account;
// detaching FullAWSAccess with no other SCP denies everything; an OU-level
// deny binds every account below the OU
// (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html).
func TestSCPsBindMemberAccounts(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	org := testenv.Organizations(env.AdminConfig())
	orgMust(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}))
	root := orgMust(org.ListRoots(ctx, &organizations.ListRootsInput{})).Roots[0]
	orgMust(org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: root.Id, PolicyType: orgtypes.PolicyTypeServiceControlPolicy}))

	// Member account with root keys (to test root) and an admin reached
	// through OrganizationAccountAccessRole.
	member, memberRoot := orgAccountConfig(t, env, "member@example.com", "member")
	orgMust(org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: &orgtypes.HandshakeParty{Id: aws.String(member), Type: orgtypes.HandshakePartyTypeAccount}}))
	hs := orgMust(testenv.Organizations(memberRoot).ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{})).Handshakes
	if len(hs) != 1 {
		t.Fatalf("handshakes %+v", hs)
	}
	orgMust(testenv.Organizations(memberRoot).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: hs[0].Id}))
	cs := orgMust(org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("created"), Email: aws.String("created@example.com")})).CreateAccountStatus
	created := aws.ToString(orgMust(org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: cs.Id})).CreateAccountStatus.AccountId)
	creds := orgMust(testenv.STS(env.AdminConfig()).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + created + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("ops"),
	})).Credentials
	createdAdmin := testenv.IAM(env.Config(aws.ToString(creds.AccessKeyId), aws.ToString(creds.SecretAccessKey), aws.ToString(creds.SessionToken)))
	memberRootIAM := testenv.IAM(memberRoot)
	mgmtIAM := env.AdminIAM()

	n := 0
	createUser := func(c *iam.Client) func() error {
		return func() error {
			n++
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u" + time.Now().Format("150405.000000") + string(rune('a'+n%26)))})
			return err
		}
	}
	scpEventually(t, "member root before any SCP", "", createUser(memberRootIAM))

	p := orgMust(org.CreatePolicy(ctx, &organizations.CreatePolicyInput{
		Name: aws.String("no-users"), Description: aws.String("deny CreateUser"), Type: orgtypes.PolicyTypeServiceControlPolicy, Content: aws.String(denyCreateUserSCP),
	})).Policy.PolicySummary
	orgMust(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: p.Id, TargetId: root.Id}))

	scpEventually(t, "member root under a deny SCP", "AccessDenied", createUser(memberRootIAM))
	scpEventually(t, "member admin role under a deny SCP", "AccessDenied", createUser(createdAdmin))
	scpEventually(t, "management account under a deny SCP", "", createUser(mgmtIAM))
	_, err := memberRootIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("blocked")})
	if want := "with an explicit deny in a service control policy"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("denial message: %v", err)
	}
	// Other actions stay allowed by FullAWSAccess.
	scpEventually(t, "member root ListUsers", "", func() error { _, err := memberRootIAM.ListUsers(ctx, &iam.ListUsersInput{}); return err })

	// Detach the deny; then replace FullAWSAccess on the member account by
	// a narrow policy: what it does not allow is refused.
	orgMust(org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: p.Id, TargetId: root.Id}))
	scpEventually(t, "member root after detaching the deny", "", createUser(memberRootIAM))
	narrow := orgMust(org.CreatePolicy(ctx, &organizations.CreatePolicyInput{
		Name: aws.String("list-only"), Description: aws.String("list only"), Type: orgtypes.PolicyTypeServiceControlPolicy,
		Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:List*","Resource":"*"}]}`),
	})).Policy.PolicySummary
	orgMust(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: narrow.Id, TargetId: aws.String(member)}))
	orgMust(org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String("p-FullAWSAccess"), TargetId: aws.String(member)}))
	scpEventually(t, "member root without FullAWSAccess", "AccessDenied", createUser(memberRootIAM))
	scpEventually(t, "member root ListUsers allowed by the narrow SCP", "", func() error { _, err := memberRootIAM.ListUsers(ctx, &iam.ListUsersInput{}); return err })
	_, err = memberRootIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("blocked2")})
	if want := "because no service control policy allows the iam:CreateUser action"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("implicit SCP denial message: %v", err)
	}

	// An OU-level deny binds the accounts below it and no others.
	ou := orgMust(org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: root.Id, Name: aws.String("sandbox")})).OrganizationalUnit
	orgMust(org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(created), SourceParentId: root.Id, DestinationParentId: ou.Id}))
	orgMust(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: p.Id, TargetId: ou.Id}))
	scpEventually(t, "account below the OU", "AccessDenied", createUser(createdAdmin))
	orgMust(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String("p-FullAWSAccess"), TargetId: aws.String(member)}))
	scpEventually(t, "account outside the OU", "", createUser(memberRootIAM))
}
