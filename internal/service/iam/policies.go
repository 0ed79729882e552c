package iam

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// ManagedPolicy is a stored customer managed policy. Its record carries
// Parent polAttachedFlag while the policy is attached to any entity, so
// ListPolicies(OnlyAttached) is an indexed query.
type ManagedPolicy struct {
	Name           string    `json:"name"`
	ID             string    `json:"id"`
	Path           string    `json:"path"`
	ARN            string    `json:"arn"`
	Description    string    `json:"description,omitempty"`
	Created        time.Time `json:"created"`
	Updated        time.Time `json:"updated"`
	DefaultVersion string    `json:"defaultVersion"`
	NextVersion    int       `json:"nextVersion"` // version numbers are never reused
	Tags           []Tag     `json:"tags,omitempty"`
}

// PolicyVersion is one stored version of a customer managed policy.
type PolicyVersion struct {
	ID       string    `json:"id"` // "v1", "v2", ...
	Document string    `json:"doc"`
	Created  time.Time `json:"created"`
}

// polAttachment is the document of an attachment record.
type polAttachment struct {
	PolicyName string `json:"name"`
	PolicyARN  string `json:"arn"`
}

// Quotas from "IAM and AWS STS quotas"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
const (
	maxPolicies          = 1500 // customer managed policies per account
	maxPolicySize        = 6144 // non-whitespace characters per managed policy version
	maxPolicyVersions    = 5
	maxAttachedPerEntity = 10 // managed policies per user, group or role
)

// Record kinds and flags private to managed policies.
const (
	// kindAWSPolicyUse marks (key: lower-cased name) an AWS managed policy
	// attached somewhere in the account, so ListPolicies(Scope=AWS,
	// OnlyAttached) reads a handful of records instead of counting every
	// catalog entry.
	kindAWSPolicyUse = "awspolicyuse"
	polAttachedFlag  = "attached"
)

// errPolicyMissing is lookupPolicy's "no such policy"; callers word the
// NoSuchEntity message as the operation does in AWS.
var errPolicyMissing = errors.New("iam: no such managed policy")

// polOwner is the owner reference of a user's, group's or role's inline
// policies and attachments: "user:bob", "group:admins", "role:app".
func polOwner(kind, entityKey string) string { return kind + ":" + entityKey }

// resolvedPolicy is a managed policy found by ARN: AWS managed (aws set)
// or customer managed (local and rec set).
type resolvedPolicy struct {
	arn   string // canonical ARN
	aws   *awsManagedPolicy
	local *ManagedPolicy
	rec   store.Record
}

func (p *resolvedPolicy) name() string {
	if p.aws != nil {
		return p.aws.Name
	}
	return p.local.Name
}

func (p *resolvedPolicy) path() string {
	if p.aws != nil {
		return p.aws.Path
	}
	return p.local.Path
}

// parsePolicyARN splits a managed policy ARN into account ("aws" for AWS
// managed), path and name. ok is false for anything that is not an IAM
// policy ARN.
func parsePolicyARN(s string) (a arn.ARN, path, name string, ok bool) {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "iam" || a.Region != "" || !strings.HasPrefix(a.Resource, "policy/") {
		return a, "", "", false
	}
	rest := a.Resource[len("policy"):] // "/path/name"
	i := strings.LastIndexByte(rest, '/')
	path, name = rest[:i+1], rest[i+1:]
	if name == "" || a.Account == "" {
		return a, "", "", false
	}
	return a, path, name, true
}

// lookupPolicy resolves a managed policy ARN in the caller's account:
// errPolicyMissing when there is none, InvalidInput when s is no policy ARN.
func (s *Service) lookupPolicy(ctx context.Context, r store.Reader, c *service.Call, policyARN string) (*resolvedPolicy, error) {
	return lookupPolicyIn(ctx, r, c.Account, c.Partition, policyARN)
}

// lookupPolicyIn is lookupPolicy for an account and partition.
func lookupPolicyIn(ctx context.Context, r store.Reader, account, partition, policyARN string) (*resolvedPolicy, error) {
	a, path, name, ok := parsePolicyARN(policyARN)
	if !ok {
		return nil, apierr.Invalid("ARN %s is not valid.", policyARN)
	}
	if a.Partition != partition {
		return nil, errPolicyMissing
	}
	switch a.Account {
	case "aws":
		cat, err := loadAWSCatalog()
		if err != nil {
			return nil, err
		}
		p := cat.lookup(path, name)
		if p == nil || p.Path != path || p.Name != name {
			return nil, errPolicyMissing
		}
		return &resolvedPolicy{arn: p.arn(partition), aws: p}, nil
	case account:
		mp, rec, err := get[ManagedPolicy](ctx, r, account, kindPolicy, key(name))
		if errors.Is(err, store.ErrNotFound) {
			return nil, errPolicyMissing
		}
		if err != nil {
			return nil, err
		}
		if mp.Path != path || mp.Name != name {
			return nil, errPolicyMissing
		}
		return &resolvedPolicy{arn: mp.ARN, local: mp, rec: rec}, nil
	}
	return nil, errPolicyMissing
}

