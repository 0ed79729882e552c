package iam

import (
	"context"
	"errors"
	"fmt"

	"github.com/iamd/iamd/internal/store"
)

// Sources of identity policies, named as SimulatePrincipalPolicy's
// PolicySourceType enum names them in the IAM service model.
const (
	SourceUser            = "user"
	SourceGroup           = "group"
	SourceRole            = "role"
	SourceAWSManaged      = "aws-managed"
	SourceCustomerManaged = "user-managed"
)

// SourcedPolicy is one identity policy document and where it comes from.
type SourcedPolicy struct {
	Source   string // one of the Source* constants
	Name     string // inline policy name, or managed policy name
	ARN      string // managed policies only
	Document string // JSON as stored (not URL-encoded)
}

// IdentityPolicies are the identity-based policies that apply to a user or
// role: for a user its own inline and attached policies and those of every
// group it belongs to; for a role its inline and attached policies. Boundary
// is the permissions boundary, if any.
type IdentityPolicies struct {
	Inline   []SourcedPolicy
	Managed  []SourcedPolicy
	Boundary *SourcedPolicy
}

// PolicyDocument returns the default version's document of a managed
// policy: customer managed in account, or AWS managed. A policy that does
// not exist is an error wrapping store.ErrNotFound.
func (s *Service) PolicyDocument(ctx context.Context, r store.Reader, account, policyARN string) (string, error) {
	sp, err := s.managedSourced(ctx, r, account, policyARN)
	if err != nil {
		return "", err
	}
	return sp.Document, nil
}

// managedSourced loads a managed policy's default document.
func (s *Service) managedSourced(ctx context.Context, r store.Reader, account, policyARN string) (*SourcedPolicy, error) {
	a, _, _, ok := parsePolicyARN(policyARN)
	if !ok {
		return nil, fmt.Errorf("iam: policy %s: %w", policyARN, store.ErrNotFound)
	}
	p, err := lookupPolicyIn(ctx, r, account, a.Partition, policyARN)
	if errors.Is(err, errPolicyMissing) {
		return nil, fmt.Errorf("iam: policy %s: %w", policyARN, store.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if p.aws != nil {
		return &SourcedPolicy{Source: SourceAWSManaged, Name: p.aws.Name, ARN: p.arn, Document: p.aws.doc}, nil
	}
	v, _, err := get[PolicyVersion](ctx, r, account, kindPolicyVersion, versionKey(p.rec.Key, p.local.DefaultVersion))
	if err != nil {
		return nil, fmt.Errorf("iam: policy %s default version: %w", policyARN, err)
	}
	return &SourcedPolicy{Source: SourceCustomerManaged, Name: p.local.Name, ARN: p.arn, Document: v.Document}, nil
}

// LoadIdentityPolicies collects the identity policies of a user or role
// (entityKind "user" or "role") by name. A missing entity is an error
// wrapping store.ErrNotFound.
func (s *Service) LoadIdentityPolicies(ctx context.Context, r store.Reader, account, entityKind, name string) (*IdentityPolicies, error) {
	if entityKind != kindUser && entityKind != kindRole {
		return nil, fmt.Errorf("iam: identity policies of a %q: %w", entityKind, store.ErrNotFound)
	}
	rec, err := r.Get(ctx, account, entityKind, key(name))
	if err != nil {
		return nil, fmt.Errorf("iam: %s %s: %w", entityKind, name, err)
	}
	ent, err := decode[boundaryView](rec)
	if err != nil {
		return nil, err
	}
	out := &IdentityPolicies{}
	seen := map[string]bool{} // a managed policy reached twice applies once
	owners := []struct{ kind, key string }{{entityKind, rec.Key}}
	if entityKind == kindUser {
		ref := rec.Key
		members, err := r.List(ctx, byRef(account, kindMember, ref))
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			owners = append(owners, struct{ kind, key string }{kindGroup, m.Parent})
		}
	}
	for _, o := range owners {
		owner := polOwner(o.kind, o.key)
		inl, err := r.List(ctx, byParent(account, kindInline, owner))
		if err != nil {
			return nil, err
		}
		for _, ir := range inl {
			ip, err := decode[InlinePolicy](ir)
			if err != nil {
				return nil, err
			}
			out.Inline = append(out.Inline, SourcedPolicy{Source: o.kind, Name: ip.Name, Document: ip.Document})
		}
		att, err := r.List(ctx, byParent(account, kindAttachment, owner))
		if err != nil {
			return nil, err
		}
		for _, ar := range att {
			if seen[ar.Ref] {
				continue
			}
			seen[ar.Ref] = true
			sp, err := s.managedSourced(ctx, r, account, ar.Ref)
			if err != nil {
				return nil, err
			}
			out.Managed = append(out.Managed, *sp)
		}
	}
	if ent.Boundary != "" {
		sp, err := s.managedSourced(ctx, r, account, ent.Boundary)
		if err != nil {
			return nil, err
		}
		out.Boundary = sp
	}
	return out, nil
}
