package signin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
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
)

// maxPasswordLen is the longest password AWS accepts, for IAM users
// (ChangePassword's NewPassword) and the root user alike.
const maxPasswordLen = 128

// CheckRootPassword applies AWS's rules for a root user password: 8 to
// 128 characters, at least three of uppercase letters, lowercase letters,
// numbers and symbols, and not the account's email address or name
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/root-user-password.html,
// rules as in the default policy of
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_account-policy.html).
func CheckRootPassword(password, email, accountName string) error {
	if len([]rune(password)) > maxPasswordLen {
		return apierr.New("PasswordPolicyViolation", "Password should have at most %d characters.", maxPasswordLen)
	}
	return iam.ValidatePassword(nil, password, email, accountName)
}

// validPasswordChars is ChangePassword's NewPassword pattern
// [\u0009\u000A\u000D\u0020-\u00FF]+, which the AWS edge would check.
func validPasswordChars(pw string) bool {
	if pw == "" || len([]rune(pw)) > maxPasswordLen {
		return false
	}
	for _, r := range pw {
		if r != '\t' && r != '\n' && r != '\r' && (r < 0x20 || r > 0xFF) {
			return false
		}
	}
	return true
}

type changeRequest struct {
	ChangeToken string `json:"changeToken"`
	OldPassword string `json:"oldPassword"`
	NewPassword string `json:"newPassword"`
}

// changeUserPassword is an IAM user's password change from the console:
// either signed in, or with the change token a sign-in that required a new
// password handed out. It runs IAM's own ChangePassword, authorized as
// the API would authorize it.
func (s *Service) changeUserPassword(q *request) {
	var in changeRequest
	if !s.decode(q, &in) {
		return
	}
	ctx := q.ctx()
	if in.OldPassword == "" || !validPasswordChars(in.NewPassword) {
		s.fail(q, http.StatusBadRequest, "InvalidRequest", "oldPassword and newPassword (1 to 128 characters) are required.")
		return
	}
	var (
		id        *identity
		rec       sessionRecord
		tokenHash string
	)
	if in.ChangeToken != "" {
		tokenHash = hashToken(in.ChangeToken)
		_, ok, err := getLive(ctx, s.Store, kindChange, tokenHash, q.now, &rec)
		if err != nil {
			s.internal(q, "change_password", err)
			return
		}
		if ok {
			id, err = s.identityOf(ctx, &rec)
			if err != nil && !errors.Is(err, ErrNoSession) {
				s.internal(q, "change_password", err)
				return
			}
		}
		if id == nil {
			s.logDecision(q, "change_password", "failure", "", "reason", "invalid_change_token")
			s.fail(q, http.StatusUnauthorized, "InvalidToken", "The password change has expired. Sign in again.")
			return
		}
	} else {
		p, sess, _, err := s.sessionOf(ctx, q.r, q.now)
		if errors.Is(err, ErrNoSession) {
			s.fail(q, http.StatusUnauthorized, "NotSignedIn", "No valid console session.")
			return
		}
		if err != nil {
			s.internal(q, "change_password", err)
			return
		}
		if p.Type != principal.User {
			s.fail(q, http.StatusBadRequest, "InvalidUserType", "Only IAM users change their password here; the root user uses /signin/api/root/password.")
			return
		}
		if id, err = s.identityOf(ctx, sess); err != nil {
			s.internal(q, "change_password", err)
			return
		}
		rec = *sess
	}
	subject := "p|" + id.acct.ID + "|" + strings.ToLower(id.user.Name)
	if wait, err := s.lockedOut(ctx, q, subject); err != nil {
		s.internal(q, "change_password", err)
		return
	} else if wait > 0 {
		s.logDecision(q, "change_password", "throttled", id.arn())
		s.throttled(q, wait)
		return
	}

	c := s.call(q, id, "ChangePassword")
	args := map[string]any{"OldPassword": in.OldPassword, "NewPassword": in.NewPassword}
	if err := s.authorizeChange(ctx, c, args); err != nil {
		if isAPIError(err) {
			s.logDecision(q, "change_password", "denied", id.arn())
			s.fail(q, http.StatusForbidden, apiCode(err), apiMessage(err))
			return
		}
		s.internal(q, "change_password", err)
		return
	}
	h := s.Registry.Lookup("iam", "ChangePassword")
	if h == nil {
		s.internal(q, "change_password", errors.New("iam:ChangePassword is not registered"))
		return
	}
	_, err := h(ctx, c, args)
	var ae *apierr.Error
	switch {
	case errors.As(err, &ae) && ae.Code == "InvalidUserType":
		// IAM's answer to a wrong current password: a guess, so counted.
		s.loginFailed(q, "change_password", "bad_old_password", id.arn(), subject)
		return
	case errors.As(err, &ae):
		s.logDecision(q, "change_password", "refused", id.arn(), "code", ae.Code)
		s.fail(q, http.StatusBadRequest, ae.Code, ae.Message)
		return
	case err != nil:
		s.internal(q, "change_password", err)
		return
	}
	if tokenHash == "" {
		s.logDecision(q, "change_password", "success", id.arn())
		s.reply(q, http.StatusOK, map[string]any{"passwordChanged": true})
		return
	}
	// The change completes the interrupted sign-in.
	sess := sessionRecord{Account: rec.Account, Partition: rec.Partition, User: id.user.Name, MFA: rec.MFA, MFAAt: rec.MFAAt}
	token, err := s.startSession(ctx, q, &sess, func(tx store.Tx) error { return deleteID(ctx, tx, kindChange, tokenHash) })
	if err != nil {
		s.internal(q, "change_password", err)
		return
	}
	s.setCookie(q, token, sess.Expires)
	s.logDecision(q, "change_password", "success", id.arn(), "signed_in", true)
	s.reply(q, http.StatusOK, loginResponse{SignedIn: true, PrincipalARN: id.arn(), Account: id.acct.ID, MFA: sess.MFA, Expires: sess.Expires})
}

