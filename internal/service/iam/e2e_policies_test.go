package iam_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/iamd/iamd/internal/testenv"
)

const (
	polDocS3   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	polDocEC2  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}`
	polAdminAW = "arn:aws:iam::aws:policy/AdministratorAccess"
)

// apiCode returns the AWS error code of err, or "" when there is none.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// wantCode fails unless err carries the AWS error code (and, when msg is
// non-empty, a message containing msg).
func wantCode(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("want %s %q, got %s %q", code, msg, ae.ErrorCode(), ae.ErrorMessage())
	}
}

func mustDecode(t *testing.T, s *string) string {
	t.Helper()
	d, err := url.QueryUnescape(aws.ToString(s))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestE2EPolicyLifecycle(t *testing.T) {
	env := testenv.Start(t)
	cl := env.AdminIAM()
	ctx := context.Background()

	out, err := cl.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName: aws.String("ReadS3"), PolicyDocument: aws.String(polDocS3), Path: aws.String("/team/"),
		Description: aws.String("read objects"), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := out.Policy
	wantARN := "arn:aws:iam::" + env.Account + ":policy/team/ReadS3"
	if aws.ToString(p.Arn) != wantARN || !strings.HasPrefix(aws.ToString(p.PolicyId), "ANPA") || aws.ToString(p.DefaultVersionId) != "v1" || !p.IsAttachable {
		t.Fatalf("CreatePolicy = %+v", p)
	}

	// Names are unique per account, whatever the path or case.
	_, err = cl.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("reads3"), PolicyDocument: aws.String(polDocS3)})
	var exists *types.EntityAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("duplicate: %v", err)
	}
	wantCode(t, err, "EntityAlreadyExists", "A policy called reads3 already exists. Duplicate names are not allowed.")

	// Invalid and oversized documents.
	_, err = cl.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Bad"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`)})
	var mal *types.MalformedPolicyDocumentException
	if !errors.As(err, &mal) {
		t.Fatalf("malformed: %v", err)
	}
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::` + strings.Repeat("a", 6200) + `"]}]}`
	_, err = cl.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Big"), PolicyDocument: aws.String(big)})
	wantCode(t, err, "LimitExceeded", "Cannot exceed quota for PolicySize: 6144")

	got, err := cl.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(wantARN)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Policy.Description) != "read objects" || len(got.Policy.Tags) != 1 || aws.ToInt32(got.Policy.AttachmentCount) != 0 {
		t.Fatalf("GetPolicy = %+v", got.Policy)
	}
	_, err = cl.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::" + env.Account + ":policy/ReadS3")})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Fatalf("wrong path: %v", err)
	}

	// Versions: v2 as default, then v3..v5, then the quota.
	v2, err := cl.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(wantARN), PolicyDocument: aws.String(polDocEC2), SetAsDefault: true})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(v2.PolicyVersion.VersionId) != "v2" || !v2.PolicyVersion.IsDefaultVersion {
		t.Fatalf("CreatePolicyVersion = %+v", v2.PolicyVersion)
	}
	for range 3 {
		if _, err := cl.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(wantARN), PolicyDocument: aws.String(polDocS3)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = cl.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(wantARN), PolicyDocument: aws.String(polDocS3)})
	wantCode(t, err, "LimitExceeded", "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")

	gv, err := cl.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(wantARN), VersionId: aws.String("v2")})
	if err != nil {
		t.Fatal(err)
	}
	if mustDecode(t, gv.PolicyVersion.Document) != polDocEC2 || !gv.PolicyVersion.IsDefaultVersion {
		t.Fatalf("GetPolicyVersion = %+v", gv.PolicyVersion)
	}
	_, err = cl.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(wantARN), VersionId: aws.String("v9")})
	if !errors.As(err, &nse) {
		t.Fatalf("missing version: %v", err)
	}

	// ListPolicyVersions pages with MaxItems.
	var ids []string
	var marker *string
	for {
		lv, err := cl.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(wantARN), MaxItems: aws.Int32(2), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range lv.Versions {
			ids = append(ids, aws.ToString(v.VersionId))
			if v.Document != nil {
				t.Fatal("ListPolicyVersions returned a document")
			}
		}
		if !lv.IsTruncated {
			break
		}
		marker = lv.Marker
	}
	if fmt.Sprint(ids) != "[v5 v4 v3 v2 v1]" { // newest first, as IAM lists them
		t.Fatalf("versions = %v", ids)
	}

	_, err = cl.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(wantARN), VersionId: aws.String("v2")})
	wantCode(t, err, "DeleteConflict", "Cannot delete the default version of a policy.")
	if _, err := cl.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(wantARN), VersionId: aws.String("v5")}); err != nil {
		t.Fatal(err)
	}
	_, err = cl.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(wantARN)})
	wantCode(t, err, "DeleteConflict", "This policy has more than one version.")
	for _, v := range []string{"v1", "v2", "v3", "v4"} {
		if _, err := cl.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(wantARN), VersionId: aws.String(v)}); err != nil {
			t.Fatal(v, err)
		}
	}
	// Version ids are never reused.
	v6, err := cl.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(wantARN), PolicyDocument: aws.String(polDocS3)})
	if err != nil || aws.ToString(v6.PolicyVersion.VersionId) != "v6" {
		t.Fatalf("after deletes: %v %v", v6, err)
	}
	if _, err := cl.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(wantARN), VersionId: aws.String("v6")}); err != nil {
		t.Fatal(err)
	}

	// Tags.
	if _, err := cl.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: aws.String(wantARN), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.UntagPolicy(ctx, &iam.UntagPolicyInput{PolicyArn: aws.String(wantARN), TagKeys: []string{"ENV"}}); err != nil {
		t.Fatal(err)
	}
	lt, err := cl.ListPolicyTags(ctx, &iam.ListPolicyTagsInput{PolicyArn: aws.String(wantARN)})
	if err != nil || len(lt.Tags) != 1 || aws.ToString(lt.Tags[0].Key) != "team" {
		t.Fatalf("ListPolicyTags = %+v %v", lt, err)
	}

	// Attached policies cannot be deleted.
	if _, err := cl.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carol")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("carol"), PolicyArn: aws.String(wantARN)}); err != nil {
		t.Fatal(err)
	}
	_, err = cl.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(wantARN)})
	wantCode(t, err, "DeleteConflict", "Cannot delete a policy attached to entities.")
	if _, err := cl.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("carol"), PolicyArn: aws.String(wantARN)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(wantARN)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(wantARN)}); !errors.As(err, &nse) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestE2EAWSManagedPolicies(t *testing.T) {
	env := testenv.Start(t)
	cl := env.AdminIAM()
	ctx := context.Background()

	// The bootstrap admin has AdministratorAccess attached.
	got, err := cl.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(polAdminAW)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Policy.DefaultVersionId) != "v1" || aws.ToInt32(got.Policy.AttachmentCount) != 1 || aws.ToString(got.Policy.Path) != "/" {
		t.Fatalf("GetPolicy(AdministratorAccess) = %+v", got.Policy)
	}
	gv, err := cl.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(polAdminAW), VersionId: aws.String("v1")})
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Join(strings.Fields(mustDecode(t, gv.PolicyVersion.Document)), "")
	if doc != `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}` {
		t.Fatalf("AdministratorAccess document = %s", doc)
	}
	lv, err := cl.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(polAdminAW)})
	if err != nil || len(lv.Versions) != 1 || !lv.Versions[0].IsDefaultVersion {
		t.Fatalf("ListPolicyVersions = %+v %v", lv, err)
	}
	// Job function policies live under their path.
	if _, err := cl.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/ViewOnlyAccess")}); apiCode(err) != "NoSuchEntity" {
		t.Fatalf("wrong path: %v", err)
	}

	// AWS managed policies cannot be changed. The model declares
	// UnmodifiableEntity for none of these operations, so the SDK surfaces
	// it as a generic API error with that code.
	_, err = cl.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(polAdminAW), PolicyDocument: aws.String(polDocS3)})
	wantCode(t, err, "UnmodifiableEntity", "AdministratorAccess")
	_, err = cl.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(polAdminAW)})
	wantCode(t, err, "UnmodifiableEntity", "AdministratorAccess")
	_, err = cl.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: aws.String(polAdminAW), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	wantCode(t, err, "UnmodifiableEntity", "AdministratorAccess")
	_, err = cl.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(polAdminAW), VersionId: aws.String("v1")})
	wantCode(t, err, "UnmodifiableEntity", "AdministratorAccess")

	// ListPolicies: Scope=AWS pages through the catalog; OnlyAttached
	// narrows to the one in use.
	names := map[string]bool{}
	var marker *string
	pages := 0
	for {
		lp, err := cl.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, MaxItems: aws.Int32(7), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, p := range lp.Policies {
			if names[aws.ToString(p.PolicyName)] {
				t.Fatalf("%s listed twice", aws.ToString(p.PolicyName))
			}
			names[aws.ToString(p.PolicyName)] = true
			if p.Tags != nil || p.Description != nil {
				t.Fatalf("ListPolicies returned tags or description: %+v", p)
			}
		}
		if !lp.IsTruncated {
			break
		}
		marker = lp.Marker
	}
	for _, n := range []string{"AdministratorAccess", "ReadOnlyAccess", "SecurityAudit", "Billing", "IAMAuditRootUserCredentials", "AWSCloudTrail_ReadOnlyAccess"} {
		if !names[n] {
			t.Errorf("ListPolicies(Scope=AWS) lacks %s", n)
		}
	}
	if pages < 3 {
		t.Errorf("expected several pages, got %d", pages)
	}
	lp, err := cl.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, OnlyAttached: true})
	if err != nil || len(lp.Policies) != 1 || aws.ToString(lp.Policies[0].PolicyName) != "AdministratorAccess" || aws.ToInt32(lp.Policies[0].AttachmentCount) != 1 {
		t.Fatalf("ListPolicies(OnlyAttached) = %+v %v", lp, err)
	}
	lp, err = cl.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, PathPrefix: aws.String("/root-task/")})
	if err != nil || len(lp.Policies) != 5 {
		t.Fatalf("ListPolicies(/root-task/) = %d %v", len(lp.Policies), err)
	}
}

