package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamd/iamd/internal/accountctl"
	"github.com/iamd/iamd/internal/store"
	"github.com/iamd/iamd/internal/testenv"
)

// acctCreds are credentials for signing Account API and control calls.
type acctCreds struct{ key, secret, token string }

// acctRootKeys gives account's root user an access key, written directly:
// a root user's first key comes from the console in AWS, which iamd's
// tests stand in for.
func acctRootKeys(t *testing.T, env *testenv.Env, account string) acctCreds {
	t.Helper()
	var c acctCreds
	err := env.App.Store.WithTx(context.Background(), func(tx store.Tx) error {
		k, secret, err := env.App.IAM.NewAccessKey(context.Background(), tx, account, "#root", "", time.Now())
		if err != nil {
			return err
		}
		c = acctCreds{key: k.ID, secret: secret}
		return nil
	})
	if err != nil {
		t.Fatalf("root key for %s: %v", account, err)
	}
	return c
}

// acctCall sends a SigV4-signed request for service "account" (the Account
// Management API has no SDK module here) and returns the status, the
// X-Amzn-ErrorType and the decoded JSON body.
func acctCall(t *testing.T, env *testenv.Env, c acctCreds, method, path string, body any) (int, string, map[string]any) {
	t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, env.URL+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(b)
	creds := aws.Credentials{AccessKeyID: c.key, SecretAccessKey: c.secret, SessionToken: c.token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "account", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, raw, err)
		}
	}
	code := resp.Header.Get("X-Amzn-ErrorType")
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	return resp.StatusCode, code, out
}

// acctWant checks a call's status and error code.
func acctWant(t *testing.T, what string, status int, code string, gotStatus int, gotCode string, out map[string]any) {
	t.Helper()
	if gotStatus != status || gotCode != code {
		t.Fatalf("%s: got %d %q %v, want %d %q", what, gotStatus, gotCode, out, status, code)
	}
}

func acctAdminCreds(env *testenv.Env) acctCreds {
	return acctCreds{key: env.AdminKey, secret: env.AdminSecret}
}

