package organizations

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// Policy types with a meaning to the authorization engine.
const (
	typeSCP = "SERVICE_CONTROL_POLICY"
	typeRCP = "RESOURCE_CONTROL_POLICY"
)

// orgPolicy is a management policy of any type.
type orgPolicy struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"desc"`
	Type        string   `json:"type"`
	Content     string   `json:"content"`
	Tags        []orgTag `json:"tags,omitempty"`
	awsManaged  bool
}

// attachment is a policy attached to a root, OU or account.
type attachment struct {
	Policy string `json:"policy"`
	Target string `json:"target"`
	Type   string `json:"type"`
}

// AWS managed policies: attached by default wherever their type is enabled
// (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html,
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html).
var managedPolicies = []orgPolicy{
	{ID: "p-FullAWSAccess", Name: "FullAWSAccess", Description: "Allows access to every operation", Type: typeSCP, awsManaged: true,
		Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
	{ID: "p-RCPFullAWSAccess", Name: "RCPFullAWSAccess", Description: "Allows access to every operation", Type: typeRCP, awsManaged: true,
		Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`},
}

func managedPolicy(id string) *orgPolicy {
	for i := range managedPolicies {
		if managedPolicies[i].ID == id {
			p := managedPolicies[i]
			return &p
		}
	}
	return nil
}

func defaultPolicy(typ string) *orgPolicy {
	for i := range managedPolicies {
		if managedPolicies[i].Type == typ {
			p := managedPolicies[i]
			return &p
		}
	}
	return nil
}

// contentLimit is the maximum policy size per type, in characters (quotas
// page above); maxAttachments the policies of one type per target.
func contentLimit(typ string) int {
	switch typ {
	case typeSCP, typeRCP:
		return 5120
	case "AISERVICES_OPT_OUT_POLICY":
		return 2500
	}
	return 10000
}

func maxAttachments(typ string) int {
	if typ == typeSCP || typ == typeRCP {
		return 5
	}
	return 10
}

func (o *organization) policyARN(p *orgPolicy) string {
	t := strings.ToLower(p.Type)
	if p.awsManaged {
		return fmt.Sprintf("arn:%s:organizations::aws:policy/%s/%s", o.Partition, t, p.ID)
	}
	return o.arnPrefix() + "policy/" + o.ID + "/" + t + "/" + p.ID
}

func (o *organization) policySummary(p *orgPolicy) map[string]any {
	return map[string]any{"Id": p.ID, "Arn": o.policyARN(p), "Name": p.Name, "Description": p.Description, "Type": p.Type, "AwsManaged": p.awsManaged}
}

func (o *organization) policyOut(p *orgPolicy) map[string]any {
	return map[string]any{"PolicySummary": o.policySummary(p), "Content": p.Content}
}

func policyTypesOut(types []string) []any {
	out := make([]any, len(types))
	for i, t := range types {
		out[i] = map[string]any{"Type": t, "Status": "ENABLED"}
	}
	return out
}

