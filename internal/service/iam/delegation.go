package iam

// Temporary delegation requests: a partner asks a customer account for
// temporary access (CreateDelegationRequest), the customer claims
// (AssociateDelegationRequest), reviews (UpdateDelegationRequest), approves
// (AcceptDelegationRequest) or rejects it, and releases the exchange token
// (SendDelegationToken) that the partner trades for credentials with STS
// GetDelegatedAccessToken.
//
// https://docs.aws.amazon.com/IAM/latest/UserGuide/temporary-delegation-building-integration.html
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DelegationRequest.html
//
// Requests span two accounts (the partner's and the customer's), so they are
// stored under store.GlobalAccount: key = ID = request id, Parent = the
// owner account once associated (ListDelegationRequests), Ref = the
// partner's account.

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/secrets"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

const kindDelegation = "delegation"

// Delegation request states (the model's stateType enum).
const (
	DelegationUnassigned      = "UNASSIGNED"
	DelegationAssigned        = "ASSIGNED"
	DelegationPendingApproval = "PENDING_APPROVAL"
	DelegationAccepted        = "ACCEPTED"
	DelegationFinalized       = "FINALIZED"
	DelegationRejected        = "REJECTED"
	DelegationExpired         = "EXPIRED"
)

// rejectedRetention is how long a rejected request lives before it
// expires (RejectDelegationRequest: "Rejected requests expire after 7 days").
const rejectedRetention = 7 * 24 * time.Hour

// DelegationRequest is a stored delegation request.
type DelegationRequest struct {
	ID                  string              `json:"id"`
	Description         string              `json:"desc"`
	RequestMessage      string              `json:"msg,omitempty"`
	RequestorID         string              `json:"requestor"` // the partner's account
	RequestorName       string              `json:"requestorName,omitempty"`
	RequestorWorkflowID string              `json:"workflow"`
	NotificationChannel string              `json:"channel"`
	RedirectURL         string              `json:"redirect,omitempty"`
	SessionDuration     int64               `json:"duration"` // seconds
	OnlySendByOwner     bool                `json:"onlyOwner,omitempty"`
	TemplateARN         string              `json:"template,omitempty"`
	Parameters          []delegationParam   `json:"params,omitempty"`
	PermissionPolicy    string              `json:"policy,omitempty"`
	OwnerAccountID      string              `json:"ownerAccount,omitempty"`
	OwnerID             string              `json:"owner,omitempty"`    // ARN of the associating identity
	ApproverID          string              `json:"approver,omitempty"` // ARN of the accepting identity
	Approver            *delegatedPrincipal `json:"approverPrincipal,omitempty"`
	Notes               string              `json:"notes,omitempty"`
	RejectionReason     string              `json:"rejection,omitempty"`
	State               string              `json:"state"`
	Created             time.Time           `json:"created"`
	Updated             time.Time           `json:"updated"`
	Expires             time.Time           `json:"expires,omitzero"`
	// TokenHash is the SHA-256 of the exchange token's secret; the sealed
	// token itself waits in Token for the notification channel.
	TokenHash string `json:"tokenHash,omitempty"`
	Token     []byte `json:"token,omitempty"`
}

type delegationParam struct {
	Name   string   `json:"name"`
	Type   string   `json:"type,omitempty"`
	Values []string `json:"values,omitempty"`
}

// delegatedPrincipal is the identity recorded at acceptance, which the
// delegated credentials act as: an IAM user, a role (for a role session:
// its role), or the root user.
type delegatedPrincipal struct {
	Type   principal.Type `json:"type"`
	ARN    string         `json:"arn"`
	UserID string         `json:"userId"`
	Name   string         `json:"name,omitempty"`
	Path   string         `json:"path,omitempty"`
}

func (s *Service) delegationHandlers(m map[string]service.Handler) {
	m["CreateDelegationRequest"] = s.createDelegationRequest
	m["GetDelegationRequest"] = s.getDelegationRequest
	m["ListDelegationRequests"] = s.listDelegationRequests
	m["AssociateDelegationRequest"] = s.associateDelegationRequest
	m["UpdateDelegationRequest"] = s.updateDelegationRequest
	m["AcceptDelegationRequest"] = s.acceptDelegationRequest
	m["RejectDelegationRequest"] = s.rejectDelegationRequest
	m["SendDelegationToken"] = s.sendDelegationToken
	m["GetHumanReadableSummary"] = s.getHumanReadableSummary
}

