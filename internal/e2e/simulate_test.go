package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamd/iamd/internal/testenv"
)

func TestSimulatePrincipalPolicy(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	admin := env.AdminIAM()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("sim")}))
	must(admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("sim"), PolicyName: aws.String("read"), PolicyDocument: aws.String(readOnlyIAM)}))
	must(admin.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("creators")}))
	must(admin.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("creators"), UserName: aws.String("sim")}))
	must(admin.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("creators"), PolicyName: aws.String("create"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateUser","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`)}))
	must(admin.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("creators"), PolicyArn: aws.String(adminARN)}))
	must(admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("sim"), PolicyName: aws.String("deny"), PolicyDocument: aws.String(denyCreate)}))
	userARN := "arn:aws:iam::" + env.Account + ":user/sim"

	out, err := admin.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String(userARN),
		ActionNames:     []string{"iam:ListUsers", "iam:CreateUser", "iam:DeleteRole"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.EvaluationResults) != 3 {
		t.Fatalf("%d results", len(out.EvaluationResults))
	}
	byAction := map[string]types.EvaluationResult{}
	for _, r := range out.EvaluationResults {
		byAction[aws.ToString(r.EvalActionName)] = r
	}
	if r := byAction["iam:ListUsers"]; r.EvalDecision != types.PolicyEvaluationDecisionTypeAllowed || aws.ToString(r.EvalResourceName) != "*" {
		t.Errorf("ListUsers: %s on %s", r.EvalDecision, aws.ToString(r.EvalResourceName))
	}
	cr := byAction["iam:CreateUser"]
	if cr.EvalDecision != types.PolicyEvaluationDecisionTypeExplicitDeny {
		t.Errorf("CreateUser: %s", cr.EvalDecision)
	}
	if len(cr.MatchedStatements) != 1 || aws.ToString(cr.MatchedStatements[0].SourcePolicyId) != "deny" || cr.MatchedStatements[0].SourcePolicyType != types.PolicySourceTypeUser {
		t.Errorf("CreateUser matched %s; want only the user's deny statement", describeMatches(cr.MatchedStatements))
	}
	if !slices.Contains(cr.MissingContextValues, "aws:MultiFactorAuthPresent") {
		t.Errorf("CreateUser missing %q", cr.MissingContextValues)
	}
	dr := byAction["iam:DeleteRole"]
	if dr.EvalDecision != types.PolicyEvaluationDecisionTypeAllowed || len(dr.MatchedStatements) != 1 ||
		aws.ToString(dr.MatchedStatements[0].SourcePolicyId) != "AdministratorAccess" || dr.MatchedStatements[0].SourcePolicyType != types.PolicySourceTypeAwsManaged {
		t.Errorf("DeleteRole: %s matched %s", dr.EvalDecision, describeMatches(dr.MatchedStatements))
	}
	if dr.OrganizationsDecisionDetail != nil {
		t.Errorf("OrganizationsDecisionDetail = %+v for an account in no organization", dr.OrganizationsDecisionDetail)
	}

	// The group alone, with a context entry, a boundary and explicit resources.
	gout, err := admin.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn:                    aws.String("arn:aws:iam::" + env.Account + ":group/creators"),
		ActionNames:                        []string{"iam:CreateUser"},
		ResourceArns:                       []string{"arn:aws:iam::" + env.Account + ":user/a", "arn:aws:iam::" + env.Account + ":user/b"},
		PermissionsBoundaryPolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::*:user/a"}]}`},
		ContextEntries:                     []types.ContextEntry{{ContextKeyName: aws.String("aws:MultiFactorAuthPresent"), ContextKeyType: types.ContextKeyTypeEnumBoolean, ContextKeyValues: []string{"true"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(gout.EvaluationResults) != 2 {
		t.Fatalf("%d results; want one per resource", len(gout.EvaluationResults))
	}
	a, b := gout.EvaluationResults[0], gout.EvaluationResults[1]
	if a.EvalDecision != types.PolicyEvaluationDecisionTypeAllowed || b.EvalDecision != types.PolicyEvaluationDecisionTypeImplicitDeny {
		t.Errorf("decisions %s, %s; want allowed, implicitDeny", a.EvalDecision, b.EvalDecision)
	}
	if b.PermissionsBoundaryDecisionDetail == nil || b.PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary {
		t.Errorf("user/b boundary detail %+v", b.PermissionsBoundaryDecisionDetail)
	}
	if len(a.ResourceSpecificResults) != 1 || aws.ToString(a.ResourceSpecificResults[0].EvalResourceName) != "arn:aws:iam::"+env.Account+":user/a" {
		t.Errorf("resource-specific results %+v", a.ResourceSpecificResults)
	}
	if a.EvalDecisionDetails == nil || len(a.EvalDecisionDetails) != 0 {
		t.Errorf("same-account EvalDecisionDetails = %v; want present and empty", a.EvalDecisionDetails)
	}
	for _, m := range a.MatchedStatements {
		if m.SourcePolicyType == types.PolicySourceTypeGroup && aws.ToString(m.SourcePolicyId) == "create" {
			goto found
		}
	}
	t.Errorf("user/a matched %s; want the group's create statement", describeMatches(a.MatchedStatements))
found:

	// Pagination: one result per page.
	var seen []string
	in := &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(userARN), ActionNames: []string{"iam:GetUser", "iam:ListRoles", "iam:CreateRole"}, MaxItems: aws.Int32(1)}
	p := iam.NewSimulatePrincipalPolicyPaginator(admin, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.EvaluationResults {
			seen = append(seen, aws.ToString(r.EvalActionName))
		}
	}
	if !slices.Equal(seen, in.ActionNames) {
		t.Errorf("paged results %v", seen)
	}

	// Errors.
	_, err = admin.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::" + env.Account + ":user/ghost"), ActionNames: []string{"iam:GetUser"}})
	if code := apiCode(t, err); code != "NoSuchEntity" {
		t.Errorf("missing user: %s", code)
	}
	_, err = admin.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{`{"Statement":`}, ActionNames: []string{"iam:GetUser"}})
	if code := apiCode(t, err); code != "InvalidInput" {
		t.Errorf("malformed policy: %s", code)
	}
	_, err = admin.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{readOnlyIAM}, ActionNames: []string{"iam:GetUser"},
		ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("aws:EpochTime"), ContextKeyType: types.ContextKeyTypeEnumNumeric, ContextKeyValues: []string{"soon"}}}})
	if code := apiCode(t, err); code != "InvalidInput" {
		t.Errorf("bad numeric context value: %s", code)
	}
	_, err = admin.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{readOnlyIAM}, ActionNames: []string{"iam:GetUser"},
		ResourcePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"iam:GetUser","Resource":"*"}]}`)})
	if code := apiCode(t, err); code != "InvalidInput" {
		t.Errorf("resource policy without CallerArn: %s", code)
	}
}

func TestSimulateCrossAccountResourcePolicy(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	res := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:user/carol"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}]}`
	idAllow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	sim := func(identity []string) types.EvaluationResult {
		t.Helper()
		out, err := env.AdminIAM().SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
			PolicyInputList: identity, ActionNames: []string{"s3:GetObject"},
			ResourceArns:   []string{"arn:aws:s3:::shared/k"},
			ResourcePolicy: aws.String(res), ResourceOwner: aws.String("arn:aws:iam::" + env.Account + ":root"),
			CallerArn: aws.String("arn:aws:iam::444455556666:user/carol"),
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.EvaluationResults[0]
	}
	if r := sim([]string{}); r.EvalDecision != types.PolicyEvaluationDecisionTypeImplicitDeny || r.EvalDecisionDetails["Resource Policy"] != "allowed" {
		t.Errorf("resource side alone: %s %v", r.EvalDecision, r.EvalDecisionDetails)
	}
	r := sim([]string{idAllow})
	if r.EvalDecision != types.PolicyEvaluationDecisionTypeAllowed || r.EvalDecisionDetails["IAM Policy"] != "allowed" {
		t.Errorf("both sides: %s %v", r.EvalDecision, r.EvalDecisionDetails)
	}
	kinds := map[types.PolicySourceType]bool{}
	for _, m := range r.MatchedStatements {
		kinds[m.SourcePolicyType] = true
	}
	if !kinds[types.PolicySourceTypeResource] || !kinds[types.PolicySourceTypeNone] {
		t.Errorf("matched %s; want the resource policy and the input policy", describeMatches(r.MatchedStatements))
	}
}

