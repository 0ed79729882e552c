package iam

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// SSHKey is an SSH public key of a user (CodeCommit). Key and ID: APKA…;
// Parent: user key; Ref: the MD5 fingerprint, to refuse duplicates.
type SSHKey struct {
	ID          string    `json:"id"`
	Wire        []byte    `json:"wire"` // SSH wire encoding of the key
	Fingerprint string    `json:"fp"`
	Status      string    `json:"status"`
	Uploaded    time.Time `json:"uploaded"`
}

// Limits from "IAM and AWS STS quotas"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
const (
	maxSSHKeys        = 5
	minSSHKeyBits     = 2048
	sshKeyNotFoundFmt = "The Public Key with id %s cannot be found."
)

// parseSSHPublicKey accepts what UploadSSHPublicKey accepts: an RSA key in
// OpenSSH format ("ssh-rsa AAAA… comment") or PEM (PKIX or PKCS#1), of at
// least 2048 bits
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_UploadSSHPublicKey.html).
func parseSSHPublicKey(body string) (ssh.PublicKey, error) {
	body = strings.TrimSpace(body)
	var pub ssh.PublicKey
	if strings.HasPrefix(body, "-----BEGIN") {
		block, _ := pem.Decode([]byte(body))
		if block == nil {
			return nil, apierr.New("InvalidPublicKey", "The public key is not a valid PEM encoded key.")
		}
		var key any
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			key, err = x509.ParsePKCS1PublicKey(block.Bytes)
		default:
			return nil, apierr.New("UnrecognizedPublicKeyEncoding", "The PEM block type %q is not a supported public key encoding.", block.Type)
		}
		if err != nil {
			return nil, apierr.New("InvalidPublicKey", "The public key is invalid: %v", err)
		}
		if pub, err = ssh.NewPublicKey(key); err != nil {
			return nil, apierr.New("UnrecognizedPublicKeyEncoding", "The public key type is not supported.")
		}
	} else {
		if !strings.HasPrefix(body, "ssh-") && !strings.HasPrefix(body, "ecdsa-") {
			return nil, apierr.New("UnrecognizedPublicKeyEncoding", "The public key encoding format is unsupported or unrecognized. Use the ssh-rsa or PEM format.")
		}
		var err error
		if pub, _, _, _, err = ssh.ParseAuthorizedKey([]byte(body)); err != nil {
			return nil, apierr.New("InvalidPublicKey", "The public key is invalid.")
		}
	}
	if pub.Type() != ssh.KeyAlgoRSA {
		return nil, apierr.New("UnrecognizedPublicKeyEncoding", "Public keys of type %s are not supported; use ssh-rsa.", pub.Type())
	}
	rk := pub.(ssh.CryptoPublicKey).CryptoPublicKey().(*rsa.PublicKey)
	if rk.N.BitLen() < minSSHKeyBits {
		return nil, apierr.New("InvalidPublicKey", "The public key must be at least %d bits long.", minSSHKeyBits)
	}
	return pub, nil
}

// sshOwner resolves the user of an SSH key or service credential call:
// UserName, else the calling IAM user. root is true for a root caller
// without UserName (who has no such credentials).
func sshOwner(c *service.Call, in map[string]any) (name string, root bool, err error) {
	if n := awsproto.Str(in, "UserName"); n != "" {
		return n, false, nil
	}
	switch p := c.Principal; {
	case p.IsRoot():
		return "", true, nil
	case p != nil && p.Type == principal.User:
		return p.Name, false, nil
	}
	return "", false, apierr.New(apierr.ValidationError, "Must specify userName when calling with non-User credentials")
}

func (k *SSHKey) out(userName, encoding string) (map[string]any, error) {
	m := k.meta(userName)
	pub, err := ssh.ParsePublicKey(k.Wire)
	if err != nil {
		return nil, err
	}
	body := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	if encoding == "PEM" {
		der, err := x509.MarshalPKIXPublicKey(pub.(ssh.CryptoPublicKey).CryptoPublicKey())
		if err != nil {
			return nil, err
		}
		body = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	}
	m["SSHPublicKeyBody"], m["Fingerprint"] = body, k.Fingerprint
	return m, nil
}

