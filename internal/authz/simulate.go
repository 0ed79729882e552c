package authz

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/service/iam"
)

// The policy simulator: IAM's SimulateCustomPolicy, SimulatePrincipalPolicy
// and GetContextKeysFor{Custom,Principal}Policy
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html).
// A simulation runs the very chain Authorize enforces (Evaluate over
// compiled policy.Sets), so what the simulator says is what a request gets.

// Register adds the simulation operations to r's IAM service. Group
// policies are read through r's own IAM handlers, so Register must be called
// with the registry the IAM service registered into.
func (a *Authorizer) Register(r service.Registry) {
	s := &simulator{a: a, reg: r}
	r.Add("iam", "SimulateCustomPolicy", s.simulateCustom)
	r.Add("iam", "SimulatePrincipalPolicy", s.simulatePrincipal)
	r.Add("iam", "GetContextKeysForCustomPolicy", s.contextKeysCustom)
	r.Add("iam", "GetContextKeysForPrincipalPolicy", s.contextKeysPrincipal)
}

type simulator struct {
	a   *Authorizer
	reg service.Registry
}

// simPolicy is one policy of a simulation with the names
// MatchedStatements reports it under.
type simPolicy struct {
	pol      *policy.Policy
	id, kind string // SourcePolicyId, SourcePolicyType
}

// SourcePolicyType of policies given as strings; the model's enum has no
// better word for them.
const sourceInput = "none"

// simulation is a decoded simulation request; simulate is pure over it.
type simulation struct {
	identity []simPolicy
	// boundary: nil means no permissions boundary is in play.
	boundary []simPolicy
	resource *simPolicy
	// scps are the organization's SCP levels binding the simulated
	// principal; org is true when its account is in an organization.
	scps []*policy.Set
	org  bool

	actions []string
	// resources are the ResourceArns; empty means the single resource "*".
	resources []string

	// caller is the simulated caller (CallerArn, or the user of
	// PolicySourceArn); nil when neither names one.
	caller *policy.Principal
	// owner is the account of resources whose ARN names none (ResourceOwner,
	// else the caller's account).
	owner string
	ctx   *policy.Context
}

// simMatch is one MatchedStatements entry.
type simMatch struct {
	id, kind   string
	start, end policy.Position
}

// simResult is the outcome of one action on one resource.
type simResult struct {
	action, resource string
	decision         string // allowed | explicitDeny | implicitDeny
	matched          []simMatch
	missing          []string
	org, orgAllowed  bool
	boundary         bool // a boundary was in play
	boundaryAllowed  bool
	crossAccount     bool
	identityDecision string
	resourceDecision string
}

// decisionWord is the EvalDecision of a policy.Result or Decision.
func decisionWord(allowed, denied bool) string {
	switch {
	case denied:
		return "explicitDeny"
	case allowed:
		return "allowed"
	}
	return "implicitDeny"
}

