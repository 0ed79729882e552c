package policy

import (
	"strings"
	"unicode"
)

// Parse validates doc as a policy of the given kind and compiles it.
// Every failure is an *Error with code MalformedPolicyDocument.
func Parse(doc []byte, kind Kind) (*Policy, error) {
	p, err := parse(doc, kind)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func parse(doc []byte, kind Kind) (*Policy, *Error) {
	root := parseJSON(doc)
	if root == nil || root.kind != jObject {
		return nil, malformed(msgSyntax)
	}
	pol := &Policy{Kind: kind}
	var stmtNode *jnode
	for _, m := range root.obj {
		switch m.key {
		case "Version":
			if m.val.kind != jString {
				return nil, malformed(msgSyntax)
			}
			pol.Version = m.val.str
		case "Id":
			if m.val.kind != jString {
				return nil, malformed(msgSyntax)
			}
			pol.ID = m.val.str
		case "Statement":
			stmtNode = m.val
		default:
			return nil, malformed("Unknown field %s", m.key)
		}
	}
	if root.get("Version") != nil && pol.Version != Version2012 && pol.Version != Version2008 {
		return nil, malformed(msgSyntax)
	}
	if (kind == RCP || kind == SCP) && root.get("Version") == nil {
		// Organizations requires the Version element in SCPs and RCPs.
		// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html
		return nil, malformed("Missing required field Version")
	}
	if kind == RCP && pol.Version != Version2012 {
		return nil, malformed(msgSyntax)
	}
	if stmtNode == nil {
		return nil, malformed("Missing required field Statement")
	}
	var stmts []*jnode
	switch stmtNode.kind {
	case jObject:
		stmts = []*jnode{stmtNode}
	case jArray:
		if len(stmtNode.arr) == 0 {
			return nil, malformed("Missing required field Statement")
		}
		stmts = stmtNode.arr
	default:
		return nil, malformed(msgSyntax)
	}
	withVars := pol.Version == Version2012
	pos := newPositioner(doc)
	sids := map[string]bool{}
	pol.Statements = make([]Statement, len(stmts))
	for i, sn := range stmts {
		if sn.kind != jObject {
			return nil, malformed(msgSyntax)
		}
		st := &pol.Statements[i]
		if err := parseStatement(sn, kind, st); err != nil {
			return nil, err
		}
		if st.Sid != "" {
			if sids[st.Sid] {
				return nil, malformed(msgSidUnique)
			}
			sids[st.Sid] = true
		}
		st.Start, st.End = pos.at(sn.start), pos.at(sn.end)
		st.c = compileStatement(st, withVars)
	}
	return pol, nil
}

var statementFields = map[string]bool{
	"Sid": true, "Effect": true, "Principal": true, "NotPrincipal": true,
	"Action": true, "NotAction": true, "Resource": true, "NotResource": true, "Condition": true,
}

func parseStatement(n *jnode, kind Kind, st *Statement) *Error {
	for _, m := range n.obj {
		if !statementFields[m.key] {
			return malformed("Unknown field %s", m.key)
		}
	}
	if v := n.get("Sid"); v != nil {
		if v.kind != jString {
			return malformed(msgSyntax)
		}
		st.Sid = v.str
		// IAM and Organizations restrict Sid to letters and digits; resource
		// policies of other services accept any string.
		if kind != Resource {
			for _, r := range st.Sid {
				if r > unicode.MaxASCII || !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
					return malformed(msgSidChars)
				}
			}
		}
	}
	ev := n.get("Effect")
	if ev == nil {
		return malformed("Missing required field Effect")
	}
	if ev.kind != jString {
		return malformed(msgSyntax)
	}
	switch ev.str {
	case "Allow":
		st.Effect = Allow
	case "Deny":
		st.Effect = Deny
	default:
		return malformed("Invalid effect: %s", ev.str)
	}

	// Principal / NotPrincipal.
	pr, npr := n.get("Principal"), n.get("NotPrincipal")
	if pr != nil && npr != nil {
		return malformed(msgSyntax)
	}
	switch kind {
	case Identity, Session, SCP:
		if pr != nil || npr != nil {
			return malformed(msgNoPrincipal)
		}
	case Trust:
		if npr != nil {
			return malformed("Has prohibited field NotPrincipal")
		}
		if pr == nil {
			return malformed("Missing required field Principal")
		}
	case Resource:
		if pr == nil && npr == nil {
			return malformed("Missing required field Principal")
		}
	case RCP:
		if npr != nil {
			return malformed("Has prohibited field NotPrincipal")
		}
		if pr == nil {
			return malformed("Missing required field Principal")
		}
	}
	var err *Error
	if pr != nil {
		if st.Principal, err = parsePrincipal(pr); err != nil {
			return err
		}
	}
	if npr != nil {
		if st.NotPrincipal, err = parsePrincipal(npr); err != nil {
			return err
		}
	}
	if kind == RCP && !isWildcardPrincipal(st.Principal) {
		// RCPs apply to every principal: "Principal" must be "*".
		// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html
		return malformed("Invalid principal in policy: %s", describePrincipal(st.Principal))
	}

	// Action / NotAction.
	act, nact := n.get("Action"), n.get("NotAction")
	if act != nil && nact != nil {
		return malformed(msgSyntax)
	}
	if act == nil && nact == nil {
		return malformed(msgNeedActions)
	}
	if kind == RCP && nact != nil {
		return malformed("Has prohibited field NotAction")
	}
	if act != nil {
		if st.Action, err = stringList(act, msgNeedActions); err != nil {
			return err
		}
	} else if st.NotAction, err = stringList(nact, msgNeedActions); err != nil {
		return err
	}
	for _, a := range append(st.Action, st.NotAction...) {
		if err := validateAction(a); err != nil {
			return err
		}
	}
	if kind == Trust {
		for _, a := range st.Action {
			if !trustAction(a) {
				return malformed(msgTrustActions)
			}
		}
	}

	// Resource / NotResource.
	res, nres := n.get("Resource"), n.get("NotResource")
	if kind == Trust {
		if res != nil {
			return malformed("Has prohibited field Resource")
		}
		if nres != nil {
			return malformed("Has prohibited field NotResource")
		}
	} else {
		if res != nil && nres != nil {
			return malformed(msgSyntax)
		}
		if res == nil && nres == nil {
			return malformed(msgNeedResources)
		}
		if res != nil {
			if st.Resource, err = stringList(res, msgNeedResources); err != nil {
				return err
			}
		} else if st.NotResource, err = stringList(nres, msgNeedResources); err != nil {
			return err
		}
		for _, r := range append(st.Resource, st.NotResource...) {
			if !validResource(r) {
				return malformed("Resource %s must be in ARN format or \"*\".", r)
			}
		}
	}

	if c := n.get("Condition"); c != nil {
		if st.Condition, err = parseConditions(c); err != nil {
			return err
		}
	}

	if kind == RCP && st.Effect == Allow && !isFullAccess(st) {
		// Only RCPFullAWSAccess may allow; customer RCPs deny.
		// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html
		return malformed("Invalid effect: Allow")
	}
	return nil
}

