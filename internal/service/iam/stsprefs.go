package iam

import (
	"context"
	"errors"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// kindSTSPrefs holds an account's STS preferences (one record, key stsPrefsKey).
const (
	kindSTSPrefs = "stsprefs"
	stsPrefsKey  = "prefs"
)

// STSPreferences are an account's SetSecurityTokenServicePreferences settings.
type STSPreferences struct {
	// GlobalEndpointTokenVersion is "v1Token" or "v2Token".
	GlobalEndpointTokenVersion string `json:"globalTokenVersion"`
}

// defaultGlobalEndpointTokenVersion is what an account reports before it
// sets a preference: version 1 tokens, valid only in Regions enabled by
// default (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_enable-regions.html).
const defaultGlobalEndpointTokenVersion = "v1Token"

func (s *Service) stsPrefsHandlers(m map[string]service.Handler) {
	m["SetSecurityTokenServicePreferences"] = s.setSecurityTokenServicePreferences
}

func (s *Service) setSecurityTokenServicePreferences(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	v := awsproto.Str(in, "GlobalEndpointTokenVersion")
	if v != "v1Token" && v != "v2Token" {
		// The codec validates enums; this guards direct callers.
		return nil, apierr.Invalid("GlobalEndpointTokenVersion must be v1Token or v2Token.")
	}
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		rec := store.Record{Account: c.Account, Kind: kindSTSPrefs, Key: stsPrefsKey, Data: encode(STSPreferences{GlobalEndpointTokenVersion: v})}
		err := tx.Update(ctx, rec)
		if errors.Is(err, store.ErrNotFound) {
			return tx.Insert(ctx, rec)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// LookupSTSPreferences returns account's STS preferences, AWS's defaults
// when none were set.
func LookupSTSPreferences(ctx context.Context, r store.Reader, account string) (*STSPreferences, error) {
	p, _, err := get[STSPreferences](ctx, r, account, kindSTSPrefs, stsPrefsKey)
	if errors.Is(err, store.ErrNotFound) {
		return &STSPreferences{GlobalEndpointTokenVersion: defaultGlobalEndpointTokenVersion}, nil
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// globalEndpointTokenVersion is GetAccountSummary's GlobalEndpointTokenVersion
// entry: 1 or 2.
func (s *Service) globalEndpointTokenVersion(ctx context.Context, account string) (int64, error) {
	p, err := LookupSTSPreferences(ctx, s.Store, account)
	if err != nil {
		return 0, err
	}
	if p.GlobalEndpointTokenVersion == "v2Token" {
		return 2, nil
	}
	return 1, nil
}
