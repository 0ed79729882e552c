package e2e

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	orgsvc "github.com/iamd/iamd/internal/service/organizations"
	"github.com/iamd/iamd/internal/store"
	"github.com/iamd/iamd/internal/testenv"
)

// orgWant fails unless err is the AWS error code (and, when reason is not
// empty, carries that Reason).
func orgWant(t *testing.T, err error, code, reason string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	if reason == "" {
		return
	}
	var got string
	var (
		cv  *types.ConstraintViolationException
		hcv *types.HandshakeConstraintViolationException
		ii  *types.InvalidInputException
	)
	switch {
	case errors.As(err, &cv):
		got = string(cv.Reason)
	case errors.As(err, &hcv):
		got = string(hcv.Reason)
	case errors.As(err, &ii):
		got = string(ii.Reason)
	}
	if got != reason {
		t.Fatalf("%s: want Reason %s, got %q (%s)", code, reason, got, ae.ErrorMessage())
	}
}

// orgMust unwraps a call's result; an error panics, failing the test with
// the stack of the call that returned it (Go cannot pass t along with a
// multi-value call).
func orgMust[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("unexpected error: %v", err))
	}
	return v
}

// orgAccountConfig makes an account with env.App.CreateAccount and returns
// an SDK configuration signed with a root access key of it.
func orgAccountConfig(t *testing.T, env *testenv.Env, email, name string) (string, aws.Config) {
	t.Helper()
	ctx := context.Background()
	a, err := env.App.CreateAccount(ctx, "", email, "", name)
	if err != nil {
		t.Fatal(err)
	}
	var id, secret string
	err = env.App.Store.WithTx(ctx, func(tx store.Tx) error {
		k, s, err := env.App.IAM.NewAccessKey(ctx, tx, a.ID, "#root", "", time.Now())
		if err != nil {
			return err
		}
		id, secret = k.ID, s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID, env.Config(id, secret, "")
}

func policyIDs(ps []types.PolicySummary) []string {
	var out []string
	for _, p := range ps {
		out = append(out, aws.ToString(p.Id))
	}
	return out
}

func TestOrganizationsLifecycle(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	org := testenv.Organizations(env.AdminConfig())

	_, err := org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	orgWant(t, err, "AWSOrganizationsNotInUseException", "")

	o := orgMust(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})).Organization
	if o.FeatureSet != types.OrganizationFeatureSetAll || aws.ToString(o.MasterAccountId) != env.Account ||
		!regexp.MustCompile(`^o-[a-z0-9]{10}$`).MatchString(aws.ToString(o.Id)) {
		t.Fatalf("organization %+v", o)
	}
	orgID := aws.ToString(o.Id)
	if got, want := aws.ToString(o.Arn), "arn:aws:organizations::"+env.Account+":organization/"+orgID; got != want {
		t.Fatalf("Arn %s, want %s", got, want)
	}
	_, err = org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	orgWant(t, err, "AlreadyInOrganizationException", "")

	roots := orgMust(org.ListRoots(ctx, &organizations.ListRootsInput{})).Roots
	if len(roots) != 1 || !regexp.MustCompile(`^r-[a-z0-9]{4}$`).MatchString(aws.ToString(roots[0].Id)) || len(roots[0].PolicyTypes) != 0 {
		t.Fatalf("roots %+v", roots)
	}
	rootID := aws.ToString(roots[0].Id)
	if got, want := aws.ToString(roots[0].Arn), "arn:aws:organizations::"+env.Account+":root/"+orgID+"/"+rootID; got != want {
		t.Fatalf("root Arn %s, want %s", got, want)
	}

	eng := orgMust(org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(rootID), Name: aws.String("eng")})).OrganizationalUnit
	engID := aws.ToString(eng.Id)
	if !regexp.MustCompile(`^ou-` + rootID[2:] + `-[a-z0-9]{8}$`).MatchString(engID) {
		t.Fatalf("OU id %s", engID)
	}
	if got, want := aws.ToString(eng.Path), orgID+"/"+rootID+"/"+engID+"/"; got != want {
		t.Fatalf("OU path %s, want %s", got, want)
	}
	if got, want := aws.ToString(eng.Arn), "arn:aws:organizations::"+env.Account+":ou/"+orgID+"/"+engID; got != want {
		t.Fatalf("OU Arn %s, want %s", got, want)
	}
	_, err = org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(rootID), Name: aws.String("eng")})
	orgWant(t, err, "DuplicateOrganizationalUnitException", "")
	_, err = org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String("ou-zzzz-zzzzzzzz"), Name: aws.String("x")})
	orgWant(t, err, "ParentNotFoundException", "")

	// Five levels of OUs below the root, not six.
	parent := engID
	for depth := 2; depth <= 6; depth++ {
		u, err := org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(parent), Name: aws.String(fmt.Sprintf("level%d", depth))})
		if depth == 6 {
			orgWant(t, err, "ConstraintViolationException", "OU_DEPTH_LIMIT_EXCEEDED")
			break
		}
		if err != nil {
			t.Fatalf("depth %d: %v", depth, err)
		}
		parent = aws.ToString(u.OrganizationalUnit.Id)
	}

	upd := orgMust(org.UpdateOrganizationalUnit(ctx, &organizations.UpdateOrganizationalUnitInput{OrganizationalUnitId: aws.String(engID), Name: aws.String("engineering")}))
	if aws.ToString(upd.OrganizationalUnit.Name) != "engineering" {
		t.Fatalf("renamed OU %+v", upd.OrganizationalUnit)
	}

	// CreateAccount reports IN_PROGRESS as AWS does; the status then says SUCCEEDED.
	cs := orgMust(org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("dev"), Email: aws.String("dev@example.com")})).CreateAccountStatus
	if cs.State != types.CreateAccountStateInProgress || !strings.HasPrefix(aws.ToString(cs.Id), "car-") {
		t.Fatalf("create status %+v", cs)
	}
	st := orgMust(org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: cs.Id})).CreateAccountStatus
	if st.State != types.CreateAccountStateSucceeded || len(aws.ToString(st.AccountId)) != 12 || st.CompletedTimestamp == nil {
		t.Fatalf("described status %+v", st)
	}
	dev := aws.ToString(st.AccountId)
	_, err = org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String("car-00000000")})
	orgWant(t, err, "CreateAccountStatusNotFoundException", "")

	dup := orgMust(org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("dup"), Email: aws.String("dev@example.com")})).CreateAccountStatus
	st = orgMust(org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: dup.Id})).CreateAccountStatus
	if st.State != types.CreateAccountStateFailed || st.FailureReason != types.CreateAccountFailureReasonEmailAlreadyExists {
		t.Fatalf("duplicate email status %+v", st)
	}
	failed := orgMust(org.ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{States: []types.CreateAccountState{types.CreateAccountStateFailed}})).CreateAccountStatuses
	if len(failed) != 1 || aws.ToString(failed[0].Id) != aws.ToString(dup.Id) {
		t.Fatalf("failed statuses %+v", failed)
	}

	// The management account administers the new account through
	// OrganizationAccountAccessRole.
	creds := orgMust(testenv.STS(env.AdminConfig()).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + dev + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("ops"),
	})).Credentials
	devIAM := testenv.IAM(env.Config(aws.ToString(creds.AccessKeyId), aws.ToString(creds.SecretAccessKey), aws.ToString(creds.SessionToken)))
	role := orgMust(devIAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("OrganizationAccountAccessRole")})).Role
	if !strings.Contains(aws.ToString(role.AssumeRolePolicyDocument), env.Account) {
		t.Fatalf("trust policy %s", aws.ToString(role.AssumeRolePolicyDocument))
	}
	attached := orgMust(devIAM.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("OrganizationAccountAccessRole")})).AttachedPolicies
	if len(attached) != 1 || aws.ToString(attached[0].PolicyArn) != "arn:aws:iam::aws:policy/AdministratorAccess" {
		t.Fatalf("attached %+v", attached)
	}

	acct := orgMust(org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(dev)})).Account
	if acct.JoinedMethod != types.AccountJoinedMethodCreated || acct.Status != types.AccountStatusActive || aws.ToString(acct.Name) != "dev" ||
		len(acct.Paths) != 1 || acct.Paths[0] != orgID+"/"+rootID+"/"+dev+"/" {
		t.Fatalf("account %+v", acct)
	}
	mgmt := orgMust(org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(env.Account)})).Account
	if mgmt.JoinedMethod != types.AccountJoinedMethodInvited {
		t.Fatalf("management account %+v", mgmt)
	}

	_, err = org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(dev), SourceParentId: aws.String(engID), DestinationParentId: aws.String(rootID)})
	orgWant(t, err, "AccountNotFoundException", "")
	orgMust(org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(dev), SourceParentId: aws.String(rootID), DestinationParentId: aws.String(engID)}))
	_, err = org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(dev), SourceParentId: aws.String(engID), DestinationParentId: aws.String(engID)})
	orgWant(t, err, "DuplicateAccountException", "")
	inEng := orgMust(org.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(engID)})).Accounts
	if len(inEng) != 1 || aws.ToString(inEng[0].Id) != dev {
		t.Fatalf("accounts in eng %+v", inEng)
	}
	parents := orgMust(org.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(dev)})).Parents
	if len(parents) != 1 || aws.ToString(parents[0].Id) != engID || parents[0].Type != types.ParentTypeOrganizationalUnit {
		t.Fatalf("parents %+v", parents)
	}
	children := orgMust(org.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(rootID), ChildType: types.ChildTypeOrganizationalUnit})).Children
	if len(children) != 1 || aws.ToString(children[0].Id) != engID {
		t.Fatalf("children %+v", children)
	}
	_, err = org.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: aws.String(engID)})
	orgWant(t, err, "OrganizationalUnitNotEmptyException", "")

	_, err = org.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(env.Account)})
	orgWant(t, err, "ConstraintViolationException", "ACCOUNT_CANNOT_LEAVE_ORGANIZATION")
	_, err = org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(env.Account)})
	orgWant(t, err, "ConstraintViolationException", "CANNOT_CLOSE_MANAGEMENT_ACCOUNT")
	orgMust(org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(dev)}))
	acct = orgMust(org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(dev)})).Account
	if acct.Status != types.AccountStatusSuspended {
		t.Fatalf("closed account %+v", acct)
	}
	_, err = org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(dev)})
	orgWant(t, err, "AccountAlreadyClosedException", "")

	_, err = org.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{})
	orgWant(t, err, "OrganizationNotEmptyException", "")
	orgMust(org.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(dev)}))
	_, err = org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(dev)})
	orgWant(t, err, "AccountNotFoundException", "")
	orgMust(org.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{}))
	_, err = org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	orgWant(t, err, "AWSOrganizationsNotInUseException", "")
	// A new organization starts empty.
	orgMust(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}))
	ous := orgMust(org.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: orgMust(org.ListRoots(ctx, &organizations.ListRootsInput{})).Roots[0].Id})).OrganizationalUnits
	if len(ous) != 0 {
		t.Fatalf("OUs of a new organization: %+v", ous)
	}
}

