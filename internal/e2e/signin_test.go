package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	netmail "net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/pquerna/otp"
	ptotp "github.com/pquerna/otp/totp"

	"github.com/iamd/iamd/internal/config"
	"github.com/iamd/iamd/internal/mail/mailtest"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
	"github.com/iamd/iamd/internal/testenv"
)

// testenv's root user.
const (
	e2eRootEmail    = "root@example.com"
	e2eRootPassword = "correct-horse-battery-staple-1A!"
)

// browser is a console client: JSON requests with a cookie jar.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, env *testenv.Env) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: env.URL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// call sends a JSON request and decodes the JSON answer.
func (b *browser) call(method, path string, body any) (int, map[string]any) {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			b.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, b.base+path, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		b.t.Fatalf("%s %s: not JSON: %q", method, path, raw)
	}
	return resp.StatusCode, out
}

func (b *browser) login(in map[string]any) (int, map[string]any) {
	return b.call(http.MethodPost, "/signin/api/login", in)
}

func totpCode(t *testing.T, seed string, at time.Time) string {
	t.Helper()
	c, err := ptotp.GenerateCodeCustom(seed, at, ptotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSigninRootWithoutMFA(t *testing.T) {
	env := testenv.Start(t)
	b := newBrowser(t, env)
	if st, out := b.call(http.MethodGet, "/signin/api/session", nil); st != 401 || out["error"] != "NotSignedIn" {
		t.Fatalf("session before login: %d %v", st, out)
	}
	st, out := b.login(map[string]any{"email": e2eRootEmail, "password": e2eRootPassword})
	if st != 200 || out["signedIn"] != true || out["principalArn"] != "arn:aws:iam::123456789012:root" {
		t.Fatalf("login: %d %v", st, out)
	}
	st, out = b.call(http.MethodGet, "/signin/api/session", nil)
	if st != 200 || out["account"] != env.Account || out["type"] != "Account" || out["mfa"] != false {
		t.Fatalf("session: %d %v", st, out)
	}
	// The AWS APIs still answer beside the sign-in routes.
	if _, err := env.AdminIAM().GetUser(context.Background(), &iam.GetUserInput{}); err != nil {
		t.Fatal(err)
	}
	if st, _ := b.call(http.MethodPost, "/signin/api/logout", map[string]any{}); st != 200 {
		t.Fatalf("logout: %d", st)
	}
	if st, _ := b.call(http.MethodGet, "/signin/api/session", nil); st != 401 {
		t.Fatalf("session after logout: %d", st)
	}
}

// enableRootMFA enables a root virtual MFA device through IAM's
// EnableMFADevice handler called as root, in process. Over the wire the
// IAM model requires UserName (AWS root users enable MFA from the console),
// so the SDK and the edge both refuse a root call without one.
func enableRootMFA(t *testing.T, env *testenv.Env, serial, code1, code2 string) {
	t.Helper()
	c := &service.Call{
		RequestID: "e2e-root-mfa", Service: "iam", Operation: "EnableMFADevice", Region: "us-east-1", Partition: "aws", Account: env.Account,
		Principal: &principal.Principal{Type: principal.Root, Partition: "aws", Account: env.Account, ARN: "arn:aws:iam::" + env.Account + ":root", UserID: env.Account},
		Now:       time.Now(),
	}
	in := map[string]any{"SerialNumber": serial, "AuthenticationCode1": code1, "AuthenticationCode2": code2}
	if _, err := env.App.Registry.Lookup("iam", "EnableMFADevice")(context.Background(), c, in); err != nil {
		t.Fatalf("EnableMFADevice as root: %v", err)
	}
}

func TestSigninRootWithMFA(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	var key, secret string
	err := env.App.Store.WithTx(ctx, func(tx store.Tx) error {
		k, s, err := env.App.IAM.NewAccessKey(ctx, tx, env.Account, "#root", "", time.Now())
		key, secret = k.ID, s
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	root := testenv.IAM(env.Config(key, secret, ""))
	dev, err := root.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("root-account-mfa-device")})
	if err != nil {
		t.Fatal(err)
	}
	serial := aws.ToString(dev.VirtualMFADevice.SerialNumber)
	seed := string(dev.VirtualMFADevice.Base32StringSeed)
	now := time.Now()
	enableRootMFA(t, env, serial, totpCode(t, seed, now.Add(-30*time.Second)), totpCode(t, seed, now))

	b := newBrowser(t, env)
	creds := map[string]any{"email": e2eRootEmail, "password": e2eRootPassword}
	st, out := b.login(creds)
	devs, _ := out["mfaDevices"].([]any)
	if st != 200 || out["mfaRequired"] != true || out["signedIn"] == true || len(devs) != 1 || devs[0] != serial {
		t.Fatalf("login without code: %d %v", st, out)
	}
	if st, _ := b.call(http.MethodGet, "/signin/api/session", nil); st != 401 {
		t.Fatalf("a session without MFA: %d", st)
	}
	creds["mfaCode"] = "000000"
	if totpCode(t, seed, now.Add(30*time.Second)) == "000000" {
		creds["mfaCode"] = "999999"
	}
	if st, out := b.login(creds); st != 401 || out["error"] != "AuthenticationFailed" {
		t.Fatalf("wrong code: %d %v", st, out)
	}
	// The next step's code: the enable consumed the current one.
	code := totpCode(t, seed, now.Add(30*time.Second))
	creds["mfaCode"] = code
	st, out = b.login(creds)
	if st != 200 || out["signedIn"] != true || out["mfa"] != true {
		t.Fatalf("login with code: %d %v", st, out)
	}
	st, out = b.call(http.MethodGet, "/signin/api/session", nil)
	if st != 200 || out["mfa"] != true {
		t.Fatalf("session: %d %v", st, out)
	}
	// A code works once.
	if st, _ := newBrowser(t, env).login(creds); st != 401 {
		t.Fatalf("replayed code: %d", st)
	}
}

func TestSigninIAMUser(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	cl := env.AdminIAM()
	if _, err := cl.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("console-alice")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("console-alice"), Password: aws.String("Alice-Console-1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("example-corp")}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, env)
	st, out := b.login(map[string]any{"account": "example-corp", "username": "console-alice", "password": "Alice-Console-1"})
	if st != 200 || out["principalArn"] != "arn:aws:iam::123456789012:user/console-alice" {
		t.Fatalf("login: %d %v", st, out)
	}
	st, out = b.call(http.MethodGet, "/signin/api/session", nil)
	if st != 200 || out["userName"] != "console-alice" || out["type"] != "User" {
		t.Fatalf("session: %d %v", st, out)
	}
	u, err := cl.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("console-alice")})
	if err != nil {
		t.Fatal(err)
	}
	if u.User.PasswordLastUsed == nil || time.Since(*u.User.PasswordLastUsed) > time.Minute {
		t.Fatalf("PasswordLastUsed = %v", u.User.PasswordLastUsed)
	}

	// Reset required: the sign-in asks for a new password first.
	if _, err := cl.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("console-alice"), PasswordResetRequired: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{AllowUsersToChangePassword: true, MinimumPasswordLength: aws.Int32(10)}); err != nil {
		t.Fatal(err)
	}
	b2 := newBrowser(t, env)
	st, out = b2.login(map[string]any{"account": env.Account, "username": "console-alice", "password": "Alice-Console-1"})
	tok, _ := out["changeToken"].(string)
	if st != 200 || out["passwordChangeRequired"] != true || tok == "" {
		t.Fatalf("login needing a change: %d %v", st, out)
	}
	change := map[string]any{"changeToken": tok, "oldPassword": "Alice-Console-1", "newPassword": "short"}
	if st, out := b2.call(http.MethodPost, "/signin/api/password", change); st != 400 || out["error"] != "PasswordPolicyViolation" {
		t.Fatalf("password under the account policy: %d %v", st, out)
	}
	change["newPassword"] = "Alice-Console-2"
	if st, out := b2.call(http.MethodPost, "/signin/api/password", change); st != 200 || out["signedIn"] != true {
		t.Fatalf("change: %d %v", st, out)
	}
	if st, _ := b2.call(http.MethodGet, "/signin/api/session", nil); st != 200 {
		t.Fatalf("session after change: %d", st)
	}
	lp, err := cl.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("console-alice")})
	if err != nil || lp.LoginProfile.PasswordResetRequired {
		t.Fatalf("login profile after change: %+v %v", lp, err)
	}
}

