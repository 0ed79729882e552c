package iam

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// kindServerCert is an account's server certificate: key lower-cased name,
// ID ASCA…, Path indexed.
const kindServerCert = "servercert"

// Quotas from "IAM and AWS STS quotas"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
const (
	maxServerCerts  = 20
	maxSigningCerts = 2
)

// ServerCert is a stored server certificate. The private key is sealed and
// never returned by any operation.
type ServerCert struct {
	Name       string    `json:"name"`
	ID         string    `json:"id"`
	Path       string    `json:"path"`
	ARN        string    `json:"arn"`
	Body       string    `json:"body"`
	Chain      string    `json:"chain,omitempty"`
	SealedKey  []byte    `json:"sealedKey"`
	Expiration time.Time `json:"expiration"`
	Uploaded   time.Time `json:"uploaded"`
	Tags       []Tag     `json:"tags,omitempty"`
}

// SigningCert is an X.509 signing certificate of a user or of the root
// user. Key and ID: the certificate id; Parent: user key or rootOwner; Ref:
// the SHA-256 of the DER certificate, to refuse duplicates.
type SigningCert struct {
	ID       string    `json:"id"`
	Body     string    `json:"body"`
	Status   string    `json:"status"`
	Uploaded time.Time `json:"uploaded"`
}

func malformedCert(format string, args ...any) error {
	return apierr.New("MalformedCertificate", format, args...)
}

// parseCertPEM parses exactly one PEM certificate.
func parseCertPEM(body string) (*x509.Certificate, error) {
	block, rest := pem.Decode([]byte(strings.TrimSpace(body)))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, malformedCert("Unable to parse certificate. Please ensure the certificate is in PEM format.")
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return nil, malformedCert("Unable to parse certificate. The certificate body must contain exactly one certificate.")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, malformedCert("Unable to parse certificate: %v", err)
	}
	return cert, nil
}

// parseChainPEM parses a chain of one or more PEM certificates.
func parseChainPEM(chain string) error {
	rest := []byte(strings.TrimSpace(chain))
	n := 0
	for len(strings.TrimSpace(string(rest))) > 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil || block.Type != "CERTIFICATE" {
			return malformedCert("Unable to parse certificate chain. Please ensure the chain is a sequence of PEM certificates.")
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return malformedCert("Unable to parse certificate chain: %v", err)
		}
		n++
	}
	if n == 0 {
		return malformedCert("Unable to parse certificate chain.")
	}
	return nil
}

// parsePrivateKeyPEM parses a PKCS#1, PKCS#8 or SEC 1 private key.
func parsePrivateKeyPEM(keyPEM string) (crypto.Signer, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(keyPEM)))
	if block == nil {
		return nil, malformedCert("Unable to parse private key. Please ensure the private key is in PEM format.")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, malformedCert("Unable to parse private key: unsupported PEM block %q.", block.Type)
	}
	if err != nil {
		return nil, malformedCert("Unable to parse private key: %v", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, malformedCert("Unable to parse private key: unsupported key type.")
	}
	return signer, nil
}

// keyMatches reports whether priv is the private half of cert's key.
func keyMatches(cert *x509.Certificate, priv crypto.Signer) bool {
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(priv.Public())
}

func (sc *ServerCert) meta() map[string]any {
	return map[string]any{
		"Path": sc.Path, "ServerCertificateName": sc.Name, "ServerCertificateId": sc.ID, "Arn": sc.ARN,
		"UploadDate": sc.Uploaded, "Expiration": sc.Expiration,
	}
}

func serverCertNotFound(name string) error {
	return apierr.New(apierr.NoSuchEntity, "The Server Certificate with name %s cannot be found.", name)
}

func serverCertExists(name string) error {
	return apierr.New(apierr.EntityAlreadyExists, "The Server Certificate with name %s already exists.", name)
}

