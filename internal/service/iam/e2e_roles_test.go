package iam_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	iamsvc "github.com/iamd/iamd/internal/service/iam"
	"github.com/iamd/iamd/internal/testenv"
)

const ec2Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// trustOf decodes a role's URL-encoded AssumeRolePolicyDocument.
func trustOf(t *testing.T, r *types.Role) string {
	t.Helper()
	doc, err := url.QueryUnescape(aws.ToString(r.AssumeRolePolicyDocument))
	if err != nil {
		t.Fatalf("trust policy %q: %v", aws.ToString(r.AssumeRolePolicyDocument), err)
	}
	return doc
}

func TestRolesLifecycle(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()
	var err error

	out, err := c.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("App"), Path: aws.String("/svc/"), AssumeRolePolicyDocument: aws.String(ec2Trust),
		Description: aws.String("the app"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}},
	})
	ok(t, err)
	r := out.Role
	if aws.ToString(r.Arn) != "arn:aws:iam::"+env.Account+":role/svc/App" || !strings.HasPrefix(aws.ToString(r.RoleId), "AROA") ||
		aws.ToInt32(r.MaxSessionDuration) != 3600 || aws.ToString(r.Description) != "the app" || len(r.Tags) != 1 || trustOf(t, r) != ec2Trust {
		t.Fatalf("CreateRole = %+v", r)
	}
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(ec2Trust)})
	var exists *types.EntityAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("duplicate (case-insensitive) role: %v", err)
	}

	// GetRole has tags and an empty RoleLastUsed until the role is used.
	gr, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("app")})
	ok(t, err)
	if aws.ToString(gr.Role.RoleName) != "App" || len(gr.Role.Tags) != 1 || gr.Role.RoleLastUsed == nil || gr.Role.RoleLastUsed.LastUsedDate != nil {
		t.Fatalf("GetRole = %+v", gr.Role)
	}
	used := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	svc := env.App.IAM
	ok(t, svc.RecordRoleUse(ctx, env.Account, "APP", used, "eu-west-1"))
	ok(t, svc.RecordRoleUse(ctx, env.Account, "App", used.Add(-time.Hour), "us-east-1")) // older: ignored
	gr, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("App")})
	ok(t, err)
	if lu := gr.Role.RoleLastUsed; lu == nil || !aws.ToTime(lu.LastUsedDate).Equal(used) || aws.ToString(lu.Region) != "eu-west-1" {
		t.Fatalf("RoleLastUsed = %+v", gr.Role.RoleLastUsed)
	}
	looked, err := iamsvc.LookupRole(ctx, env.App.Store, env.Account, "app")
	ok(t, err)
	if looked.TrustPolicy != ec2Trust || looked.MaxSessionDuration != 3600 || looked.ARN != aws.ToString(r.Arn) {
		t.Fatalf("LookupRole = %+v", looked)
	}

	// UpdateRole, UpdateRoleDescription, UpdateAssumeRolePolicy.
	_, err = c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("App"), MaxSessionDuration: aws.Int32(7200)})
	ok(t, err)
	ud, err := c.UpdateRoleDescription(ctx, &iam.UpdateRoleDescriptionInput{RoleName: aws.String("App"), Description: aws.String("new")})
	ok(t, err)
	if aws.ToString(ud.Role.Description) != "new" || aws.ToInt32(ud.Role.MaxSessionDuration) != 7200 {
		t.Fatalf("UpdateRoleDescription = %+v", ud.Role)
	}
	lambdaTrust := `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}}`
	_, err = c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("App"), PolicyDocument: aws.String(lambdaTrust)})
	ok(t, err)
	gr, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("App")})
	ok(t, err)
	if trustOf(t, gr.Role) != lambdaTrust || aws.ToString(gr.Role.Description) != "new" {
		t.Fatalf("after updates = %+v", gr.Role)
	}

	// Tags.
	_, err = c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("App"), Tags: []types.Tag{
		{Key: aws.String("TEAM"), Value: aws.String("b")}, {Key: aws.String("env"), Value: aws.String("prod")}}})
	ok(t, err)
	lt, err := c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("App"), MaxItems: aws.Int32(1)})
	ok(t, err)
	if len(lt.Tags) != 1 || !lt.IsTruncated || aws.ToString(lt.Tags[0].Key) != "TEAM" || aws.ToString(lt.Tags[0].Value) != "b" {
		t.Fatalf("ListRoleTags page 1 = %+v", lt)
	}
	_, err = c.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String("App"), TagKeys: []string{"team"}})
	ok(t, err)
	lt, err = c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("App")})
	ok(t, err)
	if len(lt.Tags) != 1 || aws.ToString(lt.Tags[0].Key) != "env" {
		t.Fatalf("ListRoleTags after untag = %+v", lt.Tags)
	}

	// ListRoles: PathPrefix, paging, and no tags or last use.
	for i := range 3 {
		_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(fmt.Sprintf("r%d", i)), AssumeRolePolicyDocument: aws.String(ec2Trust),
			Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		ok(t, err)
	}
	lr, err := c.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/svc/")})
	ok(t, err)
	if len(lr.Roles) != 1 || aws.ToString(lr.Roles[0].RoleName) != "App" || lr.Roles[0].Tags != nil || lr.Roles[0].RoleLastUsed != nil ||
		aws.ToInt32(lr.Roles[0].MaxSessionDuration) != 7200 || trustOf(t, &lr.Roles[0]) != lambdaTrust {
		t.Fatalf("ListRoles /svc/ = %+v", lr.Roles)
	}
	var names []string
	var marker *string
	for {
		lr, err = c.ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(3), Marker: marker})
		ok(t, err)
		for _, r := range lr.Roles {
			names = append(names, aws.ToString(r.RoleName))
		}
		if !lr.IsTruncated {
			break
		}
		marker = lr.Marker
	}
	if got := strings.Join(names, ","); got != "App,r0,r1,r2" {
		t.Fatalf("ListRoles = %s", got)
	}

	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("app")})
	ok(t, err)
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("App")})
	wantErr(t, err, "NoSuchEntity", "The role with name App cannot be found.")
}

