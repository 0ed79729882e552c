package iam

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// Role is the stored IAM role. STS reads it (LookupRole) to assume it.
type Role struct {
	Name        string `json:"name"`
	ID          string `json:"id"`
	Path        string `json:"path"`
	ARN         string `json:"arn"`
	TrustPolicy string `json:"trust"` // AssumeRolePolicyDocument as given (raw JSON)
	// TrustIDs pins each IAM user or role the trust policy names to the
	// unique id it had when the policy was written: AWS trusts that entity,
	// not a later one recreated under the same name
	// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
	TrustIDs           map[string]string `json:"trustIds,omitempty"` // principal ARN → AIDA…/AROA…
	Description        string            `json:"desc,omitempty"`
	MaxSessionDuration int64             `json:"maxSession"`         // seconds
	Boundary           string            `json:"boundary,omitempty"` // permissions boundary policy ARN
	Tags               []Tag             `json:"tags,omitempty"`
	Created            time.Time         `json:"created"`
	LastUsed           *RoleUse          `json:"lastUsed,omitempty"`
	// LinkedService is the service principal of a service-linked role
	// (elasticbeanstalk.amazonaws.com); empty for ordinary roles.
	LinkedService string `json:"linkedService,omitempty"`
}

// RoleUse is when and where a role was last used to make a request
// (GetRole's RoleLastUsed).
type RoleUse struct {
	Date   time.Time `json:"date"`
	Region string    `json:"region,omitempty"`
}

// ServiceLinked reports whether the role is service-linked: only its service
// may change it, and only DeleteServiceLinkedRole deletes it.
func (r *Role) ServiceLinked() bool { return r.LinkedService != "" }

// Role quotas and limits, from "IAM and AWS STS quotas"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
const (
	maxRoles              = 1000 // roles per account
	maxTrustPolicySize    = 2048 // role trust policy length, non-whitespace characters
	defaultSessionSeconds = 3600 // MaxSessionDuration when not given
)

// KindRole is the record kind of roles, for STS.
const KindRole = kindRole

// roleOwner is the Parent/owner reference of a role's inline policies and
// attachments.
func roleOwner(roleKey string) string { return "role:" + roleKey }

// roleView selects the members a role's response carries: AWS's list
// operations leave out tags, the boundary and last use.
type roleView int

const (
	roleList   roleView = iota // ListRoles, instance profiles' Roles
	roleCreate                 // CreateRole, CreateServiceLinkedRole: + boundary, tags
	roleFull                   // GetRole, UpdateRoleDescription: + RoleLastUsed
)

func (r *Role) out(v roleView) map[string]any {
	m := map[string]any{
		"RoleName": r.Name, "RoleId": r.ID, "Path": r.Path, "Arn": r.ARN, "CreateDate": r.Created,
		"AssumeRolePolicyDocument": escapePolicy(r.TrustPolicy),
		"MaxSessionDuration":       r.MaxSessionDuration,
	}
	if r.Description != "" {
		m["Description"] = r.Description
	}
	if v >= roleCreate {
		if r.Boundary != "" {
			m["PermissionsBoundary"] = boundaryOut(r.Boundary)
		}
		withTags(m, r.Tags)
	}
	if v == roleFull {
		// GetRole always carries RoleLastUsed, empty for a role never used.
		lu := map[string]any{}
		if r.LastUsed != nil {
			lu["LastUsedDate"] = r.LastUsed.Date
			if r.LastUsed.Region != "" {
				lu["Region"] = r.LastUsed.Region
			}
		}
		m["RoleLastUsed"] = lu
	}
	return m
}

func (s *Service) roleHandlers(m map[string]service.Handler) {
	m["CreateRole"] = s.createRole
	m["GetRole"] = s.getRole
	m["ListRoles"] = s.listRoles
	m["UpdateRole"] = s.updateRole
	m["UpdateRoleDescription"] = s.updateRoleDescription
	m["UpdateAssumeRolePolicy"] = s.updateAssumeRolePolicy
	m["DeleteRole"] = s.deleteRole
	m["PutRolePermissionsBoundary"] = s.putRolePermissionsBoundary
	m["DeleteRolePermissionsBoundary"] = s.deleteRolePermissionsBoundary
	m["CreateServiceLinkedRole"] = s.createServiceLinkedRole
	m["DeleteServiceLinkedRole"] = s.deleteServiceLinkedRole
	m["GetServiceLinkedRoleDeletionStatus"] = s.getServiceLinkedRoleDeletionStatus
}

