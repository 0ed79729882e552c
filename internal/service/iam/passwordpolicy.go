package iam

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// kindPasswordPolicy holds an account's one password policy under key
// passwordPolicyKey.
const (
	kindPasswordPolicy = "passwordpolicy"
	passwordPolicyKey  = "policy"
)

// PasswordPolicy is an account's password policy. A nil *PasswordPolicy
// means none is set and AWS's default rules apply (see ValidatePassword).
type PasswordPolicy struct {
	MinLength       int   `json:"minLength"`
	RequireSymbols  bool  `json:"symbols,omitempty"`
	RequireNumbers  bool  `json:"numbers,omitempty"`
	RequireUpper    bool  `json:"upper,omitempty"`
	RequireLower    bool  `json:"lower,omitempty"`
	AllowChange     bool  `json:"allowChange,omitempty"`
	MaxAgeDays      int   `json:"maxAge,omitempty"`
	ReusePrevention int   `json:"reuse,omitempty"`
	HardExpiry      *bool `json:"hardExpiry,omitempty"`
}

// defaultMinPasswordLength is what UpdateAccountPasswordPolicy uses when
// MinimumPasswordLength is not given. The API reference says 6
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAccountPasswordPolicy.html).
const defaultMinPasswordLength = 6

// passwordSymbols is the set of characters AWS counts as symbols
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_account-policy.html).
const passwordSymbols = "!@#$%^&*()_+-=[]{}|'"

// policyViolation is the PasswordPolicyViolation AWS returns, extended with
// the rules the password breaks so a caller can fix it.
func policyViolation(unmet []string) error {
	return apierr.New("PasswordPolicyViolation", "Password does not conform to the account password policy. %s", strings.Join(unmet, " "))
}

// ValidatePassword checks password against the account policy p. With p nil,
// AWS's default policy applies: at least 8 characters, at least three of
// uppercase, lowercase, digits and symbols, and not equal to any of names
// (the user name, the account email). It returns a PasswordPolicyViolation
// listing every unmet rule.
func ValidatePassword(p *PasswordPolicy, password string, names ...string) error {
	var upper, lower, digit, symbol bool
	for _, r := range password {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune(passwordSymbols, r):
			symbol = true
		}
	}
	n := len([]rune(password))
	var unmet []string
	if p == nil {
		if n < 8 {
			unmet = append(unmet, "Password should have at least 8 characters.")
		}
		kinds := 0
		for _, b := range []bool{upper, lower, digit, symbol} {
			if b {
				kinds++
			}
		}
		if kinds < 3 {
			unmet = append(unmet, "Password should have at least three of: uppercase letters, lowercase letters, numbers, symbols.")
		}
		for _, name := range names {
			if name != "" && strings.EqualFold(password, name) {
				unmet = append(unmet, "Password should not be the same as the user name or email address.")
				break
			}
		}
	} else {
		if n < p.MinLength {
			unmet = append(unmet, "Password should have at least "+strconv.Itoa(p.MinLength)+" characters.")
		}
		if p.RequireUpper && !upper {
			unmet = append(unmet, "Password should have at least one uppercase letter.")
		}
		if p.RequireLower && !lower {
			unmet = append(unmet, "Password should have at least one lowercase letter.")
		}
		if p.RequireNumbers && !digit {
			unmet = append(unmet, "Password should have at least one number.")
		}
		if p.RequireSymbols && !symbol {
			unmet = append(unmet, "Password should have at least one symbol.")
		}
	}
	if len(unmet) > 0 {
		return policyViolation(unmet)
	}
	return nil
}