func isFullAccess(st *Statement) bool {
	return len(st.Action) == 1 && st.Action[0] == "*" && len(st.Resource) == 1 && st.Resource[0] == "*" && len(st.Condition) == 0
}

func isWildcardPrincipal(p *PrincipalSpec) bool {
	if p == nil {
		return false
	}
	if p.Wildcard {
		return true
	}
	return len(p.AWS) == 1 && p.AWS[0] == "*" && len(p.Service)+len(p.Federated)+len(p.CanonicalUser) == 0
}

func describePrincipal(p *PrincipalSpec) string {
	if p == nil {
		return "null"
	}
	for _, kv := range []struct {
		k string
		v []string
	}{{"AWS", p.AWS}, {"SERVICE", p.Service}, {"FEDERATED", p.Federated}, {"CANONICALUSER", p.CanonicalUser}} {
		if len(kv.v) > 0 {
			return "\"" + kv.k + "\":\"" + kv.v[0] + "\""
		}
	}
	return "*"
}

// stringList reads a string or a non-empty array of strings.
func stringList(n *jnode, emptyMsg string) ([]string, *Error) {
	switch n.kind {
	case jString:
		return []string{n.str}, nil
	case jArray:
		if len(n.arr) == 0 {
			return nil, malformed("%s", emptyMsg)
		}
		out := make([]string, len(n.arr))
		for i, e := range n.arr {
			if e.kind != jString {
				return nil, malformed(msgSyntax)
			}
			out[i] = e.str
		}
		return out, nil
	}
	return nil, malformed(msgSyntax)
}

func validateAction(a string) *Error {
	if a == "*" {
		return nil
	}
	vendor, name, ok := strings.Cut(a, ":")
	if !ok || vendor == "" {
		return malformed(msgVendor)
	}
	if strings.ContainsAny(vendor, "*?") {
		return malformed(msgVendorWildcard)
	}
	for _, r := range vendor {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return malformed(msgVendor)
		}
	}
	if name == "" {
		return malformed(msgSyntax)
	}
	return nil
}

// trustActions are the actions a role trust policy may name.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html
var trustActions = []string{
	"sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity",
	"sts:tagsession", "sts:setsourceidentity", "sts:setcontext",
}

func trustAction(a string) bool {
	p := encodeGlob(strings.ToLower(a))
	if !strings.HasPrefix(p, "sts:") {
		return false
	}
	for _, t := range trustActions {
		if globMatch(p, t) {
			return true
		}
	}
	return false
}

// validResource: "*" or an ARN. A pattern with wildcards may stop early
// ("arn:aws:s3:::*" or "arn:*"), a literal ARN needs its six components.
func validResource(r string) bool {
	if r == "*" {
		return true
	}
	if !strings.HasPrefix(r, "arn:") || len(r) == len("arn:") {
		return false
	}
	return strings.Count(r, ":") >= 5 || strings.ContainsAny(r, "*?")
}

