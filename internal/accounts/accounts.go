// Package accounts is the account directory: sign-up creates an account and
// its single root user (email + password). Accounts are global records; all
// other state is keyed by account id.
package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/store"
)

const (
	kindAccount = "account"
	kindEmail   = "account-email" // key: lower-cased root email, ref: account id
)

// Status values, as Organizations reports them.
const (
	Active    = "ACTIVE"
	Suspended = "SUSPENDED" // closed, within the post-closure period
)

// Account is an AWS account and its root user.
type Account struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"` // the root user's sign-in email
	Partition string    `json:"partition"`
	Status    string    `json:"status"`
	Created   time.Time `json:"created"`
	// RootPassword is the root user's argon2id hash; empty means root has
	// no password (e.g. member accounts created by Organizations).
	RootPassword         string    `json:"rootPassword,omitempty"`
	RootPasswordLastUsed time.Time `json:"rootPasswordLastUsed,omitzero"`
	RootPasswordChanged  time.Time `json:"rootPasswordChanged,omitzero"`

	// RootLoginProfile is when a root login profile was created through
	// IAM CreateLoginProfile (a centralized-root-access session): the root
	// user may then recover a password by email. Zero with an empty
	// RootPassword means root cannot sign in with a password at all.
	RootLoginProfile time.Time `json:"rootLoginProfile,omitzero"`
	// BillingAccess is the root-only setting "IAM user and role access to
	// Billing information": until it is on, billing actions are denied to
	// every principal but root, whatever their policies.
	BillingAccess bool `json:"billingAccess,omitempty"`
	// Closed is when the account was closed (Status Suspended); the
	// post-closure period in which it may be reopened runs from here.
	Closed time.Time `json:"closed,omitzero"`
}

// Get reads an account.
func Get(ctx context.Context, r store.Reader, id string) (*Account, error) {
	rec, err := r.Get(ctx, store.GlobalAccount, kindAccount, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.New("AccountNotFound", "The account %s does not exist.", id)
	}
	if err != nil {
		return nil, err
	}
	a := new(Account)
	if err := json.Unmarshal(rec.Data, a); err != nil {
		return nil, fmt.Errorf("accounts: decode %s: %w", id, err)
	}
	return a, nil
}

// ByEmail finds the account whose root user signs in with email.
func ByEmail(ctx context.Context, r store.Reader, email string) (*Account, error) {
	rec, err := r.Get(ctx, store.GlobalAccount, kindEmail, strings.ToLower(email))
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.New("AccountNotFound", "No account uses that email address.")
	}
	if err != nil {
		return nil, err
	}
	return Get(ctx, r, rec.Ref)
}

// List returns every account, ordered by id.
func List(ctx context.Context, r store.Reader) ([]*Account, error) {
	recs, err := r.List(ctx, store.ListQuery{Account: store.GlobalAccount, Kind: kindAccount})
	if err != nil {
		return nil, err
	}
	out := make([]*Account, 0, len(recs))
	for _, rec := range recs {
		a := new(Account)
		if err := json.Unmarshal(rec.Data, a); err != nil {
			return nil, fmt.Errorf("accounts: decode %s: %w", rec.Key, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// ValidEmail checks a root email address as AWS sign-up does (an address of
// 6 to 64 characters).
func ValidEmail(email string) error {
	if len(email) < 6 || len(email) > 64 {
		return apierr.Invalid("The email address must be between 6 and 64 characters.")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email {
		return apierr.Invalid("The email address %q is not valid.", email)
	}
	return nil
}

// Create inserts a new account inside tx. EntityAlreadyExists if the id or
// the root email is taken.
func Create(ctx context.Context, tx store.Tx, a *Account) error {
	if len(a.ID) != 12 || strings.Trim(a.ID, "0123456789") != "" {
		return apierr.Invalid("Account id %q must be 12 digits.", a.ID)
	}
	if err := ValidEmail(a.Email); err != nil {
		return err
	}
	if a.Status == "" {
		a.Status = Active
	}
	if a.Partition == "" {
		a.Partition = "aws"
	}
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	err = tx.Insert(ctx, store.Record{Account: store.GlobalAccount, Kind: kindEmail, Key: strings.ToLower(a.Email), Ref: a.ID, Created: a.Created})
	if errors.Is(err, store.ErrConflict) {
		return apierr.Exists("Account", a.Email)
	}
	if err != nil {
		return err
	}
	err = tx.Insert(ctx, store.Record{Account: store.GlobalAccount, Kind: kindAccount, Key: a.ID, Data: data, Created: a.Created})
	if errors.Is(err, store.ErrConflict) {
		return apierr.Exists("Account", a.ID)
	}
	return err
}

// Update stores a changed account (not its email; see ChangeEmail).
func Update(ctx context.Context, tx store.Tx, a *Account) error {
	rec, err := tx.Get(ctx, store.GlobalAccount, kindAccount, a.ID)
	if err != nil {
		return err
	}
	rec.Data, err = json.Marshal(a)
	if err != nil {
		return err
	}
	return tx.Update(ctx, rec)
}

// Delete removes an account's directory entries and every record it owns.
func Delete(ctx context.Context, tx store.Tx, id string) error {
	a, err := Get(ctx, tx, id)
	if err != nil {
		return err
	}
	if err := tx.Delete(ctx, store.GlobalAccount, kindEmail, strings.ToLower(a.Email)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := tx.Delete(ctx, store.GlobalAccount, kindAccount, id); err != nil {
		return err
	}
	return tx.DeleteAccount(ctx, id)
}

// ChangeEmail moves a's root sign-in email to email inside tx: the email
// index entry is replaced and the account record updated in the same
// transaction, so no instant sees both or neither address. EntityAlreadyExists
// when another account uses email.
func ChangeEmail(ctx context.Context, tx store.Tx, a *Account, email string) error {
	if err := ValidEmail(email); err != nil {
		return err
	}
	oldKey, newKey := strings.ToLower(a.Email), strings.ToLower(email)
	if oldKey != newKey {
		err := tx.Insert(ctx, store.Record{Account: store.GlobalAccount, Kind: kindEmail, Key: newKey, Ref: a.ID})
		if errors.Is(err, store.ErrConflict) {
			return apierr.Exists("Account", email)
		}
		if err != nil {
			return fmt.Errorf("accounts: index %s: %w", email, err)
		}
		if err := tx.Delete(ctx, store.GlobalAccount, kindEmail, oldKey); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("accounts: unindex %s: %w", a.Email, err)
		}
	}
	a.Email = email
	return Update(ctx, tx, a)
}
