// Package authz decides AWS requests with AWS's evaluation chain
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
// an explicit deny in any policy wins; then every SCP and RCP level must
// allow; a resource-based policy may allow on its own within an account;
// identity-based policies must allow, capped by the permissions boundary and
// the session policies; everything else is an implicit deny. The root user
// is allowed everything in its own account unless an organization policy or
// a resource-based policy denies it.
//
// chain.go is pure: no I/O, no clock, no logging. authorizer.go feeds it.
package authz

import (
	"github.com/iamd/iamd/internal/policy"
)

// Stage names a policy type in the chain, worded as AWS words it in
// AccessDenied messages.
type Stage uint8

const (
	StageNone Stage = iota
	StageSCP
	StageRCP
	StageResource
	StageIdentity
	StageBoundary
	StageSession
)

// Phrase is the policy type as AWS's AccessDenied messages name it.
func (s Stage) Phrase() string {
	switch s {
	case StageSCP:
		return "service control policy"
	case StageRCP:
		return "resource control policy"
	case StageResource:
		return "resource-based policy"
	case StageIdentity:
		return "identity-based policy"
	case StageBoundary:
		return "permissions boundary"
	case StageSession:
		return "session policy"
	}
	return ""
}

// Input is everything one decision needs. Sets may be nil (policy type not
// in play); an empty, non-nil Set means the type is in play but grants
// nothing.
type Input struct {
	Request policy.Request
	// Root: the caller is the root user of the account that owns the resource.
	Root bool
	// SCPs and RCPs: one Set per level (organization root, each OU, the
	// account). Nil when the account is in no organization or is the
	// management account (which no SCP binds).
	SCPs []*policy.Set
	RCPs []*policy.Set
	// Resource is the resource-based policy (a role's trust policy for
	// sts:AssumeRole*). CrossAccount is true when the resource's account is
	// not the caller's: then both identity and resource policy must allow.
	Resource     *policy.Set
	CrossAccount bool
	// ResourceGrantsPrincipalDirectly: the resource policy's allow names the
	// caller's own user or session ARN (not its account or role), so
	// boundaries and session policies do not cap it (AWS's rule for
	// same-account resource-based grants).
	ResourceGrantsPrincipalDirectly bool
	// ResourceRequired: the resource-based policy must allow even within
	// the account — a role's trust policy, which an identity policy cannot
	// replace.
	ResourceRequired bool

	Identity *policy.Set
	Boundary *policy.Set
	Session  *policy.Set
}

// Decision is the outcome with its reason.
type Decision struct {
	Allowed bool
	// Denied is an explicit deny; otherwise a refusal is implicit.
	Denied bool
	// Stage is the policy type that decided a refusal (the one denying, or
	// the one that failed to allow).
	Stage Stage
	// Results per stage, for SimulatePolicy's matched statements.
	Identity, Boundary, Session, Resource policy.Result
	SCP, RCP                              []policy.Result
	// OrgAllowed / BoundaryAllowed are SimulatePolicy's detail fields.
	OrgAllowed, BoundaryAllowed bool
}

// Evaluate runs the chain. d is filled in; reuse it to save allocations.
func Evaluate(in *Input, d *Decision) {
	*d = Decision{
		Identity: resetResult(d.Identity), Boundary: resetResult(d.Boundary),
		Session: resetResult(d.Session), Resource: resetResult(d.Resource),
		SCP: d.SCP[:0], RCP: d.RCP[:0],
	}
	r := &in.Request

	// 1. Evaluate every applicable policy; an explicit deny anywhere wins.
	d.OrgAllowed = true
	for _, s := range in.SCPs {
		var res policy.Result
		s.Evaluate(r, &res)
		d.SCP = append(d.SCP, res)
		if res.Denied {
			d.deny(StageSCP)
		}
		if !res.Allowed {
			d.OrgAllowed = false
		}
	}
	rcpAllowed := true
	for _, s := range in.RCPs {
		var res policy.Result
		s.Evaluate(r, &res)
		d.RCP = append(d.RCP, res)
		if res.Denied {
			d.deny(StageRCP)
		}
		if !res.Allowed {
			rcpAllowed = false
		}
	}
	eval := func(s *policy.Set, res *policy.Result, st Stage) bool {
		if s == nil {
			return false
		}
		s.Evaluate(r, res)
		if res.Denied {
			d.deny(st)
		}
		return res.Allowed
	}
	resAllow := eval(in.Resource, &d.Resource, StageResource)
	idAllow := !in.Root && eval(in.Identity, &d.Identity, StageIdentity)
	bAllow := eval(in.Boundary, &d.Boundary, StageBoundary)
	sAllow := eval(in.Session, &d.Session, StageSession)
	d.BoundaryAllowed = in.Boundary == nil || bAllow
	if d.Denied {
		return
	}

	// 2. Organization guardrails: every level must allow.
	if !d.OrgAllowed {
		d.refuse(StageSCP)
		return
	}
	if !rcpAllowed {
		d.refuse(StageRCP)
		return
	}

	// 3. Root in its own account: no IAM policy limits it. A root session
	// (sts:AssumeRoot) is still capped by its task policy, a session policy.
	if in.Root && !in.CrossAccount {
		if in.Session != nil && !sAllow {
			d.refuse(StageSession)
			return
		}
		d.Allowed = true
		return
	}

	// 4. Cross-account: the resource's policy and the caller's identity
	// side must both allow.
	if in.CrossAccount {
		switch {
		case in.Resource == nil || !resAllow:
			d.refuse(StageResource)
		case in.Root:
			d.Allowed = true
		case !idAllow:
			d.refuse(StageIdentity)
		case in.Boundary != nil && !bAllow:
			d.refuse(StageBoundary)
		case in.Session != nil && !sAllow:
			d.refuse(StageSession)
		default:
			d.Allowed = true
		}
		return
	}

	// 5. Same account: a resource-based policy that names the principal
	// itself allows on its own. One that names only the account delegates
	// to IAM, so identity-based policies must allow, capped by the
	// boundary and session policies.
	if resAllow && in.ResourceGrantsPrincipalDirectly {
		d.Allowed = true
		return
	}
	switch {
	case in.ResourceRequired && !resAllow:
		d.refuse(StageResource)
	case !idAllow:
		d.refuse(StageIdentity)
	case in.Boundary != nil && !bAllow:
		d.refuse(StageBoundary)
	case in.Session != nil && !sAllow:
		d.refuse(StageSession)
	default:
		d.Allowed = true
	}
}

// deny records an explicit deny; the first stage found is reported, in
// AWS's order (organization policies first).
func (d *Decision) deny(st Stage) {
	if !d.Denied {
		d.Denied, d.Stage = true, st
	}
}

func (d *Decision) refuse(st Stage) { d.Stage = st }

func resetResult(r policy.Result) policy.Result {
	r.Reset()
	return r
}

// Reason is the end of AWS's AccessDenied message:
// "with an explicit deny in a service control policy" or
// "because no identity-based policy allows the iam:CreateUser action".
func (d *Decision) Reason(action string) string {
	if d.Denied {
		if d.Stage == StageIdentity {
			return "with an explicit deny in an " + d.Stage.Phrase()
		}
		return "with an explicit deny in a " + d.Stage.Phrase()
	}
	return "because no " + d.Stage.Phrase() + " allows the " + action + " action"
}
