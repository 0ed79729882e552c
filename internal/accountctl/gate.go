package accountctl

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/store"
)

// Facts are the account-level facts the gate decides on.
type Facts struct {
	// Status is the account's status (accounts.Active, accounts.Suspended).
	Status string
	// BillingAccess: IAM user and role access to billing is activated.
	BillingAccess bool
	// RootHasMFA: the root user has an MFA device assigned.
	RootHasMFA bool
	// RequireRootMFA: the server or the account's organization requires
	// the root user to use MFA.
	RequireRootMFA bool
}

// Denial is the gate's refusal; the authorizer words it as each protocol
// words AccessDenied.
type Denial struct{ Message string }

// Messages, kept in one place so tests and docs quote them.
const (
	// MsgBilling is the AWS Billing console's wording when IAM access to
	// billing is not activated
	// (https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/control-access-billing.html).
	MsgBilling = "You don't have permission to access billing information for this account. If you are an AWS administrator, you can provide permissions for your users or groups by making sure that (1) this account allows IAM and federated users to access billing information and (2) you have the required IAM permissions."
	// MsgRootMFA is iamd's refusal for a root user that must enrol MFA first.
	MsgRootMFA = "The root user of account %s must assign an MFA device before calling %s: MFA is required for the root user (%s). Create and enable a virtual MFA device (iam:CreateVirtualMFADevice, iam:EnableMFADevice) first."
	// MsgClosed is the refusal for a closed account.
	MsgClosed = "The AWS account %s is closed (SUSPENDED). During the post-closure period only its root user may sign in, view past bills and reopen the account."
)

// Decide applies the account-level rules to a call by p in account that
// needs actions, before any policy is evaluated. It is pure.
//
//   - A closed account refuses everything but what AWS still allows its
//     root user in the post-closure period (billing views; reopening and
//     sign-in do not pass here).
//   - Until root activates IAM access to billing, billing actions are
//     denied to every principal but root, whatever their policies.
//   - When root MFA is required and root has no device, root may only call
//     what enrolling one needs. Sessions from sts:AssumeRoot are exempt:
//     they are the management account's task sessions, not a root sign-in.
func Decide(f *Facts, p *principal.Principal, account string, actions []string) *Denial {
	root := p.IsRoot()
	if f.Status == accounts.Suspended {
		for _, a := range actions {
			if !root || !postClosureAction(a) {
				return &Denial{Message: fmt.Sprintf(MsgClosed, account)}
			}
		}
	}
	if !f.BillingAccess && !root {
		for _, a := range actions {
			if BillingAction(a) {
				return &Denial{Message: MsgBilling}
			}
		}
	}
	if root && f.RequireRootMFA && !f.RootHasMFA && p.Issuer != "AssumeRoot" {
		for _, a := range actions {
			if !mfaEnrolmentAction(a) {
				return &Denial{Message: fmt.Sprintf(MsgRootMFA, account, a, "organization or server setting")}
			}
		}
	}
	return nil
}

// billingPrefixes are the services whose every action is billing
// information (https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/control-access-billing.html).
var billingPrefixes = []string{"aws-portal:", "billing:", "budgets:", "ce:", "cur:", "payments:", "tax:", "invoicing:", "purchase-orders:", "consolidatedbilling:", "freetier:"}

// billingAccountActions are the Account Management actions on the
// account's billing contact page.
var billingAccountActions = map[string]bool{
	"account:getcontactinformation": true,
	"account:putcontactinformation": true,
}

// BillingAction reports whether action is gated by IAM access to billing.
func BillingAction(action string) bool {
	a := strings.ToLower(action)
	for _, p := range billingPrefixes {
		if strings.HasPrefix(a, p) {
			return true
		}
	}
	return billingAccountActions[a]
}

// postClosureAction: what a closed account's root may still do through the
// API: read its billing history and who it is.
func postClosureAction(action string) bool {
	a := strings.ToLower(action)
	switch {
	case a == "sts:getcalleridentity", a == "account:getaccountinformation":
		return true
	case strings.HasPrefix(a, "aws-portal:view"):
		return true
	}
	for _, p := range []string{"billing:", "ce:", "invoicing:", "payments:", "tax:"} {
		if rest, ok := strings.CutPrefix(a, p); ok {
			return strings.HasPrefix(rest, "get") || strings.HasPrefix(rest, "list") || strings.HasPrefix(rest, "describe")
		}
	}
	return false
}

