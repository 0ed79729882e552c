package sts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/secrets"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/service/iam"
	"github.com/iamd/iamd/internal/sessiontoken"
)

// Session duration limits, from the STS API reference for each operation.
const (
	minDuration            = 900 * time.Second
	defaultRoleDuration    = time.Hour
	roleChainingMax        = time.Hour
	defaultSessionDuration = 12 * time.Hour // GetSessionToken/GetFederationToken for IAM users
	maxSessionDuration     = 36 * time.Hour
	rootSessionMax         = time.Hour // root: GetSessionToken and GetFederationToken at most 1 hour
	sessionPolicyMax       = 2048      // plain-text session policy characters
	maxPolicyArns          = 10
)

// duration reads DurationSeconds or returns def.
func duration(in map[string]any, def time.Duration) time.Duration {
	if n, ok := awsproto.Int(in, "DurationSeconds"); ok {
		return time.Duration(n) * time.Second
	}
	return def
}

// issue makes temporary credentials for p valid for d from now, sealing the
// session into the token.
func (s *Service) issue(c *service.Call, p principal.Principal, d time.Duration) (map[string]any, error) {
	now := c.Now.UTC().Truncate(time.Second)
	p.Temporary = true
	p.TokenIssueTime = now
	p.Expiration = now.Add(d)
	p.AccessKeyID = s.IDs.AccessKeyIDFor(ids.TemporaryKey, p.Account)
	secret := secrets.NewSecretAccessKey()
	tok, err := sessiontoken.Seal(s.Keys, p.AccessKeyID, &sessiontoken.Claims{Secret: secret, Principal: p})
	if err != nil {
		return nil, err
	}
	return map[string]any{"AccessKeyId": p.AccessKeyID, "SecretAccessKey": secret, "SessionToken": tok, "Expiration": p.Expiration}, nil
}

// sessionPolicies reads Policy and PolicyArns: the inline session policy
// (at most 2,048 characters) and up to 10 managed policies whose documents
// are fetched now. PackedPolicySize is the share of AWS's packed limit used.
func (s *Service) sessionPolicies(ctx context.Context, c *service.Call, in map[string]any) (docs []string, packedPct int64, err error) {
	total := 0
	if doc := awsproto.Str(in, "Policy"); doc != "" {
		if len(doc) > sessionPolicyMax {
			return nil, 0, apierr.New("ValidationError", "1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to %d", sessionPolicyMax)
		}
		if _, err := policy.Parse([]byte(doc), policy.Session); err != nil {
			var pe *policy.Error
			if errors.As(err, &pe) {
				return nil, 0, apierr.New("MalformedPolicyDocument", "%s", pe.Message)
			}
			return nil, 0, err
		}
		docs = append(docs, doc)
		total += policy.Size([]byte(doc))
	}
	arns := awsproto.List(in, "PolicyArns")
	if len(arns) > maxPolicyArns {
		return nil, 0, apierr.New("ValidationError", "The number of PolicyArns exceeds the limit of %d.", maxPolicyArns)
	}
	for _, v := range arns {
		m, _ := v.(map[string]any)
		a := awsproto.Str(m, "arn")
		doc, err := s.IAM.PolicyDocument(ctx, s.Store, c.Account, a)
		if err != nil {
			return nil, 0, apierr.New("InvalidParameterValue", "The specified policy ARN %s is not valid.", a)
		}
		docs = append(docs, doc)
		total += 64 // a managed policy packs as its reference
	}
	// AWS packs session policies and tags into a binary limit it does not
	// publish; iamd reports the share of the 2,048-character policy limit.
	packedPct = int64(total * 100 / sessionPolicyMax)
	if packedPct > 100 {
		return nil, 0, apierr.New("PackedPolicyTooLarge", "Packed policy consumes %d%% of allotted space, please use smaller policy.", packedPct)
	}
	return docs, packedPct, nil
}