func TestGetContextKeys(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	admin := env.AdminIAM()
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*",` +
		`"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"StringEquals":{"s3:prefix":"${aws:PrincipalTag/team, 'none'}"}}}]}`
	out, err := admin.GetContextKeysForCustomPolicy(ctx, &iam.GetContextKeysForCustomPolicyInput{PolicyInputList: []string{doc}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"aws:username", "aws:SourceIp", "s3:prefix", "aws:PrincipalTag/team"}
	if !slices.Equal(out.ContextKeyNames, want) {
		t.Errorf("custom keys %q; want %q", out.ContextKeyNames, want)
	}
	if _, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("keyed"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + env.Account + `"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("keyed"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`)}); err != nil {
		t.Fatal(err)
	}
	pout, err := admin.GetContextKeysForPrincipalPolicy(ctx, &iam.GetContextKeysForPrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::" + env.Account + ":role/keyed"), PolicyInputList: []string{doc}})
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]string{"aws:SecureTransport"}, want...); !slices.Equal(pout.ContextKeyNames, want) {
		t.Errorf("principal keys %q; want %q", pout.ContextKeyNames, want)
	}
}

// TestSimulateAWSCLI runs the simulator through the AWS CLI and checks the
// JSON it prints.
func TestSimulateAWSCLI(t *testing.T) {
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not installed")
	}
	env := testenv.Start(t)
	ctx := context.Background()
	if _, err := env.AdminIAM().CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("cli")}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.AdminIAM().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("cli"), PolicyName: aws.String("read"), PolicyDocument: aws.String(readOnlyIAM)}); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--endpoint-url", env.URL, "--region", "us-east-1", "--output", "json"}, args...)...)
		for _, e := range os.Environ() {
			if !strings.HasPrefix(e, "AWS_") {
				cmd.Env = append(cmd.Env, e)
			}
		}
		cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID="+env.AdminKey, "AWS_SECRET_ACCESS_KEY="+env.AdminSecret,
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, b)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("aws %v printed %s", args, b)
		}
		return m
	}
	check := func(m map[string]any, decisions ...string) {
		t.Helper()
		rs, _ := m["EvaluationResults"].([]any)
		if len(rs) != len(decisions) {
			t.Fatalf("EvaluationResults %v", m)
		}
		for i, r := range rs {
			er := r.(map[string]any)
			for _, k := range []string{"EvalActionName", "EvalResourceName", "EvalDecision", "MatchedStatements", "MissingContextValues"} {
				if _, ok := er[k]; !ok {
					t.Errorf("result %d lacks %s: %v", i, k, er)
				}
			}
			if er["EvalDecision"] != decisions[i] {
				t.Errorf("result %d decision %v; want %s", i, er["EvalDecision"], decisions[i])
			}
			if decisions[i] == "allowed" {
				ms := er["MatchedStatements"].([]any)
				if len(ms) == 0 {
					t.Fatalf("allowed without matched statements: %v", er)
				}
				st := ms[0].(map[string]any)
				sp, _ := st["StartPosition"].(map[string]any)
				if st["SourcePolicyId"] == nil || st["SourcePolicyType"] == nil || sp["Line"] == nil || sp["Column"] == nil {
					t.Errorf("statement shape %v", st)
				}
			}
		}
	}
	check(run("iam", "simulate-custom-policy", "--policy-input-list", readOnlyIAM, "--action-names", "iam:GetUser", "iam:CreateUser"),
		"allowed", "implicitDeny")
	check(run("iam", "simulate-principal-policy", "--policy-source-arn", "arn:aws:iam::"+env.Account+":user/cli",
		"--action-names", "iam:ListUsers", "iam:DeleteUser", "--resource-arns", "*"), "allowed", "implicitDeny")
}

