package sts

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
)

// SAML 2.0 responses for AssumeRoleWithSAML: structure, signatures and the
// assertion's content. Pure: the caller passes the provider's certificates
// and the time.

const (
	nsSAML  = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsSAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"

	samlSuccess = "urn:oasis:names:tc:SAML:2.0:status:Success"
	samlBearer  = "urn:oasis:names:tc:SAML:2.0:cm:bearer"

	// Attributes AWS reads from the assertion
	// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_saml_assertions.html).
	samlAttrRole           = "https://aws.amazon.com/SAML/Attributes/Role"
	samlAttrSessionName    = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	samlAttrSessionDur     = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
	samlAttrPrincipalTag   = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:"
	samlAttrTransitiveTags = "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys"
	samlAttrSourceIdentity = "https://aws.amazon.com/SAML/Attributes/SourceIdentity"
)

// samlSkew is the clock skew allowed around the assertion's validity window.
const samlSkew = 5 * time.Minute

// samlAudiences are the audiences an assertion for AWS must name; regional
// sign-in endpoints (https://REGION.signin.aws.amazon.com/saml) are
// accepted too.
func samlAudienceOK(a string) bool {
	if a == "https://signin.aws.amazon.com/saml" || a == "urn:amazon:webservices" {
		return true
	}
	rest, ok := strings.CutPrefix(a, "https://")
	if !ok {
		return false
	}
	region, tail, ok := strings.Cut(rest, ".")
	return ok && region != "" && (tail == "signin.aws.amazon.com/saml" || tail == "signin.amazonaws-us-gov.com/saml" || tail == "signin.amazonaws.cn/saml")
}

// samlAttribute is one Attribute of the AttributeStatement.
type samlAttribute struct {
	Name   string
	Values []string
}

// samlAssertion is the verified content AssumeRoleWithSAML uses.
type samlAssertion struct {
	Issuer          string
	NameID          string
	NameIDFormat    string
	Recipient       string
	NotBefore       time.Time // zero when absent
	NotOnOrAfter    time.Time // zero when absent
	SubjectDeadline time.Time // SubjectConfirmationData NotOnOrAfter
	SessionDeadline time.Time // AuthnStatement SessionNotOnOrAfter; zero when absent
	Audiences       []string
	Attributes      []samlAttribute
}

// attr returns the values of the attribute named name.
func (a *samlAssertion) attr(name string) ([]string, bool) {
	for _, at := range a.Attributes {
		if at.Name == name {
			return at.Values, true
		}
	}
	return nil, false
}

func invalidToken(format string, args ...any) *apierr.Error {
	return apierr.New("InvalidIdentityToken", format, args...)
}

// decodeSAMLResponse base64-decodes a SAMLAssertion parameter and parses
// it into a tree rooted at a samlp:Response.
func decodeSAMLResponse(b64 string) (*xmlElem, error) {
	doc, err := b64Std(b64)
	if err != nil {
		return nil, invalidToken("Invalid base64 SAMLResponse")
	}
	root, err := parseXML(doc)
	if err != nil {
		return nil, invalidToken("Invalid SAML response: %v", err)
	}
	if root.ns != nsSAMLP || root.local != "Response" {
		return nil, invalidToken("Invalid SAML response: the document is not a SAML 2.0 Response")
	}
	return root, nil
}

// verifySAMLResponse checks the response's signatures against certs and
// returns the assertion they cover. Either the Response or the Assertion
// (or both) must be signed, and every signature present must verify.
func verifySAMLResponse(resp *xmlElem, certs []*x509.Certificate) (*xmlElem, error) {
	if err := uniqueIDs(resp); err != nil {
		return nil, err
	}
	if len(resp.children(nsSAML, "EncryptedAssertion")) > 0 {
		return nil, invalidToken("Encrypted SAML assertions are not supported by iamd")
	}
	assertions := resp.children(nsSAML, "Assertion")
	if len(assertions) != 1 {
		return nil, invalidToken("Invalid SAML response: it must hold exactly one Assertion")
	}
	as := assertions[0]
	respErr := verifyEnveloped(resp, certs)
	asErr := verifyEnveloped(as, certs)
	switch {
	case respErr != nil && !errors.Is(respErr, errNoSignature):
		return nil, invalidToken("Invalid SAML response: the Response signature is not valid")
	case asErr != nil && !errors.Is(asErr, errNoSignature):
		return nil, invalidToken("Invalid SAML response: the Assertion signature is not valid")
	case respErr != nil && asErr != nil:
		return nil, invalidToken("Invalid SAML response: neither the Response nor the Assertion is signed")
	}
	return as, nil
}

