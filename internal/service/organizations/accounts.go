package organizations

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// defaultAccessRole is the role CreateAccount makes in a new account for
// the management account to administer it.
const defaultAccessRole = "OrganizationAccountAccessRole"

// createStatus is a CreateAccount request's progress.
type createStatus struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	AccountID string    `json:"account,omitempty"`
	State     string    `json:"state"` // IN_PROGRESS | SUCCEEDED | FAILED
	Failure   string    `json:"failure,omitempty"`
	Requested time.Time `json:"requested"`
	Completed time.Time `json:"completed,omitzero"`
}

func (cs *createStatus) out() map[string]any {
	m := map[string]any{"Id": cs.ID, "AccountName": cs.Name, "State": cs.State, "RequestedTimestamp": cs.Requested}
	if cs.AccountID != "" && cs.State == "SUCCEEDED" {
		m["AccountId"] = cs.AccountID
	}
	if cs.Failure != "" {
		m["FailureReason"] = cs.Failure
	}
	if !cs.Completed.IsZero() {
		m["CompletedTimestamp"] = cs.Completed
	}
	return m
}

func (s *Service) accountHandlers(m map[string]service.Handler) {
	m["CreateAccount"] = s.createAccount
	m["DescribeCreateAccountStatus"] = s.describeCreateAccountStatus
	m["ListCreateAccountStatus"] = s.listCreateAccountStatus
	m["DescribeAccount"] = s.describeAccount
	m["ListAccounts"] = s.listAccounts
	m["ListAccountsForParent"] = s.listAccountsForParent
	m["RemoveAccountFromOrganization"] = s.removeAccount
	m["LeaveOrganization"] = s.leaveOrganization
	m["CloseAccount"] = s.closeAccount
}

// addMember records m's membership of o and attaches the AWS managed
// policies of the enabled policy types, as AWS does for every new account.
func (s *Service) addMember(ctx context.Context, tx store.Tx, o *organization, m *member) error {
	err := tx.Insert(ctx, store.Record{Account: o.Mgmt, Kind: kindMember, Key: m.ID, ID: m.ID, Ref: m.Parent, Data: encode(m), Created: m.JoinedAt})
	if err != nil {
		return fmt.Errorf("organizations: insert member %s: %w", m.ID, err)
	}
	return s.attachDefaults(ctx, tx, o, m.ID)
}

// removeMember takes account out of o: its membership, its policy
// attachments and its delegated administrator registrations.
func removeMember(ctx context.Context, tx store.Tx, o *organization, account string) error {
	if err := detachAll(ctx, tx, o, account); err != nil {
		return err
	}
	if _, err := tx.DeleteAll(ctx, store.ListQuery{Account: o.Mgmt, Kind: kindDelegated, Parent: &account}); err != nil {
		return fmt.Errorf("organizations: delegations of %s: %w", account, err)
	}
	return tx.Delete(ctx, o.Mgmt, kindMember, account)
}

func accountState(status string) string {
	if status == "" {
		return accounts.Active
	}
	return status
}

func (s *Service) accountOut(ctx context.Context, r store.Reader, o *organization, m *member) (map[string]any, error) {
	a, err := accounts.Get(ctx, r, m.ID)
	if err != nil {
		return nil, err
	}
	ch, err := chain(ctx, r, o, m.Parent, parentNotFound())
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"Id": a.ID, "Arn": o.accountARN(a.ID), "Email": a.Email, "Name": a.Name,
		"Status": accountState(a.Status), "State": accountState(a.Status),
		"JoinedMethod": m.Joined, "JoinedTimestamp": m.JoinedAt,
		"Paths": []any{o.path(append(ch, a.ID))},
	}, nil
}

