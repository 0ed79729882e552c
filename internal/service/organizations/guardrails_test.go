package organizations

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
	"github.com/iamd/iamd/internal/store/sqlite"
)

// orgFixture is a Service over a real SQLite store, driven through its
// handlers as the management account's root.
type orgFixture struct {
	t    testing.TB
	s    *Service
	mgmt string
	reg  service.Registry
}

func newFixture(t testing.TB) *orgFixture {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "orgs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &orgFixture{t: t, s: &Service{Store: st}, mgmt: "111111111111", reg: service.Registry{}}
	f.s.Register(f.reg)
	f.addAccount(f.mgmt)
	f.call(f.mgmt, "CreateOrganization", nil)
	return f
}

func (f *orgFixture) addAccount(id string) {
	err := f.s.Store.WithTx(context.Background(), func(tx store.Tx) error {
		return accounts.Create(context.Background(), tx, &accounts.Account{ID: id, Name: "acct" + id, Email: "root" + id + "@example.com"})
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *orgFixture) call(account, op string, in map[string]any) map[string]any {
	f.t.Helper()
	h := f.reg.Lookup("organizations", op)
	c := &service.Call{
		Service: "organizations", Operation: op, Partition: "aws", Region: "us-east-1", Account: account, Now: time.Now(),
		Principal: &principal.Principal{Type: principal.Root, Partition: "aws", Account: account, ARN: arn.IAM("aws", account, "root"), UserID: account},
	}
	if in == nil {
		in = map[string]any{}
	}
	out, err := h(context.Background(), c, in)
	if err != nil {
		f.t.Fatalf("%s: %v", op, err)
	}
	return out
}

// join invites account and accepts for it.
func (f *orgFixture) join(account string) {
	f.addAccount(account)
	h := f.call(f.mgmt, "InviteAccountToOrganization", map[string]any{"Target": map[string]any{"Id": account, "Type": "ACCOUNT"}})
	f.call(account, "AcceptHandshake", map[string]any{"HandshakeId": h["Handshake"].(map[string]any)["Id"]})
}

func (f *orgFixture) rootID() string {
	return f.call(f.mgmt, "ListRoots", nil)["Roots"].([]any)[0].(map[string]any)["Id"].(string)
}

func (f *orgFixture) ou(parent, name string) string {
	return f.call(f.mgmt, "CreateOrganizationalUnit", map[string]any{"ParentId": parent, "Name": name})["OrganizationalUnit"].(map[string]any)["Id"].(string)
}

func (f *orgFixture) scp(name, content string) string {
	out := f.call(f.mgmt, "CreatePolicy", map[string]any{"Name": name, "Description": "", "Type": typeSCP, "Content": content})
	return out["Policy"].(map[string]any)["PolicySummary"].(map[string]any)["Id"].(string)
}

func denyDoc(action string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"` + action + `","Resource":"*"}]}`
}

func TestGuardrailsLevels(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const member = "222222222222"
	f.join(member)
	root := f.rootID()
	ou1 := f.ou(root, "one")
	ou2 := f.ou(ou1, "two")
	f.call(f.mgmt, "MoveAccount", map[string]any{"AccountId": member, "SourceParentId": root, "DestinationParentId": ou2})

	g, err := f.s.Guardrails(ctx, f.s.Store, member)
	if err != nil {
		t.Fatal(err)
	}
	org := f.call(f.mgmt, "DescribeOrganization", nil)["Organization"].(map[string]any)["Id"].(string)
	if g.OrgID != org || g.ManagementAccount != f.mgmt || !slices.Equal(g.OrgPaths, []string{org + "/" + root + "/" + ou1 + "/" + ou2 + "/"}) || g.SCPs != nil || g.RCPs != nil {
		t.Fatalf("before SCPs: %+v", g)
	}

	f.call(f.mgmt, "EnablePolicyType", map[string]any{"RootId": root, "PolicyType": typeSCP})
	a, b := f.scp("a", denyDoc("s3:*")), f.scp("b", denyDoc("ec2:*"))
	f.call(f.mgmt, "AttachPolicy", map[string]any{"PolicyId": a, "TargetId": ou1})
	f.call(f.mgmt, "AttachPolicy", map[string]any{"PolicyId": b, "TargetId": ou1})
	f.call(f.mgmt, "AttachPolicy", map[string]any{"PolicyId": b, "TargetId": member})
	f.call(f.mgmt, "DetachPolicy", map[string]any{"PolicyId": "p-FullAWSAccess", "TargetId": member})

	g, err = f.s.Guardrails(ctx, f.s.Store, member)
	if err != nil {
		t.Fatal(err)
	}
	full := managedPolicy("p-FullAWSAccess").Content
	// Within a level the order carries no meaning (every policy of a level
	// is evaluated together), so levels are compared as sets.
	want := [][]string{{full}, {full, denyDoc("s3:*"), denyDoc("ec2:*")}, {full}, {denyDoc("ec2:*")}}
	sameLevel := func(x, y []string) bool {
		return slices.Equal(slices.Sorted(slices.Values(x)), slices.Sorted(slices.Values(y)))
	}
	if !slices.EqualFunc(g.SCPs, want, sameLevel) {
		t.Fatalf("SCP levels\n got %q\nwant %q", g.SCPs, want)
	}

	// The management account is never bound by SCPs.
	if g, err := f.s.Guardrails(ctx, f.s.Store, f.mgmt); err != nil || g.SCPs != nil || g.OrgPaths[0] != org+"/"+root+"/" {
		t.Fatalf("management: %+v %v", g, err)
	}
	// Leaving the organization leaves no guardrails.
	f.call(member, "LeaveOrganization", nil)
	if g, err := f.s.Guardrails(ctx, f.s.Store, member); err != nil || g != nil {
		t.Fatalf("after leaving: %+v %v", g, err)
	}
}

// BenchmarkGuardrails measures an uncached Guardrails read for an account
// two OUs deep with SCPs at every level (the authorizer caches the result).
func BenchmarkGuardrails(b *testing.B) {
	f := newFixture(b)
	const member = "222222222222"
	f.join(member)
	root := f.rootID()
	ou1 := f.ou(root, "one")
	ou2 := f.ou(ou1, "two")
	f.call(f.mgmt, "MoveAccount", map[string]any{"AccountId": member, "SourceParentId": root, "DestinationParentId": ou2})
	f.call(f.mgmt, "EnablePolicyType", map[string]any{"RootId": root, "PolicyType": typeSCP})
	f.call(f.mgmt, "AttachPolicy", map[string]any{"PolicyId": f.scp("a", denyDoc("s3:*")), "TargetId": ou2})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		g, err := f.s.Guardrails(ctx, f.s.Store, member)
		if err != nil || len(g.SCPs) != 4 {
			b.Fatalf("%+v %v", g, err)
		}
	}
}
