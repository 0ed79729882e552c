package organizations

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// Feature sets.
const (
	featuresAll     = "ALL"
	featuresBilling = "CONSOLIDATED_BILLING"
)

// organization is the stored organization.
type organization struct {
	ID         string           `json:"id"`
	Mgmt       string           `json:"mgmt"`
	Partition  string           `json:"partition"`
	FeatureSet string           `json:"featureSet"`
	RootID     string           `json:"root"`
	Services   []enabledService `json:"services,omitempty"`
	Created    time.Time        `json:"created"`
	// ResourcePolicy is the organization's resource-based delegation policy.
	ResourcePolicy *resourcePolicy `json:"resourcePolicy,omitempty"`
	// AllFeatures is the open ENABLE_ALL_FEATURES handshake, if any.
	AllFeatures string `json:"allFeatures,omitempty"`
}

type enabledService struct {
	Principal string    `json:"p"`
	Enabled   time.Time `json:"t"`
}

type resourcePolicy struct {
	ID      string   `json:"id"`
	Content string   `json:"content"`
	Tags    []orgTag `json:"tags,omitempty"`
}

func (o *organization) arnPrefix() string {
	return fmt.Sprintf("arn:%s:organizations::%s:", o.Partition, o.Mgmt)
}

func (o *organization) arn() string { return o.arnPrefix() + "organization/" + o.ID }

func (o *organization) accountARN(id string) string {
	return o.arnPrefix() + "account/" + o.ID + "/" + id
}
func (o *organization) rootARN(id string) string { return o.arnPrefix() + "root/" + o.ID + "/" + id }
func (o *organization) ouARN(id string) string   { return o.arnPrefix() + "ou/" + o.ID + "/" + id }

// q is a list query over one kind of this organization's records.
func (o *organization) q(kind string) store.ListQuery {
	return store.ListQuery{Account: o.Mgmt, Kind: kind}
}

// orgOf finds the organization account belongs to; AWSOrganizationsNotInUse
// when it belongs to none.
func orgOf(ctx context.Context, r store.Reader, account string) (*organization, error) {
	rec, err := r.GetByID(ctx, kindMember, account)
	if isNotFound(err) {
		return nil, notInUse()
	}
	if err != nil {
		return nil, fmt.Errorf("organizations: membership of %s: %w", account, err)
	}
	orec, err := r.Get(ctx, rec.Account, kindOrg, orgKey)
	if isNotFound(err) {
		return nil, notInUse()
	}
	if err != nil {
		return nil, fmt.Errorf("organizations: organization of %s: %w", account, err)
	}
	return decode[organization](orec)
}

// Caller checks. AWS lets any member describe its organization; listing and
// describing its structure is for the management account and delegated
// administrators; changing it is for the management account.

func (s *Service) asMember(ctx context.Context, r store.Reader, c *service.Call) (*organization, error) {
	return orgOf(ctx, r, c.Account)
}

// asManagerTx runs fn in one transaction for the organization the caller
// manages (its management account), as every mutation of it does.
func (s *Service) asManagerTx(ctx context.Context, c *service.Call, fn func(tx store.Tx, o *organization) error) error {
	return s.Store.WithTx(ctx, func(tx store.Tx) error {
		o, err := s.asManager(ctx, tx, c)
		if err != nil {
			return err
		}
		return fn(tx, o)
	})
}

// requireAllFeatures refuses operations that need an organization with all
// features enabled.
func requireAllFeatures(o *organization) error {
	if o.FeatureSet != featuresAll {
		return constraint("ORGANIZATION_NOT_IN_ALL_FEATURES_MODE", "You attempted to perform an operation that requires the organization to be configured to support all features.")
	}
	return nil
}

func (s *Service) asManager(ctx context.Context, r store.Reader, c *service.Call) (*organization, error) {
	o, err := orgOf(ctx, r, c.Account)
	if err != nil {
		return nil, err
	}
	if o.Mgmt != c.Account {
		return nil, accessDenied()
	}
	return o, nil
}

func (s *Service) asReader(ctx context.Context, r store.Reader, c *service.Call) (*organization, error) {
	o, err := orgOf(ctx, r, c.Account)
	if err != nil {
		return nil, err
	}
	if o.Mgmt == c.Account {
		return o, nil
	}
	n, err := r.Count(ctx, store.ListQuery{Account: o.Mgmt, Kind: kindDelegated, Parent: &c.Account})
	if err != nil {
		return nil, fmt.Errorf("organizations: delegated administrators: %w", err)
	}
	if n == 0 {
		return nil, accessDenied()
	}
	return o, nil
}

// save writes the organization record back.
func saveOrg(ctx context.Context, tx store.Tx, o *organization) error {
	rec, err := tx.Get(ctx, o.Mgmt, kindOrg, orgKey)
	if err != nil {
		return fmt.Errorf("organizations: organization: %w", err)
	}
	rec.Data = encode(o)
	return tx.Update(ctx, rec)
}

func (s *Service) orgHandlers(m map[string]service.Handler) {
	m["CreateOrganization"] = s.createOrganization
	m["DescribeOrganization"] = s.describeOrganization
	m["DeleteOrganization"] = s.deleteOrganization
	m["EnableAllFeatures"] = s.enableAllFeatures
}

