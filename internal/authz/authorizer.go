package authz

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iamd/iamd/internal/accountctl"
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/config"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/service/iam"
	"github.com/iamd/iamd/internal/service/organizations"
	"github.com/iamd/iamd/internal/store"
)

// Authorizer enforces the chain on every request (httpapi.Authorizer).
// Compiled policy sets and resource lookups are cached per account and
// dropped whenever anything in that account changes, so a warm decision
// runs from memory.
type Authorizer struct {
	Store   store.Store
	IAM     *iam.Service
	Mode    string // config.AuthEnforce | AuthSoft | AuthOff
	Log     *slog.Logger
	Catalog *Catalog
	MFA     MFAVerifier
	// Access records allowed access for the access advisor; nil: none.
	Access *iam.AccessTracker
	// Orgs supplies organization guardrails (SCPs, RCPs); nil: none.
	Orgs *organizations.Service
	// RequireRootMFA is --require-root-mfa (accountctl.Gate).
	RequireRootMFA bool
	// Gate applies the account-level rules (closed account, IAM access to
	// billing, required root MFA) before any policy; NewAuthorizer makes it.
	Gate *accountctl.Gate

	mu       sync.RWMutex
	accounts map[string]*accountCache
	guards   map[string]*orgGuard // by account; nil value: in no organization

	clock    atomic.Pointer[clockText]
	lastAddr atomic.Pointer[addrText]
}

// accountCache holds one account's compiled state.
type accountCache struct {
	mu         sync.Mutex
	principals map[entityKey]*principalPolicies // {"user"|"role", lower-cased name}
	entities   map[entityKey]*iam.EntityInfo    // path and tags
	trusts     map[string]*trust                // role trust policies, by lower-cased role name
	// root is the request-context template of the account's root user.
	root atomic.Pointer[ctxTemplate]
}

// entityKey names a user, role or other entity: kind and lower-cased name.
// A struct rather than a joined string, so a lookup builds no key.
type entityKey struct{ kind, name string }

// principalPolicies is a principal's compiled identity side.
type principalPolicies struct {
	identity *policy.Set
	sources  []iam.SourcedPolicy // aligned with identity's policy indexes
	boundary *policy.Set
	tags     map[string]string
	// tpl is the principal's request-context template, made on first use.
	tpl atomic.Pointer[ctxTemplate]
}

// ctxTemplate is the part of a request context that depends only on the
// principal: its global keys and aws:PrincipalTag/*. It is built once per
// principal and copied into each request's pooled context, and it carries
// the policy.Principal the statements' Principal elements are matched to.
// Both are immutable once built.
type ctxTemplate struct {
	// What the template was built from; a principal that differs in any of
	// these (another session of the same role, say) gets its own.
	typ                                 principal.Type
	arn, roleARN, account, userID, name string
	ctx                                 *policy.Context
	pol                                 *policy.Principal
}

func (t *ctxTemplate) matches(p *principal.Principal) bool {
	return t != nil && t.typ == p.Type && t.arn == p.ARN && t.roleARN == p.RoleARN &&
		t.account == p.Account && t.userID == p.UserID && t.name == p.Name
}

// NewAuthorizer returns an authorizer subscribed to store changes.
func NewAuthorizer(a *Authorizer) *Authorizer {
	if a.Catalog == nil {
		a.Catalog = DefaultCatalog()
	}
	a.accounts = map[string]*accountCache{}
	a.guards = map[string]*orgGuard{}
	if a.Gate == nil {
		a.Gate = accountctl.NewGate(a.Store, a.IAM, a.RequireRootMFA)
	}
	a.Store.Changes(func(account string) {
		a.mu.Lock()
		delete(a.accounts, account)
		a.dropGuards(account)
		a.mu.Unlock()
	})
	return a
}

