package iam

// Access advisor: service last-accessed data per IAM entity, the jobs that
// report it (GenerateServiceLastAccessedDetails and friends) and the policies
// that grant access to a service.
//
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_last-accessed.html

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
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
	"github.com/iamd/iamd/internal/service/organizations"
	"github.com/iamd/iamd/internal/store"
)

const (
	// kindServiceAccess: last access of one entity to one service; key
	// "user:bob|iam", parent "user:bob", ref the service namespace.
	kindServiceAccess = "svcaccess"
	// kindAdvisorJob: a generated report, key = ID = job id.
	kindAdvisorJob = "advisorjob"
)

// Granularities of GenerateServiceLastAccessedDetails.
const (
	granularityService = "SERVICE_LEVEL"
	granularityAction  = "ACTION_LEVEL"
)

// advisorService is a service namespace access advisor reports on. Actions
// are its tracked actions (action-level data); nil for services tracked at
// the service level only.
type advisorService struct {
	Namespace string
	Name      string
	Actions   []string
}

// advisorServiceByNamespace finds a service of the catalog.
func advisorServiceByNamespace(ns string) *advisorService {
	for i := range advisorServices {
		if advisorServices[i].Namespace == ns {
			return &advisorServices[i]
		}
	}
	return nil
}

// grantedServices lists the services of a grant set in namespace order:
// those of the catalog, and others under their AWS names where known.
func grantedServices(g grantSet) []advisorService {
	out := make([]advisorService, 0, len(g))
	for ns := range g {
		if svc := advisorServiceByNamespace(ns); svc != nil {
			out = append(out, *svc)
			continue
		}
		name := otherServiceNames[ns]
		if name == "" {
			name = ns
		}
		out = append(out, advisorService{Namespace: ns, Name: name})
	}
	slices.SortFunc(out, func(a, b advisorService) int { return strings.Compare(a.Namespace, b.Namespace) })
	return out
}

// otherServiceNames are AWS's names (as access advisor reports them) of
// common services iamd does not host; a namespace missing here is
// reported under its own name.
var otherServiceNames = map[string]string{
	"s3": "Amazon S3", "ec2": "Amazon EC2", "lambda": "AWS Lambda", "dynamodb": "Amazon DynamoDB",
	"sqs": "Amazon SQS", "sns": "Amazon SNS", "kms": "AWS Key Management Service",
	"logs": "Amazon CloudWatch Logs", "cloudwatch": "Amazon CloudWatch", "rds": "Amazon RDS",
	"ecr": "Amazon Elastic Container Registry", "ecs": "Amazon Elastic Container Service",
	"eks": "Amazon Elastic Kubernetes Service", "secretsmanager": "AWS Secrets Manager",
	"ssm": "AWS Systems Manager", "cloudformation": "AWS CloudFormation", "route53": "Amazon Route 53",
	"elasticloadbalancing": "Elastic Load Balancing", "autoscaling": "Amazon EC2 Auto Scaling",
	"apigateway": "Amazon API Gateway", "cloudfront": "Amazon CloudFront", "events": "Amazon EventBridge",
	"kinesis": "Amazon Kinesis", "glue": "AWS Glue", "athena": "Amazon Athena", "config": "AWS Config",
	"sso": "AWS IAM Identity Center", "access-analyzer": "IAM Access Analyzer",
}

// accessMark is when and where something was last accessed.
type accessMark struct {
	At     time.Time `json:"at"`
	Region string    `json:"region,omitempty"`
}

// ServiceAccess is the stored last access of one entity to one service.
type ServiceAccess struct {
	accessMark
	// Actions holds tracked actions' last accesses, by action name.
	Actions map[string]accessMark `json:"actions,omitempty"`
}

// merge folds a newer access into a, reporting whether a changed.
func (a *ServiceAccess) merge(action string, m accessMark) bool {
	changed := false
	if m.At.After(a.At) {
		a.accessMark = m
		changed = true
	}
	if action != "" {
		if old, ok := a.Actions[action]; !ok || m.At.After(old.At) {
			if a.Actions == nil {
				a.Actions = map[string]accessMark{}
			}
			a.Actions[action] = m
			changed = true
		}
	}
	return changed
}

// accessOwner is the record Parent of an entity's access records.
func accessOwner(kind, name string) string { return kind + ":" + key(name) }

// AccessNote is one authenticated access to record.
type AccessNote struct {
	Account    string
	EntityKind string // "user" or "role"
	EntityName string
	Service    string // namespace, e.g. "iam"
	Action     string // action name without prefix, e.g. "ListUsers"
	Region     string
	At         time.Time
}