// authorizeChange is the permission check of ChangePassword: the
// account's AllowUsersToChangePassword lets every user change their own
// password; otherwise iam:ChangePassword must be allowed
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_enable-user-change.html).
func (s *Service) authorizeChange(ctx context.Context, c *service.Call, args map[string]any) error {
	allowed, err := iam.SelfPasswordChangeAllowed(ctx, s.Store, c.Account)
	if err != nil || allowed || s.Authz == nil {
		return err
	}
	svc := awsproto.LookupService("iam")
	if svc == nil || svc.Operation("ChangePassword") == nil {
		return errors.New("signin: the IAM model has no ChangePassword")
	}
	return s.Authz.Authorize(ctx, c, svc.Operation("ChangePassword"), args)
}

type rootChangeRequest struct {
	OldPassword string `json:"oldPassword"`
	NewPassword string `json:"newPassword"`
}

// changeRootPassword: the signed-in root user sets a new password, giving
// the current one. Other root sessions and outstanding recovery links end.
func (s *Service) changeRootPassword(q *request) {
	var in rootChangeRequest
	if !s.decode(q, &in) {
		return
	}
	ctx := q.ctx()
	p, _, hash, err := s.sessionOf(ctx, q.r, q.now)
	if errors.Is(err, ErrNoSession) {
		s.fail(q, http.StatusUnauthorized, "NotSignedIn", "No valid console session.")
		return
	}
	if err != nil {
		s.internal(q, "root_change_password", err)
		return
	}
	if !p.IsRoot() {
		s.fail(q, http.StatusForbidden, "AccessDenied", "Only the root user can change the root user password.")
		return
	}
	acct, err := accounts.Get(ctx, s.Store, p.Account)
	if err != nil {
		s.internal(q, "root_change_password", err)
		return
	}
	subject := "p|root|" + strings.ToLower(acct.Email)
	if wait, err := s.lockedOut(ctx, q, subject); err != nil {
		s.internal(q, "root_change_password", err)
		return
	} else if wait > 0 {
		s.logDecision(q, "root_change_password", "throttled", p.ARN)
		s.throttled(q, wait)
		return
	}
	ok := false
	if acct.RootPassword != "" {
		if ok, _, err = secrets.VerifyPassword(acct.RootPassword, in.OldPassword); err != nil {
			s.internal(q, "root_change_password", err)
			return
		}
	} else {
		s.burn(in.OldPassword)
	}
	if !ok {
		s.loginFailed(q, "root_change_password", "bad_old_password", p.ARN, subject)
		return
	}
	if err := CheckRootPassword(in.NewPassword, acct.Email, acct.Name); err != nil {
		s.logDecision(q, "root_change_password", "refused", p.ARN, "reason", "password_rules")
		s.fail(q, http.StatusBadRequest, apiCode(err), apiMessage(err))
		return
	}
	newHash, err := secrets.HashPassword(in.NewPassword)
	if err != nil {
		s.internal(q, "root_change_password", err)
		return
	}
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		a, err := accounts.Get(ctx, tx, acct.ID)
		if err != nil {
			return err
		}
		if a.RootPassword != acct.RootPassword {
			return errChangedMeanwhile
		}
		a.RootPassword, a.RootPasswordChanged = newHash, q.now.UTC().Truncate(time.Second)
		if err := accounts.Update(ctx, tx, a); err != nil {
			return err
		}
		pk := principalKey(a.ID, "")
		if err := deleteParent(ctx, tx, kindSession, pk, hash); err != nil {
			return err
		}
		return deleteParent(ctx, tx, kindReset, pk, "")
	})
	if errors.Is(err, errChangedMeanwhile) {
		s.fail(q, http.StatusConflict, "ConcurrentModification", "The password was changed meanwhile. Try again.")
		return
	}
	if err != nil {
		s.internal(q, "root_change_password", err)
		return
	}
	s.logDecision(q, "root_change_password", "success", p.ARN)
	s.reply(q, http.StatusOK, map[string]any{"passwordChanged": true})
}

