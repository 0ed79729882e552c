// Package app wires iamd together: Config → store, keyring, services,
// authentication, authorization and the HTTP edge. It is the only package
// that knows every concrete type.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/authn"
	"github.com/iamd/iamd/internal/authz"
	"github.com/iamd/iamd/internal/config"
	"github.com/iamd/iamd/internal/httpapi"
	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/mail"
	"github.com/iamd/iamd/internal/secrets"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/service/account"
	"github.com/iamd/iamd/internal/service/iam"
	"github.com/iamd/iamd/internal/service/organizations"
	"github.com/iamd/iamd/internal/service/sts"
	"github.com/iamd/iamd/internal/signin"
	"github.com/iamd/iamd/internal/store"
	"github.com/iamd/iamd/internal/store/postgres"
	"github.com/iamd/iamd/internal/store/sqlite"
)

// App is a wired iamd instance.
type App struct {
	Config   config.Config
	Log      *slog.Logger
	Store    store.Store
	Keys     *secrets.Keyring
	IDs      ids.Source
	Now      func() time.Time
	Registry service.Registry
	IAM      *iam.Service
	Authn    *authn.Authenticator
	Authz    *authz.Authorizer
	Server   *httpapi.Server
	// Signin serves the console sign-in API under /signin/.
	Signin *signin.Service

	// Bootstrap is what first start created (or found) for the default account.
	Bootstrap Bootstrap
}

// Open builds an App from cfg: opens the store, loads or creates the
// secret key, registers the services and bootstraps the default account.
// ctx bounds background work (it should live as long as the App).
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Log: log, Now: time.Now, Registry: service.Registry{}}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("app: data dir: %w", err)
	}
	var err error
	if cfg.PostgresDSN != "" {
		a.Store, err = postgres.Open(ctx, cfg.PostgresDSN)
	} else {
		a.Store, err = sqlite.Open(ctx, filepath.Join(cfg.DataDir, "iamd.db"))
	}
	if err != nil {
		return nil, fmt.Errorf("app: open store: %w", err)
	}
	key, err := secrets.LoadOrCreateKeyFile(keyFile(cfg))
	if err != nil {
		a.Store.Close()
		return nil, fmt.Errorf("app: secret key: %w", err)
	}
	if a.Keys, err = secrets.NewKeyring(key); err != nil {
		a.Store.Close()
		return nil, err
	}

	a.IAM = &iam.Service{Store: a.Store, Keys: a.Keys, IDs: a.IDs, Log: log}
	a.IAM.Register(a.Registry)
	(&sts.Service{Store: a.Store, IDs: a.IDs, Keys: a.Keys, IAM: a.IAM}).Register(a.Registry)
	orgs := &organizations.Service{Store: a.Store, IDs: a.IDs, Registry: a.Registry}
	orgs.Register(a.Registry)

	a.Authn = authn.New(ctx, &authn.Authenticator{
		Store: a.Store, Keys: a.Keys, IAM: a.IAM, Mode: cfg.Auth, DefaultAccount: cfg.DefaultAccountID, Log: log,
	})
	a.Authz = authz.NewAuthorizer(&authz.Authorizer{Store: a.Store, IAM: a.IAM, MFA: a.IAM, Orgs: orgs, Access: iam.NewAccessTracker(ctx, a.IAM, log), Mode: cfg.Auth, Log: log, RequireRootMFA: cfg.RequireRootMFA})
	a.Authz.Register(a.Registry) // the policy simulator runs the enforcing chain
	a.Server = &httpapi.Server{
		Registry: a.Registry, Authn: a.Authn, Authz: a.Authz, Log: log, Now: a.Now, IDs: a.IDs,
	}
	if cfg.Auth == config.AuthOff {
		a.Server.Reset = a.Reset
	}
	if err := a.openSignin(log); err != nil {
		a.Store.Close()
		return nil, err
	}
	a.IAM.MountOutboundIssuer(a.Registry, a.Server.Extra, publicURL(cfg)) // issuers of GetWebIdentityToken: /outbound-oidc/{id}/.well-known/…
	(&account.Service{Store: a.Store, Authn: a.Authn, Mail: a.Signin.Mail, Log: log, Now: a.Now}).Register(a.Registry, a.Server)
	if a.Bootstrap, err = a.bootstrap(ctx); err != nil {
		a.Store.Close()
		return nil, fmt.Errorf("app: bootstrap: %w", err)
	}
	return a, nil
}