const denyS3 = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`

func TestOrganizationsPolicies(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	org := testenv.Organizations(env.AdminConfig())
	orgID := aws.ToString(orgMust(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})).Organization.Id)
	rootID := aws.ToString(orgMust(org.ListRoots(ctx, &organizations.ListRootsInput{})).Roots[0].Id)
	ouID := aws.ToString(orgMust(org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(rootID), Name: aws.String("prod")})).OrganizationalUnit.Id)
	cs := orgMust(org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("app"), Email: aws.String("app@example.com")})).CreateAccountStatus
	app := aws.ToString(orgMust(org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: cs.Id})).CreateAccountStatus.AccountId)
	orgMust(org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(app), SourceParentId: aws.String(rootID), DestinationParentId: aws.String(ouID)}))

	deny := orgMust(org.CreatePolicy(ctx, &organizations.CreatePolicyInput{
		Name: aws.String("deny-s3"), Description: aws.String("no S3"), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(denyS3),
	})).Policy.PolicySummary
	denyID := aws.ToString(deny.Id)
	if !regexp.MustCompile(`^p-[a-z0-9]{8}$`).MatchString(denyID) ||
		aws.ToString(deny.Arn) != "arn:aws:organizations::"+env.Account+":policy/"+orgID+"/service_control_policy/"+denyID || deny.AwsManaged {
		t.Fatalf("policy %+v", deny)
	}
	_, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(denyID), TargetId: aws.String(app)})
	orgWant(t, err, "PolicyTypeNotEnabledException", "")

	// Validation and limits.
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Sid":"` + strings.Repeat("a", 5100) + `"}]}`
	_, err = org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("big"), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(big)})
	orgWant(t, err, "ConstraintViolationException", "POLICY_CONTENT_LIMIT_EXCEEDED")
	for _, bad := range []string{`{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, `{"Version":"2012-10-17","Statement":[`, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Resource":"*"}]}`} {
		_, err = org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("bad"), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(bad)})
		orgWant(t, err, "MalformedPolicyDocumentException", "")
	}
	_, err = org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("deny-s3"), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(denyS3)})
	orgWant(t, err, "DuplicatePolicyException", "")

	root := orgMust(org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: types.PolicyTypeServiceControlPolicy})).Root
	if len(root.PolicyTypes) != 1 || root.PolicyTypes[0].Type != types.PolicyTypeServiceControlPolicy || root.PolicyTypes[0].Status != types.PolicyTypeStatusEnabled {
		t.Fatalf("root %+v", root)
	}
	_, err = org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: types.PolicyTypeServiceControlPolicy})
	orgWant(t, err, "PolicyTypeAlreadyEnabledException", "")
	_, err = org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String("r-zzzz"), PolicyType: types.PolicyTypeTagPolicy})
	orgWant(t, err, "RootNotFoundException", "")

	// FullAWSAccess lands on every target, and on targets created later.
	later := aws.ToString(orgMust(org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(rootID), Name: aws.String("later")})).OrganizationalUnit.Id)
	for _, target := range []string{rootID, ouID, app, env.Account, later} {
		ps := orgMust(org.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(target), Filter: types.PolicyTypeServiceControlPolicy})).Policies
		if !slices.Equal(policyIDs(ps), []string{"p-FullAWSAccess"}) || !ps[0].AwsManaged ||
			aws.ToString(ps[0].Arn) != "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess" {
			t.Fatalf("policies for %s: %+v", target, ps)
		}
	}
	_, err = org.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String("p-FullAWSAccess"), Name: aws.String("mine")})
	orgWant(t, err, "InvalidInputException", "IMMUTABLE_POLICY")
	_, err = org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: aws.String("p-FullAWSAccess")})
	orgWant(t, err, "InvalidInputException", "IMMUTABLE_POLICY")

	orgMust(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(denyID), TargetId: aws.String(app)}))
	_, err = org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(denyID), TargetId: aws.String(app)})
	orgWant(t, err, "DuplicatePolicyAttachmentException", "")
	_, err = org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(denyID), TargetId: aws.String("999999999999")})
	orgWant(t, err, "TargetNotFoundException", "")
	_, err = org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String("p-00000000"), TargetId: aws.String(app)})
	orgWant(t, err, "PolicyNotFoundException", "")
	targets := orgMust(org.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String(denyID)})).Targets
	if len(targets) != 1 || aws.ToString(targets[0].TargetId) != app || targets[0].Type != types.TargetTypeAccount || aws.ToString(targets[0].Name) != "app" {
		t.Fatalf("targets %+v", targets)
	}
	_, err = org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: aws.String(denyID)})
	orgWant(t, err, "PolicyInUseException", "")

	// Allow-list: the deny replaces FullAWSAccess; the last SCP stays.
	orgMust(org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String("p-FullAWSAccess"), TargetId: aws.String(app)}))
	_, err = org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(denyID), TargetId: aws.String(app)})
	orgWant(t, err, "ConstraintViolationException", "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
	_, err = org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(denyID), TargetId: aws.String(ouID)})
	orgWant(t, err, "PolicyNotAttachedException", "")

	// At most five SCPs per target.
	var extra []string
	for i := range 5 {
		p := orgMust(org.CreatePolicy(ctx, &organizations.CreatePolicyInput{
			Name: aws.String(fmt.Sprintf("extra%d", i)), Description: aws.String("x"), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(denyS3),
		})).Policy.PolicySummary
		extra = append(extra, aws.ToString(p.Id))
	}
	for i, id := range extra {
		_, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(ouID)})
		if i < 4 {
			if err != nil {
				t.Fatalf("attach %d: %v", i, err)
			}
			continue
		}
		orgWant(t, err, "ConstraintViolationException", "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
	}

	// ListPolicies pages through customer and AWS managed policies alike.
	var all []string
	pg := organizations.NewListPoliciesPaginator(org, &organizations.ListPoliciesInput{Filter: types.PolicyTypeServiceControlPolicy, MaxResults: aws.Int32(2)})
	for pg.HasMorePages() {
		page := orgMust(pg.NextPage(ctx))
		if len(page.Policies) > 2 {
			t.Fatalf("page of %d", len(page.Policies))
		}
		all = append(all, policyIDs(page.Policies)...)
	}
	want := append([]string{"p-FullAWSAccess", denyID}, extra...)
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Fatalf("ListPolicies %v, want %v", all, want)
	}

	updated := orgMust(org.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String(denyID), Name: aws.String("deny-storage"), Description: aws.String("updated")})).Policy
	if aws.ToString(updated.PolicySummary.Name) != "deny-storage" || aws.ToString(updated.Content) != denyS3 {
		t.Fatalf("updated %+v", updated)
	}

	// Guardrails: one level per root, OU and account; none for management.
	gs := &orgsvc.Service{Store: env.App.Store}
	g, err := gs.Guardrails(ctx, env.App.Store, app)
	if err != nil {
		t.Fatal(err)
	}
	if g.OrgID != orgID || g.ManagementAccount != env.Account || !slices.Equal(g.OrgPaths, []string{orgID + "/" + rootID + "/" + ouID + "/"}) ||
		len(g.SCPs) != 3 || len(g.SCPs[0]) != 1 || len(g.SCPs[1]) != 5 || !slices.Equal(g.SCPs[2], []string{denyS3}) || g.RCPs != nil {
		t.Fatalf("guardrails %+v", g)
	}
	if g, err := gs.Guardrails(ctx, env.App.Store, env.Account); err != nil || g.SCPs != nil || len(g.OrgPaths) != 1 {
		t.Fatalf("management guardrails %+v, %v", g, err)
	}
	if g, err := gs.Guardrails(ctx, env.App.Store, "999999999999"); err != nil || g != nil {
		t.Fatalf("guardrails outside any organization %+v, %v", g, err)
	}

	// RCPs: RCPFullAWSAccess everywhere, and it cannot be detached.
	orgMust(org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: types.PolicyTypeResourceControlPolicy}))
	rcps := orgMust(org.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(app), Filter: types.PolicyTypeResourceControlPolicy})).Policies
	if !slices.Equal(policyIDs(rcps), []string{"p-RCPFullAWSAccess"}) {
		t.Fatalf("RCPs %+v", rcps)
	}
	_, err = org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String("p-RCPFullAWSAccess"), TargetId: aws.String(app)})
	orgWant(t, err, "InvalidInputException", "NON_DETACHABLE_POLICY")
	_, err = org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("rcp"), Description: aws.String(""), Type: types.PolicyTypeResourceControlPolicy, Content: aws.String(denyS3)})
	orgWant(t, err, "MalformedPolicyDocumentException", "") // RCP statements must name Principal "*"
	if g, _ := gs.Guardrails(ctx, env.App.Store, app); len(g.RCPs) != 3 {
		t.Fatalf("RCP guardrails %+v", g)
	}

	// Disabling SCPs detaches every SCP.
	orgMust(org.DisablePolicyType(ctx, &organizations.DisablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: types.PolicyTypeServiceControlPolicy}))
	if ps := orgMust(org.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(app), Filter: types.PolicyTypeServiceControlPolicy})).Policies; len(ps) != 0 {
		t.Fatalf("SCPs after disabling: %+v", ps)
	}
	if g, _ := gs.Guardrails(ctx, env.App.Store, app); g.SCPs != nil {
		t.Fatalf("guardrails after disabling SCPs %+v", g)
	}
	_, err = org.DisablePolicyType(ctx, &organizations.DisablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: types.PolicyTypeServiceControlPolicy})
	orgWant(t, err, "PolicyTypeNotEnabledException", "")
	orgMust(org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: aws.String(denyID)}))

	// Tag policies merge down the tree into the effective policy.
	orgMust(org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: types.PolicyTypeTagPolicy}))
	_, err = org.DescribeEffectivePolicy(ctx, &organizations.DescribeEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeTagPolicy, TargetId: aws.String(app)})
	orgWant(t, err, "EffectivePolicyNotFoundException", "")
	rootTag := orgMust(org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("cc"), Description: aws.String(""), Type: types.PolicyTypeTagPolicy,
		Content: aws.String(`{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"},"tag_value":{"@@assign":["100","200"]}}}}`)})).Policy.PolicySummary
	ouTag := orgMust(org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("cc-prod"), Description: aws.String(""), Type: types.PolicyTypeTagPolicy,
		Content: aws.String(`{"tags":{"costcenter":{"tag_value":{"@@assign":["300"]}}}}`)})).Policy.PolicySummary
	orgMust(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: rootTag.Id, TargetId: aws.String(rootID)}))
	orgMust(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: ouTag.Id, TargetId: aws.String(ouID)}))
	eff := orgMust(org.DescribeEffectivePolicy(ctx, &organizations.DescribeEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeTagPolicy, TargetId: aws.String(app)})).EffectivePolicy
	if got, want := aws.ToString(eff.PolicyContent), `{"tags":{"costcenter":{"tag_key":"CostCenter","tag_value":["300"]}}}`; got != want || aws.ToString(eff.TargetId) != app {
		t.Fatalf("effective policy %s, want %s", got, want)
	}
	_, err = org.DescribeEffectivePolicy(ctx, &organizations.DescribeEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeTagPolicy, TargetId: aws.String(ouID)})
	orgWant(t, err, "InvalidInputException", "TARGET_NOT_SUPPORTED")

	// Tags on policies, OUs and accounts.
	orgMust(org.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(ouID), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}, {Key: aws.String("env"), Value: aws.String("prod")}}}))
	orgMust(org.UntagResource(ctx, &organizations.UntagResourceInput{ResourceId: aws.String(ouID), TagKeys: []string{"team"}}))
	tags := orgMust(org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(ouID)})).Tags
	if len(tags) != 1 || aws.ToString(tags[0].Key) != "env" {
		t.Fatalf("tags %+v", tags)
	}
	_, err = org.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(app), Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("y")}}})
	orgWant(t, err, "InvalidInputException", "")
}

