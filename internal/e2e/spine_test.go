// Package e2e drives a real iamd through real AWS clients: the AWS SDK for
// Go v2 always, the AWS CLI where installed.
package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/iamd/iamd/internal/config"
	"github.com/iamd/iamd/internal/testenv"
)

func apiCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an AWS API error, got %v", err)
	}
	return ae.ErrorCode()
}

func TestCallerIdentityAndUsers(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()

	id, err := testenv.STS(env.AdminConfig()).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(id.Arn), "arn:aws:iam::123456789012:user/admin"; got != want {
		t.Fatalf("Arn = %q, want %q", got, want)
	}
	if aws.ToString(id.Account) != env.Account || !strings.HasPrefix(aws.ToString(id.UserId), "AIDA") {
		t.Fatalf("identity = %+v", id)
	}

	c := env.AdminIAM()
	out, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/eng/")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.User.Arn); got != "arn:aws:iam::123456789012:user/eng/alice" {
		t.Fatalf("Arn = %q", got)
	}
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ALICE")})
	var exists *types.EntityAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("duplicate (case-insensitive) user: %v", err)
	}
	_, err = c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) || nse.ErrorMessage() != "The user with name nobody cannot be found." {
		t.Fatalf("GetUser missing: %v", err)
	}
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bad name!")})
	if code := apiCode(t, err); code != "ValidationError" {
		t.Fatalf("invalid name: code %s", code)
	}

	for _, n := range []string{"bob", "carol", "dave"} {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	p := iam.NewListUsersPaginator(c, &iam.ListUsersInput{MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range pg.Users {
			names = append(names, aws.ToString(u.UserName))
		}
	}
	if got := strings.Join(names, ","); got != "admin,alice,bob,carol,dave" || pages != 3 {
		t.Fatalf("ListUsers = %s in %d pages", got, pages)
	}
	eng, err := c.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/eng/")})
	if err != nil || len(eng.Users) != 1 {
		t.Fatalf("PathPrefix: %v %+v", err, eng)
	}
}

func TestAuthenticationErrors(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()

	_, err := testenv.IAM(env.Config("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")).ListUsers(ctx, &iam.ListUsersInput{})
	if code := apiCode(t, err); code != "InvalidClientTokenId" {
		t.Fatalf("unknown key: %s", code)
	}
	_, err = testenv.IAM(env.Config(env.AdminKey, env.AdminSecret+"x", "")).ListUsers(ctx, &iam.ListUsersInput{})
	if code := apiCode(t, err); code != "SignatureDoesNotMatch" {
		t.Fatalf("wrong secret: %s", code)
	}
	resp, err := http.Post(env.URL+"/", "application/x-www-form-urlencoded", strings.NewReader("Action=ListUsers&Version=2010-05-08"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>MissingAuthenticationToken</Code>") {
		t.Fatalf("unsigned: %d %s", resp.StatusCode, body)
	}
}

func TestEnforcementDeniesUserWithoutPolicies(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("intern")}); err != nil {
		t.Fatal(err)
	}
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("intern")})
	if err != nil {
		t.Fatal(err)
	}
	intern := testenv.IAM(env.Config(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), ""))
	_, err = intern.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")})
	if code := apiCode(t, err); code != "AccessDenied" {
		t.Fatalf("no-policy user CreateUser: %v", err)
	}
	want := "User: arn:aws:iam::123456789012:user/intern is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::123456789012:user/mallory because no identity-based policy allows the iam:CreateUser action"
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("message: %v", err)
	}
	// GetCallerIdentity needs no permission.
	if _, err := testenv.STS(env.Config(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
}

func TestAuthOffActsAsRootAndResets(t *testing.T) {
	env := testenv.Start(t, testenv.WithAuth(config.AuthOff))
	ctx := context.Background()
	c := testenv.IAM(env.Config("testing", "testing", ""))
	id, err := testenv.STS(env.Config("testing", "testing", "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:iam::123456789012:root" {
		t.Fatalf("auth off identity: %v %+v", err, id)
	}
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("temp")}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(env.URL+"/moto-api/reset", "application/json", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("reset: %v %v", err, resp)
	}
	resp.Body.Close()
	_, err = c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("temp")})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Fatalf("after reset: %v", err)
	}
	// The bootstrap admin survives a reset with the same key.
	if _, err := env.AdminIAM().GetUser(ctx, &iam.GetUserInput{UserName: aws.String("admin")}); err != nil {
		t.Fatal(err)
	}
}

// A ResourceTag condition decides on the target user's own tags.
func TestResourceTagCondition(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()
	for _, u := range []struct{ name, team string }{{"blue-1", "blue"}, {"red-1", "red"}, {"lead", "blue"}} {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u.name), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String(u.team)}}}); err != nil {
			t.Fatal(err)
		}
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:TagUser","Resource":"*",
	  "Condition":{"StringEquals":{"iam:ResourceTag/team":"${aws:PrincipalTag/team}"}}}]}`
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("lead"), PolicyName: aws.String("same-team"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("lead")})
	if err != nil {
		t.Fatal(err)
	}
	lead := testenv.IAM(env.Config(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), ""))
	tag := []types.Tag{{Key: aws.String("reviewed"), Value: aws.String("yes")}}
	if _, err := lead.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("blue-1"), Tags: tag}); err != nil {
		t.Fatalf("same team: %v", err)
	}
	_, err = lead.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("red-1"), Tags: tag})
	if code := apiCode(t, err); code != "AccessDenied" {
		t.Fatalf("other team: %v", err)
	}
}
