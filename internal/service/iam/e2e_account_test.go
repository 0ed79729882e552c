package iam_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/service"
	iamsvc "github.com/iamd/iamd/internal/service/iam"
	"github.com/iamd/iamd/internal/store"
	"github.com/iamd/iamd/internal/testenv"
)

func TestE2EAccountAliases(t *testing.T) {
	env := testenv.Start(t)
	c, ctx := env.AdminIAM(), context.Background()
	for _, bad := range []string{"ab", "-abc", "abc-", "a--b", "123456", "Upper"} {
		if _, err := c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String(bad)}); err == nil {
			t.Errorf("alias %q accepted", bad)
		}
	}
	if _, err := c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("example-corp")}); err != nil {
		t.Fatal(err)
	}
	// Creating again for the same account is harmless; a new alias replaces it.
	if _, err := c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("example-corp")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("example-2")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
	if err != nil || len(out.AccountAliases) != 1 || out.AccountAliases[0] != "example-2" {
		t.Fatalf("aliases = %+v %v", out, err)
	}

	// The alias is unique across every account on the server.
	other, err := env.App.CreateAccount(ctx, "", "other@example.com", "", "other")
	if err != nil {
		t.Fatal(err)
	}
	h := env.App.Registry.Lookup("iam", "CreateAccountAlias")
	// The second account has no keys: call its handler directly as its root.
	oc := &service.Call{Service: "iam", Operation: "CreateAccountAlias", Partition: "aws", Account: other.ID, Now: time.Now(),
		Principal: &principal.Principal{Type: principal.Root, Partition: "aws", Account: other.ID, ARN: "arn:aws:iam::" + other.ID + ":root", UserID: other.ID}}
	_, err = h(ctx, oc, map[string]any{"AccountAlias": "example-2"})
	if ae := (*apierr.Error)(nil); !errors.As(err, &ae) || ae.Code != "EntityAlreadyExists" {
		t.Fatalf("alias taken by another account: %v", err)
	}
	if _, err = h(ctx, oc, map[string]any{"AccountAlias": "example-corp"}); err != nil {
		t.Fatalf("freed alias not reusable: %v", err)
	}

	if acct, err := iamsvc.AccountForAlias(ctx, env.App.Store, "example-corp"); err != nil || acct != other.ID {
		t.Fatalf("AccountForAlias = %q %v", acct, err)
	}
	_, err = c.DeleteAccountAlias(ctx, &iam.DeleteAccountAliasInput{AccountAlias: aws.String("example-corp")})
	credWant(t, err, "NoSuchEntity")
	// Closing the other account frees its alias.
	if err := env.App.Store.WithTx(ctx, func(tx store.Tx) error { return accounts.Delete(ctx, tx, other.ID) }); err != nil {
		t.Fatal(err)
	}
	if _, err := iamsvc.AccountForAlias(ctx, env.App.Store, "example-corp"); err == nil {
		t.Fatal("deleted account's alias still resolves")
	}
	if _, err = c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("example-corp")}); err != nil {
		t.Fatalf("alias of a deleted account not reusable: %v", err)
	}
	if _, err = c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("example-2")}); err != nil {
		t.Fatal(err)
	}
	if _, err = c.DeleteAccountAlias(ctx, &iam.DeleteAccountAliasInput{AccountAlias: aws.String("example-2")}); err != nil {
		t.Fatal(err)
	}
	out, err = c.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
	if err != nil || len(out.AccountAliases) != 0 {
		t.Fatalf("after delete = %+v %v", out, err)
	}
}

func TestE2EAccountSummary(t *testing.T) {
	env := testenv.Start(t)
	c, ctx := env.AdminIAM(), context.Background()
	credCreateUser(t, c, "u1")
	certPEM, keyPEM := credSelfSigned(t, "s", time.Now().Add(time.Hour))
	if _, err := c.UploadServerCertificate(ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("s"), CertificateBody: aws.String(certPEM), PrivateKey: aws.String(keyPEM)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://oidc.example.com")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if err != nil {
		t.Fatal(err)
	}
	m := out.SummaryMap
	want := map[string]int32{
		"Users": 2, "UsersQuota": 5000, "ServerCertificates": 1, "ServerCertificatesQuota": 20, "Providers": 1,
		"AccountPasswordPresent": 1, "AccountAccessKeysPresent": 0, "AccountMFAEnabled": 0, "AccessKeysPerUserQuota": 2,
		"PolicyVersionsInUse": 1, "GlobalEndpointTokenVersion": 1, "AssumeRolePolicySizeQuota": 2048,
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("SummaryMap[%s] = %d (present %v), want %d", k, got, ok, v)
		}
	}
	for _, k := range []string{"Groups", "Roles", "Policies", "InstanceProfiles", "MFADevices", "MFADevicesInUse", "AccountSigningCertificatesPresent", "RolesQuota", "PoliciesQuota"} {
		if _, ok := m[k]; !ok {
			t.Errorf("SummaryMap lacks %s", k)
		}
	}
}
