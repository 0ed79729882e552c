package sts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Key retrieval for OIDC issuers: the issuer's discovery document
// (<iss>/.well-known/openid-configuration) names its jwks_uri, and the key
// set found there verifies its tokens. Sets are cached per issuer.

const (
	// jwksTTL is how long a fetched key set is trusted before it is fetched again.
	jwksTTL = time.Hour
	// jwksMinRefresh bounds refetches forced by an unknown kid (key
	// rotation), so tokens naming bogus kids cannot hammer the issuer.
	jwksMinRefresh = time.Minute
	// jwksFetchTimeout bounds one discovery + key-set retrieval.
	jwksFetchTimeout = 5 * time.Second
	// jwksMaxBody bounds a discovery document or key set.
	jwksMaxBody = 1 << 20
	// jwksMaxIssuers bounds the cache; on overflow it starts over.
	jwksMaxIssuers = 1024
)

// errIDPUnreachable marks a retrieval failure on the network or the
// issuer's side (IDPCommunicationError); other retrieval failures mean the
// issuer's configuration is unusable (InvalidIdentityToken).
var errIDPUnreachable = errors.New("oidc: identity provider unreachable")

// oidcKeys fetches and caches issuers' signing keys. Safe for concurrent use.
type oidcKeys struct {
	client *http.Client

	mu   sync.Mutex
	sets map[string]*cachedKeys // by issuer URL
}

type cachedKeys struct {
	keys    []jwk
	fetched time.Time
}

func newOIDCKeys(client *http.Client) *oidcKeys {
	if client == nil {
		client = &http.Client{Timeout: jwksFetchTimeout}
	}
	return &oidcKeys{client: client, sets: map[string]*cachedKeys{}}
}

// keys returns the issuer's key set, fetching it when absent or older than
// the TTL, or when refresh asks for it and the set is older than
// jwksMinRefresh. now is the request's time.
func (o *oidcKeys) keys(ctx context.Context, issuer string, now time.Time, refresh bool) ([]jwk, error) {
	o.mu.Lock()
	c := o.sets[issuer]
	o.mu.Unlock()
	if c != nil {
		age := now.Sub(c.fetched)
		if age >= 0 && age < jwksTTL && (!refresh || age < jwksMinRefresh) {
			return c.keys, nil
		}
	}
	keys, err := o.fetch(ctx, issuer)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	if len(o.sets) >= jwksMaxIssuers {
		clear(o.sets)
	}
	o.sets[issuer] = &cachedKeys{keys: keys, fetched: now}
	o.mu.Unlock()
	return keys, nil
}

// fetch reads the discovery document and then the key set it names.
func (o *oidcKeys) fetch(ctx context.Context, issuer string) ([]jwk, error) {
	ctx, cancel := context.WithTimeout(ctx, jwksFetchTimeout)
	defer cancel()
	var disc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	body, err := o.get(ctx, strings.TrimRight(issuer, "/")+"/.well-known/openid-configuration")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, &disc); err != nil {
		return nil, fmt.Errorf("oidc: discovery document of %s: %w", issuer, err)
	}
	u, err := url.Parse(disc.JWKSURI)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("oidc: discovery document of %s has no https jwks_uri", issuer)
	}
	if body, err = o.get(ctx, disc.JWKSURI); err != nil {
		return nil, err
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("oidc: key set of %s: %w", issuer, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("oidc: key set of %s holds no usable signing key", issuer)
	}
	return keys, nil
}

func (o *oidcKeys) get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := o.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errIDPUnreachable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, jwksMaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errIDPUnreachable, err)
	}
	switch {
	case resp.StatusCode >= 500:
		return nil, fmt.Errorf("%w: %s answered %s", errIDPUnreachable, u, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("oidc: %s answered %s", u, resp.Status)
	case len(body) > jwksMaxBody:
		return nil, fmt.Errorf("oidc: %s is larger than %d bytes", u, jwksMaxBody)
	}
	return body, nil
}
