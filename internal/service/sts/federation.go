package sts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
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

// AssumeRoleWithWebIdentity and AssumeRoleWithSAML: unsigned calls whose
// caller is vouched for by an identity provider's token. The authorizer
// exempts them; the role's trust policy is evaluated here, with the
// provider as the federated principal and the token's claims as context.

// federatedSession is what a verified token asks of the role.
type federatedSession struct {
	action         string   // sts:AssumeRoleWithWebIdentity or sts:AssumeRoleWithSAML
	federated      []string // Principal.Federated values naming the provider
	ctx            *policy.Context
	sessionName    string
	tags           map[string]string
	transitive     []string
	sourceIdentity string
	deadline       time.Time // the session may not outlive it; zero for none
}

// federatedRole parses RoleArn and makes the call act in the role's
// account (session policies and PolicyArns resolve there).
func federatedRole(c *service.Call, in map[string]any) (arn.ARN, error) {
	roleARN := awsproto.Str(in, "RoleArn")
	ra, err := arn.Parse(roleARN)
	if err != nil || ra.Service != "iam" || !strings.HasPrefix(ra.Resource, "role/") {
		return arn.ARN{}, apierr.New("ValidationError", "%s is invalid", roleARN)
	}
	c.Account, c.Partition = ra.Account, ra.Partition
	return ra, nil
}

func notAuthorized(action string) error {
	return &apierr.Error{Code: "AccessDenied", Message: "Not authorized to perform " + action, Status: http.StatusForbidden}
}

// requestContext starts the trust policy's context with the request keys
// an unsigned call has.
func requestContext(c *service.Call) *policy.Context {
	ctx := policy.NewContext(24)
	ctx.Set("aws:CurrentTime", c.Now.UTC().Format(time.RFC3339))
	ctx.Set("aws:EpochTime", strconv.FormatInt(c.Now.Unix(), 10))
	ctx.Set("aws:SecureTransport", strconv.FormatBool(c.Secure))
	if c.SourceIP.IsValid() {
		ctx.Set("aws:SourceIp", c.SourceIP.String())
	}
	if c.UserAgent != "" {
		ctx.Set("aws:UserAgent", c.UserAgent)
	}
	if c.Region != "" {
		ctx.Set("aws:RequestedRegion", c.Region)
	}
	return ctx
}

// addSessionKeys adds the keys describing the requested session.
func (fs *federatedSession) addSessionKeys() {
	fs.ctx.Set("sts:RoleSessionName", fs.sessionName)
	if len(fs.tags) > 0 {
		keys := make([]string, 0, len(fs.tags))
		for k, v := range fs.tags {
			keys = append(keys, k)
			fs.ctx.Set("aws:RequestTag/"+k, v)
		}
		slices.Sort(keys)
		fs.ctx.Set("aws:TagKeys", keys...)
	}
	if len(fs.transitive) > 0 {
		fs.ctx.Set("sts:TransitiveTagKeys", fs.transitive...)
	}
	if fs.sourceIdentity != "" {
		fs.ctx.Set("sts:SourceIdentity", fs.sourceIdentity)
	}
}

// trustAllows evaluates the role's trust policy for the session: the call's
// action, plus sts:TagSession when the token passes tags and
// sts:SetSourceIdentity when it sets a source identity. Each action must be
// allowed for some name of the provider and denied for none.
func trustAllows(role *iam.Role, fs *federatedSession) bool {
	pol, err := policy.Parse([]byte(role.TrustPolicy), policy.Trust)
	if err != nil {
		return false
	}
	set := policy.NewSet(pol)
	actions := []string{fs.action}
	if len(fs.tags) > 0 {
		actions = append(actions, "sts:TagSession")
	}
	if fs.sourceIdentity != "" {
		actions = append(actions, "sts:SetSourceIdentity")
	}
	var res policy.Result
	for _, action := range actions {
		allowed := false
		for _, f := range fs.federated {
			req := policy.Request{Action: action, Resource: role.ARN, Principal: &policy.Principal{Federated: f}, Context: fs.ctx}
			set.Evaluate(&req, &res)
			if res.Denied {
				return false
			}
			allowed = allowed || res.Allowed
		}
		if !allowed {
			return false
		}
	}
	return true
}