func noSuchDelegation(id string) error {
	return apierr.New(apierr.NoSuchEntity, "The delegation request with id %s cannot be found.", id)
}

func (s *Service) createDelegationRequest(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	perm := awsproto.Struct(in, "Permissions")
	tmpl := awsproto.Str(perm, "PolicyTemplateArn")
	if tmpl == "" {
		return nil, apierr.Invalid("Permissions must name a PolicyTemplateArn.")
	}
	// A template is a managed policy the partner registered: one of its
	// own account or an AWS managed policy.
	a, err := arn.Parse(tmpl)
	if err != nil || (a.Account != c.Account && a.Account != "aws") {
		return nil, apierr.Invalid("Policy template %s is not valid for this requestor.", tmpl)
	}
	doc, err := s.PolicyDocument(ctx, s.Store, c.Account, tmpl)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.Invalid("Policy template %s does not exist.", tmpl)
	}
	if err != nil {
		return nil, err
	}
	var params []delegationParam
	for _, v := range awsproto.List(perm, "Parameters") {
		m, _ := v.(map[string]any)
		params = append(params, delegationParam{Name: awsproto.Str(m, "Name"), Type: awsproto.Str(m, "Type"), Values: awsproto.Strings(m, "Values")})
	}
	acct, err := accounts.Get(ctx, s.Store, c.Account)
	if err != nil {
		return nil, err
	}
	dr := &DelegationRequest{
		ID:                  "dr-" + strings.ToLower(s.IDs.Hex(24)),
		Description:         awsproto.Str(in, "Description"),
		RequestMessage:      awsproto.Str(in, "RequestMessage"),
		RequestorID:         c.Account,
		RequestorName:       truncate(acct.Name, 30),
		RequestorWorkflowID: awsproto.Str(in, "RequestorWorkflowId"),
		NotificationChannel: awsproto.Str(in, "NotificationChannel"),
		RedirectURL:         awsproto.Str(in, "RedirectUrl"),
		TemplateARN:         tmpl,
		Parameters:          params,
		PermissionPolicy:    doc,
		OwnerAccountID:      awsproto.Str(in, "OwnerAccountId"),
		State:               DelegationUnassigned,
		Created:             now(c),
		Updated:             now(c),
	}
	dr.SessionDuration, _ = awsproto.Int(in, "SessionDuration")
	dr.OnlySendByOwner, _ = awsproto.Bool(in, "OnlySendByOwner")
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		// A partner's workflow id names one request.
		ref := c.Account
		mine, err := tx.List(ctx, store.ListQuery{Account: store.GlobalAccount, Kind: kindDelegation, Ref: &ref})
		if err != nil {
			return err
		}
		for _, r := range mine {
			o, err := decode[DelegationRequest](r)
			if err != nil {
				return err
			}
			if o.RequestorWorkflowID == dr.RequestorWorkflowID {
				return apierr.New(apierr.EntityAlreadyExists, "A delegation request with requestor workflow id %s already exists.", dr.RequestorWorkflowID)
			}
		}
		return tx.Insert(ctx, store.Record{Account: store.GlobalAccount, Kind: kindDelegation, Key: dr.ID, ID: dr.ID, Ref: c.Account, Data: encode(dr)})
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"DelegationRequestId": dr.ID,
		"ConsoleDeepLink":     "https://console.aws.amazon.com/iam/home#/delegation-requests/" + dr.ID,
	}, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// loadDelegation reads a request the caller may see: the partner that
// created it, the owner account, or anyone while it is unclaimed and
// addressed to no account (or to the caller's). Others get NoSuchEntity.
// A rejected request past its retention reads as EXPIRED.
func loadDelegation(ctx context.Context, r store.Reader, c *service.Call, id string) (*DelegationRequest, store.Record, error) {
	dr, rec, err := get[DelegationRequest](ctx, r, store.GlobalAccount, kindDelegation, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, rec, noSuchDelegation(id)
	}
	if err != nil {
		return nil, rec, err
	}
	visible := dr.RequestorID == c.Account || dr.OwnerAccountID == c.Account || dr.OwnerAccountID == ""
	if !visible {
		return nil, rec, noSuchDelegation(id)
	}
	if !dr.Expires.IsZero() && !c.Now.Before(dr.Expires) && dr.State != DelegationFinalized {
		dr.State = DelegationExpired
	}
	return dr, rec, nil
}

