package iam

// Outbound web identity federation: an account's own OIDC issuer, whose
// JWTs (STS GetWebIdentityToken) external services verify with the keys
// published at the issuer's discovery endpoints.
//
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_outbound.html
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_EnableOutboundWebIdentityFederation.html

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// OutboundIssuerPath is where iamd serves the accounts' issuers: an issuer
// is OutboundIssuerPath + its id under the public URL, and serves
// /.well-known/openid-configuration and /.well-known/jwks.json below it.
const OutboundIssuerPath = "/outbound-oidc/"

// kindOutbound: an account's outbound federation settings; one record, key
// outboundKey, ID = the issuer id (so the discovery endpoints find it).
const (
	kindOutbound = "outboundfed"
	outboundKey  = "issuer"
)

// JWT signing algorithms GetWebIdentityToken offers.
const (
	AlgES384 = "ES384"
	AlgRS256 = "RS256"
)

// ErrOutboundFederationDisabled: the account has not enabled outbound web
// identity federation.
var ErrOutboundFederationDisabled = errors.New("iam: outbound web identity federation is not enabled")

// outboundIssuer is the stored issuer of one account. The private keys are
// sealed with the keyring (PKCS #8 DER inside).
type outboundIssuer struct {
	Enabled  bool   `json:"enabled"`
	ID       string `json:"id"`
	Issuer   string `json:"issuer"`
	ECKey    []byte `json:"ecKey"`
	RSAKey   []byte `json:"rsaKey"`
	ECKeyID  string `json:"ecKid"`
	RSAKeyID string `json:"rsaKid"`
}

// outboundAD binds a sealed key to its account and algorithm.
func outboundAD(account, alg string) []byte { return []byte("outbound-oidc|" + account + "|" + alg) }

func (s *Service) outboundFederationHandlers(m map[string]service.Handler) {
	m["DisableOutboundWebIdentityFederation"] = s.disableOutboundFederation
	m["GetOutboundWebIdentityFederationInfo"] = s.getOutboundFederationInfo
}

// MountOutboundIssuer registers EnableOutboundWebIdentityFederation with
// the public base URL issuers live under (the issuer URL is fixed when the
// feature is first enabled) and mounts the discovery endpoints in extra.
func (s *Service) MountOutboundIssuer(r service.Registry, extra map[string]http.Handler, baseURL string) {
	base := strings.TrimSuffix(baseURL, "/")
	r.Add("iam", "EnableOutboundWebIdentityFederation", func(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
		return s.enableOutboundFederation(ctx, c, base)
	})
	extra[OutboundIssuerPath] = http.HandlerFunc(s.serveOutboundIssuer)
}

func errFeatureDisabled() error {
	return apierr.New("FeatureDisabled", "Outbound web identity federation is not enabled for this account.")
}

func (s *Service) enableOutboundFederation(ctx context.Context, c *service.Call, base string) (map[string]any, error) {
	var issuer string
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		cur, rec, err := get[outboundIssuer](ctx, tx, c.Account, kindOutbound, outboundKey)
		switch {
		case err == nil && cur.Enabled:
			return apierr.New("FeatureEnabled", "Outbound web identity federation is already enabled for this account.")
		case err == nil:
			// Re-enabling keeps the issuer and its keys: external services
			// that trust the issuer keep working.
			cur.Enabled = true
			issuer = cur.Issuer
			rec.Data = encode(cur)
			return tx.Update(ctx, rec)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		iss, err := s.newOutboundIssuer(c.Account, base)
		if err != nil {
			return err
		}
		issuer = iss.Issuer
		return tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindOutbound, Key: outboundKey, ID: iss.ID, Data: encode(iss)})
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"IssuerIdentifier": issuer}, nil
}

// newOutboundIssuer makes an issuer with fresh ES384 and RS256 keys.
func (s *Service) newOutboundIssuer(account, base string) (*outboundIssuer, error) {
	id := s.newAdvisorJobID() // a random UUID, as AWS's issuer host names carry
	ec, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("iam: outbound issuer EC key: %w", err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("iam: outbound issuer RSA key: %w", err)
	}
	iss := &outboundIssuer{Enabled: true, ID: id, Issuer: base + OutboundIssuerPath + id}
	for _, k := range []struct {
		alg  string
		key  crypto.Signer
		dst  *[]byte
		kid  *string
		name string
	}{{AlgES384, ec, &iss.ECKey, &iss.ECKeyID, "EC"}, {AlgRS256, rk, &iss.RSAKey, &iss.RSAKeyID, "RSA"}} {
		der, err := x509.MarshalPKCS8PrivateKey(k.key)
		if err != nil {
			return nil, fmt.Errorf("iam: outbound issuer %s key: %w", k.name, err)
		}
		if *k.dst, err = s.Keys.Seal(der, outboundAD(account, k.alg)); err != nil {
			return nil, fmt.Errorf("iam: seal outbound issuer key: %w", err)
		}
		pub, err := x509.MarshalPKIXPublicKey(k.key.Public())
		if err != nil {
			return nil, fmt.Errorf("iam: outbound issuer %s public key: %w", k.name, err)
		}
		sum := sha256.Sum256(pub)
		*k.kid = hex.EncodeToString(sum[:16])
	}
	return iss, nil
}