// startSession checks the trust policy and duration and issues the role
// session; out holds Credentials, AssumedRoleUser and, with session policies or tags, PackedPolicySize.
func (s *Service) startSession(ctx context.Context, c *service.Call, in map[string]any, ra arn.ARN, fs *federatedSession, issuer string) (map[string]any, error) {
	roleName := ra.Resource[strings.LastIndexByte(ra.Resource, '/')+1:]
	role, err := iam.LookupRole(ctx, s.Store, ra.Account, roleName)
	if err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) && ae.Code == apierr.NoSuchEntity {
			// A missing role is refused like a trust policy that does not
			// allow: the caller learns nothing about the account.
			return nil, notAuthorized(fs.action)
		}
		return nil, err
	}
	fs.addSessionKeys()
	if !trustAllows(role, fs) {
		return nil, notAuthorized(fs.action)
	}
	d := duration(in, defaultRoleDuration)
	if d > time.Duration(role.MaxSessionDuration)*time.Second {
		return nil, apierr.New("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	if !fs.deadline.IsZero() {
		left := fs.deadline.Sub(c.Now).Truncate(time.Second)
		if left <= 0 {
			return nil, apierr.New("ExpiredTokenException", "The session deadline of the token has passed")
		}
		d = min(d, left)
	}
	policies, packed, err := s.sessionPolicies(ctx, c, in)
	if err != nil {
		return nil, err
	}
	p := principal.Principal{
		Type: principal.AssumedRole, Partition: ra.Partition, Account: ra.Account,
		ARN:    arn.STS(ra.Partition, ra.Account, "assumed-role/"+role.Name+"/"+fs.sessionName),
		UserID: role.ID + ":" + fs.sessionName,
		Name:   role.Name, Path: role.Path, RoleARN: role.ARN, SessionName: fs.sessionName,
		SessionTags: fs.tags, TransitiveTagKeys: fs.transitive, SessionPolicies: policies,
		SourceIdentity: fs.sourceIdentity, Issuer: issuer,
	}
	creds, err := s.issue(c, p, d)
	if err != nil {
		return nil, err
	}
	if err := s.IAM.RecordRoleUse(ctx, ra.Account, role.Name, c.Now, c.Region); err != nil {
		return nil, err
	}
	out := map[string]any{
		"Credentials":     creds,
		"AssumedRoleUser": map[string]any{"AssumedRoleId": p.UserID, "Arn": p.ARN},
	}
	setPackedSize(out, packed, policies, fs.tags)
	if fs.sourceIdentity != "" {
		out["SourceIdentity"] = fs.sourceIdentity
	}
	return out, nil
}

// webIdentityHandler returns the AssumeRoleWithWebIdentity handler with its
// own cache of issuers' keys, fetched with s.HTTPClient.
func (s *Service) webIdentityHandler() service.Handler {
	keys := newOIDCKeys(s.HTTPClient)
	return func(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
		return s.assumeRoleWithWebIdentity(ctx, c, in, keys)
	}
}

// errKeyRetrieval is AWS's message when an issuer's keys cannot be had.
const errKeyRetrieval = "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements"