func (a *Authorizer) account(id string) *accountCache {
	a.mu.RLock()
	ac := a.accounts[id]
	a.mu.RUnlock()
	if ac != nil {
		return ac
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if ac = a.accounts[id]; ac == nil {
		ac = &accountCache{principals: map[entityKey]*principalPolicies{}, entities: map[entityKey]*iam.EntityInfo{}, trusts: map[string]*trust{}}
		a.accounts[id] = ac
	}
	return ac
}

// exempt operations need no permission: AWS answers GetCallerIdentity even
// under an explicit deny, and the web-identity/SAML calls are authorized by
// the role's trust policy alone.
var exempt = map[string]bool{
	"sts:GetCallerIdentity": true,
	// "You do not need any permissions to call GetSessionToken"
	// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_getsessiontoken.html).
	"sts:GetSessionToken":           true,
	"sts:AssumeRoleWithSAML":        true,
	"sts:AssumeRoleWithWebIdentity": true,
}

// Authorize implements httpapi.Authorizer.
func (a *Authorizer) Authorize(ctx context.Context, c *service.Call, op *awsproto.Operation, in map[string]any) error {
	// An MFA code on the call is verified (and consumed) first, whatever
	// the mode and even for calls that need no permission: it decides
	// whether the session being created is MFA-authenticated.
	if err := a.verifyCallMFA(ctx, c, in); err != nil {
		return err
	}
	if a.Mode == config.AuthOff || exempt[c.Service+":"+op.Name] {
		return nil
	}
	p := c.Principal
	if err := sessionRestrictions(c, p); err != nil {
		return err
	}
	var reqBuf [2]authReq
	reqs, err := a.requests(ctx, c, op.Name, in, reqBuf[:0])
	if err != nil {
		return err
	}
	// Account-level rules come before any policy: no policy grants what a
	// closed account, unactivated billing access or missing root MFA
	// refuses.
	if err := a.gate(ctx, c, reqs); err != nil {
		return err
	}
	trust, err := a.trustPolicy(ctx, c, in)
	if err != nil {
		return err
	}
	var pp *principalPolicies
	if !p.IsRoot() {
		if pp, err = a.principalPolicies(ctx, p); err != nil {
			return err
		}
	}
	tpl := a.template(p, pp)
	pctx := a.requestContext(c, in, tpl, pp)
	defer contextPool.Put(pctx) // nothing keeps it past this call
	porg, err := a.guardrails(ctx, p.Account)
	if err != nil {
		return err
	}
	rorg := porg
	if trust != nil && trust.account != p.Account {
		if rorg, err = a.guardrails(ctx, trust.account); err != nil {
			return err
		}
	}
	setOrgContext(pctx, porg, rorg)
	var session *policy.Set
	if len(p.SessionPolicies) > 0 {
		if session, err = compileSession(p.SessionPolicies); err != nil {
			return err
		}
	}
	pol := tpl.pol
	d := decisionPool.Get().(*Decision)
	defer decisionPool.Put(d)
	hadTags := false
	for _, r := range reqs {
		if hadTags || len(r.tags) > 0 {
			setResourceTags(pctx, r.tags)
			hadTags = len(r.tags) > 0
		}
		in := Input{
			Request: policy.Request{Action: r.action, Resource: r.resource, Principal: pol, Context: pctx},
			Root:    p.IsRoot(),
			Session: session,
		}
		if pp != nil {
			in.Identity, in.Boundary = pp.identity, pp.boundary
		}
		if porg != nil && boundBySCPs(p) {
			in.SCPs = porg.scps
		}
		if trust != nil && isTrustAction(r.action) {
			if rorg != nil {
				in.RCPs = rorg.rcps // RCPs bound access to the role, an STS resource
			}
			in.Resource, in.CrossAccount = trust.forCaller(p), trust.account != p.Account
			in.ResourceGrantsPrincipalDirectly = trust.grantsDirectly(&in.Request)
			in.ResourceRequired = true
		}
		Evaluate(&in, d) // caps a root session (sts:AssumeRoot) by its task policy
		if d.Allowed {
			continue
		}
		if ok, err := a.selfPasswordChange(ctx, p, r, d); err != nil {
			return err
		} else if ok {
			continue
		}
		msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", p.ARN, r.action, r.resource, d.Reason(r.action))
		if trust != nil && isTrustAction(r.action) && !d.Denied && d.Stage == StageResource {
			// AWS words a trust-policy refusal without a reason clause.
			msg = fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", p.ARN, r.action, r.resource)
		}
		if a.Mode == config.AuthSoft {
			a.Log.WarnContext(ctx, "would deny (auth soft)", "request_id", c.RequestID, "principal", p.ARN, "action", r.action, "resource", r.resource, "reason", d.Reason(r.action))
			continue
		}
		return accessDenied(c.Service, msg)
	}
	if a.Access != nil {
		for _, r := range reqs {
			a.Access.NoteAccess(p, r.action, c.Region, c.Now) // queued, never blocks
		}
	}
	return nil
}

// selfPasswordChange applies the password policy's "allow users to change
// their own password": with it, IAM users may change their own password and
// read the password policy without a policy granting it; an explicit deny
// still wins
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_enable-user-change.html).
func (a *Authorizer) selfPasswordChange(ctx context.Context, p *principal.Principal, r authReq, d *Decision) (bool, error) {
	if d.Denied || p.Type != principal.User {
		return false, nil
	}
	switch {
	case strings.EqualFold(r.action, "iam:ChangePassword") && r.resource == p.ARN:
	case strings.EqualFold(r.action, "iam:GetAccountPasswordPolicy"):
	default:
		return false, nil
	}
	return iam.SelfPasswordChangeAllowed(ctx, a.Store, p.Account)
}

