package iam

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/secrets"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// LoginProfile is a user's console password (key and Parent: the user key).
// The user's name is not stored: a rename re-keys the record, and answers
// use the user record's name.
type LoginProfile struct {
	Created       time.Time `json:"created"`
	Hash          string    `json:"hash"` // argon2id
	ResetRequired bool      `json:"reset,omitempty"`
	Changed       time.Time `json:"changed"` // when the password was last set
	// History holds earlier hashes, newest first, for reuse prevention.
	History []string `json:"history,omitempty"`
}

// maxPasswordHistory is the largest PasswordReusePrevention AWS accepts.
const maxPasswordHistory = 24

func loginProfileNotFound(user string) error {
	return apierr.New(apierr.NoSuchEntity, "Login Profile for User %s cannot be found.", user)
}

// loadLoginProfile reads a user and its login profile.
func loadLoginProfile(ctx context.Context, r store.Reader, account, userName string) (*User, *LoginProfile, store.Record, error) {
	u, urec, err := loadUser(ctx, r, account, userName)
	if err != nil {
		return nil, nil, store.Record{}, err
	}
	lp, rec, err := get[LoginProfile](ctx, r, account, kindLoginProfile, urec.Key)
	if errors.Is(err, store.ErrNotFound) {
		return u, nil, rec, loginProfileNotFound(u.Name)
	}
	return u, lp, rec, err
}

// checkNewPassword applies the account policy (or AWS's default rules) to a
// password about to be set for u.
func (s *Service) checkNewPassword(ctx context.Context, r store.Reader, account string, pol *PasswordPolicy, u *User, password string) error {
	names := []string{u.Name}
	if pol == nil {
		if acct, err := accounts.Get(ctx, r, account); err == nil {
			names = append(names, acct.Email, acct.Name)
		}
	}
	return ValidatePassword(pol, password, names...)
}

// checkReuse refuses a password equal to the current one or to one of the
// PasswordReusePrevention previous ones.
func checkReuse(pol *PasswordPolicy, lp *LoginProfile, password string) error {
	if pol == nil || pol.ReusePrevention == 0 || lp == nil {
		return nil
	}
	recent := append([]string{lp.Hash}, lp.History...)
	if len(recent) > pol.ReusePrevention {
		recent = recent[:pol.ReusePrevention]
	}
	for _, h := range recent {
		ok, _, err := secrets.VerifyPassword(h, password)
		if err != nil {
			return fmt.Errorf("iam: login profile hash: %w", err)
		}
		if ok {
			return policyViolation([]string{fmt.Sprintf("Password should not be one of your %d previous passwords.", pol.ReusePrevention)})
		}
	}
	return nil
}

// setPassword records a new hash, keeping the old one in the history.
func (lp *LoginProfile) setPassword(hash string, at time.Time) {
	if lp.Hash != "" {
		lp.History = append([]string{lp.Hash}, lp.History...)
		if len(lp.History) > maxPasswordHistory {
			lp.History = lp.History[:maxPasswordHistory]
		}
	}
	lp.Hash, lp.Changed = hash, at
}

func (lp *LoginProfile) out(userName string) map[string]any {
	return map[string]any{"UserName": userName, "CreateDate": lp.Created, "PasswordResetRequired": lp.ResetRequired}
}

// profileUser is the user a login profile call is about: UserName, or the
// calling IAM user when absent.
func profileUser(c *service.Call, in map[string]any) (string, error) {
	if n := awsproto.Str(in, "UserName"); n != "" {
		return n, nil
	}
	if c.Principal != nil && c.Principal.Type == principal.User {
		return c.Principal.Name, nil
	}
	return "", apierr.New(apierr.ValidationError, "Must specify userName when calling with non-User credentials")
}

func (s *Service) createLoginProfile(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name, err := profileUser(c, in)
	if err != nil {
		return nil, err
	}
	password := awsproto.Str(in, "Password")
	if password == "" {
		return nil, apierr.New(apierr.ValidationError, "Password is required to create a login profile.")
	}
	reset, _ := awsproto.Bool(in, "PasswordResetRequired")
	// Hash before the transaction: argon2id is deliberately slow.
	hash, err := secrets.HashPassword(password)
	if err != nil {
		return nil, err
	}
	var (
		lp *LoginProfile
		u  *User
	)
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		var urec store.Record
		if u, urec, err = loadUser(ctx, tx, c.Account, name); err != nil {
			return err
		}
		pol, err := loadPasswordPolicy(ctx, tx, c.Account)
		if err != nil {
			return err
		}
		if err := s.checkNewPassword(ctx, tx, c.Account, pol, u, password); err != nil {
			return err
		}
		lp = &LoginProfile{Created: now(c), ResetRequired: reset}
		lp.setPassword(hash, now(c))
		return insertNew(ctx, tx, store.Record{Account: c.Account, Kind: kindLoginProfile, Key: urec.Key, Parent: urec.Key, Data: encode(lp), Created: lp.Created}, apierr.New(apierr.EntityAlreadyExists, "Login Profile for User %s already exists.", u.Name))
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"LoginProfile": lp.out(u.Name)}, nil
}

