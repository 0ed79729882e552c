package iam_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	iamsvc "github.com/iamd/iamd/internal/service/iam"
	"github.com/iamd/iamd/internal/testenv"
)

const inlTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// inlDoc is an identity policy of about n non-whitespace characters.
func inlDoc(n int) string {
	base := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::"}]}`
	return strings.Replace(base, `arn:aws:s3:::`, `arn:aws:s3:::`+strings.Repeat("b", max(n-len(base), 0)), 1)
}

func TestE2EInlinePolicies(t *testing.T) {
	env := testenv.Start(t)
	cl := env.AdminIAM()
	ctx := context.Background()
	if _, err := cl.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("Erin")}); err != nil {
		t.Fatal(err)
	}

	// Put, get (document URL-encoded by IAM, decoded by the SDK? no: the
	// SDK leaves it encoded), list, replace, delete.
	if _, err := cl.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("erin"), PolicyName: aws.String("Read"), PolicyDocument: aws.String(polDocS3)}); err != nil {
		t.Fatal(err)
	}
	got, err := cl.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("ERIN"), PolicyName: aws.String("Read")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.UserName) != "Erin" || aws.ToString(got.PolicyName) != "Read" || mustDecode(t, got.PolicyDocument) != polDocS3 {
		t.Fatalf("GetUserPolicy = %+v", got)
	}
	_, err = cl.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("Erin"), PolicyName: aws.String("Nope")})
	wantCode(t, err, "NoSuchEntity", "The user policy with name Nope cannot be found.")
	_, err = cl.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("nobody"), PolicyName: aws.String("Read"), PolicyDocument: aws.String(polDocS3)})
	wantCode(t, err, "NoSuchEntity", "The user with name nobody cannot be found.")
	_, err = cl.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("Erin"), PolicyName: aws.String("Bad"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}`)})
	var mal *types.MalformedPolicyDocumentException
	if !errors.As(err, &mal) {
		t.Fatalf("malformed: %v", err)
	}

	// The 2048-character quota is across all of the user's inline policies;
	// the policy being replaced does not count.
	if _, err := cl.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("Erin"), PolicyName: aws.String("Big"), PolicyDocument: aws.String(inlDoc(1900))}); err != nil {
		t.Fatal(err)
	}
	_, err = cl.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("Erin"), PolicyName: aws.String("More"), PolicyDocument: aws.String(inlDoc(200))})
	var lim *types.LimitExceededException
	if !errors.As(err, &lim) {
		t.Fatalf("aggregate quota: %v", err)
	}
	wantCode(t, err, "LimitExceeded", "Maximum policy size of 2048 bytes exceeded for user Erin")
	if _, err := cl.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("Erin"), PolicyName: aws.String("Big"), PolicyDocument: aws.String(inlDoc(1940))}); err != nil {
		t.Fatalf("replacing within quota: %v", err)
	}

	// Pagination of ListUserPolicies.
	if _, err := cl.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("Erin"), PolicyName: aws.String("Big"), PolicyDocument: aws.String(polDocEC2)}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"c", "d"} {
		if _, err := cl.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("Erin"), PolicyName: aws.String(n), PolicyDocument: aws.String(polDocS3)}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	var marker *string
	for {
		out, err := cl.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("Erin"), MaxItems: aws.Int32(3), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, out.PolicyNames...)
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	if fmt.Sprint(names) != "[Big c d Read]" { // key order: names compared case-insensitively
		t.Fatalf("ListUserPolicies = %v", names)
	}

	// A user with inline policies cannot be deleted.
	_, err = cl.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("Erin")})
	wantCode(t, err, "DeleteConflict", "must delete policies first")
	for _, n := range names {
		if _, err := cl.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("Erin"), PolicyName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = cl.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("Erin"), PolicyName: aws.String("Read")})
	wantCode(t, err, "NoSuchEntity", "The user policy with name Read cannot be found.")

	// Groups and roles, with their own quotas.
	if _, err := cl.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("Ops")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("Ops"), PolicyName: aws.String("g"), PolicyDocument: aws.String(inlDoc(4000))}); err != nil {
		t.Fatalf("group policy within 5120: %v", err)
	}
	_, err = cl.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("Ops"), PolicyName: aws.String("h"), PolicyDocument: aws.String(inlDoc(1200))})
	wantCode(t, err, "LimitExceeded", "Maximum policy size of 5120 bytes exceeded for group Ops")
	gp, err := cl.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: aws.String("Ops")})
	if err != nil || fmt.Sprint(gp.PolicyNames) != "[g]" {
		t.Fatalf("ListGroupPolicies = %v %v", gp, err)
	}
	if _, err := cl.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("App"), AssumeRolePolicyDocument: aws.String(inlTrust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("App"), PolicyName: aws.String("r"), PolicyDocument: aws.String(inlDoc(9000))}); err != nil {
		t.Fatalf("role policy within 10240: %v", err)
	}
	_, err = cl.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("App"), PolicyName: aws.String("s"), PolicyDocument: aws.String(inlDoc(1300))})
	wantCode(t, err, "LimitExceeded", "Maximum policy size of 10240 bytes exceeded for role App")
	rp, err := cl.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("R")})
	if err != nil || aws.ToString(rp.RoleName) != "App" || aws.ToString(rp.PolicyName) != "r" {
		t.Fatalf("GetRolePolicy = %+v %v", rp, err)
	}
	if _, err := cl.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("App"), PolicyName: aws.String("r")}); err != nil {
		t.Fatal(err)
	}
	_, err = cl.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String("Nope"), PolicyName: aws.String("g")})
	wantCode(t, err, "NoSuchEntity", "The group with name Nope cannot be found.")
}

func TestE2EAttachments(t *testing.T) {
	env := testenv.Start(t)
	cl := env.AdminIAM()
	ctx := context.Background()
	for _, u := range []string{"u1", "u2"} {
		if _, err := cl.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u), Path: aws.String("/eng/")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cl.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("svc"), AssumeRolePolicyDocument: aws.String(inlTrust)}); err != nil {
		t.Fatal(err)
	}
	var arns []string
	for i := range 11 {
		path := "/"
		if i%2 == 1 {
			path = "/odd/"
		}
		out, err := cl.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("pol%02d", i)), Path: aws.String(path), PolicyDocument: aws.String(polDocS3)})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, aws.ToString(out.Policy.Arn))
	}

	// Ten per user; the eleventh is refused; attaching twice is a no-op.
	for _, a := range arns[:10] {
		if _, err := cl.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u1"), PolicyArn: aws.String(a)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cl.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u1"), PolicyArn: aws.String(arns[0])}); err != nil {
		t.Fatalf("re-attach: %v", err)
	}
	_, err := cl.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u1"), PolicyArn: aws.String(arns[10])})
	wantCode(t, err, "LimitExceeded", "Cannot exceed quota for PoliciesPerUser: 10")

	// Missing entity, missing policy, not attached.
	_, err = cl.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("ghost"), PolicyArn: aws.String(arns[0])})
	wantCode(t, err, "NoSuchEntity", "The user with name ghost cannot be found.")
	missing := "arn:aws:iam::" + env.Account + ":policy/missing"
	_, err = cl.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String(missing)})
	wantCode(t, err, "NoSuchEntity", "Policy "+missing+" does not exist or is not attachable.")
	_, err = cl.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("svc"), PolicyArn: aws.String(arns[0])})
	wantCode(t, err, "NoSuchEntity", "was not found.")
	_, err = cl.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("svc"), PolicyArn: aws.String("not-an-arn-at-all-xx")})
	wantCode(t, err, "InvalidInput", "not valid")

	// Lists: attached policies with PathPrefix, paginated.
	var attached []string
	var marker *string
	for {
		out, err := cl.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("u1"), PathPrefix: aws.String("/odd/"), MaxItems: aws.Int32(2), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range out.AttachedPolicies {
			attached = append(attached, aws.ToString(p.PolicyName))
		}
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	sort.Strings(attached)
	if fmt.Sprint(attached) != "[pol01 pol03 pol05 pol07 pol09]" {
		t.Fatalf("ListAttachedUserPolicies(/odd/) = %v", attached)
	}

	// pol00 attached to u1, u2, the group and the role.
	if _, err := cl.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u2"), PolicyArn: aws.String(arns[0])}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String(arns[0])}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("svc"), PolicyArn: aws.String(arns[0])}); err != nil {
		t.Fatal(err)
	}
	gp, err := cl.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arns[0])})
	if err != nil || aws.ToInt32(gp.Policy.AttachmentCount) != 4 {
		t.Fatalf("AttachmentCount = %v %v", gp, err)
	}
	ar, err := cl.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("svc")})
	if err != nil || len(ar.AttachedPolicies) != 1 || aws.ToString(ar.AttachedPolicies[0].PolicyArn) != arns[0] {
		t.Fatalf("ListAttachedRolePolicies = %+v %v", ar, err)
	}
	ag, err := cl.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("devs")})
	if err != nil || len(ag.AttachedPolicies) != 1 {
		t.Fatalf("ListAttachedGroupPolicies = %+v %v", ag, err)
	}

	// ListEntitiesForPolicy pages across groups, roles and users.
	var ents []string
	marker = nil
	for {
		out, err := cl.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arns[0]), MaxItems: aws.Int32(1), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range out.PolicyGroups {
			ents = append(ents, "g:"+aws.ToString(g.GroupName))
		}
		for _, r := range out.PolicyRoles {
			ents = append(ents, "r:"+aws.ToString(r.RoleName))
			if !strings.HasPrefix(aws.ToString(r.RoleId), "AROA") {
				t.Errorf("role id %s", aws.ToString(r.RoleId))
			}
		}
		for _, u := range out.PolicyUsers {
			ents = append(ents, "u:"+aws.ToString(u.UserName))
		}
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	if fmt.Sprint(ents) != "[g:devs r:svc u:u1 u:u2]" {
		t.Fatalf("ListEntitiesForPolicy = %v", ents)
	}
	le, err := cl.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arns[0]), EntityFilter: types.EntityTypeUser, PathPrefix: aws.String("/eng/")})
	if err != nil || len(le.PolicyUsers) != 2 || len(le.PolicyGroups) != 0 || len(le.PolicyRoles) != 0 {
		t.Fatalf("ListEntitiesForPolicy(User) = %+v %v", le, err)
	}

	// Attached policies and groups block deletes.
	_, err = cl.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arns[0])})
	wantCode(t, err, "DeleteConflict", "Cannot delete a policy attached to entities.")
	if _, err := cl.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String(arns[0])}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("svc"), PolicyArn: aws.String(arns[0])}); err != nil {
		t.Fatal(err)
	}
	lp, err := cl.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal, OnlyAttached: true, MaxItems: aws.Int32(100)})
	if err != nil || len(lp.Policies) != 10 {
		t.Fatalf("attached local policies = %d %v", len(lp.Policies), err)
	}
}

func TestE2EPermissionsBoundary(t *testing.T) {
	env := testenv.Start(t)
	cl := env.AdminIAM()
	ctx := context.Background()
	out, err := cl.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Bound"), PolicyDocument: aws.String(polDocS3)})
	if err != nil {
		t.Fatal(err)
	}
	bound := aws.ToString(out.Policy.Arn)
	if _, err := cl.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("frank")}); err != nil {
		t.Fatal(err)
	}
	missing := "arn:aws:iam::" + env.Account + ":policy/NoSuch"
	_, err = cl.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("frank"), PermissionsBoundary: aws.String(missing)})
	wantCode(t, err, "NoSuchEntity", "Scope ARN: "+missing+" does not exist or is not attachable.")
	_, err = cl.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("gina"), PermissionsBoundary: aws.String(missing)})
	wantCode(t, err, "NoSuchEntity", "Scope ARN:")
	_, err = cl.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("nobody"), PermissionsBoundary: aws.String(bound)})
	wantCode(t, err, "NoSuchEntity", "The user with name nobody cannot be found.")

	if _, err := cl.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("frank"), PermissionsBoundary: aws.String(bound)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("gina"), PermissionsBoundary: aws.String(polAdminAW)}); err != nil {
		t.Fatal(err)
	}
	gu, err := cl.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("frank")})
	if err != nil || gu.User.PermissionsBoundary == nil || aws.ToString(gu.User.PermissionsBoundary.PermissionsBoundaryArn) != bound {
		t.Fatalf("GetUser boundary = %+v %v", gu, err)
	}
	gp, err := cl.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(bound)})
	if err != nil || aws.ToInt32(gp.Policy.PermissionsBoundaryUsageCount) != 1 || aws.ToInt32(gp.Policy.AttachmentCount) != 0 {
		t.Fatalf("usage counts = %+v %v", gp, err)
	}
	ga, err := cl.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(polAdminAW)})
	if err != nil || aws.ToInt32(ga.Policy.PermissionsBoundaryUsageCount) != 1 {
		t.Fatalf("AWS managed boundary count = %+v %v", ga, err)
	}
	_, err = cl.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(bound)})
	wantCode(t, err, "DeleteConflict", "Cannot delete a policy attached to entities.")

	le, err := cl.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(bound), PolicyUsageFilter: types.PolicyUsageTypePermissionsBoundary})
	if err != nil || len(le.PolicyUsers) != 1 || aws.ToString(le.PolicyUsers[0].UserName) != "frank" {
		t.Fatalf("ListEntitiesForPolicy(boundary) = %+v %v", le, err)
	}

	// Without a usage filter, attachments and boundary uses are listed
	// together, each entity once.
	if _, err := cl.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("frank"), PolicyArn: aws.String(bound)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bounded"), AssumeRolePolicyDocument: aws.String(inlTrust), PermissionsBoundary: aws.String(bound)}); err != nil {
		t.Fatal(err)
	}
	var ents []string
	var marker *string
	for {
		out, err := cl.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(bound), MaxItems: aws.Int32(1), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range out.PolicyUsers {
			ents = append(ents, "u:"+aws.ToString(u.UserName))
		}
		for _, r := range out.PolicyRoles {
			ents = append(ents, "r:"+aws.ToString(r.RoleName))
		}
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	if fmt.Sprint(ents) != "[u:frank r:bounded]" {
		t.Fatalf("ListEntitiesForPolicy(all uses) = %v", ents)
	}
	pp, err := cl.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(bound), PolicyUsageFilter: types.PolicyUsageTypePermissionsPolicy})
	if err != nil || len(pp.PolicyUsers) != 1 || len(pp.PolicyRoles) != 0 {
		t.Fatalf("ListEntitiesForPolicy(PermissionsPolicy) = %+v %v", pp, err)
	}
	if _, err := cl.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("frank"), PolicyArn: aws.String(bound)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String("bounded")}); err != nil {
		t.Fatal(err)
	}

	if _, err := cl.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String("frank")}); err != nil {
		t.Fatal(err)
	}
	gu, err = cl.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("frank")})
	if err != nil || gu.User.PermissionsBoundary != nil {
		t.Fatalf("boundary not removed: %+v %v", gu, err)
	}
	if _, err := cl.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(bound)}); err != nil {
		t.Fatal(err)
	}
}

func TestE2EAccountAuthorizationDetails(t *testing.T) {
	env := testenv.Start(t)
	cl := env.AdminIAM()
	ctx := context.Background()
	mp, err := cl.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Local"), PolicyDocument: aws.String(polDocS3)})
	if err != nil {
		t.Fatal(err)
	}
	local := aws.ToString(mp.Policy.Arn)
	if _, err := cl.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(local), PolicyDocument: aws.String(polDocEC2), SetAsDefault: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("hal"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}, PermissionsBoundary: aws.String(local)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("team")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("team"), UserName: aws.String("hal")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("hal"), PolicyName: aws.String("own"), PolicyDocument: aws.String(polDocS3)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("team"), PolicyName: aws.String("grp"), PolicyDocument: aws.String(polDocEC2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("team"), PolicyArn: aws.String(local)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("worker"), AssumeRolePolicyDocument: aws.String(inlTrust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("worker"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("worker-ip")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("worker-ip"), RoleName: aws.String("worker")}); err != nil {
		t.Fatal(err)
	}

	// Everything, one page.
	all, err := cl.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if all.IsTruncated || len(all.UserDetailList) != 2 || len(all.GroupDetailList) != 1 || len(all.RoleDetailList) != 1 || len(all.Policies) != 3 {
		t.Fatalf("details: users %d groups %d roles %d policies %d", len(all.UserDetailList), len(all.GroupDetailList), len(all.RoleDetailList), len(all.Policies))
	}
	var hal types.UserDetail
	for _, u := range all.UserDetailList {
		if aws.ToString(u.UserName) == "hal" {
			hal = u
		}
	}
	if fmt.Sprint(hal.GroupList) != "[team]" || len(hal.UserPolicyList) != 1 || mustDecode(t, hal.UserPolicyList[0].PolicyDocument) != polDocS3 ||
		hal.PermissionsBoundary == nil || len(hal.Tags) != 1 || len(hal.AttachedManagedPolicies) != 0 {
		t.Fatalf("hal = %+v", hal)
	}
	g := all.GroupDetailList[0]
	if len(g.GroupPolicyList) != 1 || len(g.AttachedManagedPolicies) != 1 || aws.ToString(g.AttachedManagedPolicies[0].PolicyArn) != local {
		t.Fatalf("group = %+v", g)
	}
	r := all.RoleDetailList[0]
	if mustDecode(t, r.AssumeRolePolicyDocument) != inlTrust || len(r.AttachedManagedPolicies) != 1 ||
		len(r.InstanceProfileList) != 1 || aws.ToString(r.InstanceProfileList[0].InstanceProfileName) != "worker-ip" {
		t.Fatalf("role = %+v", r)
	}
	for _, p := range all.Policies {
		switch aws.ToString(p.PolicyName) {
		case "Local":
			if len(p.PolicyVersionList) != 2 || aws.ToString(p.DefaultVersionId) != "v2" || aws.ToInt32(p.AttachmentCount) != 1 || aws.ToInt32(p.PermissionsBoundaryUsageCount) != 1 {
				t.Fatalf("Local = %+v", p)
			}
			for _, v := range p.PolicyVersionList {
				if v.IsDefaultVersion != (aws.ToString(v.VersionId) == "v2") || mustDecode(t, v.Document) == "" {
					t.Fatalf("version %+v", v)
				}
			}
		case "AdministratorAccess", "ReadOnlyAccess":
			if len(p.PolicyVersionList) != 1 {
				t.Fatalf("%s versions = %d", aws.ToString(p.PolicyName), len(p.PolicyVersionList))
			}
		default:
			t.Fatalf("unexpected policy %s", aws.ToString(p.PolicyName))
		}
	}

	// Filters.
	f, err := cl.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Filter: []types.EntityType{types.EntityTypeRole, types.EntityTypeAWSManagedPolicy}})
	if err != nil || len(f.UserDetailList) != 0 || len(f.GroupDetailList) != 0 || len(f.RoleDetailList) != 1 || len(f.Policies) != 2 {
		t.Fatalf("filtered = %+v %v", f, err)
	}

	// Pagination: MaxItems counts across all lists.
	total := 0
	var marker *string
	pages := 0
	for {
		out, err := cl.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(2), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		n := len(out.UserDetailList) + len(out.GroupDetailList) + len(out.RoleDetailList) + len(out.Policies)
		if n > 2 {
			t.Fatalf("page of %d", n)
		}
		total += n
		pages++
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	if total != 7 || pages != 4 {
		t.Fatalf("paged %d items in %d pages", total, pages)
	}
}

// LoadIdentityPolicies and PolicyDocument are what the authorization engine
// reads on every request.
func TestE2ELoadIdentityPolicies(t *testing.T) {
	env := testenv.Start(t)
	cl := env.AdminIAM()
	ctx := context.Background()
	mp, err := cl.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Shared"), PolicyDocument: aws.String(polDocS3)})
	if err != nil {
		t.Fatal(err)
	}
	shared := aws.ToString(mp.Policy.Arn)
	steps := []func() error{
		func() error {
			_, err := cl.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ivy"), PermissionsBoundary: aws.String(polAdminAW)})
			return err
		},
		func() error {
			_, err := cl.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g1")})
			return err
		},
		func() error {
			_, err := cl.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("g1"), UserName: aws.String("ivy")})
			return err
		},
		func() error {
			_, err := cl.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ivy"), PolicyName: aws.String("mine"), PolicyDocument: aws.String(polDocS3)})
			return err
		},
		func() error {
			_, err := cl.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("g1"), PolicyName: aws.String("ours"), PolicyDocument: aws.String(polDocEC2)})
			return err
		},
		func() error {
			_, err := cl.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("ivy"), PolicyArn: aws.String(shared)})
			return err
		},
		func() error {
			_, err := cl.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("g1"), PolicyArn: aws.String(shared)})
			return err
		},
		func() error {
			_, err := cl.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("g1"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMReadOnlyAccess")})
			return err
		},
		func() error {
			_, err := cl.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r1"), AssumeRolePolicyDocument: aws.String(inlTrust), PermissionsBoundary: aws.String(shared)})
			return err
		},
		func() error {
			_, err := cl.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r1"), PolicyName: aws.String("rp"), PolicyDocument: aws.String(polDocEC2)})
			return err
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	svc, st := env.App.IAM, env.App.Store

	ip, err := svc.LoadIdentityPolicies(ctx, st, env.Account, "user", "IVY")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ip.Inline {
		got = append(got, p.Source+":"+p.Name)
	}
	for _, p := range ip.Managed {
		got = append(got, p.Source+":"+p.Name)
	}
	if fmt.Sprint(got) != "[user:mine group:ours user-managed:Shared aws-managed:IAMReadOnlyAccess]" {
		t.Fatalf("user policies = %v", got)
	}
	if ip.Boundary == nil || ip.Boundary.Source != iamsvc.SourceAWSManaged || !strings.Contains(ip.Boundary.Document, `"Action": "*"`) {
		t.Fatalf("user boundary = %+v", ip.Boundary)
	}
	if ip.Managed[0].Document != polDocS3 || ip.Managed[0].ARN != shared {
		t.Fatalf("managed = %+v", ip.Managed[0])
	}

	rp, err := svc.LoadIdentityPolicies(ctx, st, env.Account, "role", "r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(rp.Inline) != 1 || rp.Inline[0].Source != iamsvc.SourceRole || len(rp.Managed) != 0 || rp.Boundary == nil || rp.Boundary.ARN != shared {
		t.Fatalf("role policies = %+v", rp)
	}

	// The default version is what PolicyDocument serves.
	if _, err := cl.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(shared), PolicyDocument: aws.String(polDocEC2), SetAsDefault: true}); err != nil {
		t.Fatal(err)
	}
	doc, err := svc.PolicyDocument(ctx, st, env.Account, shared)
	if err != nil || doc != polDocEC2 {
		t.Fatalf("PolicyDocument = %q %v", doc, err)
	}
	if _, err := svc.PolicyDocument(ctx, st, env.Account, "arn:aws:iam::"+env.Account+":policy/none"); err == nil {
		t.Fatal("PolicyDocument of a missing policy succeeded")
	}
	if _, err := svc.LoadIdentityPolicies(ctx, st, env.Account, "user", "nobody"); err == nil {
		t.Fatal("LoadIdentityPolicies of a missing user succeeded")
	}
}