// simulate evaluates every action on every resource, in request order
// (actions outer), as AWS lists them: "Each operation is evaluated for each
// resource."
func simulate(s *simulation) []simResult {
	identity := newSet(s.identity)
	var boundary, resource *policy.Set
	if s.boundary != nil {
		boundary = newSet(s.boundary)
	}
	var tr *trust
	if s.resource != nil {
		resource = policy.NewSet(s.resource.pol)
		tr = &trust{set: resource}
	}
	resources := s.resources
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	out := make([]simResult, 0, len(s.actions)*len(resources))
	var d Decision
	for _, action := range s.actions {
		for _, res := range resources {
			in := Input{
				Request:  policy.Request{Action: action, Resource: res, Principal: s.caller, Context: s.ctx},
				Identity: identity,
				Boundary: boundary,
				SCPs:     s.scps,
			}
			if resource != nil {
				in.Resource = resource
				// Only a resource-based policy makes a simulation
				// cross-account: without one the simulator evaluates the
				// identity side alone, wherever the resource lives.
				in.CrossAccount = s.caller != nil && resourceAccount(res, s.owner) != s.caller.Account
				in.ResourceGrantsPrincipalDirectly = tr.grantsDirectly(&in.Request)
				// As in enforcement: a role's trust policy must allow
				// sts:AssumeRole even within the account.
				in.ResourceRequired = isTrustAction(action)
			}
			Evaluate(&in, &d)
			r := simResult{
				action: action, resource: res,
				decision:         decisionWord(d.Allowed, d.Denied),
				org:              s.org,
				orgAllowed:       d.OrgAllowed,
				boundary:         boundary != nil,
				boundaryAllowed:  d.BoundaryAllowed,
				crossAccount:     in.CrossAccount,
				identityDecision: decisionWord(d.Identity.Allowed, d.Identity.Denied),
				resourceDecision: decisionWord(d.Resource.Allowed, d.Resource.Denied),
			}
			// MatchedStatements are the statements that decide: on an
			// explicit deny the deny statements alone, on an allow the allow
			// statements, on an implicit deny none.
			// https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html
			want := policy.Allow
			if d.Denied {
				want = policy.Deny
			}
			if d.Allowed || d.Denied {
				r.matched = appendMatches(r.matched, d.Identity.Matched, s.identity, want)
				r.matched = appendMatches(r.matched, d.Boundary.Matched, s.boundary, want)
				if s.resource != nil {
					r.matched = appendMatches(r.matched, d.Resource.Matched, []simPolicy{*s.resource}, want)
				}
			}
			for _, m := range [][]string{d.Identity.Missing, d.Boundary.Missing, d.Resource.Missing} {
				r.missing = appendUnique(r.missing, m...)
			}
			out = append(out, r)
		}
	}
	return out
}

func newSet(ps []simPolicy) *policy.Set {
	pols := make([]*policy.Policy, len(ps))
	for i, p := range ps {
		pols[i] = p.pol
	}
	return policy.NewSet(pols...)
}

func appendMatches(dst []simMatch, ms []policy.Match, src []simPolicy, want policy.Effect) []simMatch {
	for _, m := range ms {
		if m.Effect != want || m.Policy >= len(src) {
			continue
		}
		p := src[m.Policy]
		dst = append(dst, simMatch{id: p.id, kind: p.kind, start: m.Start, end: m.End})
	}
	return dst
}

func appendUnique(dst []string, vs ...string) []string {
	for _, v := range vs {
		found := false
		for _, h := range dst {
			if strings.EqualFold(h, v) {
				found = true
				break
			}
		}
		if !found {
			dst = append(dst, v)
		}
	}
	return dst
}

// resourceAccount is the account owning a simulated resource: the one its
// ARN names, else the default owner.
func resourceAccount(res, owner string) string {
	if a, err := arn.Parse(res); err == nil && a.Account != "" {
		return a.Account
	}
	return owner
}

// --- handlers ---

func (s *simulator) simulateCustom(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	sim := &simulation{}
	var err error
	if sim.identity, err = parseInputs(awsproto.Strings(in, "PolicyInputList"), "PolicyInputList", policy.Identity); err != nil {
		return nil, err
	}
	if err := s.common(c, in, sim, nil); err != nil {
		return nil, err
	}
	return simulationOutput(in, simulate(sim))
}

func (s *simulator) simulatePrincipal(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	src, err := s.sourcePolicies(ctx, c, awsproto.Str(in, "PolicySourceArn"))
	if err != nil {
		return nil, err
	}
	extra, err := parseInputs(awsproto.Strings(in, "PolicyInputList"), "PolicyInputList", policy.Identity)
	if err != nil {
		return nil, err
	}
	sim := &simulation{identity: append(src.identity, extra...), boundary: src.boundary, scps: src.scps, org: src.org}
	if err := s.common(c, in, sim, src.user); err != nil {
		return nil, err
	}
	return simulationOutput(in, simulate(sim))
}