func (k *SSHKey) meta(userName string) map[string]any {
	return map[string]any{"UserName": userName, "SSHPublicKeyId": k.ID, "Status": k.Status, "UploadDate": k.Uploaded}
}

func (s *Service) uploadSSHPublicKey(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	pub, err := parseSSHPublicKey(awsproto.Str(in, "SSHPublicKeyBody"))
	if err != nil {
		return nil, err
	}
	k := &SSHKey{ID: s.IDs.Unique(ids.SSHPublicKey), Wire: pub.Marshal(), Fingerprint: ssh.FingerprintLegacyMD5(pub), Status: "Active", Uploaded: now(c)}
	var u *User
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		var urec store.Record
		var err error
		if u, urec, err = loadUser(ctx, tx, c.Account, awsproto.Str(in, "UserName")); err != nil {
			return err
		}
		parent, fp := urec.Key, k.Fingerprint
		n, err := tx.Count(ctx, store.ListQuery{Account: c.Account, Kind: kindSSHKey, Parent: &parent, Ref: &fp})
		if err != nil {
			return err
		}
		if n > 0 {
			return apierr.New("DuplicateSSHPublicKey", "The SSH public key is already associated with user %s.", u.Name)
		}
		if n, err = tx.Count(ctx, byParent(c.Account, kindSSHKey, parent)); err != nil {
			return err
		}
		if n >= maxSSHKeys {
			return apierr.Limit("Cannot exceed quota for PublicKeysPerUser: %d", maxSSHKeys)
		}
		return tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindSSHKey, Key: k.ID, ID: k.ID, Parent: parent, Ref: fp, Data: encode(k), Created: k.Uploaded})
	})
	if err != nil {
		return nil, err
	}
	out, err := k.out(u.Name, "SSH")
	if err != nil {
		return nil, err
	}
	return map[string]any{"SSHPublicKey": out}, nil
}

// ownedSSHKey loads key id of the named user.
func ownedSSHKey(ctx context.Context, r store.Reader, c *service.Call, userName, id string) (*User, *SSHKey, store.Record, error) {
	u, urec, err := loadUser(ctx, r, c.Account, userName)
	if err != nil {
		return nil, nil, store.Record{}, err
	}
	k, rec, err := ownedBy[SSHKey](ctx, r, c.Account, kindSSHKey, id, urec.Key, apierr.New(apierr.NoSuchEntity, sshKeyNotFoundFmt, id))
	return u, k, rec, err
}

// sshKeyIn is the loader of the key a request's UserName and SSHPublicKeyId
// name.
func sshKeyIn(ctx context.Context, r store.Reader, c *service.Call, in map[string]any) (*SSHKey, store.Record, error) {
	_, k, rec, err := ownedSSHKey(ctx, r, c, awsproto.Str(in, "UserName"), awsproto.Str(in, "SSHPublicKeyId"))
	return k, rec, err
}

func (s *Service) getSSHPublicKey(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	u, k, _, err := ownedSSHKey(ctx, s.Store, c, awsproto.Str(in, "UserName"), awsproto.Str(in, "SSHPublicKeyId"))
	if err != nil {
		return nil, err
	}
	out, err := k.out(u.Name, awsproto.Str(in, "Encoding"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"SSHPublicKey": out}, nil
}

func (s *Service) listSSHPublicKeys(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name, root, err := sshOwner(c, in)
	if err != nil {
		return nil, err
	}
	if root {
		// The root user has no SSH keys.
		return map[string]any{"SSHPublicKeys": []any{}, "IsTruncated": false}, nil
	}
	u, urec, err := loadUser(ctx, s.Store, c.Account, name)
	if err != nil {
		return nil, err
	}
	parent := urec.Key
	return listOut(ctx, s.Store, byParent(c.Account, kindSSHKey, parent), in, "SSHPublicKeys", func(k *SSHKey) any {
		return k.meta(u.Name)
	})
}
