package signin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/secrets"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/service/iam"
	"github.com/iamd/iamd/internal/store"
)

// ErrNoSession is Authenticate's answer to a request without a valid
// console session.
var ErrNoSession = errors.New("signin: no valid console session")

// msgAuthFailed never says which of account, user, password or code was
// wrong.
const msgAuthFailed = "Your authentication information is incorrect. Please try again."

// sessionRecord is a stored console session (or, with Expires unused, the
// identity a password-change token stands for).
type sessionRecord struct {
	Account   string    `json:"account"`
	Partition string    `json:"partition"`
	User      string    `json:"user,omitempty"` // "" for the root user
	MFA       bool      `json:"mfa,omitempty"`
	MFAAt     time.Time `json:"mfaAt,omitzero"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`
}

// principalKey names a principal in Parent indexes and counters.
func principalKey(account, user string) string {
	if user == "" {
		return account + "|#root"
	}
	return account + "|user/" + strings.ToLower(user)
}

// identity is a resolved, password-verified principal during sign-in.
type identity struct {
	acct *accounts.Account
	user *iam.User // nil for root
}

func (id *identity) userName() string {
	if id.user == nil {
		return ""
	}
	return id.user.Name
}

func (id *identity) arn() string {
	if id.user == nil {
		return arn.IAM(id.acct.Partition, id.acct.ID, "root")
	}
	return id.user.ARN
}

type loginRequest struct {
	Account   string `json:"account"`
	Username  string `json:"username"`
	Email     string `json:"email"`
	Password  string `json:"password"`
	MFACode   string `json:"mfaCode"`
	MFASerial string `json:"mfaSerial"`
}

// loginResponse is every successful or half-way answer of login.
type loginResponse struct {
	SignedIn               bool      `json:"signedIn,omitempty"`
	MFARequired            bool      `json:"mfaRequired,omitempty"`
	MFADevices             []string  `json:"mfaDevices,omitempty"`
	PasswordChangeRequired bool      `json:"passwordChangeRequired,omitempty"`
	ChangeToken            string    `json:"changeToken,omitempty"`
	PrincipalARN           string    `json:"principalArn,omitempty"`
	Account                string    `json:"account,omitempty"`
	MFA                    bool      `json:"mfa,omitempty"`
	Expires                time.Time `json:"expires,omitzero"`
}

