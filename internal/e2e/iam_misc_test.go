package e2e

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamd/iamd/internal/testenv"
)

// TestSTSPreferences sets the global endpoint token version and reads it
// back from GetAccountSummary.
func TestSTSPreferences(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.AdminIAM()
	version := func() int32 {
		t.Helper()
		out, err := c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		if err != nil {
			t.Fatal(err)
		}
		return out.SummaryMap["GlobalEndpointTokenVersion"]
	}
	if v := version(); v != 1 {
		t.Fatalf("default GlobalEndpointTokenVersion = %d, want 1", v)
	}
	for _, c2 := range []struct {
		set  types.GlobalEndpointTokenVersion
		want int32
	}{{types.GlobalEndpointTokenVersionV2Token, 2}, {types.GlobalEndpointTokenVersionV2Token, 2}, {types.GlobalEndpointTokenVersionV1Token, 1}} {
		if _, err := c.SetSecurityTokenServicePreferences(ctx, &iam.SetSecurityTokenServicePreferencesInput{GlobalEndpointTokenVersion: c2.set}); err != nil {
			t.Fatal(err)
		}
		if v := version(); v != c2.want {
			t.Fatalf("after %s: GlobalEndpointTokenVersion = %d, want %d", c2.set, v, c2.want)
		}
	}
	_, err := c.SetSecurityTokenServicePreferences(ctx, &iam.SetSecurityTokenServicePreferencesInput{GlobalEndpointTokenVersion: "v3Token"})
	if code := apiCode(t, err); code != "ValidationError" {
		t.Fatalf("v3Token: %s", code)
	}
	_ = aws.String
}
