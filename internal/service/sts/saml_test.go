package sts

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCanonicalize(t *testing.T) {
	// Expected forms worked out by hand from the Canonical XML 1.0 and
	// Exclusive XML Canonicalization 1.0 rules, not produced by the code.
	tests := []struct {
		name string
		doc  string
		path []string // local names from the root to the apex
		mode c14nMode
		want string
	}{
		{
			name: "exclusive renders only utilized namespaces, attributes sorted",
			doc:  `<a:Root xmlns:a="urn:a" xmlns:b="urn:b" xmlns:unused="urn:u" xmlns="urn:d"><a:Child b:attr="1" z="2" y="&quot;"><Inner>t&amp;&gt;</Inner></a:Child></a:Root>`,
			path: []string{"Child"}, mode: c14nMode{exclusive: true},
			want: `<a:Child xmlns:a="urn:a" xmlns:b="urn:b" y="&quot;" z="2" b:attr="1"><Inner xmlns="urn:d">t&amp;&gt;</Inner></a:Child>`,
		},
		{
			name: "inclusive renders every namespace in scope at the apex",
			doc:  `<a:Root xmlns:a="urn:a" xmlns:b="urn:b" xmlns="urn:d"><a:Child b:attr="1" z="2" y="&quot;"><Inner>t&amp;&gt;</Inner></a:Child></a:Root>`,
			path: []string{"Child"}, mode: c14nMode{},
			want: `<a:Child xmlns="urn:d" xmlns:a="urn:a" xmlns:b="urn:b" y="&quot;" z="2" b:attr="1"><Inner>t&amp;&gt;</Inner></a:Child>`,
		},
		{
			name: "empty elements become start-end pairs",
			doc:  `<r><e/></r>`, mode: c14nMode{exclusive: true},
			want: `<r><e></e></r>`,
		},
		{
			name: "default namespace undeclared",
			doc:  `<r xmlns="urn:x"><c xmlns=""/></r>`, mode: c14nMode{exclusive: true},
			want: `<r xmlns="urn:x"><c xmlns=""></c></r>`,
		},
		{
			name: "redundant redeclaration dropped",
			doc:  `<a:r xmlns:a="urn:a"><a:c xmlns:a="urn:a"/></a:r>`, mode: c14nMode{exclusive: true},
			want: `<a:r xmlns:a="urn:a"><a:c></a:c></a:r>`,
		},
		{
			name: "prefix rebound below",
			doc:  `<a:r xmlns:a="urn:a"><a:c xmlns:a="urn:other"/></a:r>`, mode: c14nMode{exclusive: true},
			want: `<a:r xmlns:a="urn:a"><a:c xmlns:a="urn:other"></a:c></a:r>`,
		},
		{
			name: "exclusive declares a prefix again on siblings' subtrees",
			doc:  `<r xmlns:a="urn:a"><x><a:y/></x><z><a:y/></z></r>`, mode: c14nMode{exclusive: true},
			want: `<r><x><a:y xmlns:a="urn:a"></a:y></x><z><a:y xmlns:a="urn:a"></a:y></z></r>`,
		},
		{
			name: "InclusiveNamespaces PrefixList",
			doc:  `<a:r xmlns:a="urn:a" xmlns:b="urn:b" xmlns:c="urn:c"><a:c/></a:r>`,
			path: []string{"c"}, mode: c14nMode{exclusive: true, inclusive: []string{"b", "zz"}},
			want: `<a:c xmlns:a="urn:a" xmlns:b="urn:b"></a:c>`,
		},
		{
			name: "comments dropped, CDATA becomes text",
			doc:  `<r><!--x--><![CDATA[<y>&]]></r>`, mode: c14nMode{exclusive: true},
			want: `<r>&lt;y&gt;&amp;</r>`,
		},
		{
			name: "attribute escapes",
			doc:  `<r a="&#9;&#10;&lt;&gt;&#13;"/>`, mode: c14nMode{exclusive: true},
			want: `<r a="&#x9;&#xA;&lt;>&#xD;"></r>`,
		},
		{
			name: "line ends normalised, whitespace kept",
			doc:  "<r>\r\n  x\r\n</r>", mode: c14nMode{exclusive: true},
			want: "<r>\n  x\n</r>",
		},
		{
			name: "xml prefix never declared",
			doc:  `<r xml:lang="en"/>`, mode: c14nMode{exclusive: true},
			want: `<r xml:lang="en"></r>`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root, err := parseXML([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			e := root
			for _, name := range tc.path {
				var next *xmlElem
				for _, k := range e.kids {
					if k.elem != nil && k.elem.local == name {
						next = k.elem
					}
				}
				if next == nil {
					t.Fatalf("no element %s", name)
				}
				e = next
			}
			var b bytes.Buffer
			canonicalize(&b, e, tc.mode, nil)
			if b.String() != tc.want {
				t.Fatalf("got  %s\nwant %s", b.String(), tc.want)
			}
		})
	}
}

func TestParseXMLRejects(t *testing.T) {
	tests := map[string]string{
		"DTD":               `<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>`,
		"undeclared prefix": `<a:r/>`,
		"undefined entity":  `<r>&foo;</r>`,
		"two roots":         `<r/><s/>`,
		"mismatched":        `<r></s>`,
		"unclosed":          `<r>`,
		"text outside":      `x<r/>`,
		"PI inside":         `<r><?pi x?></r>`,
		"duplicate attr":    `<r xmlns:a="urn:a" xmlns:b="urn:a" a:x="1" b:x="2"/>`,
		"empty prefix decl": `<r xmlns:a=""/>`,
		"too deep":          strings.Repeat("<r>", xmlMaxDepth+1) + strings.Repeat("</r>", xmlMaxDepth+1),
	}
	for name, doc := range tests {
		if _, err := parseXML([]byte(doc)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// A SAML identity provider for tests: a key, a self-signed certificate and
// a response builder.
type testIdP struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

var testIdPs = sync.OnceValue(func() [2]*testIdP {
	var out [2]*testIdP
	for i := range out {
		key := testRSAKey()
		if i == 1 {
			key = testRSAKey2()
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: fmt.Sprintf("idp%d", i)},
			NotBefore: time.Unix(1e9, 0), NotAfter: time.Unix(3e9, 0),
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		cert, _ := x509.ParseCertificate(der)
		out[i] = &testIdP{key: key, cert: cert}
	}
	return out
})

// samlParams fills the response template.
type samlParams struct {
	Issuer, NameID, Format, Recipient, Audience string
	NotBefore, NotOnOrAfter, SessionEnd         time.Time
	Roles                                       []string
	SessionName                                 string
	Extra                                       string // more Attribute elements
	Status                                      string
}

func defaultSAML(now time.Time) samlParams {
	return samlParams{
		Issuer: "https://idp.example.com/entity", NameID: "alice@example.com",
		Format:    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
		Recipient: "https://signin.aws.amazon.com/saml", Audience: "https://signin.aws.amazon.com/saml",
		NotBefore: now.Add(-time.Minute), NotOnOrAfter: now.Add(5 * time.Minute),
		Roles:       []string{"arn:aws:iam::123456789012:role/Fed,arn:aws:iam::123456789012:saml-provider/Okta"},
		SessionName: "alice", Status: samlSuccess,
	}
}

// samlXML renders a Response whose Assertion is already in exclusive
// canonical form, with markers where signatures go.
func samlXML(p samlParams) string {
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
	var attrs strings.Builder
	attr := func(name string, vals ...string) {
		attrs.WriteString(`<saml:Attribute Name="` + name + `">`)
		for _, v := range vals {
			attrs.WriteString(`<saml:AttributeValue>` + v + `</saml:AttributeValue>`)
		}
		attrs.WriteString(`</saml:Attribute>`)
	}
	attr(samlAttrRole, p.Roles...)
	if p.SessionName != "" {
		attr(samlAttrSessionName, p.SessionName)
	}
	attrs.WriteString(p.Extra)
	session := ""
	if !p.SessionEnd.IsZero() {
		session = ` SessionNotOnOrAfter="` + ts(p.SessionEnd) + `"`
	}
	assertion := `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" IssueInstant="` + ts(p.NotBefore) + `" Version="2.0">` +
		`<saml:Issuer>` + p.Issuer + `</saml:Issuer><!--SIG:_a1-->` +
		`<saml:Subject><saml:NameID Format="` + p.Format + `">` + p.NameID + `</saml:NameID>` +
		`<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="` + ts(p.NotOnOrAfter) + `" Recipient="` + p.Recipient + `"></saml:SubjectConfirmationData></saml:SubjectConfirmation></saml:Subject>` +
		`<saml:Conditions NotBefore="` + ts(p.NotBefore) + `" NotOnOrAfter="` + ts(p.NotOnOrAfter) + `"><saml:AudienceRestriction><saml:Audience>` + p.Audience + `</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
		`<saml:AuthnStatement AuthnInstant="` + ts(p.NotBefore) + `"` + session + `><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
		`<saml:AttributeStatement>` + attrs.String() + `</saml:AttributeStatement></saml:Assertion>`
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" ID="_r1" Version="2.0" IssueInstant="` + ts(p.NotBefore) + `" Destination="https://signin.aws.amazon.com/saml">` +
		"\n  " + `<saml:Issuer>` + p.Issuer + `</saml:Issuer><!--SIG:_r1-->` +
		"\n  " + `<samlp:Status><samlp:StatusCode Value="` + p.Status + `"/></samlp:Status>` +
		"\n  " + assertion + "\n</samlp:Response>"
}

// signSAML inserts an enveloped signature over the element with id, made
// with key. The SignedInfo is written directly in its canonical form, so
// its signature does not depend on the canonicalizer under test.
func signSAML(t testing.TB, doc, id string, key *rsa.PrivateKey, sha1Alg bool) string {
	t.Helper()
	root, err := parseXML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	target := findID(root, id)
	if target == nil {
		t.Fatalf("no element %s", id)
	}
	var b bytes.Buffer
	canonicalize(&b, target, c14nMode{exclusive: true}, nil)
	digestAlg, sigAlg, h := "http://www.w3.org/2001/04/xmlenc#sha256", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", crypto.SHA256
	if sha1Alg {
		digestAlg, sigAlg, h = "http://www.w3.org/2000/09/xmldsig#sha1", "http://www.w3.org/2000/09/xmldsig#rsa-sha1", crypto.SHA1
	}
	dv := base64.StdEncoding.EncodeToString(digest(h, b.Bytes()))
	si := `<ds:SignedInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:CanonicalizationMethod>` +
		`<ds:SignatureMethod Algorithm="` + sigAlg + `"></ds:SignatureMethod><ds:Reference URI="#` + id + `"><ds:Transforms>` +
		`<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></ds:Transform><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:Transform></ds:Transforms>` +
		`<ds:DigestMethod Algorithm="` + digestAlg + `"></ds:DigestMethod><ds:DigestValue>` + dv + `</ds:DigestValue></ds:Reference></ds:SignedInfo>`
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, h, digest(h, []byte(si)))
	if err != nil {
		t.Fatal(err)
	}
	sv := base64.StdEncoding.EncodeToString(sig)
	// Wrap the value over lines, as IdPs do.
	if len(sv) > 64 {
		sv = sv[:64] + "\n" + sv[64:]
	}
	body := strings.TrimPrefix(si, `<ds:SignedInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">`)
	signature := `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>` + body + `<ds:SignatureValue>` + sv + `</ds:SignatureValue>` +
		`<ds:KeyInfo><ds:X509Data><ds:X509Certificate>ignored</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>`
	return strings.Replace(doc, "<!--SIG:"+id+"-->", signature, 1)
}

func findID(e *xmlElem, id string) *xmlElem {
	if v, _ := e.attr("ID"); v == id {
		return e
	}
	for _, k := range e.kids {
		if k.elem != nil {
			if f := findID(k.elem, id); f != nil {
				return f
			}
		}
	}
	return nil
}

func TestAssertionTemplateIsCanonical(t *testing.T) {
	// The template's Assertion is written in canonical form; the
	// canonicalizer must reproduce it byte for byte even though the
	// Response declares more namespaces around it.
	doc := samlXML(defaultSAML(time.Unix(1.7e9, 0)))
	start := strings.Index(doc, "<saml:Assertion")
	end := strings.Index(doc, "</saml:Assertion>") + len("</saml:Assertion>")
	want := strings.Replace(doc[start:end], "<!--SIG:_a1-->", "", 1)
	root, err := parseXML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	canonicalize(&b, findID(root, "_a1"), c14nMode{exclusive: true}, nil)
	if b.String() != want {
		t.Fatalf("got  %s\nwant %s", b.String(), want)
	}
}

func TestVerifySAMLResponse(t *testing.T) {
	now := time.Unix(1.7e9, 0)
	idps := testIdPs()
	good, other := idps[0], idps[1]
	base := samlXML(defaultSAML(now))
	tests := []struct {
		name     string
		doc      func() string
		certs    []*x509.Certificate
		wantCode string
	}{
		{"assertion signed", func() string { return signSAML(t, base, "_a1", good.key, false) }, []*x509.Certificate{good.cert}, ""},
		{"response signed", func() string { return signSAML(t, base, "_r1", good.key, false) }, []*x509.Certificate{good.cert}, ""},
		{"both signed", func() string {
			return signSAML(t, signSAML(t, base, "_a1", good.key, false), "_r1", good.key, false)
		}, []*x509.Certificate{good.cert}, ""},
		{"rsa-sha1", func() string { return signSAML(t, base, "_a1", good.key, true) }, []*x509.Certificate{good.cert}, ""},
		{"second certificate of the provider", func() string { return signSAML(t, base, "_a1", good.key, false) }, []*x509.Certificate{other.cert, good.cert}, ""},
		{"unsigned", func() string { return base }, []*x509.Certificate{good.cert}, "InvalidIdentityToken"},
		{"signed by another key", func() string { return signSAML(t, base, "_a1", other.key, false) }, []*x509.Certificate{good.cert}, "InvalidIdentityToken"},
		{"assertion changed after signing", func() string {
			return strings.Replace(signSAML(t, base, "_a1", good.key, false), "alice@example.com", "admin@example.com", 1)
		}, []*x509.Certificate{good.cert}, "InvalidIdentityToken"},
		{"assertion changed under a response signature", func() string {
			return strings.Replace(signSAML(t, base, "_r1", good.key, false), "role/Fed", "role/Admin", 1)
		}, []*x509.Certificate{good.cert}, "InvalidIdentityToken"},
		{"bad assertion signature beside a good response signature", func() string {
			d := signSAML(t, base, "_a1", other.key, false)
			return signSAML(t, d, "_r1", good.key, false)
		}, []*x509.Certificate{good.cert}, "InvalidIdentityToken"},
		{"wrapping: signed assertion hidden, forged one in its place", func() string {
			signed := signSAML(t, base, "_a1", good.key, false)
			start := strings.Index(signed, "<saml:Assertion")
			end := strings.Index(signed, "</saml:Assertion>") + len("</saml:Assertion>")
			orig := signed[start:end]
			forged := strings.Replace(strings.Replace(orig, "alice@example.com", "admin@example.com", 1), `ID="_a1"`, `ID="_evil"`, 1)
			return signed[:start] + `<samlp:Extensions>` + orig + `</samlp:Extensions>` + forged + signed[end:]
		}, []*x509.Certificate{good.cert}, "InvalidIdentityToken"},
		{"duplicate IDs", func() string {
			signed := signSAML(t, base, "_a1", good.key, false)
			return strings.Replace(signed, `<samlp:Status>`, `<samlp:Extensions><x ID="_a1"/></samlp:Extensions><samlp:Status>`, 1)
		}, []*x509.Certificate{good.cert}, "InvalidIdentityToken"},
		{"two assertions", func() string {
			signed := signSAML(t, base, "_a1", good.key, false)
			return strings.Replace(signed, "</samlp:Response>", `<saml:Assertion ID="_a2"/></samlp:Response>`, 1)
		}, []*x509.Certificate{good.cert}, "InvalidIdentityToken"},
		{"encrypted assertion", func() string {
			return strings.Replace(base, "</samlp:Response>", `<saml:EncryptedAssertion/></samlp:Response>`, 1)
		}, []*x509.Certificate{good.cert}, "InvalidIdentityToken"},
		{"reference to another element", func() string {
			d := signSAML(t, base, "_a1", good.key, false)
			return strings.Replace(d, `URI="#_a1"`, `URI="#_r1"`, 1)
		}, []*x509.Certificate{good.cert}, "InvalidIdentityToken"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := decodeSAMLResponse(base64.StdEncoding.EncodeToString([]byte(tc.doc())))
			if err == nil {
				_, err = verifySAMLResponse(resp, tc.certs)
			}
			if got := codeOf(err); got != tc.wantCode {
				t.Fatalf("code = %q (%v), want %q", got, err, tc.wantCode)
			}
		})
	}
}

// readSigned parses, verifies and reads a response signed by the test IdP.
func readSigned(t *testing.T, p samlParams) (*samlAssertion, error) {
	t.Helper()
	idp := testIdPs()[0]
	doc := signSAML(t, samlXML(p), "_a1", idp.key, false)
	resp, err := decodeSAMLResponse(base64.StdEncoding.EncodeToString([]byte(doc)))
	if err != nil {
		t.Fatal(err)
	}
	as, err := verifySAMLResponse(resp, []*x509.Certificate{idp.cert})
	if err != nil {
		t.Fatal(err)
	}
	return readAssertion(resp, as)
}

func TestSAMLAssertionChecks(t *testing.T) {
	now := time.Unix(1.7e9, 0)
	tests := []struct {
		name     string
		edit     func(p *samlParams)
		wantCode string
	}{
		{"valid", func(p *samlParams) {}, ""},
		{"regional audience", func(p *samlParams) {
			p.Audience, p.Recipient = "https://us-east-2.signin.aws.amazon.com/saml", "https://us-east-2.signin.aws.amazon.com/saml"
		}, ""},
		{"urn audience", func(p *samlParams) { p.Audience = "urn:amazon:webservices" }, ""},
		{"foreign audience", func(p *samlParams) { p.Audience = "https://app.example.com" }, "InvalidIdentityToken"},
		{"foreign recipient", func(p *samlParams) { p.Recipient = "https://app.example.com/acs" }, "InvalidIdentityToken"},
		{"expired", func(p *samlParams) { p.NotOnOrAfter = now.Add(-6 * time.Minute) }, "ExpiredTokenException"},
		{"expired within skew", func(p *samlParams) { p.NotOnOrAfter = now.Add(-4 * time.Minute) }, ""},
		{"not yet valid", func(p *samlParams) { p.NotBefore = now.Add(10 * time.Minute) }, "InvalidIdentityToken"},
		{"IdP reports failure", func(p *samlParams) { p.Status = "urn:oasis:names:tc:SAML:2.0:status:Requester" }, "IDPRejectedClaim"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := defaultSAML(now)
			tc.edit(&p)
			a, err := readSigned(t, p)
			if err == nil {
				err = a.checkValidity(now)
			}
			if got := codeOf(err); got != tc.wantCode {
				t.Fatalf("code = %q (%v), want %q", got, err, tc.wantCode)
			}
		})
	}
}

func TestSAMLAssertionContent(t *testing.T) {
	now := time.Unix(1.7e9, 0)
	p := defaultSAML(now)
	p.Roles = []string{
		"arn:aws:iam::123456789012:saml-provider/Okta,arn:aws:iam::123456789012:role/Reversed",
		"arn:aws:iam::123456789012:role/Fed, arn:aws:iam::123456789012:saml-provider/Okta",
		"garbage",
	}
	p.SessionEnd = now.Add(30 * time.Minute)
	p.Extra = `<saml:Attribute Name="urn:oid:1.3.6.1.4.1.5923.1.1.1.7"><saml:AttributeValue>ent1</saml:AttributeValue><saml:AttributeValue>ent2</saml:AttributeValue></saml:Attribute>` +
		`<saml:Attribute Name="mail"><saml:AttributeValue>alice@example.com</saml:AttributeValue></saml:Attribute>` +
		`<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/PrincipalTag:Dept"><saml:AttributeValue>hr</saml:AttributeValue></saml:Attribute>` +
		`<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys"><saml:AttributeValue>Dept</saml:AttributeValue></saml:Attribute>` +
		`<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/SourceIdentity"><saml:AttributeValue>alice</saml:AttributeValue></saml:Attribute>` +
		`<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/SessionDuration"><saml:AttributeValue>1800</saml:AttributeValue></saml:Attribute>`
	a, err := readSigned(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.checkValidity(now); err != nil {
		t.Fatal(err)
	}
	wantPairs := [][2]string{
		{"arn:aws:iam::123456789012:role/Reversed", "arn:aws:iam::123456789012:saml-provider/Okta"},
		{"arn:aws:iam::123456789012:role/Fed", "arn:aws:iam::123456789012:saml-provider/Okta"},
	}
	if got := a.rolePairs(); !slices.Equal(got, wantPairs) {
		t.Errorf("rolePairs = %v", got)
	}
	if !a.SessionDeadline.Equal(now.Add(30*time.Minute)) || a.Issuer != p.Issuer || a.NameID != p.NameID {
		t.Errorf("assertion = %+v", a)
	}
	keys := a.samlContextKeys()
	if !slices.Equal(keys["saml:edupersonentitlement"], []string{"ent1", "ent2"}) || !slices.Equal(keys["saml:mail"], []string{"alice@example.com"}) {
		t.Errorf("context keys = %v", keys)
	}
	name, tags, transitive, source, err := a.samlSessionFacts()
	if err != nil || name != "alice" || tags["Dept"] != "hr" || !slices.Equal(transitive, []string{"Dept"}) || source != "alice" {
		t.Errorf("facts = %q %v %v %q %v", name, tags, transitive, source, err)
	}
}

func TestSAMLSessionFactsErrors(t *testing.T) {
	tests := map[string][]samlAttribute{
		"no session name":      nil,
		"bad session name":     {{Name: samlAttrSessionName, Values: []string{"a b"}}},
		"bad duration":         {{Name: samlAttrSessionName, Values: []string{"alice"}}, {Name: samlAttrSessionDur, Values: []string{"60"}}},
		"two-valued tag":       {{Name: samlAttrSessionName, Values: []string{"alice"}}, {Name: samlAttrPrincipalTag + "k", Values: []string{"a", "b"}}},
		"duplicate tag":        {{Name: samlAttrSessionName, Values: []string{"alice"}}, {Name: samlAttrPrincipalTag + "k", Values: []string{"a"}}, {Name: samlAttrPrincipalTag + "K", Values: []string{"b"}}},
		"transitive not a tag": {{Name: samlAttrSessionName, Values: []string{"alice"}}, {Name: samlAttrTransitiveTags, Values: []string{"x"}}},
		"short source":         {{Name: samlAttrSessionName, Values: []string{"alice"}}, {Name: samlAttrSourceIdentity, Values: []string{"a"}}},
	}
	for name, attrs := range tests {
		a := &samlAssertion{Attributes: attrs}
		if _, _, _, _, err := a.samlSessionFacts(); codeOf(err) != "InvalidIdentityToken" {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestSAMLNameQualifier(t *testing.T) {
	// base64(SHA1("https://example.com/saml" + "123456789012" + "/MySAMLIdP")),
	// computed outside Go.
	got := samlNameQualifier("https://example.com/saml", "123456789012", "MySAMLIdP")
	if got != "1uAJanUnBc2XeUkHURMht+xam2c=" {
		t.Fatalf("namequalifier = %q", got)
	}
	if samlNameQualifier("a", "1", "p") == samlNameQualifier("a", "1", "q") {
		t.Fatal("qualifiers of different providers are equal")
	}
}

func FuzzSAMLResponse(f *testing.F) {
	now := time.Unix(1.7e9, 0)
	idp := testIdPs()[0]
	f.Add([]byte(signSAML(f, samlXML(defaultSAML(now)), "_a1", idp.key, false)))
	f.Add([]byte(signSAML(f, samlXML(defaultSAML(now)), "_r1", idp.key, true)))
	f.Add([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`))
	certs := []*x509.Certificate{idp.cert}
	f.Fuzz(func(t *testing.T, doc []byte) {
		resp, err := decodeSAMLResponse(base64.StdEncoding.EncodeToString(doc))
		if err != nil {
			return
		}
		as, err := verifySAMLResponse(resp, certs)
		if err != nil {
			return
		}
		a, err := readAssertion(resp, as)
		if err != nil {
			return
		}
		_ = a.checkValidity(now)
		_, _, _, _, _ = a.samlSessionFacts()
		_ = a.rolePairs()
		_ = a.samlContextKeys()
	})
}