// delegationOut is the DelegationRequest shape.
func (dr *DelegationRequest) out() map[string]any {
	m := map[string]any{
		"DelegationRequestId": dr.ID,
		"Description":         dr.Description,
		"RequestorId":         dr.RequestorID,
		"SessionDuration":     dr.SessionDuration,
		"OnlySendByOwner":     dr.OnlySendByOwner,
		"State":               dr.State,
		"CreateDate":          dr.Created,
		"UpdatedTime":         dr.Updated,
	}
	perm := map[string]any{"PolicyTemplateArn": dr.TemplateARN}
	if len(dr.Parameters) > 0 {
		ps := make([]any, len(dr.Parameters))
		for i, p := range dr.Parameters {
			pm := map[string]any{"Name": p.Name, "Values": p.Values}
			if p.Type != "" {
				pm["Type"] = p.Type
			}
			ps[i] = pm
		}
		perm["Parameters"] = ps
	}
	m["Permissions"] = perm
	opt := map[string]string{
		"RequestMessage": dr.RequestMessage, "RequestorName": dr.RequestorName, "RedirectUrl": dr.RedirectURL,
		"PermissionPolicy": dr.PermissionPolicy, "OwnerAccountId": dr.OwnerAccountID, "OwnerId": dr.OwnerID,
		"ApproverId": dr.ApproverID, "Notes": dr.Notes, "RejectionReason": dr.RejectionReason,
	}
	for k, v := range opt {
		if v != "" {
			m[k] = v
		}
	}
	if !dr.Expires.IsZero() {
		m["ExpirationTime"] = dr.Expires
	}
	return m
}

func (s *Service) getDelegationRequest(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	dr, _, err := loadDelegation(ctx, s.Store, c, awsproto.Str(in, "DelegationRequestId"))
	if err != nil {
		return nil, err
	}
	out := map[string]any{"DelegationRequest": dr.out()}
	if check, _ := awsproto.Bool(in, "DelegationPermissionCheck"); check {
		res, err := s.delegationPermissionCheck(ctx, c, dr)
		if err != nil {
			return nil, err
		}
		out["PermissionCheckStatus"] = "COMPLETE"
		out["PermissionCheckResult"] = res
	}
	return out, nil
}

// delegationPermissionCheck approximates whether the caller holds the
// permissions it would delegate: ALLOWED when the caller's identity
// policies allow every action the permission policy allows (on "*"),
// DENIED when one is not allowed, UNSURE when the policy uses wildcards,
// NotAction, specific resources or conditions, which need a request to
// decide. The root user holds every permission.
func (s *Service) delegationPermissionCheck(ctx context.Context, c *service.Call, dr *DelegationRequest) (string, error) {
	p := c.Principal
	if p.IsRoot() {
		return "ALLOWED", nil
	}
	tmpl, err := policy.Parse([]byte(dr.PermissionPolicy), policy.Identity)
	if err != nil {
		return "UNSURE", nil
	}
	var actions []string
	for _, st := range tmpl.Statements {
		if st.Effect != policy.Allow {
			continue
		}
		if st.NotAction != nil || len(st.Condition) > 0 || len(st.NotResource) > 0 || !slices.Equal(st.Resource, []string{"*"}) {
			return "UNSURE", nil
		}
		for _, a := range st.Action {
			if strings.ContainsAny(a, "*?") {
				return "UNSURE", nil
			}
			actions = append(actions, a)
		}
	}
	var kind, name string
	switch p.Type {
	case principal.User:
		kind, name = kindUser, p.Name
	case principal.AssumedRole:
		kind, name = kindRole, p.Name
	default:
		return "UNSURE", nil
	}
	ip, err := s.LoadIdentityPolicies(ctx, s.Store, c.Account, kind, name)
	if err != nil {
		return "", err
	}
	var parsed []*policy.Policy
	for _, sp := range append(ip.Inline, ip.Managed...) {
		pp, err := policy.Parse([]byte(sp.Document), policy.Identity)
		if err != nil {
			return "", fmt.Errorf("iam: identity policy %s: %w", sp.Name, err)
		}
		parsed = append(parsed, pp)
	}
	set := policy.NewSet(parsed...)
	var res policy.Result
	pr := &policy.Principal{Account: p.Account, ARN: p.PrincipalARN()}
	for _, a := range actions {
		res.Reset()
		set.Evaluate(&policy.Request{Action: a, Resource: "*", Principal: pr, Context: policy.NewContext(0)}, &res)
		if !res.Allowed || res.Denied {
			return "DENIED", nil
		}
	}
	return "ALLOWED", nil
}