// findPolicy is lookupPolicy with AWS's "was not found" NoSuchEntity.
func (s *Service) findPolicy(ctx context.Context, r store.Reader, c *service.Call, policyARN string) (*resolvedPolicy, error) {
	p, err := s.lookupPolicy(ctx, r, c, policyARN)
	if errors.Is(err, errPolicyMissing) {
		return nil, apierr.New(apierr.NoSuchEntity, "Policy %s was not found.", policyARN)
	}
	return p, err
}

// findLocalPolicy is findPolicy for operations AWS managed policies refuse.
func (s *Service) findLocalPolicy(ctx context.Context, r store.Reader, c *service.Call, policyARN string) (*resolvedPolicy, error) {
	p, err := s.findPolicy(ctx, r, c, policyARN)
	if err != nil {
		return nil, err
	}
	if p.aws != nil {
		return nil, apierr.New(apierr.UnmodifiableEntity, "Cannot modify an AWS managed policy: %s.", p.arn)
	}
	return p, nil
}

// localPolicyIn is the loader of the customer managed policy a request's
// PolicyArn names.
func (s *Service) localPolicyIn(ctx context.Context, r store.Reader, c *service.Call, in map[string]any) (*ManagedPolicy, store.Record, error) {
	p, err := s.findLocalPolicy(ctx, r, c, awsproto.Str(in, "PolicyArn"))
	if err != nil {
		return nil, store.Record{}, err
	}
	return p.local, p.rec, nil
}

// anyPolicyIn is localPolicyIn that also accepts an AWS managed policy, read
// as an untagged document with no record.
func (s *Service) anyPolicyIn(ctx context.Context, r store.Reader, c *service.Call, in map[string]any) (*ManagedPolicy, store.Record, error) {
	p, err := s.findPolicy(ctx, r, c, awsproto.Str(in, "PolicyArn"))
	if err != nil {
		return nil, store.Record{}, err
	}
	if p.aws != nil {
		return &ManagedPolicy{}, store.Record{}, nil
	}
	return p.local, p.rec, nil
}

// checkPolicyDocument validates a managed policy document and its size.
func checkPolicyDocument(doc string) error {
	if _, err := policy.Parse([]byte(doc), policy.Identity); err != nil {
		return policyErr(err)
	}
	if policy.Size([]byte(doc)) > maxPolicySize {
		return apierr.Limit("Cannot exceed quota for PolicySize: %d", maxPolicySize)
	}
	return nil
}

// policyErr maps the policy package's validation error to the API error.
func policyErr(err error) error {
	var pe *policy.Error
	if errors.As(err, &pe) {
		return &apierr.Error{Code: pe.Code, Message: pe.Message}
	}
	return err
}

// versionKey is the record key of a version: policy key, "/", and the
// version number counted down from 99999999, zero-padded, so that keys sort
// newest first, the order in which IAM lists versions (see the examples of
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPolicyVersions.html).
func versionKey(policyKey, versionID string) string {
	n, _ := strconv.Atoi(strings.TrimPrefix(versionID, "v"))
	return fmt.Sprintf("%s/%08d", policyKey, 99999999-n)
}

// validVersionID reports whether v is of the form vN.
func validVersionID(v string) bool {
	n, err := strconv.Atoi(strings.TrimPrefix(v, "v"))
	return strings.HasPrefix(v, "v") && err == nil && n > 0 && "v"+strconv.Itoa(n) == v
}

func (s *Service) policyHandlers(m map[string]service.Handler) {
	m["CreatePolicy"] = s.createPolicy
	m["GetPolicy"] = s.getPolicy
	m["ListPolicies"] = s.listPolicies
	m["DeletePolicy"] = s.deletePolicy
	m["CreatePolicyVersion"] = s.createPolicyVersion
	m["GetPolicyVersion"] = s.getPolicyVersion
	m["ListPolicyVersions"] = s.listPolicyVersions
	m["DeletePolicyVersion"] = s.deletePolicyVersion
	m["SetDefaultPolicyVersion"] = s.setDefaultPolicyVersion
	for _, e := range []struct{ kind, op string }{{kindUser, "User"}, {kindGroup, "Group"}, {kindRole, "Role"}} {
		m["Attach"+e.op+"Policy"] = s.attachPolicy(e.kind)
		m["Detach"+e.op+"Policy"] = s.detachPolicy(e.kind)
		m["ListAttached"+e.op+"Policies"] = s.listAttachedPolicies(e.kind)
	}
	m["ListEntitiesForPolicy"] = s.listEntitiesForPolicy
	m["PutUserPermissionsBoundary"] = s.putUserPermissionsBoundary
	m["DeleteUserPermissionsBoundary"] = s.deleteUserPermissionsBoundary
	m["GetAccountAuthorizationDetails"] = s.getAccountAuthorizationDetails
}

// policyUsage counts how a policy is used in the account.
type policyUsage struct{ attachments, boundaries int }

// attachmentCount counts the attachments of a policy (an indexed count).
func attachmentCount(ctx context.Context, r store.Reader, account, policyARN string) (int, error) {
	ref := policyARN
	return r.Count(ctx, byRef(account, kindAttachment, ref))
}