// uniqueIDs refuses documents in which two elements share an ID, which
// signature wrapping attacks rely on.
func uniqueIDs(root *xmlElem) error {
	seen := map[string]bool{}
	var walk func(e *xmlElem) error
	walk = func(e *xmlElem) error {
		if id, ok := e.attr("ID"); ok {
			if seen[id] {
				return invalidToken("Invalid SAML response: duplicate ID %s", id)
			}
			seen[id] = true
		}
		for _, k := range e.kids {
			if k.elem != nil {
				if err := walk(k.elem); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(root)
}

func samlTime(e *xmlElem, name string) (time.Time, error) {
	v, ok := e.attr(name)
	if !ok {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, invalidToken("Invalid SAML response: %s is not an xs:dateTime", name)
	}
	return t.UTC(), nil
}

// readAssertion extracts the content of a verified Response and Assertion.
func readAssertion(resp, as *xmlElem) (*samlAssertion, error) {
	if st := resp.child(nsSAMLP, "Status"); st != nil {
		code := st.child(nsSAMLP, "StatusCode")
		if v, _ := attrOf(code, "Value"); v != samlSuccess {
			// The IdP says authentication failed: IDPRejectedClaim.
			return nil, apierr.New("IDPRejectedClaim", "The SAML response status is %s", v)
		}
	}
	a := &samlAssertion{}
	iss := as.child(nsSAML, "Issuer")
	if iss == nil {
		return nil, invalidToken("Invalid SAML response: the Assertion has no Issuer")
	}
	a.Issuer = strings.TrimSpace(iss.text())
	if ri := resp.child(nsSAML, "Issuer"); ri != nil && strings.TrimSpace(ri.text()) != a.Issuer {
		return nil, invalidToken("Invalid SAML response: the Response and Assertion issuers differ")
	}
	sub := as.child(nsSAML, "Subject")
	if sub == nil {
		return nil, invalidToken("Invalid SAML response: the Assertion has no Subject")
	}
	if nid := sub.child(nsSAML, "NameID"); nid != nil {
		a.NameID = strings.TrimSpace(nid.text())
		a.NameIDFormat, _ = nid.attr("Format")
	}
	if a.NameID == "" {
		return nil, invalidToken("Invalid SAML response: the Subject has no NameID")
	}
	bearer := false
	for _, sc := range sub.children(nsSAML, "SubjectConfirmation") {
		if m, _ := sc.attr("Method"); m != samlBearer {
			continue
		}
		scd := sc.child(nsSAML, "SubjectConfirmationData")
		if scd == nil {
			continue
		}
		var err error
		if a.SubjectDeadline, err = samlTime(scd, "NotOnOrAfter"); err != nil {
			return nil, err
		}
		a.Recipient, _ = scd.attr("Recipient")
		bearer = true
		break
	}
	if !bearer {
		return nil, invalidToken("Invalid SAML response: the Subject has no bearer SubjectConfirmationData")
	}
	if cond := as.child(nsSAML, "Conditions"); cond != nil {
		var err error
		if a.NotBefore, err = samlTime(cond, "NotBefore"); err != nil {
			return nil, err
		}
		if a.NotOnOrAfter, err = samlTime(cond, "NotOnOrAfter"); err != nil {
			return nil, err
		}
		for _, ar := range cond.children(nsSAML, "AudienceRestriction") {
			for _, au := range ar.children(nsSAML, "Audience") {
				a.Audiences = append(a.Audiences, strings.TrimSpace(au.text()))
			}
		}
	}
	for _, st := range as.children(nsSAML, "AuthnStatement") {
		t, err := samlTime(st, "SessionNotOnOrAfter")
		if err != nil {
			return nil, err
		}
		if !t.IsZero() && (a.SessionDeadline.IsZero() || t.Before(a.SessionDeadline)) {
			a.SessionDeadline = t
		}
	}
	for _, st := range as.children(nsSAML, "AttributeStatement") {
		for _, at := range st.children(nsSAML, "Attribute") {
			name, _ := at.attr("Name")
			var vals []string
			for _, v := range at.children(nsSAML, "AttributeValue") {
				vals = append(vals, strings.TrimSpace(v.text()))
			}
			a.Attributes = append(a.Attributes, samlAttribute{Name: name, Values: vals})
		}
	}
	return a, nil
}

func attrOf(e *xmlElem, name string) (string, bool) {
	if e == nil {
		return "", false
	}
	return e.attr(name)
}

// checkValidity applies the assertion's time limits, audience and
// recipient at now.
func (a *samlAssertion) checkValidity(now time.Time) error {
	if !a.NotBefore.IsZero() && now.Add(samlSkew).Before(a.NotBefore) {
		return invalidToken("Invalid SAML response: the assertion is not yet valid (NotBefore %s)", a.NotBefore.Format(time.RFC3339))
	}
	for _, end := range []time.Time{a.NotOnOrAfter, a.SubjectDeadline} {
		if !end.IsZero() && !now.Add(-samlSkew).Before(end) {
			return apierr.New("ExpiredTokenException", "Token must be redeemed within 5 minutes of issuance")
		}
	}
	if a.SubjectDeadline.IsZero() {
		return invalidToken("Invalid SAML response: SubjectConfirmationData has no NotOnOrAfter")
	}
	ok := false
	for _, au := range a.Audiences {
		ok = ok || samlAudienceOK(au)
	}
	if !ok {
		return invalidToken("Invalid SAML response: the audience must be https://signin.aws.amazon.com/saml")
	}
	if a.Recipient != "" && !samlAudienceOK(a.Recipient) {
		return invalidToken("Invalid SAML response: the Recipient %s is not an AWS sign-in endpoint", a.Recipient)
	}
	return nil
}

// rolePairs reads the Role attribute: "RoleArn,PrincipalArn" pairs, in
// either order.
func (a *samlAssertion) rolePairs() [][2]string {
	vals, _ := a.attr(samlAttrRole)
	var out [][2]string
	for _, v := range vals {
		x, y, ok := strings.Cut(v, ",")
		if !ok {
			continue
		}
		x, y = strings.TrimSpace(x), strings.TrimSpace(y)
		if strings.Contains(x, ":saml-provider/") {
			x, y = y, x
		}
		out = append(out, [2]string{x, y})
	}
	return out
}

// samlSubType is saml:sub_type: "persistent", "transient", or the Format
// URI as given for other formats.
func samlSubType(format string) string {
	switch format {
	case "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent":
		return "persistent"
	case "urn:oasis:names:tc:SAML:2.0:nameid-format:transient":
		return "transient"
	}
	return format
}

// samlNameQualifier is saml:namequalifier: base64(SHA1(issuer + account +
// "/" + provider name))
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_saml.html).
func samlNameQualifier(issuer, account, providerName string) string {
	s := sha1.Sum([]byte(issuer + account + "/" + providerName))
	return base64.StdEncoding.EncodeToString(s[:])
}

// samlAttrKeys maps SAML attribute names to the saml:* condition keys AWS
// exposes: the attribute's OID form (urn:oid:...) or its friendly name.
var samlAttrKeys = func() map[string]string {
	m := map[string]string{
		"urn:oid:1.3.6.1.4.1.5923.1.1.1.1":   "edupersonaffiliation",
		"urn:oid:1.3.6.1.4.1.5923.1.1.1.2":   "edupersonnickname",
		"urn:oid:1.3.6.1.4.1.5923.1.1.1.3":   "edupersonorgdn",
		"urn:oid:1.3.6.1.4.1.5923.1.1.1.4":   "edupersonorgunitdn",
		"urn:oid:1.3.6.1.4.1.5923.1.1.1.5":   "edupersonprimaryaffiliation",
		"urn:oid:1.3.6.1.4.1.5923.1.1.1.6":   "edupersonprincipalname",
		"urn:oid:1.3.6.1.4.1.5923.1.1.1.7":   "edupersonentitlement",
		"urn:oid:1.3.6.1.4.1.5923.1.1.1.8":   "edupersonprimaryorgunitdn",
		"urn:oid:1.3.6.1.4.1.5923.1.1.1.9":   "edupersonscopedaffiliation",
		"urn:oid:1.3.6.1.4.1.5923.1.1.1.10":  "edupersontargetedid",
		"urn:oid:1.3.6.1.4.1.5923.1.1.1.11":  "edupersonassurance",
		"urn:oid:1.3.6.1.4.1.5923.1.2.1.2":   "eduorghomepageuri",
		"urn:oid:1.3.6.1.4.1.5923.1.2.1.3":   "eduorgidentityauthnpolicyuri",
		"urn:oid:1.3.6.1.4.1.5923.1.2.1.4":   "eduorglegalname",
		"urn:oid:1.3.6.1.4.1.5923.1.2.1.5":   "eduorgsuperioruri",
		"urn:oid:1.3.6.1.4.1.5923.1.2.1.6":   "eduorgwhitepagesuri",
		"urn:oid:2.5.4.3":                    "commonName",
		"urn:oid:2.5.4.4":                    "surname",
		"urn:oid:2.5.4.41":                   "name",
		"urn:oid:2.5.4.42":                   "givenName",
		"urn:oid:2.5.4.45":                   "x500UniqueIdentifier",
		"urn:oid:0.9.2342.19200300.100.1.1":  "uid",
		"urn:oid:0.9.2342.19200300.100.1.3":  "mail",
		"urn:oid:0.9.2342.19200300.100.1.45": "organizationStatus",
	}
	// Friendly names, matched case-insensitively.
	names := []string{"cn", "primaryGroupSID"}
	for _, k := range m {
		names = append(names, k)
	}
	for _, k := range names {
		m[strings.ToLower(k)] = k
	}
	return m
}()

// samlContextKeys returns the saml:* attribute keys the assertion sets.
func (a *samlAssertion) samlContextKeys() map[string][]string {
	out := map[string][]string{}
	for _, at := range a.Attributes {
		k, ok := samlAttrKeys[at.Name]
		if !ok {
			k, ok = samlAttrKeys[strings.ToLower(at.Name)]
		}
		if ok {
			out["saml:"+k] = append(out["saml:"+k], at.Values...)
		}
	}
	return out
}

// validTagKey reports whether s fits a session tag key: 1-128 characters
// of letters, digits, spaces and _.:/=+-@.
func validTagKey(s string) bool {
	return len(s) >= 1 && len([]rune(s)) <= 128 && validTagChars(s)
}

func validTagValue(s string) bool { return len([]rune(s)) <= 256 && validTagChars(s) }

func validTagChars(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune(" _.:/=+-@", r):
		case r > 127: // \p{L}, \p{Z}, \p{N}: accept non-ASCII letters and digits
		default:
			return false
		}
	}
	return true
}

