package authz

import (
	"context"
	"errors"
	"strings"

	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/service/iam"
	"github.com/iamd/iamd/internal/store"
)

// authReq is one (action, resource) pair a call must be allowed.
type authReq struct {
	action, resource string
	tags             []iam.Tag // the resource's tags, when it is an existing IAM entity
}

// requests lists what an operation must be allowed: its actions from the
// reference's operation table, each on the resource ARN built from the
// input. Tag actions are checked only when the request carries tags, as
// AWS's action descriptions say.
// They are appended to out (a caller's stack buffer, usually).
func (a *Authorizer) requests(ctx context.Context, c *service.Call, op string, in map[string]any, out []authReq) ([]authReq, error) {
	actions := a.Catalog.Operation(c.Service, op)
	for _, oa := range actions {
		name := oa.Action[strings.IndexByte(oa.Action, ':')+1:]
		extra := !strings.EqualFold(name, op)
		switch {
		case !extra:
		case strings.HasPrefix(name, "Tag"):
			if len(awsproto.List(in, "Tags")) == 0 {
				continue
			}
		case oa.Action == "iam:PassRole":
		default:
			// Other extra actions in the table are what AWS itself does on
			// the caller's behalf; the caller is not checked for them.
			continue
		}
		ai := oa.info
		req := authReq{action: oa.Action, resource: "*"}
		if ai != nil && len(ai.Resources) > 0 {
			var err error
			if req.resource, req.tags, err = a.resource(ctx, c, ai, in); err != nil {
				return nil, err
			}
		}
		out = append(out, req)
	}
	return out, nil
}

// resource fills an action's ARN template such as
// arn:${Partition}:iam::${Account}:user/${UserNameWithPath} from the input.
// What cannot be derived becomes "*" so only wildcard grants match it.
func (a *Authorizer) resource(ctx context.Context, c *service.Call, ai *actionInfo, in map[string]any) (string, []iam.Tag, error) {
	tmpl := ai.Resources[0]
	// Inputs that carry the resource's ARN outright.
	for _, k := range arnInputs {
		if v := awsproto.Str(in, k); v != "" && strings.HasPrefix(v, "arn:") && arnMatchesTemplate(v, tmpl) {
			return v, nil, nil
		}
	}
	if ai.arn == nil {
		return "*", nil, nil // a malformed template
	}
	// Placeholders are filled first so the ARN is built in one allocation.
	var (
		stack [8]string
		tags  []iam.Tag
	)
	vals := stack[:0]
	n := 0
	for _, p := range ai.arn {
		v := p.lit
		if p.ph != "" {
			var (
				t   []iam.Tag
				err error
			)
			v, t, err = a.placeholder(ctx, c, p.ph, in)
			if err != nil {
				return "", nil, err
			}
			if v == "" {
				return "*", nil, nil
			}
			if t != nil {
				tags = t
			}
		}
		vals = append(vals, v)
		n += len(v)
	}
	var out strings.Builder
	out.Grow(n)
	for _, v := range vals {
		out.WriteString(v)
	}
	return out.String(), tags, nil
}

// arnInputs are the input members that may carry a resource's ARN.
var arnInputs = [...]string{"PolicyArn", "RoleArn", "OpenIDConnectProviderArn", "SAMLProviderArn", "SerialNumber"}

// arnMatchesTemplate reports whether an input ARN is of the template's
// service and resource type.
func arnMatchesTemplate(v, tmpl string) bool {
	va, err := arn.Parse(v)
	if err != nil {
		return false
	}
	parts := strings.SplitN(tmpl, ":", 6)
	if len(parts) != 6 || parts[2] != va.Service {
		return false
	}
	typ, _, _ := strings.Cut(parts[5], "/")
	vt, _, _ := strings.Cut(va.Resource, "/")
	return typ == vt
}

// entity kinds whose ARN carries a path; their ARNs are looked up.
var pathKinds = map[string]struct{ member, kind string }{
	"UserNameWithPath":            {"UserName", "user"},
	"GroupNameWithPath":           {"GroupName", "group"},
	"RoleNameWithPath":            {"RoleName", "role"},
	"InstanceProfileNameWithPath": {"InstanceProfileName", "instance-profile"},
	"CertificateNameWithPath":     {"ServerCertificateName", "server-certificate"},
	"MfaTokenIdWithPath":          {"VirtualMFADeviceName", "mfa"},
	"PolicyNameWithPath":          {"PolicyName", "policy"},
}

func (a *Authorizer) placeholder(ctx context.Context, c *service.Call, name string, in map[string]any) (string, []iam.Tag, error) {
	switch name {
	case "Partition":
		return c.Partition, nil, nil
	case "Account":
		return c.Account, nil, nil
	case "Region":
		return c.Region, nil, nil
	case "RoleSessionName":
		return awsproto.Str(in, "RoleSessionName"), nil, nil
	case "FederatedUserName":
		return awsproto.Str(in, "Name"), nil, nil
	case "OidcProviderName":
		return strings.TrimPrefix(awsproto.Str(in, "Url"), "https://"), nil, nil
	case "SamlProviderName":
		return awsproto.Str(in, "Name"), nil, nil
	}
	pk, ok := pathKinds[name]
	if !ok {
		return "", nil, nil
	}
	n := awsproto.Str(in, pk.member)
	if n == "" && pk.kind == "user" {
		// Operations on "the calling user" when UserName is absent.
		if p := c.Principal; p.Type == principal.User {
			n = p.Name
		}
	}
	if n == "" {
		return "", nil, nil
	}
	if p := awsproto.Str(in, "Path"); p != "" && strings.HasPrefix(strings.ToLower(c.Operation), "create") {
		return strings.TrimPrefix(p, "/") + n, nil, nil
	}
	info, err := a.entity(ctx, c.Account, pk.kind, n)
	if err != nil {
		return "", nil, err
	}
	return strings.TrimPrefix(info.Path, "/") + n, info.Tags, nil
}

// entity finds an existing entity's path and tags (cached per account);
// a missing entity has path "/" and no tags.
func (a *Authorizer) entity(ctx context.Context, account, kind, name string) (*iam.EntityInfo, error) {
	ac := a.account(account)
	k := entityKey{kind, strings.ToLower(name)}
	ac.mu.Lock()
	info, ok := ac.entities[k]
	ac.mu.Unlock()
	if ok {
		return info, nil
	}
	info, err := iam.LookupEntityInfo(ctx, a.Store, account, kind, name)
	if errors.Is(err, store.ErrNotFound) || isNoSuchEntity(err) {
		info, err = &iam.EntityInfo{Path: "/"}, nil
	}
	if err != nil {
		return nil, err
	}
	ac.mu.Lock()
	ac.entities[k] = info
	ac.mu.Unlock()
	return info, nil
}
