package iam_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/iamd/iamd/internal/testenv"
)

// errCode returns the AWS error code of err, failing when err is not an AWS
// API error.
func errCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an AWS API error, got %v", err)
	}
	return ae.ErrorCode()
}

// wantErr asserts err's AWS code and that its message contains msg.
func wantErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("error = %s: %q, want %s containing %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

// ok fails the test on an unexpected error.
func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestGroupsLifecycle(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()
	var err error

	out, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("Devs"), Path: aws.String("/eng/")})
	ok(t, err)
	g := out.Group
	if aws.ToString(g.Arn) != "arn:aws:iam::"+env.Account+":group/eng/Devs" || !strings.HasPrefix(aws.ToString(g.GroupId), "AGPA") ||
		aws.ToString(g.Path) != "/eng/" || g.CreateDate == nil {
		t.Fatalf("CreateGroup = %+v", g)
	}
	_, err = c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")})
	var exists *types.EntityAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("duplicate (case-insensitive) group: %v", err)
	}
	_, err = c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("Ops")})
	ok(t, err)

	for _, u := range []string{"carol", "alice", "bob"} {
		_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)})
		ok(t, err)
		_, err = c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("Devs"), UserName: aws.String(u)})
		ok(t, err)
	}
	// Adding a member again is accepted and changes nothing.
	_, err = c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("ALICE")})
	ok(t, err)
	_, err = c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("Ops"), UserName: aws.String("alice")})
	ok(t, err)

	// GetGroup pages through members in name order.
	var members []string
	var marker *string
	pages := 0
	for {
		gg, err := c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("Devs"), MaxItems: aws.Int32(2), Marker: marker})
		ok(t, err)
		pages++
		if aws.ToString(gg.Group.GroupName) != "Devs" {
			t.Fatalf("GetGroup group = %+v", gg.Group)
		}
		for _, u := range gg.Users {
			members = append(members, aws.ToString(u.UserName))
		}
		if !gg.IsTruncated {
			break
		}
		marker = gg.Marker
	}
	if got := strings.Join(members, ","); got != "alice,bob,carol" || pages != 2 {
		t.Fatalf("members = %s in %d pages", got, pages)
	}

	// ListGroups with PathPrefix and paging.
	lg, err := c.ListGroups(ctx, &iam.ListGroupsInput{PathPrefix: aws.String("/eng/")})
	ok(t, err)
	if len(lg.Groups) != 1 || aws.ToString(lg.Groups[0].GroupName) != "Devs" {
		t.Fatalf("ListGroups /eng/ = %+v", lg.Groups)
	}
	lg, err = c.ListGroups(ctx, &iam.ListGroupsInput{MaxItems: aws.Int32(1)})
	ok(t, err)
	if len(lg.Groups) != 1 || !lg.IsTruncated || lg.Marker == nil {
		t.Fatalf("ListGroups page 1 = %+v", lg)
	}
	lg, err = c.ListGroups(ctx, &iam.ListGroupsInput{MaxItems: aws.Int32(1), Marker: lg.Marker})
	ok(t, err)
	if len(lg.Groups) != 1 || lg.IsTruncated || aws.ToString(lg.Groups[0].GroupName) != "Ops" {
		t.Fatalf("ListGroups page 2 = %+v", lg)
	}

	lgu, err := c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("alice")})
	ok(t, err)
	if len(lgu.Groups) != 2 || aws.ToString(lgu.Groups[0].GroupName) != "Devs" || aws.ToString(lgu.Groups[1].GroupName) != "Ops" {
		t.Fatalf("ListGroupsForUser = %+v", lgu.Groups)
	}

	// A member blocks deletion of the group and of the user.
	_, err = c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("Ops")})
	wantErr(t, err, "DeleteConflict", "Cannot delete entity, must remove users from group first.")

	// Rename and re-path: the membership follows.
	_, err = c.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("Devs"), NewGroupName: aws.String("Engineers"), NewPath: aws.String("/r/")})
	ok(t, err)
	_, err = c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("Devs")})
	wantErr(t, err, "NoSuchEntity", "The group with name Devs cannot be found.")
	gg, err := c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("Engineers")})
	ok(t, err)
	if aws.ToString(gg.Group.Arn) != "arn:aws:iam::"+env.Account+":group/r/Engineers" || aws.ToString(gg.Group.GroupId) != aws.ToString(g.GroupId) || len(gg.Users) != 3 {
		t.Fatalf("renamed group = %+v users %d", gg.Group, len(gg.Users))
	}
	lgu, err = c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("bob")})
	ok(t, err)
	if len(lgu.Groups) != 1 || aws.ToString(lgu.Groups[0].GroupName) != "Engineers" {
		t.Fatalf("ListGroupsForUser after rename = %+v", lgu.Groups)
	}
	// Renaming onto an existing group fails and changes nothing.
	_, err = c.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("Engineers"), NewGroupName: aws.String("OPS")})
	if !errors.As(err, &exists) {
		t.Fatalf("rename onto existing: %v", err)
	}
	_, err = c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("Engineers")})
	ok(t, err)
	// A case-only rename keeps the group.
	_, err = c.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("engineers"), NewGroupName: aws.String("ENGINEERS")})
	ok(t, err)
	gg, err = c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("Engineers")})
	ok(t, err)
	if aws.ToString(gg.Group.GroupName) != "ENGINEERS" || len(gg.Users) != 3 {
		t.Fatalf("case rename = %+v", gg.Group)
	}

	// A renamed user's membership follows the user.
	_, err = c.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("carol"), NewUserName: aws.String("caroline")})
	ok(t, err)
	gg, err = c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("ENGINEERS")})
	ok(t, err)
	names := []string{}
	for _, u := range gg.Users {
		names = append(names, aws.ToString(u.UserName))
	}
	if strings.Join(names, ",") != "alice,bob,caroline" {
		t.Fatalf("members after user rename = %v", names)
	}

	// RemoveUserFromGroup, then the group can go.
	_, err = c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("Ops"), UserName: aws.String("alice")})
	ok(t, err)
	_, err = c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("Ops"), UserName: aws.String("alice")})
	wantErr(t, err, "NoSuchEntity", "alice")
	_, err = c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("ops")})
	ok(t, err)
	_, err = c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("Ops")})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Fatalf("delete deleted group: %v", err)
	}
	lgu, err = c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("alice")})
	ok(t, err)
	if len(lgu.Groups) != 1 {
		t.Fatalf("alice's groups = %+v", lgu.Groups)
	}
}