func (s *Service) login(q *request) {
	var in loginRequest
	if !s.decode(q, &in) {
		return
	}
	ctx := q.ctx()
	root := in.Email != ""
	if !root && (in.Account == "" || in.Username == "") {
		s.fail(q, http.StatusBadRequest, "InvalidRequest", "Give email and password (root user), or account, username and password (IAM user).")
		return
	}
	if in.Password == "" {
		s.fail(q, http.StatusBadRequest, "InvalidRequest", "A password is required.")
		return
	}
	claimed, subject, acct, err := s.claim(ctx, &in)
	if err != nil {
		s.internal(q, "login", err)
		return
	}
	if wait, err := s.lockedOut(ctx, q, subject); err != nil {
		s.internal(q, "login", err)
		return
	} else if wait > 0 {
		s.logDecision(q, "login", "throttled", claimed)
		s.throttled(q, wait)
		return
	}

	id, resetRequired, expired, err := s.checkPassword(ctx, q, &in, acct)
	if err != nil {
		s.internal(q, "login", err)
		return
	}
	if id == nil {
		s.loginFailed(q, "login", "bad_credentials", claimed, subject)
		return
	}

	mfa, mfaAt := false, time.Time{}
	has, err := s.IAM.HasMFA(ctx, id.acct.ID, id.userName())
	if err != nil {
		s.internal(q, "login", err)
		return
	}
	if has {
		serials, err := s.mfaSerials(ctx, q, id)
		if err != nil {
			s.internal(q, "login", err)
			return
		}
		serial := in.MFASerial
		if serial == "" && len(serials) == 1 {
			serial = serials[0]
		}
		if in.MFACode == "" || serial == "" {
			s.logDecision(q, "login", "mfa_required", id.arn())
			s.reply(q, http.StatusOK, loginResponse{MFARequired: true, MFADevices: serials})
			return
		}
		if !slices.Contains(serials, serial) {
			s.loginFailed(q, "login", "bad_mfa_device", id.arn(), subject)
			return
		}
		err = s.IAM.VerifyMFACode(ctx, id.acct.ID, serial, id.userName(), in.MFACode, q.now)
		var ae *apierr.Error
		if errors.As(err, &ae) {
			s.loginFailed(q, "login", "bad_mfa_code", id.arn(), subject)
			return
		}
		if err != nil {
			s.internal(q, "login", err)
			return
		}
		mfa, mfaAt = true, q.now
	}

	if id.user != nil && expired {
		pol, err := iam.LookupPasswordPolicy(ctx, s.Store, id.acct.ID)
		if err != nil {
			s.internal(q, "login", err)
			return
		}
		if pol != nil && pol.HardExpiry != nil && *pol.HardExpiry {
			// HardExpiry: only an administrator can set a new password
			// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAccountPasswordPolicy.html).
			s.logDecision(q, "login", "password_expired_hard", id.arn())
			s.fail(q, http.StatusForbidden, "PasswordExpired", "Your password has expired. Ask your administrator to reset it.")
			return
		}
	}
	rec := sessionRecord{Account: id.acct.ID, Partition: id.acct.Partition, User: id.userName(), MFA: mfa, MFAAt: mfaAt, Created: q.now}
	if id.user != nil && (resetRequired || expired) {
		token := secrets.RandomToken(tokenBytes)
		rec.Expires = q.now.Add(ChangeTokenLifetime)
		err := s.Store.WithTx(ctx, func(tx store.Tx) error {
			if err := s.succeeded(ctx, tx, q, id, subject); err != nil {
				return err
			}
			if err := sweep(ctx, tx, kindChange, q.now); err != nil {
				return err
			}
			return put(ctx, tx, kindChange, hashToken(token), principalKey(id.acct.ID, id.userName()), rec.Expires, q.now, &rec)
		})
		if err != nil {
			s.internal(q, "login", err)
			return
		}
		s.logDecision(q, "login", "password_change_required", id.arn(), "mfa", mfa)
		s.reply(q, http.StatusOK, loginResponse{PasswordChangeRequired: true, ChangeToken: token})
		return
	}
	token, err := s.startSession(ctx, q, &rec, func(tx store.Tx) error { return s.succeeded(ctx, tx, q, id, subject) })
	if err != nil {
		s.internal(q, "login", err)
		return
	}
	s.setCookie(q, token, rec.Expires)
	s.logDecision(q, "login", "success", id.arn(), "mfa", mfa)
	s.reply(q, http.StatusOK, loginResponse{SignedIn: true, PrincipalARN: id.arn(), Account: id.acct.ID, MFA: mfa, Expires: rec.Expires})
}

// claim resolves the account a sign-in names (nil when unknown) and the
// counter subject of the claimed identity. Subjects use the resolved
// account id, so alternating alias and id does not double the allowance.
func (s *Service) claim(ctx context.Context, in *loginRequest) (claimed, subject string, acct *accounts.Account, err error) {
	if in.Email != "" {
		email := strings.ToLower(in.Email)
		acct, err = accounts.ByEmail(ctx, s.Store, email)
		if isAPIError(err) {
			acct, err = nil, nil
		}
		return "root:" + email, "p|root|" + email, acct, err
	}
	acctID := in.Account
	if !isAccountID(acctID) {
		id, err := iam.AccountForAlias(ctx, s.Store, in.Account)
		switch {
		case isAPIError(err):
			acctID = ""
		case err != nil:
			return "", "", nil, err
		default:
			acctID = id
		}
	}
	if acctID != "" {
		acct, err = accounts.Get(ctx, s.Store, acctID)
		if isAPIError(err) {
			acct, err = nil, nil
		}
		if err != nil {
			return "", "", nil, err
		}
	}
	who := strings.ToLower(in.Account)
	if acct != nil {
		who = acct.ID
	}
	user := strings.ToLower(in.Username)
	return "user:" + who + "/" + in.Username, "p|" + who + "|" + user, acct, nil
}