// RecordServiceAccess writes a batch of notes in one transaction, keeping
// the latest access per entity, service and tracked action. Notes for
// entities that no longer exist are written anyway: access data outlives
// nothing but the account, and reports only read it for live entities.
func (s *Service) RecordServiceAccess(ctx context.Context, notes []AccessNote) error {
	if len(notes) == 0 {
		return nil
	}
	return s.Store.WithTx(ctx, func(tx store.Tx) error {
		for _, n := range notes {
			owner := accessOwner(n.EntityKind, n.EntityName)
			k := owner + "|" + n.Service
			action := ""
			if svc := advisorServiceByNamespace(n.Service); svc != nil && svc.Actions != nil {
				action = n.Action
			}
			m := accessMark{At: n.At.UTC().Truncate(time.Second), Region: n.Region}
			rec, err := tx.Get(ctx, n.Account, kindServiceAccess, k)
			switch {
			case errors.Is(err, store.ErrNotFound):
				a := &ServiceAccess{}
				a.merge(action, m)
				if err := tx.Insert(ctx, store.Record{Account: n.Account, Kind: kindServiceAccess, Key: k, Parent: owner, Ref: n.Service, Data: encode(a)}); err != nil {
					return err
				}
			case err != nil:
				return err
			default:
				a, err := decode[ServiceAccess](rec)
				if err != nil {
					return err
				}
				if a.merge(action, m) {
					rec.Data = encode(a)
					if err := tx.Update(ctx, rec); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}

// AccessTracker records last-accessed data off the request path. The
// authorizer calls NoteServiceAccess after every allowed request; notes are
// queued without blocking and written in batches, at most once per minute
// per entity, service and tracked action (as authn bounds access-key
// last-used writes): each write invalidates the account's caches.
type AccessTracker struct {
	iam   *Service
	log   *slog.Logger
	notes chan AccessNote
	// Interval bounds how often one (entity, service, action) is written.
	interval time.Duration
	flush    time.Duration
}

// NewAccessTracker starts a tracker writing through s; it stops when ctx
// ends (pending notes are dropped: last-accessed data is approximate).
func NewAccessTracker(ctx context.Context, s *Service, log *slog.Logger) *AccessTracker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &AccessTracker{iam: s, log: log, notes: make(chan AccessNote, 4096), interval: time.Minute, flush: time.Second}
	go t.run(ctx)
	return t
}

// NoteServiceAccess queues one access: entityKind is "user", "role" (a
// role session notes its role) or "root" (entityName empty), service the action's namespace ("iam"),
// action the action name ("ListUsers"). It never blocks; when the queue is
// full the note is dropped.
func (t *AccessTracker) NoteServiceAccess(account, entityKind, entityName, service, action, region string, at time.Time) {
	switch entityKind {
	case kindUser, kindRole:
		if entityName == "" {
			return
		}
	case entityRoot:
	default:
		return
	}
	if service == "" {
		return
	}
	select {
	case t.notes <- AccessNote{Account: account, EntityKind: entityKind, EntityName: entityName, Service: strings.ToLower(service), Action: action, Region: region, At: at}:
	default:
	}
}

// entityRoot notes the root user's accesses: no IAM entity reports them,
// but Organizations access reports count them.
const entityRoot = "root"

// NoteAccess notes an allowed request of p to action ("iam:ListUsers"): a
// user's access for the user, a role session's for its role, the root
// user's for the account; federated users have no IAM entity to note.
func (t *AccessTracker) NoteAccess(p *principal.Principal, action, region string, at time.Time) {
	ns, name, ok := strings.Cut(action, ":")
	if p == nil || !ok {
		return
	}
	switch p.Type {
	case principal.User:
		t.NoteServiceAccess(p.Account, kindUser, p.Name, ns, name, region, at)
	case principal.AssumedRole:
		t.NoteServiceAccess(p.Account, kindRole, p.Name, ns, name, region, at)
	case principal.Root:
		t.NoteServiceAccess(p.Account, entityRoot, "", ns, name, region, at)
	}
}

func (t *AccessTracker) run(ctx context.Context) {
	written := map[string]time.Time{}
	var batch []AccessNote
	tick := time.NewTicker(t.flush)
	defer tick.Stop()
	write := func() {
		if len(batch) == 0 {
			return
		}
		if err := t.iam.RecordServiceAccess(ctx, batch); err != nil && ctx.Err() == nil {
			t.log.WarnContext(ctx, "recording service last-accessed data failed", "notes", len(batch), "err", err)
		}
		batch = batch[:0]
	}
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-t.notes:
			k := n.Account + "|" + accessOwner(n.EntityKind, n.EntityName) + "|" + n.Service
			if svc := advisorServiceByNamespace(n.Service); svc != nil && svc.Actions != nil {
				k += "|" + n.Action
			}
			if last, ok := written[k]; ok && n.At.Sub(last) < t.interval {
				continue
			}
			written[k] = n.At
			batch = append(batch, n)
			if len(batch) >= 256 {
				write()
			}
			if len(written) > 100000 {
				clear(written)
			}
		case <-tick.C:
			write()
		}
	}
}

func (s *Service) accessAdvisorHandlers(m map[string]service.Handler) {
	m["GenerateServiceLastAccessedDetails"] = s.generateServiceLastAccessedDetails
	m["GetServiceLastAccessedDetails"] = s.getServiceLastAccessedDetails
	m["GetServiceLastAccessedDetailsWithEntities"] = s.getServiceLastAccessedDetailsWithEntities
	m["ListPoliciesGrantingServiceAccess"] = s.listPoliciesGrantingServiceAccess
	m["GenerateOrganizationsAccessReport"] = s.generateOrganizationsAccessReport
	m["GetOrganizationsAccessReport"] = s.getOrganizationsAccessReport
}

// advisorTarget is the entity a report is about.
type advisorTarget struct {
	kind string // kindUser, kindGroup, kindRole or kindPolicy
	name string // entity name; for a policy its ARN
}

// parseAdvisorARN reads the Arn of an access advisor call: a user, group,
// role or managed policy of the caller's account (AWS managed policies
// too). Anything else is InvalidInput.
func parseAdvisorARN(c *service.Call, s string) (advisorTarget, error) {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "iam" || a.Region != "" {
		return advisorTarget{}, apierr.Invalid("ARN %s is not valid.", s)
	}
	typ, rest, ok := strings.Cut(a.Resource, "/")
	if !ok || rest == "" {
		return advisorTarget{}, apierr.Invalid("ARN %s is not valid.", s)
	}
	if typ == "policy" {
		if a.Account != c.Account && a.Account != "aws" {
			return advisorTarget{}, apierr.Invalid("ARN %s is not valid.", s)
		}
		return advisorTarget{kind: kindPolicy, name: s}, nil
	}
	if a.Account != c.Account {
		return advisorTarget{}, apierr.Invalid("ARN %s is not valid.", s)
	}
	name := rest[strings.LastIndexByte(rest, '/')+1:]
	switch typ {
	case "user":
		return advisorTarget{kind: kindUser, name: name}, nil
	case "group":
		return advisorTarget{kind: kindGroup, name: name}, nil
	case "role":
		return advisorTarget{kind: kindRole, name: name}, nil
	}
	return advisorTarget{}, apierr.Invalid("Unsupported resource type for ARN %s.", s)
}

// advisorEntity is a principal entity whose accesses a report aggregates.
type advisorEntity struct {
	Kind string `json:"kind"` // kindUser, kindGroup or kindRole
	Name string `json:"name"`
	ID   string `json:"id"`
	ARN  string `json:"arn"`
	Path string `json:"path"`
}

// advisorEntityTypes maps kinds to the policyOwnerEntityType enum.
var advisorEntityTypes = map[string]string{kindUser: "USER", kindGroup: "GROUP", kindRole: "ROLE"}

// advisorLoadEntity reads a user, group or role as an advisorEntity.
func advisorLoadEntity(ctx context.Context, r store.Reader, account, kind, name string) (*advisorEntity, error) {
	e, _, err := get[advisorEntity](ctx, r, account, kind, key(name))
	if err != nil {
		return nil, err
	}
	e.Kind = kind
	return e, nil
}

// advisorEntityByKey reads an entity by its record key.
func advisorEntityByKey(ctx context.Context, r store.Reader, account, kind, k string) (*advisorEntity, error) {
	e, _, err := get[advisorEntity](ctx, r, account, kind, k)
	if err != nil {
		return nil, err
	}
	e.Kind = kind
	return e, nil
}

// advisorPolicy is one identity policy and who it is attached to.
type advisorPolicy struct {
	Name     string
	ARN      string // managed policies
	Document string
	Owner    *advisorEntity // inline policies: the entity embedding it
}

// advisorPoliciesOf lists the identity policies that apply to an entity: its own
// inline and managed policies, and for a user those of its groups. Managed
// policies reached twice count once.
func (s *Service) advisorPoliciesOf(ctx context.Context, r store.Reader, account string, ent *advisorEntity) ([]advisorPolicy, error) {
	owners := []*advisorEntity{ent}
	if ent.Kind == kindUser {
		ref := key(ent.Name)
		members, err := r.List(ctx, store.ListQuery{Account: account, Kind: kindMember, Ref: &ref})
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			g, err := advisorEntityByKey(ctx, r, account, kindGroup, m.Parent)
			if err != nil {
				return nil, fmt.Errorf("iam: group of member %s: %w", m.Key, err)
			}
			owners = append(owners, g)
		}
	}
	var out []advisorPolicy
	seen := map[string]bool{}
	for _, o := range owners {
		owner := polOwner(o.Kind, key(o.Name))
		inl, err := r.List(ctx, store.ListQuery{Account: account, Kind: kindInline, Parent: &owner})
		if err != nil {
			return nil, err
		}
		for _, ir := range inl {
			ip, err := decode[InlinePolicy](ir)
			if err != nil {
				return nil, err
			}
			out = append(out, advisorPolicy{Name: ip.Name, Document: ip.Document, Owner: o})
		}
		att, err := r.List(ctx, store.ListQuery{Account: account, Kind: kindAttachment, Parent: &owner})
		if err != nil {
			return nil, err
		}
		for _, ar := range att {
			if seen[ar.Ref] {
				continue
			}
			seen[ar.Ref] = true
			sp, err := s.managedSourced(ctx, r, account, ar.Ref)
			if err != nil {
				return nil, err
			}
			out = append(out, advisorPolicy{Name: sp.Name, ARN: sp.ARN, Document: sp.Document})
		}
	}
	return out, nil
}

// grantSet is what policies allow, per service namespace: for services with
// tracked actions the set of those actions allowed; for others an empty set.
type grantSet map[string]map[string]bool

// grants computes the services (and tracked actions) a policy document's
// Allow statements grant. Conditions and resources are not evaluated: as in
// AWS, a service counts when some statement allows some action of it.
func grants(doc string) (grantSet, error) { return grantsOf(doc, policy.Identity) }

// grantsOf is grants for a document of the given kind.
func grantsOf(doc string, kind policy.Kind) (grantSet, error) {
	p, err := policy.Parse([]byte(doc), kind)
	if err != nil {
		return nil, fmt.Errorf("iam: parse policy for access advisor: %w", err)
	}
	out := grantSet{}
	for _, st := range p.Statements {
		if st.Effect != policy.Allow {
			continue
		}
		// Services iamd does not host count too when a statement names
		// them: access advisor reports every service a policy allows.
		for _, pat := range st.Action {
			ns, _, ok := strings.Cut(pat, ":")
			ns = strings.ToLower(ns)
			if ok && ns != "" && !strings.ContainsAny(ns, "*?") && advisorServiceByNamespace(ns) == nil && out[ns] == nil {
				out[ns] = map[string]bool{}
			}
		}
		for i := range advisorServices {
			svc := &advisorServices[i]
			allowed, hit := statementGrants(&st, svc)
			if !hit {
				continue
			}
			set := out[svc.Namespace]
			if set == nil {
				set = map[string]bool{}
				out[svc.Namespace] = set
			}
			for _, a := range allowed {
				set[a] = true
			}
		}
	}
	return out, nil
}

// statementGrants reports whether st allows some action of svc and, for
// tracked services, which tracked actions.
func statementGrants(st *policy.Statement, svc *advisorService) (actions []string, hit bool) {
	if st.Action != nil {
		for _, pat := range st.Action {
			if pat == "*" {
				return svc.Actions, true
			}
			ns, act, ok := strings.Cut(pat, ":")
			if !ok || !globMatchFold(ns, svc.Namespace) {
				continue
			}
			hit = true
			for _, a := range svc.Actions {
				if globMatchFold(act, a) && !slices.Contains(actions, a) {
					actions = append(actions, a)
				}
			}
		}
		return actions, hit
	}
	// NotAction: everything not excluded. A service counts unless it is
	// excluded whole ("*" or "svc:*"); tracked actions are checked one by one.
	for _, pat := range st.NotAction {
		if pat == "*" {
			return nil, false
		}
		if ns, act, ok := strings.Cut(pat, ":"); ok && globMatchFold(ns, svc.Namespace) && act == "*" {
			return nil, false
		}
	}
	for _, a := range svc.Actions {
		excluded := false
		for _, pat := range st.NotAction {
			if ns, act, ok := strings.Cut(pat, ":"); ok && globMatchFold(ns, svc.Namespace) && globMatchFold(act, a) {
				excluded = true
				break
			}
		}
		if !excluded {
			actions = append(actions, a)
		}
	}
	if svc.Actions != nil && len(actions) == 0 {
		return nil, false
	}
	return actions, true
}

// globMatchFold matches s against a pattern with * and ? wildcards, ignoring
// case (action names are case-insensitive).
func globMatchFold(pattern, s string) bool {
	p, t := strings.ToLower(pattern), strings.ToLower(s)
	pi, ti, star, mark := 0, 0, -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// AdvisorJob is a stored access advisor report. Reports are computed when
// generated, so a job is complete as soon as it exists.
type AdvisorJob struct {
	ID        string              `json:"id"`
	Type      string              `json:"type"` // granularity
	Created   time.Time           `json:"created"`
	Completed time.Time           `json:"completed"`
	Services  []serviceReport     `json:"services"`
	Entities  map[string][]entAcc `json:"entities,omitempty"` // by namespace
}

// serviceReport is one ServiceLastAccessed entry.
type serviceReport struct {
	Namespace string         `json:"ns"`
	Name      string         `json:"name"`
	Last      *accessMark    `json:"last,omitempty"`
	Entity    string         `json:"entity,omitempty"`
	Total     int64          `json:"total"`
	Actions   []actionReport `json:"actions,omitempty"`
}

type actionReport struct {
	Name   string      `json:"name"`
	Last   *accessMark `json:"last,omitempty"`
	Entity string      `json:"entity,omitempty"`
}

// entAcc is one EntityDetails entry.
type entAcc struct {
	Entity advisorEntity `json:"entity"`
	Last   *time.Time    `json:"last,omitempty"`
}

// reportEntities lists who a report aggregates (the principals whose
// accesses count) and who its WithEntities details list: a user or role
// itself; a group's members; a policy's attached users, roles and groups
// (the members of the groups count as principals).
func (s *Service) reportEntities(ctx context.Context, r store.Reader, account string, t advisorTarget, self *advisorEntity) (principals, listed []*advisorEntity, err error) {
	switch t.kind {
	case kindUser, kindRole:
		return []*advisorEntity{self}, []*advisorEntity{self}, nil
	case kindGroup:
		users, err := s.advisorGroupMembers(ctx, r, account, key(self.Name))
		return users, users, err
	}
	ref := t.name
	att, err := r.List(ctx, store.ListQuery{Account: account, Kind: kindAttachment, Ref: &ref})
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	for _, a := range att {
		kind, k, _ := strings.Cut(a.Parent, ":")
		e, err := advisorEntityByKey(ctx, r, account, kind, k)
		if err != nil {
			return nil, nil, fmt.Errorf("iam: entity %s of attachment: %w", a.Parent, err)
		}
		listed = append(listed, e)
		members := []*advisorEntity{e}
		if kind == kindGroup {
			if members, err = s.advisorGroupMembers(ctx, r, account, k); err != nil {
				return nil, nil, err
			}
		}
		for _, m := range members {
			if id := m.Kind + ":" + m.ID; !seen[id] {
				seen[id] = true
				principals = append(principals, m)
			}
		}
	}
	return principals, listed, nil
}

func (s *Service) advisorGroupMembers(ctx context.Context, r store.Reader, account, groupKey string) ([]*advisorEntity, error) {
	members, err := r.List(ctx, store.ListQuery{Account: account, Kind: kindMember, Parent: &groupKey})
	if err != nil {
		return nil, err
	}
	out := make([]*advisorEntity, 0, len(members))
	for _, m := range members {
		u, err := advisorEntityByKey(ctx, r, account, kindUser, m.Ref)
		if err != nil {
			return nil, fmt.Errorf("iam: member %s: %w", m.Key, err)
		}
		out = append(out, u)
	}
	return out, nil
}

// buildReport computes an access advisor report for t as of now.
func (s *Service) buildReport(ctx context.Context, r store.Reader, account string, t advisorTarget, granularity string) (*AdvisorJob, error) {
	var docs []string
	var self *advisorEntity
	if t.kind == kindPolicy {
		doc, err := s.PolicyDocument(ctx, r, account, t.name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, apierr.New(apierr.NoSuchEntity, "Policy %s does not exist or is not attachable.", t.name)
		}
		if err != nil {
			return nil, err
		}
		docs = []string{doc}
	} else {
		e, err := advisorLoadEntity(ctx, r, account, t.kind, t.name)
		if err != nil {
			return nil, notFound(err, t.kind, t.name)
		}
		self = e
		pols, err := s.advisorPoliciesOf(ctx, r, account, e)
		if err != nil {
			return nil, err
		}
		for _, p := range pols {
			docs = append(docs, p.Document)
		}
	}
	granted := grantSet{}
	for _, d := range docs {
		g, err := grants(d)
		if err != nil {
			return nil, err
		}
		for ns, acts := range g {
			if granted[ns] == nil {
				granted[ns] = map[string]bool{}
			}
			for a := range acts {
				granted[ns][a] = true
			}
		}
	}
	principals, listed, err := s.reportEntities(ctx, r, account, t, self)
	if err != nil {
		return nil, err
	}
	// Each principal's access records, by namespace.
	access := make([]map[string]*ServiceAccess, len(principals))
	for i, p := range principals {
		owner := accessOwner(p.Kind, p.Name)
		recs, err := r.List(ctx, store.ListQuery{Account: account, Kind: kindServiceAccess, Parent: &owner})
		if err != nil {
			return nil, err
		}
		access[i] = map[string]*ServiceAccess{}
		for _, rec := range recs {
			a, err := decode[ServiceAccess](rec)
			if err != nil {
				return nil, err
			}
			access[i][rec.Ref] = a
		}
	}
	job := &AdvisorJob{Type: granularity, Entities: map[string][]entAcc{}}
	for _, svc := range grantedServices(granted) {
		acts := granted[svc.Namespace]
		rep := serviceReport{Namespace: svc.Namespace, Name: svc.Name}
		for j, p := range principals {
			a := access[j][svc.Namespace]
			if a == nil {
				continue
			}
			rep.Total++
			if rep.Last == nil || a.At.After(rep.Last.At) {
				m := a.accessMark
				rep.Last, rep.Entity = &m, p.ARN
			}
		}
		if granularity == granularityAction && svc.Actions != nil {
			for _, name := range svc.Actions {
				if !acts[name] {
					continue
				}
				ar := actionReport{Name: name}
				for j, p := range principals {
					a := access[j][svc.Namespace]
					if a == nil {
						continue
					}
					if m, ok := a.Actions[name]; ok && (ar.Last == nil || m.At.After(ar.Last.At)) {
						ar.Last, ar.Entity = &m, p.ARN
					}
				}
				rep.Actions = append(rep.Actions, ar)
			}
		}
		job.Services = append(job.Services, rep)
		var details []entAcc
		for _, e := range listed {
			d := entAcc{Entity: *e}
			for j, p := range principals {
				// A listed group's time is its latest member's.
				if p.Kind == e.Kind && p.ID == e.ID || e.Kind == kindGroup && s.advisorIsMember(ctx, r, account, e, p) {
					if a := access[j][svc.Namespace]; a != nil && (d.Last == nil || a.At.After(*d.Last)) {
						at := a.At
						d.Last = &at
					}
				}
			}
			details = append(details, d)
		}
		job.Entities[svc.Namespace] = details
	}
	return job, nil
}

// advisorIsMember reports whether user p belongs to group g.
func (s *Service) advisorIsMember(ctx context.Context, r store.Reader, account string, g, p *advisorEntity) bool {
	if p.Kind != kindUser {
		return false
	}
	_, err := r.Get(ctx, account, kindMember, key(g.Name)+"|"+key(p.Name))
	return err == nil
}

// newAdvisorJobID returns a job id in AWS's UUID form (36 characters).
func (s *Service) newAdvisorJobID() string {
	h := s.IDs.Hex(32)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (s *Service) generateServiceLastAccessedDetails(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	t, err := parseAdvisorARN(c, awsproto.Str(in, "Arn"))
	if err != nil {
		return nil, err
	}
	granularity := awsproto.Str(in, "Granularity")
	if granularity == "" {
		granularity = granularityService
	}
	job, err := s.buildReport(ctx, s.Store, c.Account, t, granularity)
	if err != nil {
		return nil, err
	}
	job.ID = s.newAdvisorJobID()
	job.Created, job.Completed = now(c), now(c)
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		return tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindAdvisorJob, Key: job.ID, Data: encode(job)})
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"JobId": job.ID}, nil
}