// loadPasswordPolicy reads the account's policy; nil when none is set.
func loadPasswordPolicy(ctx context.Context, r store.Reader, account string) (*PasswordPolicy, error) {
	p, _, err := get[PasswordPolicy](ctx, r, account, kindPasswordPolicy, passwordPolicyKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return p, err
}

// LookupPasswordPolicy returns the account's password policy, nil when none
// is set, for the console and sign-in.
func LookupPasswordPolicy(ctx context.Context, r store.Reader, account string) (*PasswordPolicy, error) {
	return loadPasswordPolicy(ctx, r, account)
}

// SelfPasswordChangeAllowed reports the policy's AllowUsersToChangePassword:
// when true AWS lets every IAM user change their own password even without
// an iam:ChangePassword grant, so authorization consults it.
func SelfPasswordChangeAllowed(ctx context.Context, r store.Reader, account string) (bool, error) {
	p, err := loadPasswordPolicy(ctx, r, account)
	if err != nil || p == nil {
		return false, err
	}
	return p.AllowChange, nil
}

func (p *PasswordPolicy) out() map[string]any {
	m := map[string]any{
		"MinimumPasswordLength":      int64(p.MinLength),
		"RequireSymbols":             p.RequireSymbols,
		"RequireNumbers":             p.RequireNumbers,
		"RequireUppercaseCharacters": p.RequireUpper,
		"RequireLowercaseCharacters": p.RequireLower,
		"AllowUsersToChangePassword": p.AllowChange,
		"ExpirePasswords":            p.MaxAgeDays > 0,
	}
	if p.MaxAgeDays > 0 {
		m["MaxPasswordAge"] = int64(p.MaxAgeDays)
	}
	if p.ReusePrevention > 0 {
		m["PasswordReusePrevention"] = int64(p.ReusePrevention)
	}
	if p.HardExpiry != nil {
		m["HardExpiry"] = *p.HardExpiry
	}
	return m
}

// passwordPolicyIn builds a policy from UpdateAccountPasswordPolicy's input.
// The operation is not a partial update: absent members take their defaults.
func passwordPolicyIn(in map[string]any) (*PasswordPolicy, error) {
	p := &PasswordPolicy{MinLength: defaultMinPasswordLength}
	if n, ok := awsproto.Int(in, "MinimumPasswordLength"); ok {
		if n < 6 || n > 128 {
			return nil, apierr.New(apierr.ValidationError, "1 validation error detected: Value '%d' at 'minimumPasswordLength' failed to satisfy constraint: Member must have value between 6 and 128", n)
		}
		p.MinLength = int(n)
	}
	if n, ok := awsproto.Int(in, "MaxPasswordAge"); ok {
		if n < 1 || n > 1095 {
			return nil, apierr.New(apierr.ValidationError, "1 validation error detected: Value '%d' at 'maxPasswordAge' failed to satisfy constraint: Member must have value between 1 and 1095", n)
		}
		p.MaxAgeDays = int(n)
	}
	if n, ok := awsproto.Int(in, "PasswordReusePrevention"); ok {
		if n < 1 || n > 24 {
			return nil, apierr.New(apierr.ValidationError, "1 validation error detected: Value '%d' at 'passwordReusePrevention' failed to satisfy constraint: Member must have value between 1 and 24", n)
		}
		p.ReusePrevention = int(n)
	}
	p.RequireSymbols, _ = awsproto.Bool(in, "RequireSymbols")
	p.RequireNumbers, _ = awsproto.Bool(in, "RequireNumbers")
	p.RequireUpper, _ = awsproto.Bool(in, "RequireUppercaseCharacters")
	p.RequireLower, _ = awsproto.Bool(in, "RequireLowercaseCharacters")
	p.AllowChange, _ = awsproto.Bool(in, "AllowUsersToChangePassword")
	if b, ok := awsproto.Bool(in, "HardExpiry"); ok {
		p.HardExpiry = &b
	}
	return p, nil
}

func (s *Service) updateAccountPasswordPolicy(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	p, err := passwordPolicyIn(in)
	if err != nil {
		return nil, err
	}
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, c.Account, kindPasswordPolicy, passwordPolicyKey)
		if errors.Is(err, store.ErrNotFound) {
			return tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindPasswordPolicy, Key: passwordPolicyKey, Data: encode(p), Created: now(c)})
		}
		if err != nil {
			return err
		}
		rec.Data, rec.Updated = encode(p), now(c)
		return tx.Update(ctx, rec)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// noPasswordPolicy is AWS's answer when the account has no policy.
func noPasswordPolicy(account string) error {
	return apierr.New(apierr.NoSuchEntity, "The Password Policy with domain name %s cannot be found.", account)
}

func (s *Service) getAccountPasswordPolicy(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	p, err := loadPasswordPolicy(ctx, s.Store, c.Account)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, noPasswordPolicy(c.Account)
	}
	return map[string]any{"PasswordPolicy": p.out()}, nil
}

func (s *Service) deleteAccountPasswordPolicy(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		err := tx.Delete(ctx, c.Account, kindPasswordPolicy, passwordPolicyKey)
		if errors.Is(err, store.ErrNotFound) {
			return noPasswordPolicy(c.Account)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}
