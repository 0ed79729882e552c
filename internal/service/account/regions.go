package account

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"time"

	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// Region opt status values.
const (
	enabledByDefault = "ENABLED_BY_DEFAULT"
	enabled          = "ENABLED"
	enabling         = "ENABLING"
	disabling        = "DISABLING"
	disabled         = "DISABLED"
)

// defaultRegionTransition stands in for the minutes AWS takes to enable or
// disable a Region.
const defaultRegionTransition = 5 * time.Second

// regions are the commercial Regions: true for those enabled by default,
// false for opt-in Regions
// (https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html).
var regions = map[string]bool{
	"us-east-1": true, "us-east-2": true, "us-west-1": true, "us-west-2": true,
	"ap-south-1": true, "ap-northeast-1": true, "ap-northeast-2": true, "ap-northeast-3": true,
	"ap-southeast-1": true, "ap-southeast-2": true, "ca-central-1": true,
	"eu-central-1": true, "eu-west-1": true, "eu-west-2": true, "eu-west-3": true, "eu-north-1": true,
	"sa-east-1":  true,
	"af-south-1": false, "ap-east-1": false, "ap-east-2": false, "ap-south-2": false,
	"ap-southeast-3": false, "ap-southeast-4": false, "ap-southeast-5": false, "ap-southeast-7": false,
	"ca-west-1": false, "eu-central-2": false, "eu-south-1": false, "eu-south-2": false,
	"il-central-1": false, "me-central-1": false, "me-south-1": false, "mx-central-1": false,
}

// regionNames is regions' keys, sorted.
var regionNames = func() []string {
	out := make([]string, 0, len(regions))
	for r := range regions {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}()

// regionState is a stored opt-in Region's state: the status it is moving
// to or in, and since when.
type regionState struct {
	Enabled bool      `json:"enabled"`
	Since   time.Time `json:"since"`
}

func (s *Service) transition() time.Duration {
	if s.RegionTransition > 0 {
		return s.RegionTransition
	}
	return defaultRegionTransition
}

// status is a Region's opt status at t.
func (s *Service) status(name string, st *regionState, t time.Time) string {
	if regions[name] {
		return enabledByDefault
	}
	if st == nil {
		return disabled
	}
	done := !t.Before(st.Since.Add(s.transition()))
	switch {
	case st.Enabled && done:
		return enabled
	case st.Enabled:
		return enabling
	case done:
		return disabled
	}
	return disabling
}

func checkRegion(name string) error {
	if _, ok := regions[name]; !ok {
		return invalidRegion("The Region %s is not a valid Region name.", name)
	}
	return nil
}

func (s *Service) regionStates(ctx context.Context, r store.Reader, account string) (map[string]*regionState, error) {
	recs, err := r.List(ctx, store.ListQuery{Account: account, Kind: kindRegion})
	if err != nil {
		return nil, err
	}
	out := map[string]*regionState{}
	for _, rec := range recs {
		st, _, err := getDoc[regionState](ctx, r, account, kindRegion, rec.Key)
		if err != nil {
			return nil, err
		}
		out[rec.Key] = st
	}
	return out, nil
}

func (s *Service) listRegions(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	id, err := target(ctx, s.Store, c, in, false)
	if err != nil {
		return nil, err
	}
	states, err := s.regionStates(ctx, s.Store, id)
	if err != nil {
		return nil, err
	}
	filter := awsproto.Strings(in, "RegionOptStatusContains")
	limit := 20
	if n, ok := awsproto.Int(in, "MaxResults"); ok && n > 0 {
		limit = int(n)
	}
	after := ""
	if tok := awsproto.Str(in, "NextToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(b) == 0 {
			return nil, validation("The NextToken is not valid.")
		}
		after = string(b)
	}
	list := []any{}
	next := ""
	for _, name := range regionNames {
		if name <= after {
			continue
		}
		st := s.status(name, states[name], c.Now)
		if len(filter) > 0 && !slices.Contains(filter, st) {
			continue
		}
		if len(list) == limit {
			next = base64.RawURLEncoding.EncodeToString([]byte(after))
			break
		}
		list = append(list, map[string]any{"RegionName": name, "RegionOptStatus": st})
		after = name
	}
	out := map[string]any{"Regions": list}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (s *Service) getRegionOptStatus(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	id, err := target(ctx, s.Store, c, in, false)
	if err != nil {
		return nil, err
	}
	name := awsproto.Str(in, "RegionName")
	if err := checkRegion(name); err != nil {
		return nil, err
	}
	st, _, err := getDoc[regionState](ctx, s.Store, id, kindRegion, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return map[string]any{"RegionName": name, "RegionOptStatus": s.status(name, st, c.Now)}, nil
}

func (s *Service) enableRegion(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	return nil, s.setRegion(ctx, c, in, true)
}

func (s *Service) disableRegion(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	return nil, s.setRegion(ctx, c, in, false)
}

// setRegion starts enabling or disabling an opt-in Region. Regions enabled
// by default cannot be changed; a Region still moving the other way is a
// conflict; asking for the state it is in or moving to changes nothing.
func (s *Service) setRegion(ctx context.Context, c *service.Call, in map[string]any, enable bool) error {
	name := awsproto.Str(in, "RegionName")
	if err := checkRegion(name); err != nil {
		return err
	}
	if regions[name] {
		return invalidRegion("The Region %s is enabled by default and cannot be enabled or disabled.", name)
	}
	return s.Store.WithTx(ctx, func(tx store.Tx) error {
		id, err := target(ctx, tx, c, in, false)
		if err != nil {
			return err
		}
		st, _, err := getDoc[regionState](ctx, tx, id, kindRegion, name)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		switch cur := s.status(name, st, c.Now); {
		case enable && (cur == enabled || cur == enabling), !enable && (cur == disabled || cur == disabling):
			return nil
		case cur == enabling || cur == disabling:
			return conflict("The Region %s is %s; wait until it completes before changing it again.", name, cur)
		}
		return putDoc(ctx, tx, id, kindRegion, name, regionState{Enabled: enable, Since: c.Now.UTC()}, now(c))
	})
}