// loadJob reads a job of the caller's account; NoSuchEntity when unknown.
func (s *Service) loadJob(ctx context.Context, c *service.Call, id string) (*AdvisorJob, error) {
	job, _, err := get[AdvisorJob](ctx, s.Store, c.Account, kindAdvisorJob, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.New(apierr.NoSuchEntity, "No such job: %s", id)
	}
	return job, err
}

// advisorPageBounds reads Marker/MaxItems for an in-memory list of n items.
func advisorPageBounds(in map[string]any, n int) (start, end int, err error) {
	if m := awsproto.Str(in, "Marker"); m != "" {
		b, derr := base64.RawURLEncoding.DecodeString(m)
		i, cerr := strconv.Atoi(string(b))
		if derr != nil || cerr != nil || i < 0 || i > n {
			return 0, 0, apierr.Invalid("Invalid Marker.")
		}
		start = i
	}
	limit := 100
	if v, ok := awsproto.Int(in, "MaxItems"); ok {
		limit = int(v)
	}
	return start, min(start+limit, n), nil
}

// advisorPageOut sets IsTruncated and Marker for an in-memory page.
func advisorPageOut(out map[string]any, end, n int) map[string]any {
	out["IsTruncated"] = end < n
	if end < n {
		out["Marker"] = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	return out
}

func (job *AdvisorJob) header() map[string]any {
	return map[string]any{"JobStatus": "COMPLETED", "JobCreationDate": job.Created, "JobCompletionDate": job.Completed}
}

func (s *Service) getServiceLastAccessedDetails(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	job, err := s.loadJob(ctx, c, awsproto.Str(in, "JobId"))
	if err != nil {
		return nil, err
	}
	start, end, err := advisorPageBounds(in, len(job.Services))
	if err != nil {
		return nil, err
	}
	list := make([]any, 0, end-start)
	for _, r := range job.Services[start:end] {
		m := map[string]any{"ServiceName": r.Name, "ServiceNamespace": r.Namespace, "TotalAuthenticatedEntities": r.Total}
		if r.Last != nil {
			m["LastAuthenticated"] = r.Last.At
			m["LastAuthenticatedEntity"] = r.Entity
			m["LastAuthenticatedRegion"] = r.Last.Region
		}
		if job.Type == granularityAction && r.Actions != nil {
			acts := make([]any, 0, len(r.Actions))
			for _, a := range r.Actions {
				am := map[string]any{"ActionName": a.Name}
				if a.Last != nil {
					am["LastAccessedTime"] = a.Last.At
					am["LastAccessedEntity"] = a.Entity
					am["LastAccessedRegion"] = a.Last.Region
				}
				acts = append(acts, am)
			}
			m["TrackedActionsLastAccessed"] = acts
		}
		list = append(list, m)
	}
	out := job.header()
	out["JobType"] = job.Type
	out["ServicesLastAccessed"] = list
	return advisorPageOut(out, end, len(job.Services)), nil
}

func (s *Service) getServiceLastAccessedDetailsWithEntities(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	job, err := s.loadJob(ctx, c, awsproto.Str(in, "JobId"))
	if err != nil {
		return nil, err
	}
	ents := job.Entities[awsproto.Str(in, "ServiceNamespace")]
	start, end, err := advisorPageBounds(in, len(ents))
	if err != nil {
		return nil, err
	}
	list := make([]any, 0, end-start)
	for _, e := range ents[start:end] {
		info := map[string]any{"Arn": e.Entity.ARN, "Name": e.Entity.Name, "Type": advisorEntityTypes[e.Entity.Kind], "Id": e.Entity.ID}
		if e.Entity.Path != "" {
			info["Path"] = e.Entity.Path
		}
		m := map[string]any{"EntityInfo": info}
		if e.Last != nil {
			m["LastAuthenticated"] = *e.Last
		}
		list = append(list, m)
	}
	out := job.header()
	out["EntityDetailsList"] = list
	return advisorPageOut(out, end, len(ents)), nil
}

func (s *Service) listPoliciesGrantingServiceAccess(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	t, err := parseAdvisorARN(c, awsproto.Str(in, "Arn"))
	if err != nil {
		return nil, err
	}
	if t.kind == kindPolicy {
		return nil, apierr.Invalid("Unsupported resource type for ARN %s.", awsproto.Str(in, "Arn"))
	}
	e, err := advisorLoadEntity(ctx, s.Store, c.Account, t.kind, t.name)
	if err != nil {
		return nil, notFound(err, t.kind, t.name)
	}
	pols, err := s.advisorPoliciesOf(ctx, s.Store, c.Account, e)
	if err != nil {
		return nil, err
	}
	granted := make([]grantSet, len(pols))
	for i, p := range pols {
		if granted[i], err = grants(p.Document); err != nil {
			return nil, err
		}
	}
	var entries []any
	for _, ns := range awsproto.Strings(in, "ServiceNamespaces") {
		list := []any{}
		for i, p := range pols {
			if _, ok := granted[i][strings.ToLower(ns)]; !ok {
				continue
			}
			m := map[string]any{"PolicyName": p.Name}
			if p.Owner != nil {
				m["PolicyType"] = "INLINE"
				m["EntityType"] = advisorEntityTypes[p.Owner.Kind]
				m["EntityName"] = p.Owner.Name
			} else {
				m["PolicyType"] = "MANAGED"
				m["PolicyArn"] = p.ARN
			}
			list = append(list, m)
		}
		entries = append(entries, map[string]any{"ServiceNamespace": ns, "Policies": list})
	}
	return map[string]any{"PoliciesGrantingServiceAccess": entries, "IsTruncated": false}, nil
}

// Organizations access reports
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_last-accessed-view-data-orgs.html).