// setResourceTags puts a resource's tags in the context as both
// aws:ResourceTag/* and IAM's own iam:ResourceTag/*, replacing the previous
// resource's.
func setResourceTags(ctx *policy.Context, tags []iam.Tag) {
	for _, k := range ctx.Keys() {
		if len(k) > 16 && (strings.EqualFold(k[:16], "aws:ResourceTag/") || strings.EqualFold(k[:16], "iam:ResourceTag/")) {
			ctx.Delete(k)
		}
	}
	for _, t := range tags {
		ctx.Set("aws:ResourceTag/"+t.Key, t.Value)
		ctx.Set("iam:ResourceTag/"+t.Key, t.Value)
	}
}

// gate applies accountctl's account-level rules to the call's actions.
func (a *Authorizer) gate(ctx context.Context, c *service.Call, reqs []authReq) error {
	var buf [4]string
	actions := buf[:0]
	for _, r := range reqs {
		actions = append(actions, r.action)
	}
	d, err := a.Gate.Check(ctx, c.Principal, c.Account, actions, c.Now)
	if err != nil || d == nil {
		return err
	}
	if a.Mode == config.AuthSoft {
		a.Log.WarnContext(ctx, "would deny (auth soft)", "request_id", c.RequestID, "principal", c.Principal.ARN, "reason", d.Message)
		return nil
	}
	return accessDenied(c.Service, d.Message)
}

// accessDenied is AWS's refusal, coded as each protocol codes it.
func accessDenied(svc, msg string) error {
	code, status := "AccessDenied", http.StatusForbidden
	switch svc {
	case "organizations":
		// Organizations answers every error with HTTP 400 (API Reference).
		code, status = "AccessDeniedException", http.StatusBadRequest
	case "account", "cloudtrail", "budgets":
		code = "AccessDeniedException"
	}
	return &apierr.Error{Code: code, Message: msg, Status: status}
}

func sessionARN(p *principal.Principal) string {
	if p.Type == principal.AssumedRole {
		return p.ARN
	}
	return ""
}

func compileSession(docs []string) (*policy.Set, error) {
	ps := make([]*policy.Policy, 0, len(docs))
	for _, d := range docs {
		pol, err := policy.Parse([]byte(d), policy.Session)
		if err != nil {
			return nil, fmt.Errorf("authz: stored session policy: %w", err)
		}
		ps = append(ps, pol)
	}
	return policy.NewSet(ps...), nil
}

