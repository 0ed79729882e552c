package organizations

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// Handshake actions iamd originates.
const (
	actionInvite     = "INVITE"
	actionEnableAll  = "ENABLE_ALL_FEATURES"
	actionApproveAll = "APPROVE_ALL_FEATURES"
)

// Handshake lifetimes (API reference, InviteAccountToOrganization and
// EnableAllFeatures): invitations expire after 15 days, the all-features
// migration after 90.
const (
	inviteTTL      = 15 * 24 * time.Hour
	allFeaturesTTL = 90 * 24 * time.Hour
)

type party struct {
	ID   string `json:"id"`
	Type string `json:"type"` // ACCOUNT | EMAIL | ORGANIZATION
}

// handshake is a stored handshake with what its resources describe, as of
// when it was sent.
type handshake struct {
	ID         string    `json:"id"`
	OrgID      string    `json:"org"`
	Mgmt       string    `json:"mgmt"`
	Action     string    `json:"action"`
	State      string    `json:"state"`
	Target     party     `json:"target"`
	Account    string    `json:"account"` // the account that answers
	Notes      string    `json:"notes,omitempty"`
	Parent     string    `json:"parent,omitempty"`
	Requested  time.Time `json:"requested"`
	Expires    time.Time `json:"expires"`
	Tags       []orgTag  `json:"tags,omitempty"`
	MgmtEmail  string    `json:"mgmtEmail"`
	MgmtName   string    `json:"mgmtName"`
	FeatureSet string    `json:"featureSet"`
}

// state is the handshake's state at t: open handshakes past their
// expiration are EXPIRED.
func (h *handshake) state(t time.Time) string {
	if (h.State == "OPEN" || h.State == "REQUESTED") && t.After(h.Expires) {
		return "EXPIRED"
	}
	return h.State
}

func (h *handshake) out(o *organization, t time.Time) map[string]any {
	res := map[string]any{"Type": "ORGANIZATION", "Value": h.OrgID}
	resources := []any{res}
	switch h.Action {
	case actionInvite:
		res["Resources"] = []any{
			map[string]any{"Type": "MASTER_EMAIL", "Value": h.MgmtEmail},
			map[string]any{"Type": "MASTER_NAME", "Value": h.MgmtName},
			map[string]any{"Type": "ORGANIZATION_FEATURE_SET", "Value": h.FeatureSet},
		}
		resources = append(resources, map[string]any{"Type": h.Target.Type, "Value": h.Target.ID})
		if h.Notes != "" {
			resources = append(resources, map[string]any{"Type": "NOTES", "Value": h.Notes})
		}
	case actionApproveAll:
		resources = append(resources, map[string]any{"Type": "PARENT_HANDSHAKE", "Value": h.Parent})
	}
	parties := []any{map[string]any{"Id": h.OrgID, "Type": "ORGANIZATION"}}
	if h.Target.Type != "ORGANIZATION" {
		parties = append(parties, map[string]any{"Id": h.Target.ID, "Type": h.Target.Type})
	}
	return map[string]any{
		"Id": h.ID, "Arn": fmt.Sprintf("arn:%s:organizations::%s:handshake/%s/%s/%s", o.Partition, h.Mgmt, h.OrgID, strings.ToLower(h.Action), h.ID),
		"Action": h.Action, "State": h.state(t), "Parties": parties, "Resources": resources,
		"RequestedTimestamp": h.Requested, "ExpirationTimestamp": h.Expires,
	}
}

func (s *Service) handshakeHandlers(m map[string]service.Handler) {
	m["InviteAccountToOrganization"] = s.inviteAccount
	m["AcceptHandshake"] = s.acceptHandshake
	m["DeclineHandshake"] = s.declineHandshake
	m["CancelHandshake"] = s.cancelHandshake
	m["DescribeHandshake"] = s.describeHandshake
	m["ListHandshakesForAccount"] = s.listHandshakesForAccount
	m["ListHandshakesForOrganization"] = s.listHandshakesForOrganization
}

func handshakeConstraint(reason, format string, args ...any) *apierr.Error {
	return withReason("HandshakeConstraintViolationException", reason, format, args...)
}

func handshakeNotFound() error {
	return errf("HandshakeNotFoundException", "We can't find a handshake with the HandshakeId that you specified.")
}

