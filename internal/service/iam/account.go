package iam

import (
	"context"
	"errors"
	"strings"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// accountHandlers registers account-wide settings: password policy, alias
// and summary.
func (s *Service) accountHandlers(m map[string]service.Handler) {
	m["UpdateAccountPasswordPolicy"] = s.updateAccountPasswordPolicy
	m["GetAccountPasswordPolicy"] = s.getAccountPasswordPolicy
	m["DeleteAccountPasswordPolicy"] = s.deleteAccountPasswordPolicy
	m["CreateAccountAlias"] = s.createAccountAlias
	m["DeleteAccountAlias"] = s.deleteAccountAlias
	m["ListAccountAliases"] = s.listAccountAliases
	m["GetAccountSummary"] = s.getAccountSummary
}

// Account aliases: one per account, unique across every account on the
// server. The global record (GlobalAccount, kindAccountAlias, alias) with
// Ref = account claims the name; the per-account record (account,
// kindAccountAlias, alias) is what ListAccountAliases reads.
const kindAccountAlias = "accountalias"

// validAccountAlias applies AWS's alias rules: 3–63 characters of
// lower-case letters, digits and single hyphens, starting and ending with a
// letter or digit, and not all digits (an alias must not look like an
// account id)
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/console-account-alias.html).
func validAccountAlias(alias string) error {
	bad := func() error {
		return apierr.New(apierr.ValidationError, "1 validation error detected: Value '%s' at 'accountAlias' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$", alias)
	}
	if len(alias) < 3 || len(alias) > 63 || alias[0] == '-' || alias[len(alias)-1] == '-' || strings.Contains(alias, "--") {
		return bad()
	}
	digits := true
	for _, r := range alias {
		switch {
		case r >= 'a' && r <= 'z', r == '-':
			digits = false
		case r >= '0' && r <= '9':
		default:
			return bad()
		}
	}
	if digits {
		return apierr.New(apierr.ValidationError, "The account alias %s cannot be all digits.", alias)
	}
	return nil
}