// LookupRole reads a role by name, for STS AssumeRole. A missing role is
// IAM's NoSuchEntity.
func LookupRole(ctx context.Context, r store.Reader, account, name string) (*Role, error) {
	role, _, err := loadRole(ctx, r, account, name)
	return role, err
}

// LookupRoleByID reads a role by its unique id (AROA…) in any account.
func LookupRoleByID(ctx context.Context, r store.Reader, id string) (*Role, error) {
	rec, err := r.GetByID(ctx, kindRole, id)
	if err != nil {
		return nil, err
	}
	return decode[Role](rec)
}

// RecordRoleUse notes that the role was used at the given time from region
// (GetRole's RoleLastUsed). An older use than the one recorded changes
// nothing, so concurrent reporters cannot move it backwards.
func (s *Service) RecordRoleUse(ctx context.Context, account, roleName string, at time.Time, region string) error {
	at = at.UTC().Truncate(time.Second)
	// Each write invalidates the account's authorization caches, and
	// AssumeRole calls this every time: a use less than a minute after the
	// recorded one, in the same region, is not written (AWS's last-used
	// data is itself approximate). The check reads outside a transaction
	// so a skipped write takes no write lock.
	if role, err := LookupRole(ctx, s.Store, account, roleName); err == nil && role.LastUsed != nil {
		lu := role.LastUsed
		if !at.After(lu.Date) || (at.Sub(lu.Date) < roleUseInterval && lu.Region == region) {
			return nil
		}
	}
	return s.Store.WithTx(ctx, func(tx store.Tx) error {
		role, rec, err := loadRole(ctx, tx, account, roleName)
		if err != nil {
			return err
		}
		if role.LastUsed != nil && !at.After(role.LastUsed.Date) {
			return nil
		}
		role.LastUsed = &RoleUse{Date: at, Region: region}
		rec.Data = encode(role)
		return tx.Update(ctx, rec)
	})
}

// roleUseInterval bounds how often one role's last use is written.
const roleUseInterval = time.Minute

// loadRole reads a role by name, answering NoSuchEntity as IAM does.
func loadRole(ctx context.Context, r store.Reader, account, name string) (*Role, store.Record, error) {
	role, rec, err := get[Role](ctx, r, account, kindRole, key(name))
	return role, rec, notFound(err, "role", name)
}

// checkTrustPolicy validates an AssumeRolePolicyDocument: the trust grammar,
// then the size quota.
func checkTrustPolicy(doc string) error {
	if _, err := policy.Parse([]byte(doc), policy.Trust); err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			return &apierr.Error{Code: pe.Code, Message: pe.Message}
		}
		return fmt.Errorf("iam: parse trust policy: %w", err)
	}
	if policy.Size([]byte(doc)) > maxTrustPolicySize {
		return apierr.Limit("Cannot exceed quota for ACLSizePerRole: %d", maxTrustPolicySize)
	}
	return nil
}

// checkTrustPrincipals refuses a trust policy that names, as an AWS
// principal, an IAM user or role that does not exist in an account this
// server holds: AWS answers MalformedPolicyDocument "Invalid principal in
// policy" for such a document
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
// Accounts and account ARNs are accepted as they are; so are principals of
// accounts this server does not hold, which it cannot check.
//
// It returns the unique ids of the users and roles the policy names.
func checkTrustPrincipals(ctx context.Context, r store.Reader, doc string) (map[string]string, error) {
	pol, err := policy.Parse([]byte(doc), policy.Trust)
	if err != nil {
		return nil, err // already refused by checkTrustPolicy
	}
	var ids map[string]string
	for _, st := range pol.Statements {
		if st.Principal == nil {
			continue
		}
		for _, p := range st.Principal.AWS {
			a, err := arn.Parse(p)
			if err != nil || a.Service != "iam" {
				continue
			}
			typ, rest, _ := strings.Cut(a.Resource, "/")
			if typ != "user" && typ != "role" || strings.ContainsAny(rest, "*?") {
				continue
			}
			if _, err := accounts.Get(ctx, r, a.Account); err != nil {
				continue // not an account this server holds
			}
			name := rest[strings.LastIndexByte(rest, '/')+1:]
			kind := kindUser
			if typ == "role" {
				kind = kindRole
			}
			rec, err := r.Get(ctx, a.Account, kind, key(name))
			if errors.Is(err, store.ErrNotFound) {
				return nil, apierr.New(apierr.MalformedPolicyDocument, "Invalid principal in policy: \"AWS\":\"%s\"", p)
			} else if err != nil {
				return nil, err
			}
			if ids == nil {
				ids = map[string]string{}
			}
			ids[p] = rec.ID
		}
	}
	return ids, nil
}