// newHandshake stores a handshake from o to target (answered by account)
// and its index entry in the answering account.
func (s *Service) newHandshake(ctx context.Context, tx store.Tx, c *service.Call, o *organization, action string, target party, tags []orgTag, notes, parent string) (*handshake, error) {
	mgmt, err := accounts.Get(ctx, tx, o.Mgmt)
	if err != nil {
		return nil, err
	}
	at := now(c)
	h := &handshake{
		ID: s.randomID("h-", 10, lowerAlnum), OrgID: o.ID, Mgmt: o.Mgmt, Action: action, State: "OPEN", Target: target,
		Notes: notes, Parent: parent, Requested: at, Expires: at.Add(inviteTTL), Tags: tags,
		MgmtEmail: mgmt.Email, MgmtName: mgmt.Name, FeatureSet: o.FeatureSet,
	}
	switch {
	case action != actionInvite:
		h.Expires = at.Add(allFeaturesTTL)
		h.Account = target.ID
		if target.Type == "ORGANIZATION" {
			h.Account = o.Mgmt
		}
	case target.Type == "EMAIL":
		a, err := accounts.ByEmail(ctx, tx, target.ID)
		if err != nil {
			return nil, invalid("INVALID_EMAIL_ADDRESS_TARGET", "You specified an email address that doesn't belong to an AWS account.")
		}
		h.Account = a.ID
	default:
		if _, err := accounts.Get(ctx, tx, target.ID); err != nil {
			return nil, invalid("INVALID_PARTY_TYPE_TARGET", "You specified an account that doesn't exist.")
		}
		h.Account = target.ID
	}
	if err := tx.Insert(ctx, store.Record{Account: o.Mgmt, Kind: kindHandshake, Key: h.ID, ID: h.ID, Ref: h.Account, Data: encode(h), Created: at}); err != nil {
		return nil, fmt.Errorf("organizations: insert handshake: %w", err)
	}
	if err := tx.Insert(ctx, store.Record{Account: h.Account, Kind: kindInbox, Key: h.ID, Ref: o.Mgmt, Created: at}); err != nil {
		return nil, fmt.Errorf("organizations: insert handshake index: %w", err)
	}
	return h, nil
}

func loadHandshake(ctx context.Context, r store.Reader, id string) (*handshake, store.Record, error) {
	rec, err := r.GetByID(ctx, kindHandshake, id)
	if isNotFound(err) {
		return nil, rec, handshakeNotFound()
	}
	if err != nil {
		return nil, rec, fmt.Errorf("organizations: handshake %s: %w", id, err)
	}
	h, err := decode[handshake](rec)
	return h, rec, err
}

func loadOrg(ctx context.Context, r store.Reader, mgmt string) (*organization, error) {
	rec, err := r.Get(ctx, mgmt, kindOrg, orgKey)
	if isNotFound(err) {
		return nil, handshakeNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("organizations: organization of %s: %w", mgmt, err)
	}
	return decode[organization](rec)
}

func (s *Service) inviteAccount(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	t := awsproto.Struct(in, "Target")
	target := party{ID: awsproto.Str(t, "Id"), Type: awsproto.Str(t, "Type")}
	tags, err := tagsIn(in)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		o, err := s.asManager(ctx, tx, c)
		if err != nil {
			return err
		}
		if target.Type == "ORGANIZATION" {
			return invalid("INVALID_PARTY_TYPE_TARGET", "You can't invite an organization: specify an account id or email address.")
		}
		if o.AllFeatures != "" {
			return handshakeConstraint("INVITE_DISABLED_DURING_ENABLE_ALL_FEATURES", "You can't invite an account while the organization is enabling all features.")
		}
		n, err := tx.Count(ctx, o.q(kindMember))
		if err != nil {
			return fmt.Errorf("organizations: count members: %w", err)
		}
		open, err := listAll[handshake](ctx, tx, o.q(kindHandshake))
		if err != nil {
			return err
		}
		pending := 0
		for _, h := range open {
			if h.Action == actionInvite && h.state(c.Now) == "OPEN" {
				pending++
			}
		}
		if n+pending >= s.maxAccounts() {
			return handshakeConstraint("ACCOUNT_NUMBER_LIMIT_EXCEEDED", "You have reached the maximum number of accounts in the organization, including open invitations.")
		}
		h, err := s.newHandshake(ctx, tx, c, o, actionInvite, target, tags, awsproto.Str(in, "Notes"), "")
		if err != nil {
			return err
		}
		if _, err := orgOf(ctx, tx, h.Account); err == nil {
			return handshakeConstraint("ALREADY_IN_AN_ORGANIZATION", "The account is already a member of an organization.")
		} else if !isNotInUse(err) {
			return err
		}
		for _, x := range open {
			if x.Action == actionInvite && x.Account == h.Account && x.state(c.Now) == "OPEN" {
				return errf("DuplicateHandshakeException", "A handshake with the same action and target already exists.")
			}
		}
		out = h.out(o, c.Now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"Handshake": out}, nil
}

