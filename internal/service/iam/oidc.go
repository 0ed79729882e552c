package iam

import (
	"context"
	"encoding/hex"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// Identity provider record kinds. OIDC providers are keyed by their URL
// without the scheme (host/path), which is also their ARN's resource name;
// SAML providers by lower-cased name.
const (
	kindOIDCProvider = "oidcprovider"
	kindSAMLProvider = "samlprovider"
)

// Quotas from "IAM and AWS STS quotas"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
const (
	maxOIDCProviders  = 100
	maxSAMLProviders  = 100
	maxOIDCClientIDs  = 100
	maxOIDCThumbprint = 5
)

// OIDCProvider is an OpenID Connect identity provider.
type OIDCProvider struct {
	URL         string    `json:"url"` // host/path, no scheme
	ARN         string    `json:"arn"`
	ClientIDs   []string  `json:"clients,omitempty"`
	Thumbprints []string  `json:"thumbprints,omitempty"`
	Created     time.Time `json:"created"`
	Tags        []Tag     `json:"tags,omitempty"`
}

// oidcKey normalises an issuer URL to the provider key: scheme dropped,
// host lower-cased, trailing slash removed. It accepts only https URLs
// without port, query or fragment, as CreateOpenIDConnectProvider does
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html).
func oidcKey(raw string) (string, error) {
	bad := apierr.Invalid("Invalid Open ID Connect Provider URL: %s. The URL must begin with https:// and must not contain a port, query or fragment.", raw)
	if len(raw) < len("https://") || !strings.EqualFold(raw[:8], "https://") {
		return "", bad
	}
	u, err := url.Parse("https://" + raw[8:])
	if err != nil || u.Host == "" || u.Port() != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.HasSuffix(raw, "?") || strings.Contains(raw, "#") {
		return "", bad
	}
	return strings.ToLower(u.Host) + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// oidcThumbprints validates a thumbprint list: hex SHA-1 fingerprints, at
// most five, stored lower-case.
func oidcThumbprints(list []string) ([]string, error) {
	if len(list) > maxOIDCThumbprint {
		return nil, apierr.Invalid("Thumbprint list must contain fewer than %d entries.", maxOIDCThumbprint+1)
	}
	out := make([]string, 0, len(list))
	for _, t := range list {
		if len(t) != 40 {
			return nil, apierr.Invalid("Thumbprint %s must be 40 hexadecimal characters.", t)
		}
		if _, err := hex.DecodeString(t); err != nil {
			return nil, apierr.Invalid("Thumbprint %s must be 40 hexadecimal characters.", t)
		}
		if t = strings.ToLower(t); !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// providerKeyFromARN extracts the record key from a provider ARN of the
// caller's account; typ is "oidc-provider" or "saml-provider".
func providerKeyFromARN(c *service.Call, s, typ string) (string, error) {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, typ+"/") {
		return "", apierr.Invalid("ARN %s is not valid.", s)
	}
	name := strings.TrimPrefix(a.Resource, typ+"/")
	if a.Account != c.Account || name == "" {
		return "", nil // another account's provider: not found here
	}
	return name, nil
}

func oidcNotFound(a string) error {
	return apierr.New(apierr.NoSuchEntity, "OpenIDConnect Provider not found for arn %s", a)
}

// loadOIDCByARN reads the provider an OpenIDConnectProviderArn names.
func loadOIDCByARN(ctx context.Context, r store.Reader, c *service.Call, in map[string]any) (*OIDCProvider, store.Record, error) {
	a := awsproto.Str(in, "OpenIDConnectProviderArn")
	k, err := providerKeyFromARN(c, a, "oidc-provider")
	if err != nil {
		return nil, store.Record{}, err
	}
	if k == "" {
		return nil, store.Record{}, oidcNotFound(a)
	}
	p, rec, err := get[OIDCProvider](ctx, r, c.Account, kindOIDCProvider, k)
	if errors.Is(err, store.ErrNotFound) {
		return nil, rec, oidcNotFound(a)
	}
	return p, rec, err
}

// LookupOIDCProvider finds an account's OIDC provider by issuer URL (with
// or without https://), for AssumeRoleWithWebIdentity.
func LookupOIDCProvider(ctx context.Context, r store.Reader, account, issuer string) (*OIDCProvider, error) {
	if !strings.HasPrefix(strings.ToLower(issuer), "https://") {
		issuer = "https://" + issuer
	}
	k, err := oidcKey(issuer)
	if err != nil {
		return nil, err
	}
	p, _, err := get[OIDCProvider](ctx, r, account, kindOIDCProvider, k)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.New(apierr.NoSuchEntity, "OpenIDConnect Provider not found for url %s", issuer)
	}
	return p, err
}

// dedupe keeps the first occurrence of each string.
func dedupe(list []string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func (s *Service) createOIDCProvider(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	k, err := oidcKey(awsproto.Str(in, "Url"))
	if err != nil {
		return nil, err
	}
	thumbs, err := oidcThumbprints(awsproto.Strings(in, "ThumbprintList"))
	if err != nil {
		return nil, err
	}
	clients := dedupe(awsproto.Strings(in, "ClientIDList"))
	if len(clients) > maxOIDCClientIDs {
		return nil, apierr.Limit("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", maxOIDCClientIDs)
	}
	tags, err := tagsIn(in)
	if err != nil {
		return nil, err
	}
	p := &OIDCProvider{URL: k, ARN: arn.IAM(c.Partition, c.Account, "oidc-provider/"+k), ClientIDs: clients, Thumbprints: thumbs, Created: now(c), Tags: tags}
	err = createCounted(ctx, s.Store, store.ListQuery{Account: c.Account, Kind: kindOIDCProvider}, maxOIDCProviders, apierr.Limit("Cannot exceed quota for OpenIdConnectProvidersPerAccount: %d", maxOIDCProviders), store.Record{Account: c.Account, Kind: kindOIDCProvider, Key: k, Data: encode(p), Created: p.Created}, apierr.New(apierr.EntityAlreadyExists, "Provider with url https://%s already exists.", k))
	if err != nil {
		return nil, err
	}
	out := map[string]any{"OpenIDConnectProviderArn": p.ARN}
	withTags(out, tags)
	return out, nil
}

func (s *Service) getOIDCProvider(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	p, _, err := loadOIDCByARN(ctx, s.Store, c, in)
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"Url": p.URL, "CreateDate": p.Created,
		"ClientIDList": stringsOut(p.ClientIDs), "ThumbprintList": stringsOut(p.Thumbprints),
	}
	withTags(out, p.Tags)
	return out, nil
}

func stringsOut(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}

func (s *Service) listOIDCProviders(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	// Unpaginated in AWS; bounded by the per-account quota.
	recs, err := s.Store.List(ctx, store.ListQuery{Account: c.Account, Kind: kindOIDCProvider})
	if err != nil {
		return nil, err
	}
	list, err := decodeAll(recs, func(p *OIDCProvider) any { return map[string]any{"Arn": p.ARN} })
	if err != nil {
		return nil, err
	}
	return map[string]any{"OpenIDConnectProviderList": list}, nil
}

func (s *Service) addClientIDToOIDCProvider(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	id := awsproto.Str(in, "ClientID")
	_, err := modify(ctx, s.Store, c, in, loadOIDCByARN, func(_ store.Tx, p *OIDCProvider) error {
		if slices.Contains(p.ClientIDs, id) {
			return nil // adding an existing client id is a no-op
		}
		if len(p.ClientIDs) >= maxOIDCClientIDs {
			return apierr.Limit("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", maxOIDCClientIDs)
		}
		p.ClientIDs = append(p.ClientIDs, id)
		return nil
	})
	return map[string]any{}, err
}

func (s *Service) removeClientIDFromOIDCProvider(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	id := awsproto.Str(in, "ClientID")
	_, err := modify(ctx, s.Store, c, in, loadOIDCByARN, func(_ store.Tx, p *OIDCProvider) error {
		// Removing a client id that is not there succeeds, as in AWS.
		p.ClientIDs = slices.DeleteFunc(p.ClientIDs, func(s string) bool { return s == id })
		return nil
	})
	return map[string]any{}, err
}

func (s *Service) updateOIDCProviderThumbprint(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	thumbs, err := oidcThumbprints(awsproto.Strings(in, "ThumbprintList"))
	if err != nil {
		return nil, err
	}
	_, err = modify(ctx, s.Store, c, in, loadOIDCByARN, func(_ store.Tx, p *OIDCProvider) error {
		p.Thumbprints = thumbs
		return nil
	})
	return map[string]any{}, err
}