var errChangedMeanwhile = errors.New("signin: root password changed concurrently")

// resetRecord is a stored root recovery token.
type resetRecord struct {
	Account string    `json:"account"`
	Issued  time.Time `json:"issued"`
}

// forgotAnswer is the one answer of /root/forgot, whatever happened, so it
// does not reveal which addresses have accounts.
var forgotAnswer = map[string]any{"status": "If an account uses that email address, a password recovery link has been sent to it."}

// forgot starts root password recovery. The mail goes out in the
// background so the answer's timing does not tell whether one was sent.
func (s *Service) forgot(q *request) {
	var in struct {
		Email string `json:"email"`
	}
	if !s.decode(q, &in) {
		return
	}
	if accounts.ValidEmail(in.Email) != nil {
		s.fail(q, http.StatusBadRequest, "InvalidRequest", "A valid email address is required.")
		return
	}
	if wait, err := s.lockedOut(q.ctx(), q, "ip|"+q.ip.String()); err != nil {
		s.internal(q, "root_forgot", err)
		return
	} else if wait > 0 {
		s.logDecision(q, "root_forgot", "throttled", "root:"+strings.ToLower(in.Email))
		s.throttled(q, wait)
		return
	}
	email := strings.ToLower(in.Email)
	s.logDecision(q, "root_forgot", "accepted", "root:"+email)
	// The request's context ends with the response; the delivery must not.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(q.ctx()), time.Minute)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer cancel()
		if err := s.sendRecovery(ctx, q, email); err != nil {
			s.Log.ErrorContext(ctx, "signin: recovery mail failed", "request_id", q.id, "principal", "root:"+email, "err", err)
		}
	}()
	s.reply(q, http.StatusOK, forgotAnswer)
}

// sendRecovery issues a one-time recovery token for email's account, if
// there is one, and mails the link.
func (s *Service) sendRecovery(ctx context.Context, q *request, email string) error {
	acct, err := accounts.ByEmail(ctx, s.Store, email)
	if isAPIError(err) {
		s.Log.InfoContext(ctx, "signin", "request_id", q.id, "event", "root_forgot", "outcome", "no_account", "principal", "root:"+email)
		return nil
	}
	if err != nil {
		return err
	}
	token := secrets.RandomToken(tokenBytes)
	mailSubject := "mail|" + email
	limited := false
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		var c Counter
		if _, _, err := getLive(ctx, tx, kindCounter, mailSubject, q.now, &c); err != nil {
			return err
		}
		if locked, _ := c.Locked(q.now); locked {
			limited = true
			return nil
		}
		c.Fail(s.Limits.RecoveryMail, q.now)
		if err := put(ctx, tx, kindCounter, mailSubject, "", c.Expires(s.Limits.RecoveryMail), q.now, &c); err != nil {
			return err
		}
		if err := sweep(ctx, tx, kindReset, q.now); err != nil {
			return err
		}
		rec := resetRecord{Account: acct.ID, Issued: q.now}
		return put(ctx, tx, kindReset, hashToken(token), principalKey(acct.ID, ""), q.now.Add(ResetTokenLifetime), q.now, &rec)
	})
	if err != nil {
		return err
	}
	arnRoot := "arn:" + acct.Partition + ":iam::" + acct.ID + ":root"
	if limited {
		s.Log.WarnContext(ctx, "signin", "request_id", q.id, "event", "root_forgot", "outcome", "mail_limit", "principal", arnRoot)
		return nil
	}
	link := s.PublicURL + "/signin/reset?token=" + url.QueryEscape(token)
	body := fmt.Sprintf("Someone asked to reset the root user password of AWS account %s (%s).\n\n"+
		"To choose a new password, open this link within %d minutes. It works once:\n\n%s\n\n"+
		"If you did not ask for this, ignore this message; your password stays as it is.\n",
		acct.ID, acct.Name, int(ResetTokenLifetime/time.Minute), link)
	if err := s.Mail.Send(ctx, &mail.Message{To: []string{acct.Email}, Subject: "Password recovery for your iamd root user", Body: body}); err != nil {
		return err
	}
	s.Log.InfoContext(ctx, "signin", "request_id", q.id, "event", "root_forgot", "outcome", "mail_sent", "principal", arnRoot)
	return nil
}

