package organizations

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// delegation registers an account as delegated administrator for a service.
type delegation struct {
	Account string    `json:"account"`
	Service string    `json:"service"`
	Enabled time.Time `json:"enabled"`
}

func (s *Service) adminHandlers(m map[string]service.Handler) {
	m["EnableAWSServiceAccess"] = s.enableServiceAccess
	m["DisableAWSServiceAccess"] = s.disableServiceAccess
	m["ListAWSServiceAccessForOrganization"] = s.listServiceAccess
	m["RegisterDelegatedAdministrator"] = s.registerDelegatedAdmin
	m["DeregisterDelegatedAdministrator"] = s.deregisterDelegatedAdmin
	m["ListDelegatedAdministrators"] = s.listDelegatedAdmins
	m["ListDelegatedServicesForAccount"] = s.listDelegatedServices
	m["TagResource"] = s.tagResource
	m["UntagResource"] = s.untagResource
	m["ListTagsForResource"] = s.listTags
	m["PutResourcePolicy"] = s.putResourcePolicy
	m["DescribeResourcePolicy"] = s.describeResourcePolicy
	m["DeleteResourcePolicy"] = s.deleteResourcePolicy
}

// checkServicePrincipal accepts AWS service principals (name.amazonaws.com).
func checkServicePrincipal(p string) error {
	name, ok := strings.CutSuffix(p, ".amazonaws.com")
	if !ok || name == "" || strings.ContainsAny(name, " /:") {
		return invalid("UNRECOGNIZED_SERVICE_PRINCIPAL", "You specified a service principal that isn't recognized.")
	}
	return nil
}

func (s *Service) enableServiceAccess(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	sp := awsproto.Str(in, "ServicePrincipal")
	if err := checkServicePrincipal(sp); err != nil {
		return nil, err
	}
	return nil, s.asManagerTx(ctx, c, func(tx store.Tx, o *organization) error {
		if err := requireAllFeatures(o); err != nil {
			return err
		}
		if slices.ContainsFunc(o.Services, func(e enabledService) bool { return e.Principal == sp }) {
			return nil // enabling twice is not an error
		}
		o.Services = append(o.Services, enabledService{Principal: sp, Enabled: now(c)})
		slices.SortFunc(o.Services, func(a, b enabledService) int { return strings.Compare(a.Principal, b.Principal) })
		return saveOrg(ctx, tx, o)
	})
}

func (s *Service) disableServiceAccess(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	sp := awsproto.Str(in, "ServicePrincipal")
	if err := checkServicePrincipal(sp); err != nil {
		return nil, err
	}
	return nil, s.asManagerTx(ctx, c, func(tx store.Tx, o *organization) error {
		o.Services = slices.DeleteFunc(o.Services, func(e enabledService) bool { return e.Principal == sp })
		return saveOrg(ctx, tx, o)
	})
}

func (s *Service) listServiceAccess(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	o, err := s.asReader(ctx, s.Store, c)
	if err != nil {
		return nil, err
	}
	items, next, err := paginate(o.Services, func(e enabledService) string { return e.Principal }, in)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	for i, e := range items {
		out[i] = map[string]any{"ServicePrincipal": e.Principal, "DateEnabled": e.Enabled}
	}
	return pageOut("EnabledServicePrincipals", out, next), nil
}

func delegationKey(account, sp string) string { return account + "|" + sp }

func (s *Service) registerDelegatedAdmin(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	account, sp := awsproto.Str(in, "AccountId"), awsproto.Str(in, "ServicePrincipal")
	if err := checkServicePrincipal(sp); err != nil {
		return nil, err
	}
	return nil, s.asManagerTx(ctx, c, func(tx store.Tx, o *organization) error {
		if err := requireAllFeatures(o); err != nil {
			return err
		}
		if account == o.Mgmt {
			return constraint("CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR", "You can't register the management account of your organization as a delegated administrator for an AWS service integrated with Organizations.")
		}
		if _, _, err := getMember(ctx, tx, o, account); err != nil {
			return err
		}
		if a, err := accounts.Get(ctx, tx, account); err != nil {
			return err
		} else if a.Status == accounts.Suspended {
			return constraint("CANNOT_REGISTER_SUSPENDED_ACCOUNT_AS_DELEGATED_ADMINISTRATOR", "You can't register a suspended account as a delegated administrator.")
		}
		d := &delegation{Account: account, Service: sp, Enabled: now(c)}
		err := tx.Insert(ctx, store.Record{Account: o.Mgmt, Kind: kindDelegated, Key: delegationKey(account, sp), Parent: account, Ref: sp, Data: encode(d)})
		if isConflict(err) {
			return errf("AccountAlreadyRegisteredException", "The provided account is already a delegated administrator for your organization.")
		}
		return err
	})
}

