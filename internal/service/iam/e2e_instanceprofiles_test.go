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

	"github.com/iamd/iamd/internal/testenv"
)

func TestInstanceProfilesLifecycle(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()

	out, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("Web"), Path: aws.String("/app/"),
		Tags: []types.Tag{{Key: aws.String("tier"), Value: aws.String("web")}}})
	ok(t, err)
	ip := out.InstanceProfile
	if aws.ToString(ip.Arn) != "arn:aws:iam::"+env.Account+":instance-profile/app/Web" || !strings.HasPrefix(aws.ToString(ip.InstanceProfileId), "AIPA") ||
		ip.Roles == nil || len(ip.Roles) != 0 || len(ip.Tags) != 1 {
		t.Fatalf("CreateInstanceProfile = %+v", ip)
	}
	_, err = c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("WEB")})
	wantErr(t, err, "EntityAlreadyExists", "Instance Profile WEB already exists.")
	for _, n := range []string{"Batch", "Api"} {
		_, err = c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(n)})
		ok(t, err)
	}

	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("WebRole"), AssumeRolePolicyDocument: aws.String(ec2Trust),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	ok(t, err)
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("Other"), AssumeRolePolicyDocument: aws.String(ec2Trust)})
	ok(t, err)
	_, err = c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("webrole")})
	ok(t, err)
	_, err = c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("Api"), RoleName: aws.String("WebRole")})
	ok(t, err)

	// One role per profile: a second role, or the same again, is over quota.
	for _, role := range []string{"Other", "WebRole"} {
		_, err = c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("Web"), RoleName: aws.String(role)})
		wantErr(t, err, "LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
	}

	g, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("Web")})
	ok(t, err)
	if len(g.InstanceProfile.Roles) != 1 || aws.ToString(g.InstanceProfile.Roles[0].RoleName) != "WebRole" ||
		trustOf(t, &g.InstanceProfile.Roles[0]) != ec2Trust || !strings.HasPrefix(aws.ToString(g.InstanceProfile.Roles[0].RoleId), "AROA") ||
		len(g.InstanceProfile.Tags) != 1 {
		t.Fatalf("GetInstanceProfile = %+v", g.InstanceProfile)
	}

	// ListInstanceProfiles: PathPrefix, paging, roles included, tags left out.
	l, err := c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{PathPrefix: aws.String("/app/")})
	ok(t, err)
	if len(l.InstanceProfiles) != 1 || len(l.InstanceProfiles[0].Roles) != 1 || l.InstanceProfiles[0].Tags != nil {
		t.Fatalf("ListInstanceProfiles /app/ = %+v", l.InstanceProfiles)
	}
	var names []string
	var marker *string
	for {
		l, err = c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{MaxItems: aws.Int32(2), Marker: marker})
		ok(t, err)
		for _, p := range l.InstanceProfiles {
			names = append(names, fmt.Sprintf("%s:%d", aws.ToString(p.InstanceProfileName), len(p.Roles)))
		}
		if !l.IsTruncated {
			break
		}
		marker = l.Marker
	}
	if got := strings.Join(names, ","); got != "Api:1,Batch:0,Web:1" {
		t.Fatalf("ListInstanceProfiles = %s", got)
	}

	// ListInstanceProfilesForRole pages over the role's profiles.
	lr, err := c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("WebRole"), MaxItems: aws.Int32(1)})
	ok(t, err)
	if len(lr.InstanceProfiles) != 1 || !lr.IsTruncated || aws.ToString(lr.InstanceProfiles[0].InstanceProfileName) != "Api" {
		t.Fatalf("ListInstanceProfilesForRole page 1 = %+v", lr)
	}
	lr, err = c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("WebRole"), MaxItems: aws.Int32(1), Marker: lr.Marker})
	ok(t, err)
	if len(lr.InstanceProfiles) != 1 || lr.IsTruncated || aws.ToString(lr.InstanceProfiles[0].InstanceProfileName) != "Web" {
		t.Fatalf("ListInstanceProfilesForRole page 2 = %+v", lr)
	}
	lr, err = c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("Other")})
	ok(t, err)
	if len(lr.InstanceProfiles) != 0 || lr.IsTruncated {
		t.Fatalf("Other's profiles = %+v", lr.InstanceProfiles)
	}

	// A profile holding a role cannot be deleted.
	_, err = c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("Web")})
	wantErr(t, err, "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")

	_, err = c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("Web"), RoleName: aws.String("WebRole")})
	ok(t, err)
	_, err = c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("Web"), RoleName: aws.String("WebRole")})
	wantErr(t, err, "NoSuchEntity", "WebRole")
	// The freed slot takes another role.
	_, err = c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("Web"), RoleName: aws.String("Other")})
	ok(t, err)
	_, err = c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("Web"), RoleName: aws.String("Other")})
	ok(t, err)
	_, err = c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web")})
	ok(t, err)
	_, err = c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("Web")})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) || nse.ErrorMessage() != "Instance Profile Web cannot be found." {
		t.Fatalf("deleted profile: %v", err)
	}
}

func TestInstanceProfileTags(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()
	_, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("p")})
	ok(t, err)
	_, err = c.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: aws.String("p"), Tags: []types.Tag{
		{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}, {Key: aws.String("c"), Value: aws.String("3")}}})
	ok(t, err)
	_, err = c.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: aws.String("p"), Tags: []types.Tag{{Key: aws.String("A"), Value: aws.String("x")}}})
	ok(t, err)
	_, err = c.UntagInstanceProfile(ctx, &iam.UntagInstanceProfileInput{InstanceProfileName: aws.String("p"), TagKeys: []string{"B"}})
	ok(t, err)
	var got []string
	var marker *string
	for {
		lt, err := c.ListInstanceProfileTags(ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: aws.String("p"), MaxItems: aws.Int32(1), Marker: marker})
		ok(t, err)
		for _, tg := range lt.Tags {
			got = append(got, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		if !lt.IsTruncated {
			break
		}
		marker = lt.Marker
	}
	if strings.Join(got, ",") != "A=x,c=3" {
		t.Fatalf("tags = %v", got)
	}

	tests := []struct {
		name      string
		call      func() error
		code, msg string
	}{
		{"tag missing profile", func() error {
			_, err := c.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: aws.String("nope"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}, "NoSuchEntity", "Instance Profile nope cannot be found."},
		{"duplicate tag keys", func() error {
			_, err := c.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: aws.String("p"), Tags: []types.Tag{
				{Key: aws.String("k"), Value: aws.String("v")}, {Key: aws.String("K"), Value: aws.String("w")}}})
			return err
		}, "InvalidInput", "Duplicate tag keys"},
		{"add role to missing profile", func() error {
			_, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("nope"), RoleName: aws.String("r")})
			return err
		}, "NoSuchEntity", "Instance Profile nope cannot be found."},
		{"add missing role", func() error {
			_, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("p"), RoleName: aws.String("nope")})
			return err
		}, "NoSuchEntity", "The role with name nope cannot be found."},
		{"profiles of missing role", func() error {
			_, err := c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("nope")})
			return err
		}, "NoSuchEntity", "The role with name nope cannot be found."},
		{"delete missing profile", func() error {
			_, err := c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("nope")})
			return err
		}, "NoSuchEntity", "Instance Profile nope cannot be found."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.call(), tc.code, tc.msg) })
	}

	// A service-linked role cannot be put in an instance profile.
	out, err := c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("autoscaling.amazonaws.com")})
	ok(t, err)
	_, err = c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("p"), RoleName: out.Role.RoleName})
	wantErr(t, err, "UnmodifiableEntity", "protected role")
}