// checkPassword verifies the password; nil identity means "refused". Every
// refusal costs one password hash verification, like a wrong password, so
// timing does not reveal which accounts and users exist.
func (s *Service) checkPassword(ctx context.Context, q *request, in *loginRequest, acct *accounts.Account) (id *identity, resetRequired, expired bool, err error) {
	if in.Email != "" {
		if acct == nil || acct.RootPassword == "" {
			s.burn(in.Password)
			return nil, false, false, nil
		}
		// Root may sign in to a suspended (closed) account: that is how
		// it is reopened within the post-closure period.
		ok, _, err := secrets.VerifyPassword(acct.RootPassword, in.Password)
		if err != nil || !ok {
			return nil, false, false, err
		}
		return &identity{acct: acct}, false, false, nil
	}
	if acct == nil || acct.Status != accounts.Active {
		s.burn(in.Password)
		return nil, false, false, nil
	}
	ok, resetRequired, expired, err := s.IAM.CheckUserPassword(ctx, acct.ID, in.Username, in.Password, q.now)
	if err != nil || !ok {
		return nil, false, false, err
	}
	u, err := iam.LookupUser(ctx, s.Store, acct.ID, in.Username)
	if isAPIError(err) { // deleted between the two reads
		return nil, false, false, nil
	}
	if err != nil {
		return nil, false, false, err
	}
	return &identity{acct: acct, user: u}, resetRequired, expired, nil
}

// burn spends one password verification on nothing.
func (s *Service) burn(password string) {
	_, _, _ = secrets.VerifyPassword(s.dummyHash, password)
}

// mfaSerials lists the principal's assigned MFA devices through IAM's own
// ListMFADevices, called as that principal.
func (s *Service) mfaSerials(ctx context.Context, q *request, id *identity) ([]string, error) {
	h := s.Registry.Lookup("iam", "ListMFADevices")
	if h == nil {
		return nil, errors.New("signin: iam:ListMFADevices is not registered")
	}
	in := map[string]any{}
	if id.user != nil {
		in["UserName"] = id.user.Name
	}
	var serials []string
	for {
		out, err := h(ctx, s.call(q, id, "ListMFADevices"), in)
		if err != nil {
			return nil, fmt.Errorf("signin: list MFA devices: %w", err)
		}
		devs, _ := out["MFADevices"].([]any)
		for _, d := range devs {
			if m, ok := d.(map[string]any); ok {
				if sn, ok := m["SerialNumber"].(string); ok {
					serials = append(serials, sn)
				}
			}
		}
		marker, _ := out["Marker"].(string)
		if truncated, _ := out["IsTruncated"].(bool); !truncated || marker == "" {
			return serials, nil
		}
		in["Marker"] = marker
	}
}

// call is an internal IAM call made on behalf of id.
func (s *Service) call(q *request, id *identity, op string) *service.Call {
	return &service.Call{
		RequestID: q.id, Service: "iam", Operation: op, Region: s.Region, Partition: id.acct.Partition,
		Account: id.acct.ID, Principal: id.principal(), Now: q.now, SourceIP: q.ip, UserAgent: q.r.UserAgent(), Secure: q.secure,
	}
}

func (id *identity) principal() *principal.Principal {
	if id.user == nil {
		return &principal.Principal{Type: principal.Root, Partition: id.acct.Partition, Account: id.acct.ID, ARN: id.arn(), UserID: id.acct.ID}
	}
	u := id.user
	return &principal.Principal{Type: principal.User, Partition: id.acct.Partition, Account: id.acct.ID, ARN: u.ARN, UserID: u.ID, Name: u.Name, Path: u.Path}
}

// lockedOut reports how long the claimed identity or the source address
// must still wait (0: not locked).
func (s *Service) lockedOut(ctx context.Context, q *request, subject string) (time.Duration, error) {
	var wait time.Duration
	for _, sub := range []string{subject, ipSubject(q)} {
		var c Counter
		_, ok, err := getLive(ctx, s.Store, kindCounter, sub, q.now, &c)
		if err != nil {
			return 0, err
		}
		if ok {
			if locked, d := c.Locked(q.now); locked && d > wait {
				wait = d
			}
		}
	}
	return wait, nil
}

