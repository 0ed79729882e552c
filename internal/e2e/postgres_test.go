package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamd/iamd/internal/testenv"
)

// postgresDSN returns a DSN for a fresh schema on the test server, or skips.
func postgresDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("IAMD_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("set IAMD_TEST_POSTGRES_DSN=postgres://... to run the PostgreSQL end-to-end tests; .ci/run starts a server")
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return fmt.Sprintf("%s%siamd_schema=e2e_%d", dsn, sep, time.Now().UnixNano())
}

// TestTwoNodesSharePostgres: two iamd nodes on one PostgreSQL database serve
// the same accounts, and a policy change made through one node reaches the
// other's authorization cache.
func TestTwoNodesSharePostgres(t *testing.T) {
	dsn := postgresDSN(t)
	// Nodes sharing a database must share the at-rest encryption key.
	t.Setenv("IAMD_KEY_FILE", filepath.Join(t.TempDir(), "shared.key"))
	a := testenv.Start(t, testenv.WithPostgres(dsn))
	b := testenv.Start(t, testenv.WithPostgres(dsn))
	ctx := context.Background()

	adminA := a.AdminIAM()
	adminB := testenv.IAM(b.Config(a.AdminKey, a.AdminSecret, ""))
	if _, err := adminA.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("shared")}); err != nil {
		t.Fatal(err)
	}
	if _, err := adminB.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("shared")}); err != nil {
		t.Fatalf("node B does not see node A's user: %v", err)
	}
	if _, err := adminB.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("shared"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMReadOnlyAccess")}); err != nil {
		t.Fatal(err)
	}
	k, err := adminA.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("shared")})
	if err != nil {
		t.Fatal(err)
	}
	userB := testenv.IAM(b.Config(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), ""))
	if _, err := userB.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("read-only user on node B: %v", err)
	}
	// Warm B's cache, then detach on A: B must stop allowing.
	if _, err := adminA.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("shared"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMReadOnlyAccess")}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := userB.ListUsers(ctx, &iam.ListUsersInput{})
		if err != nil {
			if code := apiCode(t, err); code != "AccessDenied" {
				t.Fatalf("after detach: %v", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("node B still allows 5 s after the policy was detached on node A")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Deleting the key on B refuses it on A.
	if _, err := adminB.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("shared"), AccessKeyId: k.AccessKey.AccessKeyId}); err != nil {
		t.Fatal(err)
	}
	userA := testenv.IAM(a.Config(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), ""))
	deadline = time.Now().Add(5 * time.Second)
	for {
		_, err := userA.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("shared")})
		if err != nil && apiCode(t, err) == "InvalidClientTokenId" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node A still accepts a key deleted on node B: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var nse *types.NoSuchEntityException
	if _, err := adminA.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")}); !errors.As(err, &nse) {
		t.Fatalf("NoSuchEntity over PostgreSQL: %v", err)
	}
}
