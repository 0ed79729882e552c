package iam

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/store"
)

func TestGlobMatchFold(t *testing.T) {
	for _, c := range []struct {
		pat, s string
		want   bool
	}{
		{"*", "ListUsers", true},
		{"List*", "listusers", true},
		{"list*", "GetUser", false},
		{"Get?ser", "GetUser", true},
		{"Get?ser", "GetUsers", false},
		{"*User*", "AttachUserPolicy", true},
		{"*Policy", "AttachUserPolicy", true},
		{"*Policy", "AttachUserPolicyX", false},
		{"", "", true},
		{"", "x", false},
	} {
		if got := globMatchFold(c.pat, c.s); got != c.want {
			t.Errorf("globMatchFold(%q, %q) = %v, want %v", c.pat, c.s, got, c.want)
		}
	}
}

func TestGrants(t *testing.T) {
	all := len(advisorServices)
	iamActions := len(advisorServiceByNamespace("iam").Actions)
	for _, c := range []struct {
		name     string
		doc      string
		services int            // how many namespaces granted
		actions  map[string]int // tracked actions granted per namespace
	}{
		{"star", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, all, map[string]int{"iam": iamActions}},
		{"one action", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}}`, 1, map[string]int{"iam": 1}},
		{"service wildcard", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"cloudtrail:*","Resource":"*"}}`, 1, map[string]int{"cloudtrail": 0}},
		{"services iamd does not host", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:GetObject","S3:PutObject","ec2:Describe*"],"Resource":"*"}}`, 2, map[string]int{"s3": 0, "ec2": 0}},
		{"deny only", `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}`, 0, nil},
		{"unknown action grants service", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:NoSuchThing","Resource":"*"}}`, 1, map[string]int{"sts": 0}},
		{"not action excludes a service", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`, all - 1, map[string]int{"sts": len(advisorServiceByNamespace("sts").Actions)}},
		{"not action excludes actions", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":["iam:Delete*","sts:*","organizations:*"],"Resource":"*"}}`, all - 2, map[string]int{"iam": iamActions - countPrefix("iam", "Delete")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			g, err := grants(c.doc)
			if err != nil {
				t.Fatal(err)
			}
			if len(g) != c.services {
				t.Fatalf("granted %d services (%v), want %d", len(g), keys(g), c.services)
			}
			for ns, n := range c.actions {
				if got := len(g[ns]); got != n {
					t.Errorf("%s: %d tracked actions, want %d", ns, got, n)
				}
			}
		})
	}
	if _, err := grants(`{"Statement":`); err == nil {
		t.Fatal("malformed policy accepted")
	}
}

func countPrefix(ns, prefix string) int {
	n := 0
	for _, a := range advisorServiceByNamespace(ns).Actions {
		if len(a) >= len(prefix) && a[:len(prefix)] == prefix {
			n++
		}
	}
	return n
}