func (s *Service) deregisterDelegatedAdmin(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	account, sp := awsproto.Str(in, "AccountId"), awsproto.Str(in, "ServicePrincipal")
	if err := checkServicePrincipal(sp); err != nil {
		return nil, err
	}
	return nil, s.asManagerTx(ctx, c, func(tx store.Tx, o *organization) error {
		if _, _, err := getMember(ctx, tx, o, account); err != nil {
			return err
		}
		err := tx.Delete(ctx, o.Mgmt, kindDelegated, delegationKey(account, sp))
		if isNotFound(err) {
			return errf("AccountNotRegisteredException", "The provided account is not a registered delegated administrator for your organization.")
		}
		return err
	})
}

func (s *Service) listDelegatedAdmins(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	o, err := s.asReader(ctx, s.Store, c)
	if err != nil {
		return nil, err
	}
	q := o.q(kindDelegated)
	if sp := awsproto.Str(in, "ServicePrincipal"); sp != "" {
		q.Ref = &sp
	}
	all, err := listAll[delegation](ctx, s.Store, q)
	if err != nil {
		return nil, err
	}
	// One entry per account, dated by its first delegation.
	first := map[string]time.Time{}
	var accts []string
	for _, d := range all {
		if t, ok := first[d.Account]; !ok || d.Enabled.Before(t) {
			if !ok {
				accts = append(accts, d.Account)
			}
			first[d.Account] = d.Enabled
		}
	}
	slices.Sort(accts)
	items, next, err := paginate(accts, func(a string) string { return a }, in)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	for i, id := range items {
		m, _, err := getMember(ctx, s.Store, o, id)
		if err != nil {
			return nil, err
		}
		a, err := s.accountOut(ctx, s.Store, o, m)
		if err != nil {
			return nil, err
		}
		delete(a, "Paths")
		a["DelegationEnabledDate"] = first[id]
		out[i] = a
	}
	return pageOut("DelegatedAdministrators", out, next), nil
}

func (s *Service) listDelegatedServices(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	o, err := s.asReader(ctx, s.Store, c)
	if err != nil {
		return nil, err
	}
	account := awsproto.Str(in, "AccountId")
	if _, _, err := getMember(ctx, s.Store, o, account); err != nil {
		return nil, err
	}
	all, err := listAll[delegation](ctx, s.Store, store.ListQuery{Account: o.Mgmt, Kind: kindDelegated, Parent: &account})
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, errf("AccountNotRegisteredException", "The provided account is not a registered delegated administrator for your organization.")
	}
	items, next, err := paginate(all, func(d *delegation) string { return d.Service }, in)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	for i, d := range items {
		out[i] = map[string]any{"ServicePrincipal": d.Service, "DelegationEnabledDate": d.Enabled}
	}
	return pageOut("DelegatedServices", out, next), nil
}

// Tags: roots, OUs, accounts and customer policies are taggable.

// withTags runs fn on the tags of resource id and stores the result.
func withTags(ctx context.Context, tx store.Tx, o *organization, id string, fn func([]orgTag) ([]orgTag, error)) error {
	var kind string
	switch {
	case id == o.RootID:
		kind = kindRoot
	case strings.HasPrefix(id, "ou-"):
		kind = kindOU
	case strings.HasPrefix(id, "p-"):
		kind = kindPolicy
	default:
		kind = kindMember
	}
	rec, err := tx.Get(ctx, o.Mgmt, kind, id)
	if isNotFound(err) {
		return targetNotFound()
	}
	if err != nil {
		return fmt.Errorf("organizations: tagged resource %s: %w", id, err)
	}
	var tags *[]orgTag
	var doc any
	switch kind {
	case kindRoot:
		v, err := decode[root](rec)
		if err != nil {
			return err
		}
		doc, tags = v, &v.Tags
	case kindOU:
		v, err := decode[ou](rec)
		if err != nil {
			return err
		}
		doc, tags = v, &v.Tags
	case kindPolicy:
		v, err := decode[orgPolicy](rec)
		if err != nil {
			return err
		}
		doc, tags = v, &v.Tags
	default:
		v, err := decode[member](rec)
		if err != nil {
			return err
		}
		doc, tags = v, &v.Tags
	}
	nt, err := fn(*tags)
	if err != nil {
		return err
	}
	if nt == nil { // read only
		return nil
	}
	*tags = nt
	rec.Data = encode(doc)
	return tx.Update(ctx, rec)
}