func (s *Service) assumeRoleWithWebIdentity(ctx context.Context, c *service.Call, in map[string]any, keys *oidcKeys) (map[string]any, error) {
	const action = "sts:AssumeRoleWithWebIdentity"
	ra, err := federatedRole(c, in)
	if err != nil {
		return nil, err
	}
	if awsproto.Str(in, "ProviderId") != "" {
		// ProviderId is for OAuth 2.0 access tokens of www.amazon.com and
		// graph.facebook.com, which only those providers can check.
		return nil, apierr.New("InvalidParameterValue", "ProviderId (OAuth 2.0 access tokens) is not supported; pass an OpenID Connect ID token")
	}
	tok, err := parseJWT(awsproto.Str(in, "WebIdentityToken"))
	if err != nil {
		return nil, invalidToken("The ID token provided is not a valid JSON Web Token: %v", err)
	}
	if tok.Issuer == "" {
		return nil, invalidToken("The ID token has no iss claim")
	}
	prov, err := iam.LookupOIDCProvider(ctx, s.Store, ra.Account, tok.Issuer)
	if err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) {
			return nil, invalidToken("No OpenIDConnect provider found in your account for %s", tok.Issuer)
		}
		return nil, err
	}
	if err := verifyJWTWithIssuer(ctx, keys, tok, c.Now); err != nil {
		return nil, err
	}
	if err := checkJWTTimes(tok, c.Now); err != nil {
		return nil, err
	}
	audience, ok := matchAudience(tok, prov.ClientIDs)
	if !ok {
		return nil, invalidToken("Incorrect token audience")
	}
	if tok.Subject == "" {
		return nil, invalidToken("The ID token has no sub claim")
	}
	fs := &federatedSession{
		action:      action,
		federated:   []string{prov.ARN, prov.URL},
		ctx:         requestContext(c),
		sessionName: awsproto.Str(in, "RoleSessionName"),
	}
	if fs.tags, fs.transitive, err = oidcSessionTags(tok.Claims); err != nil {
		return nil, err
	}
	if v, ok := tok.Claims["https://aws.amazon.com/source_identity"].(string); ok {
		if len(v) < 2 || len(v) > 64 {
			return nil, invalidToken("Invalid source identity in the ID token")
		}
		fs.sourceIdentity = v
	}
	oidcContextKeys(fs.ctx, prov.URL, tok)
	fs.ctx.Set("aws:FederatedProvider", prov.ARN)
	out, err := s.startSession(ctx, c, in, ra, fs, "AssumeRoleWithWebIdentity")
	if err != nil {
		return nil, err
	}
	out["SubjectFromWebIdentityToken"] = tok.Subject
	out["Provider"] = prov.ARN
	out["Audience"] = audience
	return out, nil
}

// verifyJWTWithIssuer checks the token's signature with the issuer's
// published keys, refreshing them once when no key matches (rotation).
func verifyJWTWithIssuer(ctx context.Context, keys *oidcKeys, tok *jwt, now time.Time) error {
	if _, ok := jwtAlgs[tok.Header.Alg]; !ok {
		return invalidToken("The ID token is signed with an unsupported algorithm %q", tok.Header.Alg)
	}
	issuer := strings.TrimRight(tok.Issuer, "/")
	for _, refresh := range []bool{false, true} {
		set, err := keys.keys(ctx, issuer, now, refresh)
		if errors.Is(err, errIDPUnreachable) {
			return apierr.New("IDPCommunicationError", "%s", errKeyRetrieval)
		}
		if err != nil {
			return invalidToken("%s", errKeyRetrieval)
		}
		switch err := tok.verify(set); {
		case err == nil:
			return nil
		case errors.Is(err, errJWTNoKey) && !refresh:
			continue
		default:
			return invalidToken("The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.")
		}
	}
	return invalidToken("%s", errKeyRetrieval)
}

// checkJWTTimes applies exp, nbf and iat with the allowed skew.
func checkJWTTimes(tok *jwt, now time.Time) error {
	if tok.Exp.IsZero() {
		return invalidToken("The ID token has no exp claim")
	}
	if !now.Before(tok.Exp.Add(jwtSkew)) {
		return apierr.New("ExpiredTokenException", "Token expired: current date/time %d must be before the expiration date/time %d", now.Unix(), tok.Exp.Unix())
	}
	if !tok.Nbf.IsZero() && now.Add(jwtSkew).Before(tok.Nbf) {
		return invalidToken("The ID token is not valid before %d", tok.Nbf.Unix())
	}
	if !tok.Iat.IsZero() && now.Add(jwtSkew).Before(tok.Iat) {
		return invalidToken("The ID token was issued in the future (iat %d)", tok.Iat.Unix())
	}
	return nil
}

// matchAudience finds the client id the token was issued to: azp when the
// token has one (Google's convention), otherwise one of aud.
func matchAudience(tok *jwt, clients []string) (string, bool) {
	if tok.Azp != "" && slices.Contains(clients, tok.Azp) {
		return tok.Azp, true
	}
	for _, a := range tok.Aud {
		if slices.Contains(clients, a) {
			return a, true
		}
	}
	return "", false
}

