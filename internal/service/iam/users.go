package iam

import (
	"context"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// User is the stored IAM user. Its record's Ref is its permissions boundary
// ARN, so boundary uses are counted and listed on an index.
type User struct {
	Name             string    `json:"name"`
	ID               string    `json:"id"`
	Path             string    `json:"path"`
	ARN              string    `json:"arn"`
	Created          time.Time `json:"created"`
	PasswordLastUsed time.Time `json:"pwLastUsed,omitzero"`
	Boundary         string    `json:"boundary,omitempty"` // permissions boundary policy ARN
	Tags             []Tag     `json:"tags,omitempty"`
}

// maxUsers is IAM's default quota of users per account.
const maxUsers = 5000

func (u *User) out(withTags bool) map[string]any {
	m := map[string]any{
		"UserName": u.Name, "UserId": u.ID, "Path": u.Path, "Arn": u.ARN, "CreateDate": u.Created,
	}
	if !u.PasswordLastUsed.IsZero() {
		m["PasswordLastUsed"] = u.PasswordLastUsed
	}
	if u.Boundary != "" {
		m["PermissionsBoundary"] = boundaryOut(u.Boundary)
	}
	if withTags && len(u.Tags) > 0 {
		m["Tags"] = tagsOut(u.Tags)
	}
	return m
}

func boundaryOut(policyARN string) map[string]any {
	return map[string]any{"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": policyARN}
}

func (s *Service) userHandlers(m map[string]service.Handler) {
	m["CreateUser"] = s.createUser
	m["GetUser"] = s.getUser
	m["ListUsers"] = s.listUsers
	m["UpdateUser"] = s.updateUser
	m["DeleteUser"] = s.deleteUser
}

// LookupUser reads a user by name, for authentication.
func LookupUser(ctx context.Context, r store.Reader, account, name string) (*User, error) {
	u, _, err := loadUser(ctx, r, account, name)
	return u, err
}

// loadUser reads a user by name, answering NoSuchEntity as IAM does.
func loadUser(ctx context.Context, r store.Reader, account, name string) (*User, store.Record, error) {
	u, rec, err := get[User](ctx, r, account, kindUser, key(name))
	return u, rec, notFound(err, "user", name)
}

func (s *Service) createUser(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name := awsproto.Str(in, "UserName")
	tags, err := tagsIn(in)
	if err != nil {
		return nil, err
	}
	path := pathOr(in)
	u := &User{Name: name, ID: s.IDs.Unique(ids.User), Path: path, ARN: iamARN(c, "user", path, name), Created: now(c), Tags: tags}
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		if b := awsproto.Str(in, "PermissionsBoundary"); b != "" {
			if err := s.checkBoundary(ctx, tx, c, b); err != nil {
				return err
			}
			u.Boundary = b
		}
		if err := checkQuota(ctx, tx, store.ListQuery{Account: c.Account, Kind: kindUser}, maxUsers, apierr.Limit("Cannot exceed quota for UsersPerAccount: %d.", maxUsers)); err != nil {
			return err
		}
		return insertNew(ctx, tx, store.Record{Account: c.Account, Kind: kindUser, Key: key(name), ID: u.ID, Path: path, Ref: u.Boundary, Data: encode(u), Created: u.Created}, apierr.Exists("User", name))
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"User": u.out(true)}, nil
}

func (s *Service) getUser(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name := awsproto.Str(in, "UserName")
	if name == "" {
		// Without UserName, IAM describes the caller (for root: the account).
		p := c.Principal
		switch {
		case p.IsRoot():
			acct, err := s.account(ctx, c.Account)
			if err != nil {
				return nil, err
			}
			return map[string]any{"User": map[string]any{"UserId": c.Account, "Arn": p.ARN, "CreateDate": acct.Created, "Path": "/"}}, nil
		case p.Type == principal.User:
			name = p.Name
		default:
			return nil, apierr.New(apierr.ValidationError, "Must specify userName when calling with non-User credentials")
		}
	}
	u, _, err := loadUser(ctx, s.Store, c.Account, name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"User": u.out(true)}, nil
}

func (s *Service) listUsers(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	return listOut(ctx, s.Store, store.ListQuery{Account: c.Account, Kind: kindUser, PathPrefix: awsproto.Str(in, "PathPrefix")}, in, "Users", func(u *User) any {
		// ListUsers leaves tags and boundaries out; GetUser has them.
		m := u.out(false)
		delete(m, "PermissionsBoundary")
		return m
	})
}