func ipSubject(q *request) string { return "ip|" + q.ip.String() }

// countFailure adds one failure to subject's counter under l.
func countFailure(ctx context.Context, tx store.Tx, subject string, l Limit, now time.Time) (bool, error) {
	var c Counter
	if _, _, err := getLive(ctx, tx, kindCounter, subject, now, &c); err != nil {
		return false, err
	}
	locked := c.Fail(l, now)
	return locked, put(ctx, tx, kindCounter, subject, "", c.Expires(l), now, &c)
}

// loginFailed counts the failure against the claimed identity and the
// source address, logs it and answers 401.
func (s *Service) loginFailed(q *request, event, reason, claimed, subject string) {
	ctx := q.ctx()
	var lockedP, lockedIP bool
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		var err error
		if lockedP, err = countFailure(ctx, tx, subject, s.Limits.Principal, q.now); err != nil {
			return err
		}
		if lockedIP, err = countFailure(ctx, tx, ipSubject(q), s.Limits.SourceIP, q.now); err != nil {
			return err
		}
		return sweep(ctx, tx, kindCounter, q.now)
	})
	if err != nil {
		s.internal(q, event, err)
		return
	}
	s.logDecision(q, event, "failure", claimed, "reason", reason, "locked_principal", lockedP, "locked_source_ip", lockedIP)
	s.fail(q, http.StatusUnauthorized, "AuthenticationFailed", msgAuthFailed)
}

// succeeded runs in the sign-in transaction: it clears the identity's
// failure count and records when the password was last used.
func (s *Service) succeeded(ctx context.Context, tx store.Tx, q *request, id *identity, subject string) error {
	if err := deleteID(ctx, tx, kindCounter, subject); err != nil {
		return err
	}
	if id.user == nil {
		a, err := accounts.Get(ctx, tx, id.acct.ID)
		if err != nil {
			return err
		}
		a.RootPasswordLastUsed = q.now.UTC().Truncate(time.Second)
		return accounts.Update(ctx, tx, a)
	}
	return recordUserPasswordUse(ctx, tx, id.acct.ID, id.user.Name, q.now)
}

// recordUserPasswordUse sets the IAM user's PasswordLastUsed. IAM exports
// no setter, so the user document is edited in place, keeping every field
// this package does not know; GetUser reads the same field (pwLastUsed),
// which the end-to-end test checks.
func recordUserPasswordUse(ctx context.Context, tx store.Tx, account, userName string, at time.Time) error {
	rec, err := tx.Get(ctx, account, "user", strings.ToLower(userName))
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted meanwhile: nothing to record
	}
	if err != nil {
		return fmt.Errorf("signin: read user: %w", err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(rec.Data, &doc); err != nil {
		return fmt.Errorf("signin: decode user: %w", err)
	}
	ts, err := json.Marshal(at.UTC().Truncate(time.Second))
	if err != nil {
		return err
	}
	doc["pwLastUsed"] = ts
	if rec.Data, err = json.Marshal(doc); err != nil {
		return err
	}
	if err := tx.Update(ctx, rec); err != nil {
		return fmt.Errorf("signin: update user: %w", err)
	}
	return nil
}

// startSession stores a new session for rec (setting Created and Expires)
// in one transaction with extra, and returns its token.
func (s *Service) startSession(ctx context.Context, q *request, rec *sessionRecord, extra func(tx store.Tx) error) (string, error) {
	token := secrets.RandomToken(tokenBytes)
	rec.Created, rec.Expires = q.now, q.now.Add(SessionLifetime)
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		if extra != nil {
			if err := extra(tx); err != nil {
				return err
			}
		}
		if err := sweep(ctx, tx, kindSession, q.now); err != nil {
			return err
		}
		return put(ctx, tx, kindSession, hashToken(token), principalKey(rec.Account, rec.User), rec.Expires, q.now, rec)
	})
	return token, err
}

func (s *Service) setCookie(q *request, token string, expires time.Time) {
	http.SetCookie(q.w, &http.Cookie{
		Name: CookieName, Value: token, Path: "/", Expires: expires, MaxAge: int(expires.Sub(q.now) / time.Second),
		HttpOnly: true, Secure: q.secure, SameSite: http.SameSiteStrictMode,
	})
}

