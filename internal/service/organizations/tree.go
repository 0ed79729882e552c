package organizations

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// root is the organization's root.
type root struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// PolicyTypes are the policy types enabled in the organization.
	PolicyTypes []string `json:"types,omitempty"`
	Tags        []orgTag `json:"tags,omitempty"`
}

// ou is an organizational unit.
type ou struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Parent string   `json:"parent"`
	Tags   []orgTag `json:"tags,omitempty"`
}

// member is an account's membership: where it sits and how it joined. Its
// name, email and status are the account directory's (internal/accounts).
type member struct {
	ID       string    `json:"id"`
	Parent   string    `json:"parent"`
	Joined   string    `json:"joined"` // INVITED | CREATED
	JoinedAt time.Time `json:"joinedAt"`
	Tags     []orgTag  `json:"tags,omitempty"`
	// Closed is when CloseAccount closed it (for the closure quota).
	Closed time.Time `json:"closed,omitzero"`
}

func (s *Service) treeHandlers(m map[string]service.Handler) {
	m["ListRoots"] = s.listRoots
	m["CreateOrganizationalUnit"] = s.createOU
	m["DescribeOrganizationalUnit"] = s.describeOU
	m["UpdateOrganizationalUnit"] = s.updateOU
	m["DeleteOrganizationalUnit"] = s.deleteOU
	m["ListOrganizationalUnitsForParent"] = s.listOUsForParent
	m["ListChildren"] = s.listChildren
	m["ListParents"] = s.listParents
	m["MoveAccount"] = s.moveAccount
}

func (s *Service) getRoot(ctx context.Context, r store.Reader, o *organization) (*root, error) {
	return loadRoot(ctx, r, o)
}

func loadRoot(ctx context.Context, r store.Reader, o *organization) (*root, error) {
	rec, err := r.Get(ctx, o.Mgmt, kindRoot, o.RootID)
	if err != nil {
		return nil, fmt.Errorf("organizations: root of %s: %w", o.ID, err)
	}
	return decode[root](rec)
}

func saveRoot(ctx context.Context, tx store.Tx, o *organization, rt *root) error {
	rec, err := tx.Get(ctx, o.Mgmt, kindRoot, rt.ID)
	if err != nil {
		return fmt.Errorf("organizations: root: %w", err)
	}
	rec.Data = encode(rt)
	return tx.Update(ctx, rec)
}

func (s *Service) rootOut(o *organization, rt *root) map[string]any {
	return map[string]any{"Id": rt.ID, "Arn": o.rootARN(rt.ID), "Name": rt.Name, "PolicyTypes": policyTypesOut(rt.PolicyTypes)}
}

func getOU(ctx context.Context, r store.Reader, o *organization, id string) (*ou, store.Record, error) {
	rec, err := r.Get(ctx, o.Mgmt, kindOU, id)
	if isNotFound(err) {
		return nil, rec, errf("OrganizationalUnitNotFoundException", "You specified an organizational unit that doesn't exist.")
	}
	if err != nil {
		return nil, rec, fmt.Errorf("organizations: ou %s: %w", id, err)
	}
	u, err := decode[ou](rec)
	return u, rec, err
}

func getMember(ctx context.Context, r store.Reader, o *organization, id string) (*member, store.Record, error) {
	rec, err := r.Get(ctx, o.Mgmt, kindMember, id)
	if isNotFound(err) {
		return nil, rec, errf("AccountNotFoundException", "You specified an account that doesn't exist.")
	}
	if err != nil {
		return nil, rec, fmt.Errorf("organizations: account %s: %w", id, err)
	}
	m, err := decode[member](rec)
	return m, rec, err
}

// chain returns the ids from the root down to parent (inclusive):
// [r-…, ou-…, …]. notFound is returned when parent is neither the root nor
// an OU of o.
func chain(ctx context.Context, r store.Reader, o *organization, parent string, notFound error) ([]string, error) {
	var ids []string
	for id := parent; ; {
		if id == o.RootID {
			ids = append(ids, id)
			break
		}
		if !strings.HasPrefix(id, "ou-") {
			return nil, notFound
		}
		u, _, err := getOU(ctx, r, o, id)
		if err != nil {
			if isCode(err, "OrganizationalUnitNotFoundException") {
				return nil, notFound
			}
			return nil, err
		}
		ids = append(ids, id)
		id = u.Parent
		if len(ids) > maxOUDepth+1 {
			return nil, fmt.Errorf("organizations: OU chain of %s too deep", parent)
		}
	}
	for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
		ids[i], ids[j] = ids[j], ids[i]
	}
	return ids, nil
}

// path renders a chain as Organizations paths do: "o-…/r-…/ou-…/".
func (o *organization) path(ids []string) string {
	return o.ID + "/" + strings.Join(ids, "/") + "/"
}