func TestRoleErrors(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()
	_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(ec2Trust)})
	ok(t, err)

	// 2048 non-whitespace characters is the trust policy quota; white space
	// does not count.
	pad := func(n int) string {
		base := `{"Version":"2012-10-17","Statement":[{"Sid":"","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
		return strings.Replace(base, `"Sid":""`, `"Sid":"`+strings.Repeat("a", n-len(base))+`"`, 1)
	}
	atLimit := pad(2048)
	spaced := strings.Replace(atLimit, `"Effect"`, strings.Repeat(" ", 500)+`"Effect"`, 1)

	tests := []struct {
		name      string
		call      func() error
		code, msg string
	}{
		{"malformed trust", func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(`{"Statement":`)})
			return err
		}, "MalformedPolicyDocument", ""},
		{"trust with a non-STS action", func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"s3:GetObject"}]}`)})
			return err
		}, "MalformedPolicyDocument", ""},
		{"trust over quota", func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(pad(2049))})
			return err
		}, "LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048"},
		{"update trust over quota", func() error {
			_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("r"), PolicyDocument: aws.String(pad(2049))})
			return err
		}, "LimitExceeded", "ACLSizePerRole"},
		{"update trust malformed", func() error {
			_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("r"), PolicyDocument: aws.String(`[]`)})
			return err
		}, "MalformedPolicyDocument", ""},
		{"session too long", func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(ec2Trust), MaxSessionDuration: aws.Int32(43201)})
			return err
		}, "ValidationError", ""},
		{"session too short", func() error {
			_, err := c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("r"), MaxSessionDuration: aws.Int32(3599)})
			return err
		}, "ValidationError", ""},
		{"aws: tag", func() error {
			_, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("r"), Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}})
			return err
		}, "InvalidInput", "aws:"},
		{"get missing", func() error {
			_, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("nope")})
			return err
		}, "NoSuchEntity", "The role with name nope cannot be found."},
		{"update missing", func() error {
			_, err := c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("nope"), Description: aws.String("d")})
			return err
		}, "NoSuchEntity", "The role with name nope cannot be found."},
		{"tag missing", func() error {
			_, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("nope"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}, "NoSuchEntity", "nope"},
		{"delete missing", func() error {
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("nope")})
			return err
		}, "NoSuchEntity", "nope"},
		{"boundary on missing role", func() error {
			_, err := c.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String("nope")})
			return err
		}, "NoSuchEntity", "nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.call(), tc.code, tc.msg) })
	}

	// The quota counts non-whitespace characters only.
	for name, doc := range map[string]string{"AtLimit": atLimit, "Spaced": spaced} {
		_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(doc)})
		if err != nil {
			t.Fatalf("%s (%d bytes): %v", name, len(doc), err)
		}
	}
	// Failed updates changed nothing.
	gr, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")})
	ok(t, err)
	if trustOf(t, gr.Role) != ec2Trust || aws.ToInt32(gr.Role.MaxSessionDuration) != 3600 {
		t.Fatalf("role after failed updates = %+v", gr.Role)
	}
}

