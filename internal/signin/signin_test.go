package signin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/mail"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/secrets"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/service/iam"
	"github.com/iamd/iamd/internal/store"
	"github.com/iamd/iamd/internal/store/sqlite"
)

const (
	testAccount  = "111122223333"
	testEmail    = "root@example.com"
	rootPassword = "Root-Password-1"
	userPassword = "User-Password-1"
)

// clock is the injected time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// outbox records sent mail.
type outbox struct {
	mu   sync.Mutex
	msgs []mail.Message
}

func (o *outbox) Send(_ context.Context, m *mail.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, *m)
	return nil
}

func (o *outbox) all() []mail.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]mail.Message(nil), o.msgs...)
}

type fixture struct {
	t     *testing.T
	svc   *Service
	st    store.Store
	clock *clock
	mail  *outbox
	log   *bytes.Buffer
	reg   service.Registry
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "iamd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys, err := secrets.NewKeyring(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	logBuf := new(bytes.Buffer)
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: logBuf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	iamSvc := &iam.Service{Store: st, Keys: keys, Log: log}
	reg := service.Registry{}
	iamSvc.Register(reg)
	clk := &clock{t: time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)}
	hash, err := secrets.HashPassword(rootPassword)
	if err != nil {
		t.Fatal(err)
	}
	err = st.WithTx(ctx, func(tx store.Tx) error {
		return accounts.Create(ctx, tx, &accounts.Account{ID: testAccount, Name: "test", Email: testEmail, RootPassword: hash, Created: clk.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	ob := &outbox{}
	svc, err := New(&Service{Store: st, IAM: iamSvc, Registry: reg, Mail: ob, Log: log, Now: clk.Now, PublicURL: "https://iamd.example/"})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, svc: svc, st: st, clock: clk, mail: ob, log: logBuf, reg: reg}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// iamCall runs an IAM operation as the account's root user.
func (f *fixture) iamCall(op string, in map[string]any) map[string]any {
	f.t.Helper()
	c := &service.Call{RequestID: "test", Service: "iam", Operation: op, Region: "us-east-1", Partition: "aws", Account: testAccount,
		Principal: &principal.Principal{Type: principal.Root, Partition: "aws", Account: testAccount, ARN: "arn:aws:iam::" + testAccount + ":root", UserID: testAccount},
		Now:       f.clock.Now()}
	out, err := f.reg.Lookup("iam", op)(context.Background(), c, in)
	if err != nil {
		f.t.Fatalf("%s: %v", op, err)
	}
	return out
}

func (f *fixture) user(name string, resetRequired bool) {
	f.iamCall("CreateUser", map[string]any{"UserName": name})
	f.iamCall("CreateLoginProfile", map[string]any{"UserName": name, "Password": userPassword, "PasswordResetRequired": resetRequired})
}

type resp struct {
	status int
	body   map[string]any
	raw    string
	cookie *http.Cookie
	header http.Header
}

// do sends one request from ip with an optional session cookie.
func (f *fixture) do(method, path string, body any, cookie string, ip string) resp {
	f.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	r := httptest.NewRequest(method, path, rd)
	if ip == "" {
		ip = "192.0.2.1"
	}
	r.RemoteAddr = ip + ":5555"
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: CookieName, Value: cookie})
	}
	w := httptest.NewRecorder()
	f.svc.ServeHTTP(w, r)
	out := resp{status: w.Code, raw: w.Body.String(), header: w.Header()}
	_ = json.Unmarshal(w.Body.Bytes(), &out.body)
	for _, c := range w.Result().Cookies() {
		if c.Name == CookieName {
			out.cookie = c
		}
	}
	return out
}

func (f *fixture) rootLogin(password, ip string) resp {
	return f.do(http.MethodPost, "/signin/api/login", map[string]any{"email": testEmail, "password": password}, "", ip)
}

func (f *fixture) userLogin(account, user, password, ip string) resp {
	return f.do(http.MethodPost, "/signin/api/login", map[string]any{"account": account, "username": user, "password": password}, "", ip)
}