// oidcProviderClaims are claims AWS exposes as condition keys for some
// providers beyond aud, oaud, sub and amr, by provider URL pattern ("*"
// stands for one or more characters). From the Service Authorization
// Reference's AssumeRoleWithWebIdentity keys.
var oidcProviderClaims = []struct {
	pattern string
	claims  []string
}{
	{"token.actions.githubusercontent.com", githubClaims},
	{"token.actions.githubusercontent.com/*", githubClaims},
	{"token.actions.*.ghe.com", githubClaims},
	{"github.com/enterprises/*", githubClaims},
	{"gitlab.com", []string{"namespace_id", "pipeline_source", "project_id", "ref_protected", "runner_environment", "user_access_level", "user_email", "user_id", "user_login"}},
	{"agent.buildkite.com", buildkiteClaims},
	{"agent.*.buildkite.dev", buildkiteClaims},
	{"agent.*.buildkite.site", buildkiteClaims},
	{"accounts.google.com", []string{"google/organization_number"}},
	{"oidc.circleci.com/org/*", []string{"oidc.circleci.com/project-id"}},
	{"idcs-*.identity.oraclecloud.com", []string{"rpst_id"}},
}

var (
	githubClaims    = []string{"actor", "actor_id", "enterprise_id", "environment", "job_workflow_ref", "ref", "repository", "repository_id", "repository_owner_id", "workflow"}
	buildkiteClaims = []string{"build_branch", "cluster_id", "cluster_name", "organization_id", "organization_slug", "pipeline_id", "pipeline_slug"}
)

// globMatch matches s against a pattern in which "*" stands for one or
// more characters.
func globMatch(pattern, s string) bool {
	before, after, ok := strings.Cut(pattern, "*")
	if !ok {
		return pattern == s
	}
	if !strings.HasPrefix(s, before) || len(s) <= len(before) {
		return false
	}
	rest := s[len(before):]
	for i := 1; i <= len(rest); i++ {
		if globMatch(after, rest[i:]) {
			return true
		}
	}
	return false
}

// claimStrings renders a claim as condition values: strings as they are,
// numbers and booleans in their JSON form, arrays element by element.
func claimStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case bool:
		return []string{strconv.FormatBool(x)}
	case fmt.Stringer: // json.Number
		return []string{x.String()}
	case []any:
		var out []string
		for _, e := range x {
			switch e.(type) {
			case []any, map[string]any:
				continue
			}
			out = append(out, claimStrings(e)...)
		}
		return out
	}
	return nil
}

// claimPath reads a claim by a "/"-separated path into nested objects
// (google/organization_number is claim google's organization_number).
func claimPath(claims map[string]any, path string) (any, bool) {
	if v, ok := claims[path]; ok {
		return v, true
	}
	head, rest, ok := strings.Cut(path, "/")
	if !ok {
		return nil, false
	}
	m, isObj := claims[head].(map[string]any)
	if !isObj {
		return nil, false
	}
	return claimPath(m, rest)
}

// oidcContextKeys sets the <provider>:<claim> keys of the trust policy
// check (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif).
// With an azp claim, <provider>:aud holds azp and <provider>:oaud holds aud.
func oidcContextKeys(ctx *policy.Context, provider string, tok *jwt) {
	if tok.Azp != "" {
		ctx.Set(provider+":aud", tok.Azp)
		if len(tok.Aud) > 0 {
			ctx.Set(provider+":oaud", tok.Aud...)
		}
	} else if len(tok.Aud) > 0 {
		ctx.Set(provider+":aud", tok.Aud...)
	}
	ctx.Set(provider+":sub", tok.Subject)
	if amr := claimStrings(tok.Claims["amr"]); len(amr) > 0 {
		ctx.Set(provider+":amr", amr...)
	}
	for _, pc := range oidcProviderClaims {
		if !globMatch(pc.pattern, provider) {
			continue
		}
		for _, name := range pc.claims {
			if v, ok := claimPath(tok.Claims, name); ok {
				if vals := claimStrings(v); len(vals) > 0 {
					ctx.Set(provider+":"+name, vals...)
				}
			}
		}
	}
}

