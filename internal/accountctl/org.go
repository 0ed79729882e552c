// Package accountctl holds the account-level state and rules that several
// services and the authorizer share: a read-only view of an account's
// organization (management account, delegated administrators, trusted
// access), the centralized-root-access features IAM manages for an
// organization, the root task policies of sts:AssumeRoot, and the gate the
// authorizer applies before any policy: closed accounts, IAM access to
// billing, and required root MFA.
//
// The organization records belong to internal/service/organizations; this
// package only reads them, decoding the few fields it needs.
package accountctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/iamd/iamd/internal/store"
)

// Record kinds and keys of internal/service/organizations, read here.
const (
	orgKindMember    = "orgaccount"   // in the management account; ID = member account id
	orgKindOrg       = "org"          // key "org" in the management account
	orgKindRoot      = "orgroot"      // key = root id
	orgKindDelegated = "orgdelegated" // key "account|service principal"
	orgKey           = "org"
)

// IAMServicePrincipal is the service principal whose trusted access and
// delegated administrators centralized root access uses.
const IAMServicePrincipal = "iam.amazonaws.com"

// RequireRootMFATag is the tag on an organization's root (Organizations
// TagResource on r-…) that makes every root user of the organization's
// accounts enrol an MFA device before doing anything else. The value must be
// "true" (case-insensitive).
const RequireRootMFATag = "iamd:RequireRootMFA"

// Org is what account-level rules need to know of an organization.
type Org struct {
	ID          string
	Mgmt        string // management account id
	AllFeatures bool
	// TrustedServices are the service principals with trusted access.
	TrustedServices []string
	// RequireRootMFA is set by RequireRootMFATag on the organization root.
	RequireRootMFA bool
}

// TrustedAccess reports whether principal has trusted access.
func (o *Org) TrustedAccess(principal string) bool {
	return slices.Contains(o.TrustedServices, principal)
}

type orgDoc struct {
	ID         string `json:"id"`
	Mgmt       string `json:"mgmt"`
	FeatureSet string `json:"featureSet"`
	RootID     string `json:"root"`
	Services   []struct {
		Principal string `json:"p"`
	} `json:"services"`
}

type rootDoc struct {
	Tags []struct {
		Key   string `json:"k"`
		Value string `json:"v"`
	} `json:"tags"`
}

// OrgOf returns the organization account belongs to, or nil when it
// belongs to none.
func OrgOf(ctx context.Context, r store.Reader, account string) (*Org, error) {
	rec, err := r.GetByID(ctx, orgKindMember, account)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("accountctl: membership of %s: %w", account, err)
	}
	orec, err := r.Get(ctx, rec.Account, orgKindOrg, orgKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("accountctl: organization of %s: %w", account, err)
	}
	var d orgDoc
	if err := json.Unmarshal(orec.Data, &d); err != nil {
		return nil, fmt.Errorf("accountctl: decode organization of %s: %w", account, err)
	}
	o := &Org{ID: d.ID, Mgmt: d.Mgmt, AllFeatures: d.FeatureSet == "ALL"}
	for _, s := range d.Services {
		o.TrustedServices = append(o.TrustedServices, s.Principal)
	}
	if d.RootID != "" {
		rrec, err := r.Get(ctx, d.Mgmt, orgKindRoot, d.RootID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("accountctl: organization root %s: %w", d.RootID, err)
		}
		if err == nil {
			var rd rootDoc
			if err := json.Unmarshal(rrec.Data, &rd); err != nil {
				return nil, fmt.Errorf("accountctl: decode organization root %s: %w", d.RootID, err)
			}
			for _, t := range rd.Tags {
				if t.Key == RequireRootMFATag && strings.EqualFold(t.Value, "true") {
					o.RequireRootMFA = true
				}
			}
		}
	}
	return o, nil
}

// IsMember reports whether account belongs to o.
func (o *Org) IsMember(ctx context.Context, r store.Reader, account string) (bool, error) {
	rec, err := r.GetByID(ctx, orgKindMember, account)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("accountctl: membership of %s: %w", account, err)
	}
	return rec.Account == o.Mgmt, nil
}

// IsDelegatedAdmin reports whether account is a delegated administrator of
// o for servicePrincipal.
func (o *Org) IsDelegatedAdmin(ctx context.Context, r store.Reader, account, servicePrincipal string) (bool, error) {
	_, err := r.Get(ctx, o.Mgmt, orgKindDelegated, account+"|"+servicePrincipal)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("accountctl: delegated administrators: %w", err)
	}
	return true, nil
}