func TestOrganizationsHandshakesAndDelegation(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	org := testenv.Organizations(env.AdminConfig())
	orgID := aws.ToString(orgMust(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})).Organization.Id)
	bee, beeCfg := orgAccountConfig(t, env, "bee@example.com", "bee")
	cee, ceeCfg := orgAccountConfig(t, env, "cee@example.com", "cee")
	beeOrg, ceeOrg := testenv.Organizations(beeCfg), testenv.Organizations(ceeCfg)

	_, err := beeOrg.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String("r-abcd"), Name: aws.String("x")})
	orgWant(t, err, "AWSOrganizationsNotInUseException", "")

	h := orgMust(org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{
		Target: &types.HandshakeParty{Id: aws.String(bee), Type: types.HandshakePartyTypeAccount}, Notes: aws.String("join us"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("bees")}},
	})).Handshake
	hID := aws.ToString(h.Id)
	if !regexp.MustCompile(`^h-[a-z0-9]{10}$`).MatchString(hID) || h.State != types.HandshakeStateOpen || h.Action != types.ActionTypeInviteAccountToOrganization ||
		aws.ToString(h.Arn) != "arn:aws:organizations::"+env.Account+":handshake/"+orgID+"/invite/"+hID {
		t.Fatalf("handshake %+v", h)
	}
	_, err = org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: &types.HandshakeParty{Id: aws.String(bee), Type: types.HandshakePartyTypeAccount}})
	orgWant(t, err, "DuplicateHandshakeException", "")

	inbox := orgMust(beeOrg.ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{})).Handshakes
	if len(inbox) != 1 || aws.ToString(inbox[0].Id) != hID {
		t.Fatalf("bee's handshakes %+v", inbox)
	}
	_, err = org.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: aws.String(hID)})
	orgWant(t, err, "AccessDeniedException", "")
	_, err = ceeOrg.DescribeHandshake(ctx, &organizations.DescribeHandshakeInput{HandshakeId: aws.String(hID)})
	orgWant(t, err, "HandshakeNotFoundException", "")
	acc := orgMust(beeOrg.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: aws.String(hID)})).Handshake
	if acc.State != types.HandshakeStateAccepted {
		t.Fatalf("accepted %+v", acc)
	}
	_, err = beeOrg.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: aws.String(hID)})
	orgWant(t, err, "HandshakeAlreadyInStateException", "")
	if o := orgMust(beeOrg.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})).Organization; aws.ToString(o.Id) != orgID {
		t.Fatalf("bee's organization %+v", o)
	}
	a := orgMust(org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(bee)})).Account
	if a.JoinedMethod != types.AccountJoinedMethodInvited || aws.ToString(a.Email) != "bee@example.com" {
		t.Fatalf("bee %+v", a)
	}
	_, err = org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: &types.HandshakeParty{Id: aws.String(bee), Type: types.HandshakePartyTypeAccount}})
	orgWant(t, err, "HandshakeConstraintViolationException", "ALREADY_IN_AN_ORGANIZATION")
	// The invitation's tags are the new member's.
	if tags := orgMust(org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(bee)})).Tags; len(tags) != 1 || aws.ToString(tags[0].Value) != "bees" {
		t.Fatalf("bee's tags %+v", tags)
	}

	// Members may not manage the organization.
	_, err = beeOrg.ListAccounts(ctx, &organizations.ListAccountsInput{})
	orgWant(t, err, "AccessDeniedException", "")
	_, err = beeOrg.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("x"), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(denyS3)})
	orgWant(t, err, "AccessDeniedException", "")

	// Decline, cancel, and the transitions they forbid; invitation by email.
	byMail := orgMust(org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: &types.HandshakeParty{Id: aws.String("cee@example.com"), Type: types.HandshakePartyTypeEmail}})).Handshake
	if d := orgMust(ceeOrg.DeclineHandshake(ctx, &organizations.DeclineHandshakeInput{HandshakeId: byMail.Id})).Handshake; d.State != types.HandshakeStateDeclined {
		t.Fatalf("declined %+v", d)
	}
	_, err = ceeOrg.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: byMail.Id})
	orgWant(t, err, "InvalidHandshakeTransitionException", "")
	again := orgMust(org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: &types.HandshakeParty{Id: aws.String(cee), Type: types.HandshakePartyTypeAccount}})).Handshake
	if c := orgMust(org.CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: again.Id})).Handshake; c.State != types.HandshakeStateCanceled {
		t.Fatalf("canceled %+v", c)
	}
	_, err = ceeOrg.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: again.Id})
	orgWant(t, err, "InvalidHandshakeTransitionException", "")
	invites := orgMust(org.ListHandshakesForOrganization(ctx, &organizations.ListHandshakesForOrganizationInput{
		Filter: &types.HandshakeFilter{ActionType: types.ActionTypeInviteAccountToOrganization},
	})).Handshakes
	if len(invites) != 3 {
		t.Fatalf("organization handshakes %+v", invites)
	}

	// A delegated administrator may read the organization and cannot be removed.
	orgMust(org.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(bee), ServicePrincipal: aws.String("securityhub.amazonaws.com")}))
	_, err = org.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(bee), ServicePrincipal: aws.String("securityhub.amazonaws.com")})
	orgWant(t, err, "AccountAlreadyRegisteredException", "")
	_, err = org.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(env.Account), ServicePrincipal: aws.String("securityhub.amazonaws.com")})
	orgWant(t, err, "ConstraintViolationException", "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR")
	if accts := orgMust(beeOrg.ListAccounts(ctx, &organizations.ListAccountsInput{})).Accounts; len(accts) != 2 {
		t.Fatalf("accounts seen by the delegated admin %+v", accts)
	}
	admins := orgMust(org.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{})).DelegatedAdministrators
	if len(admins) != 1 || aws.ToString(admins[0].Id) != bee || admins[0].DelegationEnabledDate == nil {
		t.Fatalf("delegated admins %+v", admins)
	}
	svcs := orgMust(org.ListDelegatedServicesForAccount(ctx, &organizations.ListDelegatedServicesForAccountInput{AccountId: aws.String(bee)})).DelegatedServices
	if len(svcs) != 1 || aws.ToString(svcs[0].ServicePrincipal) != "securityhub.amazonaws.com" {
		t.Fatalf("delegated services %+v", svcs)
	}
	_, err = org.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(bee)})
	orgWant(t, err, "ConstraintViolationException", "CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG")
	orgMust(org.DeregisterDelegatedAdministrator(ctx, &organizations.DeregisterDelegatedAdministratorInput{AccountId: aws.String(bee), ServicePrincipal: aws.String("securityhub.amazonaws.com")}))
	_, err = org.DeregisterDelegatedAdministrator(ctx, &organizations.DeregisterDelegatedAdministratorInput{AccountId: aws.String(bee), ServicePrincipal: aws.String("securityhub.amazonaws.com")})
	orgWant(t, err, "AccountNotRegisteredException", "")

	// Service access.
	orgMust(org.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("config.amazonaws.com")}))
	_, err = org.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("not-a-principal")})
	orgWant(t, err, "InvalidInputException", "UNRECOGNIZED_SERVICE_PRINCIPAL")
	enabled := orgMust(org.ListAWSServiceAccessForOrganization(ctx, &organizations.ListAWSServiceAccessForOrganizationInput{})).EnabledServicePrincipals
	if len(enabled) != 1 || aws.ToString(enabled[0].ServicePrincipal) != "config.amazonaws.com" {
		t.Fatalf("service access %+v", enabled)
	}
	orgMust(org.DisableAWSServiceAccess(ctx, &organizations.DisableAWSServiceAccessInput{ServicePrincipal: aws.String("config.amazonaws.com")}))

	// Resource policy.
	_, err = org.DescribeResourcePolicy(ctx, &organizations.DescribeResourcePolicyInput{})
	orgWant(t, err, "ResourcePolicyNotFoundException", "")
	rp := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + bee + `:root"},"Action":"organizations:DescribeOrganization","Resource":"*"}]}`
	put := orgMust(org.PutResourcePolicy(ctx, &organizations.PutResourcePolicyInput{Content: aws.String(rp)})).ResourcePolicy
	if aws.ToString(put.Content) != rp || !strings.HasPrefix(aws.ToString(put.ResourcePolicySummary.Id), "rp-") {
		t.Fatalf("resource policy %+v", put)
	}
	orgMust(org.DeleteResourcePolicy(ctx, &organizations.DeleteResourcePolicyInput{}))

	// Leaving.
	_, err = org.LeaveOrganization(ctx, &organizations.LeaveOrganizationInput{})
	orgWant(t, err, "MasterCannotLeaveOrganizationException", "")
	orgMust(beeOrg.LeaveOrganization(ctx, &organizations.LeaveOrganizationInput{}))
	_, err = beeOrg.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	orgWant(t, err, "AWSOrganizationsNotInUseException", "")

	// Unsupported operations answer with AWS's errors.
	_, err = org.CreateGovCloudAccount(ctx, &organizations.CreateGovCloudAccountInput{AccountName: aws.String("gov"), Email: aws.String("gov@example.com")})
	orgWant(t, err, "ConstraintViolationException", "MASTER_ACCOUNT_NOT_GOVCLOUD_ENABLED")
}

