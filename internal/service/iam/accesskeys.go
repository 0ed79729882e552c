package iam

import (
	"context"
	"errors"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/secrets"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// AccessKey is a stored long-term access key. The secret is sealed with the
// server's keyring, bound to the key id, and never leaves except once, in
// CreateAccessKey's response.
type AccessKey struct {
	ID       string    `json:"id"`
	UserName string    `json:"user,omitempty"` // empty for the root user's keys
	Status   string    `json:"status"`
	Created  time.Time `json:"created"`
	Sealed   []byte    `json:"sealed"`
	LastUsed *LastUsed `json:"lastUsed,omitempty"`
}

// LastUsed is what GetAccessKeyLastUsed reports.
type LastUsed struct {
	Date    time.Time `json:"date"`
	Service string    `json:"service"`
	Region  string    `json:"region"`
}

// maxAccessKeys is IAM's quota of access keys per user (root included).
const maxAccessKeys = 2

// KindAccessKey is the record kind of access keys, for authentication.
const KindAccessKey = kindAccessKey

// LookupAccessKey finds an access key by id in any account, for
// authentication. The returned record's Account is the key's account.
func LookupAccessKey(ctx context.Context, r store.Reader, id string) (*AccessKey, store.Record, error) {
	rec, err := r.GetByID(ctx, kindAccessKey, id)
	if err != nil {
		return nil, rec, err
	}
	k, err := decode[AccessKey](rec)
	return k, rec, err
}

// Secret opens a key's sealed secret.
func (k *AccessKey) Secret(kr *secrets.Keyring) (string, error) {
	b, err := kr.Open(k.Sealed, []byte("accesskey:"+k.ID))
	return string(b), err
}

// keyOwner resolves whose keys a call manages: the named user, or the
// caller itself when UserName is absent (the root user for root; the
// calling user for IAM users, as IAM infers it from the signing key).
func keyOwner(c *service.Call, in map[string]any) (userName string, root bool, err error) {
	if n := awsproto.Str(in, "UserName"); n != "" {
		return n, false, nil
	}
	switch p := c.Principal; p.Type {
	case principal.Root:
		return "", true, nil
	case principal.User:
		return p.Name, false, nil
	default:
		return "", false, apierr.New(apierr.ValidationError, "Must specify userName when calling with non-User credentials")
	}
}

// ownerParent returns the Parent under which an owner's keys are stored,
// checking that a named user exists.
func ownerParent(ctx context.Context, r store.Reader, c *service.Call, user string, root bool) (string, error) {
	if root {
		return rootOwner, nil
	}
	_, rec, err := loadUser(ctx, r, c.Account, user)
	if err != nil {
		return "", err
	}
	return rec.Key, nil
}

func (s *Service) accessKeyHandlers(m map[string]service.Handler) {
	m["CreateAccessKey"] = s.createAccessKey
	m["ListAccessKeys"] = s.listAccessKeys
	m["UpdateAccessKey"] = updateStatus(s, accessKeyIn)
	m["DeleteAccessKey"] = deleteHandler(s, accessKeyIn)
	m["GetAccessKeyLastUsed"] = s.getAccessKeyLastUsed
}

// NewAccessKey creates a key for owner (a user key, or rootOwner) inside tx
// and returns it with its secret. Used by CreateAccessKey and bootstrap.
func (s *Service) NewAccessKey(ctx context.Context, tx store.Tx, account, parent, userName string, at time.Time) (*AccessKey, string, error) {
	return s.ImportAccessKey(ctx, tx, account, parent, userName, s.IDs.AccessKeyIDFor(ids.AccessKey, account), secrets.NewSecretAccessKey(), at)
}

// ImportAccessKey stores a key with a given id and secret (bootstrap keeps
// the admin key stable across resets).
func (s *Service) ImportAccessKey(ctx context.Context, tx store.Tx, account, parent, userName, id, secret string, at time.Time) (*AccessKey, string, error) {
	n, err := tx.Count(ctx, byParent(account, kindAccessKey, parent))
	if err != nil {
		return nil, "", err
	}
	if n >= maxAccessKeys {
		return nil, "", apierr.Limit("Cannot exceed quota for AccessKeysPerUser: %d", maxAccessKeys)
	}
	k := &AccessKey{ID: id, UserName: userName, Status: "Active", Created: at.UTC().Truncate(time.Second)}
	if k.Sealed, err = s.Keys.Seal([]byte(secret), []byte("accesskey:"+k.ID)); err != nil {
		return nil, "", err
	}
	err = tx.Insert(ctx, store.Record{Account: account, Kind: kindAccessKey, Key: k.ID, ID: k.ID, Parent: parent, Data: encode(k), Created: k.Created})
	return k, secret, err
}

func (s *Service) createAccessKey(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	user, root, err := keyOwner(c, in)
	if err != nil {
		return nil, err
	}
	var (
		k      *AccessKey
		secret string
	)
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		parent, err := ownerParent(ctx, tx, c, user, root)
		if err != nil {
			return err
		}
		k, secret, err = s.NewAccessKey(ctx, tx, c.Account, parent, user, c.Now)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := map[string]any{"AccessKeyId": k.ID, "SecretAccessKey": secret, "Status": k.Status, "CreateDate": k.Created}
	if !root {
		out["UserName"] = user
	}
	return map[string]any{"AccessKey": out}, nil
}

func (s *Service) listAccessKeys(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	user, root, err := keyOwner(c, in)
	if err != nil {
		return nil, err
	}
	parent, err := ownerParent(ctx, s.Store, c, user, root)
	if err != nil {
		return nil, err
	}
	return listOut(ctx, s.Store, byParent(c.Account, kindAccessKey, parent), in, "AccessKeyMetadata", func(k *AccessKey) any {
		m := map[string]any{"AccessKeyId": k.ID, "Status": k.Status, "CreateDate": k.Created}
		if !root {
			m["UserName"] = user
		}
		return m
	})
}

func (s *Service) getAccessKeyLastUsed(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	id := awsproto.Str(in, "AccessKeyId")
	k, rec, err := LookupAccessKey(ctx, s.Store, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && rec.Account != c.Account) {
		return nil, apierr.New("AccessDenied", "The access key %s does not belong to this account.", id)
	}
	if err != nil {
		return nil, err
	}
	// AWS reports N/A for a key never used.
	lu := map[string]any{"ServiceName": "N/A", "Region": "N/A"}
	if k.LastUsed != nil {
		lu = map[string]any{"LastUsedDate": k.LastUsed.Date, "ServiceName": k.LastUsed.Service, "Region": k.LastUsed.Region}
	}
	out := map[string]any{"AccessKeyLastUsed": lu}
	if k.UserName != "" {
		out["UserName"] = k.UserName
	}
	return out, nil
}

// RecordKeyUse stores a key's last use. Called off the request path by the
// authenticator's batcher; a key deleted meanwhile is ignored.
func (s *Service) RecordKeyUse(ctx context.Context, id string, lu LastUsed) error {
	return s.Store.WithTx(ctx, func(tx store.Tx) error {
		k, rec, err := LookupAccessKey(ctx, tx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		k.LastUsed = &lu
		rec.Data = encode(k)
		return tx.Update(ctx, rec)
	})
}
