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

// kindProfileRole links an instance profile to its role: key profile|role,
// Parent the profile key, Ref the role key, so both "roles of a profile" and
// "profiles of a role" are indexed queries.
const kindProfileRole = "instanceprofilerole"

// InstanceProfile is the stored IAM instance profile.
type InstanceProfile struct {
	Name    string    `json:"name"`
	ID      string    `json:"id"`
	Path    string    `json:"path"`
	ARN     string    `json:"arn"`
	Created time.Time `json:"created"`
	Tags    []Tag     `json:"tags,omitempty"`
	// Role is the key of the profile's role, "" when it has none. It mirrors
	// the kindProfileRole link (written in the same transactions) so listing
	// profiles costs one read per profile rather than a query.
	Role string `json:"role,omitempty"`
}

// IAM quotas for instance profiles, from "IAM and AWS STS quotas"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
const (
	maxInstanceProfiles   = 1000 // instance profiles per account
	maxRolesPerIPInstance = 1    // roles per instance profile
)

func (s *Service) instanceProfileHandlers(m map[string]service.Handler) {
	m["CreateInstanceProfile"] = s.createInstanceProfile
	m["GetInstanceProfile"] = s.getInstanceProfile
	m["ListInstanceProfiles"] = s.listInstanceProfiles
	m["ListInstanceProfilesForRole"] = s.listInstanceProfilesForRole
	m["DeleteInstanceProfile"] = s.deleteInstanceProfile
	m["AddRoleToInstanceProfile"] = s.addRoleToInstanceProfile
	m["RemoveRoleFromInstanceProfile"] = s.removeRoleFromInstanceProfile
}

// loadInstanceProfile reads a profile by name, answering NoSuchEntity as IAM does.
func loadInstanceProfile(ctx context.Context, r store.Reader, account, name string) (*InstanceProfile, store.Record, error) {
	p, rec, err := get[InstanceProfile](ctx, r, account, kindInstanceProfile, key(name))
	if errors.Is(err, store.ErrNotFound) {
		// IAM words instance profile errors without "with name".
		return nil, rec, apierr.New(apierr.NoSuchEntity, "Instance Profile %s cannot be found.", name)
	}
	return p, rec, err
}

