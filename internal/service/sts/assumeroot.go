package sts

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/accountctl"
	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/service"
)

// rootSessionMaxDuration is AssumeRoot's limit and default: 15 minutes.
const rootSessionMaxDuration = 900 * time.Second

// assumeRoot opens a root session in a member account, scoped to one root
// task policy (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoot.html):
// the caller is an IAM user or role session of the organization's
// management account or of IAM's delegated administrator, never a root
// user; RootSessions is enabled; the target is another member account.
// The session's principal is the member account's root, with the task
// policy as its session policy: the authorizer caps root by it.
func (s *Service) assumeRoot(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	caller := c.Principal
	if caller.IsRoot() {
		return nil, &apierr.Error{Code: "AccessDenied", Message: "AssumeRoot cannot be called with root user credentials.", Status: http.StatusForbidden}
	}
	target := awsproto.Str(in, "TargetPrincipal")
	if a, err := arn.Parse(target); err == nil {
		// An account principal ARN (arn:aws:iam::111122223333:root) names
		// the account too.
		if a.Service != "iam" || a.Resource != "root" {
			return nil, apierr.New("ValidationError", "The TargetPrincipal %s is not a valid account id or account principal ARN.", target)
		}
		target = a.Account
	}
	if len(target) != 12 || strings.Trim(target, "0123456789") != "" {
		return nil, apierr.New("ValidationError", "The TargetPrincipal %s is not a valid account id or account principal ARN.", target)
	}
	taskARN := awsproto.Str(awsproto.Struct(in, "TaskPolicyArn"), "arn")
	doc, ok := accountctl.TaskPolicy(taskARN)
	if !ok {
		return nil, apierr.New("ValidationError", "The TaskPolicyArn %s is not a root task policy: use one of arn:aws:iam::aws:policy/root-task/{%s}.", taskARN, strings.Join(accountctl.TaskPolicyNames(), ","))
	}
	d := duration(in, rootSessionMaxDuration)
	if d > rootSessionMaxDuration {
		return nil, apierr.New("ValidationError", "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 900")
	}
	if d <= 0 {
		d = rootSessionMaxDuration
	}
	o, err := accountctl.RootAccessOrg(ctx, s.Store, c.Account, accountctl.ManagementOrDelegated)
	if err != nil {
		return nil, denyRoot(caller, target, err.Error())
	}
	on, err := accountctl.HasFeature(ctx, s.Store, o, accountctl.FeatureRootSessions)
	if err != nil {
		return nil, err
	}
	if !on {
		return nil, denyRoot(caller, target, "centralized root sessions (RootSessions) are not enabled for the organization")
	}
	member, err := o.IsMember(ctx, s.Store, target)
	if err != nil {
		return nil, err
	}
	if !member || target == o.Mgmt {
		// Root sessions are for member accounts only, never the
		// management account itself.
		return nil, denyRoot(caller, target, "the target is not a member account of the organization")
	}
	acct, err := accounts.Get(ctx, s.Store, target)
	if err != nil {
		return nil, err
	}
	p := principal.Principal{
		Type: principal.Root, Partition: acct.Partition, Account: target,
		ARN: arn.IAM(acct.Partition, target, "root"), UserID: target,
		SessionPolicies: []string{doc}, Issuer: "AssumeRoot",
		SourceIdentity: caller.SourceIdentity,
	}
	creds, err := s.issue(c, p, d)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"Credentials": creds}
	if p.SourceIdentity != "" {
		out["SourceIdentity"] = p.SourceIdentity
	}
	return out, nil
}

func denyRoot(caller *principal.Principal, target, why string) error {
	return &apierr.Error{Code: "AccessDenied", Status: http.StatusForbidden,
		Message: "User: " + caller.ARN + " is not authorized to perform: sts:AssumeRoot on resource: arn:aws:iam::" + target + ":root because " + why}
}