func TestRolePermissionsBoundary(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()
	pol, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Bound"), PolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)})
	ok(t, err)
	arn := pol.Policy.Arn
	out, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("b"), AssumeRolePolicyDocument: aws.String(ec2Trust), PermissionsBoundary: arn})
	ok(t, err)
	if pb := out.Role.PermissionsBoundary; pb == nil || aws.ToString(pb.PermissionsBoundaryArn) != aws.ToString(arn) || pb.PermissionsBoundaryType != types.PermissionsBoundaryAttachmentTypePolicy {
		t.Fatalf("CreateRole boundary = %+v", out.Role.PermissionsBoundary)
	}
	_, err = c.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String("b")})
	ok(t, err)
	gr, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("b")})
	ok(t, err)
	if gr.Role.PermissionsBoundary != nil {
		t.Fatalf("boundary after delete = %+v", gr.Role.PermissionsBoundary)
	}
	_, err = c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("b"), PermissionsBoundary: arn})
	ok(t, err)
	gr, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("b")})
	ok(t, err)
	if gr.Role.PermissionsBoundary == nil || aws.ToString(gr.Role.PermissionsBoundary.PermissionsBoundaryArn) != aws.ToString(arn) {
		t.Fatalf("boundary after put = %+v", gr.Role.PermissionsBoundary)
	}
	lr, err := c.ListRoles(ctx, &iam.ListRolesInput{})
	ok(t, err)
	if len(lr.Roles) != 1 || lr.Roles[0].PermissionsBoundary != nil {
		t.Fatalf("ListRoles shows the boundary: %+v", lr.Roles)
	}
	_, err = c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("b"),
		PermissionsBoundary: aws.String("arn:aws:iam::" + env.Account + ":policy/Missing")})
	if err == nil {
		t.Fatal("boundary naming a missing policy accepted")
	}
}

func TestRoleDeleteConflicts(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()
	_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("busy"), AssumeRolePolicyDocument: aws.String(ec2Trust)})
	ok(t, err)

	_, err = c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ip")})
	ok(t, err)
	_, err = c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: aws.String("busy")})
	ok(t, err)
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("busy")})
	wantErr(t, err, "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
	_, err = c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: aws.String("busy")})
	ok(t, err)

	_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("busy"), PolicyName: aws.String("inline"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)})
	ok(t, err)
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("busy")})
	wantErr(t, err, "DeleteConflict", "Cannot delete entity, must delete policies first.")
	_, err = c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("busy"), PolicyName: aws.String("inline")})
	ok(t, err)

	pol, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("P"), PolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)})
	ok(t, err)
	_, err = c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("busy"), PolicyArn: pol.Policy.Arn})
	ok(t, err)
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("busy")})
	wantErr(t, err, "DeleteConflict", "Cannot delete entity, must detach all policies first.")
	_, err = c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("busy"), PolicyArn: pol.Policy.Arn})
	ok(t, err)

	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("busy")})
	ok(t, err)
}