// out renders a policy for GetPolicy (full) or ListPolicies (full=false:
// no description, no tags, as AWS lists them).
func (p *resolvedPolicy) out(partition string, u policyUsage, full bool) map[string]any {
	var m map[string]any
	if p.aws != nil {
		a := p.aws
		m = map[string]any{
			"PolicyName": a.Name, "PolicyId": a.ID, "Arn": a.arn(partition), "Path": a.Path,
			"DefaultVersionId": a.Version, "CreateDate": a.Created, "UpdateDate": a.Updated,
		}
		if full && a.Description != "" {
			m["Description"] = a.Description
		}
	} else {
		l := p.local
		m = map[string]any{
			"PolicyName": l.Name, "PolicyId": l.ID, "Arn": l.ARN, "Path": l.Path,
			"DefaultVersionId": l.DefaultVersion, "CreateDate": l.Created, "UpdateDate": l.Updated,
		}
		if full && l.Description != "" {
			m["Description"] = l.Description
		}
		if full && len(l.Tags) > 0 {
			m["Tags"] = tagsOut(l.Tags)
		}
	}
	m["AttachmentCount"] = int64(u.attachments)
	m["PermissionsBoundaryUsageCount"] = int64(u.boundaries)
	m["IsAttachable"] = true
	return m
}

func (s *Service) createPolicy(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name, doc := awsproto.Str(in, "PolicyName"), awsproto.Str(in, "PolicyDocument")
	tags, err := tagsIn(in)
	if err != nil {
		return nil, err
	}
	if err := checkPolicyDocument(doc); err != nil {
		return nil, err
	}
	path := pathOr(in)
	t := now(c)
	mp := &ManagedPolicy{
		Name: name, ID: s.IDs.Unique(ids.ManagedPolicy), Path: path, ARN: iamARN(c, "policy", path, name),
		Description: awsproto.Str(in, "Description"), Created: t, Updated: t,
		DefaultVersion: "v1", NextVersion: 2, Tags: tags,
	}
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		if err := checkQuota(ctx, tx, store.ListQuery{Account: c.Account, Kind: kindPolicy}, maxPolicies, apierr.Limit("Cannot exceed quota for PoliciesPerAccount: %d", maxPolicies)); err != nil {
			return err
		}
		k := key(name)
		err = tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindPolicy, Key: k, ID: mp.ID, Path: path, Data: encode(mp), Created: t})
		if errors.Is(err, store.ErrConflict) {
			return apierr.New(apierr.EntityAlreadyExists, "A policy called %s already exists. Duplicate names are not allowed.", name)
		}
		if err != nil {
			return err
		}
		v := &PolicyVersion{ID: "v1", Document: doc, Created: t}
		return tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindPolicyVersion, Key: versionKey(k, "v1"), Parent: k, Data: encode(v), Created: t})
	})
	if err != nil {
		return nil, err
	}
	p := &resolvedPolicy{arn: mp.ARN, local: mp}
	return map[string]any{"Policy": p.out(c.Partition, policyUsage{}, true)}, nil
}

func (s *Service) getPolicy(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	p, err := s.findPolicy(ctx, s.Store, c, awsproto.Str(in, "PolicyArn"))
	if err != nil {
		return nil, err
	}
	u, err := s.usageOf(ctx, s.Store, c.Account, p.arn)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Policy": p.out(c.Partition, u, true)}, nil
}

// usageOf counts one policy's attachments and boundary uses.
func (s *Service) usageOf(ctx context.Context, r store.Reader, account, policyARN string) (policyUsage, error) {
	n, err := attachmentCount(ctx, r, account, policyARN)
	if err != nil {
		return policyUsage{}, err
	}
	b, _ := boundaryCounts(ctx, r, account)
	bn := b.n(policyARN)
	return policyUsage{attachments: n, boundaries: bn}, b.err
}

// boundaryView is the part of a stored user or role that names its
// permissions boundary.
type boundaryView struct {
	Name     string `json:"name"`
	ID       string `json:"id"`
	Path     string `json:"path"`
	Boundary string `json:"boundary"`
}

// boundaryUses counts, per policy ARN, the users and roles whose
// permissions boundary it is: user and role records carry their boundary
// ARN in Ref, so each count is one indexed query, made once per ARN.
type boundaryUses struct {
	ctx     context.Context
	r       store.Reader
	account string
	counts  map[string]int
	err     error
}

func boundaryCounts(ctx context.Context, r store.Reader, account string) (*boundaryUses, error) {
	return &boundaryUses{ctx: ctx, r: r, account: account, counts: map[string]int{}}, nil
}

// n returns the boundary uses of policyARN; the first store error is kept
// in b.err for the caller to check.
func (b *boundaryUses) n(policyARN string) int {
	if n, ok := b.counts[policyARN]; ok || b.err != nil {
		return n
	}
	total := 0
	for _, kind := range []string{kindUser, kindRole} {
		ref := policyARN
		n, err := b.r.Count(b.ctx, byRef(b.account, kind, ref))
		if err != nil {
			b.err = err
			return 0
		}
		total += n
	}
	b.counts[policyARN] = total
	return total
}