// TestSimulateWithSCPs: SimulatePrincipalPolicy in a member account
// applies the organization's SCPs, as requests there are.
func TestSimulateWithSCPs(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	org := testenv.Organizations(env.AdminConfig())
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}))
	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	rootID := roots.Roots[0].Id
	cs, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("app"), Email: aws.String("app@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	st, err := org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: cs.CreateAccountStatus.Id})
	if err != nil {
		t.Fatal(err)
	}
	app := aws.ToString(st.CreateAccountStatus.AccountId)
	must(org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: rootID, PolicyType: orgtypes.PolicyTypeServiceControlPolicy}))
	scp, err := org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("no-s3"), Description: aws.String(""), Type: orgtypes.PolicyTypeServiceControlPolicy,
		Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	must(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: scp.Policy.PolicySummary.Id, TargetId: aws.String(app)}))

	creds, err := testenv.STS(env.AdminConfig()).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + app + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("ops")})
	if err != nil {
		t.Fatal(err)
	}
	appIAM := testenv.IAM(env.Config(aws.ToString(creds.Credentials.AccessKeyId), aws.ToString(creds.Credentials.SecretAccessKey), aws.ToString(creds.Credentials.SessionToken)))
	must(appIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dev")}))
	must(appIAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dev"), PolicyName: aws.String("all"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","iam:List*"],"Resource":"*"}]}`)}))
	var out *iam.SimulatePrincipalPolicyOutput
	eventually(t, func() error {
		var err error
		out, err = appIAM.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: aws.String("arn:aws:iam::" + app + ":user/dev"), ActionNames: []string{"s3:GetObject", "iam:ListUsers"}})
		return err
	})
	s3r, iamr := out.EvaluationResults[0], out.EvaluationResults[1]
	if s3r.EvalDecision != types.PolicyEvaluationDecisionTypeExplicitDeny || s3r.OrganizationsDecisionDetail == nil || s3r.OrganizationsDecisionDetail.AllowedByOrganizations {
		t.Errorf("s3:GetObject: %s, organizations %+v", s3r.EvalDecision, s3r.OrganizationsDecisionDetail)
	}
	if iamr.EvalDecision != types.PolicyEvaluationDecisionTypeAllowed || iamr.OrganizationsDecisionDetail == nil || !iamr.OrganizationsDecisionDetail.AllowedByOrganizations {
		t.Errorf("iam:ListUsers: %s, organizations %+v", iamr.EvalDecision, iamr.OrganizationsDecisionDetail)
	}
}