func policyNotFound() error {
	return errf("PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
}

func targetNotFound() error {
	return errf("TargetNotFoundException", "We can't find a root, OU, account, or policy with the TargetId that you specified.")
}

// getPolicy finds an AWS managed policy or one of o's.
func getPolicy(ctx context.Context, r store.Reader, o *organization, id string) (*orgPolicy, store.Record, error) {
	if p := managedPolicy(id); p != nil {
		return p, store.Record{}, nil
	}
	rec, err := r.Get(ctx, o.Mgmt, kindPolicy, id)
	if isNotFound(err) {
		return nil, rec, policyNotFound()
	}
	if err != nil {
		return nil, rec, fmt.Errorf("organizations: policy %s: %w", id, err)
	}
	p, err := decode[orgPolicy](rec)
	return p, rec, err
}

// target describes a root, OU or account of o: its type and name.
func target(ctx context.Context, r store.Reader, o *organization, id string) (typ, name string, err error) {
	switch {
	case id == o.RootID:
		rt, err := loadRoot(ctx, r, o)
		if err != nil {
			return "", "", err
		}
		return "ROOT", rt.Name, nil
	case strings.HasPrefix(id, "ou-"):
		u, _, err := getOU(ctx, r, o, id)
		if err != nil {
			return "", "", targetNotFound()
		}
		return "ORGANIZATIONAL_UNIT", u.Name, nil
	default:
		if _, _, err := getMember(ctx, r, o, id); err != nil {
			return "", "", targetNotFound()
		}
		a, err := accounts.Get(ctx, r, id)
		if err != nil {
			return "", "", err
		}
		return "ACCOUNT", a.Name, nil
	}
}

func (o *organization) targetARN(typ, id string) string {
	switch typ {
	case "ROOT":
		return o.rootARN(id)
	case "ORGANIZATIONAL_UNIT":
		return o.ouARN(id)
	}
	return o.accountARN(id)
}

// attach records policy p at target t.
func attach(ctx context.Context, tx store.Tx, o *organization, p *orgPolicy, t string) error {
	a := &attachment{Policy: p.ID, Target: t, Type: p.Type}
	err := tx.Insert(ctx, store.Record{Account: o.Mgmt, Kind: kindAttach, Key: p.ID + "|" + t, Parent: t, Ref: p.ID, Path: typePath(p.Type), Data: encode(a)})
	if err != nil {
		return fmt.Errorf("organizations: attach %s to %s: %w", p.ID, t, err)
	}
	return nil
}

// typePath is an attachment's Path: its policy type, so that disabling a
// type finds its attachments with one indexed query.
func typePath(typ string) string { return "/" + typ + "/" }

// attachDefaults attaches the AWS managed policy of every enabled policy type
// to a new OU or account.
func (s *Service) attachDefaults(ctx context.Context, tx store.Tx, o *organization, t string) error {
	rt, err := s.getRoot(ctx, tx, o)
	if err != nil {
		return err
	}
	for _, typ := range rt.PolicyTypes {
		if p := defaultPolicy(typ); p != nil {
			if err := attach(ctx, tx, o, p, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// detachAll removes every attachment at target t.
func detachAll(ctx context.Context, tx store.Tx, o *organization, t string) error {
	if _, err := tx.DeleteAll(ctx, store.ListQuery{Account: o.Mgmt, Kind: kindAttach, Parent: &t}); err != nil {
		return fmt.Errorf("organizations: detach from %s: %w", t, err)
	}
	return nil
}

// attachments lists the attachments at target t (of type typ, if set).
func attachments(ctx context.Context, r store.Reader, o *organization, t, typ string) ([]*attachment, error) {
	q := store.ListQuery{Account: o.Mgmt, Kind: kindAttach, Parent: &t}
	if typ != "" {
		q.PathPrefix = typePath(typ)
	}
	return listAll[attachment](ctx, r, q)
}

func (s *Service) policyHandlers(m map[string]service.Handler) {
	m["EnablePolicyType"] = s.enablePolicyType
	m["DisablePolicyType"] = s.disablePolicyType
	m["CreatePolicy"] = s.createPolicy
	m["UpdatePolicy"] = s.updatePolicy
	m["DeletePolicy"] = s.deletePolicy
	m["DescribePolicy"] = s.describePolicy
	m["ListPolicies"] = s.listPolicies
	m["AttachPolicy"] = s.attachPolicy
	m["DetachPolicy"] = s.detachPolicy
	m["ListPoliciesForTarget"] = s.listPoliciesForTarget
	m["ListTargetsForPolicy"] = s.listTargetsForPolicy
	m["DescribeEffectivePolicy"] = s.describeEffectivePolicy
	m["ListAccountsWithInvalidEffectivePolicy"] = s.listAccountsWithInvalidEffectivePolicy
	m["ListEffectivePolicyValidationErrors"] = s.listEffectivePolicyValidationErrors
}

func rootFor(ctx context.Context, tx store.Reader, s *Service, c *service.Call, rootID string) (*organization, *root, error) {
	o, err := s.asManager(ctx, tx, c)
	if err != nil {
		return nil, nil, err
	}
	if rootID != o.RootID {
		return nil, nil, errf("RootNotFoundException", "We can't find a root with the RootId that you specified.")
	}
	rt, err := s.getRoot(ctx, tx, o)
	return o, rt, err
}

func (s *Service) enablePolicyType(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	typ := awsproto.Str(in, "PolicyType")
	var out map[string]any
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		o, rt, err := rootFor(ctx, tx, s, c, awsproto.Str(in, "RootId"))
		if err != nil {
			return err
		}
		if o.FeatureSet != featuresAll {
			return errf("PolicyTypeNotAvailableForOrganizationException", "You can't use a policy type that isn't available in this organization. Enable all features first.")
		}
		if slices.Contains(rt.PolicyTypes, typ) {
			return errf("PolicyTypeAlreadyEnabledException", "The specified policy type is already enabled.")
		}
		rt.PolicyTypes = append(rt.PolicyTypes, typ)
		slices.Sort(rt.PolicyTypes)
		if err := saveRoot(ctx, tx, o, rt); err != nil {
			return err
		}
		// The type's AWS managed policy goes on every root, OU and account.
		if p := defaultPolicy(typ); p != nil {
			targets := []string{rt.ID}
			for _, k := range []string{kindOU, kindMember} {
				recs, err := tx.List(ctx, o.q(k))
				if err != nil {
					return fmt.Errorf("organizations: list %s: %w", k, err)
				}
				for _, r := range recs {
					targets = append(targets, r.Key)
				}
			}
			for _, t := range targets {
				if err := attach(ctx, tx, o, p, t); err != nil {
					return err
				}
			}
		}
		out = s.rootOut(o, rt)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"Root": out}, nil
}

// disablePolicyType detaches every policy of the type from every target;
// the policies themselves remain.
func (s *Service) disablePolicyType(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	typ := awsproto.Str(in, "PolicyType")
	var out map[string]any
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		o, rt, err := rootFor(ctx, tx, s, c, awsproto.Str(in, "RootId"))
		if err != nil {
			return err
		}
		i := slices.Index(rt.PolicyTypes, typ)
		if i < 0 {
			return errf("PolicyTypeNotEnabledException", "This operation can be performed only for enabled policy types.")
		}
		rt.PolicyTypes = slices.Delete(rt.PolicyTypes, i, i+1)
		if err := saveRoot(ctx, tx, o, rt); err != nil {
			return err
		}
		if _, err := tx.DeleteAll(ctx, store.ListQuery{Account: o.Mgmt, Kind: kindAttach, PathPrefix: typePath(typ)}); err != nil {
			return fmt.Errorf("organizations: detach %s policies: %w", typ, err)
		}
		out = s.rootOut(o, rt)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"Root": out}, nil
}

// validateContent applies the type's size limit and grammar.
func validateContent(typ, content string) error {
	if utf8.RuneCountInString(content) > contentLimit(typ) {
		return constraint("POLICY_CONTENT_LIMIT_EXCEEDED", "You attempted to create a policy that is larger than the maximum size.")
	}
	var err error
	switch typ {
	case typeSCP:
		_, err = policy.Parse([]byte(content), policy.SCP)
	case typeRCP:
		_, err = policy.Parse([]byte(content), policy.RCP)
	default:
		var v map[string]any
		if json.Unmarshal([]byte(content), &v) != nil {
			return errf("MalformedPolicyDocumentException", "The provided policy document doesn't meet the requirements of the specified policy type.")
		}
	}
	if err != nil {
		return errf("MalformedPolicyDocumentException", "The provided policy document doesn't meet the requirements of the specified policy type: %s", err.Error())
	}
	return nil
}

// policyNamed reports whether o has a policy of typ called name (other than except).
func policyNamed(ctx context.Context, r store.Reader, o *organization, typ, name, except string) (bool, error) {
	q := o.q(kindPolicy)
	q.Ref = &typ
	all, err := listAll[orgPolicy](ctx, r, q)
	if err != nil {
		return false, err
	}
	for _, p := range all {
		if p.Name == name && p.ID != except {
			return true, nil
		}
	}
	if d := defaultPolicy(typ); d != nil && d.Name == name {
		return true, nil
	}
	return false, nil
}

func (s *Service) createPolicy(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	p := &orgPolicy{
		Name: awsproto.Str(in, "Name"), Description: awsproto.Str(in, "Description"),
		Type: awsproto.Str(in, "Type"), Content: awsproto.Str(in, "Content"),
	}
	tags, err := tagsIn(in)
	if err != nil {
		return nil, err
	}
	p.Tags = tags
	var out map[string]any
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		o, err := s.asManager(ctx, tx, c)
		if err != nil {
			return err
		}
		if o.FeatureSet != featuresAll {
			return errf("PolicyTypeNotAvailableForOrganizationException", "You can't use a policy type that isn't available in this organization. Enable all features first.")
		}
		if err := validateContent(p.Type, p.Content); err != nil {
			return err
		}
		q := o.q(kindPolicy)
		q.Ref = &p.Type
		n, err := tx.Count(ctx, q)
		if err != nil {
			return fmt.Errorf("organizations: count policies: %w", err)
		}
		if n >= maxPolicies {
			return constraint("POLICY_NUMBER_LIMIT_EXCEEDED", "You attempted to exceed the number of policies that you can have in an organization.")
		}
		if dup, err := policyNamed(ctx, tx, o, p.Type, p.Name, ""); err != nil {
			return err
		} else if dup {
			return errf("DuplicatePolicyException", "A policy with the same name already exists.")
		}
		p.ID = s.randomID("p-", 8, lowerAlnum)
		if err := tx.Insert(ctx, store.Record{Account: o.Mgmt, Kind: kindPolicy, Key: p.ID, ID: p.ID, Ref: p.Type, Data: encode(p), Created: now(c)}); err != nil {
			return fmt.Errorf("organizations: insert policy: %w", err)
		}
		out = o.policyOut(p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"Policy": out}, nil
}

func immutable() error {
	return invalid("IMMUTABLE_POLICY", "You specified a policy that is managed by AWS and can't be modified.")
}

func (s *Service) updatePolicy(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	var out map[string]any
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		o, err := s.asManager(ctx, tx, c)
		if err != nil {
			return err
		}
		p, rec, err := getPolicy(ctx, tx, o, awsproto.Str(in, "PolicyId"))
		if err != nil {
			return err
		}
		if p.awsManaged {
			return immutable()
		}
		if name := awsproto.Str(in, "Name"); name != "" && name != p.Name {
			if dup, err := policyNamed(ctx, tx, o, p.Type, name, p.ID); err != nil {
				return err
			} else if dup {
				return errf("DuplicatePolicyException", "A policy with the same name already exists.")
			}
			p.Name = name
		}
		if _, ok := in["Description"]; ok {
			p.Description = awsproto.Str(in, "Description")
		}
		if content := awsproto.Str(in, "Content"); content != "" {
			if err := validateContent(p.Type, content); err != nil {
				return err
			}
			p.Content = content
		}
		rec.Data = encode(p)
		if err := tx.Update(ctx, rec); err != nil {
			return fmt.Errorf("organizations: update policy: %w", err)
		}
		out = o.policyOut(p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"Policy": out}, nil
}

func (s *Service) deletePolicy(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	return nil, s.asManagerTx(ctx, c, func(tx store.Tx, o *organization) error {
		p, _, err := getPolicy(ctx, tx, o, awsproto.Str(in, "PolicyId"))
		if err != nil {
			return err
		}
		if p.awsManaged {
			return immutable()
		}
		n, err := tx.Count(ctx, store.ListQuery{Account: o.Mgmt, Kind: kindAttach, Ref: &p.ID})
		if err != nil {
			return fmt.Errorf("organizations: count attachments: %w", err)
		}
		if n > 0 {
			return errf("PolicyInUseException", "The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts before performing this operation.")
		}
		return tx.Delete(ctx, o.Mgmt, kindPolicy, p.ID)
	})
}

func (s *Service) describePolicy(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	o, err := s.asReader(ctx, s.Store, c)
	if err != nil {
		return nil, err
	}
	p, _, err := getPolicy(ctx, s.Store, o, awsproto.Str(in, "PolicyId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"Policy": o.policyOut(p)}, nil
}

// policiesOfType returns o's policies of typ, AWS managed ones included,
// ordered by id.
func policiesOfType(ctx context.Context, r store.Reader, o *organization, typ string) ([]*orgPolicy, error) {
	q := o.q(kindPolicy)
	q.Ref = &typ
	all, err := listAll[orgPolicy](ctx, r, q)
	if err != nil {
		return nil, err
	}
	if d := defaultPolicy(typ); d != nil {
		all = append(all, d)
	}
	return sortByID(all, func(p *orgPolicy) string { return p.ID }), nil
}

func (s *Service) listPolicies(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	o, err := s.asReader(ctx, s.Store, c)
	if err != nil {
		return nil, err
	}
	all, err := policiesOfType(ctx, s.Store, o, awsproto.Str(in, "Filter"))
	if err != nil {
		return nil, err
	}
	items, next, err := paginate(all, func(p *orgPolicy) string { return p.ID }, in)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	for i, p := range items {
		out[i] = o.policySummary(p)
	}
	return pageOut("Policies", out, next), nil
}

// policyAndTarget resolves AttachPolicy/DetachPolicy's PolicyId and
// TargetId for the management account.
func (s *Service) policyAndTarget(ctx context.Context, tx store.Tx, c *service.Call, in map[string]any) (*organization, *orgPolicy, string, error) {
	o, err := s.asManager(ctx, tx, c)
	if err != nil {
		return nil, nil, "", err
	}
	p, _, err := getPolicy(ctx, tx, o, awsproto.Str(in, "PolicyId"))
	if err != nil {
		return nil, nil, "", err
	}
	t := awsproto.Str(in, "TargetId")
	if _, _, err := target(ctx, tx, o, t); err != nil {
		return nil, nil, "", err
	}
	return o, p, t, nil
}

func (s *Service) attachPolicy(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	return nil, s.Store.WithTx(ctx, func(tx store.Tx) error {
		o, p, t, err := s.policyAndTarget(ctx, tx, c, in)
		if err != nil {
			return err
		}
		rt, err := s.getRoot(ctx, tx, o)
		if err != nil {
			return err
		}
		if !slices.Contains(rt.PolicyTypes, p.Type) {
			return errf("PolicyTypeNotEnabledException", "This operation can be performed only for enabled policy types.")
		}
		have, err := attachments(ctx, tx, o, t, p.Type)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(have, func(a *attachment) bool { return a.Policy == p.ID }) {
			return errf("DuplicatePolicyAttachmentException", "The selected policy is already attached to the specified target.")
		}
		if len(have) >= maxAttachments(p.Type) {
			return constraint("MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED", "You attempted to exceed the number of policies of a certain type that can be attached to an entity.")
		}
		return attach(ctx, tx, o, p, t)
	})
}

func (s *Service) detachPolicy(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	return nil, s.Store.WithTx(ctx, func(tx store.Tx) error {
		o, p, t, err := s.policyAndTarget(ctx, tx, c, in)
		if err != nil {
			return err
		}
		have, err := attachments(ctx, tx, o, t, p.Type)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(have, func(a *attachment) bool { return a.Policy == p.ID }) {
			return errf("PolicyNotAttachedException", "The policy isn't attached to the specified target in the specified root.")
		}
		// RCPFullAWSAccess stays on every target while RCPs are enabled
		// (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html).
		if p.awsManaged && p.Type == typeRCP {
			return invalid("NON_DETACHABLE_POLICY", "You can't detach this AWS Managed Policy.")
		}
		// Every root, OU and account keeps at least one SCP
		// (https://docs.aws.amazon.com/organizations/latest/APIReference/API_DetachPolicy.html).
		if p.Type == typeSCP && len(have) == 1 {
			return constraint("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED", "You attempted to detach a policy from an entity that would leave it with fewer than the minimum number of policies of that type.")
		}
		return tx.Delete(ctx, o.Mgmt, kindAttach, p.ID+"|"+t)
	})
}

func (s *Service) listPoliciesForTarget(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	o, err := s.asReader(ctx, s.Store, c)
	if err != nil {
		return nil, err
	}
	t := awsproto.Str(in, "TargetId")
	if _, _, err := target(ctx, s.Store, o, t); err != nil {
		return nil, err
	}
	have, err := attachments(ctx, s.Store, o, t, awsproto.Str(in, "Filter"))
	if err != nil {
		return nil, err
	}
	var ps []*orgPolicy
	for _, a := range have {
		p, _, err := getPolicy(ctx, s.Store, o, a.Policy)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	items, next, err := paginate(sortByID(ps, func(p *orgPolicy) string { return p.ID }), func(p *orgPolicy) string { return p.ID }, in)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	for i, p := range items {
		out[i] = o.policySummary(p)
	}
	return pageOut("Policies", out, next), nil
}

func (s *Service) listTargetsForPolicy(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	o, err := s.asReader(ctx, s.Store, c)
	if err != nil {
		return nil, err
	}
	p, _, err := getPolicy(ctx, s.Store, o, awsproto.Str(in, "PolicyId"))
	if err != nil {
		return nil, err
	}
	all, err := listAll[attachment](ctx, s.Store, store.ListQuery{Account: o.Mgmt, Kind: kindAttach, Ref: &p.ID})
	if err != nil {
		return nil, err
	}
	items, next, err := paginate(sortByID(all, func(a *attachment) string { return a.Target }), func(a *attachment) string { return a.Target }, in)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	for i, a := range items {
		typ, name, err := target(ctx, s.Store, o, a.Target)
		if err != nil {
			return nil, err
		}
		out[i] = map[string]any{"TargetId": a.Target, "Arn": o.targetARN(typ, a.Target), "Name": name, "Type": typ}
	}
	return pageOut("Targets", out, next), nil
}