func (s *Service) disableOutboundFederation(ctx context.Context, c *service.Call, _ map[string]any) (map[string]any, error) {
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		cur, rec, err := get[outboundIssuer](ctx, tx, c.Account, kindOutbound, outboundKey)
		if errors.Is(err, store.ErrNotFound) || err == nil && !cur.Enabled {
			return errFeatureDisabled()
		}
		if err != nil {
			return err
		}
		cur.Enabled = false
		rec.Data = encode(cur)
		return tx.Update(ctx, rec)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) getOutboundFederationInfo(ctx context.Context, c *service.Call, _ map[string]any) (map[string]any, error) {
	cur, _, err := get[outboundIssuer](ctx, s.Store, c.Account, kindOutbound, outboundKey)
	if errors.Is(err, store.ErrNotFound) || err == nil && !cur.Enabled {
		return nil, errFeatureDisabled()
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"IssuerIdentifier": cur.Issuer, "JwtVendingEnabled": cur.Enabled}, nil
}

// MintWebIdentityToken signs claims as account's issuer with alg (AlgES384
// or AlgRS256), setting "iss". ErrOutboundFederationDisabled when the
// account has not enabled the feature.
func (s *Service) MintWebIdentityToken(ctx context.Context, account, alg string, claims map[string]any) (string, error) {
	iss, _, err := get[outboundIssuer](ctx, s.Store, account, kindOutbound, outboundKey)
	if errors.Is(err, store.ErrNotFound) || err == nil && !iss.Enabled {
		return "", ErrOutboundFederationDisabled
	}
	if err != nil {
		return "", err
	}
	sealed, kid := iss.ECKey, iss.ECKeyID
	if alg == AlgRS256 {
		sealed, kid = iss.RSAKey, iss.RSAKeyID
	} else if alg != AlgES384 {
		return "", fmt.Errorf("iam: signing algorithm %q: %w", alg, errors.ErrUnsupported)
	}
	der, err := s.Keys.Open(sealed, outboundAD(account, alg))
	if err != nil {
		return "", fmt.Errorf("iam: open outbound issuer key: %w", err)
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return "", fmt.Errorf("iam: parse outbound issuer key: %w", err)
	}
	claims["iss"] = iss.Issuer
	header, err := json.Marshal(map[string]string{"alg": alg, "typ": "JWT", "kid": kid})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("iam: encode token claims: %w", err)
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	sig, err := signJWS(key, alg, []byte(signing))
	if err != nil {
		return "", err
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// signJWS signs per RFC 7518: ES384 as the fixed-size r||s pair, RS256 as
// PKCS #1 v1.5 over SHA-256.
func signJWS(key any, alg string, msg []byte) ([]byte, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		h := crypto.SHA384.New()
		h.Write(msg)
		der, err := ecdsa.SignASN1(rand.Reader, k, h.Sum(nil))
		if err != nil {
			return nil, fmt.Errorf("iam: sign ES384: %w", err)
		}
		var rs struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(der, &rs); err != nil {
			return nil, fmt.Errorf("iam: ES384 signature: %w", err)
		}
		out := make([]byte, 96)
		rs.R.FillBytes(out[:48])
		rs.S.FillBytes(out[48:])
		return out, nil
	case *rsa.PrivateKey:
		sum := sha256.Sum256(msg)
		sig, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:])
		if err != nil {
			return nil, fmt.Errorf("iam: sign RS256: %w", err)
		}
		return sig, nil
	}
	return nil, fmt.Errorf("iam: %s key of type %T: %w", alg, key, errors.ErrUnsupported)
}

// serveOutboundIssuer serves an enabled issuer's OpenID discovery document
// and JWKS: GET {issuer}/.well-known/openid-configuration and
// {issuer}/.well-known/jwks.json.
func (s *Service) serveOutboundIssuer(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	id, doc, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, OutboundIssuerPath), "/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	rec, err := s.Store.GetByID(r.Context(), kindOutbound, id)
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	iss, err := decode[outboundIssuer](rec)
	if err != nil || !iss.Enabled {
		http.NotFound(w, r)
		return
	}
	var body any
	switch doc {
	case ".well-known/openid-configuration":
		body = map[string]any{
			"issuer":                                iss.Issuer,
			"jwks_uri":                              iss.Issuer + "/.well-known/jwks.json",
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{AlgES384, AlgRS256},
		}
	case ".well-known/jwks.json":
		keys, err := s.outboundJWKS(rec.Account, iss)
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		body = map[string]any{"keys": keys}
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	json.NewEncoder(w).Encode(body)
}

// outboundJWKS lists the issuer's public keys as JWKs (RFC 7517).
func (s *Service) outboundJWKS(account string, iss *outboundIssuer) ([]map[string]string, error) {
	enc := base64.RawURLEncoding
	var out []map[string]string
	for _, k := range []struct {
		alg, kid string
		sealed   []byte
	}{{AlgES384, iss.ECKeyID, iss.ECKey}, {AlgRS256, iss.RSAKeyID, iss.RSAKey}} {
		der, err := s.Keys.Open(k.sealed, outboundAD(account, k.alg))
		if err != nil {
			return nil, fmt.Errorf("iam: open outbound issuer key: %w", err)
		}
		key, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("iam: parse outbound issuer key: %w", err)
		}
		jwk := map[string]string{"kid": k.kid, "alg": k.alg, "use": "sig"}
		switch p := key.(type) {
		case *ecdsa.PrivateKey:
			ek, err := p.PublicKey.ECDH()
			if err != nil {
				return nil, fmt.Errorf("iam: outbound issuer EC key: %w", err)
			}
			b := ek.Bytes() // 0x04 || X || Y
			jwk["kty"], jwk["crv"] = "EC", "P-384"
			jwk["x"], jwk["y"] = enc.EncodeToString(b[1:49]), enc.EncodeToString(b[49:97])
		case *rsa.PrivateKey:
			jwk["kty"] = "RSA"
			jwk["n"] = enc.EncodeToString(p.N.Bytes())
			jwk["e"] = enc.EncodeToString(big.NewInt(int64(p.E)).Bytes())
		}
		out = append(out, jwk)
	}
	return out, nil
}
