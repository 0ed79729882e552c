package iam_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamd/iamd/internal/testenv"
)

// BenchmarkLoadIdentityPolicies measures collecting a user's policies from
// two groups: inline, attached (customer and AWS managed) and a boundary.
func BenchmarkLoadIdentityPolicies(b *testing.B) {
	env := testenv.Start(b)
	cl := env.AdminIAM()
	ctx := context.Background()
	must := func(_ any, err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	must(cl.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bench"), PermissionsBoundary: aws.String(polAdminAW)}))
	must(cl.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bench"), PolicyName: aws.String("own"), PolicyDocument: aws.String(polDocS3)}))
	for i := range 2 {
		g := fmt.Sprintf("g%d", i)
		must(cl.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(g)}))
		must(cl.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(g), UserName: aws.String("bench")}))
		must(cl.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String(g), PolicyName: aws.String("p"), PolicyDocument: aws.String(polDocEC2)}))
		out, err := cl.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("m" + g), PolicyDocument: aws.String(polDocS3)})
		must(out, err)
		must(cl.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(g), PolicyArn: out.Policy.Arn}))
	}
	must(cl.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bench"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMReadOnlyAccess")}))
	svc, st := env.App.IAM, env.App.Store
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ip, err := svc.LoadIdentityPolicies(ctx, st, env.Account, "user", "bench")
		if err != nil || len(ip.Inline) != 3 || len(ip.Managed) != 3 || ip.Boundary == nil {
			b.Fatalf("%+v %v", ip, err)
		}
	}
}