// Record kinds of the organizations package this report reads: its member
// index (key = account id, in the management account) and its policies
// (key = policy id). Only these two are read, and only their documented
// fields.
const (
	orgMemberKind = "orgaccount"
	orgPolicyKind = "orgpolicy"
)

// fullAWSAccess is the AWS managed SCP that allows everything.
const fullAWSAccess = "p-FullAWSAccess"

// orgReport is a stored Organizations access report.
type orgReport struct {
	Created   time.Time        `json:"created"`
	Completed time.Time        `json:"completed"`
	Failed    *orgReportError  `json:"failed,omitempty"`
	Details   []orgAccessEntry `json:"details,omitempty"`
}

type orgReportError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// orgAccessEntry is one AccessDetail.
type orgAccessEntry struct {
	Namespace  string      `json:"ns"`
	Name       string      `json:"name"`
	Last       *accessMark `json:"last,omitempty"`
	EntityPath string      `json:"path,omitempty"`
	Total      int64       `json:"total"`
}

// kindOrgReport: Organizations access report jobs, key = job id.
const kindOrgReport = "orgaccessjob"

func (s *Service) generateOrganizationsAccessReport(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	rep, err := s.buildOrgReport(ctx, s.Store, c.Account, awsproto.Str(in, "EntityPath"), awsproto.Str(in, "OrganizationsPolicyId"))
	if err != nil {
		return nil, err
	}
	rep.Created, rep.Completed = now(c), now(c)
	id := s.newAdvisorJobID()
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		return tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindOrgReport, Key: id, Data: encode(rep)})
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"JobId": id}, nil
}

