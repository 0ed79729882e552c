package iam

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
	"github.com/iamd/iamd/internal/store/sqlite"
)

const grpTestAccount = "210987654321"

// grpTestService is a Service on a fresh SQLite store, and a root call in
// its account. The handlers under test need no account record.
func grpTestService(t testing.TB) (*Service, *service.Call) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "iamd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &service.Call{
		Account: grpTestAccount, Partition: "aws", Now: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC),
		Principal: &principal.Principal{Type: principal.Root, Partition: "aws", Account: grpTestAccount},
	}
	return &Service{Store: st, IDs: ids.Source{}}, c
}

const grpTestTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// TestAccountQuotas fills each kind up to its per-account quota: the next
// create is LimitExceeded with IAM's quota name, and stores nothing.
func TestAccountQuotas(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 2300 entities")
	}
	tests := []struct {
		kind   string
		max    int
		create func(s *Service, c *service.Call, name string) error
		quota  string
	}{
		{kindGroup, maxGroups, func(s *Service, c *service.Call, name string) error {
			_, err := s.createGroup(context.Background(), c, map[string]any{"GroupName": name})
			return err
		}, "GroupsPerAccount: 300"},
		{kindRole, maxRoles, func(s *Service, c *service.Call, name string) error {
			_, err := s.createRole(context.Background(), c, map[string]any{"RoleName": name, "AssumeRolePolicyDocument": grpTestTrust})
			return err
		}, "RolesPerAccount: 1000"},
		{kindInstanceProfile, maxInstanceProfiles, func(s *Service, c *service.Call, name string) error {
			_, err := s.createInstanceProfile(context.Background(), c, map[string]any{"InstanceProfileName": name})
			return err
		}, "InstanceProfilesPerAccount: 1000"},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			s, c := grpTestService(t)
			for i := range tc.max {
				if err := tc.create(s, c, fmt.Sprintf("n%04d", i)); err != nil {
					t.Fatalf("create %d: %v", i, err)
				}
			}
			err := tc.create(s, c, "one-too-many")
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Code != apierr.LimitExceeded || ae.Message != "Cannot exceed quota for "+tc.quota {
				t.Fatalf("over quota: %v", err)
			}
			if _, err := s.Store.Get(context.Background(), c.Account, tc.kind, "one-too-many"); err == nil {
				t.Fatal("refused entity was stored")
			}
			// Quotas are per account: another account is unaffected.
			other := *c
			other.Account = "111122223333"
			if err := tc.create(s, &other, "first"); err != nil {
				t.Fatalf("other account: %v", err)
			}
		})
	}
}