func (s *Service) createAccount(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name, email := awsproto.Str(in, "AccountName"), awsproto.Str(in, "Email")
	role := awsproto.Str(in, "RoleName")
	if role == "" {
		role = defaultAccessRole
	}
	tags, err := tagsIn(in)
	if err != nil {
		return nil, err
	}
	at := now(c)
	cs := &createStatus{ID: s.randomID("car-", 32, lowerAlnum), Name: name, State: "IN_PROGRESS", Requested: at}
	var (
		o       *organization
		created string
	)
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		if o, err = s.asManager(ctx, tx, c); err != nil {
			return err
		}
		n, err := tx.Count(ctx, o.q(kindMember))
		if err != nil {
			return fmt.Errorf("organizations: count members: %w", err)
		}
		if n >= s.maxAccounts() {
			return constraint("ACCOUNT_NUMBER_LIMIT_EXCEEDED", "You have reached the maximum number of accounts in the organization.")
		}
		// Account creation is asynchronous in AWS: problems with the email
		// surface as a FAILED request, not as an error of this call.
		switch _, err := accounts.ByEmail(ctx, tx, email); {
		case accounts.ValidEmail(email) != nil:
			cs.State, cs.Failure, cs.Completed = "FAILED", "INVALID_EMAIL", at
		case err == nil:
			cs.State, cs.Failure, cs.Completed = "FAILED", "EMAIL_ALREADY_EXISTS", at
		default:
			a := &accounts.Account{ID: s.IDs.Account(), Name: name, Email: email, Partition: o.Partition, Created: at}
			if err := accounts.Create(ctx, tx, a); err != nil {
				return err
			}
			if err := s.addMember(ctx, tx, o, &member{ID: a.ID, Parent: o.RootID, Joined: "CREATED", JoinedAt: at, Tags: tags}); err != nil {
				return err
			}
			created, cs.AccountID = a.ID, a.ID
		}
		return tx.Insert(ctx, store.Record{Account: o.Mgmt, Kind: kindCreate, Key: cs.ID, ID: cs.ID, Data: encode(cs), Created: at})
	})
	if err != nil {
		return nil, err
	}
	// AWS answers IN_PROGRESS and finishes in the background; iamd finishes
	// now, and DescribeCreateAccountStatus reports the outcome.
	resp := *cs
	resp.State, resp.Failure, resp.Completed = "IN_PROGRESS", "", time.Time{}
	if created != "" {
		state, failure := "SUCCEEDED", ""
		if err := s.createAccessRole(ctx, c, o, created, role); err != nil {
			state, failure = "FAILED", "INTERNAL_FAILURE"
		}
		err = s.Store.WithTx(ctx, func(tx store.Tx) error {
			rec, err := tx.Get(ctx, o.Mgmt, kindCreate, cs.ID)
			if err != nil {
				return fmt.Errorf("organizations: create status: %w", err)
			}
			cs.State, cs.Failure, cs.Completed = state, failure, now(c)
			rec.Data = encode(cs)
			return tx.Update(ctx, rec)
		})
		if err != nil {
			return nil, err
		}
	}
	return map[string]any{"CreateAccountStatus": resp.out()}, nil
}

// createAccessRole makes, as root of the new account, the role the
// management account assumes to administer it: trusted by the management
// account, with AdministratorAccess attached
// (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_access.html).
func (s *Service) createAccessRole(ctx context.Context, c *service.Call, o *organization, account, role string) error {
	create, attach := s.Registry.Lookup("iam", "CreateRole"), s.Registry.Lookup("iam", "AttachRolePolicy")
	if create == nil || attach == nil {
		return fmt.Errorf("organizations: IAM is not registered")
	}
	call := &service.Call{
		RequestID: c.RequestID, Service: "iam", Operation: "CreateRole", Region: c.Region, Partition: o.Partition, Account: account,
		Principal: &principal.Principal{Type: principal.Root, Partition: o.Partition, Account: account, ARN: arn.IAM(o.Partition, account, "root"), UserID: account},
		Now:       c.Now,
	}
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:%s:iam::%s:root"},"Action":"sts:AssumeRole"}]}`, o.Partition, o.Mgmt)
	if _, err := create(ctx, call, map[string]any{"RoleName": role, "AssumeRolePolicyDocument": trust}); err != nil {
		return fmt.Errorf("organizations: create %s in %s: %w", role, account, err)
	}
	call.Operation = "AttachRolePolicy"
	if _, err := attach(ctx, call, map[string]any{"RoleName": role, "PolicyArn": "arn:" + o.Partition + ":iam::aws:policy/AdministratorAccess"}); err != nil {
		return fmt.Errorf("organizations: attach AdministratorAccess to %s in %s: %w", role, account, err)
	}
	return nil
}

func (s *Service) describeCreateAccountStatus(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	o, err := s.asReader(ctx, s.Store, c)
	if err != nil {
		return nil, err
	}
	rec, err := s.Store.Get(ctx, o.Mgmt, kindCreate, awsproto.Str(in, "CreateAccountRequestId"))
	if isNotFound(err) {
		return nil, errf("CreateAccountStatusNotFoundException", "We can't find a create account request with the CreateAccountRequestId that you specified.")
	}
	if err != nil {
		return nil, fmt.Errorf("organizations: create status: %w", err)
	}
	cs, err := decode[createStatus](rec)
	if err != nil {
		return nil, err
	}
	return map[string]any{"CreateAccountStatus": cs.out()}, nil
}

func (s *Service) listCreateAccountStatus(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	o, err := s.asReader(ctx, s.Store, c)
	if err != nil {
		return nil, err
	}
	all, err := listAll[createStatus](ctx, s.Store, o.q(kindCreate))
	if err != nil {
		return nil, err
	}
	if states := awsproto.Strings(in, "States"); len(states) > 0 {
		all = slices.DeleteFunc(all, func(cs *createStatus) bool { return !slices.Contains(states, cs.State) })
	}
	items, next, err := paginate(all, func(cs *createStatus) string { return cs.ID }, in)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	for i, cs := range items {
		out[i] = cs.out()
	}
	return pageOut("CreateAccountStatuses", out, next), nil
}

func (s *Service) describeAccount(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	o, err := s.asReader(ctx, s.Store, c)
	if err != nil {
		return nil, err
	}
	m, _, err := getMember(ctx, s.Store, o, awsproto.Str(in, "AccountId"))
	if err != nil {
		return nil, err
	}
	out, err := s.accountOut(ctx, s.Store, o, m)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Account": out}, nil
}