// eachBoundary calls fn, in key order, for every user and role whose
// permissions boundary is policyARN.
func eachBoundary(ctx context.Context, r store.Reader, account, policyARN string, fn func(kind string, rec store.Record, b *boundaryView) error) error {
	for _, kind := range []string{kindRole, kindUser} { // key order of "role:", "user:"
		after := ""
		for {
			ref := policyARN
			recs, err := r.List(ctx, store.ListQuery{Account: account, Kind: kind, Ref: &ref, After: after, Limit: 500})
			if err != nil {
				return err
			}
			for _, rec := range recs {
				b, err := decode[boundaryView](rec)
				if err != nil {
					return err
				}
				if err := fn(kind, rec, b); err != nil {
					return err
				}
			}
			if len(recs) < 500 {
				break
			}
			after = recs[len(recs)-1].Key
		}
	}
	return nil
}

// listPolicies pages over AWS managed policies (in name order) and then the
// account's customer managed policies (in key order).
func (s *Service) listPolicies(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	scope := awsproto.Str(in, "Scope")
	onlyAttached, _ := awsproto.Bool(in, "OnlyAttached")
	prefix := awsproto.Str(in, "PathPrefix")
	// OnlyAttached keeps policies in use; PolicyUsageFilter narrows that to
	// one kind of use (attached as a permissions policy, or set as a
	// permissions boundary); without it either use counts, as the console's
	// "attached as" column shows both.
	usage := awsproto.Str(in, "PolicyUsageFilter")
	inUse := func(attached, bounds bool) bool {
		return !onlyAttached || attached && usage != "PermissionsBoundary" || bounds && usage != "PermissionsPolicy"
	}
	cat, err := loadAWSCatalog()
	if err != nil {
		return nil, err
	}
	bcounts, err := boundaryCounts(ctx, s.Store, c.Account)
	if err != nil {
		return nil, err
	}
	// AWS managed policies attached in this account.
	awsUsed := map[string]bool{}
	used, err := s.Store.List(ctx, store.ListQuery{Account: c.Account, Kind: kindAWSPolicyUse})
	if err != nil {
		return nil, err
	}
	for _, r := range used {
		awsUsed[r.Key] = true
	}
	var sources []polSource
	if scope == "" || scope == "All" || scope == "AWS" {
		sources = append(sources, func(after string, n int) ([]polItem, error) {
			var out []polItem
			for _, p := range cat.after(after) {
				if len(out) == n {
					break
				}
				if !strings.HasPrefix(p.Path, prefix) {
					continue
				}
				if !inUse(awsUsed[key(p.Name)], bcounts.n(p.arn(c.Partition)) > 0) {
					continue
				}
				out = append(out, polItem{key: key(p.Name), v: p})
			}
			return out, nil
		})
	}
	if scope == "" || scope == "All" || scope == "Local" {
		q := store.ListQuery{Account: c.Account, Kind: kindPolicy, PathPrefix: prefix}
		var keep func(store.Record) (bool, error)
		switch {
		case onlyAttached && usage == "PermissionsPolicy":
			flag := polAttachedFlag // indexed
			q.Parent = &flag
		case onlyAttached:
			keep = func(r store.Record) (bool, error) {
				mp, err := decode[ManagedPolicy](r)
				return err == nil && inUse(r.Parent == polAttachedFlag, bcounts.n(mp.ARN) > 0), err
			}
		}
		sources = append(sources, storeSource(ctx, s.Store, q, keep))
	}
	items, pg, err := polPaginate(in, sources)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(items))
	for _, it := range items {
		var p *resolvedPolicy
		switch v := it.v.(type) {
		case *awsManagedPolicy:
			p = &resolvedPolicy{arn: v.arn(c.Partition), aws: v}
		case store.Record:
			mp, err := decode[ManagedPolicy](v)
			if err != nil {
				return nil, err
			}
			p = &resolvedPolicy{arn: mp.ARN, local: mp, rec: v}
		}
		u := policyUsage{boundaries: bcounts.n(p.arn)}
		if p.local != nil || awsUsed[key(p.name())] {
			if u.attachments, err = attachmentCount(ctx, s.Store, c.Account, p.arn); err != nil {
				return nil, err
			}
		}
		out = append(out, p.out(c.Partition, u, false))
	}
	return pg.out(map[string]any{"Policies": out}), nil
}

