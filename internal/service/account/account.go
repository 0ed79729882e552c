// Package account implements the AWS Account Management API (contact
// information, alternate contacts, account name, primary email updates,
// Region opt-in) and iamd's root-only account controls (closing and
// reopening an account, IAM user and role access to billing), which AWS
// offers only in its console and iamd serves as signed JSON calls under
// /iamd/account/ (see docs/root-user.md).
package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/iamd/iamd/internal/accountctl"
	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/httpapi"
	"github.com/iamd/iamd/internal/mail"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// ServicePrincipal is Account Management's service principal, for trusted
// access and delegated administrators.
const ServicePrincipal = "account.amazonaws.com"

// Record kinds, in the target account's partition.
const (
	kindContact   = "acctcontact"   // key "primary"
	kindAlternate = "acctalternate" // key: contact type
	kindRegion    = "acctregion"    // key: region name (opt-in regions only)
	kindEmail     = "acctemail"     // key "pending": a primary email update
)

// Service implements the Account Management API.
type Service struct {
	Store store.Store
	// Authn authenticates the root-only control calls (ServeHTTP).
	Authn httpapi.Authenticator
	// Mail delivers primary email update codes; nil logs them instead.
	Mail mail.Sender
	Log  *slog.Logger
	Now  func() time.Time
	// RegionTransition is how long ENABLING/DISABLING last; 0 means
	// defaultRegionTransition.
	RegionTransition time.Duration
}

// ControlPrefix is where the root-only account controls are served.
const ControlPrefix = "/iamd/account/"

// Register adds the Account Management operations to r and mounts the
// root-only controls on srv.
func (s *Service) Register(r service.Registry, srv *httpapi.Server) {
	for name, h := range map[string]service.Handler{
		"GetContactInformation":    s.getContactInformation,
		"PutContactInformation":    s.putContactInformation,
		"GetAlternateContact":      s.getAlternateContact,
		"PutAlternateContact":      s.putAlternateContact,
		"DeleteAlternateContact":   s.deleteAlternateContact,
		"GetAccountInformation":    s.getAccountInformation,
		"PutAccountName":           s.putAccountName,
		"StartPrimaryEmailUpdate":  s.startPrimaryEmailUpdate,
		"AcceptPrimaryEmailUpdate": s.acceptPrimaryEmailUpdate,
		"GetPrimaryEmail":          s.getPrimaryEmail,
		"ListRegions":              s.listRegions,
		"GetRegionOptStatus":       s.getRegionOptStatus,
		"EnableRegion":             s.enableRegion,
		"DisableRegion":            s.disableRegion,
	} {
		r.Add("account", name, h)
	}
	if srv != nil {
		if srv.Extra == nil {
			srv.Extra = map[string]http.Handler{}
		}
		srv.Extra[ControlPrefix] = s
	}
}

// Errors, with the model's codes and statuses.

func validation(format string, args ...any) *apierr.Error {
	e := apierr.New("ValidationException", format, args...)
	e.Status = http.StatusBadRequest
	e.Fields = map[string]any{"reason": "fieldValidationFailed"}
	return e
}

// invalidRegion is ValidationException for a Region that cannot be the
// target of an opt-in change.
func invalidRegion(format string, args ...any) error {
	e := validation(format, args...)
	e.Fields["reason"] = "invalidRegionOptTarget"
	return e
}

func accessDenied(format string, args ...any) error {
	e := apierr.New("AccessDeniedException", format, args...)
	e.Status = http.StatusForbidden
	return e
}

func notFound(format string, args ...any) error {
	e := apierr.New("ResourceNotFoundException", format, args...)
	e.Status = http.StatusNotFound
	return e
}

func conflict(format string, args ...any) error {
	e := apierr.New("ConflictException", format, args...)
	e.Status = http.StatusConflict
	return e
}

// target resolves the account a call acts on: the caller's own, or with
// AccountId a member account of the caller's organization when the caller
// is its management account or Account Management's delegated
// administrator and trusted access is enabled
// (https://docs.aws.amazon.com/accounts/latest/reference/using-orgs-trusted-access.html).
// requireMember refuses the caller's own account (primary email updates
// are for member accounts only).
func target(ctx context.Context, r store.Reader, c *service.Call, in map[string]any, requireMember bool) (string, error) {
	id := awsproto.Str(in, "AccountId")
	if id == "" || (id == c.Account && !requireMember) {
		return c.Account, nil
	}
	deny := accessDenied("User: %s is not authorized to act on account %s: the caller must be the management account or the delegated administrator for Account Management of an organization that account %s belongs to, with trusted access enabled for %s.", c.Principal.ARN, id, id, ServicePrincipal)
	o, err := accountctl.OrgOf(ctx, r, c.Account)
	if err != nil {
		return "", err
	}
	if o == nil || id == c.Account {
		return "", deny
	}
	if o.Mgmt != c.Account {
		admin, err := o.IsDelegatedAdmin(ctx, r, c.Account, ServicePrincipal)
		if err != nil {
			return "", err
		}
		if !admin {
			return "", deny
		}
	}
	if !o.TrustedAccess(ServicePrincipal) {
		return "", deny
	}
	member, err := o.IsMember(ctx, r, id)
	if err != nil {
		return "", err
	}
	if !member || id == o.Mgmt {
		return "", deny
	}
	return id, nil
}

// Documents.

func getDoc[T any](ctx context.Context, r store.Reader, account, kind, key string) (*T, store.Record, error) {
	rec, err := r.Get(ctx, account, kind, key)
	if err != nil {
		return nil, rec, err
	}
	v := new(T)
	if err := json.Unmarshal(rec.Data, v); err != nil {
		return nil, rec, fmt.Errorf("account: decode %s %q: %w", kind, key, err)
	}
	return v, rec, nil
}

// putDoc inserts or replaces one record.
func putDoc(ctx context.Context, tx store.Tx, account, kind, key string, v any, at time.Time) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	rec := store.Record{Account: account, Kind: kind, Key: key, Data: data, Created: at, Updated: at}
	err = tx.Update(ctx, rec)
	if errors.Is(err, store.ErrNotFound) {
		err = tx.Insert(ctx, rec)
	}
	if err != nil {
		return fmt.Errorf("account: store %s %q: %w", kind, key, err)
	}
	return nil
}

func getAccountInfo(ctx context.Context, r store.Reader, id string) (*accounts.Account, error) {
	a, err := accounts.Get(ctx, r, id)
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Code == "AccountNotFound" {
		return nil, notFound("The account %s does not exist.", id)
	}
	return a, err
}

func (s *Service) getAccountInformation(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	id, err := target(ctx, s.Store, c, in, false)
	if err != nil {
		return nil, err
	}
	a, err := getAccountInfo(ctx, s.Store, id)
	if err != nil {
		return nil, err
	}
	return map[string]any{"AccountId": a.ID, "AccountName": a.Name, "AccountCreatedDate": a.Created, "AccountState": a.Status}, nil
}

func (s *Service) putAccountName(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	return nil, s.Store.WithTx(ctx, func(tx store.Tx) error {
		id, err := target(ctx, tx, c, in, false)
		if err != nil {
			return err
		}
		a, err := getAccountInfo(ctx, tx, id)
		if err != nil {
			return err
		}
		a.Name = awsproto.Str(in, "AccountName")
		return accounts.Update(ctx, tx, a)
	})
}
