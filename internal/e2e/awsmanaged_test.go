package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamd/iamd/internal/testenv"
)

// terraformAttachments are AWS managed policies real Terraform/CDK/SDK code
// attaches to roles, with the default version the catalog carries. A boto3
// sweep failed on the first of them before the catalog held it.
var terraformAttachments = []struct{ arn, version string }{
	{"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "v1"},
	{"arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole", "v3"},
	{"arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole", "v1"},
	{"arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole", "v1"},
	{"arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole", "v2"},
	{"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", "v2"},
	{"arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", "v3"},
	{"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly", "v3"},
	{"arn:aws:iam::aws:policy/AmazonEKSClusterPolicy", "v9"},
	{"arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy", "v5"},
	{"arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", "v1"},
	{"arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess", "v2"},
	{"arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess", "v4"},
	{"arn:aws:iam::aws:policy/AmazonSNSReadOnlyAccess", "v2"},
	{"arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess", "v1"},
	{"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser", "v3"},
	{"arn:aws:iam::aws:policy/AdministratorAccess", "v1"},
	{"arn:aws:iam::aws:policy/ReadOnlyAccess", ""},
	{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "v3"},
}

// Every common attachment resolves through GetPolicy/GetPolicyVersion and
// attaches to a role; ListPolicies with Scope=AWS and PathPrefix finds the
// service-role ones.
func TestAWSManagedTerraformAttachments(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()

	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	// A role holds at most 10 managed policies by default, so spread the
	// attachments over several roles.
	role := ""
	for i, p := range terraformAttachments {
		t.Run(p.arn[strings.LastIndex(p.arn, "/")+1:], func(t *testing.T) {
			got, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(p.arn)})
			if err != nil {
				t.Fatalf("GetPolicy: %v", err)
			}
			pol := got.Policy
			before := aws.ToInt32(pol.AttachmentCount)
			if aws.ToString(pol.Arn) != p.arn || !pol.IsAttachable || !strings.HasPrefix(aws.ToString(pol.PolicyId), "ANPA") {
				t.Fatalf("GetPolicy = %+v", pol)
			}
			if p.version != "" && aws.ToString(pol.DefaultVersionId) != p.version {
				t.Errorf("DefaultVersionId = %s, want %s", aws.ToString(pol.DefaultVersionId), p.version)
			}
			if !strings.HasSuffix(p.arn, aws.ToString(pol.Path)+aws.ToString(pol.PolicyName)) {
				t.Errorf("path %q name %q do not make %s", aws.ToString(pol.Path), aws.ToString(pol.PolicyName), p.arn)
			}
			v, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: pol.Arn, VersionId: pol.DefaultVersionId})
			if err != nil {
				t.Fatalf("GetPolicyVersion: %v", err)
			}
			doc, err := url.QueryUnescape(aws.ToString(v.PolicyVersion.Document))
			if err != nil {
				t.Fatal(err)
			}
			var parsed struct {
				Version   string
				Statement []json.RawMessage
			}
			if err := json.Unmarshal([]byte(doc), &parsed); err != nil || parsed.Version != "2012-10-17" || len(parsed.Statement) == 0 {
				t.Fatalf("document %q: %v", doc, err)
			}

			if i%10 == 0 {
				role = fmt.Sprintf("tf-role-%d", i/10)
				if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(role), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(p.arn)}); err != nil {
				t.Fatalf("AttachRolePolicy: %v", err)
			}
			att, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, a := range att.AttachedPolicies {
				found = found || aws.ToString(a.PolicyArn) == p.arn
			}
			if !found {
				t.Errorf("%s not listed on %s", p.arn, role)
			}
			after, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(p.arn)})
			if err != nil {
				t.Fatal(err)
			}
			if n := aws.ToInt32(after.Policy.AttachmentCount); n != before+1 {
				t.Errorf("AttachmentCount = %d after one more attachment, was %d", n, before)
			}
		})
	}

	// A path that exists only in AWS's catalog lists its policies.
	list, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: "AWS", PathPrefix: aws.String("/service-role/")})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range list.Policies {
		if !strings.HasPrefix(aws.ToString(p.Path), "/service-role/") {
			t.Errorf("%s listed under /service-role/", aws.ToString(p.Arn))
		}
		names[aws.ToString(p.PolicyName)] = true
	}
	for _, n := range []string{"AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole", "AWSLambdaSQSQueueExecutionRole"} {
		if !names[n] {
			t.Errorf("ListPolicies(/service-role/) lacks %s", n)
		}
	}

	// The policy lives under /service-role/: the bare path does not resolve.
	if _, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole")}); err == nil || apiCode(t, err) != "NoSuchEntity" {
		t.Errorf("AWSLambdaBasicExecutionRole without its path: %v", err)
	}
}