func (s *Service) deletePolicy(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		p, err := s.findLocalPolicy(ctx, tx, c, awsproto.Str(in, "PolicyArn"))
		if err != nil {
			return err
		}
		u, err := s.usageOf(ctx, tx, c.Account, p.arn)
		if err != nil {
			return err
		}
		if u.attachments > 0 || u.boundaries > 0 {
			return apierr.New(apierr.DeleteConflict, "Cannot delete a policy attached to entities.")
		}
		parent := p.rec.Key
		n, err := tx.Count(ctx, byParent(c.Account, kindPolicyVersion, parent))
		if err != nil {
			return err
		}
		if n > 1 {
			return apierr.New(apierr.DeleteConflict, "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
		}
		if _, err := tx.DeleteAll(ctx, byParent(c.Account, kindPolicyVersion, parent)); err != nil {
			return err
		}
		return tx.Delete(ctx, c.Account, kindPolicy, p.rec.Key)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (v *PolicyVersion) out(isDefault bool, withDoc bool) map[string]any {
	m := map[string]any{"VersionId": v.ID, "IsDefaultVersion": isDefault, "CreateDate": v.Created}
	if withDoc {
		m["Document"] = escapePolicy(v.Document)
	}
	return m
}

// awsVersion is the one version of an AWS managed policy the catalog has.
func awsVersion(p *awsManagedPolicy) *PolicyVersion {
	return &PolicyVersion{ID: p.Version, Document: p.doc, Created: p.Updated}
}

func (s *Service) createPolicyVersion(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	doc := awsproto.Str(in, "PolicyDocument")
	setDefault, _ := awsproto.Bool(in, "SetAsDefault")
	var v *PolicyVersion
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		p, err := s.findLocalPolicy(ctx, tx, c, awsproto.Str(in, "PolicyArn"))
		if err != nil {
			return err
		}
		if err := checkPolicyDocument(doc); err != nil {
			return err
		}
		parent := p.rec.Key
		if err := checkQuota(ctx, tx, byParent(c.Account, kindPolicyVersion, parent), maxPolicyVersions, apierr.Limit("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)); err != nil {
			return err
		}
		mp := p.local
		t := now(c)
		v = &PolicyVersion{ID: "v" + strconv.Itoa(mp.NextVersion), Document: doc, Created: t}
		mp.NextVersion++
		mp.Updated = t
		if setDefault {
			mp.DefaultVersion = v.ID
		}
		if err := tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindPolicyVersion, Key: versionKey(parent, v.ID), Parent: parent, Data: encode(v), Created: t}); err != nil {
			return err
		}
		p.rec.Data, p.rec.Updated = encode(mp), t
		return tx.Update(ctx, p.rec)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"PolicyVersion": v.out(setDefault, false)}, nil
}

// findVersion loads one version of a resolved policy.
func findVersion(ctx context.Context, r store.Reader, c *service.Call, p *resolvedPolicy, versionID string) (*PolicyVersion, store.Record, error) {
	missing := apierr.New(apierr.NoSuchEntity, "Policy %s version %s does not exist or is not attachable.", p.arn, versionID)
	if p.aws != nil {
		if versionID != p.aws.Version {
			return nil, store.Record{}, missing
		}
		return awsVersion(p.aws), store.Record{}, nil
	}
	if !validVersionID(versionID) {
		return nil, store.Record{}, missing
	}
	v, rec, err := get[PolicyVersion](ctx, r, c.Account, kindPolicyVersion, versionKey(p.rec.Key, versionID))
	if errors.Is(err, store.ErrNotFound) {
		return nil, rec, missing
	}
	return v, rec, err
}