func TestOrganizationsPaginationAndQuotas(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	org := testenv.Organizations(env.AdminConfig())
	orgMust(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}))
	rootID := orgMust(org.ListRoots(ctx, &organizations.ListRootsInput{})).Roots[0].Id

	// Nine created accounts reach the default quota of ten.
	for i := range 10 {
		cs, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(fmt.Sprintf("a%d", i)), Email: aws.String(fmt.Sprintf("a%d@example.com", i))})
		if i == 9 {
			orgWant(t, err, "ConstraintViolationException", "ACCOUNT_NUMBER_LIMIT_EXCEEDED")
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if st := orgMust(org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: cs.CreateAccountStatus.Id})).CreateAccountStatus; st.State != types.CreateAccountStateSucceeded {
			t.Fatalf("account %d: %+v", i, st)
		}
	}
	var ids []string
	pages := 0
	pg := organizations.NewListAccountsPaginator(org, &organizations.ListAccountsInput{MaxResults: aws.Int32(3)})
	for pg.HasMorePages() {
		page := orgMust(pg.NextPage(ctx))
		pages++
		for _, a := range page.Accounts {
			ids = append(ids, aws.ToString(a.Id))
		}
	}
	if len(ids) != 10 || pages != 4 || !slices.IsSorted(ids) || !slices.Contains(ids, env.Account) {
		t.Fatalf("ListAccounts: %d accounts in %d pages: %v", len(ids), pages, ids)
	}

	for i := range 5 {
		orgMust(org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: rootID, Name: aws.String(fmt.Sprintf("ou%d", i))}))
	}
	var names []string
	opg := organizations.NewListOrganizationalUnitsForParentPaginator(org, &organizations.ListOrganizationalUnitsForParentInput{ParentId: rootID, MaxResults: aws.Int32(2)})
	for opg.HasMorePages() {
		for _, u := range orgMust(opg.NextPage(ctx)).OrganizationalUnits {
			names = append(names, aws.ToString(u.Name))
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"ou0", "ou1", "ou2", "ou3", "ou4"}) {
		t.Fatalf("OUs %v", names)
	}
	var kids int
	cpg := organizations.NewListChildrenPaginator(org, &organizations.ListChildrenInput{ParentId: rootID, ChildType: types.ChildTypeAccount, MaxResults: aws.Int32(4)})
	for cpg.HasMorePages() {
		kids += len(orgMust(cpg.NextPage(ctx)).Children)
	}
	if kids != 10 {
		t.Fatalf("children %d", kids)
	}
	_, err := org.ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: aws.String("!!not-a-token!!")})
	orgWant(t, err, "InvalidInputException", "INVALID_NEXT_TOKEN")
}