func (s *Service) updateUser(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name := awsproto.Str(in, "UserName")
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		u, rec, err := loadUser(ctx, tx, c.Account, name)
		if err != nil {
			return err
		}
		applyRename(in, "NewUserName", &u.Name, &u.Path)
		u.ARN = iamARN(c, "user", u.Path, u.Name)
		oldKey, err := saveRenamed(ctx, tx, c, rec, u, u.Name, u.Path, apierr.Exists("User", u.Name))
		if err != nil || oldKey == key(u.Name) {
			return err
		}
		// A rename moves every record that refers to the user by name
		// (group memberships, keys, inline policies...).
		return s.renameUserRefs(ctx, tx, c, oldKey, u)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// userOwner is the Parent/owner reference of a user's inline policies and
// attachments.
func userOwner(userKey string) string { return "user:" + userKey }

// renameUserRefs re-keys the records that name a user after a rename.
func (s *Service) renameUserRefs(ctx context.Context, tx store.Tx, c *service.Call, oldKey string, u *User) error {
	newKey := key(u.Name)
	// Records whose Parent is the user key.
	for _, kind := range []string{kindAccessKey, kindLoginProfile, kindSSHKey, kindSigningCert, kindServiceCred, kindMFA} {
		if err := reparent(ctx, tx, c.Account, kind, oldKey, newKey, func(r *store.Record) {}); err != nil {
			return err
		}
	}
	// Owner-scoped records (inline policies, attachments).
	for _, kind := range []string{kindInline, kindAttachment} {
		if err := reparent(ctx, tx, c.Account, kind, userOwner(oldKey), userOwner(newKey), nil); err != nil {
			return err
		}
	}
	// Group memberships reference the user through Ref.
	old := oldKey
	recs, err := tx.List(ctx, byRef(c.Account, kindMember, old))
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := tx.Delete(ctx, r.Account, r.Kind, r.Key); err != nil {
			return err
		}
		r.Ref, r.Key = newKey, r.Parent+"|"+newKey
		if err := tx.Insert(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// reparent moves every record of kind whose Parent is oldParent to
// newParent; keys that start with oldParent are re-keyed the same way. fix,
// when non-nil, may adjust each record further.
func reparent(ctx context.Context, tx store.Tx, account, kind, oldParent, newParent string, fix func(*store.Record)) error {
	op := oldParent
	recs, err := tx.List(ctx, byParent(account, kind, op))
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := tx.Delete(ctx, r.Account, r.Kind, r.Key); err != nil {
			return err
		}
		r.Parent = newParent
		if len(r.Key) >= len(oldParent) && r.Key[:len(oldParent)] == oldParent && r.Key != r.ID {
			r.Key = newParent + r.Key[len(oldParent):]
		}
		if fix != nil {
			fix(&r)
		}
		if err := tx.Insert(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// userDeleteConflicts lists, in AWS's order, what must be gone before the
// user with key k can be deleted, with IAM's message for each.
func userDeleteConflicts(account, k string) []conflict {
	const must = "Cannot delete entity, must "
	return append([]conflict{
		{byParent(account, kindLoginProfile, k), must + "delete login profile first."},
		{byParent(account, kindAccessKey, k), must + "delete access keys first."},
		{byParent(account, kindSigningCert, k), must + "delete signing certificates first."},
		{byParent(account, kindSSHKey, k), must + "delete SSH public keys first."},
		{byParent(account, kindServiceCred, k), must + "delete service specific credentials first."},
		{byParent(account, kindMFA, k), must + "delete MFA device first."},
	}, append(policyConflicts(account, userOwner(k)),
		conflict{byRef(account, kindMember, k), must + "remove users from group first."})...)
}

func (s *Service) deleteUser(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name := awsproto.Str(in, "UserName")
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		_, rec, err := loadUser(ctx, tx, c.Account, name)
		if err != nil {
			return err
		}
		if err := checkConflicts(ctx, tx, userDeleteConflicts(c.Account, rec.Key)...); err != nil {
			return err
		}
		return tx.Delete(ctx, c.Account, kindUser, rec.Key)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}
