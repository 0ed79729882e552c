package iam

import (
	"context"
	"errors"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// InlinePolicy is a stored inline policy; its record's key is
// owner + "/" + lower-cased name and its Parent the owner ("user:bob").
type InlinePolicy struct {
	Name     string `json:"name"`
	Document string `json:"doc"`
	Size     int    `json:"size"` // policy.Size of Document, for the aggregate quota
}

// inlineQuota is the aggregate size quota of all inline policies of one
// entity, in non-whitespace characters ("IAM and AWS STS quotas",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
func inlineQuota(kind string) int {
	switch kind {
	case kindUser:
		return 2048
	case kindGroup:
		return 5120
	}
	return 10240
}

// inlineKey is the record key of an owner's inline policy.
func inlineKey(owner, name string) string { return owner + "/" + key(name) }

func (s *Service) inlinePolicyHandlers(m map[string]service.Handler) {
	for _, e := range []struct{ kind, op string }{{kindUser, "User"}, {kindGroup, "Group"}, {kindRole, "Role"}} {
		m["Put"+e.op+"Policy"] = s.putInlinePolicy(e.kind)
		m["Get"+e.op+"Policy"] = s.getInlinePolicy(e.kind)
		m["Delete"+e.op+"Policy"] = s.deleteInlinePolicy(e.kind)
		m["List"+e.op+"Policies"] = s.listInlinePolicies(e.kind)
	}
}

// entityName is the stored name of a user, group or role (its case as
// created, whatever case the request used).
func entityName(rec store.Record) (string, error) {
	b, err := decode[boundaryView](rec)
	if err != nil {
		return "", err
	}
	return b.Name, nil
}

func inlineMissing(kind, name string) error {
	return apierr.New(apierr.NoSuchEntity, "The %s policy with name %s cannot be found.", kind, name)
}

func (s *Service) putInlinePolicy(kind string) service.Handler {
	return func(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
		name, pname, doc := awsproto.Str(in, entityField(kind)), awsproto.Str(in, "PolicyName"), awsproto.Str(in, "PolicyDocument")
		if _, err := policy.Parse([]byte(doc), policy.Identity); err != nil {
			return nil, policyErr(err)
		}
		ip := &InlinePolicy{Name: pname, Document: doc, Size: policy.Size([]byte(doc))}
		err := s.Store.WithTx(ctx, func(tx store.Tx) error {
			erec, err := loadMutableEntity(ctx, tx, c.Account, kind, name)
			if err != nil {
				return err
			}
			owner := polOwner(kind, erec.Key)
			k := inlineKey(owner, pname)
			// The quota covers all of the entity's inline policies together;
			// the one being replaced does not count.
			recs, err := tx.List(ctx, byParent(c.Account, kindInline, owner))
			if err != nil {
				return err
			}
			total := ip.Size
			var existing *store.Record
			for i, r := range recs {
				if r.Key == k {
					existing = &recs[i]
					continue
				}
				other, err := decode[InlinePolicy](r)
				if err != nil {
					return err
				}
				total += other.Size
			}
			if total > inlineQuota(kind) {
				ename, err := entityName(erec)
				if err != nil {
					return err
				}
				return apierr.Limit("Maximum policy size of %d bytes exceeded for %s %s", inlineQuota(kind), kind, ename)
			}
			if existing != nil {
				existing.Data, existing.Updated = encode(ip), now(c)
				return tx.Update(ctx, *existing)
			}
			return tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindInline, Key: k, Parent: owner, Data: encode(ip), Created: now(c)})
		})
		if err != nil {
			return nil, err
		}
		return map[string]any{}, nil
	}
}

func (s *Service) getInlinePolicy(kind string) service.Handler {
	return func(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
		name, pname := awsproto.Str(in, entityField(kind)), awsproto.Str(in, "PolicyName")
		erec, err := loadEntity(ctx, s.Store, c.Account, kind, name)
		if err != nil {
			return nil, err
		}
		ip, _, err := get[InlinePolicy](ctx, s.Store, c.Account, kindInline, inlineKey(polOwner(kind, erec.Key), pname))
		if errors.Is(err, store.ErrNotFound) {
			return nil, inlineMissing(kind, pname)
		}
		if err != nil {
			return nil, err
		}
		ename, err := entityName(erec)
		if err != nil {
			return nil, err
		}
		return map[string]any{entityField(kind): ename, "PolicyName": ip.Name, "PolicyDocument": escapePolicy(ip.Document)}, nil
	}
}

func (s *Service) deleteInlinePolicy(kind string) service.Handler {
	return func(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
		name, pname := awsproto.Str(in, entityField(kind)), awsproto.Str(in, "PolicyName")
		err := s.Store.WithTx(ctx, func(tx store.Tx) error {
			erec, err := loadMutableEntity(ctx, tx, c.Account, kind, name)
			if err != nil {
				return err
			}
			err = tx.Delete(ctx, c.Account, kindInline, inlineKey(polOwner(kind, erec.Key), pname))
			if errors.Is(err, store.ErrNotFound) {
				return inlineMissing(kind, pname)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		return map[string]any{}, nil
	}
}

func (s *Service) listInlinePolicies(kind string) service.Handler {
	return func(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
		erec, err := loadEntity(ctx, s.Store, c.Account, kind, awsproto.Str(in, entityField(kind)))
		if err != nil {
			return nil, err
		}
		owner := polOwner(kind, erec.Key)
		return listOut(ctx, s.Store, byParent(c.Account, kindInline, owner), in, "PolicyNames", func(ip *InlinePolicy) any {
			return ip.Name
		})
	}
}
