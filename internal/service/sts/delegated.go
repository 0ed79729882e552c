package sts

// GetDelegatedAccessToken: a partner trades the exchange token of a
// finalized IAM delegation request for temporary credentials of the
// identity that accepted it, limited by the request's permission policy.
//
// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetDelegatedAccessToken.html

import (
	"context"
	"errors"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/service/iam"
)

func (s *Service) getDelegatedAccessToken(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	d, err := s.IAM.RedeemTradeInToken(ctx, awsproto.Str(in, "TradeInToken"), c.Now)
	if errors.Is(err, iam.ErrTradeInToken) {
		return nil, apierr.New("ExpiredTradeInTokenException", "The trade-in token is invalid or has expired.")
	}
	if err != nil {
		return nil, err
	}
	// Only the partner that filed the request may redeem its token.
	if d.RequestorID != c.Account {
		return nil, apierr.New("ExpiredTradeInTokenException", "The trade-in token is invalid or has expired.")
	}
	p := d.Principal
	p.Issuer = "GetDelegatedAccessToken"
	packed := int64(0)
	if d.PermissionPolicy != "" {
		p.SessionPolicies = []string{d.PermissionPolicy}
		packed = int64(policy.Size([]byte(d.PermissionPolicy))) * 100 / sessionPolicyMax
		if packed > 100 {
			return nil, apierr.New("PackedPolicyTooLarge", "The permission policy of this delegation is %d%% of the packed policy size limit.", packed)
		}
	}
	left := d.Expires.Sub(c.Now.UTC().Truncate(time.Second))
	creds, err := s.issue(c, p, left)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Credentials": creds, "AssumedPrincipal": d.Principal.PrincipalARN(), "PackedPolicySize": packed}, nil
}