func TestRootLoginSessionAndExpiry(t *testing.T) {
	f := newFixture(t)
	r := f.rootLogin(rootPassword, "")
	if r.status != 200 || r.body["signedIn"] != true || r.cookie == nil {
		t.Fatalf("login: %d %s", r.status, r.raw)
	}
	c := r.cookie
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || c.Path != "/" || c.MaxAge != int(SessionLifetime/time.Second) {
		t.Fatalf("cookie attributes: %+v", c)
	}
	if r.body["principalArn"] != "arn:aws:iam::111122223333:root" || r.body["account"] != testAccount {
		t.Fatalf("login body: %s", r.raw)
	}
	acct, err := accounts.Get(context.Background(), f.st, testAccount)
	if err != nil || !acct.RootPasswordLastUsed.Equal(f.clock.Now()) {
		t.Fatalf("RootPasswordLastUsed = %v (%v)", acct.RootPasswordLastUsed, err)
	}

	s := f.do(http.MethodGet, "/signin/api/session", nil, c.Value, "")
	if s.status != 200 || s.body["principalArn"] != "arn:aws:iam::111122223333:root" || s.body["type"] != "Account" || s.body["mfa"] != false {
		t.Fatalf("session: %d %s", s.status, s.raw)
	}
	req := httptest.NewRequest(http.MethodGet, "/console", nil)
	req.AddCookie(&http.Cookie{Name: CookieName, Value: c.Value})
	p, err := f.svc.Authenticate(req)
	if err != nil || !p.IsRoot() || p.Account != testAccount || !p.Expiration.Equal(f.clock.Now().Add(SessionLifetime)) {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}

	f.clock.Advance(SessionLifetime - time.Second)
	if s := f.do(http.MethodGet, "/signin/api/session", nil, c.Value, ""); s.status != 200 {
		t.Fatalf("session just before expiry: %d", s.status)
	}
	f.clock.Advance(time.Second)
	if s := f.do(http.MethodGet, "/signin/api/session", nil, c.Value, ""); s.status != 401 {
		t.Fatalf("session at expiry: %d %s", s.status, s.raw)
	}
	if _, err := f.svc.Authenticate(req); err != ErrNoSession {
		t.Fatalf("Authenticate after expiry: %v", err)
	}
}