func TestAccountManagementAPI(t *testing.T) {
	env := testenv.Start(t)
	root := acctRootKeys(t, env, env.Account)
	admin := acctAdminCreds(env)

	st, code, out := acctCall(t, env, admin, "POST", "/getAccountInformation", map[string]any{})
	acctWant(t, "GetAccountInformation", 200, "", st, code, out)
	if out["AccountId"] != env.Account || out["AccountState"] != "ACTIVE" || out["AccountCreatedDate"] == nil {
		t.Fatalf("GetAccountInformation = %v", out)
	}
	st, code, out = acctCall(t, env, admin, "POST", "/putAccountName", map[string]any{"AccountName": "prod"})
	acctWant(t, "PutAccountName", 200, "", st, code, out)
	if _, _, out = acctCall(t, env, admin, "POST", "/getAccountInformation", map[string]any{}); out["AccountName"] != "prod" {
		t.Fatalf("account name after PutAccountName = %v", out["AccountName"])
	}

	// Alternate contacts: put, get, delete, then gone.
	sec := map[string]any{"AlternateContactType": "SECURITY", "Name": "Sec Team", "Title": "CISO", "EmailAddress": "sec@example.com", "PhoneNumber": "+1-555-0100"}
	st, code, out = acctCall(t, env, admin, "POST", "/putAlternateContact", sec)
	acctWant(t, "PutAlternateContact", 200, "", st, code, out)
	st, code, out = acctCall(t, env, admin, "POST", "/getAlternateContact", map[string]any{"AlternateContactType": "SECURITY"})
	acctWant(t, "GetAlternateContact", 200, "", st, code, out)
	if ac, _ := out["AlternateContact"].(map[string]any); ac["Name"] != "Sec Team" || ac["AlternateContactType"] != "SECURITY" {
		t.Fatalf("GetAlternateContact = %v", out)
	}
	st, code, out = acctCall(t, env, admin, "POST", "/getAlternateContact", map[string]any{"AlternateContactType": "BILLING"})
	acctWant(t, "GetAlternateContact BILLING", 404, "ResourceNotFoundException", st, code, out)
	st, code, out = acctCall(t, env, admin, "POST", "/deleteAlternateContact", map[string]any{"AlternateContactType": "SECURITY"})
	acctWant(t, "DeleteAlternateContact", 200, "", st, code, out)
	st, code, out = acctCall(t, env, admin, "POST", "/deleteAlternateContact", map[string]any{"AlternateContactType": "SECURITY"})
	acctWant(t, "DeleteAlternateContact again", 404, "ResourceNotFoundException", st, code, out)
	st, code, out = acctCall(t, env, admin, "POST", "/getAlternateContact", map[string]any{"AlternateContactType": "NOPE"})
	acctWant(t, "GetAlternateContact bad type", 400, "ValidationException", st, code, out)

	// Contact information is billing information: root may use it before
	// IAM access to billing is activated.
	ci := map[string]any{"FullName": "Jane Doe", "AddressLine1": "1 Main St", "City": "Seattle", "PostalCode": "98101", "CountryCode": "US", "PhoneNumber": "+12065550100"}
	st, code, out = acctCall(t, env, root, "POST", "/putContactInformation", map[string]any{"ContactInformation": ci})
	acctWant(t, "PutContactInformation as root", 200, "", st, code, out)
	st, code, out = acctCall(t, env, root, "POST", "/getContactInformation", map[string]any{})
	acctWant(t, "GetContactInformation as root", 200, "", st, code, out)
	if got, _ := out["ContactInformation"].(map[string]any); got["FullName"] != "Jane Doe" || got["City"] != "Seattle" {
		t.Fatalf("GetContactInformation = %v", out)
	}

	// Regions.
	st, code, out = acctCall(t, env, admin, "POST", "/listRegions", map[string]any{"MaxResults": 50})
	acctWant(t, "ListRegions", 200, "", st, code, out)
	status := map[string]string{}
	for _, r := range out["Regions"].([]any) {
		m := r.(map[string]any)
		status[m["RegionName"].(string)] = m["RegionOptStatus"].(string)
	}
	for r, want := range map[string]string{"us-east-1": "ENABLED_BY_DEFAULT", "eu-west-1": "ENABLED_BY_DEFAULT", "af-south-1": "DISABLED", "ap-east-1": "DISABLED", "me-south-1": "DISABLED", "eu-south-1": "DISABLED"} {
		if status[r] != want {
			t.Errorf("ListRegions %s = %q, want %q", r, status[r], want)
		}
	}
	st, code, out = acctCall(t, env, admin, "POST", "/listRegions", map[string]any{"RegionOptStatusContains": []string{"DISABLED"}, "MaxResults": 3})
	acctWant(t, "ListRegions filtered", 200, "", st, code, out)
	if n := len(out["Regions"].([]any)); n != 3 || out["NextToken"] == nil {
		t.Fatalf("ListRegions page = %v", out)
	}
	st, code, out = acctCall(t, env, admin, "POST", "/enableRegion", map[string]any{"RegionName": "af-south-1"})
	acctWant(t, "EnableRegion", 200, "", st, code, out)
	_, _, out = acctCall(t, env, admin, "POST", "/getRegionOptStatus", map[string]any{"RegionName": "af-south-1"})
	if out["RegionOptStatus"] != "ENABLING" {
		t.Fatalf("af-south-1 after EnableRegion = %v", out)
	}
	st, code, out = acctCall(t, env, admin, "POST", "/disableRegion", map[string]any{"RegionName": "af-south-1"})
	acctWant(t, "DisableRegion while ENABLING", 409, "ConflictException", st, code, out)
	st, code, out = acctCall(t, env, admin, "POST", "/disableRegion", map[string]any{"RegionName": "us-east-1"})
	acctWant(t, "DisableRegion default", 400, "ValidationException", st, code, out)
	st, code, out = acctCall(t, env, admin, "POST", "/getRegionOptStatus", map[string]any{"RegionName": "xx-nowhere-1"})
	acctWant(t, "GetRegionOptStatus unknown", 400, "ValidationException", st, code, out)

	// AccountId naming another account without an organization.
	st, code, out = acctCall(t, env, admin, "POST", "/getAlternateContact", map[string]any{"AlternateContactType": "SECURITY", "AccountId": "111122223333"})
	acctWant(t, "GetAlternateContact other account", 403, "AccessDeniedException", st, code, out)
}

// TestBillingAccessIsRootOnly: an administrator with "*" is still denied
// billing information until root activates IAM access to billing, and
// cannot activate it; root can.
func TestBillingAccessIsRootOnly(t *testing.T) {
	env := testenv.Start(t)
	root := acctRootKeys(t, env, env.Account)
	admin := acctAdminCreds(env)

	st, code, out := acctCall(t, env, admin, "POST", "/getContactInformation", map[string]any{})
	acctWant(t, "admin GetContactInformation before activation", 403, "AccessDeniedException", st, code, out)
	if out["message"] != accountctl.MsgBilling {
		t.Fatalf("billing denial message = %q", out["message"])
	}
	st, code, out = acctCall(t, env, admin, "PUT", "/iamd/account/billing-access", map[string]any{"Enabled": true})
	acctWant(t, "admin activates billing access", 403, "AccessDeniedException", st, code, out)

	st, code, out = acctCall(t, env, root, "PUT", "/iamd/account/billing-access", map[string]any{"Enabled": true})
	acctWant(t, "root activates billing access", 200, "", st, code, out)
	if out["BillingAccess"] != true {
		t.Fatalf("billing-access = %v", out)
	}
	st, code, out = acctCall(t, env, admin, "POST", "/getContactInformation", map[string]any{})
	acctWant(t, "admin GetContactInformation after activation", 404, "ResourceNotFoundException", st, code, out)

	st, code, out = acctCall(t, env, root, "PUT", "/iamd/account/billing-access", map[string]any{"Enabled": false})
	acctWant(t, "root deactivates billing access", 200, "", st, code, out)
	st, code, out = acctCall(t, env, admin, "POST", "/getContactInformation", map[string]any{})
	acctWant(t, "admin GetContactInformation after deactivation", 403, "AccessDeniedException", st, code, out)
}