// validSessionName matches roleSessionNameType: [\w+=,.@-]{2,64}.
func validSessionName(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_+=,.@-", r)) {
			return false
		}
	}
	return true
}

// samlSessionFacts reads the session name, tags, transitive keys and source
// identity the assertion asks for.
func (a *samlAssertion) samlSessionFacts() (name string, tags map[string]string, transitive []string, source string, err error) {
	vals, _ := a.attr(samlAttrSessionName)
	if len(vals) == 0 || vals[0] == "" {
		return "", nil, nil, "", invalidToken("RoleSessionName is required in AuthnResponse")
	}
	if name = vals[0]; !validSessionName(name) {
		return "", nil, nil, "", invalidToken("Invalid RoleSessionName value in AuthnResponse: %s", name)
	}
	if vals, ok := a.attr(samlAttrSessionDur); ok {
		// SessionDuration governs console sessions; the API session is
		// DurationSeconds bounded by SessionNotOnOrAfter
		// (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithSAML.html).
		// It must still be a valid value.
		n := 0
		if len(vals) == 1 {
			n, _ = strconv.Atoi(vals[0])
		}
		if n < 900 || n > 43200 {
			return "", nil, nil, "", invalidToken("Invalid SessionDuration value in AuthnResponse")
		}
	}
	for _, at := range a.Attributes {
		k, ok := strings.CutPrefix(at.Name, samlAttrPrincipalTag)
		if !ok {
			continue
		}
		if len(at.Values) != 1 || !validTagKey(k) || !validTagValue(at.Values[0]) {
			return "", nil, nil, "", invalidToken("Invalid session tag %s in AuthnResponse", k)
		}
		if tags == nil {
			tags = map[string]string{}
		}
		for existing := range tags {
			if strings.EqualFold(existing, k) {
				return "", nil, nil, "", invalidToken("Duplicate session tag key %s in AuthnResponse; tag keys are case insensitive", k)
			}
		}
		tags[k] = at.Values[0]
	}
	if len(tags) > 50 {
		return "", nil, nil, "", invalidToken("AuthnResponse carries more than 50 session tags")
	}
	if vals, ok := a.attr(samlAttrTransitiveTags); ok {
		for _, k := range vals {
			if _, ok := tags[k]; !ok {
				return "", nil, nil, "", invalidToken("Transitive tag key %s is not among the session tags", k)
			}
			transitive = append(transitive, k)
		}
	}
	if vals, ok := a.attr(samlAttrSourceIdentity); ok {
		if len(vals) != 1 || len(vals[0]) < 2 || len(vals[0]) > 64 {
			return "", nil, nil, "", invalidToken("Invalid SourceIdentity value in AuthnResponse")
		}
		source = vals[0]
	}
	return name, tags, transitive, source, nil
}