type resetRequest struct {
	Token       string `json:"token"`
	NewPassword string `json:"newPassword"`
}

var errTokenGone = errors.New("signin: recovery token used or expired")

// reset sets a new root password with a recovery token. The token is
// deleted in the same transaction, so it works once; a password change
// after it was issued also voids it. Every root session ends and the
// sign-in lockout is lifted.
func (s *Service) reset(q *request) {
	var in resetRequest
	if !s.decode(q, &in) {
		return
	}
	ctx := q.ctx()
	invalid := func(reason string) {
		s.logDecision(q, "root_reset", "failure", "", "reason", reason)
		s.fail(q, http.StatusBadRequest, "InvalidToken", "The password recovery link is invalid or has expired.")
	}
	if in.Token == "" {
		invalid("no_token")
		return
	}
	hash := hashToken(in.Token)
	var rr resetRecord
	_, ok, err := getLive(ctx, s.Store, kindReset, hash, q.now, &rr)
	if err != nil {
		s.internal(q, "root_reset", err)
		return
	}
	if !ok {
		invalid("unknown_or_expired")
		return
	}
	acct, err := accounts.Get(ctx, s.Store, rr.Account)
	if isAPIError(err) {
		invalid("account_gone")
		return
	}
	if err != nil {
		s.internal(q, "root_reset", err)
		return
	}
	arnRoot := "arn:" + acct.Partition + ":iam::" + acct.ID + ":root"
	if err := CheckRootPassword(in.NewPassword, acct.Email, acct.Name); err != nil {
		// The token stays valid: the user may try a better password.
		s.logDecision(q, "root_reset", "refused", arnRoot, "reason", "password_rules")
		s.fail(q, http.StatusBadRequest, apiCode(err), apiMessage(err))
		return
	}
	newHash, err := secrets.HashPassword(in.NewPassword)
	if err != nil {
		s.internal(q, "root_reset", err)
		return
	}
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		var again resetRecord
		_, ok, err := getLive(ctx, tx, kindReset, hash, q.now, &again)
		if err != nil {
			return err
		}
		if !ok {
			return errTokenGone // used by a concurrent reset
		}
		if err := deleteID(ctx, tx, kindReset, hash); err != nil {
			return err
		}
		a, err := accounts.Get(ctx, tx, again.Account)
		if err != nil {
			return err
		}
		if a.RootPasswordChanged.After(again.Issued) {
			return errTokenGone
		}
		a.RootPassword, a.RootPasswordChanged = newHash, q.now.UTC().Truncate(time.Second)
		if err := accounts.Update(ctx, tx, a); err != nil {
			return err
		}
		pk := principalKey(a.ID, "")
		if err := deleteParent(ctx, tx, kindReset, pk, ""); err != nil {
			return err
		}
		if err := deleteParent(ctx, tx, kindSession, pk, ""); err != nil {
			return err
		}
		return deleteID(ctx, tx, kindCounter, "p|root|"+strings.ToLower(a.Email))
	})
	if errors.Is(err, errTokenGone) {
		invalid("used_or_superseded")
		return
	}
	if err != nil {
		s.internal(q, "root_reset", err)
		return
	}
	s.logDecision(q, "root_reset", "success", arnRoot)
	s.reply(q, http.StatusOK, map[string]any{"passwordReset": true})
}

func apiCode(err error) string {
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return "InternalFailure"
}

func apiMessage(err error) string {
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return ae.Message
	}
	return "An internal error occurred."
}