func loadServerCert(ctx context.Context, r store.Reader, account, name string) (*ServerCert, store.Record, error) {
	sc, rec, err := get[ServerCert](ctx, r, account, kindServerCert, key(name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, rec, serverCertNotFound(name)
	}
	return sc, rec, err
}

func (s *Service) uploadServerCertificate(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name := awsproto.Str(in, "ServerCertificateName")
	tags, err := tagsIn(in)
	if err != nil {
		return nil, err
	}
	body := awsproto.Str(in, "CertificateBody")
	cert, err := parseCertPEM(body)
	if err != nil {
		return nil, err
	}
	keyPEM := awsproto.Str(in, "PrivateKey")
	priv, err := parsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	if !keyMatches(cert, priv) {
		return nil, apierr.New("KeyPairMismatch", "Unable to validate certificate. Please ensure the private key matches the certificate's public key.")
	}
	chain := awsproto.Str(in, "CertificateChain")
	if chain != "" {
		if err := parseChainPEM(chain); err != nil {
			return nil, err
		}
	}
	path := pathOr(in)
	sc := &ServerCert{
		Name: name, ID: s.IDs.Unique(ids.ServerCertificate), Path: path, ARN: iamARN(c, "server-certificate", path, name),
		Body: strings.TrimSpace(body), Chain: strings.TrimSpace(chain), Expiration: cert.NotAfter.UTC(), Uploaded: now(c), Tags: tags,
	}
	if sc.SealedKey, err = s.Keys.Seal([]byte(keyPEM), []byte("servercert:"+sc.ID)); err != nil {
		return nil, err
	}
	err = createCounted(ctx, s.Store, store.ListQuery{Account: c.Account, Kind: kindServerCert}, maxServerCerts, apierr.Limit("Cannot exceed quota for ServerCertificatesPerAccount: %d", maxServerCerts), store.Record{Account: c.Account, Kind: kindServerCert, Key: key(name), ID: sc.ID, Path: path, Data: encode(sc), Created: sc.Uploaded}, serverCertExists(name))
	if err != nil {
		return nil, err
	}
	out := map[string]any{"ServerCertificateMetadata": sc.meta()}
	withTags(out, tags)
	return out, nil
}

// ServerCertificatePrivateKey opens a server certificate's private key (PEM),
// for a TLS front end serving it; no API operation returns it.
func (s *Service) ServerCertificatePrivateKey(ctx context.Context, account, name string) (string, error) {
	sc, _, err := loadServerCert(ctx, s.Store, account, name)
	if err != nil {
		return "", err
	}
	b, err := s.Keys.Open(sc.SealedKey, []byte("servercert:"+sc.ID))
	return string(b), err
}

func (s *Service) getServerCertificate(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	sc, _, err := loadServerCert(ctx, s.Store, c.Account, awsproto.Str(in, "ServerCertificateName"))
	if err != nil {
		return nil, err
	}
	out := map[string]any{"ServerCertificateMetadata": sc.meta(), "CertificateBody": sc.Body}
	if sc.Chain != "" {
		out["CertificateChain"] = sc.Chain
	}
	withTags(out, sc.Tags)
	return map[string]any{"ServerCertificate": out}, nil
}

func (s *Service) listServerCertificates(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	return listOut(ctx, s.Store, store.ListQuery{Account: c.Account, Kind: kindServerCert, PathPrefix: awsproto.Str(in, "PathPrefix")}, in, "ServerCertificateMetadataList", func(sc *ServerCert) any {
		return sc.meta()
	})
}

func (s *Service) updateServerCertificate(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name := awsproto.Str(in, "ServerCertificateName")
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		sc, rec, err := loadServerCert(ctx, tx, c.Account, name)
		if err != nil {
			return err
		}
		applyRename(in, "NewServerCertificateName", &sc.Name, &sc.Path)
		sc.ARN = iamARN(c, "server-certificate", sc.Path, sc.Name)
		_, err = saveRenamed(ctx, tx, c, rec, sc, sc.Name, sc.Path, serverCertExists(sc.Name))
		return err
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) deleteServerCertificate(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name := awsproto.Str(in, "ServerCertificateName")
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		err := tx.Delete(ctx, c.Account, kindServerCert, key(name))
		if errors.Is(err, store.ErrNotFound) {
			return serverCertNotFound(name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// --- Signing certificates ---------------------------------------------------

func (sc *SigningCert) out(userName string) map[string]any {
	m := map[string]any{"CertificateId": sc.ID, "CertificateBody": sc.Body, "Status": sc.Status, "UploadDate": sc.Uploaded}
	if userName != "" {
		m["UserName"] = userName
	}
	return m
}

// certFingerprint identifies a certificate for duplicate detection.
func certFingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

func (s *Service) uploadSigningCertificate(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	user, root, err := keyOwner(c, in)
	if err != nil {
		return nil, err
	}
	body := awsproto.Str(in, "CertificateBody")
	cert, err := parseCertPEM(body)
	if err != nil {
		return nil, err
	}
	if c.Now.After(cert.NotAfter) || c.Now.Before(cert.NotBefore) {
		return nil, apierr.New("InvalidCertificate", "The certificate is not valid at the current time (valid from %s to %s).",
			cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	// Certificate ids are at least 24 characters (certificateIdType).
	sc := &SigningCert{ID: s.IDs.Unique(ids.SigningCertificate) + s.IDs.Unique("")[:7], Body: strings.TrimSpace(body), Status: "Active", Uploaded: now(c)}
	fp := certFingerprint(cert)
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		parent, err := ownerParent(ctx, tx, c, user, root)
		if err != nil {
			return err
		}
		n, err := tx.Count(ctx, byRef(c.Account, kindSigningCert, fp))
		if err != nil {
			return err
		}
		if n > 0 {
			return apierr.New("DuplicateCertificate", "The certificate is already associated with a user in this account.")
		}
		if n, err = tx.Count(ctx, byParent(c.Account, kindSigningCert, parent)); err != nil {
			return err
		}
		if n >= maxSigningCerts {
			return apierr.Limit("Cannot exceed quota for CertificatesPerUser: %d", maxSigningCerts)
		}
		return tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindSigningCert, Key: sc.ID, ID: sc.ID, Parent: parent, Ref: fp, Data: encode(sc), Created: sc.Uploaded})
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"Certificate": sc.out(user)}, nil
}

func (s *Service) listSigningCertificates(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	user, root, err := keyOwner(c, in)
	if err != nil {
		return nil, err
	}
	parent, err := ownerParent(ctx, s.Store, c, user, root)
	if err != nil {
		return nil, err
	}
	return listOut(ctx, s.Store, byParent(c.Account, kindSigningCert, parent), in, "Certificates", func(sc *SigningCert) any {
		return sc.out(user)
	})
}