func parentNotFound() error {
	return errf("ParentNotFoundException", "We can't find a root or OU with the ID that you specified.")
}

func parentType(id string) string {
	if strings.HasPrefix(id, "ou-") {
		return "ORGANIZATIONAL_UNIT"
	}
	return "ROOT"
}

func (s *Service) ouOut(ctx context.Context, r store.Reader, o *organization, u *ou) (map[string]any, error) {
	ch, err := chain(ctx, r, o, u.ID, parentNotFound())
	if err != nil {
		return nil, err
	}
	return map[string]any{"Id": u.ID, "Arn": o.ouARN(u.ID), "Name": u.Name, "Path": o.path(ch)}, nil
}

func (s *Service) listRoots(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	o, err := s.asReader(ctx, s.Store, c)
	if err != nil {
		return nil, err
	}
	rt, err := s.getRoot(ctx, s.Store, o)
	if err != nil {
		return nil, err
	}
	items, next, err := paginate([]*root{rt}, func(r *root) string { return r.ID }, in)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	for i, r := range items {
		out[i] = s.rootOut(o, r)
	}
	return pageOut("Roots", out, next), nil
}

// siblingNamed reports whether parent has an OU called name (other than except).
func siblingNamed(ctx context.Context, r store.Reader, o *organization, parent, name, except string) (bool, error) {
	q := o.q(kindOU)
	q.Ref = &parent
	sibs, err := listAll[ou](ctx, r, q)
	if err != nil {
		return false, err
	}
	for _, u := range sibs {
		if u.Name == name && u.ID != except {
			return true, nil
		}
	}
	return false, nil
}

func (s *Service) createOU(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	parent, name := awsproto.Str(in, "ParentId"), awsproto.Str(in, "Name")
	tags, err := tagsIn(in)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		o, err := s.asManager(ctx, tx, c)
		if err != nil {
			return err
		}
		ch, err := chain(ctx, tx, o, parent, parentNotFound())
		if err != nil {
			return err
		}
		if len(ch) > maxOUDepth { // the root plus five levels of OUs
			return constraint("OU_DEPTH_LIMIT_EXCEEDED", "You attempted to create an OU tree that is too many levels deep.")
		}
		n, err := tx.Count(ctx, o.q(kindOU))
		if err != nil {
			return fmt.Errorf("organizations: count OUs: %w", err)
		}
		if n >= maxOUs {
			return constraint("OU_NUMBER_LIMIT_EXCEEDED", "You have reached the maximum number of OUs in the organization.")
		}
		if dup, err := siblingNamed(ctx, tx, o, parent, name, ""); err != nil {
			return err
		} else if dup {
			return errf("DuplicateOrganizationalUnitException", "An OU with the same name already exists.")
		}
		u := &ou{ID: s.randomID("ou-"+strings.TrimPrefix(o.RootID, "r-")+"-", 8, lowerAlnum), Name: name, Parent: parent, Tags: tags}
		if err := tx.Insert(ctx, store.Record{Account: o.Mgmt, Kind: kindOU, Key: u.ID, ID: u.ID, Ref: parent, Data: encode(u), Created: now(c)}); err != nil {
			return fmt.Errorf("organizations: insert OU: %w", err)
		}
		if err := s.attachDefaults(ctx, tx, o, u.ID); err != nil {
			return err
		}
		out = map[string]any{"Id": u.ID, "Arn": o.ouARN(u.ID), "Name": u.Name, "Path": o.path(append(ch, u.ID))}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"OrganizationalUnit": out}, nil
}

func (s *Service) describeOU(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	o, err := s.asReader(ctx, s.Store, c)
	if err != nil {
		return nil, err
	}
	u, _, err := getOU(ctx, s.Store, o, awsproto.Str(in, "OrganizationalUnitId"))
	if err != nil {
		return nil, err
	}
	out, err := s.ouOut(ctx, s.Store, o, u)
	if err != nil {
		return nil, err
	}
	return map[string]any{"OrganizationalUnit": out}, nil
}

func (s *Service) updateOU(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	var out map[string]any
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		o, err := s.asManager(ctx, tx, c)
		if err != nil {
			return err
		}
		u, rec, err := getOU(ctx, tx, o, awsproto.Str(in, "OrganizationalUnitId"))
		if err != nil {
			return err
		}
		if name := awsproto.Str(in, "Name"); name != "" && name != u.Name {
			if dup, err := siblingNamed(ctx, tx, o, u.Parent, name, u.ID); err != nil {
				return err
			} else if dup {
				return errf("DuplicateOrganizationalUnitException", "An OU with the same name already exists.")
			}
			u.Name = name
			rec.Data = encode(u)
			if err := tx.Update(ctx, rec); err != nil {
				return fmt.Errorf("organizations: update OU: %w", err)
			}
		}
		out, err = s.ouOut(ctx, tx, o, u)
		return err
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"OrganizationalUnit": out}, nil
}

