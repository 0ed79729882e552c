package authz

import (
	"errors"
	"slices"
	"testing"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/policy"
)

func simPol(t *testing.T, kind policy.Kind, id, src, doc string) simPolicy {
	t.Helper()
	p, err := policy.Parse([]byte(doc), kind)
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	return simPolicy{pol: p, id: id, kind: src}
}

func matchIDs(ms []simMatch) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.id+"/"+m.kind)
	}
	return out
}

func TestSimulate(t *testing.T) {
	const (
		mfaAllow = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`
		getAllow = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
		putDeny  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}`
		bound    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}`
		bucket   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:user/carol"},"Action":"s3:GetObject","Resource":"*"}]}`
	)
	carol := &policy.Principal{Account: "444455556666", ARN: "arn:aws:iam::444455556666:user/carol"}
	tests := []struct {
		name       string
		sim        func(t *testing.T) *simulation
		decisions  []string
		matched    [][]string
		missing    [][]string
		cross      []bool
		boundaryOK []bool
	}{
		{
			name: "explicit deny reports only the deny statement",
			sim: func(t *testing.T) *simulation {
				return &simulation{identity: []simPolicy{simPol(t, policy.Identity, "PolicyInputList.1", "none", putDeny)}, actions: []string{"s3:PutObject", "s3:GetObject"}}
			},
			decisions: []string{"explicitDeny", "allowed"},
			matched:   [][]string{{"PolicyInputList.1/none"}, {"PolicyInputList.1/none"}},
			missing:   [][]string{nil, nil},
		},
		{
			name: "missing context key makes an implicit deny",
			sim: func(t *testing.T) *simulation {
				return &simulation{identity: []simPolicy{simPol(t, policy.Identity, "mfa", "user", mfaAllow)}, actions: []string{"s3:GetObject"}}
			},
			decisions: []string{"implicitDeny"},
			matched:   [][]string{{}},
			missing:   [][]string{{"aws:MultiFactorAuthPresent"}},
		},
		{
			name: "context entry satisfies the condition",
			sim: func(t *testing.T) *simulation {
				ctx := policy.NewContext(1)
				ctx.Set("aws:MultiFactorAuthPresent", "true")
				return &simulation{identity: []simPolicy{simPol(t, policy.Identity, "mfa", "user", mfaAllow)}, actions: []string{"s3:GetObject"}, ctx: ctx}
			},
			decisions: []string{"allowed"},
			matched:   [][]string{{"mfa/user"}},
			missing:   [][]string{nil},
		},
		{
			name: "boundary caps, per action and resource",
			sim: func(t *testing.T) *simulation {
				return &simulation{
					identity:  []simPolicy{simPol(t, policy.Identity, "all", "aws-managed", putDeny)},
					boundary:  []simPolicy{simPol(t, policy.Identity, "b", "user-managed", bound)},
					actions:   []string{"s3:GetObject", "s3:ListBucket"},
					resources: []string{"arn:aws:s3:::b1", "arn:aws:s3:::b2"},
				}
			},
			decisions:  []string{"allowed", "allowed", "implicitDeny", "implicitDeny"},
			matched:    [][]string{{"all/aws-managed", "b/user-managed"}, {"all/aws-managed", "b/user-managed"}, {}, {}},
			missing:    [][]string{nil, nil, nil, nil},
			boundaryOK: []bool{true, true, false, false},
		},
		{
			name: "cross-account resource policy needs the identity side",
			sim: func(t *testing.T) *simulation {
				return &simulation{
					resource:  &simPolicy{pol: simPol(t, policy.Resource, "", "", bucket).pol, id: "ResourcePolicy", kind: "resource"},
					actions:   []string{"s3:GetObject"},
					resources: []string{"arn:aws:s3:::shared/k"},
					caller:    carol, owner: "111122223333",
				}
			},
			decisions: []string{"implicitDeny"},
			matched:   [][]string{{}},
			missing:   [][]string{nil},
			cross:     []bool{true},
		},
		{
			name: "cross-account: both sides allow",
			sim: func(t *testing.T) *simulation {
				return &simulation{
					identity:  []simPolicy{simPol(t, policy.Identity, "PolicyInputList.1", "none", getAllow)},
					resource:  &simPolicy{pol: simPol(t, policy.Resource, "", "", bucket).pol, id: "ResourcePolicy", kind: "resource"},
					actions:   []string{"s3:GetObject"},
					resources: []string{"arn:aws:s3:::shared/k"},
					caller:    carol, owner: "111122223333",
				}
			},
			decisions: []string{"allowed"},
			matched:   [][]string{{"PolicyInputList.1/none", "ResourcePolicy/resource"}},
			missing:   [][]string{nil},
			cross:     []bool{true},
		},
		{
			name: "same account: the resource policy alone allows",
			sim: func(t *testing.T) *simulation {
				return &simulation{
					resource:  &simPolicy{pol: simPol(t, policy.Resource, "", "", bucket).pol, id: "ResourcePolicy", kind: "resource"},
					actions:   []string{"s3:GetObject"},
					resources: []string{"arn:aws:s3:::shared/k"},
					caller:    carol, owner: "444455556666",
				}
			},
			decisions: []string{"allowed"},
			matched:   [][]string{{"ResourcePolicy/resource"}},
			missing:   [][]string{nil},
			cross:     []bool{false},
		},
		{
			name: "an ARN naming its account decides the owner",
			sim: func(t *testing.T) *simulation {
				return &simulation{
					resource:  &simPolicy{pol: simPol(t, policy.Resource, "", "", bucket).pol, id: "ResourcePolicy", kind: "resource"},
					actions:   []string{"s3:GetObject"},
					resources: []string{"arn:aws:iam::999988887777:user/x"},
					caller:    carol, owner: "444455556666",
				}
			},
			decisions: []string{"implicitDeny"},
			matched:   [][]string{{}},
			missing:   [][]string{nil},
			cross:     []bool{true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := simulate(tc.sim(t))
			if len(rs) != len(tc.decisions) {
				t.Fatalf("%d results; want %d", len(rs), len(tc.decisions))
			}
			for i, r := range rs {
				if r.decision != tc.decisions[i] {
					t.Errorf("result %d (%s on %s): %s; want %s", i, r.action, r.resource, r.decision, tc.decisions[i])
				}
				if got := matchIDs(r.matched); !slices.Equal(got, tc.matched[i]) {
					t.Errorf("result %d matched %v; want %v", i, got, tc.matched[i])
				}
				if !slices.Equal(r.missing, tc.missing[i]) {
					t.Errorf("result %d missing %q; want %q", i, r.missing, tc.missing[i])
				}
				if tc.cross != nil && r.crossAccount != tc.cross[i] {
					t.Errorf("result %d crossAccount %v", i, r.crossAccount)
				}
				if tc.boundaryOK != nil && (!r.boundary || r.boundaryAllowed != tc.boundaryOK[i]) {
					t.Errorf("result %d boundary %v allowed %v", i, r.boundary, r.boundaryAllowed)
				}
			}
		})
	}
}

