package iam

import (
	"context"
	"errors"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// Group is the stored IAM group.
type Group struct {
	Name    string    `json:"name"`
	ID      string    `json:"id"`
	Path    string    `json:"path"`
	ARN     string    `json:"arn"`
	Created time.Time `json:"created"`
}

// IAM quotas for groups, from "IAM and AWS STS quotas"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
const (
	maxGroups        = 300 // groups per account
	maxGroupsPerUser = 10  // groups an IAM user can be a member of
)

func (g *Group) out() map[string]any {
	return map[string]any{"GroupName": g.Name, "GroupId": g.ID, "Path": g.Path, "Arn": g.ARN, "CreateDate": g.Created}
}

// groupOwner is the Parent/owner reference of a group's inline policies and
// attachments.
func groupOwner(groupKey string) string { return "group:" + groupKey }

// memberKey is the key of a membership record: group key, "|", user key.
func memberKey(groupKey, userKey string) string { return groupKey + "|" + userKey }

func (s *Service) groupHandlers(m map[string]service.Handler) {
	m["CreateGroup"] = s.createGroup
	m["GetGroup"] = s.getGroup
	m["ListGroups"] = s.listGroups
	m["UpdateGroup"] = s.updateGroup
	m["DeleteGroup"] = s.deleteGroup
	m["AddUserToGroup"] = s.addUserToGroup
	m["RemoveUserFromGroup"] = s.removeUserFromGroup
	m["ListGroupsForUser"] = s.listGroupsForUser
}

// loadGroup reads a group by name, answering NoSuchEntity as IAM does.
func loadGroup(ctx context.Context, r store.Reader, account, name string) (*Group, store.Record, error) {
	g, rec, err := get[Group](ctx, r, account, kindGroup, key(name))
	return g, rec, notFound(err, "group", name)
}

func (s *Service) createGroup(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name := awsproto.Str(in, "GroupName")
	path := pathOr(in)
	g := &Group{Name: name, ID: s.IDs.Unique(ids.Group), Path: path, ARN: iamARN(c, "group", path, name), Created: now(c)}
	err := createCounted(ctx, s.Store, store.ListQuery{Account: c.Account, Kind: kindGroup}, maxGroups, apierr.Limit("Cannot exceed quota for GroupsPerAccount: %d", maxGroups), store.Record{Account: c.Account, Kind: kindGroup, Key: key(name), ID: g.ID, Path: path, Data: encode(g), Created: g.Created}, apierr.Exists("Group", name))
	if err != nil {
		return nil, err
	}
	return map[string]any{"Group": g.out()}, nil
}

// getGroup returns the group and one page of its members, ordered by user
// key (memberships are keyed group|user, so the store's key order is the
// member order and the marker is a membership key).
func (s *Service) getGroup(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name := awsproto.Str(in, "GroupName")
	g, rec, err := loadGroup(ctx, s.Store, c.Account, name)
	if err != nil {
		return nil, err
	}
	parent := rec.Key
	p, err := listPage(ctx, s.Store, byParent(c.Account, kindMember, parent), in)
	if err != nil {
		return nil, err
	}
	users, err := followLinks(ctx, s.Store, c.Account, kindUser, p.recs, linkRef, func(u *User) (any, error) {
		um := u.out(false)
		delete(um, "PermissionsBoundary")
		return um, nil
	})
	if err != nil {
		return nil, err
	}
	return p.out(map[string]any{"Group": g.out(), "Users": users}), nil
}

func (s *Service) listGroups(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	return listOut(ctx, s.Store, store.ListQuery{Account: c.Account, Kind: kindGroup, PathPrefix: awsproto.Str(in, "PathPrefix")}, in, "Groups", func(g *Group) any {
		return g.out()
	})
}

func (s *Service) updateGroup(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name := awsproto.Str(in, "GroupName")
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		g, rec, err := loadGroup(ctx, tx, c.Account, name)
		if err != nil {
			return err
		}
		applyRename(in, "NewGroupName", &g.Name, &g.Path)
		g.ARN = iamARN(c, "group", g.Path, g.Name)
		oldKey, err := saveRenamed(ctx, tx, c, rec, g, g.Name, g.Path, apierr.Exists("Group", g.Name))
		if err != nil || oldKey == key(g.Name) {
			return err
		}
		// A rename moves every record naming the group: memberships (keyed
		// group|user, Parent group) and owner-scoped policy records.
		newKey := key(g.Name)
		if err := reparent(ctx, tx, c.Account, kindMember, oldKey, newKey, nil); err != nil {
			return err
		}
		for _, kind := range []string{kindInline, kindAttachment} {
			if err := reparent(ctx, tx, c.Account, kind, groupOwner(oldKey), groupOwner(newKey), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) deleteGroup(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name := awsproto.Str(in, "GroupName")
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		_, rec, err := loadGroup(ctx, tx, c.Account, name)
		if err != nil {
			return err
		}
		// In the order IAM checks them.
		list := append([]conflict{{byParent(c.Account, kindMember, rec.Key), "Cannot delete entity, must remove users from group first."}},
			policyConflicts(c.Account, groupOwner(rec.Key))...)
		if err := checkConflicts(ctx, tx, list...); err != nil {
			return err
		}
		return tx.Delete(ctx, c.Account, kindGroup, rec.Key)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// membershipIn loads the group and the user a request's GroupName and
// UserName name.
func membershipIn(ctx context.Context, r store.Reader, c *service.Call, in map[string]any) (grec, urec store.Record, err error) {
	if _, grec, err = loadGroup(ctx, r, c.Account, awsproto.Str(in, "GroupName")); err != nil {
		return grec, urec, err
	}
	_, urec, err = loadUser(ctx, r, c.Account, awsproto.Str(in, "UserName"))
	return grec, urec, err
}

func (s *Service) addUserToGroup(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		grec, urec, err := membershipIn(ctx, tx, c, in)
		if err != nil {
			return err
		}
		mk := memberKey(grec.Key, urec.Key)
		if _, err := tx.Get(ctx, c.Account, kindMember, mk); err == nil {
			return nil // IAM accepts adding a member again and changes nothing
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		ref := urec.Key
		if err := checkQuota(ctx, tx, byRef(c.Account, kindMember, ref), maxGroupsPerUser, apierr.Limit("Cannot exceed quota for GroupsPerUser: %d", maxGroupsPerUser)); err != nil {
			return err
		}
		return tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindMember, Key: mk, Parent: grec.Key, Ref: urec.Key, Created: now(c)})
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) removeUserFromGroup(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	userName := awsproto.Str(in, "UserName")
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		grec, urec, err := membershipIn(ctx, tx, c, in)
		if err != nil {
			return err
		}
		err = tx.Delete(ctx, c.Account, kindMember, memberKey(grec.Key, urec.Key))
		if errors.Is(err, store.ErrNotFound) {
			// IAM names the user that is not in the group.
			return apierr.NotFound("user", userName)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// listGroupsForUser pages through the user's memberships by Ref (an indexed
// query); the marker is the last membership key, so the order is by group.
func (s *Service) listGroupsForUser(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	_, urec, err := loadUser(ctx, s.Store, c.Account, awsproto.Str(in, "UserName"))
	if err != nil {
		return nil, err
	}
	return linkedOut(ctx, s.Store, byRef(c.Account, kindMember, urec.Key), in, kindGroup, linkParent, "Groups", func(g *Group) (any, error) {
		return g.out(), nil
	})
}