func (s *Service) listDelegationRequests(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	owner := awsproto.Str(in, "OwnerId")
	acct := c.Account
	recs, err := s.Store.List(ctx, store.ListQuery{Account: store.GlobalAccount, Kind: kindDelegation, Parent: &acct})
	if err != nil {
		return nil, err
	}
	var list []map[string]any
	for _, r := range recs {
		dr, err := decode[DelegationRequest](r)
		if err != nil {
			return nil, err
		}
		// Requests without an owner are not listed, even when addressed to
		// the account (ListDelegationRequests).
		if dr.OwnerID == "" || owner != "" && dr.OwnerID != owner {
			continue
		}
		if !dr.Expires.IsZero() && !c.Now.Before(dr.Expires) && dr.State != DelegationFinalized {
			dr.State = DelegationExpired
		}
		list = append(list, dr.out())
	}
	start, end, err := advisorPageBounds(in, len(list))
	if err != nil {
		return nil, err
	}
	page := make([]any, 0, end-start)
	for _, m := range list[start:end] {
		page = append(page, m)
	}
	out := map[string]any{"DelegationRequests": page, "isTruncated": end < len(list)}
	if end < len(list) {
		out["Marker"] = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d", end))
	}
	return out, nil
}

// transition loads a request, checks the caller and state with check, and
// stores what apply changes, in one transaction.
func (s *Service) transition(ctx context.Context, c *service.Call, id string, apply func(dr *DelegationRequest, rec *store.Record) error) error {
	return s.Store.WithTx(ctx, func(tx store.Tx) error {
		dr, rec, err := loadDelegation(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if err := apply(dr, &rec); err != nil {
			return err
		}
		dr.Updated = now(c)
		rec.Data = encode(dr)
		return tx.Update(ctx, rec)
	})
}

func stateError(dr *DelegationRequest, op string) error {
	return apierr.Invalid("Cannot %s delegation request %s in state %s.", op, dr.ID, dr.State)
}

// ownerAccountOnly limits an operation to the account that owns the
// request; other accounts do not see it.
func ownerAccountOnly(c *service.Call, dr *DelegationRequest) error {
	if dr.OwnerAccountID != c.Account || dr.OwnerID == "" {
		return noSuchDelegation(dr.ID)
	}
	return nil
}

func (s *Service) associateDelegationRequest(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	err := s.transition(ctx, c, awsproto.Str(in, "DelegationRequestId"), func(dr *DelegationRequest, rec *store.Record) error {
		if dr.OwnerAccountID != "" && dr.OwnerAccountID != c.Account {
			return noSuchDelegation(dr.ID)
		}
		if dr.State != DelegationUnassigned {
			return stateError(dr, "associate")
		}
		dr.OwnerAccountID, dr.OwnerID = c.Account, c.Principal.ARN
		dr.State = DelegationAssigned
		rec.Parent = c.Account
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) updateDelegationRequest(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	err := s.transition(ctx, c, awsproto.Str(in, "DelegationRequestId"), func(dr *DelegationRequest, _ *store.Record) error {
		if err := ownerAccountOnly(c, dr); err != nil {
			return err
		}
		if dr.State != DelegationAssigned && dr.State != DelegationPendingApproval {
			return stateError(dr, "update")
		}
		dr.Notes = awsproto.Str(in, "Notes")
		dr.State = DelegationPendingApproval
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) acceptDelegationRequest(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	err := s.transition(ctx, c, awsproto.Str(in, "DelegationRequestId"), func(dr *DelegationRequest, _ *store.Record) error {
		if err := ownerAccountOnly(c, dr); err != nil {
			return err
		}
		if dr.State != DelegationAssigned && dr.State != DelegationPendingApproval {
			return stateError(dr, "accept")
		}
		ap, err := approverOf(c.Principal)
		if err != nil {
			return err
		}
		dr.Approver, dr.ApproverID = ap, c.Principal.ARN
		dr.State = DelegationAccepted
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// approverOf is the identity delegated credentials act as: the user or
// root user itself, or a role session's role. Federated users and web
// identity sessions have no IAM identity to map.
func approverOf(p *principal.Principal) (*delegatedPrincipal, error) {
	switch p.Type {
	case principal.Root, principal.User:
		return &delegatedPrincipal{Type: p.Type, ARN: p.ARN, UserID: p.UserID, Name: p.Name, Path: p.Path}, nil
	case principal.AssumedRole:
		roleID, _, _ := strings.Cut(p.UserID, ":")
		return &delegatedPrincipal{Type: principal.AssumedRole, ARN: p.RoleARN, UserID: roleID, Name: p.Name, Path: p.Path}, nil
	}
	return nil, apierr.Invalid("A %s cannot accept a delegation request.", p.Type)
}

func (s *Service) rejectDelegationRequest(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	err := s.transition(ctx, c, awsproto.Str(in, "DelegationRequestId"), func(dr *DelegationRequest, _ *store.Record) error {
		if err := ownerAccountOnly(c, dr); err != nil {
			return err
		}
		switch dr.State {
		case DelegationAssigned, DelegationPendingApproval, DelegationAccepted:
		default:
			return stateError(dr, "reject")
		}
		dr.RejectionReason = awsproto.Str(in, "Notes")
		dr.State = DelegationRejected
		dr.Expires = now(c).Add(rejectedRetention)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) sendDelegationToken(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	err := s.transition(ctx, c, awsproto.Str(in, "DelegationRequestId"), func(dr *DelegationRequest, _ *store.Record) error {
		if err := ownerAccountOnly(c, dr); err != nil {
			return err
		}
		if dr.State != DelegationAccepted {
			return stateError(dr, "send the token of")
		}
		if dr.OnlySendByOwner && c.Principal.ARN != dr.OwnerID {
			return apierr.New("AccessDenied", "Only the owner of delegation request %s may send its token.", dr.ID)
		}
		// The exchange token is the request id and a secret; only the
		// secret's hash is kept in the clear.
		secret := secrets.RandomToken(32)
		tok := dr.ID + "." + secret
		sum := sha256.Sum256([]byte(secret))
		dr.TokenHash = hex.EncodeToString(sum[:])
		sealed, err := s.Keys.Seal([]byte(tok), []byte("delegation|"+dr.ID))
		if err != nil {
			return fmt.Errorf("iam: seal exchange token: %w", err)
		}
		dr.Token = sealed
		dr.State = DelegationFinalized
		// The delegation period starts now (Finalized state).
		dr.Expires = now(c).Add(time.Duration(dr.SessionDuration) * time.Second)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// DelegationExchangeToken returns the exchange token of a finalized request:
// what SendDelegationToken delivers on the partner's notification channel.
// iamd has no SNS: whatever delivers notifications reads it here.
func (s *Service) DelegationExchangeToken(ctx context.Context, requestID string) (string, error) {
	dr, _, err := get[DelegationRequest](ctx, s.Store, store.GlobalAccount, kindDelegation, requestID)
	if err != nil {
		return "", err
	}
	if dr.State != DelegationFinalized || dr.Token == nil {
		return "", fmt.Errorf("iam: delegation request %s has no exchange token: %w", requestID, store.ErrNotFound)
	}
	tok, err := s.Keys.Open(dr.Token, []byte("delegation|"+dr.ID))
	if err != nil {
		return "", fmt.Errorf("iam: open exchange token: %w", err)
	}
	return string(tok), nil
}

// ErrTradeInToken: the trade-in token is unknown, not yet released, or its
// delegation period is over.
var ErrTradeInToken = errors.New("iam: trade-in token is invalid or expired")

// Delegation is what STS needs to turn a trade-in token into credentials.
type Delegation struct {
	RequestID        string
	RequestorID      string // the partner's account
	Account          string // the owner account the credentials act in
	Principal        principal.Principal
	PermissionPolicy string
	Expires          time.Time
}

// RedeemTradeInToken checks a trade-in token at now and returns the
// delegation it grants: the identity recorded at acceptance, the
// permission policy and the end of the delegation period.
func (s *Service) RedeemTradeInToken(ctx context.Context, token string, now time.Time) (*Delegation, error) {
	id, secret, ok := strings.Cut(token, ".")
	if !ok || id == "" || secret == "" {
		return nil, ErrTradeInToken
	}
	dr, _, err := get[DelegationRequest](ctx, s.Store, store.GlobalAccount, kindDelegation, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrTradeInToken
	}
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(secret))
	if dr.State != DelegationFinalized || dr.Approver == nil || subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(dr.TokenHash)) != 1 || !now.Before(dr.Expires) {
		return nil, ErrTradeInToken
	}
	ap := dr.Approver
	p := principal.Principal{
		Type: ap.Type, Partition: arnPartition(ap.ARN), Account: dr.OwnerAccountID, ARN: ap.ARN, UserID: ap.UserID, Name: ap.Name, Path: ap.Path,
	}
	if ap.Type == principal.AssumedRole {
		// A fresh session of the approver's role, named after the request.
		session := truncate(dr.ID, 64)
		p.RoleARN = ap.ARN
		p.SessionName = session
		p.UserID = ap.UserID + ":" + session
		p.ARN = arn.STS(p.Partition, dr.OwnerAccountID, "assumed-role/"+ap.Name+"/"+session)
	}
	return &Delegation{RequestID: dr.ID, RequestorID: dr.RequestorID, Account: dr.OwnerAccountID, Principal: p, PermissionPolicy: dr.PermissionPolicy, Expires: dr.Expires}, nil
}

// arnPartition reads an ARN's partition ("aws" when unparsable).
func arnPartition(s string) string {
	if a, err := arn.Parse(s); err == nil {
		return a.Partition
	}
	return "aws"
}

// getHumanReadableSummary summarizes a delegation request, the only entity
// type AWS supports. AWS writes the summary with a large language model;
// iamd composes it from the request's own fields (who asks, for what, for
// how long), so the text differs while access rules and shape match: the
// caller must be able to GetDelegationRequest the request.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetHumanReadableSummary.html
func (s *Service) getHumanReadableSummary(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	entity := awsproto.Str(in, "EntityArn")
	a, err := arn.Parse(entity)
	typ, id, _ := strings.Cut(a.Resource, "/")
	if err != nil || a.Service != "iam" || typ != "delegation-request" || id == "" {
		return nil, apierr.Invalid("Entity %s is not a delegation request: delegation-request is the only entity type supported.", entity)
	}
	dr, _, err := loadDelegation(ctx, s.Store, c, id)
	if err != nil {
		return nil, err
	}
	locale := awsproto.Str(in, "Locale")
	if locale == "" {
		locale = "en-US"
	}
	out := map[string]any{"Locale": locale}
	if !strings.HasPrefix(strings.ToLower(locale), "en") {
		// Summaries are composed in English only.
		out["SummaryState"] = "NOT_SUPPORTED"
		return out, nil
	}
	out["SummaryState"] = "AVAILABLE"
	out["SummaryContent"] = summarizeDelegation(dr)
	return out, nil
}

// summarizeDelegation writes a plain-English account of a request, at most
// the model's 10,000 characters.
func summarizeDelegation(dr *DelegationRequest) string {
	var b strings.Builder
	who := dr.RequestorID
	if dr.RequestorName != "" {
		who = dr.RequestorName + " (account " + dr.RequestorID + ")"
	}
	fmt.Fprintf(&b, "%s requests temporary access", who)
	if dr.OwnerAccountID != "" {
		fmt.Fprintf(&b, " to account %s", dr.OwnerAccountID)
	}
	fmt.Fprintf(&b, " for %s once the access token is released.", time.Duration(dr.SessionDuration)*time.Second)
	if dr.Description != "" {
		fmt.Fprintf(&b, " Purpose: %s", strings.TrimSpace(dr.Description))
		if !strings.HasSuffix(b.String(), ".") {
			b.WriteString(".")
		}
	}
	if p, err := policy.Parse([]byte(dr.PermissionPolicy), policy.Identity); err == nil {
		for _, st := range p.Statements {
			verb := "allow"
			if st.Effect == policy.Deny {
				verb = "deny"
			}
			acts, what := st.Action, "the actions"
			if st.NotAction != nil {
				acts, what = st.NotAction, "all actions except"
			}
			res := st.Resource
			on := "on"
			if st.NotResource != nil {
				res, on = st.NotResource, "on all resources except"
			}
			fmt.Fprintf(&b, " The permissions %s %s %s %s %s", verb, what, strings.Join(acts, ", "), on, strings.Join(res, ", "))
			if len(st.Condition) > 0 {
				b.WriteString(" under conditions")
			}
			b.WriteString(".")
		}
	}
	fmt.Fprintf(&b, " The request is %s.", strings.ToLower(strings.ReplaceAll(dr.State, "_", " ")))
	s := b.String()
	if len(s) > 10000 {
		s = s[:10000]
	}
	return s
}
