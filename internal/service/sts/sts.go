// Package sts implements the AWS Security Token Service API.
package sts

import (
	"context"
	"net/http"

	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/secrets"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/service/iam"
	"github.com/iamd/iamd/internal/store"
)

// Service implements STS.
type Service struct {
	Store store.Store
	IDs   ids.Source
	Keys  *secrets.Keyring
	IAM   *iam.Service
	// HTTPClient fetches OIDC issuers' discovery documents and keys for
	// AssumeRoleWithWebIdentity; nil uses a client with a 5 s timeout.
	HTTPClient *http.Client
}

// Register adds the implemented STS operations to r.
func (s *Service) Register(r service.Registry) {
	r.Add("sts", "GetCallerIdentity", s.getCallerIdentity)
	r.Add("sts", "GetSessionToken", s.getSessionToken)
	r.Add("sts", "AssumeRole", s.assumeRole)
	r.Add("sts", "GetFederationToken", s.getFederationToken)
	r.Add("sts", "GetAccessKeyInfo", s.getAccessKeyInfo)
	r.Add("sts", "DecodeAuthorizationMessage", s.decodeAuthorizationMessage)
	r.Add("sts", "AssumeRoot", s.assumeRoot)
	r.Add("sts", "AssumeRoleWithWebIdentity", s.webIdentityHandler())
	r.Add("sts", "AssumeRoleWithSAML", s.assumeRoleWithSAML)
	r.Add("sts", "GetWebIdentityToken", s.getWebIdentityToken)
	r.Add("sts", "GetDelegatedAccessToken", s.getDelegatedAccessToken)
}

// getCallerIdentity answers who the caller is. It needs no permission: AWS
// allows it even under an explicit deny.
func (s *Service) getCallerIdentity(_ context.Context, c *service.Call, _ map[string]any) (map[string]any, error) {
	p := c.Principal
	return map[string]any{"UserId": userID(p), "Account": p.Account, "Arn": p.ARN}, nil
}

// userID is GetCallerIdentity's UserId: the account id for root, the unique
// id for users, "AROA…:session" for role sessions.
func userID(p *principal.Principal) string {
	return p.UserID
}