func (s *Service) getLoginProfile(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name, err := profileUser(c, in)
	if err != nil {
		return nil, err
	}
	u, lp, _, err := loadLoginProfile(ctx, s.Store, c.Account, name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"LoginProfile": lp.out(u.Name)}, nil
}

func (s *Service) updateLoginProfile(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name := awsproto.Str(in, "UserName")
	password := awsproto.Str(in, "Password")
	var hash string
	if password != "" {
		var err error
		if hash, err = secrets.HashPassword(password); err != nil {
			return nil, err
		}
	}
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		u, lp, rec, err := loadLoginProfile(ctx, tx, c.Account, name)
		if err != nil {
			return err
		}
		if password != "" {
			pol, err := loadPasswordPolicy(ctx, tx, c.Account)
			if err != nil {
				return err
			}
			if err := s.checkNewPassword(ctx, tx, c.Account, pol, u, password); err != nil {
				return err
			}
			if err := checkReuse(pol, lp, password); err != nil {
				return err
			}
			lp.setPassword(hash, now(c))
		}
		if b, ok := awsproto.Bool(in, "PasswordResetRequired"); ok {
			lp.ResetRequired = b
		}
		rec.Data, rec.Updated = encode(lp), now(c)
		return tx.Update(ctx, rec)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) deleteLoginProfile(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name, err := profileUser(c, in)
	if err != nil {
		return nil, err
	}
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		_, _, rec, err := loadLoginProfile(ctx, tx, c.Account, name)
		if err != nil {
			return err
		}
		return tx.Delete(ctx, c.Account, kindLoginProfile, rec.Key)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// passwordExpired reports whether a password set at changed has outlived
// the policy's MaxPasswordAge at t.
func passwordExpired(pol *PasswordPolicy, changed, t time.Time) bool {
	if pol == nil || pol.MaxAgeDays == 0 {
		return false
	}
	return !t.Before(changed.Add(time.Duration(pol.MaxAgeDays) * 24 * time.Hour))
}

// changePassword lets the calling IAM user change their own password.
// Whether they may call it at all (iam:ChangePassword, or the policy's
// AllowUsersToChangePassword, see SelfPasswordChangeAllowed) is decided
// by authorization before the call gets here.
func (s *Service) changePassword(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	p := c.Principal
	if p == nil || p.Type != principal.User {
		// The root user's password is not an IAM login profile; role
		// sessions have no password at all.
		return nil, apierr.New("InvalidUserType", "Only IAM users can change their own password with ChangePassword.")
	}
	oldPW, newPW := awsproto.Str(in, "OldPassword"), awsproto.Str(in, "NewPassword")
	hash, err := secrets.HashPassword(newPW)
	if err != nil {
		return nil, err
	}
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		u, lp, rec, err := loadLoginProfile(ctx, tx, c.Account, p.Name)
		if err != nil {
			return err
		}
		ok, _, err := secrets.VerifyPassword(lp.Hash, oldPW)
		if err != nil {
			return fmt.Errorf("iam: login profile hash: %w", err)
		}
		if !ok {
			// IAM answers a wrong current password with InvalidUserType.
			return apierr.New("InvalidUserType", "The old password was incorrect.")
		}
		pol, err := loadPasswordPolicy(ctx, tx, c.Account)
		if err != nil {
			return err
		}
		if pol != nil && pol.HardExpiry != nil && *pol.HardExpiry && passwordExpired(pol, lp.Changed, c.Now) {
			// HardExpiry: only an administrator can reset an expired password.
			return apierr.New("EntityTemporarilyUnmodifiable", "The password for user %s has expired and can only be reset by an administrator.", u.Name)
		}
		if err := s.checkNewPassword(ctx, tx, c.Account, pol, u, newPW); err != nil {
			return err
		}
		if err := checkReuse(pol, lp, newPW); err != nil {
			return err
		}
		lp.setPassword(hash, now(c))
		lp.ResetRequired = false
		rec.Data, rec.Updated = encode(lp), now(c)
		return tx.Update(ctx, rec)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// CheckUserPassword verifies an IAM user's console password, for sign-in.
// ok is false for an unknown user, a user without a login profile or a wrong
// password (err stays nil: sign-in must not tell these apart). resetRequired
// is the profile's PasswordResetRequired; expired says the password has
// outlived the policy's MaxPasswordAge (with HardExpiry, see
// LookupPasswordPolicy, only an administrator can then reset it).
func (s *Service) CheckUserPassword(ctx context.Context, account, userName, password string, now time.Time) (ok bool, resetRequired bool, expired bool, err error) {
	_, lp, _, err := loadLoginProfile(ctx, s.Store, account, userName)
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Code == apierr.NoSuchEntity {
		// Spend the same work as a real check so timing does not reveal
		// which user names have passwords.
		_, _ = secrets.HashPassword(password)
		return false, false, false, nil
	}
	if err != nil {
		return false, false, false, err
	}
	match, _, err := secrets.VerifyPassword(lp.Hash, password)
	if err != nil {
		return false, false, false, fmt.Errorf("iam: login profile hash: %w", err)
	}
	if !match {
		return false, false, false, nil
	}
	pol, err := loadPasswordPolicy(ctx, s.Store, account)
	if err != nil {
		return false, false, false, err
	}
	return true, lp.ResetRequired, passwordExpired(pol, lp.Changed, now), nil
}