// principalPolicies loads (or finds cached) the caller's identity side.
func (a *Authorizer) principalPolicies(ctx context.Context, p *principal.Principal) (*principalPolicies, error) {
	var kind, name string
	switch p.Type {
	case principal.User:
		kind, name = "user", p.Name
	case principal.AssumedRole:
		kind, name = "role", p.Name
	case principal.FederatedUser:
		if p.SourceUser == "" { // federated from root: only the session policy limits it
			return &principalPolicies{identity: allowAll}, nil
		}
		kind, name = "user", p.SourceUser
	default:
		return &principalPolicies{identity: policy.NewSet()}, nil
	}
	ac := a.account(p.Account)
	k := entityKey{kind, strings.ToLower(name)}
	ac.mu.Lock()
	pp := ac.principals[k]
	ac.mu.Unlock()
	if pp != nil {
		return pp, nil
	}
	ip, err := a.IAM.LoadIdentityPolicies(ctx, a.Store, p.Account, kind, name)
	if isNoSuchEntity(err) {
		// The user or role is gone: its sessions and keys grant nothing.
		return &principalPolicies{identity: policy.NewSet()}, nil
	}
	if err != nil {
		return nil, err
	}
	pp = &principalPolicies{}
	all := append(append([]iam.SourcedPolicy(nil), ip.Inline...), ip.Managed...)
	ps := make([]*policy.Policy, 0, len(all))
	for _, sp := range all {
		pol, err := policy.Parse([]byte(sp.Document), policy.Identity)
		if err != nil {
			// A stored policy that no longer parses grants nothing; say so.
			a.Log.ErrorContext(ctx, "stored policy does not parse", "policy", sp.Name, "err", err)
			continue
		}
		ps = append(ps, pol)
		pp.sources = append(pp.sources, sp)
	}
	pp.identity = policy.NewSet(ps...)
	if ip.Boundary != nil {
		pol, err := policy.Parse([]byte(ip.Boundary.Document), policy.Identity)
		if err != nil {
			return nil, fmt.Errorf("authz: boundary %s: %w", ip.Boundary.ARN, err)
		}
		pp.boundary = policy.NewSet(pol)
	}
	if pp.tags, err = a.principalTags(ctx, p.Account, kind, name); err != nil {
		return nil, err
	}
	ac.mu.Lock()
	ac.principals[k] = pp
	ac.mu.Unlock()
	return pp, nil
}

// Request contexts and decisions are pooled: one of each per request, and
// a Decision keeps its matched-statement slices for the next.
var (
	contextPool  = sync.Pool{New: func() any { return policy.NewContext(32) }}
	decisionPool = sync.Pool{New: func() any {
		// Enforcement needs the decision, not the list of statements that
		// applied (SimulatePolicy, which reports them, uses its own).
		d := new(Decision)
		for _, r := range []*policy.Result{&d.Identity, &d.Boundary, &d.Session, &d.Resource} {
			r.DecisionOnly = true
		}
		return d
	}}
)

// template returns the principal's request-context template, building it
// on first use (or when another principal last used the slot).
func (a *Authorizer) template(p *principal.Principal, pp *principalPolicies) *ctxTemplate {
	var slot *atomic.Pointer[ctxTemplate]
	switch {
	case pp != nil:
		slot = &pp.tpl
	case p.IsRoot():
		slot = &a.account(p.Account).root
	}
	if slot != nil {
		if t := slot.Load(); t.matches(p) {
			return t
		}
	}
	t := &ctxTemplate{typ: p.Type, arn: p.ARN, roleARN: p.RoleARN, account: p.Account, userID: p.UserID, name: p.Name}
	t.pol = &policy.Principal{Account: p.Account, ARN: p.PrincipalARN(), SessionARN: sessionARN(p)}
	ctx := policy.NewContext(8)
	ctx.SetString("aws:principalarn", p.PrincipalARN())
	ctx.SetString("aws:principalaccount", p.Account)
	ctx.SetString("aws:principaltype", string(p.Type))
	ctx.SetString("aws:userid", p.UserID)
	if p.Type == principal.User {
		ctx.SetString("aws:username", p.Name)
	}
	ctx.SetString("aws:principalisawsservice", "false")
	ctx.SetString("aws:viaawsservice", "false")
	if pp != nil {
		for k, v := range pp.tags {
			ctx.SetString("aws:principaltag/"+k, v)
		}
	}
	t.ctx = ctx
	if slot != nil {
		slot.Store(t)
	}
	return t
}

// clockText is the request time as aws:CurrentTime and aws:EpochTime
// spell it; both change once a second, so the last is kept.
type clockText struct {
	unix           int64
	current, epoch string
}

// addrText is the last source address with its text form.
type addrText struct {
	addr netip.Addr
	text string
}

func (a *Authorizer) clockText(now time.Time) *clockText {
	u := now.Unix()
	if t := a.clock.Load(); t != nil && t.unix == u {
		return t
	}
	t := &clockText{unix: u, current: now.UTC().Format(time.RFC3339), epoch: strconv.FormatInt(u, 10)}
	a.clock.Store(t)
	return t
}

func (a *Authorizer) addrText(ip netip.Addr) string {
	if t := a.lastAddr.Load(); t != nil && t.addr == ip {
		return t.text
	}
	t := &addrText{addr: ip, text: ip.String()}
	a.lastAddr.Store(t)
	return t.text
}

