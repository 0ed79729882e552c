package iam

import "github.com/iamd/iamd/internal/service"

// providerHandlers registers the OIDC and SAML identity provider operations.
func (s *Service) providerHandlers(m map[string]service.Handler) {
	m["CreateOpenIDConnectProvider"] = s.createOIDCProvider
	m["GetOpenIDConnectProvider"] = s.getOIDCProvider
	m["ListOpenIDConnectProviders"] = s.listOIDCProviders
	m["DeleteOpenIDConnectProvider"] = deleteHandler(s, loadOIDCByARN)
	m["AddClientIDToOpenIDConnectProvider"] = s.addClientIDToOIDCProvider
	m["RemoveClientIDFromOpenIDConnectProvider"] = s.removeClientIDFromOIDCProvider
	m["UpdateOpenIDConnectProviderThumbprint"] = s.updateOIDCProviderThumbprint

	m["CreateSAMLProvider"] = s.createSAMLProvider
	m["GetSAMLProvider"] = s.getSAMLProvider
	m["ListSAMLProviders"] = s.listSAMLProviders
	m["UpdateSAMLProvider"] = s.updateSAMLProvider
	m["DeleteSAMLProvider"] = deleteHandler(s, loadSAMLByARN)
}