func (s *Service) getPolicyVersion(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	p, err := s.findPolicy(ctx, s.Store, c, awsproto.Str(in, "PolicyArn"))
	if err != nil {
		return nil, err
	}
	v, _, err := findVersion(ctx, s.Store, c, p, awsproto.Str(in, "VersionId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"PolicyVersion": v.out(v.ID == p.defaultVersion(), true)}, nil
}

func (p *resolvedPolicy) defaultVersion() string {
	if p.aws != nil {
		return p.aws.Version
	}
	return p.local.DefaultVersion
}

func (s *Service) listPolicyVersions(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	p, err := s.findPolicy(ctx, s.Store, c, awsproto.Str(in, "PolicyArn"))
	if err != nil {
		return nil, err
	}
	if p.aws != nil {
		return map[string]any{"Versions": []any{awsVersion(p.aws).out(true, false)}, "IsTruncated": false}, nil
	}
	parent := p.rec.Key
	return listOut(ctx, s.Store, byParent(c.Account, kindPolicyVersion, parent), in, "Versions", func(v *PolicyVersion) any {
		return v.out(v.ID == p.local.DefaultVersion, false)
	})
}

func (s *Service) deletePolicyVersion(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		p, err := s.findLocalPolicy(ctx, tx, c, awsproto.Str(in, "PolicyArn"))
		if err != nil {
			return err
		}
		v, rec, err := findVersion(ctx, tx, c, p, awsproto.Str(in, "VersionId"))
		if err != nil {
			return err
		}
		if v.ID == p.local.DefaultVersion {
			return apierr.New(apierr.DeleteConflict, "Cannot delete the default version of a policy.")
		}
		return tx.Delete(ctx, c.Account, kindPolicyVersion, rec.Key)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) setDefaultPolicyVersion(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		p, err := s.findLocalPolicy(ctx, tx, c, awsproto.Str(in, "PolicyArn"))
		if err != nil {
			return err
		}
		v, _, err := findVersion(ctx, tx, c, p, awsproto.Str(in, "VersionId"))
		if err != nil {
			return err
		}
		p.local.DefaultVersion = v.ID
		p.rec.Data, p.rec.Updated = encode(p.local), now(c)
		return tx.Update(ctx, p.rec)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// ---- attachments ----

// entityField is the request member naming an entity of kind.
func entityField(kind string) string {
	switch kind {
	case kindUser:
		return "UserName"
	case kindGroup:
		return "GroupName"
	}
	return "RoleName"
}

// entityTitle is how quotas name an entity kind ("PoliciesPerUser").
func entityTitle(kind string) string {
	return strings.ToUpper(kind[:1]) + kind[1:]
}

// loadEntity checks that the user, group or role exists and returns its
// record (NoSuchEntity as IAM words it otherwise).
func loadEntity(ctx context.Context, r store.Reader, account, kind, name string) (store.Record, error) {
	rec, err := r.Get(ctx, account, kind, key(name))
	return rec, notFound(err, kind, name)
}

// loadMutableEntity is loadEntity for changes to an entity's policies:
// service-linked roles are changed only by their service.
func loadMutableEntity(ctx context.Context, r store.Reader, account, kind, name string) (store.Record, error) {
	rec, err := loadEntity(ctx, r, account, kind, name)
	if err != nil || kind != kindRole {
		return rec, err
	}
	role, err := decode[Role](rec)
	if err != nil {
		return rec, err
	}
	if role.ServiceLinked() {
		return rec, apierr.New(apierr.UnmodifiableEntity, "Cannot perform the operation on the protected role '%s' - this role is only modifiable by AWS", role.Name)
	}
	return rec, nil
}

// syncPolicyUse refreshes the index flag that says whether a policy is
// attached anywhere, after an attach or detach in tx.
func syncPolicyUse(ctx context.Context, tx store.Tx, c *service.Call, p *resolvedPolicy) error {
	n, err := attachmentCount(ctx, tx, c.Account, p.arn)
	if err != nil {
		return err
	}
	if p.aws != nil {
		k := key(p.aws.Name)
		_, err := tx.Get(ctx, c.Account, kindAWSPolicyUse, k)
		switch {
		case n > 0 && errors.Is(err, store.ErrNotFound):
			return tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindAWSPolicyUse, Key: k, Data: []byte("{}")})
		case n == 0 && err == nil:
			return tx.Delete(ctx, c.Account, kindAWSPolicyUse, k)
		case errors.Is(err, store.ErrNotFound):
			return nil
		}
		return err
	}
	flag := ""
	if n > 0 {
		flag = polAttachedFlag
	}
	if p.rec.Parent == flag {
		return nil
	}
	p.rec.Parent = flag
	return tx.Update(ctx, p.rec)
}

// attachTarget loads, for Attach/Detach*Policy, the entity of kind and the
// policy the request names; missingFmt words IAM's NoSuchEntity for an
// unknown policy ARN, which differs between the two operations.
func (s *Service) attachTarget(ctx context.Context, tx store.Tx, c *service.Call, kind string, in map[string]any, missingFmt string) (store.Record, *resolvedPolicy, error) {
	rec, err := loadMutableEntity(ctx, tx, c.Account, kind, awsproto.Str(in, entityField(kind)))
	if err != nil {
		return rec, nil, err
	}
	policyARN := awsproto.Str(in, "PolicyArn")
	p, err := s.lookupPolicy(ctx, tx, c, policyARN)
	if errors.Is(err, errPolicyMissing) {
		return rec, nil, apierr.New(apierr.NoSuchEntity, missingFmt, policyARN)
	}
	return rec, p, err
}

func (s *Service) attachPolicy(kind string) service.Handler {
	return func(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
		err := s.Store.WithTx(ctx, func(tx store.Tx) error {
			rec, p, err := s.attachTarget(ctx, tx, c, kind, in, "Policy %s does not exist or is not attachable.")
			if err != nil {
				return err
			}
			owner := polOwner(kind, rec.Key)
			k := owner + "|" + p.arn
			if _, err := tx.Get(ctx, c.Account, kindAttachment, k); err == nil {
				return nil // attaching again is a no-op, as in IAM
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err := checkQuota(ctx, tx, byParent(c.Account, kindAttachment, owner), maxAttachedPerEntity, apierr.Limit("Cannot exceed quota for PoliciesPer%s: %d", entityTitle(kind), maxAttachedPerEntity)); err != nil {
				return err
			}
			doc := polAttachment{PolicyName: p.name(), PolicyARN: p.arn}
			// Path is the policy's, so ListAttached*Policies(PathPrefix) is indexed.
			err = tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindAttachment, Key: k, Parent: owner, Ref: p.arn, Path: p.path(), Data: encode(doc), Created: now(c)})
			if err != nil {
				return err
			}
			return syncPolicyUse(ctx, tx, c, p)
		})
		if err != nil {
			return nil, err
		}
		return map[string]any{}, nil
	}
}

