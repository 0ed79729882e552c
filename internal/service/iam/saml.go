package iam

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/secrets"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// SAMLProvider is a SAML 2.0 identity provider. The signing certificates
// of its metadata are kept parsed-ready (DER) so AssumeRoleWithSAML can
// verify assertion signatures without re-reading the metadata.
type SAMLProvider struct {
	Name       string    `json:"name"`
	ARN        string    `json:"arn"`
	UUID       string    `json:"uuid"`
	Metadata   string    `json:"metadata"`
	EntityID   string    `json:"entityId"`
	SSOURLs    []string  `json:"sso,omitempty"`
	CertsDER   [][]byte  `json:"certs"`
	Created    time.Time `json:"created"`
	ValidUntil time.Time `json:"validUntil"`
	// EncryptionMode is AssertionEncryptionMode: "Required" or "Allowed".
	EncryptionMode string           `json:"encMode,omitempty"`
	Keys           []SAMLPrivateKey `json:"keys,omitempty"`
	Tags           []Tag            `json:"tags,omitempty"`
}

// SAMLPrivateKey is a key for decrypting encrypted assertions, sealed.
type SAMLPrivateKey struct {
	ID     string    `json:"id"`
	Sealed []byte    `json:"sealed"`
	Added  time.Time `json:"added"`
}

// maxSAMLKeys is the limit of decryption keys per provider (privateKeyList).
const maxSAMLKeys = 2

// samlValidity is how long a provider stays valid when its metadata sets no
// validUntil; AWS answers such providers with a ValidUntil a century out.
const samlValidity = 100 * 365 * 24 * time.Hour