// answer loads a handshake for its answering account and checks that it is
// still open.
func answer(ctx context.Context, tx store.Tx, c *service.Call, id string) (*handshake, store.Record, *organization, error) {
	h, rec, err := loadHandshake(ctx, tx, id)
	if err != nil {
		return nil, rec, nil, err
	}
	if h.Account != c.Account {
		if h.Mgmt == c.Account {
			return nil, rec, nil, &apierr.Error{Code: "AccessDeniedException", Message: "Only the account the handshake was sent to can respond to it.", Status: http.StatusBadRequest}
		}
		return nil, rec, nil, handshakeNotFound()
	}
	o, err := loadOrg(ctx, tx, h.Mgmt)
	if err != nil {
		return nil, rec, nil, err
	}
	if err := checkOpen(h, c.Now); err != nil {
		return nil, rec, nil, err
	}
	return h, rec, o, nil
}

func checkOpen(h *handshake, t time.Time) error {
	switch st := h.state(t); st {
	case "OPEN", "REQUESTED":
		return nil
	case "ACCEPTED":
		return errf("HandshakeAlreadyInStateException", "The specified handshake is already in the requested state.")
	default:
		return errf("InvalidHandshakeTransitionException", "You can't perform the operation on the handshake in its current state (%s).", st)
	}
}

func setState(ctx context.Context, tx store.Tx, h *handshake, rec store.Record, state string) error {
	h.State = state
	rec.Data = encode(h)
	if err := tx.Update(ctx, rec); err != nil {
		return fmt.Errorf("organizations: update handshake: %w", err)
	}
	return nil
}

func (s *Service) acceptHandshake(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	return s.moveHandshake(ctx, c, "ACCEPTED", func(tx store.Tx) (*handshake, store.Record, *organization, error) {
		h, rec, o, err := answer(ctx, tx, c, awsproto.Str(in, "HandshakeId"))
		if err != nil {
			return nil, rec, nil, err
		}
		switch h.Action {
		case actionInvite:
			if _, err := orgOf(ctx, tx, c.Account); err == nil {
				return nil, rec, nil, handshakeConstraint("ALREADY_IN_AN_ORGANIZATION", "The account is already a member of an organization.")
			} else if !isNotInUse(err) {
				return nil, rec, nil, err
			}
			n, err := tx.Count(ctx, o.q(kindMember))
			if err != nil {
				return nil, rec, nil, fmt.Errorf("organizations: count members: %w", err)
			}
			if n >= s.maxAccounts() {
				return nil, rec, nil, handshakeConstraint("ACCOUNT_NUMBER_LIMIT_EXCEEDED", "The organization has reached the maximum number of accounts.")
			}
			// The invitation's tags go on the account when it joins
			// (https://docs.aws.amazon.com/organizations/latest/APIReference/API_InviteAccountToOrganization.html).
			if err := s.addMember(ctx, tx, o, &member{ID: c.Account, Parent: o.RootID, Joined: "INVITED", JoinedAt: now(c), Tags: h.Tags}); err != nil {
				return nil, rec, nil, err
			}
		case actionEnableAll:
			children, err := listAll[handshake](ctx, tx, o.q(kindHandshake))
			if err != nil {
				return nil, rec, nil, err
			}
			for _, x := range children {
				if x.Parent == h.ID && x.State != "ACCEPTED" {
					return nil, rec, nil, errf("InvalidHandshakeTransitionException", "Every member account must approve enabling all features before the management account finalizes it.")
				}
			}
			o.FeatureSet, o.AllFeatures = featuresAll, ""
			if err := saveOrg(ctx, tx, o); err != nil {
				return nil, rec, nil, err
			}
		}
		return h, rec, o, nil
	})
}