// buildOrgReport computes the report for the organization entity at path
// (root, OU or account). The caller must be the organization's management
// account; otherwise, as when the path names nothing of the organization,
// the job is generated and reports FAILED with the reason.
func (s *Service) buildOrgReport(ctx context.Context, r store.Reader, account, path, policyID string) (*orgReport, error) {
	orgs := &organizations.Service{Store: s.Store}
	g, err := orgs.Guardrails(ctx, r, account)
	if err != nil {
		return nil, err
	}
	if g == nil || g.ManagementAccount != account {
		return &orgReport{Failed: &orgReportError{Code: "AccessDenied", Message: "Organizations access reports can be generated only by the management account of an organization."}}, nil
	}
	path = strings.TrimSuffix(path, "/") + "/"
	if !strings.HasPrefix(path, g.OrgID+"/") {
		return &orgReport{Failed: &orgReportError{Code: "EntityNotFound", Message: "The entity path " + path + " does not belong to your organization."}}, nil
	}
	var only grantSet
	if policyID != "" {
		doc, err := s.orgPolicyContent(ctx, r, account, policyID)
		if err != nil {
			return nil, err
		}
		if doc == "" {
			return &orgReport{Failed: &orgReportError{Code: "PolicyNotFound", Message: "Policy " + policyID + " does not exist."}}, nil
		}
		if only, err = grantsOf(doc, policy.SCP); err != nil {
			return nil, err
		}
	}
	members, err := r.List(ctx, store.ListQuery{Account: account, Kind: orgMemberKind})
	if err != nil {
		return nil, err
	}
	accessible := map[string]bool{}
	byService := map[string]*orgAccessEntry{}
	found := false
	for _, m := range members {
		mg, err := orgs.Guardrails(ctx, r, m.Key)
		if err != nil {
			return nil, err
		}
		if mg == nil || len(mg.OrgPaths) == 0 {
			continue
		}
		acctPath := mg.OrgPaths[0] + m.Key + "/"
		if !strings.HasPrefix(acctPath, path) && !strings.HasPrefix(mg.OrgPaths[0], path) {
			continue
		}
		found = true
		allowed, err := scpAllowed(mg.SCPs)
		if err != nil {
			return nil, err
		}
		for ns := range allowed {
			if only == nil || only[ns] != nil {
				accessible[ns] = true
			}
		}
		recs, err := r.List(ctx, store.ListQuery{Account: m.Key, Kind: kindServiceAccess})
		if err != nil {
			return nil, err
		}
		for _, rec := range recs {
			if !accessible[rec.Ref] || allowed[rec.Ref] == nil {
				continue
			}
			a, err := decode[ServiceAccess](rec)
			if err != nil {
				return nil, err
			}
			e := byService[rec.Ref]
			if e == nil {
				e = &orgAccessEntry{Namespace: rec.Ref}
				byService[rec.Ref] = e
			}
			e.Total++
			if e.Last == nil || a.At.After(e.Last.At) {
				mark := a.accessMark
				e.Last, e.EntityPath = &mark, strings.TrimSuffix(acctPath, "/")
			}
		}
	}
	if !found {
		return &orgReport{Failed: &orgReportError{Code: "EntityNotFound", Message: "The entity path " + path + " does not belong to your organization."}}, nil
	}
	rep := &orgReport{}
	for _, svc := range advisorServices {
		if !accessible[svc.Namespace] {
			continue
		}
		e := orgAccessEntry{Namespace: svc.Namespace, Name: svc.Name}
		if got := byService[svc.Namespace]; got != nil {
			e.Last, e.EntityPath, e.Total = got.Last, got.EntityPath, got.Total
		}
		rep.Details = append(rep.Details, e)
	}
	return rep, nil
}

