package iam

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/secrets"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
	"github.com/iamd/iamd/internal/store/sqlite"
)

const (
	drPartner  = "111111111111"
	drCustomer = "222222222222"
	drOwnerARN = "arn:aws:iam::222222222222:user/bob"
)

func drTestService(t *testing.T) *Service {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "iamd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kr, err := secrets.NewKeyring(bytes.Repeat([]byte{9}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return &Service{Store: st, Keys: kr, IDs: ids.Source{}}
}

func drCall(account, arn string, at time.Time) *service.Call {
	p := &principal.Principal{Type: principal.User, Partition: "aws", Account: account, ARN: arn, UserID: "AIDAEXAMPLE", Name: "bob", Path: "/"}
	return &service.Call{Account: account, Partition: "aws", Principal: p, Now: at}
}

// TestDelegationStateMachine runs each operation from each state: the
// transitions the lifecycle documents succeed, every other is InvalidInput,
// and accounts other than the owner's do not see the request.
func TestDelegationStateMachine(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	type op struct {
		name string
		call func(s *Service, ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error)
	}
	ops := map[string]op{
		"associate": {"AssociateDelegationRequest", (*Service).associateDelegationRequest},
		"update":    {"UpdateDelegationRequest", (*Service).updateDelegationRequest},
		"accept":    {"AcceptDelegationRequest", (*Service).acceptDelegationRequest},
		"reject":    {"RejectDelegationRequest", (*Service).rejectDelegationRequest},
		"send":      {"SendDelegationToken", (*Service).sendDelegationToken},
	}
	for _, c := range []struct {
		from    string
		op      string
		account string
		want    string // state after, or an error code
	}{
		{DelegationUnassigned, "associate", drCustomer, DelegationAssigned},
		{DelegationUnassigned, "associate", drPartner, apierr.NoSuchEntity}, // addressed to the customer
		{DelegationUnassigned, "accept", drCustomer, apierr.NoSuchEntity},   // no owner yet
		{DelegationAssigned, "associate", drCustomer, apierr.InvalidInput},
		{DelegationAssigned, "update", drCustomer, DelegationPendingApproval},
		{DelegationAssigned, "accept", drCustomer, DelegationAccepted},
		{DelegationAssigned, "reject", drCustomer, DelegationRejected},
		{DelegationAssigned, "send", drCustomer, apierr.InvalidInput},
		{DelegationAssigned, "accept", drPartner, apierr.NoSuchEntity},
		{DelegationPendingApproval, "update", drCustomer, DelegationPendingApproval},
		{DelegationPendingApproval, "accept", drCustomer, DelegationAccepted},
		{DelegationPendingApproval, "reject", drCustomer, DelegationRejected},
		{DelegationAccepted, "reject", drCustomer, DelegationRejected},
		{DelegationAccepted, "send", drCustomer, DelegationFinalized},
		{DelegationAccepted, "update", drCustomer, apierr.InvalidInput},
		{DelegationAccepted, "accept", drCustomer, apierr.InvalidInput},
		{DelegationFinalized, "reject", drCustomer, apierr.InvalidInput},
		{DelegationFinalized, "send", drCustomer, apierr.InvalidInput},
		{DelegationRejected, "accept", drCustomer, apierr.InvalidInput},
		{DelegationRejected, "update", drCustomer, apierr.InvalidInput},
	} {
		t.Run(c.from+"/"+c.op+"/"+c.account, func(t *testing.T) {
			s := drTestService(t)
			ctx := context.Background()
			dr := &DelegationRequest{ID: "dr-0123456789abcdef", RequestorID: drPartner, OwnerAccountID: drCustomer, State: c.from, SessionDuration: 900, Created: t0, Updated: t0}
			parent := ""
			if c.from != DelegationUnassigned {
				dr.OwnerID, parent = drOwnerARN, drCustomer
			}
			if c.from == DelegationAccepted || c.from == DelegationFinalized {
				dr.Approver = &delegatedPrincipal{Type: principal.User, ARN: drOwnerARN, UserID: "AIDAEXAMPLE", Name: "bob", Path: "/"}
			}
			if c.from == DelegationRejected {
				dr.Expires = t0.Add(rejectedRetention)
			}
			if err := s.Store.WithTx(ctx, func(tx store.Tx) error {
				return tx.Insert(ctx, store.Record{Account: store.GlobalAccount, Kind: kindDelegation, Key: dr.ID, ID: dr.ID, Parent: parent, Ref: drPartner, Data: encode(dr)})
			}); err != nil {
				t.Fatal(err)
			}
			arn := drOwnerARN
			if c.account == drPartner {
				arn = "arn:aws:iam::111111111111:user/partner"
			}
			_, err := ops[c.op].call(s, ctx, drCall(c.account, arn, t0.Add(time.Minute)), map[string]any{"DelegationRequestId": dr.ID})
			var ae *apierr.Error
			if errors.As(err, &ae) {
				if ae.Code != c.want {
					t.Fatalf("%s: %v, want %s", ops[c.op].name, err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := get[DelegationRequest](ctx, s.Store, store.GlobalAccount, kindDelegation, dr.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != c.want {
				t.Fatalf("state = %s, want %s", got.State, c.want)
			}
		})
	}
}

// TestDelegationTokenLifetime: the trade-in token works from finalization
// until the end of the session duration, and only with its secret.
func TestDelegationTokenLifetime(t *testing.T) {
	s := drTestService(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	dr := &DelegationRequest{ID: "dr-fedcba9876543210", RequestorID: drPartner, OwnerAccountID: drCustomer, OwnerID: drOwnerARN, State: DelegationAccepted, SessionDuration: 900,
		Approver:         &delegatedPrincipal{Type: principal.AssumedRole, ARN: "arn:aws:iam::222222222222:role/ops", UserID: "AROAEXAMPLE", Name: "ops", Path: "/"},
		PermissionPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}`}
	if err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		return tx.Insert(ctx, store.Record{Account: store.GlobalAccount, Kind: kindDelegation, Key: dr.ID, ID: dr.ID, Parent: drCustomer, Ref: drPartner, Data: encode(dr)})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DelegationExchangeToken(ctx, dr.ID); err == nil {
		t.Fatal("a token before SendDelegationToken")
	}
	if _, err := s.sendDelegationToken(ctx, drCall(drCustomer, drOwnerARN, t0), map[string]any{"DelegationRequestId": dr.ID}); err != nil {
		t.Fatal(err)
	}
	tok, err := s.DelegationExchangeToken(ctx, dr.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		token string
		at    time.Time
		ok    bool
	}{
		{"at finalization", tok, t0, true},
		{"just before the end", tok, t0.Add(899 * time.Second), true},
		{"at the end", tok, t0.Add(900 * time.Second), false},
		{"wrong secret", dr.ID + ".x", t0, false},
		{"no secret", dr.ID, t0, false},
		{"unknown request", "dr-nothere00000000.x", t0, false},
	} {
		d, err := s.RedeemTradeInToken(ctx, c.token, c.at)
		if c.ok != (err == nil) {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !c.ok {
			if !errors.Is(err, ErrTradeInToken) {
				t.Fatalf("%s: %v, want ErrTradeInToken", c.name, err)
			}
			continue
		}
		p := d.Principal
		if p.Type != principal.AssumedRole || p.RoleARN != "arn:aws:iam::222222222222:role/ops" || p.ARN != "arn:aws:sts::222222222222:assumed-role/ops/"+dr.ID ||
			p.UserID != "AROAEXAMPLE:"+dr.ID || d.Account != drCustomer || !d.Expires.Equal(t0.Add(900*time.Second)) || d.PermissionPolicy != dr.PermissionPolicy {
			t.Fatalf("%s: %+v", c.name, d)
		}
	}
}

func TestApproverOf(t *testing.T) {
	for _, c := range []struct {
		p       principal.Principal
		wantARN string
		ok      bool
	}{
		{principal.Principal{Type: principal.User, ARN: drOwnerARN, UserID: "AIDA1"}, drOwnerARN, true},
		{principal.Principal{Type: principal.Root, ARN: "arn:aws:iam::222222222222:root", UserID: drCustomer}, "arn:aws:iam::222222222222:root", true},
		{principal.Principal{Type: principal.AssumedRole, ARN: "arn:aws:sts::222222222222:assumed-role/ops/s", RoleARN: "arn:aws:iam::222222222222:role/ops", UserID: "AROA1:s", Name: "ops"}, "arn:aws:iam::222222222222:role/ops", true},
		{principal.Principal{Type: principal.FederatedUser, ARN: "arn:aws:sts::222222222222:federated-user/f"}, "", false},
	} {
		got, err := approverOf(&c.p)
		if c.ok != (err == nil) || c.ok && got.ARN != c.wantARN {
			t.Errorf("%s: %+v, %v", c.p.Type, got, err)
		}
		if c.p.Type == principal.AssumedRole && c.ok && got.UserID != "AROA1" {
			t.Errorf("role approver UserID = %q, want the role id", got.UserID)
		}
	}
}

func TestSummarizeDelegation(t *testing.T) {
	base := DelegationRequest{RequestorID: drPartner, RequestorName: "Acme", OwnerAccountID: drCustomer, SessionDuration: 1800, State: DelegationPendingApproval, Description: "Fix the build"}
	for _, c := range []struct {
		name   string
		policy string
		want   []string
	}{
		{"actions", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["iam:GetUser","iam:ListUsers"],"Resource":"*"}}`,
			[]string{"Acme (account 111111111111) requests temporary access to account 222222222222 for 30m0s", "Purpose: Fix the build.", "allow the actions iam:GetUser, iam:ListUsers on *", "The request is pending approval."}},
		{"not action with condition", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:s3:::secret","Condition":{"Bool":{"aws:SecureTransport":"true"}}}}`,
			[]string{"allow all actions except iam:* on all resources except arn:aws:s3:::secret under conditions."}},
		{"unparsable policy", `{`, []string{"Purpose: Fix the build. The request is pending approval."}},
	} {
		dr := base
		dr.PermissionPolicy = c.policy
		got := summarizeDelegation(&dr)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", c.name, got, w)
			}
		}
	}
}