func TestSecureCookieBehindTLS(t *testing.T) {
	f := newFixture(t)
	r := httptest.NewRequest(http.MethodPost, "/signin/api/login", strings.NewReader(`{"email":"`+testEmail+`","password":"`+rootPassword+`"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Forwarded-Proto", "https")
	w := httptest.NewRecorder()
	f.svc.ServeHTTP(w, r)
	cs := w.Result().Cookies()
	if w.Code != 200 || len(cs) != 1 || !cs[0].Secure {
		t.Fatalf("%d %v", w.Code, cs)
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t)
	c := f.rootLogin(rootPassword, "").cookie.Value
	other := f.rootLogin(rootPassword, "").cookie.Value
	r := f.do(http.MethodPost, "/signin/api/logout", map[string]any{}, c, "")
	if r.status != 200 || r.cookie == nil || r.cookie.MaxAge >= 0 {
		t.Fatalf("logout: %d %+v", r.status, r.cookie)
	}
	if s := f.do(http.MethodGet, "/signin/api/session", nil, c, ""); s.status != 401 {
		t.Fatalf("session after logout: %d", s.status)
	}
	if s := f.do(http.MethodGet, "/signin/api/session", nil, other, ""); s.status != 200 {
		t.Fatalf("other session after logout: %d", s.status)
	}
	// Without a session, logout still answers 200.
	if r := f.do(http.MethodPost, "/signin/api/logout", map[string]any{}, "", ""); r.status != 200 {
		t.Fatalf("anonymous logout: %d", r.status)
	}
}

func TestUserLoginAndLastUsed(t *testing.T) {
	f := newFixture(t)
	f.user("Alice", false)
	f.iamCall("CreateAccountAlias", map[string]any{"AccountAlias": "acme-corp"})
	for _, acct := range []string{testAccount, "acme-corp"} {
		r := f.userLogin(acct, "alice", userPassword, "")
		if r.status != 200 || r.body["principalArn"] != "arn:aws:iam::111122223333:user/Alice" {
			t.Fatalf("login via %s: %d %s", acct, r.status, r.raw)
		}
		s := f.do(http.MethodGet, "/signin/api/session", nil, r.cookie.Value, "")
		if s.body["userName"] != "Alice" || s.body["type"] != "User" {
			t.Fatalf("session: %s", s.raw)
		}
	}
	out := f.iamCall("GetUser", map[string]any{"UserName": "Alice"})
	u := out["User"].(map[string]any)
	if got, _ := u["PasswordLastUsed"].(time.Time); !got.Equal(f.clock.Now()) {
		t.Fatalf("PasswordLastUsed = %v", u["PasswordLastUsed"])
	}
	// Deleting the user ends their sessions at once.
	c := f.userLogin(testAccount, "Alice", userPassword, "").cookie.Value
	f.iamCall("DeleteLoginProfile", map[string]any{"UserName": "Alice"})
	f.iamCall("DeleteUser", map[string]any{"UserName": "Alice"})
	if s := f.do(http.MethodGet, "/signin/api/session", nil, c, ""); s.status != 401 {
		t.Fatalf("session of a deleted user: %d", s.status)
	}
}

// TestFailuresLookAlike: unknown account, unknown user, user without a
// password, wrong password and unknown email all get the same answer.
func TestFailuresLookAlike(t *testing.T) {
	f := newFixture(t)
	f.user("alice", false)
	f.iamCall("CreateUser", map[string]any{"UserName": "nopassword"})
	var bodies []string
	for i, r := range []resp{
		f.userLogin("999999999999", "alice", userPassword, "198.51.100.1"),
		f.userLogin("no-such-alias", "alice", userPassword, "198.51.100.2"),
		f.userLogin(testAccount, "bob", userPassword, "198.51.100.3"),
		f.userLogin(testAccount, "nopassword", userPassword, "198.51.100.4"),
		f.userLogin(testAccount, "alice", "wrong", "198.51.100.5"),
		f.do(http.MethodPost, "/signin/api/login", map[string]any{"email": "nobody@example.com", "password": "x"}, "", "198.51.100.6"),
		f.rootLogin("wrong", "198.51.100.7"),
	} {
		if r.status != 401 || r.cookie != nil {
			t.Fatalf("case %d: %d %s", i, r.status, r.raw)
		}
		delete(r.body, "requestId")
		b, _ := json.Marshal(r.body)
		bodies = append(bodies, string(b))
	}
	for i := range bodies {
		if bodies[i] != bodies[0] {
			t.Fatalf("answers differ:\n%s\n%s", bodies[0], bodies[i])
		}
	}
}

func TestLoginThrottling(t *testing.T) {
	f := newFixture(t)
	f.user("alice", false)
	for i := range 5 {
		if r := f.userLogin(testAccount, "alice", "wrong", ""); r.status != 401 {
			t.Fatalf("attempt %d: %d", i, r.status)
		}
	}
	// Locked: even the right password is refused, with Retry-After.
	r := f.userLogin(testAccount, "ALICE", userPassword, "")
	if r.status != 429 || r.header.Get("Retry-After") != "900" || r.cookie != nil {
		t.Fatalf("locked: %d %s %v", r.status, r.raw, r.header)
	}
	// The lock is per identity: the alias names the same one.
	f.iamCall("CreateAccountAlias", map[string]any{"AccountAlias": "acme-corp"})
	if r := f.userLogin("acme-corp", "alice", userPassword, "203.0.113.9"); r.status != 429 {
		t.Fatalf("via alias: %d", r.status)
	}
	// Root is another identity.
	if r := f.rootLogin(rootPassword, ""); r.status != 200 {
		t.Fatalf("root while alice locked: %d", r.status)
	}
	f.clock.Advance(15 * time.Minute)
	if r := f.userLogin(testAccount, "alice", userPassword, ""); r.status != 200 {
		t.Fatalf("after lockout: %d %s", r.status, r.raw)
	}

	// Unknown users lock the same way.
	for range 5 {
		f.userLogin(testAccount, "ghost", "x", "198.51.100.50")
	}
	if r := f.userLogin(testAccount, "ghost", "x", "198.51.100.50"); r.status != 429 {
		t.Fatalf("unknown user not locked: %d", r.status)
	}
}

func TestSourceIPThrottling(t *testing.T) {
	f := newFixture(t)
	f.user("alice", false)
	const ip = "203.0.113.7"
	// Spraying: one wrong password each for 20 different names.
	for i := range 20 {
		if r := f.userLogin(testAccount, fmt.Sprintf("user%d", i), "x", ip); r.status != 401 {
			t.Fatalf("attempt %d: %d", i, r.status)
		}
	}
	if r := f.userLogin(testAccount, "alice", userPassword, ip); r.status != 429 {
		t.Fatalf("address not locked: %d", r.status)
	}
	if r := f.userLogin(testAccount, "alice", userPassword, "203.0.113.8"); r.status != 200 {
		t.Fatalf("other address: %d", r.status)
	}
}

func TestPasswordChangeRequired(t *testing.T) {
	f := newFixture(t)
	f.user("carol", true)
	r := f.userLogin(testAccount, "carol", userPassword, "")
	tok, _ := r.body["changeToken"].(string)
	if r.status != 200 || r.body["passwordChangeRequired"] != true || tok == "" || r.cookie != nil {
		t.Fatalf("login: %d %s", r.status, r.raw)
	}
	change := func(token, oldPW, newPW string) resp {
		return f.do(http.MethodPost, "/signin/api/password", map[string]any{"changeToken": token, "oldPassword": oldPW, "newPassword": newPW}, "", "")
	}
	if r := change("bogus", userPassword, "New-Password-2"); r.status != 401 {
		t.Fatalf("bogus token: %d", r.status)
	}
	if r := change(tok, "wrong", "New-Password-2"); r.status != 401 {
		t.Fatalf("wrong old password: %d %s", r.status, r.raw)
	}
	if r := change(tok, userPassword, "short"); r.status != 400 || r.body["error"] != "PasswordPolicyViolation" {
		t.Fatalf("weak password: %d %s", r.status, r.raw)
	}
	r = change(tok, userPassword, "New-Password-2")
	if r.status != 200 || r.body["signedIn"] != true || r.cookie == nil {
		t.Fatalf("change: %d %s", r.status, r.raw)
	}
	if r := change(tok, "New-Password-2", "New-Password-3"); r.status != 401 {
		t.Fatalf("change token replayed: %d", r.status)
	}
	if r := f.userLogin(testAccount, "carol", "New-Password-2", ""); r.status != 200 || r.body["signedIn"] != true {
		t.Fatalf("login with the new password: %d %s", r.status, r.raw)
	}

	// A change token expires.
	f.iamCall("UpdateLoginProfile", map[string]any{"UserName": "carol", "PasswordResetRequired": true})
	tok = f.userLogin(testAccount, "carol", "New-Password-2", "").body["changeToken"].(string)
	f.clock.Advance(ChangeTokenLifetime)
	if r := change(tok, "New-Password-2", "New-Password-3"); r.status != 401 {
		t.Fatalf("expired change token: %d", r.status)
	}
}

func TestUserPasswordChangeSignedIn(t *testing.T) {
	f := newFixture(t)
	f.user("dave", false)
	c := f.userLogin(testAccount, "dave", userPassword, "").cookie.Value
	r := f.do(http.MethodPost, "/signin/api/password", map[string]any{"oldPassword": userPassword, "newPassword": "Dave-Password-9"}, c, "")
	if r.status != 200 || r.body["passwordChanged"] != true {
		t.Fatalf("change: %d %s", r.status, r.raw)
	}
	if r := f.userLogin(testAccount, "dave", "Dave-Password-9", ""); r.status != 200 {
		t.Fatalf("new password: %d", r.status)
	}
	root := f.rootLogin(rootPassword, "").cookie.Value
	if r := f.do(http.MethodPost, "/signin/api/password", map[string]any{"oldPassword": rootPassword, "newPassword": "Other-Password-1"}, root, ""); r.status != 400 {
		t.Fatalf("root on the IAM user endpoint: %d", r.status)
	}
}

// denyAll refuses every authorization.
type denyAll struct{}

func (denyAll) Authorize(context.Context, *service.Call, *awsproto.Operation, map[string]any) error {
	return &apierr.Error{Code: "AccessDenied", Message: "denied", Status: 403}
}

func TestUserPasswordChangeNeedsPermission(t *testing.T) {
	f := newFixture(t)
	f.svc.Authz = denyAll{}
	f.user("erin", false)
	c := f.userLogin(testAccount, "erin", userPassword, "").cookie.Value
	body := map[string]any{"oldPassword": userPassword, "newPassword": "Erin-Password-9"}
	if r := f.do(http.MethodPost, "/signin/api/password", body, c, ""); r.status != 403 || r.body["error"] != "AccessDenied" {
		t.Fatalf("without permission: %d %s", r.status, r.raw)
	}
	// AllowUsersToChangePassword lets every user change their own.
	f.iamCall("UpdateAccountPasswordPolicy", map[string]any{"AllowUsersToChangePassword": true, "MinimumPasswordLength": int64(8)})
	if r := f.do(http.MethodPost, "/signin/api/password", body, c, ""); r.status != 200 {
		t.Fatalf("with AllowUsersToChangePassword: %d %s", r.status, r.raw)
	}
}

func TestRootPasswordChange(t *testing.T) {
	f := newFixture(t)
	c := f.rootLogin(rootPassword, "").cookie.Value
	other := f.rootLogin(rootPassword, "").cookie.Value
	change := func(oldPW, newPW string) resp {
		return f.do(http.MethodPost, "/signin/api/root/password", map[string]any{"oldPassword": oldPW, "newPassword": newPW}, c, "")
	}
	if r := change("wrong", "Brand-New-Pass-1"); r.status != 401 {
		t.Fatalf("wrong old: %d", r.status)
	}
	for _, weak := range []string{"short1A", "alllowercase1", testEmail, strings.Repeat("Aa1!", 33)} {
		if r := change(rootPassword, weak); r.status != 400 || r.body["error"] != "PasswordPolicyViolation" {
			t.Fatalf("weak %q: %d %s", weak, r.status, r.raw)
		}
	}
	if r := change(rootPassword, "Brand-New-Pass-1"); r.status != 200 {
		t.Fatalf("change: %d %s", r.status, r.raw)
	}
	if s := f.do(http.MethodGet, "/signin/api/session", nil, c, ""); s.status != 200 {
		t.Fatalf("own session ended: %d", s.status)
	}
	if s := f.do(http.MethodGet, "/signin/api/session", nil, other, ""); s.status != 401 {
		t.Fatalf("other root session survived: %d", s.status)
	}
	if r := f.rootLogin(rootPassword, ""); r.status != 401 {
		t.Fatalf("old password still works: %d", r.status)
	}
	if r := f.rootLogin("Brand-New-Pass-1", ""); r.status != 200 {
		t.Fatalf("new password: %d", r.status)
	}
	f.user("frank", false)
	u := f.userLogin(testAccount, "frank", userPassword, "").cookie.Value
	if r := f.do(http.MethodPost, "/signin/api/root/password", map[string]any{"oldPassword": userPassword, "newPassword": "Brand-New-Pass-2"}, u, ""); r.status != 403 {
		t.Fatalf("IAM user on the root endpoint: %d", r.status)
	}
}

var linkToken = regexp.MustCompile(`https://iamd\.example/signin/reset\?token=([A-Za-z0-9_%-]+)`)

func (f *fixture) forgot(email string) resp {
	r := f.do(http.MethodPost, "/signin/api/root/forgot", map[string]any{"email": email}, "", "")
	f.svc.Wait()
	return r
}

func (f *fixture) lastToken() string {
	f.t.Helper()
	msgs := f.mail.all()
	if len(msgs) == 0 {
		f.t.Fatal("no mail sent")
	}
	m := linkToken.FindStringSubmatch(msgs[len(msgs)-1].Body)
	if m == nil {
		f.t.Fatalf("no link in %q", msgs[len(msgs)-1].Body)
	}
	tok, err := url.QueryUnescape(m[1])
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

func TestForgotAndReset(t *testing.T) {
	f := newFixture(t)
	known := f.forgot("Root@Example.com")
	unknown := f.forgot("nobody@example.com")
	delete(known.body, "requestId")
	delete(unknown.body, "requestId")
	if known.status != 200 || unknown.status != 200 || known.raw[:40] != unknown.raw[:40] {
		t.Fatalf("answers differ: %s / %s", known.raw, unknown.raw)
	}
	msgs := f.mail.all()
	if len(msgs) != 1 || msgs[0].To[0] != testEmail {
		t.Fatalf("mail: %+v", msgs)
	}
	tok := f.lastToken()
	session := f.rootLogin(rootPassword, "").cookie.Value

	reset := func(token, pw string) resp {
		return f.do(http.MethodPost, "/signin/api/root/reset", map[string]any{"token": token, "newPassword": pw}, "", "")
	}
	if r := reset("not-a-token", "Recovered-Pass-1"); r.status != 400 || r.body["error"] != "InvalidToken" {
		t.Fatalf("bogus token: %d %s", r.status, r.raw)
	}
	if r := reset(tok, "weak"); r.status != 400 || r.body["error"] != "PasswordPolicyViolation" {
		t.Fatalf("weak: %d %s", r.status, r.raw)
	}
	if r := reset(tok, "Recovered-Pass-1"); r.status != 200 {
		t.Fatalf("reset: %d %s", r.status, r.raw)
	}
	if r := reset(tok, "Recovered-Pass-2"); r.status != 400 || r.body["error"] != "InvalidToken" {
		t.Fatalf("replayed token: %d %s", r.status, r.raw)
	}
	if s := f.do(http.MethodGet, "/signin/api/session", nil, session, ""); s.status != 401 {
		t.Fatalf("root session survived the reset: %d", s.status)
	}
	if r := f.rootLogin("Recovered-Pass-1", ""); r.status != 200 {
		t.Fatalf("login with reset password: %d", r.status)
	}

	// Expiry: a link is good for an hour.
	f.forgot(testEmail)
	tok = f.lastToken()
	f.clock.Advance(ResetTokenLifetime)
	if r := reset(tok, "Recovered-Pass-3"); r.status != 400 || r.body["error"] != "InvalidToken" {
		t.Fatalf("expired token: %d %s", r.status, r.raw)
	}
}

func TestResetUnlocksAndSupersedes(t *testing.T) {
	f := newFixture(t)
	for range 5 {
		f.rootLogin("wrong", "")
	}
	if r := f.rootLogin(rootPassword, "198.51.100.77"); r.status != 429 {
		t.Fatalf("not locked: %d", r.status)
	}
	f.forgot(testEmail)
	first := f.lastToken()
	f.forgot(testEmail)
	second := f.lastToken()
	r := f.do(http.MethodPost, "/signin/api/root/reset", map[string]any{"token": second, "newPassword": "Recovered-Pass-1"}, "", "")
	if r.status != 200 {
		t.Fatalf("reset: %d %s", r.status, r.raw)
	}
	// Every other outstanding link dies with the reset.
	r = f.do(http.MethodPost, "/signin/api/root/reset", map[string]any{"token": first, "newPassword": "Recovered-Pass-2"}, "", "")
	if r.status != 400 {
		t.Fatalf("older link after reset: %d", r.status)
	}
	if r := f.rootLogin("Recovered-Pass-1", "198.51.100.77"); r.status != 200 {
		t.Fatalf("still locked after reset: %d %s", r.status, r.raw)
	}
}

func TestRecoveryMailLimit(t *testing.T) {
	f := newFixture(t)
	for range 5 {
		if r := f.forgot(testEmail); r.status != 200 {
			t.Fatalf("forgot: %d", r.status)
		}
	}
	if n := len(f.mail.all()); n != 3 {
		t.Fatalf("%d mails, want 3 per hour", n)
	}
	f.clock.Advance(time.Hour)
	f.forgot(testEmail)
	if n := len(f.mail.all()); n != 4 {
		t.Fatalf("%d mails after an hour, want 4", n)
	}
}

func TestRequestShape(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		method, path, ctype, body string
		want                      int
	}{
		{"GET", "/signin/api/login", "", "", 405},
		{"POST", "/signin/api/nope", "application/json", "{}", 404},
		{"POST", "/signin/api/login", "text/plain", `{"email":"a@b.cd","password":"x"}`, 415},
		{"POST", "/signin/api/login", "application/x-www-form-urlencoded", "email=a", 415},
		{"POST", "/signin/api/login", "application/json", "{", 400},
		{"POST", "/signin/api/login", "application/json", `{"password":"x"}`, 400},
		{"POST", "/signin/api/login", "application/json", `{"email":"a@b.cd"}`, 400},
		{"POST", "/signin/api/login", "application/json", `{} {}`, 400},
		{"POST", "/signin/api/root/forgot", "application/json", `{"email":"not-an-address"}`, 400},
		{"GET", "/signin/api/session", "", "", 401},
		{"POST", "/signin/api/root/password", "application/json; charset=utf-8", `{"oldPassword":"a","newPassword":"b"}`, 401},
	} {
		r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		if tc.ctype != "" {
			r.Header.Set("Content-Type", tc.ctype)
		}
		w := httptest.NewRecorder()
		f.svc.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%s %s (%s %q) = %d %s, want %d", tc.method, tc.path, tc.ctype, tc.body, w.Code, w.Body, tc.want)
		}
		if w.Header().Get("x-amzn-RequestId") == "" || w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: headers %v", tc.method, tc.path, w.Header())
		}
	}
}

// TestLogsHoldNoSecrets runs every flow and checks that no password, token
// or cookie value reached the log, while decisions did.
func TestLogsHoldNoSecrets(t *testing.T) {
	f := newFixture(t)
	f.user("carol", true)
	secretsSeen := []string{rootPassword, userPassword, "Wrong-Guess-77", "New-Password-5", "Recovered-Pass-9", "Changed-Root-4"}
	f.rootLogin("Wrong-Guess-77", "")
	c := f.rootLogin(rootPassword, "").cookie.Value
	secretsSeen = append(secretsSeen, c)
	r := f.userLogin(testAccount, "carol", userPassword, "")
	tok := r.body["changeToken"].(string)
	secretsSeen = append(secretsSeen, tok)
	r = f.do(http.MethodPost, "/signin/api/password", map[string]any{"changeToken": tok, "oldPassword": userPassword, "newPassword": "New-Password-5"}, "", "")
	secretsSeen = append(secretsSeen, r.cookie.Value)
	f.do(http.MethodPost, "/signin/api/root/password", map[string]any{"oldPassword": rootPassword, "newPassword": "Changed-Root-4"}, c, "")
	f.forgot(testEmail)
	reset := f.lastToken()
	secretsSeen = append(secretsSeen, reset, hashToken(reset), hashToken(c))
	f.do(http.MethodPost, "/signin/api/root/reset", map[string]any{"token": reset, "newPassword": "Recovered-Pass-9"}, "", "")

	logged := f.log.String()
	for _, want := range []string{"event=login", "outcome=failure", "outcome=success", "event=root_reset", "event=root_forgot", "outcome=mail_sent", "event=change_password", "request_id="} {
		if !strings.Contains(logged, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	for _, s := range secretsSeen {
		if strings.Contains(logged, s) {
			t.Errorf("log contains a secret %q", s)
		}
	}
}

func TestSweepRemovesExpired(t *testing.T) {
	f := newFixture(t)
	for range 3 {
		f.rootLogin(rootPassword, "")
	}
	ctx := context.Background()
	count := func() int {
		n, err := f.st.Count(ctx, store.ListQuery{Account: store.GlobalAccount, Kind: kindSession})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 3 {
		t.Fatalf("%d sessions", n)
	}
	f.clock.Advance(SessionLifetime)
	f.rootLogin(rootPassword, "") // sweeps the three expired ones
	if n := count(); n != 1 {
		t.Fatalf("%d sessions after sweep, want 1", n)
	}
}