func (s *Service) orgOut(ctx context.Context, r store.Reader, o *organization) (map[string]any, error) {
	mgmt, err := accounts.Get(ctx, r, o.Mgmt)
	if err != nil {
		return nil, err
	}
	rt, err := s.getRoot(ctx, r, o)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"Id": o.ID, "Arn": o.arn(), "FeatureSet": o.FeatureSet,
		"MasterAccountArn": o.accountARN(o.Mgmt), "MasterAccountId": o.Mgmt, "MasterAccountEmail": mgmt.Email,
		"AvailablePolicyTypes": policyTypesOut(rt.PolicyTypes),
	}, nil
}

func (s *Service) createOrganization(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	fs := awsproto.Str(in, "FeatureSet")
	if fs == "" {
		fs = featuresAll
	}
	var out map[string]any
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		if _, err := orgOf(ctx, tx, c.Account); err == nil {
			return errf("AlreadyInOrganizationException", "The provided account is already a member of an organization.")
		} else if !isNotInUse(err) {
			return err
		}
		acct, err := accounts.Get(ctx, tx, c.Account)
		if err != nil {
			return err
		}
		at := now(c)
		o := &organization{
			ID: s.randomID("o-", 10, lowerAlnum), Mgmt: c.Account, Partition: c.Partition, FeatureSet: fs,
			RootID: s.randomID("r-", 4, lowerAlnum), Created: at,
		}
		if err := tx.Insert(ctx, store.Record{Account: o.Mgmt, Kind: kindOrg, Key: orgKey, ID: o.ID, Data: encode(o), Created: at}); err != nil {
			return fmt.Errorf("organizations: insert organization: %w", err)
		}
		rt := &root{ID: o.RootID, Name: "Root"}
		if err := tx.Insert(ctx, store.Record{Account: o.Mgmt, Kind: kindRoot, Key: rt.ID, ID: rt.ID, Data: encode(rt), Created: at}); err != nil {
			return fmt.Errorf("organizations: insert root: %w", err)
		}
		// AWS reports the management account as having joined by invitation
		// when the organization was created.
		if err := s.addMember(ctx, tx, o, &member{ID: acct.ID, Parent: rt.ID, Joined: "INVITED", JoinedAt: at}); err != nil {
			return err
		}
		out, err = s.orgOut(ctx, tx, o)
		return err
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"Organization": out}, nil
}

func isNotInUse(err error) bool {
	var ae *apierr.Error
	return errors.As(err, &ae) && ae.Code == "AWSOrganizationsNotInUseException"
}

func (s *Service) describeOrganization(ctx context.Context, c *service.Call, _ map[string]any) (map[string]any, error) {
	o, err := s.asMember(ctx, s.Store, c)
	if err != nil {
		return nil, err
	}
	out, err := s.orgOut(ctx, s.Store, o)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Organization": out}, nil
}

// orgKinds are the kinds of records an organization owns in its management
// account.
var orgKinds = []string{kindAttach, kindPolicy, kindOU, kindRoot, kindMember, kindHandshake, kindCreate, kindDelegated, kindOrg}

func (s *Service) deleteOrganization(ctx context.Context, c *service.Call, _ map[string]any) (map[string]any, error) {
	return nil, s.asManagerTx(ctx, c, func(tx store.Tx, o *organization) error {
		n, err := tx.Count(ctx, o.q(kindMember))
		if err != nil {
			return fmt.Errorf("organizations: count members: %w", err)
		}
		if n > 1 {
			return errf("OrganizationNotEmptyException", "To delete an organization you must first remove all member accounts (except the master).")
		}
		for _, k := range orgKinds {
			if _, err := tx.DeleteAll(ctx, o.q(k)); err != nil {
				return fmt.Errorf("organizations: delete %s: %w", k, err)
			}
		}
		return nil
	})
}

// enableAllFeatures starts the migration from consolidated billing: an
// ENABLE_ALL_FEATURES handshake for the management account and an
// APPROVE_ALL_FEATURES handshake to every invited member. The management
// account finalizes by accepting its handshake once every member approved
// (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_org_support-all-features.html).
func (s *Service) enableAllFeatures(ctx context.Context, c *service.Call, _ map[string]any) (map[string]any, error) {
	var out map[string]any
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		o, err := s.asManager(ctx, tx, c)
		if err != nil {
			return err
		}
		if o.FeatureSet == featuresAll {
			return withReason("HandshakeConstraintViolationException", "ORGANIZATION_ALREADY_HAS_ALL_FEATURES", "This organization already has all features enabled.")
		}
		if o.AllFeatures != "" {
			return withReason("HandshakeConstraintViolationException", "ORGANIZATION_IS_ALREADY_PENDING_ALL_FEATURES_MIGRATION", "This organization is already in the process of enabling all features.")
		}
		parent, err := s.newHandshake(ctx, tx, c, o, actionEnableAll, party{ID: o.ID, Type: "ORGANIZATION"}, nil, "", "")
		if err != nil {
			return err
		}
		members, err := listAll[member](ctx, tx, o.q(kindMember))
		if err != nil {
			return err
		}
		for _, m := range members {
			if m.ID == o.Mgmt || m.Joined != "INVITED" {
				continue
			}
			if _, err := s.newHandshake(ctx, tx, c, o, actionApproveAll, party{ID: m.ID, Type: "ACCOUNT"}, nil, "", parent.ID); err != nil {
				return err
			}
		}
		o.AllFeatures = parent.ID
		if err := saveOrg(ctx, tx, o); err != nil {
			return err
		}
		out = parent.out(o, c.Now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"Handshake": out}, nil
}

// sortByID sorts items by id, the order every listing pages in.
func sortByID[T any](items []T, id func(T) string) []T {
	slices.SortFunc(items, func(a, b T) int { return strings.Compare(id(a), id(b)) })
	return items
}