func (s *Service) declineHandshake(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	return s.moveHandshake(ctx, c, "DECLINED", func(tx store.Tx) (*handshake, store.Record, *organization, error) {
		return answer(ctx, tx, c, awsproto.Str(in, "HandshakeId"))
	})
}

func (s *Service) cancelHandshake(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	return s.moveHandshake(ctx, c, "CANCELED", func(tx store.Tx) (*handshake, store.Record, *organization, error) {
		h, rec, err := loadHandshake(ctx, tx, awsproto.Str(in, "HandshakeId"))
		if err != nil {
			return nil, rec, nil, err
		}
		if h.Mgmt != c.Account {
			return nil, rec, nil, handshakeNotFound()
		}
		o, err := loadOrg(ctx, tx, h.Mgmt)
		if err != nil {
			return nil, rec, nil, err
		}
		if err := checkOpen(h, c.Now); err != nil {
			return nil, rec, nil, err
		}
		if h.Action == actionEnableAll {
			o.AllFeatures = ""
			if err := saveOrg(ctx, tx, o); err != nil {
				return nil, rec, nil, err
			}
		}
		return h, rec, o, nil
	})
}

// moveHandshake runs one answer to a handshake in a transaction: find
// finds it (and does what the answer entails), then its state moves on.
func (s *Service) moveHandshake(ctx context.Context, c *service.Call, state string, find func(tx store.Tx) (*handshake, store.Record, *organization, error)) (map[string]any, error) {
	var out map[string]any
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		h, rec, o, err := find(tx)
		if err != nil {
			return err
		}
		if err := setState(ctx, tx, h, rec, state); err != nil {
			return err
		}
		out = h.out(o, c.Now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"Handshake": out}, nil
}

func (s *Service) describeHandshake(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	h, _, err := loadHandshake(ctx, s.Store, awsproto.Str(in, "HandshakeId"))
	if err != nil {
		return nil, err
	}
	if h.Account != c.Account && h.Mgmt != c.Account {
		return nil, handshakeNotFound()
	}
	o, err := loadOrg(ctx, s.Store, h.Mgmt)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Handshake": h.out(o, c.Now)}, nil
}

// filterHandshakes applies a HandshakeFilter (ActionType or ParentHandshakeId).
func filterHandshakes(hs []*handshake, in map[string]any) []*handshake {
	f := awsproto.Struct(in, "Filter")
	action, parent := awsproto.Str(f, "ActionType"), awsproto.Str(f, "ParentHandshakeId")
	out := hs[:0]
	for _, h := range hs {
		if (action == "" || h.Action == action) && (parent == "" || h.Parent == parent) {
			out = append(out, h)
		}
	}
	return out
}

func (s *Service) handshakePage(ctx context.Context, r store.Reader, hs []*handshake, c *service.Call, in map[string]any) (map[string]any, error) {
	items, next, err := paginate(sortByID(filterHandshakes(hs, in), func(h *handshake) string { return h.ID }), func(h *handshake) string { return h.ID }, in)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	orgs := map[string]*organization{}
	for i, h := range items {
		o := orgs[h.Mgmt]
		if o == nil {
			if o, err = loadOrg(ctx, r, h.Mgmt); err != nil {
				return nil, err
			}
			orgs[h.Mgmt] = o
		}
		out[i] = h.out(o, c.Now)
	}
	return pageOut("Handshakes", out, next), nil
}

func (s *Service) listHandshakesForAccount(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	idx, err := s.Store.List(ctx, store.ListQuery{Account: c.Account, Kind: kindInbox})
	if err != nil {
		return nil, fmt.Errorf("organizations: handshake index: %w", err)
	}
	var hs []*handshake
	for _, rec := range idx {
		h, _, err := loadHandshake(ctx, s.Store, rec.Key)
		if isCode(err, "HandshakeNotFoundException") {
			continue // its organization is gone
		}
		if err != nil {
			return nil, err
		}
		if _, err := loadOrg(ctx, s.Store, h.Mgmt); err != nil {
			continue
		}
		hs = append(hs, h)
	}
	return s.handshakePage(ctx, s.Store, hs, c, in)
}

func (s *Service) listHandshakesForOrganization(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	o, err := s.asReader(ctx, s.Store, c)
	if err != nil {
		return nil, err
	}
	hs, err := listAll[handshake](ctx, s.Store, o.q(kindHandshake))
	if err != nil {
		return nil, err
	}
	return s.handshakePage(ctx, s.Store, hs, c, in)
}