// openSignin builds the console sign-in API and its mail sender and mounts
// it at /signin/.
func (a *App) openSignin(log *slog.Logger) error {
	cfg := a.Config
	sender, err := mail.New(mail.Config{
		Addr: cfg.SMTPAddr, From: cfg.SMTPFrom, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword,
		OutboxDir: filepath.Join(cfg.DataDir, "outbox"),
	}, log, a.Now)
	if err != nil {
		return fmt.Errorf("app: mail: %w", err)
	}
	a.Signin, err = signin.New(&signin.Service{
		Store: a.Store, IAM: a.IAM, Registry: a.Registry, Authz: a.Authz, Mail: sender,
		Log: log, Now: a.Now, IDs: a.IDs, PublicURL: publicURL(cfg),
	})
	if err == nil && cfg.Signup {
		a.Signin.CreateAccount = a.CreateAccount
	}
	if err != nil {
		return fmt.Errorf("app: signin: %w", err)
	}
	if a.Server.Extra == nil {
		a.Server.Extra = map[string]http.Handler{}
	}
	a.Server.Extra["/signin/"] = a.Signin
	return nil
}

// publicURL is the base of links in mail: --public-url, else the listen
// address (a wildcard host becomes localhost). Never the request's Host
// header, which whoever asks for a recovery mail controls.
func publicURL(cfg config.Config) string {
	if cfg.PublicURL != "" {
		return cfg.PublicURL
	}
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return "http://" + cfg.Listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// keyFile is where the at-rest encryption key lives. Several nodes sharing
// PostgreSQL must share it: set IAMD_KEY_FILE to a common path.
func keyFile(cfg config.Config) string {
	if p := os.Getenv("IAMD_KEY_FILE"); p != "" {
		return p
	}
	return filepath.Join(cfg.DataDir, "master.key")
}

// Close releases the store.
func (a *App) Close() error { return a.Store.Close() }

// Handler is the HTTP handler serving every API.
func (a *App) Handler() http.Handler { return a.Server }

// Reset wipes every account and bootstraps the default account again with
// the same admin key, for test suites (POST /moto-api/reset).
func (a *App) Reset(ctx context.Context) error {
	err := a.Store.WithTx(ctx, func(tx store.Tx) error {
		all, err := accounts.List(ctx, tx)
		if err != nil {
			return err
		}
		for _, acct := range all {
			if err := accounts.Delete(ctx, tx, acct.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = a.bootstrap(ctx)
	return err
}

// call builds the service call of an internal operation run as root of account.
func (a *App) rootCall(account, partition string) *service.Call {
	p := rootPrincipal(partition, account)
	return &service.Call{RequestID: a.IDs.RequestID(), Service: "iam", Region: "us-east-1", Partition: partition, Account: account, Principal: p, Now: a.Now()}
}

// invoke runs a registered operation internally (bootstrap, CLI).
func (a *App) invoke(ctx context.Context, c *service.Call, svc, op string, in map[string]any) (map[string]any, error) {
	h := a.Registry.Lookup(svc, op)
	if h == nil {
		return nil, fmt.Errorf("app: %s:%s is not implemented", svc, op)
	}
	c.Service, c.Operation = svc, op
	return h(ctx, c, in)
}

// isExists reports an EntityAlreadyExists error.
func isExists(err error) bool {
	var ae *apierr.Error
	return errors.As(err, &ae) && ae.Code == apierr.EntityAlreadyExists
}
