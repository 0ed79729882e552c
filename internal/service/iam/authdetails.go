package iam

import (
	"context"
	"slices"

	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// getAccountAuthorizationDetails pages over users, groups, roles, customer
// managed policies and the AWS managed policies in use in the account, in
// that order; MaxItems counts entries across all lists together.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
func (s *Service) getAccountAuthorizationDetails(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	filter := awsproto.Strings(in, "Filter")
	want := func(t string) bool { return len(filter) == 0 || slices.Contains(filter, t) }
	cat, err := loadAWSCatalog()
	if err != nil {
		return nil, err
	}
	bcounts, err := boundaryCounts(ctx, s.Store, c.Account)
	if err != nil {
		return nil, err
	}
	// Always five sources so that markers keep their meaning whatever the
	// filter; an unwanted source is empty.
	none := func(string, int) ([]polItem, error) { return nil, nil }
	sources := []polSource{none, none, none, none, none}
	for i, e := range []struct{ filter, kind string }{{"User", kindUser}, {"Group", kindGroup}, {"Role", kindRole}, {"LocalManagedPolicy", kindPolicy}} {
		if want(e.filter) {
			sources[i] = storeSource(ctx, s.Store, store.ListQuery{Account: c.Account, Kind: e.kind}, nil)
		}
	}
	if want("AWSManagedPolicy") {
		used, err := s.Store.List(ctx, store.ListQuery{Account: c.Account, Kind: kindAWSPolicyUse})
		if err != nil {
			return nil, err
		}
		inUse := map[string]bool{}
		for _, r := range used {
			inUse[r.Key] = true
		}
		sources[4] = func(after string, n int) ([]polItem, error) {
			var out []polItem
			for _, p := range cat.after(after) {
				if len(out) == n {
					break
				}
				if inUse[key(p.Name)] || bcounts.n(p.arn(c.Partition)) > 0 {
					out = append(out, polItem{key: key(p.Name), v: p})
				}
			}
			return out, nil
		}
	}
	items, pg, err := polPaginate(in, sources)
	if err != nil {
		return nil, err
	}
	users, groups, roles, policies := []any{}, []any{}, []any{}, []any{}
	for _, it := range items {
		var (
			d   map[string]any
			err error
		)
		switch v := it.v.(type) {
		case *awsManagedPolicy:
			p := &resolvedPolicy{arn: v.arn(c.Partition), aws: v}
			d, err = s.policyDetail(ctx, c, p, bcounts)
			policies = append(policies, d)
		case store.Record:
			switch v.Kind {
			case kindUser:
				d, err = s.userDetail(ctx, c, v)
				users = append(users, d)
			case kindGroup:
				d, err = s.groupDetail(ctx, c, v)
				groups = append(groups, d)
			case kindRole:
				d, err = s.roleDetail(ctx, c, v)
				roles = append(roles, d)
			case kindPolicy:
				var mp *ManagedPolicy
				if mp, err = decode[ManagedPolicy](v); err == nil {
					d, err = s.policyDetail(ctx, c, &resolvedPolicy{arn: mp.ARN, local: mp, rec: v}, bcounts)
					policies = append(policies, d)
				}
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return pg.out(map[string]any{"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": policies}), nil
}

// inlineDetails lists an owner's inline policies as PolicyDetail shapes
// (documents URL-encoded).
func (s *Service) inlineDetails(ctx context.Context, c *service.Call, owner string) ([]any, error) {
	recs, err := s.Store.List(ctx, byParent(c.Account, kindInline, owner))
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(recs))
	for _, r := range recs {
		ip, err := decode[InlinePolicy](r)
		if err != nil {
			return nil, err
		}
		out = append(out, map[string]any{"PolicyName": ip.Name, "PolicyDocument": escapePolicy(ip.Document)})
	}
	return out, nil
}

// attachedDetails lists an owner's attached managed policies.
func (s *Service) attachedDetails(ctx context.Context, c *service.Call, owner string) ([]any, error) {
	recs, err := s.Store.List(ctx, byParent(c.Account, kindAttachment, owner))
	if err != nil {
		return nil, err
	}
	return attachedOut(recs)
}

// ownerLists fills an entity's inline and attached policy lists.
func (s *Service) ownerLists(ctx context.Context, c *service.Call, owner, inlineField string, m map[string]any) error {
	inl, err := s.inlineDetails(ctx, c, owner)
	if err != nil {
		return err
	}
	att, err := s.attachedDetails(ctx, c, owner)
	if err != nil {
		return err
	}
	m[inlineField], m["AttachedManagedPolicies"] = inl, att
	return nil
}

func (s *Service) userDetail(ctx context.Context, c *service.Call, rec store.Record) (map[string]any, error) {
	u, err := decode[User](rec)
	if err != nil {
		return nil, err
	}
	m := map[string]any{"UserName": u.Name, "UserId": u.ID, "Arn": u.ARN, "Path": u.Path, "CreateDate": u.Created}
	if err := s.ownerLists(ctx, c, polOwner(kindUser, rec.Key), "UserPolicyList", m); err != nil {
		return nil, err
	}
	ref := rec.Key
	members, err := s.Store.List(ctx, byRef(c.Account, kindMember, ref))
	if err != nil {
		return nil, err
	}
	groups := make([]any, 0, len(members))
	for _, mr := range members {
		g, _, err := get[Group](ctx, s.Store, c.Account, kindGroup, mr.Parent)
		if err != nil {
			return nil, err
		}
		groups = append(groups, g.Name)
	}
	m["GroupList"] = groups
	if u.Boundary != "" {
		m["PermissionsBoundary"] = boundaryOut(u.Boundary)
	}
	withTags(m, u.Tags)
	return m, nil
}

func (s *Service) groupDetail(ctx context.Context, c *service.Call, rec store.Record) (map[string]any, error) {
	g, err := decode[Group](rec)
	if err != nil {
		return nil, err
	}
	m := map[string]any{"GroupName": g.Name, "GroupId": g.ID, "Arn": g.ARN, "Path": g.Path, "CreateDate": g.Created}
	if err := s.ownerLists(ctx, c, polOwner(kindGroup, rec.Key), "GroupPolicyList", m); err != nil {
		return nil, err
	}
	return m, nil
}

func (s *Service) roleDetail(ctx context.Context, c *service.Call, rec store.Record) (map[string]any, error) {
	r, err := decode[Role](rec)
	if err != nil {
		return nil, err
	}
	m := map[string]any{
		"RoleName": r.Name, "RoleId": r.ID, "Arn": r.ARN, "Path": r.Path, "CreateDate": r.Created,
		"AssumeRolePolicyDocument": escapePolicy(r.TrustPolicy),
	}
	profiles, err := s.roleProfiles(ctx, c, rec.Key)
	if err != nil {
		return nil, err
	}
	m["InstanceProfileList"] = profiles
	if err := s.ownerLists(ctx, c, polOwner(kindRole, rec.Key), "RolePolicyList", m); err != nil {
		return nil, err
	}
	if r.Boundary != "" {
		m["PermissionsBoundary"] = boundaryOut(r.Boundary)
	}
	withTags(m, r.Tags)
	lu := map[string]any{}
	if r.LastUsed != nil {
		lu["LastUsedDate"] = r.LastUsed.Date
		if r.LastUsed.Region != "" {
			lu["Region"] = r.LastUsed.Region
		}
	}
	m["RoleLastUsed"] = lu
	return m, nil
}

// roleProfiles lists the instance profiles that contain a role (an indexed
// query on the profile-role links), rendered as InstanceProfile shapes.
func (s *Service) roleProfiles(ctx context.Context, c *service.Call, roleKey string) ([]any, error) {
	ref := roleKey
	links, err := s.Store.List(ctx, byRef(c.Account, kindProfileRole, ref))
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(links))
	for _, l := range links {
		ip, _, err := get[InstanceProfile](ctx, s.Store, c.Account, kindInstanceProfile, l.Parent)
		if err != nil {
			return nil, err
		}
		m, err := profileOut(ctx, s.Store, c.Account, ip, false)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// policyDetail renders a ManagedPolicyDetail with every version.
func (s *Service) policyDetail(ctx context.Context, c *service.Call, p *resolvedPolicy, bcounts *boundaryUses) (map[string]any, error) {
	n, err := attachmentCount(ctx, s.Store, c.Account, p.arn)
	if err != nil {
		return nil, err
	}
	m := p.out(c.Partition, policyUsage{attachments: n, boundaries: bcounts.n(p.arn)}, true)
	delete(m, "Tags") // ManagedPolicyDetail has no tags
	var versions []any
	if p.aws != nil {
		versions = []any{awsVersion(p.aws).out(true, true)}
	} else {
		parent := p.rec.Key
		recs, err := s.Store.List(ctx, byParent(c.Account, kindPolicyVersion, parent))
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			v, err := decode[PolicyVersion](r)
			if err != nil {
				return nil, err
			}
			versions = append(versions, v.out(v.ID == p.local.DefaultVersion, true))
		}
	}
	m["PolicyVersionList"] = versions
	return m, nil
}
