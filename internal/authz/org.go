package authz

import (
	"context"
	"fmt"
	"strings"

	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/principal"
)

// orgGuard is an account's compiled organization guardrails.
type orgGuard struct {
	orgID, mgmt string
	paths       []string
	scps, rcps  []*policy.Set // one Set per level; nil when none binds
}

// guardrails returns the compiled guardrails of account (nil when it is in
// no organization), cached until the account, its management account, or
// — for accounts in no organization — any account changes.
func (a *Authorizer) guardrails(ctx context.Context, account string) (*orgGuard, error) {
	if a.Orgs == nil {
		return nil, nil
	}
	a.mu.RLock()
	g, ok := a.guards[account]
	a.mu.RUnlock()
	if ok {
		return g, nil
	}
	raw, err := a.Orgs.Guardrails(ctx, a.Store, account)
	if err != nil {
		return nil, err
	}
	if raw != nil {
		g = &orgGuard{orgID: raw.OrgID, mgmt: raw.ManagementAccount, paths: raw.OrgPaths}
		if g.scps, err = compileLevels(raw.SCPs, policy.SCP); err != nil {
			return nil, err
		}
		if g.rcps, err = compileLevels(raw.RCPs, policy.RCP); err != nil {
			return nil, err
		}
	}
	a.mu.Lock()
	a.guards[account] = g
	a.mu.Unlock()
	return g, nil
}

// dropGuards forgets cached guardrails a change in account may affect.
func (a *Authorizer) dropGuards(account string) {
	for acct, g := range a.guards {
		if acct == account || g == nil || g.mgmt == account {
			delete(a.guards, acct)
		}
	}
}

func compileLevels(levels [][]string, kind policy.Kind) ([]*policy.Set, error) {
	if levels == nil {
		return nil, nil
	}
	out := make([]*policy.Set, 0, len(levels))
	for _, docs := range levels {
		ps := make([]*policy.Policy, 0, len(docs))
		for _, d := range docs {
			p, err := policy.Parse([]byte(d), kind)
			if err != nil {
				return nil, fmt.Errorf("authz: stored %v does not parse: %w", kind, err)
			}
			ps = append(ps, p)
		}
		out = append(out, policy.NewSet(ps...))
	}
	return out, nil
}

// boundBySCPs reports whether SCPs bind p: every principal of a member
// account, its root user included, except service-linked roles
// (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html).
func boundBySCPs(p *principal.Principal) bool {
	return !(p.Type == principal.AssumedRole && strings.HasPrefix(p.Path, "/aws-service-role/"))
}

// setOrgContext adds aws:PrincipalOrgID/Paths and, for a resource in an
// organization, aws:ResourceOrgID/Paths.
func setOrgContext(ctx *policy.Context, principalOrg, resourceOrg *orgGuard) {
	if principalOrg != nil {
		ctx.Set("aws:PrincipalOrgID", principalOrg.orgID)
		ctx.Set("aws:PrincipalOrgPaths", principalOrg.paths...)
	}
	if resourceOrg != nil {
		ctx.Set("aws:ResourceOrgID", resourceOrg.orgID)
		ctx.Set("aws:ResourceOrgPaths", resourceOrg.paths...)
	}
}