func TestOrganizationsEnableAllFeatures(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	org := testenv.Organizations(env.AdminConfig())
	o := orgMust(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetConsolidatedBilling})).Organization
	if o.FeatureSet != types.OrganizationFeatureSetConsolidatedBilling {
		t.Fatalf("organization %+v", o)
	}
	rootID := orgMust(org.ListRoots(ctx, &organizations.ListRootsInput{})).Roots[0].Id
	_, err := org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: rootID, PolicyType: types.PolicyTypeServiceControlPolicy})
	orgWant(t, err, "PolicyTypeNotAvailableForOrganizationException", "")
	_, err = org.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("config.amazonaws.com")})
	orgWant(t, err, "ConstraintViolationException", "ORGANIZATION_NOT_IN_ALL_FEATURES_MODE")

	bee, beeCfg := orgAccountConfig(t, env, "bee@example.com", "bee")
	beeOrg := testenv.Organizations(beeCfg)
	inv := orgMust(org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: &types.HandshakeParty{Id: aws.String(bee), Type: types.HandshakePartyTypeAccount}})).Handshake
	orgMust(beeOrg.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: inv.Id}))
	orgMust(org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("made"), Email: aws.String("made@example.com")}))

	parent := orgMust(org.EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})).Handshake
	if parent.Action != types.ActionTypeEnableAllFeatures || parent.State != types.HandshakeStateOpen {
		t.Fatalf("handshake %+v", parent)
	}
	_, err = org.EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})
	orgWant(t, err, "HandshakeConstraintViolationException", "ORGANIZATION_IS_ALREADY_PENDING_ALL_FEATURES_MIGRATION")
	_, err = org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: &types.HandshakeParty{Id: aws.String("x@example.com"), Type: types.HandshakePartyTypeEmail}})
	orgWant(t, err, "HandshakeConstraintViolationException", "INVITE_DISABLED_DURING_ENABLE_ALL_FEATURES")

	// Only invited accounts must approve; the management account finalizes.
	_, err = org.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: parent.Id})
	orgWant(t, err, "InvalidHandshakeTransitionException", "")
	approvals := orgMust(beeOrg.ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{
		Filter: &types.HandshakeFilter{ActionType: types.ActionTypeApproveAllFeatures},
	})).Handshakes
	if len(approvals) != 1 {
		t.Fatalf("approvals %+v", approvals)
	}
	byParent := orgMust(org.ListHandshakesForOrganization(ctx, &organizations.ListHandshakesForOrganizationInput{
		Filter: &types.HandshakeFilter{ParentHandshakeId: parent.Id},
	})).Handshakes
	if len(byParent) != 1 || aws.ToString(byParent[0].Id) != aws.ToString(approvals[0].Id) {
		t.Fatalf("children of %s: %+v", aws.ToString(parent.Id), byParent)
	}
	orgMust(beeOrg.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: approvals[0].Id}))
	orgMust(org.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: parent.Id}))
	if fs := orgMust(org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})).Organization.FeatureSet; fs != types.OrganizationFeatureSetAll {
		t.Fatalf("feature set %s", fs)
	}
	_, err = org.EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})
	orgWant(t, err, "HandshakeConstraintViolationException", "ORGANIZATION_ALREADY_HAS_ALL_FEATURES")
	orgMust(org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: rootID, PolicyType: types.PolicyTypeServiceControlPolicy}))
}
