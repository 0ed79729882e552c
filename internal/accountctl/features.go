package accountctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/store"
)

// Centralized root access features
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-enable-root-access.html).
const (
	FeatureRootCredentialsManagement = "RootCredentialsManagement"
	FeatureRootSessions              = "RootSessions"
)

// kindFeatures holds an organization's enabled features, in the management
// account's partition (so a change invalidates that account's caches),
// keyed by organization id: a deleted and re-created organization starts
// with none.
const kindFeatures = "iamorgfeatures"

type featuresDoc struct {
	Features []string  `json:"features"`
	Updated  time.Time `json:"updated"`
}

// Features returns the centralized root access features enabled in o,
// sorted.
func Features(ctx context.Context, r store.Reader, o *Org) ([]string, error) {
	rec, err := r.Get(ctx, o.Mgmt, kindFeatures, o.ID)
	if errors.Is(err, store.ErrNotFound) {
		return []string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("accountctl: organization features: %w", err)
	}
	var d featuresDoc
	if err := json.Unmarshal(rec.Data, &d); err != nil {
		return nil, fmt.Errorf("accountctl: decode organization features: %w", err)
	}
	return d.Features, nil
}

// HasFeature reports whether feature is enabled in o.
func HasFeature(ctx context.Context, r store.Reader, o *Org, feature string) (bool, error) {
	fs, err := Features(ctx, r, o)
	return slices.Contains(fs, feature), err
}

// SetFeature turns feature on or off in o inside tx and returns the
// features then enabled. Enabling twice or disabling what is off changes
// nothing, as IAM's calls are idempotent.
func SetFeature(ctx context.Context, tx store.Tx, o *Org, feature string, on bool, now time.Time) ([]string, error) {
	fs, err := Features(ctx, tx, o)
	if err != nil {
		return nil, err
	}
	has := slices.Contains(fs, feature)
	switch {
	case on && !has:
		fs = append(fs, feature)
		slices.Sort(fs)
	case !on && has:
		fs = slices.DeleteFunc(fs, func(f string) bool { return f == feature })
	default:
		return fs, nil
	}
	data, err := json.Marshal(featuresDoc{Features: fs, Updated: now})
	if err != nil {
		return nil, err
	}
	rec := store.Record{Account: o.Mgmt, Kind: kindFeatures, Key: o.ID, Data: data, Created: now, Updated: now}
	err = tx.Update(ctx, rec)
	if errors.Is(err, store.ErrNotFound) {
		err = tx.Insert(ctx, rec)
	}
	if err != nil {
		return nil, fmt.Errorf("accountctl: store organization features: %w", err)
	}
	return fs, nil
}

// Caller levels for RootAccessOrg.
const (
	ManagementOnly        = true
	ManagementOrDelegated = false
)

// RootAccessOrg applies IAM's preconditions for centralized root access
// calls made from account and returns its organization: the account is in
// an organization with all features, is its management account (or, unless
// managementOnly, a delegated administrator for IAM), and IAM has trusted
// access. Errors carry the IAM model's exception codes.
func RootAccessOrg(ctx context.Context, r store.Reader, account string, managementOnly bool) (*Org, error) {
	o, err := OrgOf(ctx, r, account)
	if err != nil {
		return nil, err
	}
	if o == nil {
		return nil, apierr.New("OrganizationNotFoundException", "The request failed because your account is not a member of an organization.")
	}
	if !o.AllFeatures {
		return nil, apierr.New("OrganizationNotInAllFeaturesModeException", "The request failed because your organization does not have all features enabled.")
	}
	if o.Mgmt != account {
		admin, err := o.IsDelegatedAdmin(ctx, r, account, IAMServicePrincipal)
		if err != nil {
			return nil, err
		}
		if !admin {
			return nil, apierr.New("AccountNotManagementOrDelegatedAdministratorException", "The request failed because the account is not the management account or delegated administrator account for IAM.")
		}
		if managementOnly {
			return nil, apierr.New("CallerIsNotManagementAccountException", "The request failed because the caller is not the management account of the organization.")
		}
	}
	if !o.TrustedAccess(IAMServicePrincipal) {
		return nil, apierr.New("ServiceAccessNotEnabledException", "The request failed because trusted access is not enabled for IAM in your organization.")
	}
	return o, nil
}