// common decodes what both simulations share. user is the principal of
// PolicySourceArn when it names a user: the default caller.
func (s *simulator) common(c *service.Call, in map[string]any, sim *simulation, user *policy.Principal) error {
	sim.actions = awsproto.Strings(in, "ActionNames")
	if len(sim.actions) == 0 {
		return apierr.Invalid("ActionNames must contain at least one action.")
	}
	for _, a := range sim.actions {
		if !strings.Contains(a, ":") {
			return apierr.Invalid("Invalid action name %s: an action must be prefixed by its service, e.g. iam:CreateUser.", a)
		}
	}
	sim.resources = awsproto.Strings(in, "ResourceArns")
	for _, r := range sim.resources {
		if r != "*" {
			if _, err := arn.Parse(r); err != nil {
				return apierr.Invalid("Resource %s must be in ARN format or \"*\".", r)
			}
		}
	}
	if list, ok := in["PermissionsBoundaryPolicyInputList"]; ok && list != nil {
		// A boundary given as a string replaces the entity's own.
		b, err := parseInputs(awsproto.Strings(in, "PermissionsBoundaryPolicyInputList"), "PermissionsBoundaryPolicyInputList", policy.Identity)
		if err != nil {
			return err
		}
		if len(b) > 0 {
			sim.boundary = b
		}
	}
	if doc := awsproto.Str(in, "ResourcePolicy"); doc != "" {
		p, err := parseResourcePolicy(doc)
		if err != nil {
			return err
		}
		sim.resource = &simPolicy{pol: p, id: "ResourcePolicy", kind: "resource"}
	}
	sim.caller = user
	if ca := awsproto.Str(in, "CallerArn"); ca != "" {
		p, err := callerPrincipal(ca)
		if err != nil {
			return err
		}
		sim.caller = p
	}
	if sim.resource != nil && sim.caller == nil {
		return apierr.Invalid("CallerArn is required when a ResourcePolicy is given and PolicySourceArn is not an IAM user.")
	}
	switch ro := awsproto.Str(in, "ResourceOwner"); {
	case ro != "":
		a, err := arn.Parse(ro)
		if err != nil || a.Account == "" {
			return apierr.Invalid("ResourceOwner must be an account ARN such as arn:aws:iam::123456789012:root.")
		}
		sim.owner = a.Account
	case sim.caller != nil:
		sim.owner = sim.caller.Account
	default:
		sim.owner = c.Account
	}
	var err error
	sim.ctx, err = contextEntries(awsproto.List(in, "ContextEntries"))
	return err
}

// parseInputs parses policies given as strings; MatchedStatements names
// them "PolicyInputList.1" and so on.
func parseInputs(docs []string, list string, kind policy.Kind) ([]simPolicy, error) {
	out := make([]simPolicy, 0, len(docs))
	for i, d := range docs {
		p, err := policy.Parse([]byte(d), kind)
		if err != nil {
			return nil, invalidPolicy(err)
		}
		out = append(out, simPolicy{pol: p, id: list + "." + strconv.Itoa(i+1), kind: sourceInput})
	}
	return out, nil
}

// parseResourcePolicy accepts any resource-based policy; a role trust
// policy is one (its resource is the role), so it is tried second.
func parseResourcePolicy(doc string) (*policy.Policy, error) {
	p, err := policy.Parse([]byte(doc), policy.Resource)
	if err == nil {
		return p, nil
	}
	if tp, terr := policy.Parse([]byte(doc), policy.Trust); terr == nil {
		return tp, nil
	}
	return nil, invalidPolicy(err)
}

// invalidPolicy reports a policy that does not parse. The simulation
// operations declare no MalformedPolicyDocument; InvalidInput carries the
// grammar message.
func invalidPolicy(err error) error {
	var pe *policy.Error
	if errors.As(err, &pe) {
		return apierr.Invalid("%s", pe.Message)
	}
	return fmt.Errorf("authz: simulation policy: %w", err)
}

// callerPrincipal checks CallerArn: "You can specify only the ARN of an IAM
// user."
func callerPrincipal(ca string) (*policy.Principal, error) {
	a, err := arn.Parse(ca)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "user/") || len(a.Account) != 12 {
		return nil, apierr.Invalid("Invalid CallerArn %s: only the ARN of an IAM user can be the simulated caller.", ca)
	}
	return &policy.Principal{Account: a.Account, ARN: ca}, nil
}

