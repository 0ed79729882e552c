// Package authn authenticates AWS requests: it finds the access key a
// request was signed with, verifies the SigV4 signature against that key's
// own secret, and returns the calling principal. Key material is cached in
// memory and dropped when the key's account changes.
package authn

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/config"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/secrets"
	"github.com/iamd/iamd/internal/service/iam"
	"github.com/iamd/iamd/internal/sessiontoken"
	"github.com/iamd/iamd/internal/sigv4"
	"github.com/iamd/iamd/internal/store"
)

// errInvalidToken is AWS's answer for an unknown or inactive access key.
var errInvalidToken = &sigv4.Error{Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid.", Status: http.StatusForbidden}

// Authenticator implements httpapi.Authenticator.
type Authenticator struct {
	Store          store.Store
	Keys           *secrets.Keyring
	IAM            *iam.Service
	Mode           string // config.AuthEnforce, AuthSoft or AuthOff
	DefaultAccount string
	Log            *slog.Logger

	verifier *sigv4.Verifier

	mu    sync.RWMutex
	cache map[string]*entry // by access key id

	uses chan keyUse
}

// entry is a cached, authenticated key: its secret with the signing keys
// derived from it, and the principal it authenticates as (copied per
// request).
type entry struct {
	keys      *sigv4.SigningKeys
	active    bool
	principal principal.Principal
	// noted is when (Unix seconds) a use was last queued for the recorder,
	// which writes at most one per lastUsedInterval: later uses in the
	// interval are not queued at all, so a warm request does not wake it.
	noted atomic.Int64
}

type keyUse struct {
	id string
	lu iam.LastUsed
}

// New returns an authenticator and starts its last-used recorder, which
// stops when ctx ends.
func New(ctx context.Context, a *Authenticator) *Authenticator {
	a.verifier = sigv4.NewVerifier(4096)
	a.cache = map[string]*entry{}
	a.uses = make(chan keyUse, 1024)
	a.Store.Changes(a.invalidate)
	go a.recordUses(ctx)
	return a
}

// invalidate drops cached keys of account (all of them: changes are rare
// and the cache refills on the next request).
func (a *Authenticator) invalidate(account string) {
	a.mu.Lock()
	for id, e := range a.cache {
		if e.principal.Account == account {
			delete(a.cache, id)
		}
	}
	a.mu.Unlock()
}

// Authenticate implements httpapi.Authenticator.
func (a *Authenticator) Authenticate(ctx context.Context, req *sigv4.Request, auth *sigv4.Auth, now time.Time) (*principal.Principal, error) {
	if auth.SecurityToken != "" || strings.HasPrefix(auth.AccessKeyID, "ASIA") {
		return a.session(req, auth, now)
	}
	e, err := a.lookup(ctx, auth.AccessKeyID)
	if a.Mode == config.AuthOff {
		// Test mode: keys iamd issued act as their own principal; anything
		// else acts as the default account's root. No signature check.
		if err == nil {
			p := e.principal
			return &p, nil
		}
		p := rootPrincipal(arn.Partition(auth.Region), a.DefaultAccount)
		p.AccessKeyID = auth.AccessKeyID
		return &p, nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, errInvalidToken
	}
	if err != nil {
		return nil, err
	}
	if !e.active {
		return nil, errInvalidToken
	}
	if err := a.verifier.VerifyKeys(req, auth, e.keys, now); err != nil {
		return nil, err
	}
	p := e.principal
	if t, last := now.Unix(), e.noted.Load(); t-last >= int64(lastUsedInterval/time.Second) && e.noted.CompareAndSwap(last, t) {
		a.noteUse(auth, now)
	}
	return &p, nil
}

// errExpired is AWS's answer for a session past its expiration.
var errExpired = &sigv4.Error{Code: "ExpiredToken", Message: "The security token included in the request is expired", Status: http.StatusForbidden}

// session authenticates temporary credentials: the token carries the
// session, sealed for its access key id (see internal/sessiontoken).
func (a *Authenticator) session(req *sigv4.Request, auth *sigv4.Auth, now time.Time) (*principal.Principal, error) {
	c, err := sessiontoken.Open(a.Keys, auth.AccessKeyID, auth.SecurityToken)
	if err != nil {
		if a.Mode == config.AuthOff {
			p := rootPrincipal(arn.Partition(auth.Region), a.DefaultAccount)
			return &p, nil
		}
		return nil, errInvalidToken
	}
	if a.Mode != config.AuthOff {
		if c.Expired(now) {
			return nil, errExpired
		}
		if err := a.verifier.Verify(req, auth, c.Secret, now); err != nil {
			return nil, err
		}
	}
	p := c.Principal
	p.AccessKeyID = auth.AccessKeyID
	p.Temporary = true
	return &p, nil
}

// lookup returns the cached entry for key id, loading it on a miss.
func (a *Authenticator) lookup(ctx context.Context, id string) (*entry, error) {
	a.mu.RLock()
	e := a.cache[id]
	a.mu.RUnlock()
	if e != nil {
		return e, nil
	}
	k, rec, err := iam.LookupAccessKey(ctx, a.Store, id)
	if err != nil {
		return nil, err
	}
	secret, err := k.Secret(a.Keys)
	if err != nil {
		return nil, err
	}
	acct, err := accounts.Get(ctx, a.Store, rec.Account)
	if err != nil {
		return nil, err
	}
	var p principal.Principal
	if k.UserName == "" {
		p = rootPrincipal(acct.Partition, acct.ID)
	} else {
		u, err := iam.LookupUser(ctx, a.Store, acct.ID, k.UserName)
		if err != nil {
			return nil, err
		}
		p = principal.Principal{Type: principal.User, Partition: acct.Partition, Account: acct.ID, ARN: u.ARN, UserID: u.ID, Name: u.Name, Path: u.Path}
	}
	p.AccessKeyID = id
	e = &entry{keys: sigv4.NewSigningKeys(secret), active: k.Status == "Active", principal: p}
	a.mu.Lock()
	a.cache[id] = e
	a.mu.Unlock()
	return e, nil
}

func rootPrincipal(partition, account string) principal.Principal {
	return principal.Principal{Type: principal.Root, Partition: partition, Account: account, ARN: arn.IAM(partition, account, "root"), UserID: account}
}

// noteUse queues a last-used update without blocking the request; when the
// queue is full the update is dropped (last-used data is approximate in AWS
// too).
func (a *Authenticator) noteUse(auth *sigv4.Auth, now time.Time) {
	select {
	case a.uses <- keyUse{id: auth.AccessKeyID, lu: iam.LastUsed{Date: now.UTC().Truncate(time.Second), Service: auth.Service, Region: auth.Region}}:
	default:
	}
}

// lastUsedInterval bounds how often one key's last use is written: each
// write invalidates the account's caches, so it must stay rare.
const lastUsedInterval = time.Minute

// recordUses writes last-used data, at most once per key per interval.
func (a *Authenticator) recordUses(ctx context.Context) {
	written := map[string]time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case u := <-a.uses:
			if last, ok := written[u.id]; ok && u.lu.Date.Sub(last) < lastUsedInterval {
				continue
			}
			written[u.id] = u.lu.Date
			if err := a.IAM.RecordKeyUse(ctx, u.id, u.lu); err != nil && ctx.Err() == nil {
				a.Log.WarnContext(ctx, "recording access key use failed", "access_key_id", u.id, "err", err)
			}
			if len(written) > 100000 {
				clear(written)
			}
		}
	}
}