func (s *Service) clearCookie(q *request) {
	http.SetCookie(q.w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: q.secure, SameSite: http.SameSiteStrictMode})
}

// Authenticate returns the principal of r's console session, or
// ErrNoSession. The principal must still exist: a deleted user's or
// account's sessions stop working at once.
func (s *Service) Authenticate(r *http.Request) (*principal.Principal, error) {
	p, _, _, err := s.sessionOf(r.Context(), r, s.Now())
	return p, err
}

// sessionOf resolves r's session cookie.
func (s *Service) sessionOf(ctx context.Context, r *http.Request, now time.Time) (*principal.Principal, *sessionRecord, string, error) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return nil, nil, "", ErrNoSession
	}
	hash := hashToken(c.Value)
	var rec sessionRecord
	_, ok, err := getLive(ctx, s.Store, kindSession, hash, now, &rec)
	if err != nil {
		return nil, nil, "", err
	}
	if !ok {
		return nil, nil, "", ErrNoSession
	}
	id, err := s.identityOf(ctx, &rec)
	if err != nil {
		return nil, nil, "", err
	}
	p := id.principal()
	p.TokenIssueTime, p.Expiration, p.MFAAuthTime = rec.Created, rec.Expires, rec.MFAAt
	return p, &rec, hash, nil
}

// identityOf loads the principal a stored session or token names;
// ErrNoSession when it no longer exists.
func (s *Service) identityOf(ctx context.Context, rec *sessionRecord) (*identity, error) {
	acct, err := accounts.Get(ctx, s.Store, rec.Account)
	if isAPIError(err) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	id := &identity{acct: acct}
	if rec.User == "" {
		return id, nil
	}
	if acct.Status != accounts.Active {
		return nil, ErrNoSession
	}
	if id.user, err = iam.LookupUser(ctx, s.Store, acct.ID, rec.User); isAPIError(err) {
		return nil, ErrNoSession
	}
	return id, err
}

func (s *Service) logout(q *request) {
	ctx := q.ctx()
	p, _, hash, err := s.sessionOf(ctx, q.r, q.now)
	switch {
	case errors.Is(err, ErrNoSession):
	case err != nil:
		s.internal(q, "logout", err)
		return
	default:
		if err := s.Store.WithTx(ctx, func(tx store.Tx) error { return deleteID(ctx, tx, kindSession, hash) }); err != nil {
			s.internal(q, "logout", err)
			return
		}
		s.logDecision(q, "logout", "success", p.ARN)
	}
	s.clearCookie(q)
	s.reply(q, http.StatusOK, map[string]any{"signedOut": true})
}

// sessionResponse answers "who am I".
type sessionResponse struct {
	PrincipalARN string    `json:"principalArn"`
	Type         string    `json:"type"`
	Account      string    `json:"account"`
	UserName     string    `json:"userName,omitempty"`
	UserID       string    `json:"userId"`
	MFA          bool      `json:"mfa"`
	Issued       time.Time `json:"issued"`
	Expires      time.Time `json:"expires"`
}

func (s *Service) session(q *request) {
	p, rec, _, err := s.sessionOf(q.ctx(), q.r, q.now)
	if errors.Is(err, ErrNoSession) {
		s.fail(q, http.StatusUnauthorized, "NotSignedIn", "No valid console session.")
		return
	}
	if err != nil {
		s.internal(q, "session", err)
		return
	}
	s.reply(q, http.StatusOK, sessionResponse{
		PrincipalARN: p.ARN, Type: string(p.Type), Account: p.Account, UserName: p.Name, UserID: p.UserID,
		MFA: rec.MFA, Issued: rec.Created, Expires: rec.Expires,
	})
}

func isAccountID(s string) bool {
	return len(s) == 12 && strings.Trim(s, "0123456789") == ""
}

// isAPIError reports a domain answer (not found...) rather than a failure.
func isAPIError(err error) bool {
	var ae *apierr.Error
	return errors.As(err, &ae)
}