// contextKeyTypes are ContextKeyTypeEnum's values; each checks one value.
var contextKeyTypes = map[string]func(string) bool{
	"string":  func(string) bool { return true },
	"numeric": func(v string) bool { _, err := strconv.ParseFloat(v, 64); return err == nil },
	"boolean": func(v string) bool { _, err := strconv.ParseBool(v); return err == nil },
	"date":    validDate,
	"ip": func(v string) bool {
		if _, err := netip.ParsePrefix(v); err == nil {
			return true
		}
		_, err := netip.ParseAddr(v)
		return err == nil
	},
	"binary": func(v string) bool { _, err := base64.StdEncoding.DecodeString(v); return err == nil },
}

func validDate(v string) bool {
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		return true // epoch seconds
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if _, err := time.Parse(layout, v); err == nil {
			return true
		}
	}
	return false
}

// contextEntries builds the request context from ContextEntries, checking
// each value against its declared type.
func contextEntries(entries []any) (*policy.Context, error) {
	ctx := policy.NewContext(len(entries))
	for _, e := range entries {
		m, _ := e.(map[string]any)
		name := awsproto.Str(m, "ContextKeyName")
		if name == "" {
			return nil, apierr.Invalid("ContextKeyName is required in every context entry.")
		}
		typ := awsproto.Str(m, "ContextKeyType")
		vals := awsproto.Strings(m, "ContextKeyValues")
		base, list := strings.CutSuffix(typ, "List")
		if typ == "" {
			base, list = "string", true
		}
		check, ok := contextKeyTypes[base]
		if !ok {
			return nil, apierr.Invalid("Invalid ContextKeyType %s for context key %s.", typ, name)
		}
		if !list && len(vals) > 1 {
			return nil, apierr.Invalid("Context key %s of type %s takes a single value; use %sList for several.", name, typ, typ)
		}
		for _, v := range vals {
			if !check(v) {
				return nil, apierr.Invalid("Invalid value %s for context key %s of type %s.", v, name, typ)
			}
		}
		if vals == nil {
			vals = []string{}
		}
		ctx.Set(name, vals...)
	}
	return ctx, nil
}

// simulationOutput pages the results (Marker/MaxItems) and shapes them as
// SimulatePolicyResponse.
func simulationOutput(in map[string]any, results []simResult) (map[string]any, error) {
	start, max, err := pageBounds(in, len(results))
	if err != nil {
		return nil, err
	}
	end := min(start+max, len(results))
	_, explicit := in["ResourceArns"]
	explicit = explicit && len(awsproto.Strings(in, "ResourceArns")) > 0
	list := make([]any, 0, end-start)
	for _, r := range results[start:end] {
		list = append(list, resultDoc(&r, explicit))
	}
	out := map[string]any{"EvaluationResults": list, "IsTruncated": end < len(results)}
	if end < len(results) {
		out["Marker"] = strconv.Itoa(end)
	}
	return out, nil
}

// pageBounds reads Marker (an offset this server issued) and MaxItems
// (default 100, as across IAM).
func pageBounds(in map[string]any, n int) (start, max int, err error) {
	max = 100
	if v, ok := awsproto.Int(in, "MaxItems"); ok {
		max = int(v)
	}
	if m := awsproto.Str(in, "Marker"); m != "" {
		i, err := strconv.Atoi(m)
		if err != nil || i < 0 || i > n {
			return 0, 0, apierr.Invalid("Invalid Marker.")
		}
		start = i
	}
	return start, max, nil
}

