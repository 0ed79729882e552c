package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

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