func (s *Service) listMembers(ctx context.Context, c *service.Call, in map[string]any, parent *string) (map[string]any, error) {
	o, err := s.asReader(ctx, s.Store, c)
	if err != nil {
		return nil, err
	}
	if parent != nil {
		if _, err := chain(ctx, s.Store, o, *parent, parentNotFound()); err != nil {
			return nil, err
		}
	}
	q := o.q(kindMember)
	q.Ref = parent
	all, err := listAll[member](ctx, s.Store, q)
	if err != nil {
		return nil, err
	}
	items, next, err := paginate(all, func(m *member) string { return m.ID }, in)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	for i, m := range items {
		if out[i], err = s.accountOut(ctx, s.Store, o, m); err != nil {
			return nil, err
		}
	}
	return pageOut("Accounts", out, next), nil
}

func (s *Service) listAccounts(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	return s.listMembers(ctx, c, in, nil)
}

func (s *Service) listAccountsForParent(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	p := awsproto.Str(in, "ParentId")
	return s.listMembers(ctx, c, in, &p)
}

// checkRemovable applies the rules for an account leaving: never the
// management account, never a delegated administrator.
func checkRemovable(ctx context.Context, r store.Reader, o *organization, account string) error {
	n, err := r.Count(ctx, store.ListQuery{Account: o.Mgmt, Kind: kindDelegated, Parent: &account})
	if err != nil {
		return fmt.Errorf("organizations: delegations: %w", err)
	}
	if n > 0 {
		return constraint("CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG", "You can't remove an account that is a delegated administrator. Deregister it first.")
	}
	return nil
}

func (s *Service) removeAccount(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	account := awsproto.Str(in, "AccountId")
	return nil, s.asManagerTx(ctx, c, func(tx store.Tx, o *organization) error {
		if account == o.Mgmt {
			// https://docs.aws.amazon.com/organizations/latest/APIReference/API_RemoveAccountFromOrganization.html
			return constraint("ACCOUNT_CANNOT_LEAVE_ORGANIZATION", "You can't remove the management account from the organization. Remove all member accounts and delete the organization instead.")
		}
		if _, _, err := getMember(ctx, tx, o, account); err != nil {
			return err
		}
		if err := checkRemovable(ctx, tx, o, account); err != nil {
			return err
		}
		return removeMember(ctx, tx, o, account)
	})
}

func (s *Service) leaveOrganization(ctx context.Context, c *service.Call, _ map[string]any) (map[string]any, error) {
	return nil, s.Store.WithTx(ctx, func(tx store.Tx) error {
		o, err := s.asMember(ctx, tx, c)
		if err != nil {
			return err
		}
		if c.Account == o.Mgmt {
			return errf("MasterCannotLeaveOrganizationException", "You can't remove a management account from an organization. If you want the management account to become a member account in another organization, you must first delete the current organization.")
		}
		if err := checkRemovable(ctx, tx, o, c.Account); err != nil {
			return err
		}
		return removeMember(ctx, tx, o, c.Account)
	})
}

// closeWindow and closeQuota: "you can close only 10% of member accounts,
// between 10 and 1000, within a rolling 30 day period" (CloseAccount API
// reference).
const closeWindow = 30 * 24 * time.Hour

func closeQuota(members int) int { return max(10, min(1000, members/10)) }

// closeAccount suspends a member account: AWS keeps it in the organization,
// SUSPENDED, for the post-closure period
// (https://docs.aws.amazon.com/organizations/latest/APIReference/API_CloseAccount.html).
func (s *Service) closeAccount(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	account := awsproto.Str(in, "AccountId")
	return nil, s.asManagerTx(ctx, c, func(tx store.Tx, o *organization) error {
		if account == o.Mgmt {
			return constraint("CANNOT_CLOSE_MANAGEMENT_ACCOUNT", "You can't close the management account with this operation.")
		}
		m, rec, err := getMember(ctx, tx, o, account)
		if err != nil {
			return err
		}
		a, err := accounts.Get(ctx, tx, account)
		if err != nil {
			return err
		}
		if a.Status == accounts.Suspended {
			return errf("AccountAlreadyClosedException", "You tried to close an account that is already closed.")
		}
		members, err := listAll[member](ctx, tx, o.q(kindMember))
		if err != nil {
			return err
		}
		recent := 0
		for _, x := range members {
			if !x.Closed.IsZero() && c.Now.Sub(x.Closed) < closeWindow {
				recent++
			}
		}
		if recent >= closeQuota(len(members)) {
			return constraint("CLOSE_ACCOUNT_QUOTA_EXCEEDED", "You have exceeded close account quota for the past 30-day period.")
		}
		m.Closed = now(c)
		rec.Data = encode(m)
		if err := tx.Update(ctx, rec); err != nil {
			return fmt.Errorf("organizations: update member: %w", err)
		}
		a.Status = accounts.Suspended
		return accounts.Update(ctx, tx, a)
	})
}
