package iam

import (
	"context"
	"testing"
	"time"
)

// A role's last use is written at most once a minute per region, so frequent
// AssumeRole calls do not keep invalidating the account's caches.
func TestRecordRoleUseThrottled(t *testing.T) {
	ctx := context.Background()
	s, c := grpTestService(t)
	if _, err := s.createRole(ctx, c, map[string]any{"RoleName": "busy", "AssumeRolePolicyDocument": grpTestTrust}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		at         time.Time
		region     string
		wantAt     time.Time
		wantRegion string
	}{
		{t0, "us-east-1", t0, "us-east-1"},
		{t0.Add(30 * time.Second), "us-east-1", t0, "us-east-1"},                                    // within a minute: not written
		{t0.Add(40 * time.Second), "eu-west-1", t0.Add(40 * time.Second), "eu-west-1"},              // another region: written
		{t0.Add(40*time.Second + time.Minute), "eu-west-1", t0.Add(100 * time.Second), "eu-west-1"}, // a minute later: written
	}
	for i, st := range steps {
		if err := s.RecordRoleUse(ctx, c.Account, "busy", st.at, st.region); err != nil {
			t.Fatal(err)
		}
		r, err := LookupRole(ctx, s.Store, c.Account, "busy")
		if err != nil {
			t.Fatal(err)
		}
		if r.LastUsed == nil || !r.LastUsed.Date.Equal(st.wantAt) || r.LastUsed.Region != st.wantRegion {
			t.Fatalf("step %d: LastUsed = %+v, want %v %s", i, r.LastUsed, st.wantAt, st.wantRegion)
		}
	}
}