func resultDoc(r *simResult, explicit bool) map[string]any {
	doc := map[string]any{
		"EvalActionName":       r.action,
		"EvalResourceName":     r.resource,
		"EvalDecision":         r.decision,
		"MatchedStatements":    matchesDoc(r.matched),
		"MissingContextValues": []string{},
	}
	if r.org {
		// Only for a principal whose account is in an organization.
		doc["OrganizationsDecisionDetail"] = map[string]any{"AllowedByOrganizations": r.orgAllowed}
	}
	if r.boundary {
		doc["PermissionsBoundaryDecisionDetail"] = map[string]any{"AllowedByPermissionsBoundary": r.boundaryAllowed}
	}
	if !explicit {
		// With the implicit resource "*", missing keys are reported here
		// and EvalDecisionDetails is absent.
		doc["MissingContextValues"] = nonNil(r.missing)
		return doc
	}
	details := decisionDetails(r)
	doc["EvalDecisionDetails"] = details
	rs := map[string]any{
		"EvalResourceName":     r.resource,
		"EvalResourceDecision": r.decision,
		"MatchedStatements":    matchesDoc(r.matched),
		"MissingContextValues": nonNil(r.missing),
		"EvalDecisionDetails":  details,
	}
	if r.boundary {
		rs["PermissionsBoundaryDecisionDetail"] = map[string]any{"AllowedByPermissionsBoundary": r.boundaryAllowed}
	}
	doc["ResourceSpecificResults"] = []any{rs}
	return doc
}

// decisionDetails is EvalDecisionDetails: empty within one account, and for
// a cross-account simulation each side's own decision. AWS does not
// document the map's keys; these name the two policy types evaluated.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html
func decisionDetails(r *simResult) map[string]string {
	if !r.crossAccount {
		return map[string]string{}
	}
	return map[string]string{"IAM Policy": r.identityDecision, "Resource Policy": r.resourceDecision}
}