// profileOut renders a profile with its roles (the list shape of a role, as
// AWS returns roles inside instance profiles); withTags adds its tags, which
// the list operations leave out.
func profileOut(ctx context.Context, r store.Reader, account string, p *InstanceProfile, withTags bool) (map[string]any, error) {
	roles := []any{}
	if p.Role != "" {
		role, _, err := get[Role](ctx, r, account, kindRole, p.Role)
		switch {
		case err == nil:
			roles = append(roles, role.out(roleList))
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	m := map[string]any{
		"InstanceProfileName": p.Name, "InstanceProfileId": p.ID, "Path": p.Path, "Arn": p.ARN,
		"CreateDate": p.Created, "Roles": roles,
	}
	if withTags && len(p.Tags) > 0 {
		m["Tags"] = tagsOut(p.Tags)
	}
	return m, nil
}

func (s *Service) createInstanceProfile(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name := awsproto.Str(in, "InstanceProfileName")
	tags, err := tagsIn(in)
	if err != nil {
		return nil, err
	}
	path := pathOr(in)
	p := &InstanceProfile{Name: name, ID: s.IDs.Unique(ids.InstanceProfile), Path: path, ARN: iamARN(c, "instance-profile", path, name), Created: now(c), Tags: tags}
	err = createCounted(ctx, s.Store, store.ListQuery{Account: c.Account, Kind: kindInstanceProfile}, maxInstanceProfiles, apierr.Limit("Cannot exceed quota for InstanceProfilesPerAccount: %d", maxInstanceProfiles), store.Record{Account: c.Account, Kind: kindInstanceProfile, Key: key(name), ID: p.ID, Path: path, Data: encode(p), Created: p.Created}, apierr.New(apierr.EntityAlreadyExists, "Instance Profile %s already exists.", name))
	if err != nil {
		return nil, err
	}
	out, err := profileOut(ctx, s.Store, c.Account, p, true)
	if err != nil {
		return nil, err
	}
	return map[string]any{"InstanceProfile": out}, nil
}

func (s *Service) getInstanceProfile(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	p, _, err := loadInstanceProfile(ctx, s.Store, c.Account, awsproto.Str(in, "InstanceProfileName"))
	if err != nil {
		return nil, err
	}
	out, err := profileOut(ctx, s.Store, c.Account, p, true)
	if err != nil {
		return nil, err
	}
	return map[string]any{"InstanceProfile": out}, nil
}

// profilesOut renders a page of profile records for the list operations.
func profilesOut(ctx context.Context, r store.Reader, account string, recs []store.Record) ([]any, error) {
	out := make([]any, 0, len(recs))
	for _, rec := range recs {
		p, err := decode[InstanceProfile](rec)
		if err != nil {
			return nil, err
		}
		m, err := profileOut(ctx, r, account, p, false)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (s *Service) listInstanceProfiles(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	p, err := listPage(ctx, s.Store, store.ListQuery{Account: c.Account, Kind: kindInstanceProfile, PathPrefix: awsproto.Str(in, "PathPrefix")}, in)
	if err != nil {
		return nil, err
	}
	profiles, err := profilesOut(ctx, s.Store, c.Account, p.recs)
	if err != nil {
		return nil, err
	}
	return p.out(map[string]any{"InstanceProfiles": profiles}), nil
}

// listInstanceProfilesForRole pages through the role's profile links by Ref;
// the marker is the last link key, so the order is by profile name.
func (s *Service) listInstanceProfilesForRole(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	_, rrec, err := loadRole(ctx, s.Store, c.Account, awsproto.Str(in, "RoleName"))
	if err != nil {
		return nil, err
	}
	return linkedOut(ctx, s.Store, byRef(c.Account, kindProfileRole, rrec.Key), in, kindInstanceProfile, linkParent, "InstanceProfiles", func(ip *InstanceProfile) (any, error) {
		return profileOut(ctx, s.Store, c.Account, ip, false)
	})
}

func (s *Service) deleteInstanceProfile(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name := awsproto.Str(in, "InstanceProfileName")
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		_, rec, err := loadInstanceProfile(ctx, tx, c.Account, name)
		if err != nil {
			return err
		}
		err = checkConflicts(ctx, tx, conflict{byParent(c.Account, kindProfileRole, rec.Key), "Cannot delete entity, must remove roles from instance profile first."})
		if err != nil {
			return err
		}
		return tx.Delete(ctx, c.Account, kindInstanceProfile, rec.Key)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// profileRoleIn loads the role a request's RoleName names for adding to or
// removing from an instance profile; a service-linked role's profiles
// belong to its service.
func profileRoleIn(ctx context.Context, r store.Reader, c *service.Call, in map[string]any) (store.Record, error) {
	role, rrec, err := loadRole(ctx, r, c.Account, awsproto.Str(in, "RoleName"))
	if err != nil {
		return rrec, err
	}
	if role.ServiceLinked() {
		return rrec, protectedRole(role.Name)
	}
	return rrec, nil
}

func (s *Service) addRoleToInstanceProfile(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	_, err := modify(ctx, s.Store, c, in, profileIn, func(tx store.Tx, p *InstanceProfile) error {
		rrec, err := profileRoleIn(ctx, tx, c, in)
		if err != nil {
			return err
		}
		pk := key(p.Name) // its record key: profiles are never renamed
		// The profile holds one role, so adding a second one, or the same
		// one again, is over the quota.
		err = checkQuota(ctx, tx, byParent(c.Account, kindProfileRole, pk), maxRolesPerIPInstance,
			apierr.Limit("Cannot exceed quota for InstanceSessionsPerInstanceProfile: %d", maxRolesPerIPInstance))
		if err != nil {
			return err
		}
		err = tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindProfileRole, Key: pk + "|" + rrec.Key, Parent: pk, Ref: rrec.Key, Data: []byte("{}"), Created: now(c)})
		if err != nil {
			return err
		}
		p.Role = rrec.Key
		return nil
	})
	return map[string]any{}, err
}

func (s *Service) removeRoleFromInstanceProfile(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	_, err := modify(ctx, s.Store, c, in, profileIn, func(tx store.Tx, p *InstanceProfile) error {
		rrec, err := profileRoleIn(ctx, tx, c, in)
		if err != nil {
			return err
		}
		err = tx.Delete(ctx, c.Account, kindProfileRole, key(p.Name)+"|"+rrec.Key)
		if errors.Is(err, store.ErrNotFound) {
			// IAM names the role that is not in the profile.
			return apierr.NotFound("role", awsproto.Str(in, "RoleName"))
		}
		if err != nil {
			return err
		}
		p.Role = ""
		return nil
	})
	return map[string]any{}, err
}
