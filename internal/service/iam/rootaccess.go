package iam

import (
	"context"
	"time"

	"github.com/iamd/iamd/internal/accountctl"
	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/secrets"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// Centralized root access for member accounts
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-enable-root-access.html):
// the management account (or IAM's delegated administrator) turns on
// RootCredentialsManagement and RootSessions for its organization, then
// opens short root sessions in member accounts with sts:AssumeRoot to
// audit, delete or re-enable the member root user's credentials. The
// login-profile calls without UserName, made as root, act on the root
// user's password; access keys, MFA devices and signing certificates
// already treat "no UserName, root caller" as the root user.

// rootAccessHandlers registers the organization feature calls and wraps the
// login-profile calls so that, made as root without UserName, they act on
// the root user's password.
func (s *Service) rootAccessHandlers(m map[string]service.Handler) {
	m["EnableOrganizationsRootCredentialsManagement"] = s.orgFeature(accountctl.FeatureRootCredentialsManagement, true)
	m["DisableOrganizationsRootCredentialsManagement"] = s.orgFeature(accountctl.FeatureRootCredentialsManagement, false)
	m["EnableOrganizationsRootSessions"] = s.orgFeature(accountctl.FeatureRootSessions, true)
	m["DisableOrganizationsRootSessions"] = s.orgFeature(accountctl.FeatureRootSessions, false)
	m["ListOrganizationsFeatures"] = s.listOrganizationsFeatures
	m["GetLoginProfile"] = forRoot(m["GetLoginProfile"], s.getRootLoginProfile)
	m["CreateLoginProfile"] = forRoot(m["CreateLoginProfile"], s.createRootLoginProfile)
	m["DeleteLoginProfile"] = forRoot(m["DeleteLoginProfile"], s.deleteRootLoginProfile)
}

// forRoot routes a call made as root without UserName to root, others to
// user.
func forRoot(user, root service.Handler) service.Handler {
	return func(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
		if c.Principal.IsRoot() && awsproto.Str(in, "UserName") == "" {
			return root(ctx, c, in)
		}
		return user(ctx, c, in)
	}
}

func featuresOut(o *accountctl.Org, fs []string) map[string]any {
	list := make([]any, len(fs))
	for i, f := range fs {
		list[i] = f
	}
	return map[string]any{"OrganizationId": o.ID, "EnabledFeatures": list}
}

// orgFeature turns a centralized root access feature on or off. Enabling
// is for the management account only; disabling also for IAM's delegated
// administrator, as the model's error lists say.
func (s *Service) orgFeature(feature string, on bool) service.Handler {
	return func(ctx context.Context, c *service.Call, _ map[string]any) (map[string]any, error) {
		var out map[string]any
		err := s.Store.WithTx(ctx, func(tx store.Tx) error {
			o, err := accountctl.RootAccessOrg(ctx, tx, c.Account, on)
			if err != nil {
				return err
			}
			fs, err := accountctl.SetFeature(ctx, tx, o, feature, on, now(c))
			if err != nil {
				return err
			}
			out = featuresOut(o, fs)
			return nil
		})
		return out, err
	}
}

func (s *Service) listOrganizationsFeatures(ctx context.Context, c *service.Call, _ map[string]any) (map[string]any, error) {
	o, err := accountctl.RootAccessOrg(ctx, s.Store, c.Account, accountctl.ManagementOrDelegated)
	if err != nil {
		return nil, err
	}
	fs, err := accountctl.Features(ctx, s.Store, o)
	if err != nil {
		return nil, err
	}
	return featuresOut(o, fs), nil
}

// The root user's login profile: the account's root password hash, or
// RootLoginProfile when one was created without a password (the root user
// then sets one by password recovery).

func rootProfileNotFound() error {
	return apierr.New(apierr.NoSuchEntity, "Login Profile for User root cannot be found.")
}

func hasRootProfile(a *accounts.Account) bool {
	return a.RootPassword != "" || !a.RootLoginProfile.IsZero()
}

// rootProfileOut names the root user by its account id: the root user has
// no IAM user name, and GetUser reports the account id as its UserId.
func rootProfileOut(a *accounts.Account) map[string]any {
	created := a.RootLoginProfile
	if created.IsZero() {
		created = a.RootPasswordChanged
	}
	if created.IsZero() {
		created = a.Created
	}
	return map[string]any{"LoginProfile": map[string]any{"UserName": a.ID, "CreateDate": created, "PasswordResetRequired": false}}
}

func (s *Service) getRootLoginProfile(ctx context.Context, c *service.Call, _ map[string]any) (map[string]any, error) {
	a, err := accounts.Get(ctx, s.Store, c.Account)
	if err != nil {
		return nil, err
	}
	if !hasRootProfile(a) {
		return nil, rootProfileNotFound()
	}
	return rootProfileOut(a), nil
}

// createRootLoginProfile re-enables password sign-in for the root user.
// Without Password (the IAMCreateRootUserPassword task), the root user
// recovers a password by email; with one, it is checked against AWS's
// root password rules and set.
func (s *Service) createRootLoginProfile(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	password := awsproto.Str(in, "Password")
	var hash string
	if password != "" {
		var err error
		if hash, err = secrets.HashPassword(password); err != nil {
			return nil, err
		}
	}
	var out map[string]any
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		a, err := accounts.Get(ctx, tx, c.Account)
		if err != nil {
			return err
		}
		if hasRootProfile(a) {
			return apierr.New(apierr.EntityAlreadyExists, "Login Profile for User root already exists.")
		}
		if password != "" {
			if err := ValidatePassword(nil, password, a.Email, a.Name); err != nil {
				return err
			}
			a.RootPassword, a.RootPasswordChanged = hash, now(c)
		}
		a.RootLoginProfile = now(c)
		if err := accounts.Update(ctx, tx, a); err != nil {
			return err
		}
		out = rootProfileOut(a)
		return nil
	})
	return out, err
}

// deleteRootLoginProfile removes the root user's password: root can then
// sign in only after a login profile is created again.
func (s *Service) deleteRootLoginProfile(ctx context.Context, c *service.Call, _ map[string]any) (map[string]any, error) {
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		a, err := accounts.Get(ctx, tx, c.Account)
		if err != nil {
			return err
		}
		if !hasRootProfile(a) {
			return rootProfileNotFound()
		}
		a.RootPassword, a.RootLoginProfile = "", time.Time{}
		return accounts.Update(ctx, tx, a)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}