func (s *Service) deleteOU(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	return nil, s.asManagerTx(ctx, c, func(tx store.Tx, o *organization) error {
		u, _, err := getOU(ctx, tx, o, awsproto.Str(in, "OrganizationalUnitId"))
		if err != nil {
			return err
		}
		for _, k := range []string{kindOU, kindMember} {
			q := o.q(k)
			q.Ref = &u.ID
			n, err := tx.Count(ctx, q)
			if err != nil {
				return fmt.Errorf("organizations: count children: %w", err)
			}
			if n > 0 {
				return errf("OrganizationalUnitNotEmptyException", "You can't delete an organizational unit (OU) that contains accounts or other OUs.")
			}
		}
		if err := detachAll(ctx, tx, o, u.ID); err != nil {
			return err
		}
		return tx.Delete(ctx, o.Mgmt, kindOU, u.ID)
	})
}

func (s *Service) listOUsForParent(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	o, err := s.asReader(ctx, s.Store, c)
	if err != nil {
		return nil, err
	}
	parent := awsproto.Str(in, "ParentId")
	ch, err := chain(ctx, s.Store, o, parent, parentNotFound())
	if err != nil {
		return nil, err
	}
	q := o.q(kindOU)
	q.Ref = &parent
	ous, err := listAll[ou](ctx, s.Store, q)
	if err != nil {
		return nil, err
	}
	items, next, err := paginate(ous, func(u *ou) string { return u.ID }, in)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	for i, u := range items {
		out[i] = map[string]any{"Id": u.ID, "Arn": o.ouARN(u.ID), "Name": u.Name, "Path": o.path(append(append([]string(nil), ch...), u.ID))}
	}
	return pageOut("OrganizationalUnits", out, next), nil
}

func (s *Service) listChildren(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	o, err := s.asReader(ctx, s.Store, c)
	if err != nil {
		return nil, err
	}
	parent, typ := awsproto.Str(in, "ParentId"), awsproto.Str(in, "ChildType")
	if _, err := chain(ctx, s.Store, o, parent, parentNotFound()); err != nil {
		return nil, err
	}
	kind := kindMember
	if typ == "ORGANIZATIONAL_UNIT" {
		kind = kindOU
	}
	q := o.q(kind)
	q.Ref = &parent
	recs, err := s.Store.List(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("organizations: list children: %w", err)
	}
	items, next, err := paginate(recs, func(r store.Record) string { return r.Key }, in)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	for i, r := range items {
		out[i] = map[string]any{"Id": r.Key, "Type": typ}
	}
	return pageOut("Children", out, next), nil
}

func (s *Service) listParents(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	o, err := s.asReader(ctx, s.Store, c)
	if err != nil {
		return nil, err
	}
	child := awsproto.Str(in, "ChildId")
	var parent string
	if strings.HasPrefix(child, "ou-") {
		u, _, err := getOU(ctx, s.Store, o, child)
		if err != nil {
			return nil, errf("ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
		}
		parent = u.Parent
	} else {
		m, _, err := getMember(ctx, s.Store, o, child)
		if err != nil {
			return nil, errf("ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
		}
		parent = m.Parent
	}
	items, next, err := paginate([]string{parent}, func(s string) string { return s }, in)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	for i, p := range items {
		out[i] = map[string]any{"Id": p, "Type": parentType(p)}
	}
	return pageOut("Parents", out, next), nil
}

func (s *Service) moveAccount(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	acct, src, dst := awsproto.Str(in, "AccountId"), awsproto.Str(in, "SourceParentId"), awsproto.Str(in, "DestinationParentId")
	return nil, s.asManagerTx(ctx, c, func(tx store.Tx, o *organization) error {
		if _, err := chain(ctx, tx, o, src, errf("SourceParentNotFoundException", "We can't find a source root or OU with the ParentId that you specified.")); err != nil {
			return err
		}
		if _, err := chain(ctx, tx, o, dst, errf("DestinationParentNotFoundException", "We can't find the destination container (a root or OU) with the ParentId that you specified.")); err != nil {
			return err
		}
		m, rec, err := getMember(ctx, tx, o, acct)
		if err != nil {
			return err
		}
		if m.Parent != src {
			return errf("AccountNotFoundException", "You specified an account that doesn't exist in the source parent.")
		}
		if src == dst {
			return errf("DuplicateAccountException", "That account is already present in the specified destination.")
		}
		m.Parent = dst
		rec.Ref, rec.Data = dst, encode(m)
		return tx.Update(ctx, rec)
	})
}