func (s *Service) createAccountAlias(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	alias := awsproto.Str(in, "AccountAlias")
	if err := validAccountAlias(alias); err != nil {
		return nil, err
	}
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		g, err := tx.Get(ctx, store.GlobalAccount, kindAccountAlias, alias)
		switch {
		case err == nil:
			// The claim only counts while its account still lists the
			// alias: deleting an account leaves the global record behind.
			_, err := tx.Get(ctx, g.Ref, kindAccountAlias, alias)
			if err == nil && g.Ref == c.Account {
				return nil // already this account's alias
			}
			if err == nil {
				return apierr.New(apierr.EntityAlreadyExists, "The account alias %s already exists.", alias)
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err := tx.Delete(ctx, store.GlobalAccount, kindAccountAlias, alias); err != nil {
				return err
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		// An account has one alias: a new one replaces the old
		// (https://docs.aws.amazon.com/signin/latest/userguide/CreateAccountAlias.html).
		old, err := tx.List(ctx, store.ListQuery{Account: c.Account, Kind: kindAccountAlias})
		if err != nil {
			return err
		}
		for _, r := range old {
			if err := tx.Delete(ctx, c.Account, kindAccountAlias, r.Key); err != nil {
				return err
			}
			if err := tx.Delete(ctx, store.GlobalAccount, kindAccountAlias, r.Key); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		err = tx.Insert(ctx, store.Record{Account: store.GlobalAccount, Kind: kindAccountAlias, Key: alias, Ref: c.Account, Created: now(c)})
		if errors.Is(err, store.ErrConflict) {
			return apierr.New(apierr.EntityAlreadyExists, "The account alias %s already exists.", alias)
		}
		if err != nil {
			return err
		}
		return tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindAccountAlias, Key: alias, Created: now(c)})
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) deleteAccountAlias(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	alias := awsproto.Str(in, "AccountAlias")
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		err := tx.Delete(ctx, c.Account, kindAccountAlias, alias)
		if errors.Is(err, store.ErrNotFound) {
			return apierr.New(apierr.NoSuchEntity, "The account alias %s cannot be found.", alias)
		}
		if err != nil {
			return err
		}
		return tx.Delete(ctx, store.GlobalAccount, kindAccountAlias, alias)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) listAccountAliases(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	p, err := listPage(ctx, s.Store, store.ListQuery{Account: c.Account, Kind: kindAccountAlias}, in)
	if err != nil {
		return nil, err
	}
	aliases := make([]any, 0, len(p.recs))
	for _, r := range p.recs {
		aliases = append(aliases, r.Key)
	}
	return p.out(map[string]any{"AccountAliases": aliases}), nil
}

// AccountForAlias resolves a sign-in alias to its account id.
func AccountForAlias(ctx context.Context, r store.Reader, alias string) (string, error) {
	alias = strings.ToLower(alias)
	rec, err := r.Get(ctx, store.GlobalAccount, kindAccountAlias, alias)
	if err == nil {
		// A claim left behind by a deleted account does not count.
		_, err = r.Get(ctx, rec.Ref, kindAccountAlias, alias)
	}
	if errors.Is(err, store.ErrNotFound) {
		return "", apierr.New(apierr.NoSuchEntity, "The account alias %s cannot be found.", alias)
	}
	return rec.Ref, err
}

// summaryQuotas are the fixed quota entries of GetAccountSummary, AWS's
// default quotas (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
var summaryQuotas = map[string]int64{
	"UsersQuota":                      maxUsers,
	"GroupsQuota":                     300,
	"ServerCertificatesQuota":         maxServerCerts,
	"UserPolicySizeQuota":             2048,
	"GroupPolicySizeQuota":            5120,
	"RolePolicySizeQuota":             10240,
	"PolicySizeQuota":                 6144,
	"AssumeRolePolicySizeQuota":       2048,
	"GroupsPerUserQuota":              10,
	"SigningCertificatesPerUserQuota": maxSigningCerts,
	"AccessKeysPerUserQuota":          maxAccessKeys,
	"AttachedPoliciesPerGroupQuota":   10,
	"AttachedPoliciesPerRoleQuota":    10,
	"AttachedPoliciesPerUserQuota":    10,
	"PoliciesQuota":                   1500,
	"PolicyVersionsInUseQuota":        10000,
	"VersionsPerPolicyQuota":          5,
	"RolesQuota":                      1000,
	"InstanceProfilesQuota":           1000,
	"GlobalEndpointTokenVersion":      1,
}

func (s *Service) getAccountSummary(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	m := make(map[string]any, 40)
	for k, v := range summaryQuotas {
		m[k] = v
	}
	count := func(kind string, parent *string) (int64, error) {
		n, err := s.Store.Count(ctx, store.ListQuery{Account: c.Account, Kind: kind, Parent: parent})
		return int64(n), err
	}
	root, unassigned := rootOwner, ""
	counts := []struct {
		name   string
		kind   string
		parent *string
	}{
		{"Users", kindUser, nil},
		{"Groups", kindGroup, nil},
		{"Roles", kindRole, nil},
		{"Policies", kindPolicy, nil},
		{"InstanceProfiles", kindInstanceProfile, nil},
		{"ServerCertificates", kindServerCert, nil},
		{"MFADevices", kindMFA, nil},
		// AWS counts the managed policy attachments as versions in use.
		{"PolicyVersionsInUse", kindAttachment, nil},
		{"#mfaUnassigned", kindMFA, &unassigned},
		{"AccountMFAEnabled", kindMFA, &root},
		{"AccountAccessKeysPresent", kindAccessKey, &root},
		{"AccountSigningCertificatesPresent", kindSigningCert, &root},
		{"#saml", kindSAMLProvider, nil},
		{"#oidc", kindOIDCProvider, nil},
	}
	got := map[string]int64{}
	for _, q := range counts {
		n, err := count(q.kind, q.parent)
		if err != nil {
			return nil, err
		}
		got[q.name] = n
	}
	for _, k := range []string{"Users", "Groups", "Roles", "Policies", "InstanceProfiles", "ServerCertificates", "MFADevices", "PolicyVersionsInUse"} {
		m[k] = got[k]
	}
	m["MFADevicesInUse"] = got["MFADevices"] - got["#mfaUnassigned"]
	m["Providers"] = got["#saml"] + got["#oidc"]
	for _, k := range []string{"AccountMFAEnabled", "AccountAccessKeysPresent", "AccountSigningCertificatesPresent"} {
		m[k] = min(got[k], 1)
	}
	acct, err := s.account(ctx, c.Account)
	if err != nil {
		return nil, err
	}
	m["AccountPasswordPresent"] = int64(0)
	if acct.RootPassword != "" {
		m["AccountPasswordPresent"] = int64(1)
	}
	if m["GlobalEndpointTokenVersion"], err = s.globalEndpointTokenVersion(ctx, c.Account); err != nil {
		return nil, err
	}
	return map[string]any{"SummaryMap": m}, nil
}