// protectedRole is IAM's refusal to change a service-linked role through the
// ordinary role operations, worded as AWS words it (seen in the wild, e.g.
// https://github.com/rebuy-de/aws-nuke/issues/331).
func protectedRole(name string) error {
	return apierr.New(apierr.UnmodifiableEntity, "Cannot perform the operation on the protected role '%s' - this role is only modifiable by AWS", name)
}

// insertRole stores a new role, enforcing the account's role quota.
func insertRole(ctx context.Context, tx store.Tx, c *service.Call, role *Role) error {
	if err := checkQuota(ctx, tx, store.ListQuery{Account: c.Account, Kind: kindRole}, maxRoles, apierr.Limit("Cannot exceed quota for RolesPerAccount: %d", maxRoles)); err != nil {
		return err
	}
	return tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindRole, Key: key(role.Name), ID: role.ID, Path: role.Path, Ref: role.Boundary, Data: encode(role), Created: role.Created})
}

func (s *Service) createRole(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name := awsproto.Str(in, "RoleName")
	doc := awsproto.Str(in, "AssumeRolePolicyDocument")
	if err := checkTrustPolicy(doc); err != nil {
		return nil, err
	}
	tags, err := tagsIn(in)
	if err != nil {
		return nil, err
	}
	maxSession := int64(defaultSessionSeconds)
	if n, ok := awsproto.Int(in, "MaxSessionDuration"); ok {
		maxSession = n
	}
	path := pathOr(in)
	role := &Role{
		Name: name, ID: s.IDs.Unique(ids.Role), Path: path, ARN: iamARN(c, "role", path, name),
		TrustPolicy: doc, Description: awsproto.Str(in, "Description"), MaxSessionDuration: maxSession,
		Tags: tags, Created: now(c),
	}
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		if role.TrustIDs, err = checkTrustPrincipals(ctx, tx, doc); err != nil {
			return err
		}
		if b := awsproto.Str(in, "PermissionsBoundary"); b != "" {
			if err := s.checkBoundary(ctx, tx, c, b); err != nil {
				return err
			}
			role.Boundary = b
		}
		err := insertRole(ctx, tx, c, role)
		if errors.Is(err, store.ErrConflict) {
			return apierr.Exists("Role", name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"Role": role.out(roleCreate)}, nil
}

func (s *Service) getRole(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	role, _, err := loadRole(ctx, s.Store, c.Account, awsproto.Str(in, "RoleName"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"Role": role.out(roleFull)}, nil
}

func (s *Service) listRoles(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	return listOut(ctx, s.Store, store.ListQuery{Account: c.Account, Kind: kindRole, PathPrefix: awsproto.Str(in, "PathPrefix")}, in, "Roles", func(role *Role) any {
		// ListRoles leaves out tags, boundary and RoleLastUsed:
		// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoles.html
		return role.out(roleList)
	})
}

func (s *Service) updateRole(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	_, err := modify(ctx, s.Store, c, in, roleIn, func(_ store.Tx, r *Role) error {
		if n, ok := awsproto.Int(in, "MaxSessionDuration"); ok {
			// The service owns its role's sessions; the description stays editable.
			if r.ServiceLinked() {
				return protectedRole(r.Name)
			}
			r.MaxSessionDuration = n
		}
		// Description present but empty clears it.
		if _, ok := in["Description"]; ok {
			r.Description = awsproto.Str(in, "Description")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) updateRoleDescription(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	role, err := modify(ctx, s.Store, c, in, roleIn, func(_ store.Tx, r *Role) error {
		r.Description = awsproto.Str(in, "Description")
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"Role": role.out(roleFull)}, nil
}

func (s *Service) updateAssumeRolePolicy(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	doc := awsproto.Str(in, "PolicyDocument")
	_, err := modify(ctx, s.Store, c, in, roleIn, func(tx store.Tx, r *Role) error {
		if r.ServiceLinked() {
			return protectedRole(r.Name)
		}
		if err := checkTrustPolicy(doc); err != nil {
			return err
		}
		ids, err := checkTrustPrincipals(ctx, tx, doc)
		if err != nil {
			return err
		}
		r.TrustPolicy, r.TrustIDs = doc, ids
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// checkRoleDeletable refuses, with IAM's messages, to delete a role that is
// still in an instance profile or has policies.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html
func checkRoleDeletable(ctx context.Context, tx store.Tx, account, roleKey string) error {
	return checkConflicts(ctx, tx, append(
		[]conflict{{byRef(account, kindProfileRole, roleKey), "Cannot delete entity, must remove roles from instance profile first."}},
		policyConflicts(account, roleOwner(roleKey))...)...)
}

func (s *Service) deleteRole(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name := awsproto.Str(in, "RoleName")
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		role, rec, err := loadRole(ctx, tx, c.Account, name)
		if err != nil {
			return err
		}
		if role.ServiceLinked() {
			return protectedRole(role.Name)
		}
		if err := checkRoleDeletable(ctx, tx, c.Account, rec.Key); err != nil {
			return err
		}
		return tx.Delete(ctx, c.Account, kindRole, rec.Key)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) putRolePermissionsBoundary(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	b := awsproto.Str(in, "PermissionsBoundary")
	_, err := modify(ctx, s.Store, c, in, roleIn, func(tx store.Tx, r *Role) error {
		if r.ServiceLinked() {
			return protectedRole(r.Name)
		}
		if err := s.checkBoundary(ctx, tx, c, b); err != nil {
			return err
		}
		r.Boundary = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) deleteRolePermissionsBoundary(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	_, err := modify(ctx, s.Store, c, in, roleIn, func(_ store.Tx, r *Role) error {
		if r.ServiceLinked() {
			return protectedRole(r.Name)
		}
		r.Boundary = ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// Service-linked roles.

// kindSLRDeletion is the record kind of service-linked role deletion tasks:
// key = the DeletionTaskId.
const kindSLRDeletion = "slrdeletion"

// slrDeletion is a stored deletion task. Deletion here completes inside the
// DeleteServiceLinkedRole call (no linked service can hold the role), so a
// task is always SUCCEEDED once it exists.
type slrDeletion struct {
	Role    string    `json:"role"`
	Service string    `json:"service"`
	Created time.Time `json:"created"`
}

// slrNames are the role names of common services' service-linked roles,
// after "AWSServiceRoleFor", where they do not follow from the principal.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_aws-services-that-work-with-iam.html
var slrNames = map[string]string{
	"access-analyzer.amazonaws.com":                  "AccessAnalyzer",
	"autoscaling.amazonaws.com":                      "AutoScaling",
	"backup.amazonaws.com":                           "Backup",
	"cloudtrail.amazonaws.com":                       "CloudTrail",
	"compute-optimizer.amazonaws.com":                "ComputeOptimizer",
	"config.amazonaws.com":                           "Config",
	"dynamodb.application-autoscaling.amazonaws.com": "ApplicationAutoScaling_DynamoDBTable",
	"ecs.amazonaws.com":                              "ECS",
	"ecs.application-autoscaling.amazonaws.com":      "ApplicationAutoScaling_ECSService",
	"eks.amazonaws.com":                              "AmazonEKS",
	"eks-nodegroup.amazonaws.com":                    "AmazonEKSNodegroup",
	"elasticache.amazonaws.com":                      "ElastiCache",
	"elasticbeanstalk.amazonaws.com":                 "ElasticBeanstalk",
	"elasticloadbalancing.amazonaws.com":             "ElasticLoadBalancing",
	"es.amazonaws.com":                               "AmazonElasticsearchService",
	"guardduty.amazonaws.com":                        "AmazonGuardDuty",
	"opensearchservice.amazonaws.com":                "AmazonOpenSearchService",
	"organizations.amazonaws.com":                    "Organizations",
	"rds.amazonaws.com":                              "RDS",
	"redshift.amazonaws.com":                         "Redshift",
	"securityhub.amazonaws.com":                      "SecurityHub",
	"spot.amazonaws.com":                             "EC2Spot",
	"spotfleet.amazonaws.com":                        "EC2SpotFleet",
	"ssm.amazonaws.com":                              "AmazonSSM",
	"sso.amazonaws.com":                              "SSO",
	"support.amazonaws.com":                          "Support",
	"trustedadvisor.amazonaws.com":                   "TrustedAdvisor",
}

// slrServiceSuffix is how service principals end.
const slrServiceSuffix = ".amazonaws.com"

// slrRoleName derives a service-linked role's name from the service
// principal and an optional custom suffix: AWSServiceRoleFor + the service's
// name (from slrNames, else the principal's labels in CamelCase:
// "foo-bar.amazonaws.com" → "FooBar"), then "_" + suffix.
func slrRoleName(servicePrincipal, suffix string) (string, error) {
	base, ok := slrNames[servicePrincipal]
	if !ok {
		label, found := strings.CutSuffix(servicePrincipal, slrServiceSuffix)
		if !found || label == "" {
			return "", apierr.Invalid("Invalid ServiceName: %s", servicePrincipal)
		}
		var b strings.Builder
		for _, part := range strings.FieldsFunc(label, func(r rune) bool { return r == '.' || r == '-' || r == '_' }) {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
		base = b.String()
		if base == "" {
			return "", apierr.Invalid("Invalid ServiceName: %s", servicePrincipal)
		}
	}
	name := "AWSServiceRoleFor" + base
	if suffix != "" {
		name += "_" + suffix
	}
	if len(name) > 64 {
		return "", apierr.Invalid("The role name %s is longer than 64 characters; use a shorter CustomSuffix.", name)
	}
	return name, nil
}

// slrTrustPolicy lets only the linked service assume the role.
func slrTrustPolicy(servicePrincipal string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":%q},"Action":"sts:AssumeRole"}]}`, servicePrincipal)
}

func (s *Service) createServiceLinkedRole(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	svc := awsproto.Str(in, "AWSServiceName")
	name, err := slrRoleName(svc, awsproto.Str(in, "CustomSuffix"))
	if err != nil {
		return nil, err
	}
	path := "/aws-service-role/" + svc + "/"
	role := &Role{
		Name: name, ID: s.IDs.Unique(ids.Role), Path: path, ARN: iamARN(c, "role", path, name),
		TrustPolicy: slrTrustPolicy(svc), Description: awsproto.Str(in, "Description"),
		MaxSessionDuration: defaultSessionSeconds, Created: now(c), LinkedService: svc,
	}
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		err := insertRole(ctx, tx, c, role)
		if errors.Is(err, store.ErrConflict) {
			// IAM answers a taken name with InvalidInput, not EntityAlreadyExists
			// (as reported from AWS in e.g.
			// https://github.com/Rayraegah/terraform-aws-hasura/issues/17).
			return apierr.Invalid("Service role name %s has been taken in this account, please try a different suffix.", name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"Role": role.out(roleCreate)}, nil
}

func (s *Service) deleteServiceLinkedRole(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name := awsproto.Str(in, "RoleName")
	var taskID string
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		role, rec, err := loadRole(ctx, tx, c.Account, name)
		if err != nil {
			return err
		}
		if !role.ServiceLinked() {
			// The operation declares no InvalidInput: an ordinary role is,
			// to it, no service-linked role by that name.
			return apierr.New(apierr.NoSuchEntity, "The service-linked role with name %s cannot be found.", role.Name)
		}
		// The service removes its own role's policies along with the role;
		// an instance profile still holding it blocks deletion as for any role.
		ref := rec.Key
		n, err := tx.Count(ctx, byRef(c.Account, kindProfileRole, ref))
		if err != nil {
			return err
		}
		if n > 0 {
			return apierr.New(apierr.DeleteConflict, "Cannot delete entity, must remove roles from instance profile first.")
		}
		owner := roleOwner(rec.Key)
		for _, kind := range []string{kindInline, kindAttachment} {
			if _, err := tx.DeleteAll(ctx, byParent(c.Account, kind, owner)); err != nil {
				return err
			}
		}
		if err := tx.Delete(ctx, c.Account, kindRole, rec.Key); err != nil {
			return err
		}
		taskID = "task/aws-service-role/" + role.LinkedService + "/" + role.Name + "/" + s.IDs.RequestID()
		task := slrDeletion{Role: role.Name, Service: role.LinkedService, Created: now(c)}
		return tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindSLRDeletion, Key: taskID, Data: encode(task), Created: task.Created})
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"DeletionTaskId": taskID}, nil
}

func (s *Service) getServiceLinkedRoleDeletionStatus(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	id := awsproto.Str(in, "DeletionTaskId")
	// task/aws-service-role/<service principal>/<role name>/<uuid>
	parts := strings.Split(id, "/")
	if len(parts) != 5 || parts[0] != "task" || parts[1] != "aws-service-role" || parts[2] == "" || parts[3] == "" || parts[4] == "" {
		return nil, apierr.Invalid("Invalid deletion task id: %s", id)
	}
	if _, err := s.Store.Get(ctx, c.Account, kindSLRDeletion, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, apierr.New(apierr.NoSuchEntity, "The deletion task with id %s cannot be found.", id)
		}
		return nil, err
	}
	return map[string]any{"Status": "SUCCEEDED"}, nil
}
