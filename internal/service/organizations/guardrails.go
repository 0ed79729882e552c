package organizations

import (
	"context"
	"slices"

	"github.com/iamd/iamd/internal/store"
)

// Guardrails is what an account's organization imposes on it, for the
// authorization engine.
type Guardrails struct {
	OrgID             string
	ManagementAccount string
	// OrgPaths are the account's aws:PrincipalOrgPaths values:
	// "o-…/r-…/ou-…/" down to the account's parent.
	OrgPaths []string
	// SCPs holds, per level from the root through the OUs to the account,
	// the documents of the SCPs attached at that level. A request is allowed
	// only if every level allows it. Nil for the management account (SCPs
	// never restrict it) and when SCPs are not enabled.
	SCPs [][]string
	// RCPs is the same for resource control policies; nil for the
	// management account and when RCPs are not enabled.
	RCPs [][]string
}

// Guardrails returns what account's organization imposes on it; nil when
// account belongs to no organization. Changes to an organization are
// reported (store.Changes) under its management account.
//
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
func (s *Service) Guardrails(ctx context.Context, r store.Reader, account string) (*Guardrails, error) {
	o, err := orgOf(ctx, r, account)
	if isNotInUse(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, _, err := getMember(ctx, r, o, account)
	if err != nil {
		return nil, err
	}
	ch, err := chain(ctx, r, o, m.Parent, parentNotFound())
	if err != nil {
		return nil, err
	}
	g := &Guardrails{OrgID: o.ID, ManagementAccount: o.Mgmt, OrgPaths: []string{o.path(ch)}}
	if account == o.Mgmt {
		return g, nil
	}
	rt, err := loadRoot(ctx, r, o)
	if err != nil {
		return nil, err
	}
	for _, typ := range []string{typeSCP, typeRCP} {
		if !slices.Contains(rt.PolicyTypes, typ) {
			continue
		}
		lv, _, err := levelsAt(ctx, r, o, append(slices.Clip(ch), account), typ)
		if err != nil {
			return nil, err
		}
		docs := make([][]string, len(lv))
		for i, l := range lv {
			docs[i] = make([]string, len(l))
			for j, p := range l {
				docs[i][j] = p.Content
			}
		}
		if typ == typeSCP {
			g.SCPs = docs
		} else {
			g.RCPs = docs
		}
	}
	return g, nil
}