// TestServiceLinkedRoleQuota: service-linked roles count against the role
// quota like any role.
func TestServiceLinkedRoleQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 1000 roles")
	}
	ctx := context.Background()
	s, c := grpTestService(t)
	for i := range maxRoles - 1 {
		if _, err := s.createRole(ctx, c, map[string]any{"RoleName": fmt.Sprintf("r%04d", i), "AssumeRolePolicyDocument": grpTestTrust}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.createServiceLinkedRole(ctx, c, map[string]any{"AWSServiceName": "ecs.amazonaws.com"}); err != nil {
		t.Fatal(err)
	}
	_, err := s.createServiceLinkedRole(ctx, c, map[string]any{"AWSServiceName": "rds.amazonaws.com"})
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Code != apierr.LimitExceeded {
		t.Fatalf("over quota: %v", err)
	}
}

func TestRecordRoleUse(t *testing.T) {
	ctx := context.Background()
	s, c := grpTestService(t)
	if _, err := s.createRole(ctx, c, map[string]any{"RoleName": "R", "AssumeRolePolicyDocument": grpTestTrust}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 500, time.UTC)
	steps := []struct {
		at         time.Time
		region     string
		wantAt     time.Time
		wantRegion string
	}{
		{t0, "us-east-1", t0.Truncate(time.Second), "us-east-1"},
		{t0.Add(time.Hour), "eu-west-1", t0.Add(time.Hour).Truncate(time.Second), "eu-west-1"},
		{t0.Add(time.Minute), "ap-south-1", t0.Add(time.Hour).Truncate(time.Second), "eu-west-1"}, // older: kept
		{t0.Add(time.Hour), "us-west-2", t0.Add(time.Hour).Truncate(time.Second), "eu-west-1"},    // same second: kept
	}
	for i, st := range steps {
		if err := s.RecordRoleUse(ctx, c.Account, "r", st.at, st.region); err != nil {
			t.Fatal(err)
		}
		r, err := LookupRole(ctx, s.Store, c.Account, "R")
		if err != nil {
			t.Fatal(err)
		}
		if r.LastUsed == nil || !r.LastUsed.Date.Equal(st.wantAt) || r.LastUsed.Region != st.wantRegion {
			t.Fatalf("step %d: LastUsed = %+v", i, r.LastUsed)
		}
	}
	err := s.RecordRoleUse(ctx, c.Account, "missing", t0, "us-east-1")
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Code != apierr.NoSuchEntity {
		t.Fatalf("missing role: %v", err)
	}
	r, err := LookupRole(ctx, s.Store, c.Account, "r")
	if err != nil {
		t.Fatal(err)
	}
	byID, err := LookupRoleByID(ctx, s.Store, r.ID)
	if err != nil || byID.Name != "R" {
		t.Fatalf("LookupRoleByID = %+v, %v", byID, err)
	}
}

// TestDeleteServiceLinkedRoleTakesPolicies: the service removes its role's
// policies with the role, in the same transaction.
func TestDeleteServiceLinkedRoleTakesPolicies(t *testing.T) {
	ctx := context.Background()
	s, c := grpTestService(t)
	out, err := s.createServiceLinkedRole(ctx, c, map[string]any{"AWSServiceName": "ecs.amazonaws.com"})
	if err != nil {
		t.Fatal(err)
	}
	name := out["Role"].(map[string]any)["RoleName"].(string)
	owner := roleOwner(key(name))
	other := roleOwner("someone-else")
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		for _, r := range []store.Record{
			{Account: c.Account, Kind: kindInline, Key: owner + "/p", Parent: owner},
			{Account: c.Account, Kind: kindAttachment, Key: owner + "|arn:aws:iam::aws:policy/X", Parent: owner, Ref: "arn:aws:iam::aws:policy/X"},
			{Account: c.Account, Kind: kindInline, Key: other + "/p", Parent: other},
		} {
			if err := tx.Insert(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.deleteServiceLinkedRole(ctx, c, map[string]any{"RoleName": name}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		kind, parent string
		want         int
	}{{kindInline, owner, 0}, {kindAttachment, owner, 0}, {kindInline, other, 1}} {
		n, err := s.Store.Count(ctx, store.ListQuery{Account: c.Account, Kind: q.kind, Parent: &q.parent})
		if err != nil || n != q.want {
			t.Fatalf("%s of %s: %d, %v; want %d", q.kind, q.parent, n, err, q.want)
		}
	}
}

// BenchmarkLookupRole is STS AssumeRole's read of the role.
func BenchmarkLookupRole(b *testing.B) {
	ctx := context.Background()
	s, c := grpTestService(b)
	for i := range 200 {
		if _, err := s.createRole(ctx, c, map[string]any{"RoleName": fmt.Sprintf("r%03d", i), "AssumeRolePolicyDocument": grpTestTrust}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := LookupRole(ctx, s.Store, c.Account, fmt.Sprintf("R%03d", i%200)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetGroupPage reads a group and a 100-member page.
func BenchmarkGetGroupPage(b *testing.B) {
	ctx := context.Background()
	s, c := grpTestService(b)
	if _, err := s.createGroup(ctx, c, map[string]any{"GroupName": "g"}); err != nil {
		b.Fatal(err)
	}
	for i := range 300 {
		name := fmt.Sprintf("u%03d", i)
		if _, err := s.createUser(ctx, c, map[string]any{"UserName": name}); err != nil {
			b.Fatal(err)
		}
		if _, err := s.addUserToGroup(ctx, c, map[string]any{"GroupName": "g", "UserName": name}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		out, err := s.getGroup(ctx, c, map[string]any{"GroupName": "g"})
		if err != nil {
			b.Fatal(err)
		}
		if len(out["Users"].([]any)) != 100 {
			b.Fatal("short page")
		}
	}
}