// TestClosedAccountRefusesAndReopens: root closes its account; every call
// is then refused (IAM users and root alike) but root's billing views and
// reopening; once reopened, everything works again.
func TestClosedAccountRefusesAndReopens(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	root := acctRootKeys(t, env, env.Account)
	adminIAM := env.AdminIAM()
	rootIAM := testenv.IAM(env.Config(root.key, root.secret, ""))

	st, code, out := acctCall(t, env, root, "POST", "/iamd/account/close", nil)
	acctWant(t, "close", 200, "", st, code, out)
	if out["Status"] != "SUSPENDED" || out["Closed"] == nil {
		t.Fatalf("close = %v", out)
	}
	st, code, out = acctCall(t, env, root, "POST", "/iamd/account/close", nil)
	acctWant(t, "close twice", 409, "ConflictException", st, code, out)

	acctEventually(t, "admin refused once closed", func() error {
		if _, err := adminIAM.ListUsers(ctx, &iam.ListUsersInput{}); err == nil {
			return errors.New("still allowed")
		}
		return nil
	})
	for who, c := range map[string]*iam.Client{"admin": adminIAM, "root": rootIAM} {
		_, err := c.ListUsers(ctx, &iam.ListUsersInput{})
		if apiCode(t, err) != "AccessDenied" || !strings.Contains(err.Error(), "is closed") {
			t.Fatalf("%s ListUsers on a closed account: %v", who, err)
		}
	}
	st, code, out = acctCall(t, env, admin(env), "POST", "/getAccountInformation", map[string]any{})
	acctWant(t, "admin GetAccountInformation closed", 403, "AccessDeniedException", st, code, out)
	st, code, out = acctCall(t, env, root, "POST", "/getAccountInformation", map[string]any{})
	acctWant(t, "root GetAccountInformation closed", 200, "", st, code, out)
	if out["AccountState"] != "SUSPENDED" {
		t.Fatalf("AccountState of a closed account = %v", out["AccountState"])
	}
	// GetCallerIdentity is always answered.
	if _, err := testenv.STS(env.AdminConfig()).GetCallerIdentity(ctx, nil); err != nil {
		t.Fatalf("GetCallerIdentity on a closed account: %v", err)
	}

	st, code, out = acctCall(t, env, admin(env), "POST", "/iamd/account/reopen", nil)
	acctWant(t, "admin reopens", 403, "AccessDeniedException", st, code, out)
	st, code, out = acctCall(t, env, root, "POST", "/iamd/account/reopen", nil)
	acctWant(t, "root reopens", 200, "", st, code, out)
	if out["Status"] != "ACTIVE" {
		t.Fatalf("reopen = %v", out)
	}
	acctEventually(t, "admin ListUsers after reopening", func() error {
		_, err := adminIAM.ListUsers(ctx, &iam.ListUsersInput{})
		return err
	})
}

func admin(env *testenv.Env) acctCreds { return acctAdminCreds(env) }

// TestRootRestoresAdministrator: root is never limited by IAM policies, so
// when the only administrator loses its policies, root gives them back.
func TestRootRestoresAdministrator(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	root := acctRootKeys(t, env, env.Account)
	adminIAM := env.AdminIAM()
	rootIAM := testenv.IAM(env.Config(root.key, root.secret, ""))
	name := env.App.Bootstrap.AdminUser

	attached, err := adminIAM.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(name)})
	if err != nil || len(attached.AttachedPolicies) == 0 {
		t.Fatalf("admin's policies: %v %v", attached, err)
	}
	for _, p := range attached.AttachedPolicies {
		if _, err := adminIAM.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String(name), PolicyArn: p.PolicyArn}); err != nil {
			t.Fatalf("detach %s: %v", aws.ToString(p.PolicyArn), err)
		}
	}
	acctEventually(t, "admin without policies is refused ListUsers", func() error {
		if _, err := adminIAM.ListUsers(ctx, &iam.ListUsersInput{}); err == nil {
			return errors.New("still allowed")
		}
		return nil
	})
	for _, p := range attached.AttachedPolicies {
		if _, err := rootIAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: p.PolicyArn}); err != nil {
			t.Fatalf("root re-attaches %s: %v", aws.ToString(p.PolicyArn), err)
		}
	}
	// Caches follow store changes asynchronously: IAM is eventually
	// consistent in AWS too.
	acctEventually(t, "admin ListUsers after root restored it", func() error {
		_, err := adminIAM.ListUsers(ctx, &iam.ListUsersInput{})
		return err
	})
}

// acctEventually retries fn for a few seconds until it succeeds.
func acctEventually(t *testing.T, what string, fn func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err = fn(); err == nil {
			return
		}
	}
	t.Fatalf("%s: %v", what, err)
}