// requestContext builds the global and service condition keys of a call
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)
// on a copy of the principal's template.
func (a *Authorizer) requestContext(c *service.Call, in map[string]any, tpl *ctxTemplate, pp *principalPolicies) *policy.Context {
	p := c.Principal
	// Keys are written lower-case: the Context stores them so, and a
	// lower-case key is stored without allocating. Contexts are pooled.
	ctx := contextPool.Get().(*policy.Context)
	ctx.CopyFrom(tpl.ctx)
	clock := a.clockText(c.Now)
	ctx.SetString("aws:currenttime", clock.current)
	ctx.SetString("aws:epochtime", clock.epoch)
	ctx.SetString("aws:securetransport", strconv.FormatBool(c.Secure))
	ctx.SetString("aws:requestedregion", c.Region)
	if c.SourceIP.IsValid() {
		ctx.SetString("aws:sourceip", a.addrText(c.SourceIP))
	}
	if c.UserAgent != "" {
		ctx.SetString("aws:useragent", c.UserAgent)
	}
	if !c.MFAAuthTime.IsZero() {
		// This call carried a verified MFA code (AssumeRole with
		// SerialNumber and TokenCode): the trust policy sees MFA now.
		ctx.SetString("aws:multifactorauthpresent", "true")
		ctx.SetString("aws:multifactorauthage", "0")
	}
	if p.Temporary {
		ctx.SetString("aws:tokenissuetime", p.TokenIssueTime.UTC().Format(time.RFC3339))
		if mfa := !p.MFAAuthTime.IsZero(); c.MFAAuthTime.IsZero() {
			ctx.SetString("aws:multifactorauthpresent", strconv.FormatBool(mfa))
			if mfa {
				ctx.SetString("aws:multifactorauthage", strconv.FormatInt(int64(c.Now.Sub(p.MFAAuthTime).Seconds()), 10))
			}
		}
		if p.SourceIdentity != "" {
			ctx.SetString("aws:sourceidentity", p.SourceIdentity)
		}
	}
	for k, v := range p.SessionTags {
		ctx.SetString("aws:principaltag/"+k, v) // session tags override the principal's own
	}
	if tags := awsproto.List(in, "Tags"); len(tags) > 0 {
		keys := make([]string, 0, len(tags))
		for _, t := range tags {
			m, _ := t.(map[string]any)
			k := awsproto.Str(m, "Key")
			keys = append(keys, k)
			ctx.SetString("aws:requesttag/"+k, awsproto.Str(m, "Value"))
		}
		ctx.Set("aws:tagkeys", keys...)
	}
	if keys := awsproto.List(in, "TagKeys"); len(keys) > 0 {
		ks := make([]string, 0, len(keys))
		for _, k := range keys {
			s, _ := k.(string)
			ks = append(ks, s)
		}
		ctx.Set("aws:tagkeys", ks...)
	}
	if b := awsproto.Str(in, "PermissionsBoundary"); b != "" {
		ctx.SetString("iam:permissionsboundary", b)
	}
	if c.Service == "iam" {
		if pa := awsproto.Str(in, "PolicyArn"); pa != "" {
			ctx.SetString("iam:policyarn", pa)
		}
		if sn := awsproto.Str(in, "AWSServiceName"); sn != "" {
			ctx.SetString("iam:awsservicename", sn)
		}
	}
	if c.Service == "sts" {
		if v := awsproto.Str(in, "ExternalId"); v != "" {
			ctx.SetString("sts:externalid", v)
		}
		if v := awsproto.Str(in, "RoleSessionName"); v != "" {
			ctx.SetString("sts:rolesessionname", v)
		}
		if v := awsproto.Str(in, "SourceIdentity"); v != "" {
			ctx.SetString("sts:sourceidentity", v)
		}
	}
	return ctx
}

// principalTags reads the tags of a user or role (aws:PrincipalTag/*).
func (a *Authorizer) principalTags(ctx context.Context, account, kind, name string) (map[string]string, error) {
	var tags []iam.Tag
	switch kind {
	case "user":
		u, err := iam.LookupUser(ctx, a.Store, account, name)
		if err != nil {
			return nil, err
		}
		tags = u.Tags
	case "role":
		r, err := iam.LookupRole(ctx, a.Store, account, name)
		if err != nil {
			return nil, err
		}
		tags = r.Tags
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m, nil
}
