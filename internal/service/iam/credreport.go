package iam

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// The credential report of an account is one record (kindCredReport,
// credReportKey): the CSV as generated, and when. Spec:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html
const (
	kindCredReport = "credreport"
	credReportKey  = "report"
	// credReportTTL: AWS serves a report for four hours; GenerateCredentialReport
	// makes a new one only when the last is older, GetCredentialReport
	// answers ReportExpired after it.
	credReportTTL = 4 * time.Hour
	// credReportBatch is how many users one store query reads.
	credReportBatch = 500
)

// credReport is the stored report.
type credReport struct {
	Generated time.Time `json:"generated"`
	CSV       []byte    `json:"csv"`
}

// credReportHeader is the report's header row, AWS's 22 columns in order.
var credReportHeader = []string{
	"user", "arn", "user_creation_time", "password_enabled", "password_last_used",
	"password_last_changed", "password_next_rotation", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
	"access_key_2_last_used_region", "access_key_2_last_used_service",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
}

// Values AWS prints for missing data.
const (
	crNA            = "N/A"
	crNoInformation = "no_information"
	crNotSupported  = "not_supported"
	// crRootUser is the user column of the account's root row.
	crRootUser = "<root_account>"
)

// credRow is what the report says about one user (or root). Pure data, so
// the formatting rules are table-tested without a store.
type credRow struct {
	User, ARN string
	Created   time.Time
	Root      bool
	// HasPassword: the user has a login profile (root: a password).
	HasPassword      bool
	PasswordLastUsed time.Time
	PasswordChanged  time.Time
	// MaxPasswordAge is the policy's MaxPasswordAge in days, 0 for none.
	MaxPasswordAge int
	MFA            bool
	Keys           []credKey  // ordered by creation; the first two are reported
	Certs          []credCert // ordered by upload; the first two are reported
}

type credKey struct {
	Active   bool
	Created  time.Time
	LastUsed *LastUsed
}

type credCert struct {
	Active  bool
	Created time.Time
}

// crTime formats a time as the report does: ISO 8601 with a +00:00 offset.
func crTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

// fields renders the row's 22 columns.
func (r credRow) fields() []string {
	f := make([]string, 0, len(credReportHeader))
	f = append(f, r.User, r.ARN, crTime(r.Created))
	switch {
	case r.Root:
		// Root's password cannot be disabled, its change date is not
		// reported and no password policy applies to it.
		last := crNoInformation
		if !r.PasswordLastUsed.IsZero() {
			last = crTime(r.PasswordLastUsed)
		}
		f = append(f, crNotSupported, last, crNotSupported, crNotSupported)
	case r.HasPassword:
		last := crNoInformation // a password never used to sign in
		if !r.PasswordLastUsed.IsZero() {
			last = crTime(r.PasswordLastUsed)
		}
		next := crNA
		if r.MaxPasswordAge > 0 {
			next = crTime(r.PasswordChanged.AddDate(0, 0, r.MaxPasswordAge))
		}
		f = append(f, "true", last, crTime(r.PasswordChanged), next)
	default:
		// No password now; IAM still reports a last use from an earlier one.
		last := crNA
		if !r.PasswordLastUsed.IsZero() {
			last = crTime(r.PasswordLastUsed)
		}
		f = append(f, "false", last, crNA, crNA)
	}
	f = append(f, strconv.FormatBool(r.MFA))
	for i := range 2 {
		if i >= len(r.Keys) {
			f = append(f, "false", crNA, crNA, crNA, crNA)
			continue
		}
		k := r.Keys[i]
		// AWS keeps showing an inactive key's rotation date; only the
		// active flag changes.
		f = append(f, strconv.FormatBool(k.Active), crTime(k.Created))
		if k.LastUsed == nil || k.LastUsed.Date.IsZero() {
			f = append(f, crNA, crNA, crNA)
		} else {
			f = append(f, crTime(k.LastUsed.Date), orNA(k.LastUsed.Region), orNA(k.LastUsed.Service))
		}
	}
	for i := range 2 {
		if i >= len(r.Certs) {
			f = append(f, "false", crNA)
			continue
		}
		f = append(f, strconv.FormatBool(r.Certs[i].Active), crTime(r.Certs[i].Created))
	}
	return f
}

func orNA(s string) string {
	if s == "" {
		return crNA
	}
	return s
}

// renderCredReport writes the header and rows as CSV with AWS's line
// endings (\n).
func renderCredReport(rows []credRow) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(credReportHeader); err != nil {
		return nil, err
	}
	for _, r := range rows {
		if err := w.Write(r.fields()); err != nil {
			return nil, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}
	// AWS's report has no trailing newline after the last row.
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func (s *Service) credReportHandlers(m map[string]service.Handler) {
	m["GenerateCredentialReport"] = s.generateCredentialReport
	m["GetCredentialReport"] = s.getCredentialReport
}

// generateCredentialReport builds the report synchronously: the first call
// answers STARTED (as AWS's first call does) and the report is already
// there; later calls within credReportTTL answer COMPLETE without
// rebuilding it.
func (s *Service) generateCredentialReport(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	at := now(c)
	started := false
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		old, rec, err := get[credReport](ctx, tx, c.Account, kindCredReport, credReportKey)
		exists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if exists && at.Sub(old.Generated) < credReportTTL {
			return nil
		}
		started = true
		rows, err := s.credReportRows(ctx, tx, c)
		if err != nil {
			return err
		}
		content, err := renderCredReport(rows)
		if err != nil {
			return err
		}
		data := encode(credReport{Generated: at, CSV: content})
		if exists {
			rec.Data, rec.Updated = data, at
			return tx.Update(ctx, rec)
		}
		return tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindCredReport, Key: credReportKey, Data: data, Created: at})
	})
	if err != nil {
		return nil, err
	}
	if started {
		return map[string]any{"State": "STARTED", "Description": "No report exists. Starting a new report generation task"}, nil
	}
	return map[string]any{"State": "COMPLETE"}, nil
}

