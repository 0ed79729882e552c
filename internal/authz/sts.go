package authz

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/service/iam"
	"github.com/iamd/iamd/internal/store"
)

// allowAll is the identity side of a session that only its session policy
// limits (a federated session of the root user).
var allowAll = func() *policy.Set {
	p, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`), policy.Identity)
	if err != nil {
		panic(err)
	}
	return policy.NewSet(p)
}()

// MFAVerifier checks an MFA code (and consumes it: a code is accepted once).
type MFAVerifier interface {
	VerifyMFACode(ctx context.Context, account, serialNumber, ownerUserName, code string, now time.Time) error
}

// sessionRestrictions applies AWS's limits on what some temporary
// credentials may call
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_request.html):
// GetSessionToken credentials without MFA cannot call IAM, and call STS only
// for AssumeRole and GetCallerIdentity; GetFederationToken credentials
// cannot call IAM, and call STS only for GetCallerIdentity.
func sessionRestrictions(c *service.Call, p *principal.Principal) error {
	if !p.Temporary {
		return nil
	}
	deny := func() error {
		return &apierr.Error{Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid", Status: http.StatusForbidden}
	}
	switch p.Issuer {
	case "GetSessionToken":
		if c.Service == "iam" && p.MFAAuthTime.IsZero() {
			return deny()
		}
		if c.Service == "sts" && c.Operation != "AssumeRole" && c.Operation != "GetCallerIdentity" {
			return &apierr.Error{Code: "AccessDenied", Message: "Cannot call " + c.Operation + " with session credentials", Status: http.StatusForbidden}
		}
	case "GetFederationToken":
		if c.Service == "iam" {
			return deny()
		}
		if c.Service == "sts" && c.Operation != "GetCallerIdentity" {
			return &apierr.Error{Code: "AccessDenied", Message: "Cannot call " + c.Operation + " with session credentials", Status: http.StatusForbidden}
		}
	}
	return nil
}

// verifyCallMFA verifies SerialNumber/TokenCode on STS calls that carry
// them, before the trust policy sees aws:MultiFactorAuthPresent.
func (a *Authorizer) verifyCallMFA(ctx context.Context, c *service.Call, in map[string]any) error {
	if c.Service != "sts" {
		return nil
	}
	serial, code := awsproto.Str(in, "SerialNumber"), awsproto.Str(in, "TokenCode")
	if serial == "" && code == "" {
		return nil
	}
	fail := &apierr.Error{Code: "AccessDenied", Message: "MultiFactorAuthentication failed with invalid MFA one time pass code.", Status: http.StatusForbidden}
	if serial == "" || code == "" || a.MFA == nil {
		return fail
	}
	p := c.Principal
	owner := ""
	switch p.Type {
	case principal.User:
		owner = p.Name
	case principal.Root:
	default:
		return fail
	}
	if err := a.MFA.VerifyMFACode(ctx, p.Account, serial, owner, code, c.Now); err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) {
			return err
		}
		if isNoSuchEntity(err) {
			return fail
		}
		return err
	}
	c.MFAAuthTime = c.Now
	return nil
}

func isNoSuchEntity(err error) bool {
	var ae *apierr.Error
	return errors.Is(err, store.ErrNotFound) || (errors.As(err, &ae) && ae.Code == apierr.NoSuchEntity)
}

// trust is a role's trust policy, the resource-based policy of sts:AssumeRole.
type trust struct {
	set     *policy.Set
	account string
	ids     map[string]string // principal ARN → unique id pinned when the policy was written
}

// emptyTrust grants nothing.
var emptyTrust = policy.NewSet()

// forCaller is the trust policy as it applies to p: a caller whose ARN the
// policy names but whose unique id differs from the one pinned when the
// policy was written is a different entity recreated under the same name,
// which AWS does not trust — for it the policy grants nothing.
func (t *trust) forCaller(p *principal.Principal) *policy.Set {
	want, ok := t.ids[p.PrincipalARN()]
	if !ok {
		return t.set
	}
	id := p.UserID
	if p.Type == principal.AssumedRole {
		id, _, _ = strings.Cut(id, ":") // AROA…:session
	}
	if id != want {
		return emptyTrust
	}
	return t.set
}

func isTrustAction(action string) bool {
	switch strings.ToLower(action) {
	case "sts:assumerole", "sts:tagsession", "sts:setsourceidentity", "sts:setcontext":
		return true
	}
	return false
}

// trustPolicy loads the trust policy of the role an AssumeRole call names.
// A role that does not exist gets an empty policy: AWS answers
// AccessDenied, not NoSuchEntity, so callers learn nothing.
func (a *Authorizer) trustPolicy(ctx context.Context, c *service.Call, in map[string]any) (*trust, error) {
	if c.Service != "sts" || c.Operation != "AssumeRole" {
		return nil, nil
	}
	ra, err := arn.Parse(awsproto.Str(in, "RoleArn"))
	if err != nil {
		return nil, nil
	}
	name := ra.Resource[strings.LastIndexByte(ra.Resource, '/')+1:]
	// Compiled trust policies are cached with the role's account, dropped
	// whenever anything in that account changes.
	ac := a.account(ra.Account)
	k := strings.ToLower(name)
	ac.mu.Lock()
	t := ac.trusts[k]
	ac.mu.Unlock()
	if t != nil {
		return t, nil
	}
	t = &trust{set: emptyTrust, account: ra.Account}
	role, err := iam.LookupRole(ctx, a.Store, ra.Account, name)
	switch {
	case isNoSuchEntity(err):
	case err != nil:
		return nil, err
	default:
		if pol, err := policy.Parse([]byte(role.TrustPolicy), policy.Trust); err == nil {
			t = &trust{set: policy.NewSet(pol), account: ra.Account, ids: role.TrustIDs}
		}
	}
	ac.mu.Lock()
	ac.trusts[k] = t
	ac.mu.Unlock()
	return t, nil
}

// grantsDirectly reports whether the trust policy allows the caller by its
// own ARN rather than through its account: evaluated again as the account
// alone, an account-wide grant still allows.
func (t *trust) grantsDirectly(r *policy.Request) bool {
	if r.Principal == nil {
		return false
	}
	acctOnly := &policy.Principal{Account: r.Principal.Account, ARN: "arn:" + partitionOf(r.Principal.ARN) + ":iam::" + r.Principal.Account + ":root"}
	q := *r
	q.Principal = acctOnly
	var res policy.Result
	t.set.Evaluate(&q, &res)
	return !res.Allowed
}

func partitionOf(a string) string {
	if p, err := arn.Parse(a); err == nil {
		return p.Partition
	}
	return "aws"
}