// sessionTags reads Tags and TransitiveTagKeys, carrying over the caller's
// transitive tags on role chaining (which the new tags may not override).
func sessionTags(caller *principal.Principal, in map[string]any) (map[string]string, []string, error) {
	tags := map[string]string{}
	var transitive []string
	if caller.Type == principal.AssumedRole {
		for _, k := range caller.TransitiveTagKeys {
			if v, ok := caller.SessionTags[k]; ok {
				tags[k] = v
				transitive = append(transitive, k)
			}
		}
	}
	list := awsproto.List(in, "Tags")
	if len(list) > 50 {
		return nil, nil, apierr.New("ValidationError", "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
	}
	seen := map[string]bool{}
	for _, v := range list {
		m, _ := v.(map[string]any)
		k, val := awsproto.Str(m, "Key"), awsproto.Str(m, "Value")
		lk := strings.ToLower(k)
		if seen[lk] {
			return nil, nil, apierr.New("InvalidParameterValue", "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[lk] = true
		for _, t := range transitive {
			if strings.EqualFold(t, k) {
				return nil, nil, apierr.New("InvalidParameterValue", "One or more of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session.")
			}
		}
		tags[k] = val
	}
	for _, v := range awsproto.List(in, "TransitiveTagKeys") {
		k, _ := v.(string)
		if _, ok := tags[k]; !ok {
			return nil, nil, apierr.New("InvalidParameterValue", "The specified transitive tag key must be included in the requested tags.")
		}
		transitive = append(transitive, k)
	}
	if len(tags) == 0 {
		tags = nil
	}
	return tags, transitive, nil
}

func (s *Service) assumeRole(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	caller := c.Principal
	if caller.IsRoot() {
		// AWS refuses role assumption with root credentials.
		return nil, &apierr.Error{Code: "AccessDenied", Message: "Roles may not be assumed by root accounts.", Status: http.StatusForbidden}
	}
	roleARN := awsproto.Str(in, "RoleArn")
	ra, err := arn.Parse(roleARN)
	if err != nil || ra.Service != "iam" || !strings.HasPrefix(ra.Resource, "role/") {
		return nil, apierr.New("ValidationError", "%s is invalid", roleARN)
	}
	roleName := ra.Resource[strings.LastIndexByte(ra.Resource, '/')+1:]
	role, err := iam.LookupRole(ctx, s.Store, ra.Account, roleName)
	if err != nil {
		// The authorizer has already refused unknown roles; a role deleted
		// in between is refused the same way.
		return nil, &apierr.Error{Code: "AccessDenied", Message: fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.ARN, roleARN), Status: http.StatusForbidden}
	}
	d := duration(in, defaultRoleDuration)
	maxD := time.Duration(role.MaxSessionDuration) * time.Second
	chained := caller.Type == principal.AssumedRole
	if chained && d > roleChainingMax {
		return nil, apierr.New("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if d > maxD {
		return nil, apierr.New("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	policies, packed, err := s.sessionPolicies(ctx, c, in)
	if err != nil {
		return nil, err
	}
	tags, transitive, err := sessionTags(caller, in)
	if err != nil {
		return nil, err
	}
	session := awsproto.Str(in, "RoleSessionName")
	sourceIdentity := awsproto.Str(in, "SourceIdentity")
	if caller.SourceIdentity != "" {
		if sourceIdentity != "" && sourceIdentity != caller.SourceIdentity {
			return nil, apierr.New("ValidationError", "The source identity cannot be changed once it is set.")
		}
		sourceIdentity = caller.SourceIdentity
	}
	p := principal.Principal{
		Type: principal.AssumedRole, Partition: ra.Partition, Account: ra.Account,
		ARN:    arn.STS(ra.Partition, ra.Account, "assumed-role/"+role.Name+"/"+session),
		UserID: role.ID + ":" + session,
		Name:   role.Name, Path: role.Path, RoleARN: role.ARN, SessionName: session,
		SessionTags: tags, TransitiveTagKeys: transitive, SessionPolicies: policies,
		SourceIdentity: sourceIdentity, Issuer: "AssumeRole", MFAAuthTime: c.MFAAuthTime,
	}
	if chained && p.MFAAuthTime.IsZero() {
		p.MFAAuthTime = caller.MFAAuthTime
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
	setPackedSize(out, packed, policies, tags)
	if sourceIdentity != "" {
		out["SourceIdentity"] = sourceIdentity
	}
	return out, nil
}

// setPackedSize reports PackedPolicySize on a role session's response only
// when the request passed session policies or tags, as AWS does.
func setPackedSize(out map[string]any, packed int64, policies []string, tags map[string]string) {
	if len(policies) > 0 || len(tags) > 0 {
		out["PackedPolicySize"] = packed
	}
}

func (s *Service) getSessionToken(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	p := *c.Principal
	if p.Temporary {
		return nil, &apierr.Error{Code: "AccessDenied", Message: "Cannot call GetSessionToken with session credentials", Status: http.StatusForbidden}
	}
	def, maxD := defaultSessionDuration, maxSessionDuration
	if p.IsRoot() {
		def, maxD = rootSessionMax, rootSessionMax
	}
	d := duration(in, def)
	if d > maxD {
		d = maxD // AWS caps a root session at one hour rather than failing
	}
	p.Issuer = "GetSessionToken"
	p.MFAAuthTime = c.MFAAuthTime
	creds, err := s.issue(c, p, d)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Credentials": creds}, nil
}

func (s *Service) getFederationToken(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	caller := c.Principal
	if caller.Temporary {
		return nil, &apierr.Error{Code: "AccessDenied", Message: "Cannot call GetFederationToken with session credentials", Status: http.StatusForbidden}
	}
	if caller.Type != principal.User && !caller.IsRoot() {
		return nil, &apierr.Error{Code: "AccessDenied", Message: "Only IAM users and the root user can call GetFederationToken", Status: http.StatusForbidden}
	}
	def, maxD := defaultSessionDuration, maxSessionDuration
	if caller.IsRoot() {
		def, maxD = rootSessionMax, rootSessionMax
	}
	d := min(duration(in, def), maxD)
	policies, packed, err := s.sessionPolicies(ctx, c, in)
	if err != nil {
		return nil, err
	}
	tags, _, err := sessionTags(&principal.Principal{}, in)
	if err != nil {
		return nil, err
	}
	name := awsproto.Str(in, "Name")
	p := principal.Principal{
		Type: principal.FederatedUser, Partition: caller.Partition, Account: caller.Account,
		ARN:    arn.STS(caller.Partition, caller.Account, "federated-user/"+name),
		UserID: caller.Account + ":" + name, Name: name, SourceUser: caller.Name,
		SessionTags: tags, SessionPolicies: policies, Issuer: "GetFederationToken",
	}
	if caller.IsRoot() {
		p.SourceUser = ""
	}
	creds, err := s.issue(c, p, d)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"Credentials":      creds,
		"FederatedUser":    map[string]any{"FederatedUserId": p.UserID, "Arn": p.ARN},
		"PackedPolicySize": packed,
	}, nil
}

func (s *Service) getAccessKeyInfo(_ context.Context, _ *service.Call, in map[string]any) (map[string]any, error) {
	acct, ok := ids.AccountFromKeyID(awsproto.Str(in, "AccessKeyId"))
	if !ok {
		return nil, apierr.New("InvalidParameterValue", "The specified access key ID is not valid.")
	}
	return map[string]any{"Account": acct}, nil
}

// decodeAuthorizationMessage decodes messages iamd encoded; iamd's own
// AccessDenied answers are not encoded, so anything else is refused as AWS
// refuses a message it did not issue.
func (s *Service) decodeAuthorizationMessage(_ context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	msg := awsproto.Str(in, "EncodedMessage")
	b, err := s.Keys.Open([]byte(msg), []byte("authz-message:"+c.Account))
	if err != nil {
		return nil, apierr.New("InvalidAuthorizationMessageException", "The message is invalid or was not issued for this account.")
	}
	return map[string]any{"DecodedMessage": string(b)}, nil
}
