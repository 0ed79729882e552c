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
}

// requests lists what an operation must be allowed: its actions from the
// reference's operation table, each on the resource ARN built from the
// input. Tag actions are checked only when the request carries tags, as
// AWS's action descriptions say.
func (a *Authorizer) requests(ctx context.Context, c *service.Call, op string, in map[string]any) ([]authReq, error) {
	actions := a.Catalog.Operation(c.Service, op)
	out := make([]authReq, 0, len(actions))
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
		ai := a.Catalog.Action(oa.Action)
		res := "*"
		if ai != nil && len(ai.Resources) > 0 {
			r, err := a.resource(ctx, c, ai.Resources[0], in)
			if err != nil {
				return nil, err
			}
			res = r
		}
		out = append(out, authReq{action: oa.Action, resource: res})
	}
	return out, nil
}

// resource fills an ARN template such as
// arn:${Partition}:iam::${Account}:user/${UserNameWithPath} from the input.
// What cannot be derived becomes "*" so only wildcard grants match it.
func (a *Authorizer) resource(ctx context.Context, c *service.Call, tmpl string, in map[string]any) (string, error) {
	// Inputs that carry the resource's ARN outright.
	for _, k := range []string{"PolicyArn", "RoleArn", "OpenIDConnectProviderArn", "SAMLProviderArn", "SerialNumber"} {
		if v := awsproto.Str(in, k); v != "" && strings.HasPrefix(v, "arn:") && arnMatchesTemplate(v, tmpl) {
			return v, nil
		}
	}
	var out strings.Builder
	rest := tmpl
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			out.WriteString(rest)
			break
		}
		out.WriteString(rest[:i])
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return "*", nil
		}
		v, err := a.placeholder(ctx, c, rest[i+2:i+j], in)
		if err != nil {
			return "", err
		}
		if v == "" {
			return "*", nil
		}
		out.WriteString(v)
		rest = rest[i+j+1:]
	}
	return out.String(), nil
}

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

func (a *Authorizer) placeholder(ctx context.Context, c *service.Call, name string, in map[string]any) (string, error) {
	switch name {
	case "Partition":
		return c.Partition, nil
	case "Account":
		return c.Account, nil
	case "Region":
		return c.Region, nil
	case "RoleSessionName":
		return awsproto.Str(in, "RoleSessionName"), nil
	case "FederatedUserName":
		return awsproto.Str(in, "Name"), nil
	case "OidcProviderName":
		return strings.TrimPrefix(awsproto.Str(in, "Url"), "https://"), nil
	case "SamlProviderName":
		return awsproto.Str(in, "Name"), nil
	}
	pk, ok := pathKinds[name]
	if !ok {
		return "", nil
	}
	n := awsproto.Str(in, pk.member)
	if n == "" && pk.kind == "user" {
		// Operations on "the calling user" when UserName is absent.
		if p := c.Principal; p.Type == principal.User {
			return strings.TrimPrefix(p.ARN[strings.Index(p.ARN, ":user/")+1:], "user/"), nil
		}
		return "", nil
	}
	if n == "" {
		return "", nil
	}
	if p := awsproto.Str(in, "Path"); p != "" && strings.HasPrefix(strings.ToLower(c.Operation), "create") {
		return strings.TrimPrefix(p, "/") + n, nil
	}
	path, err := a.entityPath(ctx, c.Account, pk.kind, n)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(path, "/") + n, nil
}

// entityPath finds an existing entity's path (cached per account); a
// missing entity has path "/".
func (a *Authorizer) entityPath(ctx context.Context, account, kind, name string) (string, error) {
	ac := a.account(account)
	k := kind + "/" + strings.ToLower(name)
	ac.mu.Lock()
	p, ok := ac.arns[k]
	ac.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := iam.EntityPath(ctx, a.Store, account, kind, name)
	if errors.Is(err, store.ErrNotFound) {
		p, err = "/", nil
	}
	if err != nil {
		return "", err
	}
	ac.mu.Lock()
	ac.arns[k] = p
	ac.mu.Unlock()
	return p, nil
}
