package iam

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// ServiceCred is a service-specific credential (CodeCommit Git, Keyspaces,
// Bedrock API key). Key and ID: ACCA…; Parent: user key; Ref: service name,
// so the per-service quota is one indexed count. The password is sealed:
// it is shown once and only ever replaced (ResetServiceSpecificCredential),
// but the owning service must be able to verify it.
type ServiceCred struct {
	ID       string    `json:"id"`
	Service  string    `json:"service"`
	UserName string    `json:"svcUser"` // ServiceUserName or, for Bedrock, ServiceCredentialAlias
	Sealed   []byte    `json:"sealed"`
	Status   string    `json:"status"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires,omitzero"`
}

// maxServiceCredsPerService is the quota of credentials per user per service
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
const maxServiceCredsPerService = 2

// serviceCredServices are the services that accept service-specific
// credentials; bedrock's are API keys, answered with an alias and secret
// instead of a user name and password
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateServiceSpecificCredential.html).
var serviceCredServices = map[string]bool{
	"codecommit.amazonaws.com": true,
	"cassandra.amazonaws.com":  true,
	"bedrock.amazonaws.com":    true,
}

const bedrockService = "bedrock.amazonaws.com"

func serviceNotSupported(name string) error {
	return apierr.New("NotSupportedService", "No such service %s is supported for Service-Specific Credentials", name)
}

func serviceCredNotFound(id string) error {
	return apierr.New(apierr.NoSuchEntity, "No such credential %s exists", id)
}

// newServicePassword makes a credential secret: 32 random bytes in standard
// base64 (44 characters, like CodeCommit's), prefixed ABSK for Bedrock API keys.
func newServicePassword(service string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("iam: crypto/rand failed: " + err.Error())
	}
	pw := base64.StdEncoding.EncodeToString(b)
	if service == bedrockService {
		pw = "ABSK" + pw
	}
	return pw
}

func (sc *ServiceCred) seal(s *Service, password string) error {
	var err error
	sc.Sealed, err = s.Keys.Seal([]byte(password), []byte("servicecred:"+sc.ID))
	return err
}

// Password opens a credential's sealed secret, for the service that
// verifies it.
func (sc *ServiceCred) Password(s *Service) (string, error) {
	b, err := s.Keys.Open(sc.Sealed, []byte("servicecred:"+sc.ID))
	return string(b), err
}

// meta is the ServiceSpecificCredentialMetadata; out adds the secret.
func (sc *ServiceCred) meta(userName string) map[string]any {
	m := map[string]any{
		"UserName": userName, "Status": sc.Status, "CreateDate": sc.Created,
		"ServiceSpecificCredentialId": sc.ID, "ServiceName": sc.Service,
	}
	if sc.Service == bedrockService {
		m["ServiceCredentialAlias"] = sc.UserName
	} else {
		m["ServiceUserName"] = sc.UserName
	}
	if !sc.Expires.IsZero() {
		m["ExpirationDate"] = sc.Expires
	}
	return m
}

func (sc *ServiceCred) out(userName, password string) map[string]any {
	m := sc.meta(userName)
	if sc.Service == bedrockService {
		m["ServiceCredentialSecret"] = password
	} else {
		m["ServicePassword"] = password
	}
	return m
}

func (s *Service) createServiceSpecificCredential(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	svc := awsproto.Str(in, "ServiceName")
	if !serviceCredServices[svc] {
		return nil, serviceNotSupported(svc)
	}
	sc := &ServiceCred{ID: s.IDs.Unique(ids.ServiceCredential), Service: svc, Status: "Active", Created: now(c)}
	if days, ok := awsproto.Int(in, "CredentialAgeDays"); ok {
		if svc != bedrockService {
			return nil, apierr.Invalid("CredentialAgeDays is only supported for %s.", bedrockService)
		}
		sc.Expires = sc.Created.Add(time.Duration(days) * 24 * time.Hour)
	}
	password := newServicePassword(svc)
	if err := sc.seal(s, password); err != nil {
		return nil, err
	}
	var u *User
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		var urec store.Record
		var err error
		if u, urec, err = loadUser(ctx, tx, c.Account, awsproto.Str(in, "UserName")); err != nil {
			return err
		}
		// AWS names the service user <user>-at-<account>.
		sc.UserName = u.Name + "-at-" + c.Account
		parent := urec.Key
		if err := checkQuota(ctx, tx, store.ListQuery{Account: c.Account, Kind: kindServiceCred, Parent: &parent, Ref: &svc}, maxServiceCredsPerService, apierr.Limit("Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: %d", maxServiceCredsPerService)); err != nil {
			return err
		}
		return tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindServiceCred, Key: sc.ID, ID: sc.ID, Parent: parent, Ref: svc, Data: encode(sc), Created: sc.Created})
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"ServiceSpecificCredential": sc.out(u.Name, password)}, nil
}

