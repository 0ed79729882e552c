package sts

// GetWebIdentityToken: a JWT for the calling identity, signed by the
// account's outbound federation issuer (IAM EnableOutboundWebIdentityFederation).
//
// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetWebIdentityToken.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_outbound_token_claims.html

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/service/iam"
	"github.com/iamd/iamd/internal/service/organizations"
	"github.com/iamd/iamd/internal/store"
)

const (
	defaultWebTokenDuration = 300 * time.Second
	// awsClaims is the namespace AWS nests its own claims under.
	awsClaims = "https://sts.amazonaws.com/"
)

func (s *Service) getWebIdentityToken(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	p := c.Principal
	alg := awsproto.Str(in, "SigningAlgorithm")
	if alg != iam.AlgES384 && alg != iam.AlgRS256 {
		return nil, apierr.New("ValidationError", "1 validation error detected: Value '%s' at 'signingAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [ES384, RS256]", alg)
	}
	d := duration(in, defaultWebTokenDuration)
	now := c.Now.UTC().Truncate(time.Second)
	exp := now.Add(d)
	// A token may not outlive the session whose credentials asked for it.
	if p.Temporary && !p.Expiration.IsZero() && exp.After(p.Expiration) {
		return nil, apierr.New("SessionDurationEscalationException", "The requested token duration would extend the session beyond its original expiration time.")
	}
	reqTags := map[string]string{}
	seen := map[string]bool{}
	for _, v := range awsproto.List(in, "Tags") {
		m, _ := v.(map[string]any)
		k := awsproto.Str(m, "Key")
		if seen[strings.ToLower(k)] {
			return nil, apierr.New("InvalidParameterValue", "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[strings.ToLower(k)] = true
		reqTags[k] = awsproto.Str(m, "Value")
	}
	ns := map[string]any{"aws_account": p.Account, "source_region": c.Region}
	g, err := (&organizations.Service{Store: s.Store}).Guardrails(ctx, s.Store, p.Account)
	if err != nil {
		return nil, err
	}
	if g != nil {
		ns["org_id"] = g.OrgID
		if len(g.OrgPaths) > 0 {
			ns["ou_path"] = g.OrgPaths[0]
		}
	}
	ptags, err := s.principalTags(ctx, p)
	if err != nil {
		return nil, err
	}
	if len(ptags) > 0 {
		ns["principal_tags"] = ptags
	}
	if len(reqTags) > 0 {
		ns["request_tags"] = reqTags
	}
	var aud any = awsproto.Strings(in, "Audience")
	if a := aud.([]string); len(a) == 1 {
		aud = a[0] // a single audience is a string, as in AWS's sample token
	}
	claims := map[string]any{
		"sub":     p.PrincipalARN(),
		"aud":     aud,
		"iat":     now.Unix(),
		"nbf":     now.Unix(),
		"exp":     exp.Unix(),
		"jti":     s.IDs.Hex(32),
		awsClaims: ns,
	}
	tok, err := s.IAM.MintWebIdentityToken(ctx, p.Account, alg, claims)
	if errors.Is(err, iam.ErrOutboundFederationDisabled) {
		return nil, apierr.New("OutboundWebIdentityFederationDisabledException", "Outbound web identity federation is not enabled for this account. Enable it with the IAM EnableOutboundWebIdentityFederation operation.")
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"WebIdentityToken": tok, "Expiration": exp}, nil
}

// principalTags are the caller's principal tags: a user's tags, or a role
// session's role tags overridden by its session tags.
func (s *Service) principalTags(ctx context.Context, p *principal.Principal) (map[string]string, error) {
	var kind string
	switch p.Type {
	case principal.User:
		kind = "user"
	case principal.AssumedRole:
		kind = "role"
	default:
		return nil, nil
	}
	out := map[string]string{}
	info, err := iam.LookupEntityInfo(ctx, s.Store, p.Account, kind, p.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		for _, t := range info.Tags {
			out[t.Key] = t.Value
		}
	}
	for k, v := range p.SessionTags {
		out[k] = v
	}
	return out, nil
}