func (s *Service) tagResource(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	add, err := tagsIn(in)
	if err != nil {
		return nil, err
	}
	return nil, s.asManagerTx(ctx, c, func(tx store.Tx, o *organization) error {
		return withTags(ctx, tx, o, awsproto.Str(in, "ResourceId"), func(have []orgTag) ([]orgTag, error) { return mergeTags(have, add) })
	})
}

func (s *Service) untagResource(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	keys := awsproto.Strings(in, "TagKeys")
	return nil, s.asManagerTx(ctx, c, func(tx store.Tx, o *organization) error {
		return withTags(ctx, tx, o, awsproto.Str(in, "ResourceId"), func(have []orgTag) ([]orgTag, error) {
			if out := dropTags(have, keys); out != nil {
				return out, nil
			}
			return []orgTag{}, nil // nil would mean "unchanged"

		})
	})
}

func (s *Service) listTags(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	var tags []orgTag
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		o, err := s.asReader(ctx, tx, c)
		if err != nil {
			return err
		}
		return withTags(ctx, tx, o, awsproto.Str(in, "ResourceId"), func(have []orgTag) ([]orgTag, error) {
			tags = slices.Clone(have)
			return nil, nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(tags, func(a, b orgTag) int { return strings.Compare(a.Key, b.Key) })
	items, next, err := paginate(tags, func(t orgTag) string { return t.Key }, in)
	if err != nil {
		return nil, err
	}
	return pageOut("Tags", tagsOut(items), next), nil
}

// Resource policy: the organization's delegation policy.

func (o *organization) resourcePolicyOut() map[string]any {
	rp := o.ResourcePolicy
	return map[string]any{
		"ResourcePolicySummary": map[string]any{"Id": rp.ID, "Arn": o.arnPrefix() + "resourcepolicy/" + o.ID + "/" + rp.ID},
		"Content":               rp.Content,
	}
}

func (s *Service) putResourcePolicy(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	content := awsproto.Str(in, "Content")
	if _, err := policy.Parse([]byte(content), policy.Resource); err != nil {
		return nil, invalid("INVALID_RESOURCE_POLICY_JSON", "The resource policy isn't valid: %s", err.Error())
	}
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
		if o.ResourcePolicy == nil {
			o.ResourcePolicy = &resourcePolicy{ID: s.randomID("rp-", 8, lowerAlnum), Tags: tags}
		} else if len(tags) > 0 {
			// Tags are set on creation only (CreateAccountFailureReason's
			// UPDATE_EXISTING_RESOURCE_POLICY_WITH_TAGS_NOT_SUPPORTED).
			return invalid("INVALID_SYSTEM_TAGS_PARAMETER", "You can't specify tags when you update an existing resource policy.")
		}
		o.ResourcePolicy.Content = content
		if err := saveOrg(ctx, tx, o); err != nil {
			return err
		}
		out = o.resourcePolicyOut()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"ResourcePolicy": out}, nil
}

func resourcePolicyNotFound() error {
	return errf("ResourcePolicyNotFoundException", "We can't find a resource policy request with the parameter that you specified.")
}

func (s *Service) describeResourcePolicy(ctx context.Context, c *service.Call, _ map[string]any) (map[string]any, error) {
	o, err := s.asReader(ctx, s.Store, c)
	if err != nil {
		return nil, err
	}
	if o.ResourcePolicy == nil {
		return nil, resourcePolicyNotFound()
	}
	return map[string]any{"ResourcePolicy": o.resourcePolicyOut()}, nil
}

func (s *Service) deleteResourcePolicy(ctx context.Context, c *service.Call, _ map[string]any) (map[string]any, error) {
	return nil, s.asManagerTx(ctx, c, func(tx store.Tx, o *organization) error {
		if o.ResourcePolicy == nil {
			return resourcePolicyNotFound()
		}
		o.ResourcePolicy = nil
		return saveOrg(ctx, tx, o)
	})
}