func TestContextEntries(t *testing.T) {
	entry := func(name, typ string, vals ...string) any {
		m := map[string]any{"ContextKeyName": name, "ContextKeyValues": toAny(vals)}
		if typ != "" {
			m["ContextKeyType"] = typ
		}
		return m
	}
	tests := []struct {
		name    string
		entry   any
		ok      bool
		key     string
		wantVal []string
	}{
		{"string", entry("aws:username", "string", "bob"), true, "aws:username", []string{"bob"}},
		{"string list", entry("aws:TagKeys", "stringList", "a", "b"), true, "aws:tagkeys", []string{"a", "b"}},
		{"empty list", entry("aws:TagKeys", "stringList"), true, "aws:TagKeys", []string{}},
		{"no type takes several values", entry("s3:prefix", "", "a", "b"), true, "s3:prefix", []string{"a", "b"}},
		{"numeric", entry("s3:max-keys", "numeric", "10.5"), true, "s3:max-keys", []string{"10.5"}},
		{"bad numeric", entry("s3:max-keys", "numeric", "ten"), false, "", nil},
		{"numeric list", entry("s3:max-keys", "numericList", "1", "2"), true, "s3:max-keys", []string{"1", "2"}},
		{"scalar type with two values", entry("s3:max-keys", "numeric", "1", "2"), false, "", nil},
		{"boolean", entry("aws:SecureTransport", "boolean", "true"), true, "aws:SecureTransport", []string{"true"}},
		{"bad boolean", entry("aws:SecureTransport", "boolean", "yes"), false, "", nil},
		{"date RFC 3339", entry("aws:CurrentTime", "date", "2024-01-02T03:04:05Z"), true, "aws:CurrentTime", []string{"2024-01-02T03:04:05Z"}},
		{"date epoch", entry("aws:CurrentTime", "date", "1700000000"), true, "aws:CurrentTime", []string{"1700000000"}},
		{"bad date", entry("aws:CurrentTime", "date", "yesterday"), false, "", nil},
		{"ip address", entry("aws:SourceIp", "ip", "10.1.2.3"), true, "aws:SourceIp", []string{"10.1.2.3"}},
		{"ip prefix", entry("aws:SourceIp", "ip", "10.0.0.0/8"), true, "aws:SourceIp", []string{"10.0.0.0/8"}},
		{"ipv6", entry("aws:SourceIp", "ipList", "2001:db8::1", "::1"), true, "aws:SourceIp", []string{"2001:db8::1", "::1"}},
		{"bad ip", entry("aws:SourceIp", "ip", "10.1.2"), false, "", nil},
		{"binary", entry("k:bin", "binary", "aGVsbG8="), true, "k:bin", []string{"aGVsbG8="}},
		{"bad binary", entry("k:bin", "binary", "@@"), false, "", nil},
		{"unknown type", entry("k:x", "float", "1"), false, "", nil},
		{"no name", map[string]any{"ContextKeyType": "string"}, false, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, err := contextEntries([]any{tc.entry})
			if !tc.ok {
				var ae *apierr.Error
				if !errors.As(err, &ae) || ae.Code != apierr.InvalidInput {
					t.Fatalf("err = %v; want InvalidInput", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, present := ctx.Get(tc.key)
			if !present || !slices.Equal(got, tc.wantVal) {
				t.Fatalf("%s = %q (present %v); want %q", tc.key, got, present, tc.wantVal)
			}
		})
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func TestContextKeys(t *testing.T) {
	parse := func(doc string) *policy.Policy {
		p, err := parseAnyKind(doc)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::${aws:username}-${aws:PrincipalTag/dept, 'x'}/${*}",` +
		`"Condition":{"StringLike":{"s3:prefix":["home/${aws:userid}/*","${?}"]},"ForAnyValue:StringEquals":{"aws:TagKeys":"a"}}}]}`)
	b := parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"AWS:USERNAME":"x","aws:SourceVpc":"v"}}}]}`)
	got := contextKeys([]*policy.Policy{a, b})
	want := []string{"aws:username", "aws:PrincipalTag/dept", "s3:prefix", "aws:userid", "aws:TagKeys", "aws:SourceVpc"}
	if !slices.Equal(got, want) {
		t.Fatalf("keys %q; want %q", got, want)
	}
	if _, err := parseAnyKind(`{"Statement":`); err == nil {
		t.Fatal("malformed policy accepted")
	}
}

func TestPageBounds(t *testing.T) {
	tests := []struct {
		in              map[string]any
		n               int
		start, max      int
		wantErr         bool
		truncated       bool
		marker, results int
	}{
		{in: map[string]any{}, n: 3, start: 0, max: 100, results: 3},
		{in: map[string]any{"MaxItems": int64(2)}, n: 3, start: 0, max: 2, truncated: true, marker: 2, results: 2},
		{in: map[string]any{"MaxItems": int64(2), "Marker": "2"}, n: 3, start: 2, max: 2, results: 1},
		{in: map[string]any{"Marker": "x"}, n: 3, wantErr: true},
		{in: map[string]any{"Marker": "4"}, n: 3, wantErr: true},
	}
	for i, tc := range tests {
		start, max, err := pageBounds(tc.in, tc.n)
		if tc.wantErr {
			if err == nil {
				t.Errorf("%d: no error", i)
			}
			continue
		}
		if err != nil || start != tc.start || max != tc.max {
			t.Errorf("%d: start %d max %d err %v", i, start, max, err)
			continue
		}
		rs := make([]simResult, tc.n)
		for j := range rs {
			rs[j] = simResult{action: "s3:GetObject", resource: "*", decision: "allowed"}
		}
		out, err := simulationOutput(tc.in, rs)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(out["EvaluationResults"].([]any)); got != tc.results || out["IsTruncated"] != tc.truncated {
			t.Errorf("%d: %d results truncated %v", i, got, out["IsTruncated"])
		}
		if tc.truncated && out["Marker"] != "2" {
			t.Errorf("%d: marker %v", i, out["Marker"])
		}
	}
}

func TestCallerPrincipal(t *testing.T) {
	for arn, ok := range map[string]bool{
		"arn:aws:iam::123456789012:user/bob":                         true,
		"arn:aws:iam::123456789012:user/path/bob":                    true,
		"arn:aws:iam::123456789012:role/r":                           false,
		"arn:aws:sts::123456789012:assumed-role/r/s":                 false,
		"arn:aws:iam::123456789012:root":                             false,
		"bob":                                                        false,
		"arn:aws:iam::12345:user/bob":                                false,
		"arn:aws:iam::123456789012:federated-user/bob":               false,
		"arn:aws-cn:iam::123456789012:user/bob":                      true,
		"arn:aws:iam::123456789012:user/bob-with-a-much-longer-name": true,
	} {
		p, err := callerPrincipal(arn)
		if (err == nil) != ok {
			t.Errorf("%s: err %v", arn, err)
		}
		if ok && (p.ARN != arn || p.Account != "123456789012") {
			t.Errorf("%s: principal %+v", arn, p)
		}
	}
}

func TestSimulateSCPs(t *testing.T) {
	full := set(t, policy.SCP, allowAllDoc)
	noS3 := set(t, policy.SCP, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`)
	onlyIAM := set(t, policy.SCP, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`)
	identity := []simPolicy{simPol(t, policy.Identity, "all", "user", allowAllDoc)}
	tests := []struct {
		name      string
		scps      []*policy.Set
		action    string
		decision  string
		orgAllows bool
	}{
		{"deny at a level", []*policy.Set{full, noS3}, "s3:GetObject", "explicitDeny", false},
		{"every level allows", []*policy.Set{full, onlyIAM}, "iam:ListUsers", "allowed", true},
		{"a level without an allow", []*policy.Set{full, onlyIAM}, "ec2:RunInstances", "implicitDeny", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := simulate(&simulation{identity: identity, scps: tc.scps, org: true, actions: []string{tc.action}})
			r := rs[0]
			if r.decision != tc.decision || !r.org || r.orgAllowed != tc.orgAllows {
				t.Fatalf("decision %s org %v allowed by org %v", r.decision, r.org, r.orgAllowed)
			}
			doc := resultDoc(&r, false)
			od, _ := doc["OrganizationsDecisionDetail"].(map[string]any)
			if od == nil || od["AllowedByOrganizations"] != tc.orgAllows {
				t.Fatalf("OrganizationsDecisionDetail %v", doc["OrganizationsDecisionDetail"])
			}
		})
	}
	// An account in no organization gets no OrganizationsDecisionDetail.
	r := simulate(&simulation{identity: identity, actions: []string{"s3:GetObject"}})[0]
	if _, ok := resultDoc(&r, false)["OrganizationsDecisionDetail"]; ok {
		t.Fatal("OrganizationsDecisionDetail outside an organization")
	}
}
