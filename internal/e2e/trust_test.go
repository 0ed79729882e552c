package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamd/iamd/internal/testenv"
)

// A trust policy naming a user or role that does not exist is refused as
// AWS refuses it; existing ones and accounts are accepted.
func TestTrustPolicyPrincipalsMustExist(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()
	trust := func(p string) *string {
		return aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + p + `"},"Action":"sts:AssumeRole"}]}`)
	}
	_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r1"), AssumeRolePolicyDocument: trust("arn:aws:iam::123456789012:user/ghost")})
	var mpd *types.MalformedPolicyDocumentException
	if !errors.As(err, &mpd) || !strings.HasPrefix(mpd.ErrorMessage(), "Invalid principal in policy") {
		t.Fatalf("nonexistent user principal: %v", err)
	}
	for _, p := range []string{"arn:aws:iam::123456789012:user/admin", "arn:aws:iam::123456789012:root", "123456789012", "arn:aws:iam::210987654321:role/elsewhere"} {
		if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ok-" + strings.NewReplacer(":", "", "/", "").Replace(p[len(p)-6:])), AssumeRolePolicyDocument: trust(p)}); err != nil {
			t.Fatalf("principal %s: %v", p, err)
		}
	}
	_, err = c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("ok-admin"), PolicyDocument: trust("arn:aws:iam::123456789012:role/ghost")})
	if !errors.As(err, &mpd) {
		t.Fatalf("update with nonexistent role principal: %v", err)
	}
}

// A user deleted and recreated under the same name is a different entity:
// the trust policy written for the first one does not trust the second.
func TestTrustPolicyPinsUniqueIDs(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()
	mkUser := func() aws.Config {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}); err != nil {
			t.Fatal(err)
		}
		k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
		if err != nil {
			t.Fatal(err)
		}
		return env.Config(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), "")
	}
	bob := mkUser()
	role, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("for-bob"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	assume := func(cfg aws.Config) error {
		_, err := testenv.STS(cfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("s1")})
		return err
	}
	if err := assume(bob); err != nil {
		t.Fatalf("original bob: %v", err)
	}
	keys, _ := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")})
	for _, k := range keys.AccessKeyMetadata {
		if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: k.AccessKeyId}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	impostor := mkUser()
	err = assume(impostor)
	if code := apiCode(t, err); code != "AccessDenied" {
		t.Fatalf("recreated bob: %v", err)
	}
	want := "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: sts:AssumeRole on resource: " + aws.ToString(role.Role.Arn)
	if !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("message: %v", err)
	}
}