func TestGroupErrors(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()
	var err error
	_, err = c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g")})
	ok(t, err)
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")})
	ok(t, err)

	tests := []struct {
		name      string
		call      func() error
		code, msg string
	}{
		{"add to missing group", func() error {
			_, err = c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("nope"), UserName: aws.String("u")})
			return err
		}, "NoSuchEntity", "The group with name nope cannot be found."},
		{"add missing user", func() error {
			_, err = c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("g"), UserName: aws.String("nope")})
			return err
		}, "NoSuchEntity", "The user with name nope cannot be found."},
		{"remove non-member", func() error {
			_, err = c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("g"), UserName: aws.String("u")})
			return err
		}, "NoSuchEntity", "The user with name u cannot be found."},
		{"groups of missing user", func() error {
			_, err = c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("nope")})
			return err
		}, "NoSuchEntity", "The user with name nope cannot be found."},
		{"update missing group", func() error {
			_, err = c.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("nope"), NewPath: aws.String("/x/")})
			return err
		}, "NoSuchEntity", "The group with name nope cannot be found."},
		{"get missing group", func() error {
			_, err = c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("nope")})
			return err
		}, "NoSuchEntity", "The group with name nope cannot be found."},
		{"bad marker", func() error {
			_, err = c.ListGroups(ctx, &iam.ListGroupsInput{Marker: aws.String("!!")})
			return err
		}, "InvalidInput", "Invalid Marker."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.call(), tc.code, tc.msg) })
	}
}

func TestGroupsPerUserQuota(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()
	var err error
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("joiner")})
	ok(t, err)
	for i := range 11 {
		name := aws.String(fmt.Sprintf("g%02d", i))
		_, err = c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: name})
		ok(t, err)
		_, err = c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: name, UserName: aws.String("joiner")})
		if i < 10 {
			if err != nil {
				t.Fatalf("join %d: %v", i, err)
			}
			continue
		}
		var le *types.LimitExceededException
		if !errors.As(err, &le) || !strings.Contains(le.ErrorMessage(), "GroupsPerUser: 10") {
			t.Fatalf("11th group: %v", err)
		}
	}
	// The refused membership was not recorded.
	gg, err := c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("g10")})
	ok(t, err)
	if len(gg.Users) != 0 {
		t.Fatalf("g10 members = %d", len(gg.Users))
	}
	if code := errCode(t, func() error {
		_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("joiner")})
		return err
	}()); code != "DeleteConflict" {
		t.Fatalf("delete member user: %s", code)
	}
}

func TestGroupPoliciesBlockDeleteAndFollowRename(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()
	const doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	_, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g")})
	ok(t, err)
	pol, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("P"), PolicyDocument: aws.String(doc)})
	ok(t, err)
	_, err = c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("g"), PolicyName: aws.String("inline"), PolicyDocument: aws.String(doc)})
	ok(t, err)
	_, err = c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: pol.Policy.Arn})
	ok(t, err)

	_, err = c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("g")})
	wantErr(t, err, "DeleteConflict", "Cannot delete entity, must delete policies first.")

	// The rename carries the inline policy and the attachment.
	_, err = c.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("g"), NewGroupName: aws.String("h")})
	ok(t, err)
	lp, err := c.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: aws.String("h")})
	ok(t, err)
	if len(lp.PolicyNames) != 1 || lp.PolicyNames[0] != "inline" {
		t.Fatalf("inline policies after rename = %v", lp.PolicyNames)
	}
	la, err := c.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("h")})
	ok(t, err)
	if len(la.AttachedPolicies) != 1 || aws.ToString(la.AttachedPolicies[0].PolicyArn) != aws.ToString(pol.Policy.Arn) {
		t.Fatalf("attached policies after rename = %+v", la.AttachedPolicies)
	}

	_, err = c.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String("h"), PolicyName: aws.String("inline")})
	ok(t, err)
	_, err = c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("h")})
	wantErr(t, err, "DeleteConflict", "Cannot delete entity, must detach all policies first.")
	_, err = c.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String("h"), PolicyArn: pol.Policy.Arn})
	ok(t, err)
	_, err = c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("h")})
	ok(t, err)
}