// orgPolicyContent reads an organization policy's document; "" when there
// is no such policy.
func (s *Service) orgPolicyContent(ctx context.Context, r store.Reader, mgmt, id string) (string, error) {
	if id == fullAWSAccess {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, nil
	}
	p, _, err := get[struct {
		Content string `json:"content"`
	}](ctx, r, mgmt, orgPolicyKind, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return p.Content, nil
}

// scpAllowed is the services every SCP level allows (all services when
// SCPs do not apply, as for the management account).
func scpAllowed(levels [][]string) (grantSet, error) {
	all := grantSet{}
	for _, svc := range advisorServices {
		all[svc.Namespace] = map[string]bool{}
	}
	for _, level := range levels {
		lv := grantSet{}
		for _, doc := range level {
			g, err := grantsOf(doc, policy.SCP)
			if err != nil {
				return nil, err
			}
			for ns := range g {
				lv[ns] = map[string]bool{}
			}
		}
		for ns := range all {
			if lv[ns] == nil {
				delete(all, ns)
			}
		}
	}
	return all, nil
}

func (s *Service) getOrganizationsAccessReport(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	id := awsproto.Str(in, "JobId")
	rep, _, err := get[orgReport](ctx, s.Store, c.Account, kindOrgReport, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.New(apierr.NoSuchEntity, "No such job: %s", id)
	}
	if err != nil {
		return nil, err
	}
	out := map[string]any{"JobCreationDate": rep.Created}
	if rep.Failed != nil {
		out["JobStatus"] = "FAILED"
		out["JobCompletionDate"] = rep.Completed
		out["ErrorDetails"] = map[string]any{"Code": rep.Failed.Code, "Message": rep.Failed.Message}
		return out, nil
	}
	out["JobStatus"] = "COMPLETED"
	out["JobCompletionDate"] = rep.Completed
	details := slices.Clone(rep.Details)
	sortOrgDetails(details, awsproto.Str(in, "SortKey"))
	notAccessed := int64(0)
	for _, d := range details {
		if d.Last == nil {
			notAccessed++
		}
	}
	out["NumberOfServicesAccessible"] = int64(len(details))
	out["NumberOfServicesNotAccessed"] = notAccessed
	start, end, err := advisorPageBounds(in, len(details))
	if err != nil {
		return nil, err
	}
	list := make([]any, 0, end-start)
	for _, d := range details[start:end] {
		m := map[string]any{"ServiceName": d.Name, "ServiceNamespace": d.Namespace}
		if d.Last != nil {
			m["LastAuthenticatedTime"] = d.Last.At
			m["Region"] = d.Last.Region
			m["EntityPath"] = d.EntityPath
			m["TotalAuthenticatedEntities"] = d.Total
		}
		list = append(list, m)
	}
	out["AccessDetails"] = list
	return advisorPageOut(out, end, len(details)), nil
}

// sortOrgDetails orders a report by GetOrganizationsAccessReport's SortKey
// (namespace ascending when absent). Never-accessed services sort as the
// oldest.
func sortOrgDetails(d []orgAccessEntry, sortKey string) {
	at := func(e orgAccessEntry) time.Time {
		if e.Last == nil {
			return time.Time{}
		}
		return e.Last.At
	}
	slices.SortStableFunc(d, func(a, b orgAccessEntry) int {
		switch sortKey {
		case "SERVICE_NAMESPACE_DESCENDING":
			return strings.Compare(b.Namespace, a.Namespace)
		case "LAST_AUTHENTICATED_TIME_ASCENDING":
			return at(a).Compare(at(b))
		case "LAST_AUTHENTICATED_TIME_DESCENDING":
			return at(b).Compare(at(a))
		}
		return strings.Compare(a.Namespace, b.Namespace)
	})
}