func matchesDoc(ms []simMatch) []any {
	out := make([]any, 0, len(ms))
	for _, m := range ms {
		out = append(out, map[string]any{
			"SourcePolicyId":   m.id,
			"SourcePolicyType": m.kind,
			"StartPosition":    map[string]any{"Line": m.start.Line, "Column": m.start.Column},
			"EndPosition":      map[string]any{"Line": m.end.Line, "Column": m.end.Column},
		})
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// --- principal policies ---

// sourced is what PolicySourceArn contributes to a simulation.
type sourced struct {
	identity, boundary []simPolicy
	user               *policy.Principal // set when the source is a user
	scps               []*policy.Set
	org                bool
}

// sourcePolicies loads the policies of the user, group or role
// PolicySourceArn names: for a user also its groups' policies. Users and
// roles go through the authorizer's cache, so the simulation sees exactly
// the policies enforcement sees.
func (s *simulator) sourcePolicies(ctx context.Context, c *service.Call, src string) (*sourced, error) {
	a, err := arn.Parse(src)
	if err != nil || a.Service != "iam" {
		return nil, apierr.Invalid("Invalid ARN %s: PolicySourceArn must be the ARN of an IAM user, group or role.", src)
	}
	kind, _, _ := strings.Cut(a.Resource, "/")
	name := a.Resource[strings.LastIndexByte(a.Resource, '/')+1:]
	if a.Account != c.Account {
		// Entities of other accounts are not visible to the caller.
		return nil, apierr.NotFound(kind, name)
	}
	out := &sourced{}
	var boundaryARN string
	// Who SCPs bind: users and groups' members always, roles unless
	// service-linked.
	bound := &principal.Principal{Type: principal.User}
	switch kind {
	case "user":
		u, err := iam.LookupUser(ctx, s.a.Store, a.Account, name)
		if err != nil {
			return nil, lookupErr(err, "user", name)
		}
		boundaryARN = u.Boundary
		out.user = &policy.Principal{Account: a.Account, ARN: u.ARN}
		err = s.cachedPolicies(ctx, out, &principal.Principal{Type: principal.User, Account: a.Account, Name: u.Name})
		if err != nil {
			return nil, err
		}
	case "role":
		r, err := iam.LookupRole(ctx, s.a.Store, a.Account, name)
		if err != nil {
			return nil, lookupErr(err, "role", name)
		}
		boundaryARN = r.Boundary
		bound = &principal.Principal{Type: principal.AssumedRole, Path: r.Path}
		err = s.cachedPolicies(ctx, out, &principal.Principal{Type: principal.AssumedRole, Account: a.Account, Name: r.Name})
		if err != nil {
			return nil, err
		}
	case "group":
		if out.identity, err = s.groupPolicies(ctx, c, name); err != nil {
			return nil, err
		}
	default:
		return nil, apierr.Invalid("Invalid ARN %s: PolicySourceArn must be the ARN of an IAM user, group or role.", src)
	}
	g, err := s.a.guardrails(ctx, a.Account)
	if err != nil {
		return nil, err
	}
	if g != nil {
		out.org = true
		if boundBySCPs(bound) {
			out.scps = g.scps
		}
	}
	if boundaryARN != "" {
		doc, err := s.a.IAM.PolicyDocument(ctx, s.a.Store, a.Account, boundaryARN)
		if err != nil {
			return nil, fmt.Errorf("authz: boundary %s: %w", boundaryARN, err)
		}
		p, err := policy.Parse([]byte(doc), policy.Identity)
		if err != nil {
			return nil, policyEvaluation(boundaryARN, err)
		}
		out.boundary = []simPolicy{{pol: p, id: boundaryARN[strings.LastIndexByte(boundaryARN, '/')+1:], kind: managedKind(boundaryARN)}}
	}
	return out, nil
}

func lookupErr(err error, kind, name string) error {
	if isNoSuchEntity(err) {
		return apierr.NotFound(kind, name)
	}
	return err
}

// cachedPolicies takes a user's or role's identity policies from the
// authorizer's cache, with their sources.
func (s *simulator) cachedPolicies(ctx context.Context, out *sourced, p *principal.Principal) error {
	pp, err := s.a.principalPolicies(ctx, p)
	if err != nil {
		return err
	}
	for _, sp := range pp.sources {
		pol, err := policy.Parse([]byte(sp.Document), policy.Identity)
		if err != nil {
			return policyEvaluation(sp.Name, err)
		}
		out.identity = append(out.identity, simPolicy{pol: pol, id: sp.Name, kind: sp.Source})
	}
	return nil
}

// policyEvaluation reports a stored policy that no longer parses.
// Enforcement lets it grant nothing (and logs it); a simulation says so
// rather than quietly leave it out.
func policyEvaluation(name string, err error) error {
	return &apierr.Error{Code: "PolicyEvaluation", Message: fmt.Sprintf("Policy %s could not be evaluated: %v", name, err)}
}

func managedKind(policyARN string) string {
	if a, err := arn.Parse(policyARN); err == nil && a.Account == "aws" {
		return iam.SourceAWSManaged
	}
	return iam.SourceCustomerManaged
}

// groupPolicies reads a group's inline and attached policies through the
// IAM service's own operations (the store layout is the IAM service's).
func (s *simulator) groupPolicies(ctx context.Context, c *service.Call, group string) ([]simPolicy, error) {
	var out []simPolicy
	names, err := s.pages(ctx, c, "ListGroupPolicies", map[string]any{"GroupName": group}, "PolicyNames")
	if err != nil {
		return nil, err
	}
	get := s.handler("GetGroupPolicy")
	for _, n := range names {
		name, _ := n.(string)
		res, err := get(ctx, c, map[string]any{"GroupName": group, "PolicyName": name})
		if err != nil {
			return nil, err
		}
		doc, err := url.QueryUnescape(awsproto.Str(res, "PolicyDocument"))
		if err != nil {
			return nil, fmt.Errorf("authz: group policy %s: %w", name, err)
		}
		pol, err := policy.Parse([]byte(doc), policy.Identity)
		if err != nil {
			return nil, policyEvaluation(name, err)
		}
		out = append(out, simPolicy{pol: pol, id: name, kind: iam.SourceGroup})
	}
	att, err := s.pages(ctx, c, "ListAttachedGroupPolicies", map[string]any{"GroupName": group}, "AttachedPolicies")
	if err != nil {
		return nil, err
	}
	for _, e := range att {
		m, _ := e.(map[string]any)
		pa := awsproto.Str(m, "PolicyArn")
		doc, err := s.a.IAM.PolicyDocument(ctx, s.a.Store, c.Account, pa)
		if err != nil {
			return nil, fmt.Errorf("authz: group %s policy %s: %w", group, pa, err)
		}
		pol, err := policy.Parse([]byte(doc), policy.Identity)
		if err != nil {
			return nil, policyEvaluation(pa, err)
		}
		out = append(out, simPolicy{pol: pol, id: awsproto.Str(m, "PolicyName"), kind: managedKind(pa)})
	}
	return out, nil
}

func (s *simulator) handler(op string) service.Handler {
	if h := s.reg.Lookup("iam", op); h != nil {
		return h
	}
	return func(context.Context, *service.Call, map[string]any) (map[string]any, error) {
		return nil, fmt.Errorf("authz: IAM operation %s is not registered", op)
	}
}

// pages runs a Marker-paged IAM list operation to the end.
func (s *simulator) pages(ctx context.Context, c *service.Call, op string, in map[string]any, member string) ([]any, error) {
	h := s.handler(op)
	var out []any
	for {
		res, err := h(ctx, c, in)
		if err != nil {
			return nil, err
		}
		out = append(out, awsproto.List(res, member)...)
		more, _ := awsproto.Bool(res, "IsTruncated")
		m := awsproto.Str(res, "Marker")
		if !more || m == "" {
			return out, nil
		}
		in["Marker"] = m
	}
}

// --- context keys ---

func (s *simulator) contextKeysCustom(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	var pols []*policy.Policy
	for _, d := range awsproto.Strings(in, "PolicyInputList") {
		p, err := parseAnyKind(d)
		if err != nil {
			return nil, err
		}
		pols = append(pols, p)
	}
	return map[string]any{"ContextKeyNames": nonNil(contextKeys(pols))}, nil
}

func (s *simulator) contextKeysPrincipal(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	src, err := s.sourcePolicies(ctx, c, awsproto.Str(in, "PolicySourceArn"))
	if err != nil {
		return nil, err
	}
	var pols []*policy.Policy
	for _, sp := range src.identity {
		pols = append(pols, sp.pol)
	}
	for _, d := range awsproto.Strings(in, "PolicyInputList") {
		p, err := parseAnyKind(d)
		if err != nil {
			return nil, err
		}
		pols = append(pols, p)
	}
	return map[string]any{"ContextKeyNames": nonNil(contextKeys(pols))}, nil
}

// parseAnyKind parses an identity policy, else a resource-based one.
func parseAnyKind(doc string) (*policy.Policy, error) {
	p, err := policy.Parse([]byte(doc), policy.Identity)
	if err == nil {
		return p, nil
	}
	if rp, rerr := parseResourcePolicy(doc); rerr == nil {
		return rp, nil
	}
	return nil, invalidPolicy(err)
}

// contextKeys lists the condition keys the policies reference, in order of
// first appearance: condition keys and the policy variables of resources
// and condition values (aws:username in "${aws:username}").
func contextKeys(pols []*policy.Policy) []string {
	var out []string
	for _, p := range pols {
		for i := range p.Statements {
			st := &p.Statements[i]
			for _, r := range append(append([]string(nil), st.Resource...), st.NotResource...) {
				out = appendUnique(out, variables(r)...)
			}
			for _, cd := range st.Condition {
				out = appendUnique(out, cd.Key)
				for _, v := range cd.Values {
					out = appendUnique(out, variables(v)...)
				}
			}
		}
	}
	return out
}

// variables returns the keys of the ${key} and ${key, 'default'} policy
// variables in s; the special ${*}, ${?} and ${$} name no key.
func variables(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return out
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return out
		}
		body := s[i+2 : i+j]
		s = s[i+j+1:]
		key, _, _ := strings.Cut(body, ",")
		key = strings.TrimSpace(key)
		if strings.Contains(key, ":") {
			out = append(out, key)
		}
	}
}