// oidcSessionTags reads the https://aws.amazon.com/tags claim:
// principal_tags (each a one-element array or a string) and
// transitive_tag_keys
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_adding-assume-role-idp).
func oidcSessionTags(claims map[string]any) (map[string]string, []string, error) {
	raw, ok := claims["https://aws.amazon.com/tags"]
	if !ok {
		return nil, nil, nil
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, nil, invalidToken("The https://aws.amazon.com/tags claim is not an object")
	}
	tags := map[string]string{}
	if pt, ok := obj["principal_tags"].(map[string]any); ok {
		if len(pt) > 50 {
			return nil, nil, invalidToken("The ID token carries more than 50 session tags")
		}
		for k, v := range pt {
			vals := claimStrings(v)
			if len(vals) != 1 || !validTagKey(k) || !validTagValue(vals[0]) {
				return nil, nil, invalidToken("Invalid session tag %s in the ID token", k)
			}
			for existing := range tags {
				if strings.EqualFold(existing, k) {
					return nil, nil, invalidToken("Duplicate session tag key %s; tag keys are case insensitive", k)
				}
			}
			tags[k] = vals[0]
		}
	}
	var transitive []string
	for _, k := range claimStrings(obj["transitive_tag_keys"]) {
		if _, ok := tags[k]; !ok {
			return nil, nil, invalidToken("Transitive tag key %s is not among the session tags", k)
		}
		transitive = append(transitive, k)
	}
	if len(tags) == 0 {
		tags = nil
	}
	return tags, transitive, nil
}

func (s *Service) assumeRoleWithSAML(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	const action = "sts:AssumeRoleWithSAML"
	ra, err := federatedRole(c, in)
	if err != nil {
		return nil, err
	}
	provARN := awsproto.Str(in, "PrincipalArn")
	prov, err := iam.LookupSAMLProvider(ctx, s.Store, ra.Account, provARN)
	if err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) {
			return nil, invalidToken("Specified provider doesn't exist")
		}
		return nil, err
	}
	if !prov.ValidUntil.IsZero() && !c.Now.Before(prov.ValidUntil) {
		return nil, invalidToken("The metadata of SAML provider %s expired at %s", prov.Name, prov.ValidUntil.Format(time.RFC3339))
	}
	if prov.EncryptionMode == "Required" {
		return nil, invalidToken("SAML provider %s requires encrypted assertions, which iamd does not support", prov.Name)
	}
	resp, err := decodeSAMLResponse(awsproto.Str(in, "SAMLAssertion"))
	if err != nil {
		return nil, err
	}
	certs, err := prov.Certificates()
	if err != nil {
		return nil, fmt.Errorf("sts: certificates of %s: %w", prov.ARN, err)
	}
	as, err := verifySAMLResponse(resp, certs)
	if err != nil {
		return nil, err
	}
	a, err := readAssertion(resp, as)
	if err != nil {
		return nil, err
	}
	if a.Issuer != prov.EntityID {
		return nil, invalidToken("Issuer %s of the SAML assertion is not the provider's entity %s", a.Issuer, prov.EntityID)
	}
	if err := a.checkValidity(c.Now); err != nil {
		return nil, err
	}
	if !slices.Contains(a.rolePairs(), [2]string{ra.String(), prov.ARN}) {
		return nil, notAuthorized(action)
	}
	fs := &federatedSession{action: action, federated: []string{prov.ARN}, ctx: requestContext(c), deadline: a.SessionDeadline}
	if fs.sessionName, fs.tags, fs.transitive, fs.sourceIdentity, err = a.samlSessionFacts(); err != nil {
		return nil, err
	}
	audience := a.Recipient
	if audience == "" {
		audience = "https://signin.aws.amazon.com/saml"
	}
	qualifier := samlNameQualifier(a.Issuer, ra.Account, prov.Name)
	subType := samlSubType(a.NameIDFormat)
	fs.ctx.Set("saml:aud", audience)
	fs.ctx.Set("saml:iss", a.Issuer)
	fs.ctx.Set("saml:sub", a.NameID)
	fs.ctx.Set("saml:sub_type", subType)
	fs.ctx.Set("saml:namequalifier", qualifier)
	fs.ctx.Set("saml:doc", ra.Account+"/"+prov.Name)
	for k, v := range a.samlContextKeys() {
		fs.ctx.Set(k, v...)
	}
	out, err := s.startSession(ctx, c, in, ra, fs, "AssumeRoleWithSAML")
	if err != nil {
		return nil, err
	}
	out["Subject"] = a.NameID
	out["SubjectType"] = subType
	out["Issuer"] = a.Issuer
	out["Audience"] = audience
	out["NameQualifier"] = qualifier
	return out, nil
}