// ownedServiceCred loads credential id of the named (or calling) user.
func ownedServiceCred(ctx context.Context, r store.Reader, c *service.Call, in map[string]any) (*User, *ServiceCred, store.Record, error) {
	id := awsproto.Str(in, "ServiceSpecificCredentialId")
	name, root, err := sshOwner(c, in)
	if err != nil {
		return nil, nil, store.Record{}, err
	}
	if root {
		return nil, nil, store.Record{}, serviceCredNotFound(id)
	}
	u, urec, err := loadUser(ctx, r, c.Account, name)
	if err != nil {
		return nil, nil, store.Record{}, err
	}
	sc, rec, err := ownedBy[ServiceCred](ctx, r, c.Account, kindServiceCred, id, urec.Key, serviceCredNotFound(id))
	return u, sc, rec, err
}

// serviceCredIn is ownedServiceCred as a loader.
func serviceCredIn(ctx context.Context, r store.Reader, c *service.Call, in map[string]any) (*ServiceCred, store.Record, error) {
	_, sc, rec, err := ownedServiceCred(ctx, r, c, in)
	return sc, rec, err
}

func (s *Service) listServiceSpecificCredentials(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	q := store.ListQuery{Account: c.Account, Kind: kindServiceCred}
	if svc := awsproto.Str(in, "ServiceName"); svc != "" {
		if !serviceCredServices[svc] {
			return nil, serviceNotSupported(svc)
		}
		q.Ref = &svc
	}
	all, _ := awsproto.Bool(in, "AllUsers")
	// Without AllUsers the list is one user's; user names come from the
	// user records, which a rename keeps current.
	var userName string
	if !all || awsproto.Str(in, "UserName") != "" {
		name, root, err := sshOwner(c, in)
		if err != nil {
			return nil, err
		}
		if root {
			return map[string]any{"ServiceSpecificCredentials": []any{}, "IsTruncated": false}, nil
		}
		u, urec, err := loadUser(ctx, s.Store, c.Account, name)
		if err != nil {
			return nil, err
		}
		parent := urec.Key
		q.Parent, userName = &parent, u.Name
	}
	p, err := listPage(ctx, s.Store, q, in)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	list := make([]any, 0, len(p.recs))
	for _, rec := range p.recs {
		sc, err := decode[ServiceCred](rec)
		if err != nil {
			return nil, err
		}
		owner := userName
		if q.Parent == nil {
			if owner = names[rec.Parent]; owner == "" {
				u, _, err := get[User](ctx, s.Store, c.Account, kindUser, rec.Parent)
				if err != nil {
					return nil, err
				}
				owner, names[rec.Parent] = u.Name, u.Name
			}
		}
		list = append(list, sc.meta(owner))
	}
	return p.out(map[string]any{"ServiceSpecificCredentials": list}), nil
}

func (s *Service) resetServiceSpecificCredential(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	var (
		out      map[string]any
		password string
	)
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		u, sc, rec, err := ownedServiceCred(ctx, tx, c, in)
		if err != nil {
			return err
		}
		password = newServicePassword(sc.Service)
		if err := sc.seal(s, password); err != nil {
			return err
		}
		rec.Data, rec.Updated = encode(sc), now(c)
		out = sc.out(u.Name, password)
		return tx.Update(ctx, rec)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"ServiceSpecificCredential": out}, nil
}
