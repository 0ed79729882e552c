package authz

import (
	"testing"

	"github.com/iamd/iamd/internal/policy"
)

// set compiles policy documents of one kind.
func set(t testing.TB, kind policy.Kind, docs ...string) *policy.Set {
	t.Helper()
	ps := make([]*policy.Policy, 0, len(docs))
	for _, d := range docs {
		p, err := policy.Parse([]byte(d), kind)
		if err != nil {
			t.Fatalf("parse %s: %v", d, err)
		}
		ps = append(ps, p)
	}
	return policy.NewSet(ps...)
}

const (
	allowAllDoc   = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
	allowGetDoc   = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`
	denyGetDoc    = `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}}`
	allowPutDoc   = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}}`
	resAllowUser  = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"s3:GetObject","Resource":"*"}}`
	resAllowAcct  = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"s3:GetObject","Resource":"*"}}`
	resDenyAll    = `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}}`
	rcpFullAccess = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`
	rcpDenyGet    = `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}}`
)

// TestEvaluateChain follows AWS's evaluation logic pages:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
func TestEvaluateChain(t *testing.T) {
	alice := &policy.Principal{Account: "111111111111", ARN: "arn:aws:iam::111111111111:user/alice"}
	root := &policy.Principal{Account: "111111111111", ARN: "arn:aws:iam::111111111111:root"}
	id := func(docs ...string) *policy.Set { return set(t, policy.Identity, docs...) }
	scp := func(docs ...string) *policy.Set { return set(t, policy.SCP, docs...) }
	rcp := func(docs ...string) *policy.Set { return set(t, policy.RCP, docs...) }
	res := func(docs ...string) *policy.Set { return set(t, policy.Resource, docs...) }
	sess := func(docs ...string) *policy.Set { return set(t, policy.Session, docs...) }

	type want struct {
		allowed, denied bool
		stage           Stage
		reason          string
		orgAllowed      bool
		boundaryAllowed bool
	}
	tests := []struct {
		name string
		in   Input
		want want
	}{
		{"nothing applies: implicit deny by identity policies",
			Input{Identity: id()},
			want{stage: StageIdentity, reason: "because no identity-based policy allows the s3:GetObject action", orgAllowed: true, boundaryAllowed: true}},
		{"nil identity set grants nothing",
			Input{},
			want{stage: StageIdentity, reason: "because no identity-based policy allows the s3:GetObject action", orgAllowed: true, boundaryAllowed: true}},
		{"identity allow",
			Input{Identity: id(allowGetDoc)},
			want{allowed: true, orgAllowed: true, boundaryAllowed: true}},
		{"identity deny beats identity allow",
			Input{Identity: id(allowAllDoc, denyGetDoc)},
			want{denied: true, stage: StageIdentity, reason: "with an explicit deny in an identity-based policy", orgAllowed: true, boundaryAllowed: true}},
		{"SCP deny beats identity allow",
			Input{Identity: id(allowAllDoc), SCPs: []*policy.Set{scp(allowAllDoc), scp(denyGetDoc)}},
			want{denied: true, stage: StageSCP, reason: "with an explicit deny in a service control policy", boundaryAllowed: true}},
		{"SCP level that does not allow refuses",
			Input{Identity: id(allowAllDoc), SCPs: []*policy.Set{scp(allowAllDoc), scp(allowPutDoc)}},
			want{stage: StageSCP, reason: "because no service control policy allows the s3:GetObject action", boundaryAllowed: true}},
		{"every SCP level allows: identity decides",
			Input{Identity: id(allowGetDoc), SCPs: []*policy.Set{scp(allowAllDoc), scp(allowGetDoc)}},
			want{allowed: true, orgAllowed: true, boundaryAllowed: true}},
		{"SCP allow alone grants nothing",
			Input{Identity: id(), SCPs: []*policy.Set{scp(allowAllDoc)}},
			want{stage: StageIdentity, reason: "because no identity-based policy allows the s3:GetObject action", orgAllowed: true, boundaryAllowed: true}},
		{"RCP deny beats identity allow",
			Input{Identity: id(allowAllDoc), RCPs: []*policy.Set{rcp(rcpFullAccess, rcpDenyGet)}},
			want{denied: true, stage: StageRCP, reason: "with an explicit deny in a resource control policy", orgAllowed: true, boundaryAllowed: true}},
		{"RCP level without RCPFullAWSAccess refuses",
			Input{Identity: id(allowAllDoc), RCPs: []*policy.Set{rcp(rcpFullAccess), rcp()}},
			want{stage: StageRCP, reason: "because no resource control policy allows the s3:GetObject action", orgAllowed: true, boundaryAllowed: true}},
		{"SCP deny is reported before an identity deny",
			Input{Identity: id(denyGetDoc), SCPs: []*policy.Set{scp(denyGetDoc)}},
			want{denied: true, stage: StageSCP, reason: "with an explicit deny in a service control policy", boundaryAllowed: true}},
		{"same account: resource policy naming the user allows alone",
			Input{Identity: id(), Resource: res(resAllowUser), ResourceGrantsPrincipalDirectly: true},
			want{allowed: true, orgAllowed: true, boundaryAllowed: true}},
		{"same account: resource grant to the user is not capped by a boundary",
			Input{Identity: id(), Boundary: id(allowPutDoc), Resource: res(resAllowUser), ResourceGrantsPrincipalDirectly: true},
			want{allowed: true, orgAllowed: true, boundaryAllowed: false}},
		// Naming an account as principal delegates to its IAM policies
		// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts).
		{"same account: resource grant to the account needs an identity allow",
			Input{Identity: id(), Boundary: id(allowPutDoc), Resource: res(resAllowAcct)},
			want{stage: StageIdentity, reason: "because no identity-based policy allows the s3:GetObject action", orgAllowed: true}},
		{"same account: resource grant to the account is capped by a boundary",
			Input{Identity: id(allowGetDoc), Boundary: id(allowPutDoc), Resource: res(resAllowAcct)},
			want{stage: StageBoundary, reason: "because no permissions boundary allows the s3:GetObject action", orgAllowed: true}},
		{"same account: a role trust policy is required even with an identity allow",
			Input{Identity: id(allowAllDoc), Resource: res(), ResourceRequired: true},
			want{stage: StageResource, reason: "because no resource-based policy allows the s3:GetObject action", orgAllowed: true, boundaryAllowed: true}},
		{"same account: resource policy deny beats identity allow",
			Input{Identity: id(allowAllDoc), Resource: res(resDenyAll)},
			want{denied: true, stage: StageResource, reason: "with an explicit deny in a resource-based policy", orgAllowed: true, boundaryAllowed: true}},
		{"cross account: identity allow alone is refused by the resource side",
			Input{Identity: id(allowAllDoc), Resource: res(), CrossAccount: true},
			want{stage: StageResource, reason: "because no resource-based policy allows the s3:GetObject action", orgAllowed: true, boundaryAllowed: true}},
		{"cross account: no resource policy at all refuses",
			Input{Identity: id(allowAllDoc), CrossAccount: true},
			want{stage: StageResource, reason: "because no resource-based policy allows the s3:GetObject action", orgAllowed: true, boundaryAllowed: true}},
		{"cross account: resource allow alone is refused by the identity side",
			Input{Identity: id(), Resource: res(resAllowUser), CrossAccount: true, ResourceGrantsPrincipalDirectly: true},
			want{stage: StageIdentity, reason: "because no identity-based policy allows the s3:GetObject action", orgAllowed: true, boundaryAllowed: true}},
		{"cross account: both sides allow",
			Input{Identity: id(allowGetDoc), Resource: res(resAllowAcct), CrossAccount: true},
			want{allowed: true, orgAllowed: true, boundaryAllowed: true}},
		{"cross account: boundary still caps",
			Input{Identity: id(allowGetDoc), Boundary: id(allowPutDoc), Resource: res(resAllowAcct), CrossAccount: true},
			want{stage: StageBoundary, reason: "because no permissions boundary allows the s3:GetObject action", orgAllowed: true}},
		{"boundary caps an administrator",
			Input{Identity: id(allowAllDoc), Boundary: id(allowPutDoc)},
			want{stage: StageBoundary, reason: "because no permissions boundary allows the s3:GetObject action", orgAllowed: true}},
		{"boundary alone grants nothing",
			Input{Identity: id(), Boundary: id(allowAllDoc)},
			want{stage: StageIdentity, reason: "because no identity-based policy allows the s3:GetObject action", orgAllowed: true, boundaryAllowed: true}},
		{"boundary deny is an explicit deny",
			Input{Identity: id(allowAllDoc), Boundary: id(allowAllDoc, denyGetDoc)},
			want{denied: true, stage: StageBoundary, reason: "with an explicit deny in a permissions boundary", orgAllowed: true}},
		{"identity and boundary both allow",
			Input{Identity: id(allowGetDoc), Boundary: id(allowAllDoc)},
			want{allowed: true, orgAllowed: true, boundaryAllowed: true}},
		{"session policy caps the role's permissions",
			Input{Identity: id(allowAllDoc), Session: sess(allowPutDoc)},
			want{stage: StageSession, reason: "because no session policy allows the s3:GetObject action", orgAllowed: true, boundaryAllowed: true}},
		{"session policy deny",
			Input{Identity: id(allowAllDoc), Session: sess(allowAllDoc, denyGetDoc)},
			want{denied: true, stage: StageSession, reason: "with an explicit deny in a session policy", orgAllowed: true, boundaryAllowed: true}},
		{"session policy alone grants nothing",
			Input{Identity: id(), Session: sess(allowAllDoc)},
			want{stage: StageIdentity, reason: "because no identity-based policy allows the s3:GetObject action", orgAllowed: true, boundaryAllowed: true}},
		{"empty session policy set denies everything",
			Input{Identity: id(allowAllDoc), Session: sess()},
			want{stage: StageSession, reason: "because no session policy allows the s3:GetObject action", orgAllowed: true, boundaryAllowed: true}},
		{"root: allowed in its own account without any policy",
			Input{Root: true},
			want{allowed: true, orgAllowed: true, boundaryAllowed: true}},
		{"root: identity deny does not bind root",
			Input{Root: true, Identity: id(denyGetDoc)},
			want{allowed: true, orgAllowed: true, boundaryAllowed: true}},
		{"root: an SCP deny binds root",
			Input{Root: true, SCPs: []*policy.Set{scp(allowAllDoc, denyGetDoc)}},
			want{denied: true, stage: StageSCP, reason: "with an explicit deny in a service control policy", boundaryAllowed: true}},
		{"root: an SCP that does not allow binds root",
			Input{Root: true, SCPs: []*policy.Set{scp(allowPutDoc)}},
			want{stage: StageSCP, reason: "because no service control policy allows the s3:GetObject action", boundaryAllowed: true}},
		{"root: a resource policy deny binds root",
			Input{Root: true, Resource: res(resDenyAll)},
			want{denied: true, stage: StageResource, reason: "with an explicit deny in a resource-based policy", orgAllowed: true, boundaryAllowed: true}},
		{"root: cross account needs the resource policy",
			Input{Root: true, Resource: res(), CrossAccount: true},
			want{stage: StageResource, reason: "because no resource-based policy allows the s3:GetObject action", orgAllowed: true, boundaryAllowed: true}},
		{"root: cross account with a resource allow",
			Input{Root: true, Resource: res(resAllowAcct), CrossAccount: true},
			want{allowed: true, orgAllowed: true, boundaryAllowed: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Request = policy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::bucket/key", Principal: alice}
			if in.Root {
				in.Request.Principal = root
			}
			var d Decision
			Evaluate(&in, &d)
			w := tc.want
			if d.Allowed != w.allowed || d.Denied != w.denied {
				t.Fatalf("allowed=%v denied=%v; want allowed=%v denied=%v (stage %v)", d.Allowed, d.Denied, w.allowed, w.denied, d.Stage)
			}
			if d.OrgAllowed != w.orgAllowed {
				t.Errorf("OrgAllowed = %v; want %v", d.OrgAllowed, w.orgAllowed)
			}
			if !d.Denied && d.BoundaryAllowed != w.boundaryAllowed {
				t.Errorf("BoundaryAllowed = %v; want %v", d.BoundaryAllowed, w.boundaryAllowed)
			}
			if w.allowed {
				return
			}
			if d.Stage != w.stage {
				t.Errorf("stage = %v; want %v", d.Stage, w.stage)
			}
			if got := d.Reason("s3:GetObject"); got != w.reason {
				t.Errorf("Reason = %q; want %q", got, w.reason)
			}
		})
	}
}

// TestEvaluateReuse checks that a reused Decision carries nothing over.
func TestEvaluateReuse(t *testing.T) {
	in := Input{
		Request:  policy.Request{Action: "s3:GetObject", Resource: "*"},
		Identity: set(t, policy.Identity, allowAllDoc, denyGetDoc),
		SCPs:     []*policy.Set{set(t, policy.SCP, allowAllDoc)},
	}
	var d Decision
	Evaluate(&in, &d)
	if !d.Denied || len(d.Identity.Matched) != 2 || len(d.SCP) != 1 {
		t.Fatalf("first decision %+v", d)
	}
	in.Request.Action = "s3:PutObject"
	Evaluate(&in, &d)
	if !d.Allowed || d.Denied || d.Stage != StageNone || len(d.Identity.Matched) != 1 || len(d.SCP) != 1 {
		t.Fatalf("second decision allowed=%v denied=%v stage=%v matched=%v scp=%d", d.Allowed, d.Denied, d.Stage, d.Identity.Matched, len(d.SCP))
	}
}

func TestStagePhrase(t *testing.T) {
	for st, want := range map[Stage]string{
		StageNone: "", StageSCP: "service control policy", StageRCP: "resource control policy",
		StageResource: "resource-based policy", StageIdentity: "identity-based policy",
		StageBoundary: "permissions boundary", StageSession: "session policy",
	} {
		if got := st.Phrase(); got != want {
			t.Errorf("Stage(%d).Phrase() = %q; want %q", st, got, want)
		}
	}
}