func (s *Service) getCredentialReport(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	r, _, err := get[credReport](ctx, s.Store, c.Account, kindCredReport, credReportKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.New("ReportNotPresent", "Unable to find a credential report for this account. Use GenerateCredentialReport to generate one.")
	}
	if err != nil {
		return nil, err
	}
	if now(c).Sub(r.Generated) >= credReportTTL {
		return nil, apierr.New("ReportExpired", "The credential report has expired. Use GenerateCredentialReport to generate a new one.")
	}
	// Content is a blob: the codec base64-encodes the CSV bytes.
	return map[string]any{"Content": r.CSV, "ReportFormat": "text/csv", "GeneratedTime": r.Generated}, nil
}

// credLoginProfile is the part of a login profile record (loginprofiles.go,
// key = user key) the report reads.
type credLoginProfile struct {
	Created time.Time `json:"created"`
	Changed time.Time `json:"changed"`
}

// credPasswordPolicy is the part of the account password policy
// (passwordpolicy.go: kind "passwordpolicy", key "policy") the report reads.
type credPasswordPolicy struct {
	MaxAgeDays int `json:"maxAge"`
}

// credSigningCert is the part of a signing certificate record
// (certificates.go: kind signingcert, Parent = owner) the report reads.
type credSigningCert struct {
	Status   string    `json:"status"` // "Active" or "Inactive"
	Uploaded time.Time `json:"uploaded"`
}

// credReportRows reads root's row and every user's, in user-key order.
func (s *Service) credReportRows(ctx context.Context, r store.Reader, c *service.Call) ([]credRow, error) {
	acct, err := s.account(ctx, c.Account)
	if err != nil {
		return nil, err
	}
	maxAge := 0
	pol, _, err := get[credPasswordPolicy](ctx, r, c.Account, "passwordpolicy", "policy")
	switch {
	case err == nil:
		maxAge = pol.MaxAgeDays
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}

	root := credRow{
		User: crRootUser, ARN: arn.IAM(c.Partition, c.Account, "root"), Created: acct.Created, Root: true,
		HasPassword: acct.RootPassword != "", PasswordLastUsed: acct.RootPasswordLastUsed,
	}
	if err := s.credOwnerFacts(ctx, r, c.Account, rootOwner, &root); err != nil {
		return nil, err
	}
	rows := []credRow{root}

	q := store.ListQuery{Account: c.Account, Kind: kindUser, Limit: credReportBatch}
	for {
		recs, err := r.List(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, rec := range recs {
			u, err := decode[User](rec)
			if err != nil {
				return nil, err
			}
			row := credRow{User: u.Name, ARN: u.ARN, Created: u.Created, PasswordLastUsed: u.PasswordLastUsed, MaxPasswordAge: maxAge}
			lp, _, err := get[credLoginProfile](ctx, r, c.Account, kindLoginProfile, rec.Key)
			switch {
			case err == nil:
				row.HasPassword = true
				row.PasswordChanged = lp.Changed
				if row.PasswordChanged.IsZero() {
					row.PasswordChanged = lp.Created
				}
			case !errors.Is(err, store.ErrNotFound):
				return nil, err
			}
			if err := s.credOwnerFacts(ctx, r, c.Account, rec.Key, &row); err != nil {
				return nil, err
			}
			rows = append(rows, row)
		}
		if len(recs) < credReportBatch {
			return rows, nil
		}
		q.After = recs[len(recs)-1].Key
	}
}

// credOwnerFacts fills MFA, access keys and signing certificates of the
// owner whose records have Parent parent.
func (s *Service) credOwnerFacts(ctx context.Context, r store.Reader, account, parent string, row *credRow) error {
	p := parent
	n, err := r.Count(ctx, byParent(account, kindMFA, p))
	if err != nil {
		return err
	}
	row.MFA = n > 0
	keys, err := r.List(ctx, byParent(account, kindAccessKey, p))
	if err != nil {
		return err
	}
	for _, rec := range keys {
		k, err := decode[AccessKey](rec)
		if err != nil {
			return err
		}
		row.Keys = append(row.Keys, credKey{Active: k.Status == "Active", Created: k.Created, LastUsed: k.LastUsed})
	}
	slices.SortStableFunc(row.Keys, func(a, b credKey) int { return a.Created.Compare(b.Created) })
	certs, err := r.List(ctx, byParent(account, kindSigningCert, p))
	if err != nil {
		return err
	}
	for _, rec := range certs {
		sc, err := decode[credSigningCert](rec)
		if err != nil {
			return err
		}
		up := sc.Uploaded
		if up.IsZero() {
			up = rec.Created
		}
		row.Certs = append(row.Certs, credCert{Active: sc.Status == "Active", Created: up})
	}
	slices.SortStableFunc(row.Certs, func(a, b credCert) int { return a.Created.Compare(b.Created) })
	return nil
}