func keys(g grantSet) []string {
	var out []string
	for k := range g {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestGrantedServices(t *testing.T) {
	got := grantedServices(grantSet{"s3": {}, "iam": {}, "zzz-new": {}, "ec2": {}})
	want := []advisorService{{Namespace: "ec2", Name: "Amazon EC2"}, {Namespace: "iam", Name: "AWS Identity and Access Management"}, {Namespace: "s3", Name: "Amazon S3"}, {Namespace: "zzz-new", Name: "zzz-new"}}
	if len(got) != len(want) {
		t.Fatalf("got %d services, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Namespace != want[i].Namespace || got[i].Name != want[i].Name {
			t.Errorf("%d: %s %q, want %s %q", i, got[i].Namespace, got[i].Name, want[i].Namespace, want[i].Name)
		}
	}
}

func TestServiceAccessMerge(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := &ServiceAccess{}
	if !a.merge("ListUsers", accessMark{At: t0, Region: "us-east-1"}) {
		t.Fatal("first access did not change the record")
	}
	if a.merge("ListUsers", accessMark{At: t0.Add(-time.Hour), Region: "eu-west-1"}) {
		t.Fatal("an older access changed the record")
	}
	if !a.merge("GetUser", accessMark{At: t0.Add(-time.Hour), Region: "eu-west-1"}) {
		t.Fatal("a first access to another action did not change the record")
	}
	if a.At != t0 || a.Region != "us-east-1" {
		t.Fatalf("service mark = %+v, want the latest", a.accessMark)
	}
	if !a.merge("", accessMark{At: t0.Add(time.Hour), Region: "ap-south-1"}) || a.Region != "ap-south-1" || len(a.Actions) != 2 {
		t.Fatalf("after a newer untracked access: %+v", a)
	}
}

func TestSortOrgDetails(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(ns string, at *time.Time) orgAccessEntry {
		e := orgAccessEntry{Namespace: ns}
		if at != nil {
			e.Last = &accessMark{At: *at}
		}
		return e
	}
	later := t0.Add(time.Hour)
	base := []orgAccessEntry{mk("sts", &t0), mk("iam", nil), mk("organizations", &later)}
	for _, c := range []struct {
		key  string
		want []string
	}{
		{"", []string{"iam", "organizations", "sts"}},
		{"SERVICE_NAMESPACE_ASCENDING", []string{"iam", "organizations", "sts"}},
		{"SERVICE_NAMESPACE_DESCENDING", []string{"sts", "organizations", "iam"}},
		{"LAST_AUTHENTICATED_TIME_ASCENDING", []string{"iam", "sts", "organizations"}},
		{"LAST_AUTHENTICATED_TIME_DESCENDING", []string{"organizations", "sts", "iam"}},
	} {
		d := slices.Clone(base)
		sortOrgDetails(d, c.key)
		var got []string
		for _, e := range d {
			got = append(got, e.Namespace)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%q: %v, want %v", c.key, got, c.want)
		}
	}
}

// TestAccessTracker notes accesses through the tracker: notes within a
// minute of the last written one for the same entity, service and tracked
// action are not written; others are, in batches.
func TestAccessTracker(t *testing.T) {
	s, c := grpTestService(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := NewAccessTracker(ctx, s, nil)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tr.NoteServiceAccess(c.Account, "user", "Alice", "iam", "ListUsers", "us-east-1", t0)
	tr.NoteServiceAccess(c.Account, "user", "alice", "iam", "ListUsers", "eu-west-1", t0.Add(30*time.Second)) // throttled
	tr.NoteServiceAccess(c.Account, "user", "alice", "iam", "GetUser", "eu-west-1", t0.Add(40*time.Second))   // another tracked action
	tr.NoteServiceAccess(c.Account, "role", "r", "cloudtrail", "LookupEvents", "us-east-1", t0)
	tr.NoteServiceAccess(c.Account, "role", "r", "cloudtrail", "DescribeTrails", "us-east-1", t0.Add(time.Second)) // untracked service: throttled
	tr.NoteServiceAccess(c.Account, "group", "g", "iam", "ListUsers", "us-east-1", t0)                             // not a principal: ignored
	tr.NoteAccess(&principal.Principal{Type: principal.Root, Account: c.Account}, "sts:GetCallerIdentity", "us-west-2", t0)
	tr.NoteAccess(&principal.Principal{Type: principal.FederatedUser, Account: c.Account, Name: "fed"}, "sts:GetCallerIdentity", "us-west-2", t0) // no IAM entity: ignored
	tr.NoteAccess(&principal.Principal{Type: principal.AssumedRole, Account: c.Account, Name: "r"}, "malformed", "us-west-2", t0)                 // no namespace: ignored
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := s.Store.Count(ctx, store.ListQuery{Account: c.Account, Kind: kindServiceAccess})
		if err != nil {
			t.Fatal(err)
		}
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d access records after 5s, want 3", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(1200 * time.Millisecond) // one more flush interval: nothing else may arrive
	a, _, err := get[ServiceAccess](ctx, s.Store, c.Account, kindServiceAccess, "user:alice|iam")
	if err != nil {
		t.Fatal(err)
	}
	if !a.At.Equal(t0.Add(40*time.Second)) || a.Region != "eu-west-1" || len(a.Actions) != 2 || !a.Actions["ListUsers"].At.Equal(t0) {
		t.Fatalf("alice iam = %+v", a)
	}
	r, _, err := get[ServiceAccess](ctx, s.Store, c.Account, kindServiceAccess, "role:r|cloudtrail")
	if err != nil {
		t.Fatal(err)
	}
	if !r.At.Equal(t0) || len(r.Actions) != 0 {
		t.Fatalf("role cloudtrail = %+v", r)
	}
	if n, _ := s.Store.Count(ctx, store.ListQuery{Account: c.Account, Kind: kindServiceAccess}); n != 3 {
		t.Fatalf("%d records, want 3", n)
	}
	if _, err := s.Store.Get(ctx, c.Account, kindServiceAccess, "root:|sts"); err != nil {
		t.Fatalf("root access: %v", err)
	}
}