func parsePrincipal(n *jnode) (*PrincipalSpec, *Error) {
	ps := &PrincipalSpec{}
	switch n.kind {
	case jString:
		if n.str != "*" {
			return nil, malformed("Invalid principal in policy: \"%s\"", n.str)
		}
		ps.Wildcard = true
		return ps, nil
	case jObject:
	default:
		return nil, malformed(msgSyntax)
	}
	if len(n.obj) == 0 {
		return nil, malformed(msgSyntax)
	}
	for _, m := range n.obj {
		vals, err := stringList(m.val, msgSyntax)
		if err != nil {
			return nil, err
		}
		var check func(string) bool
		var dst *[]string
		switch m.key {
		case "AWS":
			check, dst = validAWSPrincipal, &ps.AWS
		case "Service":
			check, dst = validServicePrincipal, &ps.Service
		case "Federated":
			check, dst = validFederatedPrincipal, &ps.Federated
		case "CanonicalUser":
			check, dst = validCanonicalUser, &ps.CanonicalUser
		default:
			return nil, malformed("Invalid principal in policy: \"%s\":\"%s\"", strings.ToUpper(m.key), vals[0])
		}
		for _, v := range vals {
			if !check(v) {
				return nil, malformed("Invalid principal in policy: \"%s\":\"%s\"", strings.ToUpper(m.key), v)
			}
		}
		*dst = vals
	}
	return ps, nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validAWSPrincipal accepts "*", an account id, or the ARN of an account
// root, user, role, assumed-role session or federated user. Wildcards are not
// allowed inside principal ARNs.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
func validAWSPrincipal(v string) bool {
	if v == "*" || isAccountID(v) {
		return true
	}
	if strings.ContainsAny(v, "*? ") {
		return false
	}
	parts := strings.SplitN(v, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[3] != "" || !isAccountID(parts[4]) {
		return false
	}
	res := parts[5]
	switch parts[2] {
	case "iam":
		if res == "root" {
			return true
		}
		for _, pfx := range []string{"user/", "role/", "federated-user/"} {
			if strings.HasPrefix(res, pfx) && len(res) > len(pfx) {
				return true
			}
		}
	case "sts":
		if strings.HasPrefix(res, "assumed-role/") {
			rs := strings.Split(res[len("assumed-role/"):], "/")
			return len(rs) == 2 && rs[0] != "" && rs[1] != ""
		}
		if strings.HasPrefix(res, "federated-user/") && len(res) > len("federated-user/") {
			return true
		}
	}
	return false
}

func validServicePrincipal(v string) bool {
	if v == "" || strings.ContainsAny(v, "*? /:") {
		return false
	}
	for _, sfx := range []string{".amazonaws.com", ".amazonaws.com.cn", ".amazon.com"} {
		if strings.HasSuffix(v, sfx) && len(v) > len(sfx) {
			return true
		}
	}
	return false
}

func validFederatedPrincipal(v string) bool {
	if v == "" || strings.ContainsAny(v, "*? ") {
		return false
	}
	if strings.HasPrefix(v, "arn:") {
		parts := strings.SplitN(v, ":", 6)
		return len(parts) == 6 && parts[2] == "iam" && isAccountID(parts[4]) &&
			(strings.HasPrefix(parts[5], "saml-provider/") || strings.HasPrefix(parts[5], "oidc-provider/"))
	}
	return strings.Contains(v, ".") // an identity provider's domain, e.g. accounts.google.com
}

func validCanonicalUser(v string) bool {
	if len(v) != 64 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func parseConditions(n *jnode) ([]Condition, *Error) {
	if n.kind != jObject {
		return nil, malformed(msgSyntax)
	}
	var out []Condition
	for _, om := range n.obj {
		if _, _, _, ok := parseOperator(om.key); !ok {
			return nil, malformed("Invalid Condition type : %s", om.key)
		}
		if om.val.kind != jObject || len(om.val.obj) == 0 {
			return nil, malformed(msgSyntax)
		}
		for _, km := range om.val.obj {
			if vendor, _, ok := strings.Cut(km.key, ":"); !ok || vendor == "" {
				return nil, malformed(msgVendor)
			}
			var vals []string
			switch km.val.kind {
			case jString, jNumber, jBool:
				vals = []string{km.val.str}
			case jArray:
				if len(km.val.arr) == 0 {
					return nil, malformed(msgSyntax)
				}
				for _, e := range km.val.arr {
					switch e.kind {
					case jString, jNumber, jBool:
						vals = append(vals, e.str)
					default:
						return nil, malformed(msgSyntax)
					}
				}
			default:
				return nil, malformed(msgSyntax)
			}
			out = append(out, Condition{Operator: om.key, Key: km.key, Values: vals})
		}
	}
	return out, nil
}

// Size is the policy size as AWS counts it against its limits: characters,
// not counting white space.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
func Size(doc []byte) int {
	n := 0
	for _, r := range string(doc) {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}