func (s *Service) detachPolicy(kind string) service.Handler {
	return func(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
		policyARN := awsproto.Str(in, "PolicyArn")
		err := s.Store.WithTx(ctx, func(tx store.Tx) error {
			rec, p, err := s.attachTarget(ctx, tx, c, kind, in, "Policy %s was not found.")
			if err != nil {
				return err
			}
			err = tx.Delete(ctx, c.Account, kindAttachment, polOwner(kind, rec.Key)+"|"+p.arn)
			if errors.Is(err, store.ErrNotFound) {
				return apierr.New(apierr.NoSuchEntity, "Policy %s was not found.", policyARN)
			}
			if err != nil {
				return err
			}
			return syncPolicyUse(ctx, tx, c, p)
		})
		if err != nil {
			return nil, err
		}
		return map[string]any{}, nil
	}
}

// attachedOut renders attachment records as AttachedPolicy shapes.
func attachedOut(recs []store.Record) ([]any, error) {
	out := make([]any, 0, len(recs))
	for _, rec := range recs {
		a, err := decode[polAttachment](rec)
		if err != nil {
			return nil, err
		}
		out = append(out, map[string]any{"PolicyName": a.PolicyName, "PolicyArn": a.PolicyARN})
	}
	return out, nil
}

func (s *Service) listAttachedPolicies(kind string) service.Handler {
	return func(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
		rec, err := loadEntity(ctx, s.Store, c.Account, kind, awsproto.Str(in, entityField(kind)))
		if err != nil {
			return nil, err
		}
		owner := polOwner(kind, rec.Key)
		pg, err := listPage(ctx, s.Store, store.ListQuery{Account: c.Account, Kind: kindAttachment, Parent: &owner, PathPrefix: awsproto.Str(in, "PathPrefix")}, in)
		if err != nil {
			return nil, err
		}
		out, err := attachedOut(pg.recs)
		if err != nil {
			return nil, err
		}
		return pg.out(map[string]any{"AttachedPolicies": out}), nil
	}
}

// listEntitiesForPolicy pages over the policy's attachments (indexed by
// Ref) and over the users and roles whose permissions boundary it is.
func (s *Service) listEntitiesForPolicy(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	p, err := s.findPolicy(ctx, s.Store, c, awsproto.Str(in, "PolicyArn"))
	if err != nil {
		return nil, err
	}
	filter := awsproto.Str(in, "EntityFilter")
	prefix := awsproto.Str(in, "PathPrefix")
	wantKind := func(kind string) bool {
		return filter == "" || filter == entityTitle(kind)
	}
	// Without PolicyUsageFilter both uses are listed: attachments first,
	// then boundary uses of entities that do not also have it attached.
	usage := awsproto.Str(in, "PolicyUsageFilter")
	var sources []polSource
	if usage != "PermissionsBoundary" {
		ref := p.arn
		for _, kind := range []string{kindGroup, kindRole, kindUser} { // key order of "group:", "role:", "user:"
			if wantKind(kind) {
				sources = append(sources, s.attachedEntities(ctx, c, kind, ref, prefix))
			}
		}
	}
	if usage != "PermissionsPolicy" {
		sources = append(sources, func(after string, n int) ([]polItem, error) {
			// Boundary users and roles, keyed "user:bob", "role:app".
			var out []polItem
			err := eachBoundary(ctx, s.Store, c.Account, p.arn, func(kind string, rec store.Record, b *boundaryView) error {
				k := polOwner(kind, rec.Key)
				if b.Boundary != p.arn || !wantKind(kind) || k <= after || !strings.HasPrefix(b.Path, prefix) {
					return nil
				}
				if usage == "" {
					_, err := s.Store.Get(ctx, c.Account, kindAttachment, k+"|"+p.arn)
					if err == nil {
						return nil // listed among the attachments
					}
					if !errors.Is(err, store.ErrNotFound) {
						return err
					}
				}
				out = append(out, polItem{key: k, v: entityRef{kind: kind, name: b.Name, id: b.ID}})
				return nil
			})
			if len(out) > n {
				out = out[:n]
			}
			return out, err
		})
	}
	items, pg, err := polPaginate(in, sources)
	if err != nil {
		return nil, err
	}
	users, groups, roles := []any{}, []any{}, []any{}
	for _, it := range items {
		e := it.v.(entityRef)
		switch e.kind {
		case kindUser:
			users = append(users, map[string]any{"UserName": e.name, "UserId": e.id})
		case kindGroup:
			groups = append(groups, map[string]any{"GroupName": e.name, "GroupId": e.id})
		case kindRole:
			roles = append(roles, map[string]any{"RoleName": e.name, "RoleId": e.id})
		}
	}
	return pg.out(map[string]any{"PolicyUsers": users, "PolicyGroups": groups, "PolicyRoles": roles}), nil
}