// mfaEnrolmentAction: what a root user without MFA may call to enrol a
// device under required root MFA.
func mfaEnrolmentAction(action string) bool {
	switch strings.ToLower(action) {
	case "iam:createvirtualmfadevice", "iam:enablemfadevice", "iam:listmfadevices",
		"iam:listvirtualmfadevices", "iam:deletevirtualmfadevice", "iam:resyncmfadevice",
		"iam:getuser", "iam:getaccountsummary", "sts:getcalleridentity":
		return true
	}
	return false
}

// MFAChecker reports whether an account's user ("" for root) has an MFA
// device (iam.Service.HasMFA).
type MFAChecker interface {
	HasMFA(ctx context.Context, account, ownerUserName string) (bool, error)
}

// factsTTL bounds how long cached facts may lag a change no invalidation
// reaches (an account joining an organization is written in the
// management account's partition only).
const factsTTL = 30 * time.Second

// Gate caches Facts per account and applies Decide. Cached facts are
// dropped when the account, its organization's management account or the
// account directory changes.
type Gate struct {
	store          store.Store
	mfa            MFAChecker
	requireRootMFA bool

	mu     sync.Mutex
	states map[string]*cachedFacts
}

type cachedFacts struct {
	facts  Facts
	mgmt   string
	loaded time.Time
}

// NewGate returns a gate over st subscribed to its changes.
// requireRootMFA is the server-wide setting (--require-root-mfa).
func NewGate(st store.Store, mfa MFAChecker, requireRootMFA bool) *Gate {
	g := &Gate{store: st, mfa: mfa, requireRootMFA: requireRootMFA, states: map[string]*cachedFacts{}}
	st.Changes(g.invalidate)
	return g
}

func (g *Gate) invalidate(account string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if account == store.GlobalAccount {
		clear(g.states) // account records (status, billing access) live here
		return
	}
	for id, s := range g.states {
		if id == account || s.mgmt == account {
			delete(g.states, id)
		}
	}
}

// Check applies Decide to a call by p in account needing actions at now.
func (g *Gate) Check(ctx context.Context, p *principal.Principal, account string, actions []string, now time.Time) (*Denial, error) {
	f, err := g.Facts(ctx, account, now)
	if err != nil {
		return nil, err
	}
	return Decide(f, p, account, actions), nil
}

// Facts returns account's facts, cached.
func (g *Gate) Facts(ctx context.Context, account string, now time.Time) (*Facts, error) {
	g.mu.Lock()
	s := g.states[account]
	g.mu.Unlock()
	if s != nil && now.Sub(s.loaded) < factsTTL && now.Sub(s.loaded) >= 0 {
		return &s.facts, nil
	}
	s = &cachedFacts{loaded: now, facts: Facts{Status: accounts.Active, RequireRootMFA: g.requireRootMFA}}
	a, err := accounts.Get(ctx, g.store, account)
	switch {
	case err == nil:
		s.facts.Status, s.facts.BillingAccess = a.Status, a.BillingAccess
	case isCode(err, "AccountNotFound"):
		// Test mode's unknown accounts: nothing to gate.
	default:
		return nil, fmt.Errorf("accountctl: account %s: %w", account, err)
	}
	o, err := OrgOf(ctx, g.store, account)
	if err != nil {
		return nil, err
	}
	if o != nil {
		s.mgmt = o.Mgmt
		s.facts.RequireRootMFA = s.facts.RequireRootMFA || o.RequireRootMFA
	}
	if s.facts.RequireRootMFA && g.mfa != nil {
		if s.facts.RootHasMFA, err = g.mfa.HasMFA(ctx, account, ""); err != nil {
			return nil, fmt.Errorf("accountctl: root MFA of %s: %w", account, err)
		}
	}
	g.mu.Lock()
	g.states[account] = s
	g.mu.Unlock()
	return &s.facts, nil
}

func isCode(err error, code string) bool {
	var ae *apierr.Error
	return errors.As(err, &ae) && ae.Code == code
}
