package account

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/accountctl"
	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/sigv4"
	"github.com/iamd/iamd/internal/store"
)

// PostClosurePeriod is how long a closed account may be reopened
// (https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-closing.html).
const PostClosurePeriod = 90 * 24 * time.Hour

// The root-only account controls, served as SigV4-signed JSON (sign for
// service "account"; `curl --aws-sigv4 aws:amz:us-east-1:account` works):
//
//	GET  /iamd/account/status          {"AccountId","Status","BillingAccess","Closed"}
//	POST /iamd/account/close           close this account (Status SUSPENDED)
//	POST /iamd/account/reopen          reopen it within the post-closure period
//	PUT  /iamd/account/billing-access  {"Enabled":true|false}
//
// Only the account's own root user, signing with its own long-term or
// session credentials, may call them: no IAM policy grants them, as AWS
// keeps these tasks for the root user. A root session from sts:AssumeRoot
// is refused: its task policies do not include them.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	out, err := s.control(ctx, r)
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		code, status, msg := "InternalFailure", http.StatusInternalServerError, "The request processing has failed because of an unknown error."
		var (
			ae *apierr.Error
			se *sigv4.Error
		)
		switch {
		case errors.As(err, &ae):
			code, status, msg = ae.Code, ae.Status, ae.Message
			if status == 0 {
				status = http.StatusBadRequest
			}
		case errors.As(err, &se):
			code, status, msg = se.Code, se.Status, se.Message
		default:
			if s.Log != nil {
				s.Log.ErrorContext(ctx, "account control failed", "path", r.URL.Path, "err", err)
			}
		}
		w.Header().Set("X-Amzn-ErrorType", code)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// control authenticates the caller as a root user and runs the control.
func (s *Service) control(ctx context.Context, r *http.Request) (map[string]any, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	sreq := sigv4.NewRequest(r, hex.EncodeToString(sum[:]))
	auth, err := sigv4.Parse(sreq)
	if err != nil {
		return nil, err
	}
	at := s.now()
	p, err := s.Authn.Authenticate(ctx, sreq, auth, at)
	if err != nil {
		return nil, err
	}
	op := strings.TrimPrefix(r.URL.Path, ControlPrefix)
	if !p.IsRoot() || p.Issuer == "AssumeRoot" {
		return nil, accessDenied("User: %s is not authorized to perform: %s on account %s: only the account's root user can do this.", p.ARN, op, p.Account)
	}
	switch {
	case op == "status" && r.Method == http.MethodGet:
		a, err := getAccountInfo(ctx, s.Store, p.Account)
		if err != nil {
			return nil, err
		}
		return statusOut(a), nil
	case op == "close" && r.Method == http.MethodPost:
		return s.update(ctx, p, func(tx store.Tx, a *accounts.Account) error { return s.closeAccount(ctx, tx, a, at) })
	case op == "reopen" && r.Method == http.MethodPost:
		return s.update(ctx, p, func(_ store.Tx, a *accounts.Account) error { return reopen(a, at) })
	case op == "billing-access" && r.Method == http.MethodPut:
		var req struct{ Enabled *bool }
		if err := json.Unmarshal(body, &req); err != nil || req.Enabled == nil {
			return nil, validation(`The body must be {"Enabled": true} or {"Enabled": false}.`)
		}
		return s.update(ctx, p, func(_ store.Tx, a *accounts.Account) error {
			a.BillingAccess = *req.Enabled
			return nil
		})
	}
	e := apierr.New("UnknownOperationException", "Unknown operation %s %s", r.Method, r.URL.Path)
	e.Status = http.StatusNotFound
	return nil, e
}

func statusOut(a *accounts.Account) map[string]any {
	out := map[string]any{"AccountId": a.ID, "Status": a.Status, "BillingAccess": a.BillingAccess}
	if !a.Closed.IsZero() {
		out["Closed"] = a.Closed.UTC().Format(time.RFC3339)
	}
	return out
}

// update changes the caller's account in one transaction.
func (s *Service) update(ctx context.Context, p *principal.Principal, fn func(store.Tx, *accounts.Account) error) (map[string]any, error) {
	var out map[string]any
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		a, err := getAccountInfo(ctx, tx, p.Account)
		if err != nil {
			return err
		}
		if err := fn(tx, a); err != nil {
			return err
		}
		if err := accounts.Update(ctx, tx, a); err != nil {
			return err
		}
		out = statusOut(a)
		return nil
	})
	return out, err
}

// closeAccount suspends a; a management account must delete its
// organization first, as AWS requires.
func (s *Service) closeAccount(ctx context.Context, tx store.Tx, a *accounts.Account, at time.Time) error {
	if a.Status == accounts.Suspended {
		return conflict("The account %s is already closed.", a.ID)
	}
	o, err := accountctl.OrgOf(ctx, tx, a.ID)
	if err != nil {
		return err
	}
	if o != nil && o.Mgmt == a.ID {
		return conflict("The account %s is the management account of organization %s: remove its member accounts and delete the organization before closing it.", a.ID, o.ID)
	}
	a.Status, a.Closed = accounts.Suspended, at.UTC().Truncate(time.Second)
	return nil
}

// reopen returns a closed account to ACTIVE within the post-closure
// period. An account closed through Organizations has no closing time
// recorded and may always be reopened.
func reopen(a *accounts.Account, at time.Time) error {
	if a.Status != accounts.Suspended {
		return conflict("The account %s is not closed.", a.ID)
	}
	if !a.Closed.IsZero() && at.Sub(a.Closed) > PostClosurePeriod {
		return accessDenied("The account %s was closed on %s; the 90-day post-closure period has ended and it can no longer be reopened.", a.ID, a.Closed.Format("2006-01-02"))
	}
	a.Status, a.Closed = accounts.Active, time.Time{}
	return nil
}