func TestServiceLinkedRoles(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()

	out, err := c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("elasticbeanstalk.amazonaws.com"), Description: aws.String("eb")})
	ok(t, err)
	r := out.Role
	if aws.ToString(r.RoleName) != "AWSServiceRoleForElasticBeanstalk" || aws.ToString(r.Path) != "/aws-service-role/elasticbeanstalk.amazonaws.com/" ||
		aws.ToString(r.Arn) != "arn:aws:iam::"+env.Account+":role/aws-service-role/elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk" ||
		aws.ToString(r.Description) != "eb" || !strings.Contains(trustOf(t, r), `"Service":"elasticbeanstalk.amazonaws.com"`) {
		t.Fatalf("CreateServiceLinkedRole = %+v", r)
	}
	_, err = c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("elasticbeanstalk.amazonaws.com")})
	wantErr(t, err, "InvalidInput", "Service role name AWSServiceRoleForElasticBeanstalk has been taken in this account, please try a different suffix.")
	out, err = c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("autoscaling.amazonaws.com"), CustomSuffix: aws.String("web")})
	ok(t, err)
	if aws.ToString(out.Role.RoleName) != "AWSServiceRoleForAutoScaling_web" {
		t.Fatalf("suffixed role = %s", aws.ToString(out.Role.RoleName))
	}
	out, err = c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("new-thing.amazonaws.com")})
	ok(t, err)
	if aws.ToString(out.Role.RoleName) != "AWSServiceRoleForNewThing" {
		t.Fatalf("generic role = %s", aws.ToString(out.Role.RoleName))
	}
	_, err = c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("example.com")})
	wantErr(t, err, "InvalidInput", "")

	// The ordinary role operations refuse to change a service-linked role.
	const slr = "AWSServiceRoleForElasticBeanstalk"
	protected := "Cannot perform the operation on the protected role '" + slr + "' - this role is only modifiable by AWS"
	for name, call := range map[string]func() error{
		"DeleteRole": func() error {
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(slr)})
			return err
		},
		"UpdateAssumeRolePolicy": func() error {
			_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(slr), PolicyDocument: aws.String(ec2Trust)})
			return err
		},
		"UpdateRole MaxSessionDuration": func() error {
			_, err := c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String(slr), MaxSessionDuration: aws.Int32(7200)})
			return err
		},
		"DeleteRolePermissionsBoundary": func() error {
			_, err := c.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String(slr)})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			err := call()
			var ue *types.UnmodifiableEntityException
			if !errors.As(err, &ue) || ue.ErrorMessage() != protected {
				t.Fatalf("err = %v", err)
			}
		})
	}
	// Its description stays editable.
	_, err = c.UpdateRoleDescription(ctx, &iam.UpdateRoleDescriptionInput{RoleName: aws.String(slr), Description: aws.String("edited")})
	ok(t, err)

	// A plain role is not deleted through DeleteServiceLinkedRole.
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("plain"), AssumeRolePolicyDocument: aws.String(ec2Trust)})
	ok(t, err)
	_, err = c.DeleteServiceLinkedRole(ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: aws.String("plain")})
	wantErr(t, err, "NoSuchEntity", "plain")

	del, err := c.DeleteServiceLinkedRole(ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: aws.String(slr)})
	ok(t, err)
	task := aws.ToString(del.DeletionTaskId)
	prefix := "task/aws-service-role/elasticbeanstalk.amazonaws.com/" + slr + "/"
	if !strings.HasPrefix(task, prefix) || len(task) != len(prefix)+36 {
		t.Fatalf("DeletionTaskId = %q", task)
	}
	st, err := c.GetServiceLinkedRoleDeletionStatus(ctx, &iam.GetServiceLinkedRoleDeletionStatusInput{DeletionTaskId: aws.String(task)})
	ok(t, err)
	if st.Status != types.DeletionTaskStatusTypeSucceeded || st.Reason != nil {
		t.Fatalf("deletion status = %+v", st)
	}
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(slr)})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Fatalf("deleted service-linked role: %v", err)
	}
	_, err = c.DeleteServiceLinkedRole(ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: aws.String(slr)})
	if !errors.As(err, &nse) {
		t.Fatalf("delete again: %v", err)
	}
	_, err = c.GetServiceLinkedRoleDeletionStatus(ctx, &iam.GetServiceLinkedRoleDeletionStatusInput{
		DeletionTaskId: aws.String(prefix + "00000000-0000-0000-0000-000000000000")})
	if !errors.As(err, &nse) {
		t.Fatalf("unknown task: %v", err)
	}
	_, err = c.GetServiceLinkedRoleDeletionStatus(ctx, &iam.GetServiceLinkedRoleDeletionStatusInput{DeletionTaskId: aws.String("nonsense")})
	wantErr(t, err, "InvalidInput", "")
	// The name is free again.
	_, err = c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("elasticbeanstalk.amazonaws.com")})
	ok(t, err)
}