func TestSigninThrottling(t *testing.T) {
	env := testenv.Start(t)
	b := newBrowser(t, env)
	for i := range 5 {
		if st, out := b.login(map[string]any{"email": e2eRootEmail, "password": "wrong-password"}); st != 401 || out["error"] != "AuthenticationFailed" {
			t.Fatalf("attempt %d: %d %v", i, st, out)
		}
	}
	st, out := b.login(map[string]any{"email": e2eRootEmail, "password": e2eRootPassword})
	if st != 429 || out["error"] != "Throttling" {
		t.Fatalf("after 5 failures: %d %v", st, out)
	}
	// The admin's API access is unaffected.
	if _, err := env.AdminIAM().ListUsers(context.Background(), &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
}

var resetLink = regexp.MustCompile(`/signin/reset\?token=([A-Za-z0-9_%-]+)`)

func tokenFromMail(t *testing.T, data []byte) string {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("To") != e2eRootEmail {
		t.Fatalf("To = %q", msg.Header.Get("To"))
	}
	body, _ := io.ReadAll(msg.Body)
	m := resetLink.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no recovery link in %q", body)
	}
	tok, err := url.QueryUnescape(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestSigninRootPasswordChangeAndOutboxRecovery(t *testing.T) {
	env := testenv.Start(t)
	b := newBrowser(t, env)
	if st, _ := b.login(map[string]any{"email": e2eRootEmail, "password": e2eRootPassword}); st != 200 {
		t.Fatalf("login: %d", st)
	}
	if st, out := b.call(http.MethodPost, "/signin/api/root/password", map[string]any{"oldPassword": e2eRootPassword, "newPassword": "root@example.com"}); st != 400 || out["error"] != "PasswordPolicyViolation" {
		t.Fatalf("email as password: %d %v", st, out)
	}
	if st, out := b.call(http.MethodPost, "/signin/api/root/password", map[string]any{"oldPassword": e2eRootPassword, "newPassword": "Changed-Root-Pass-1"}); st != 200 {
		t.Fatalf("change: %d %v", st, out)
	}
	if st, _ := newBrowser(t, env).login(map[string]any{"email": e2eRootEmail, "password": "Changed-Root-Pass-1"}); st != 200 {
		t.Fatalf("login with the changed password: %d", st)
	}

	// No SMTP server configured: the recovery mail lands in the outbox.
	anon := newBrowser(t, env)
	if st, _ := anon.call(http.MethodPost, "/signin/api/root/forgot", map[string]any{"email": e2eRootEmail}); st != 200 {
		t.Fatalf("forgot: %d", st)
	}
	env.App.Signin.Wait()
	dir := filepath.Join(env.App.Config.DataDir, "outbox")
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("outbox: %v %v", entries, err)
	}
	if info, _ := entries[0].Info(); info.Mode().Perm() != 0o600 {
		t.Fatalf("outbox file mode %v", info.Mode().Perm())
	}
	data, err := os.ReadFile(filepath.Join(dir, entries[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	tok := tokenFromMail(t, data)
	if st, out := anon.call(http.MethodPost, "/signin/api/root/reset", map[string]any{"token": tok, "newPassword": "Recovered-Root-1"}); st != 200 {
		t.Fatalf("reset: %d %v", st, out)
	}
	if st, _ := anon.login(map[string]any{"email": e2eRootEmail, "password": "Recovered-Root-1"}); st != 200 {
		t.Fatalf("login after reset: %d", st)
	}
}

func TestSigninRecoveryBySMTP(t *testing.T) {
	sink, err := mailtest.Start(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	env := testenv.Start(t, func(c *config.Config) {
		c.SMTPAddr, c.SMTPFrom, c.PublicURL = sink.Addr, "no-reply@iamd.test", "https://console.iamd.test"
	})
	b := newBrowser(t, env)
	st, known := b.call(http.MethodPost, "/signin/api/root/forgot", map[string]any{"email": e2eRootEmail})
	if st != 200 {
		t.Fatalf("forgot: %d %v", st, known)
	}
	st, unknown := b.call(http.MethodPost, "/signin/api/root/forgot", map[string]any{"email": "someone-else@example.com"})
	if st != 200 || known["status"] != unknown["status"] {
		t.Fatalf("answers differ: %v / %v", known, unknown)
	}
	env.App.Signin.Wait()
	msgs := sink.Wait(1, 10*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1 (none for an unknown address)", len(msgs))
	}
	m := msgs[0]
	if m.From != "no-reply@iamd.test" || len(m.To) != 1 || m.To[0] != e2eRootEmail {
		t.Fatalf("envelope: %+v", m)
	}
	if !bytes.Contains(m.Data, []byte("https://console.iamd.test/signin/reset?token=")) {
		t.Fatalf("link does not use the public URL: %s", m.Data)
	}
	tok := tokenFromMail(t, m.Data)
	reset := func(pw string) (int, map[string]any) {
		return b.call(http.MethodPost, "/signin/api/root/reset", map[string]any{"token": tok, "newPassword": pw})
	}
	if st, out := reset("Recovered-Root-7"); st != 200 || out["passwordReset"] != true {
		t.Fatalf("reset: %d %v", st, out)
	}
	if st, out := reset("Recovered-Root-8"); st != 400 || out["error"] != "InvalidToken" {
		t.Fatalf("replayed token: %d %v", st, out)
	}
	if st, _ := b.login(map[string]any{"email": e2eRootEmail, "password": "Recovered-Root-7"}); st != 200 {
		t.Fatalf("login after reset: %d", st)
	}
	if st, _ := newBrowser(t, env).login(map[string]any{"email": e2eRootEmail, "password": e2eRootPassword}); st != 401 {
		t.Fatalf("old password after reset: %d", st)
	}
}

// TestSigninRootEnrolsMFA: the signed-in root user creates and enables its
// virtual MFA device through the console API (AWS's only path for root),
// after which the account reports MFA and sign-in requires a code.
func TestSigninRootEnrolsMFA(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	b := newBrowser(t, env)
	if st, out := b.call(http.MethodPost, "/signin/api/root/mfa/create", map[string]any{}); st != 401 {
		t.Fatalf("create without a session: %d %v", st, out)
	}
	if st, out := b.login(map[string]any{"email": e2eRootEmail, "password": e2eRootPassword}); st != 200 {
		t.Fatalf("login: %d %v", st, out)
	}
	st, dev := b.call(http.MethodPost, "/signin/api/root/mfa/create", map[string]any{"virtualMFADeviceName": "root-mfa"})
	serial, _ := dev["serialNumber"].(string)
	seed, _ := dev["base32StringSeed"].(string)
	if st != 200 || serial != "arn:aws:iam::"+env.Account+":mfa/root-mfa" || len(seed) != 64 || dev["qrCodePNG"] == "" {
		t.Fatalf("create: %d %v", st, dev)
	}
	now := time.Now()
	if st, out := b.call(http.MethodPost, "/signin/api/root/mfa/enable", map[string]any{
		"serialNumber": serial, "authenticationCode1": "000000", "authenticationCode2": "000000",
	}); st != 400 || out["error"] != "InvalidAuthenticationCode" {
		t.Fatalf("enable with wrong codes: %d %v", st, out)
	}
	if st, out := b.call(http.MethodPost, "/signin/api/root/mfa/enable", map[string]any{
		"serialNumber": serial, "authenticationCode1": totpCode(t, seed, now.Add(-30*time.Second)), "authenticationCode2": totpCode(t, seed, now),
	}); st != 200 || out["mfaEnabled"] != true {
		t.Fatalf("enable: %d %v", st, out)
	}
	sum, err := env.AdminIAM().GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if err != nil || sum.SummaryMap["AccountMFAEnabled"] != 1 {
		t.Fatalf("AccountMFAEnabled: %v %v", err, sum.SummaryMap)
	}
	b2 := newBrowser(t, env)
	if st, out := b2.login(map[string]any{"email": e2eRootEmail, "password": e2eRootPassword}); st != 200 || out["mfaRequired"] != true {
		t.Fatalf("root login after enrolment: %d %v", st, out)
	}
	// An IAM user's session cannot use the root endpoints.
	admin := newBrowser(t, env)
	if _, err := env.AdminIAM().CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("admin"), Password: aws.String("Admin-Passw0rd-long")}); err != nil {
		t.Fatal(err)
	}
	if st, out := admin.login(map[string]any{"account": env.Account, "username": "admin", "password": "Admin-Passw0rd-long"}); st != 200 {
		t.Fatalf("admin login: %d %v", st, out)
	}
	if st, out := admin.call(http.MethodPost, "/signin/api/root/mfa/create", map[string]any{}); st != 403 {
		t.Fatalf("user on a root endpoint: %d %v", st, out)
	}
}

// TestSignup: with --signup, an email and a password create an account whose
// root user can sign in; without it the endpoint refuses.
func TestSignup(t *testing.T) {
	off := testenv.Start(t)
	if st, out := newBrowser(t, off).call(http.MethodPost, "/signin/api/signup", map[string]any{"email": "new@example.com", "password": "Sign-up-Passw0rd"}); st != 403 || out["error"] != "SignupDisabled" {
		t.Fatalf("signup disabled: %d %v", st, out)
	}
	env := testenv.Start(t, testenv.WithConfig(func(c *config.Config) { c.Signup = true }))
	b := newBrowser(t, env)
	if st, out := b.call(http.MethodPost, "/signin/api/signup", map[string]any{"email": "new@example.com", "password": "short"}); st != 400 {
		t.Fatalf("weak password: %d %v", st, out)
	}
	st, out := b.call(http.MethodPost, "/signin/api/signup", map[string]any{"email": "new@example.com", "password": "Sign-up-Passw0rd", "accountName": "newco"})
	id, _ := out["accountId"].(string)
	if st != 200 || len(id) != 12 || id == env.Account || out["rootUserArn"] != "arn:aws:iam::"+id+":root" {
		t.Fatalf("signup: %d %v", st, out)
	}
	if st, out := b.call(http.MethodPost, "/signin/api/signup", map[string]any{"email": "NEW@example.com", "password": "Sign-up-Passw0rd"}); st != 409 {
		t.Fatalf("duplicate email: %d %v", st, out)
	}
	if st, out := b.login(map[string]any{"email": "new@example.com", "password": "Sign-up-Passw0rd"}); st != 200 || out["principalArn"] != "arn:aws:iam::"+id+":root" {
		t.Fatalf("new root login: %d %v", st, out)
	}
}