// attachedEntities pages over the entities of one kind a policy is attached
// to (attachments indexed by Ref), filtered by the entities' path.
func (s *Service) attachedEntities(ctx context.Context, c *service.Call, kind, policyARN, prefix string) polSource {
	ref := policyARN
	src := storeSource(ctx, s.Store, store.ListQuery{Account: c.Account, Kind: kindAttachment, Ref: &ref, KeyPrefix: kind + ":"}, nil)
	return func(after string, n int) ([]polItem, error) {
		var out []polItem
		for len(out) < n {
			items, err := src(after, n-len(out))
			if err != nil || len(items) == 0 {
				return out, err
			}
			for _, it := range items {
				owner := it.v.(store.Record).Parent
				erec, err := s.Store.Get(ctx, c.Account, kind, strings.TrimPrefix(owner, kind+":"))
				if err != nil {
					return nil, err
				}
				b, err := decode[boundaryView](erec)
				if err != nil {
					return nil, err
				}
				if strings.HasPrefix(b.Path, prefix) {
					out = append(out, polItem{key: it.key, v: entityRef{kind: kind, name: b.Name, id: b.ID}})
				}
			}
			after = items[len(items)-1].key
		}
		return out, nil
	}
}

// entityRef names a user, group or role in ListEntitiesForPolicy.
type entityRef struct{ kind, name, id string }

// ---- permissions boundaries ----

// checkBoundary validates a permissions boundary policy ARN: it must name an
// existing managed policy (customer managed in this account, or AWS managed).
func (s *Service) checkBoundary(ctx context.Context, r store.Reader, c *service.Call, policyARN string) error {
	_, err := s.lookupPolicy(ctx, r, c, policyARN)
	if errors.Is(err, errPolicyMissing) {
		return apierr.New(apierr.NoSuchEntity, "Scope ARN: %s does not exist or is not attachable.", policyARN)
	}
	return err
}

func (s *Service) putUserPermissionsBoundary(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	b := awsproto.Str(in, "PermissionsBoundary")
	_, err := modify(ctx, s.Store, c, in, userIn, func(tx store.Tx, u *User) error {
		if err := s.checkBoundary(ctx, tx, c, b); err != nil {
			return err
		}
		u.Boundary = b
		return nil
	})
	return map[string]any{}, err
}

func (s *Service) deleteUserPermissionsBoundary(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	_, err := modify(ctx, s.Store, c, in, userIn, func(_ store.Tx, u *User) error {
		u.Boundary = ""
		return nil
	})
	return map[string]any{}, err
}

// ---- combined pagination ----

// polItem is one element of a combined listing; key orders it within its
// source.
type polItem struct {
	key string
	v   any
}

// polSource returns, in key order, at most n items whose key is after
// `after` ("" for the start).
type polSource func(after string, n int) ([]polItem, error)

// storeSource pages a store query; keep, when non-nil, filters records
// (and the source reads further chunks to fill the page).
func storeSource(ctx context.Context, r store.Reader, q store.ListQuery, keep func(store.Record) (bool, error)) polSource {
	return func(after string, n int) ([]polItem, error) {
		var out []polItem
		for len(out) < n {
			q.After, q.Limit = after, n-len(out)
			if keep != nil {
				q.Limit = max(q.Limit, 100)
			}
			recs, err := r.List(ctx, q)
			if err != nil {
				return nil, err
			}
			for _, rec := range recs {
				if keep != nil {
					ok, err := keep(rec)
					if err != nil {
						return nil, err
					}
					if !ok {
						continue
					}
				}
				out = append(out, polItem{key: rec.Key, v: rec})
				if len(out) == n {
					return out, nil
				}
			}
			if len(recs) < q.Limit {
				break
			}
			after = recs[len(recs)-1].Key
		}
		return out, nil
	}
}

// polPage is the continuation of a combined listing.
type polPage struct {
	truncated bool
	marker    string
}

func (p polPage) out(m map[string]any) map[string]any {
	m["IsTruncated"] = p.truncated
	if p.truncated {
		m["Marker"] = p.marker
	}
	return m
}

// polPaginate reads one page (Marker, MaxItems; default 100) across
// sources in order. The marker is opaque to clients: the base64 of the
// source index and the last key returned.
func polPaginate(in map[string]any, sources []polSource) ([]polItem, polPage, error) {
	limit := 100
	if n, ok := awsproto.Int(in, "MaxItems"); ok && n > 0 {
		limit = int(n)
	}
	start, after := 0, ""
	if m := awsproto.Str(in, "Marker"); m != "" {
		b, err := base64.RawURLEncoding.DecodeString(m)
		idx, k, found := strings.Cut(string(b), ":")
		i, err2 := strconv.Atoi(idx)
		if err != nil || !found || err2 != nil || i < 0 || i >= len(sources) {
			return nil, polPage{}, apierr.Invalid("Invalid Marker.")
		}
		start, after = i, k
	}
	var items []polItem
	var from []int // source index of each item
	for i := start; i < len(sources) && len(items) <= limit; i++ {
		a := ""
		if i == start {
			a = after
		}
		got, err := sources[i](a, limit+1-len(items))
		if err != nil {
			return nil, polPage{}, err
		}
		for range got {
			from = append(from, i)
		}
		items = append(items, got...)
	}
	if len(items) <= limit {
		return items, polPage{}, nil
	}
	items = items[:limit]
	last := limit - 1
	marker := base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(from[last]) + ":" + items[last].key))
	return items, polPage{truncated: true, marker: marker}, nil
}
