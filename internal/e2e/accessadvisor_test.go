package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	iamsvc "github.com/iamd/iamd/internal/service/iam"
	"github.com/iamd/iamd/internal/testenv"
)

// TestAccessAdvisor drives the service last-accessed reports through the
// SDK over access data recorded as the authorizer records it.
func TestAccessAdvisor(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}))
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob"), Path: aws.String("/ops/")}))
	must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:List*","sts:GetCallerIdentity"],"Resource":"*"},{"Effect":"Deny","Action":"cloudtrail:*","Resource":"*"}]}`)}))
	must(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}))
	must(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("alice")}))
	must(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("bob")}))
	pol, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("orgread"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["organizations:Describe*","s3:GetObject"],"Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	polARN := aws.ToString(pol.Policy.Arn)
	must(c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: pol.Policy.Arn}))

	t1 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	if err := env.App.IAM.RecordServiceAccess(ctx, []iamsvc.AccessNote{
		{Account: env.Account, EntityKind: "user", EntityName: "alice", Service: "iam", Action: "ListUsers", Region: "us-east-1", At: t1},
		{Account: env.Account, EntityKind: "user", EntityName: "bob", Service: "organizations", Action: "DescribeOrganization", Region: "eu-west-1", At: t2},
	}); err != nil {
		t.Fatal(err)
	}
	aliceARN := "arn:aws:iam::" + env.Account + ":user/alice"
	bobARN := "arn:aws:iam::" + env.Account + ":user/ops/bob"

	generate := func(arn string, g types.AccessAdvisorUsageGranularityType) string {
		t.Helper()
		out, err := c.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String(arn), Granularity: g})
		if err != nil {
			t.Fatal(err)
		}
		if len(aws.ToString(out.JobId)) != 36 {
			t.Fatalf("JobId %q is not 36 characters", aws.ToString(out.JobId))
		}
		return aws.ToString(out.JobId)
	}
	byNS := func(list []types.ServiceLastAccessed) map[string]types.ServiceLastAccessed {
		m := map[string]types.ServiceLastAccessed{}
		for _, s := range list {
			m[aws.ToString(s.ServiceNamespace)] = s
		}
		return m
	}

	t.Run("user service level", func(t *testing.T) {
		job := generate(aliceARN, "")
		out, err := c.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: aws.String(job)})
		if err != nil {
			t.Fatal(err)
		}
		if out.JobStatus != types.JobStatusTypeCompleted || out.JobType != types.AccessAdvisorUsageGranularityTypeServiceLevel || out.JobCompletionDate == nil {
			t.Fatalf("job = %v %v %v", out.JobStatus, out.JobType, out.JobCompletionDate)
		}
		got := byNS(out.ServicesLastAccessed)
		if len(got) != 4 {
			t.Fatalf("services = %v, want iam, sts (inline), organizations and s3 (group's managed policy)", got)
		}
		if s3 := got["s3"]; aws.ToString(s3.ServiceName) != "Amazon S3" || s3.LastAuthenticated != nil {
			t.Fatalf("s3 (not hosted by iamd, still reported) = %+v", s3)
		}
		i := got["iam"]
		if i.LastAuthenticated == nil || !i.LastAuthenticated.Equal(t1) || aws.ToString(i.LastAuthenticatedEntity) != aliceARN ||
			aws.ToString(i.LastAuthenticatedRegion) != "us-east-1" || aws.ToInt32(i.TotalAuthenticatedEntities) != 1 ||
			aws.ToString(i.ServiceName) != "AWS Identity and Access Management" {
			t.Fatalf("iam = %+v", i)
		}
		if s := got["sts"]; s.LastAuthenticated != nil || aws.ToInt32(s.TotalAuthenticatedEntities) != 0 {
			t.Fatalf("sts = %+v, want never accessed", s)
		}
		if got["iam"].TrackedActionsLastAccessed != nil {
			t.Fatal("service-level job reports tracked actions")
		}
		page, err := c.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: aws.String(job), MaxItems: aws.Int32(2)})
		if err != nil || !page.IsTruncated || len(page.ServicesLastAccessed) != 2 {
			t.Fatalf("page 1: %v %+v", err, page)
		}
		page2, err := c.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: aws.String(job), Marker: page.Marker})
		if err != nil || page2.IsTruncated || len(page2.ServicesLastAccessed) != 2 {
			t.Fatalf("page 2: %v %+v", err, page2)
		}
	})

	t.Run("user action level", func(t *testing.T) {
		job := generate(aliceARN, types.AccessAdvisorUsageGranularityTypeActionLevel)
		out, err := c.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: aws.String(job)})
		if err != nil {
			t.Fatal(err)
		}
		acts := byNS(out.ServicesLastAccessed)["iam"].TrackedActionsLastAccessed
		if len(acts) == 0 {
			t.Fatal("no tracked IAM actions")
		}
		found := false
		for _, a := range acts {
			name := aws.ToString(a.ActionName)
			if len(name) < 4 || name[:4] != "List" {
				t.Fatalf("tracked action %s is not granted by iam:List*", name)
			}
			if name == "ListUsers" {
				found = true
				if a.LastAccessedTime == nil || !a.LastAccessedTime.Equal(t1) || aws.ToString(a.LastAccessedEntity) != aliceARN {
					t.Fatalf("ListUsers = %+v", a)
				}
			} else if a.LastAccessedTime != nil {
				t.Fatalf("%s has an access time", name)
			}
		}
		if !found {
			t.Fatal("ListUsers not tracked")
		}
	})

	t.Run("group with entities", func(t *testing.T) {
		job := generate("arn:aws:iam::"+env.Account+":group/devs", "")
		out, err := c.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: aws.String(job)})
		if err != nil {
			t.Fatal(err)
		}
		got := byNS(out.ServicesLastAccessed)
		if len(got) != 2 || aws.ToString(got["organizations"].LastAuthenticatedEntity) != bobARN {
			t.Fatalf("group services = %+v", got)
		}
		ents, err := c.GetServiceLastAccessedDetailsWithEntities(ctx, &iam.GetServiceLastAccessedDetailsWithEntitiesInput{JobId: aws.String(job), ServiceNamespace: aws.String("organizations")})
		if err != nil {
			t.Fatal(err)
		}
		if len(ents.EntityDetailsList) != 2 {
			t.Fatalf("entities = %+v", ents.EntityDetailsList)
		}
		for _, e := range ents.EntityDetailsList {
			name := aws.ToString(e.EntityInfo.Name)
			if e.EntityInfo.Type != types.PolicyOwnerEntityTypeUser {
				t.Fatalf("type = %v", e.EntityInfo.Type)
			}
			if (name == "bob") != (e.LastAuthenticated != nil) {
				t.Fatalf("%s LastAuthenticated = %v", name, e.LastAuthenticated)
			}
			if name == "bob" && aws.ToString(e.EntityInfo.Path) != "/ops/" {
				t.Fatalf("bob path = %q", aws.ToString(e.EntityInfo.Path))
			}
		}
	})

	t.Run("policy", func(t *testing.T) {
		job := generate(polARN, "")
		out, err := c.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: aws.String(job)})
		if err != nil {
			t.Fatal(err)
		}
		o := byNS(out.ServicesLastAccessed)["organizations"]
		if len(out.ServicesLastAccessed) != 2 || aws.ToInt32(o.TotalAuthenticatedEntities) != 1 || aws.ToString(o.LastAuthenticatedRegion) != "eu-west-1" {
			t.Fatalf("policy report = %+v", out.ServicesLastAccessed)
		}
		ents, err := c.GetServiceLastAccessedDetailsWithEntities(ctx, &iam.GetServiceLastAccessedDetailsWithEntitiesInput{JobId: aws.String(job), ServiceNamespace: aws.String("organizations")})
		if err != nil {
			t.Fatal(err)
		}
		if len(ents.EntityDetailsList) != 1 || ents.EntityDetailsList[0].EntityInfo.Type != types.PolicyOwnerEntityTypeGroup || ents.EntityDetailsList[0].LastAuthenticated == nil {
			t.Fatalf("policy entities = %+v", ents.EntityDetailsList)
		}
	})

	t.Run("policies granting access", func(t *testing.T) {
		out, err := c.ListPoliciesGrantingServiceAccess(ctx, &iam.ListPoliciesGrantingServiceAccessInput{
			Arn: aws.String(aliceARN), ServiceNamespaces: []string{"iam", "organizations", "cloudtrail"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.PoliciesGrantingServiceAccess) != 3 {
			t.Fatalf("entries = %+v", out.PoliciesGrantingServiceAccess)
		}
		iamPols := out.PoliciesGrantingServiceAccess[0].Policies
		if len(iamPols) != 1 || iamPols[0].PolicyType != types.PolicyTypeInline || iamPols[0].EntityType != types.PolicyOwnerEntityTypeUser || aws.ToString(iamPols[0].EntityName) != "alice" {
			t.Fatalf("iam policies = %+v", iamPols)
		}
		orgPols := out.PoliciesGrantingServiceAccess[1].Policies
		if len(orgPols) != 1 || orgPols[0].PolicyType != types.PolicyTypeManaged || aws.ToString(orgPols[0].PolicyArn) != polARN {
			t.Fatalf("organizations policies = %+v", orgPols)
		}
		if n := len(out.PoliciesGrantingServiceAccess[2].Policies); n != 0 {
			t.Fatalf("cloudtrail is only denied, got %d granting policies", n)
		}
	})

	t.Run("errors", func(t *testing.T) {
		_, err := c.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: aws.String("00000000-0000-0000-0000-000000000000")})
		if code := apiCode(t, err); code != "NoSuchEntity" {
			t.Fatalf("unknown job: %s", code)
		}
		_, err = c.GetServiceLastAccessedDetailsWithEntities(ctx, &iam.GetServiceLastAccessedDetailsWithEntitiesInput{JobId: aws.String("00000000-0000-0000-0000-000000000000"), ServiceNamespace: aws.String("iam")})
		if code := apiCode(t, err); code != "NoSuchEntity" {
			t.Fatalf("unknown job with entities: %s", code)
		}
		_, err = c.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String("arn:aws:iam::" + env.Account + ":instance-profile/web")})
		if code := apiCode(t, err); code != "InvalidInput" {
			t.Fatalf("instance profile ARN: %s", code)
		}
		_, err = c.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String("arn:aws:iam::" + env.Account + ":user/nobody")})
		if code := apiCode(t, err); code != "NoSuchEntity" {
			t.Fatalf("missing user: %s", code)
		}
		_, err = c.ListPoliciesGrantingServiceAccess(ctx, &iam.ListPoliciesGrantingServiceAccessInput{Arn: aws.String("arn:aws:iam::" + env.Account + ":role/nobody"), ServiceNamespaces: []string{"iam"}})
		if code := apiCode(t, err); code != "NoSuchEntity" {
			t.Fatalf("missing role: %s", code)
		}
	})

	t.Run("organizations report", func(t *testing.T) {
		gen, err := c.GenerateOrganizationsAccessReport(ctx, &iam.GenerateOrganizationsAccessReportInput{EntityPath: aws.String("o-aaaaaaaaaa/r-aaaa")})
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.GetOrganizationsAccessReport(ctx, &iam.GetOrganizationsAccessReportInput{JobId: gen.JobId})
		if err != nil {
			t.Fatal(err)
		}
		if out.JobStatus != types.JobStatusTypeFailed || out.ErrorDetails == nil {
			t.Fatalf("without an organization: %+v", out)
		}

		orgs := testenv.Organizations(env.AdminConfig())
		o, err := orgs.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
		if err != nil {
			t.Fatal(err)
		}
		roots, err := orgs.ListRoots(ctx, &organizations.ListRootsInput{})
		if err != nil {
			t.Fatal(err)
		}
		path := aws.ToString(o.Organization.Id) + "/" + aws.ToString(roots.Roots[0].Id)
		gen, err = c.GenerateOrganizationsAccessReport(ctx, &iam.GenerateOrganizationsAccessReportInput{EntityPath: aws.String(path)})
		if err != nil {
			t.Fatal(err)
		}
		out, err = c.GetOrganizationsAccessReport(ctx, &iam.GetOrganizationsAccessReportInput{JobId: gen.JobId, SortKey: types.SortKeyTypeLastAuthenticatedTimeDescending})
		if err != nil {
			t.Fatal(err)
		}
		if out.JobStatus != types.JobStatusTypeCompleted || len(out.AccessDetails) == 0 {
			t.Fatalf("report = %+v", out)
		}
		first := out.AccessDetails[0]
		if aws.ToString(first.ServiceNamespace) != "organizations" || !first.LastAuthenticatedTime.Equal(t2) ||
			aws.ToString(first.EntityPath) != path+"/"+env.Account {
			t.Fatalf("most recent = %+v", first)
		}
		if aws.ToInt32(out.NumberOfServicesAccessible)-aws.ToInt32(out.NumberOfServicesNotAccessed) != 2 {
			t.Fatalf("accessible %d, not accessed %d", aws.ToInt32(out.NumberOfServicesAccessible), aws.ToInt32(out.NumberOfServicesNotAccessed))
		}
		_, err = c.GetOrganizationsAccessReport(ctx, &iam.GetOrganizationsAccessReportInput{JobId: aws.String("00000000-0000-0000-0000-000000000000")})
		if code := apiCode(t, err); code != "NoSuchEntity" {
			t.Fatalf("unknown org job: %s", code)
		}
	})
}
