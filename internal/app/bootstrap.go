package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/secrets"
	"github.com/iamd/iamd/internal/store"
)

// Bootstrap is the default account's first-start material.
type Bootstrap struct {
	AccountID string
	// Created is true when this start created the account.
	Created bool
	// AdminUser and its key, written to CredentialsFile (0600).
	AdminUser       string
	AccessKeyID     string
	SecretAccessKey string
	CredentialsFile string
	// RootPasswordFile holds a generated root password (0600), if one was generated.
	RootPasswordFile string
}

const (
	adminUser           = "admin"
	adminPolicyARN      = "arn:aws:iam::aws:policy/AdministratorAccess"
	credentialsFileName = "admin-credentials"
	rootPasswordName    = "root-password"
)

// bootstrap makes sure the default account exists: root user with a
// password and no access keys, and an IAM user "admin" with
// AdministratorAccess whose access key is kept in a 0600 credentials file —
// daily work as an IAM admin, root locked away.
func (a *App) bootstrap(ctx context.Context) (Bootstrap, error) {
	cfg := a.Config
	b := Bootstrap{AccountID: cfg.DefaultAccountID, AdminUser: adminUser, CredentialsFile: filepath.Join(cfg.DataDir, credentialsFileName)}
	id, secret, haveFile, err := readCredentials(b.CredentialsFile)
	if err != nil {
		return b, err
	}
	if _, err := accounts.Get(ctx, a.Store, cfg.DefaultAccountID); err == nil {
		b.AccessKeyID, b.SecretAccessKey = id, secret
		return b, nil
	}

	password := cfg.RootPassword
	if password == "" {
		b.RootPasswordFile = filepath.Join(cfg.DataDir, rootPasswordName)
		if pw, err := os.ReadFile(b.RootPasswordFile); err == nil {
			password = strings.TrimSpace(string(pw))
		} else {
			password = secrets.RandomToken(18)
			if err := writeSecretFile(b.RootPasswordFile, password+"\n"); err != nil {
				return b, err
			}
		}
	}
	if _, err := a.CreateAccount(ctx, cfg.DefaultAccountID, cfg.RootEmail, password, "default"); err != nil {
		if isExists(err) { // another node bootstrapped it first
			b.AccessKeyID, b.SecretAccessKey = id, secret
			return b, nil
		}
		return b, err
	}
	b.Created = true
	c := a.rootCall(cfg.DefaultAccountID, "aws")
	if _, err := a.invoke(ctx, c, "iam", "CreateUser", map[string]any{"UserName": adminUser}); err != nil {
		return b, err
	}
	if _, err := a.invoke(ctx, c, "iam", "AttachUserPolicy", map[string]any{"UserName": adminUser, "PolicyArn": adminPolicyARN}); err != nil {
		return b, err
	}
	err = a.Store.WithTx(ctx, func(tx store.Tx) error {
		if haveFile {
			_, _, err := a.IAM.ImportAccessKey(ctx, tx, cfg.DefaultAccountID, adminUser, adminUser, id, secret, a.Now())
			return err
		}
		k, s, err := a.IAM.NewAccessKey(ctx, tx, cfg.DefaultAccountID, adminUser, adminUser, a.Now())
		if err != nil {
			return err
		}
		id, secret = k.ID, s
		return nil
	})
	if err != nil {
		return b, err
	}
	b.AccessKeyID, b.SecretAccessKey = id, secret
	if !haveFile {
		content := fmt.Sprintf("# iamd bootstrap admin (IAM user %q in account %s)\n[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", adminUser, cfg.DefaultAccountID, id, secret)
		if err := writeSecretFile(b.CredentialsFile, content); err != nil {
			return b, err
		}
	}
	return b, nil
}

// CreateAccount creates an account and its root user. An empty id gets a
// fresh 12-digit one. An empty password leaves root without one.
func (a *App) CreateAccount(ctx context.Context, id, email, password, name string) (*accounts.Account, error) {
	if id == "" {
		id = a.IDs.Account()
	}
	acct := &accounts.Account{ID: id, Name: name, Email: email, Partition: "aws", Created: a.Now().UTC().Truncate(1e9)}
	if password != "" {
		h, err := secrets.HashPassword(password)
		if err != nil {
			return nil, err
		}
		acct.RootPassword = h
		acct.RootPasswordChanged = acct.Created
	}
	err := a.Store.WithTx(ctx, func(tx store.Tx) error { return accounts.Create(ctx, tx, acct) })
	return acct, err
}

func rootPrincipal(partition, account string) *principal.Principal {
	return &principal.Principal{Type: principal.Root, Partition: partition, Account: account, ARN: arn.IAM(partition, account, "root"), UserID: account}
}

// readCredentials reads the admin key from an AWS credentials file.
func readCredentials(path string) (id, secret string, ok bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, found := strings.Cut(sc.Text(), "=")
		if !found {
			continue
		}
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			id = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		}
	}
	return id, secret, id != "" && secret != "", sc.Err()
}

// writeSecretFile creates path with mode 0600 (never wider).
func writeSecretFile(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