func TestE2EListPoliciesScopes(t *testing.T) {
	env := testenv.Start(t)
	cl := env.AdminIAM()
	ctx := context.Background()
	for i := range 5 {
		if _, err := cl.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("p%d", i)), PolicyDocument: aws.String(polDocS3)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cl.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dave")}); err != nil {
		t.Fatal(err)
	}
	p3 := "arn:aws:iam::" + env.Account + ":policy/p3"
	if _, err := cl.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("dave"), PolicyArn: aws.String(p3)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("dave"), PermissionsBoundary: aws.String("arn:aws:iam::" + env.Account + ":policy/p1")}); err != nil {
		t.Fatal(err)
	}

	count := func(in *iam.ListPoliciesInput) []string {
		t.Helper()
		var names []string
		var marker *string
		for {
			in.Marker, in.MaxItems = marker, aws.Int32(2)
			out, err := cl.ListPolicies(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range out.Policies {
				names = append(names, aws.ToString(p.PolicyName))
			}
			if !out.IsTruncated {
				return names
			}
			marker = out.Marker
		}
	}
	if got := count(&iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal}); fmt.Sprint(got) != "[p0 p1 p2 p3 p4]" {
		t.Fatalf("Local = %v", got)
	}
	all := count(&iam.ListPoliciesInput{})
	aws := count(&iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws})
	if len(all) != len(aws)+5 {
		t.Fatalf("All = %d, AWS = %d", len(all), len(aws))
	}
	if got := count(&iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal, OnlyAttached: true, PolicyUsageFilter: types.PolicyUsageTypePermissionsPolicy}); fmt.Sprint(got) != "[p3]" {
		t.Fatalf("Local attached = %v", got)
	}
	if got := count(&iam.ListPoliciesInput{OnlyAttached: true, PolicyUsageFilter: types.PolicyUsageTypePermissionsBoundary}); fmt.Sprint(got) != "[p1]" {
		t.Fatalf("boundaries = %v", got)
	}
	if got := count(&iam.ListPoliciesInput{OnlyAttached: true, PolicyUsageFilter: types.PolicyUsageTypePermissionsPolicy}); fmt.Sprint(got) != "[AdministratorAccess p3]" {
		t.Fatalf("attached = %v", got)
	}
	// Without a usage filter, either use counts.
	if got := count(&iam.ListPoliciesInput{OnlyAttached: true}); fmt.Sprint(got) != "[AdministratorAccess p1 p3]" {
		t.Fatalf("in use = %v", got)
	}
}