// Certificates parses the provider's signing certificates.
func (p *SAMLProvider) Certificates() ([]*x509.Certificate, error) {
	out := make([]*x509.Certificate, 0, len(p.CertsDER))
	for _, der := range p.CertsDER {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// DecryptionKeys opens the provider's assertion decryption keys.
func (p *SAMLProvider) DecryptionKeys(kr *secrets.Keyring) ([]crypto.Signer, error) {
	out := make([]crypto.Signer, 0, len(p.Keys))
	for _, k := range p.Keys {
		b, err := kr.Open(k.Sealed, []byte("samlkey:"+k.ID))
		if err != nil {
			return nil, err
		}
		signer, err := parsePrivateKeyPEM(string(b))
		if err != nil {
			return nil, err
		}
		out = append(out, signer)
	}
	return out, nil
}

// samlMetadata is the part of a SAML 2.0 metadata document IAM needs.
type samlMetadata struct {
	XMLName    xml.Name `xml:"urn:oasis:names:tc:SAML:2.0:metadata EntityDescriptor"`
	EntityID   string   `xml:"entityID,attr"`
	ValidUntil string   `xml:"validUntil,attr"`
	IDPs       []struct {
		Protocols string `xml:"protocolSupportEnumeration,attr"`
		Keys      []struct {
			Use     string `xml:"use,attr"`
			KeyInfo struct {
				X509Data []struct {
					Certs []string `xml:"X509Certificate"`
				} `xml:"X509Data"`
			} `xml:"http://www.w3.org/2000/09/xmldsig# KeyInfo"`
		} `xml:"urn:oasis:names:tc:SAML:2.0:metadata KeyDescriptor"`
		SSO []struct {
			Binding  string `xml:"Binding,attr"`
			Location string `xml:"Location,attr"`
		} `xml:"urn:oasis:names:tc:SAML:2.0:metadata SingleSignOnService"`
	} `xml:"urn:oasis:names:tc:SAML:2.0:metadata IDPSSODescriptor"`
}

func badMetadata(detail string) error {
	return apierr.Invalid("Could not parse metadata: %s", detail)
}

// parseSAMLMetadata checks a metadata document is a SAML 2.0
// EntityDescriptor with an IdP SSO descriptor supporting the SAML 2.0
// protocol and at least one signing certificate, and fills p from it.
func parseSAMLMetadata(doc string, p *SAMLProvider) error {
	var md samlMetadata
	dec := xml.NewDecoder(strings.NewReader(doc))
	if err := dec.Decode(&md); err != nil {
		return badMetadata("the document is not a SAML 2.0 EntityDescriptor")
	}
	if md.EntityID == "" {
		return badMetadata("the EntityDescriptor has no entityID")
	}
	var certs [][]byte
	var sso []string
	found := false
	for _, idp := range md.IDPs {
		if !slices.Contains(strings.Fields(idp.Protocols), "urn:oasis:names:tc:SAML:2.0:protocol") {
			continue
		}
		found = true
		for _, k := range idp.Keys {
			if k.Use != "" && k.Use != "signing" {
				continue
			}
			for _, xd := range k.KeyInfo.X509Data {
				for _, b64 := range xd.Certs {
					der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
					if err != nil {
						return badMetadata("an X509Certificate is not valid base64")
					}
					if _, err := x509.ParseCertificate(der); err != nil {
						return badMetadata("an X509Certificate is not a valid certificate")
					}
					certs = append(certs, der)
				}
			}
		}
		for _, s := range idp.SSO {
			sso = append(sso, s.Location)
		}
	}
	if !found {
		return badMetadata("no IDPSSODescriptor supports urn:oasis:names:tc:SAML:2.0:protocol")
	}
	if len(certs) == 0 {
		return badMetadata("the IDPSSODescriptor has no signing certificate")
	}
	p.Metadata, p.EntityID, p.CertsDER, p.SSOURLs = doc, md.EntityID, certs, sso
	p.ValidUntil = p.Created.Add(samlValidity)
	if md.ValidUntil != "" {
		t, err := time.Parse(time.RFC3339, md.ValidUntil)
		if err != nil {
			return badMetadata("validUntil is not an xs:dateTime")
		}
		p.ValidUntil = t.UTC().Truncate(time.Second)
	}
	return nil
}

func samlNotFound(a string) error {
	return apierr.New(apierr.NoSuchEntity, "Manifest not found for arn %s", a)
}

func loadSAMLByARN(ctx context.Context, r store.Reader, c *service.Call, in map[string]any) (*SAMLProvider, store.Record, error) {
	a := awsproto.Str(in, "SAMLProviderArn")
	name, err := providerKeyFromARN(c, a, "saml-provider")
	if err != nil {
		return nil, store.Record{}, err
	}
	if name == "" {
		return nil, store.Record{}, samlNotFound(a)
	}
	p, rec, err := get[SAMLProvider](ctx, r, c.Account, kindSAMLProvider, key(name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, rec, samlNotFound(a)
	}
	return p, rec, err
}

// LookupSAMLProvider reads an account's SAML provider by ARN, for
// AssumeRoleWithSAML (its Certificates verify assertion signatures).
func LookupSAMLProvider(ctx context.Context, r store.Reader, account, providerARN string) (*SAMLProvider, error) {
	a, err := arn.Parse(providerARN)
	if err != nil || a.Service != "iam" || a.Account != account || !strings.HasPrefix(a.Resource, "saml-provider/") {
		return nil, samlNotFound(providerARN)
	}
	p, _, err := get[SAMLProvider](ctx, r, account, kindSAMLProvider, key(strings.TrimPrefix(a.Resource, "saml-provider/")))
	if errors.Is(err, store.ErrNotFound) {
		return nil, samlNotFound(providerARN)
	}
	return p, err
}

// samlID makes the 26-character upper-case ids of provider UUIDs and key ids
// (privateKeyIdType: [A-Z0-9]{22,64}).
func (s *Service) samlID() string { return s.IDs.Unique("") + s.IDs.Unique("")[:9] }

// applySAMLKeys applies AddPrivateKey, RemovePrivateKey and
// AssertionEncryptionMode from a Create/Update input.
func (s *Service) applySAMLKeys(c *service.Call, p *SAMLProvider, in map[string]any) error {
	if id := awsproto.Str(in, "RemovePrivateKey"); id != "" {
		i := slices.IndexFunc(p.Keys, func(k SAMLPrivateKey) bool { return k.ID == id })
		if i < 0 {
			return apierr.Invalid("The private key %s does not exist for this provider.", id)
		}
		p.Keys = slices.Delete(p.Keys, i, i+1)
	}
	if pemKey := awsproto.Str(in, "AddPrivateKey"); pemKey != "" {
		if _, err := parsePrivateKeyPEM(pemKey); err != nil {
			return apierr.Invalid("The private key is not a valid PEM encoded private key.")
		}
		if len(p.Keys) >= maxSAMLKeys {
			return apierr.Limit("Cannot exceed quota for PrivateKeysPerSAMLProvider: %d", maxSAMLKeys)
		}
		k := SAMLPrivateKey{ID: s.samlID(), Added: now(c)}
		var err error
		if k.Sealed, err = s.Keys.Seal([]byte(pemKey), []byte("samlkey:"+k.ID)); err != nil {
			return err
		}
		p.Keys = append(p.Keys, k)
	}
	if m := awsproto.Str(in, "AssertionEncryptionMode"); m != "" {
		p.EncryptionMode = m
	}
	if p.EncryptionMode == "Required" && len(p.Keys) == 0 {
		return apierr.Invalid("AssertionEncryptionMode Required needs at least one private key.")
	}
	return nil
}

func (s *Service) createSAMLProvider(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name := awsproto.Str(in, "Name")
	tags, err := tagsIn(in)
	if err != nil {
		return nil, err
	}
	p := &SAMLProvider{Name: name, ARN: arn.IAM(c.Partition, c.Account, "saml-provider/"+name), UUID: s.samlID(), Created: now(c), Tags: tags}
	if err := parseSAMLMetadata(awsproto.Str(in, "SAMLMetadataDocument"), p); err != nil {
		return nil, err
	}
	if err := s.applySAMLKeys(c, p, in); err != nil {
		return nil, err
	}
	err = createCounted(ctx, s.Store, store.ListQuery{Account: c.Account, Kind: kindSAMLProvider}, maxSAMLProviders, apierr.Limit("Cannot exceed quota for SamlProvidersPerAccount: %d", maxSAMLProviders), store.Record{Account: c.Account, Kind: kindSAMLProvider, Key: key(name), Data: encode(p), Created: p.Created}, apierr.New(apierr.EntityAlreadyExists, "SAMLProvider %s already exists.", name))
	if err != nil {
		return nil, err
	}
	out := map[string]any{"SAMLProviderArn": p.ARN}
	withTags(out, tags)
	return out, nil
}

func (s *Service) getSAMLProvider(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	p, _, err := loadSAMLByARN(ctx, s.Store, c, in)
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"SAMLMetadataDocument": p.Metadata, "CreateDate": p.Created, "ValidUntil": p.ValidUntil, "SAMLProviderUUID": p.UUID,
	}
	if p.EncryptionMode != "" {
		out["AssertionEncryptionMode"] = p.EncryptionMode
	}
	if len(p.Keys) > 0 {
		keys := make([]any, len(p.Keys))
		for i, k := range p.Keys {
			keys[i] = map[string]any{"KeyId": k.ID, "Timestamp": k.Added}
		}
		out["PrivateKeyList"] = keys
	}
	withTags(out, p.Tags)
	return out, nil
}

func (s *Service) listSAMLProviders(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	// Unpaginated in AWS; bounded by the per-account quota.
	recs, err := s.Store.List(ctx, store.ListQuery{Account: c.Account, Kind: kindSAMLProvider})
	if err != nil {
		return nil, err
	}
	list, err := decodeAll(recs, func(p *SAMLProvider) any {
		return map[string]any{"Arn": p.ARN, "CreateDate": p.Created, "ValidUntil": p.ValidUntil}
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"SAMLProviderList": list}, nil
}

func (s *Service) updateSAMLProvider(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	p, err := modify(ctx, s.Store, c, in, loadSAMLByARN, func(_ store.Tx, p *SAMLProvider) error {
		if doc := awsproto.Str(in, "SAMLMetadataDocument"); doc != "" {
			if err := parseSAMLMetadata(doc, p); err != nil {
				return err
			}
		}
		return s.applySAMLKeys(c, p, in)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"SAMLProviderArn": p.ARN}, nil
}
