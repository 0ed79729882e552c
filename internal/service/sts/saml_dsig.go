package sts

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1" // rsa-sha1 is still what many IdPs sign with, and AWS accepts it
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Enveloped XML signatures (XML-DSig 1.0) over a SAML Response or
// Assertion. Only the shapes SAML uses are accepted: one Reference, to the
// ID of the element the Signature is a direct child of, with the enveloped
// transform and a canonicalization. Keys come from the provider's metadata,
// never from the signature's own KeyInfo.

const (
	nsDSig = "http://www.w3.org/2000/09/xmldsig#"

	algEnveloped = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	algC14N      = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
	algExcC14N   = "http://www.w3.org/2001/10/xml-exc-c14n#"
)

var (
	errNoSignature  = errors.New("saml: element is not signed")
	errBadSignature = errors.New("saml: signature does not verify")
)

// digestAlgs and signatureAlgs map XML-DSig algorithm URIs to hashes.
var digestAlgs = map[string]crypto.Hash{
	"http://www.w3.org/2000/09/xmldsig#sha1":        crypto.SHA1,
	"http://www.w3.org/2001/04/xmlenc#sha256":       crypto.SHA256,
	"http://www.w3.org/2001/04/xmldsig-more#sha384": crypto.SHA384,
	"http://www.w3.org/2001/04/xmlenc#sha512":       crypto.SHA512,
}

type sigAlg struct {
	hash crypto.Hash
	ec   bool
}

var signatureAlgs = map[string]sigAlg{
	"http://www.w3.org/2000/09/xmldsig#rsa-sha1":          {crypto.SHA1, false},
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256":   {crypto.SHA256, false},
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384":   {crypto.SHA384, false},
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512":   {crypto.SHA512, false},
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": {crypto.SHA256, true},
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": {crypto.SHA384, true},
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": {crypto.SHA512, true},
}

func sha1Sum(b []byte) []byte {
	s := sha1.Sum(b)
	return s[:]
}

// c14nFor reads a CanonicalizationMethod or Transform algorithm.
func c14nFor(e *xmlElem) (c14nMode, bool) {
	alg, _ := e.attr("Algorithm")
	switch alg {
	case algC14N:
		return c14nMode{}, true
	case algExcC14N:
		m := c14nMode{exclusive: true}
		if in := e.child(algExcC14N, "InclusiveNamespaces"); in != nil {
			list, _ := in.attr("PrefixList")
			for _, p := range strings.Fields(list) {
				if p == "#default" {
					p = ""
				}
				m.inclusive = append(m.inclusive, p)
			}
		}
		return m, true
	}
	return c14nMode{}, false
}

// verifyEnveloped verifies the Signature that is a direct child of signed
// with one of certs. It returns errNoSignature when signed has none.
func verifyEnveloped(signed *xmlElem, certs []*x509.Certificate) error {
	sigs := signed.children(nsDSig, "Signature")
	switch len(sigs) {
	case 0:
		return errNoSignature
	case 1:
	default:
		return fmt.Errorf("%w: more than one Signature", errBadSignature)
	}
	sig := sigs[0]
	id, _ := signed.attr("ID")
	if id == "" {
		return fmt.Errorf("%w: the signed element has no ID", errBadSignature)
	}
	si := sig.child(nsDSig, "SignedInfo")
	if si == nil {
		return fmt.Errorf("%w: no SignedInfo", errBadSignature)
	}
	cm := si.child(nsDSig, "CanonicalizationMethod")
	if cm == nil {
		return fmt.Errorf("%w: no CanonicalizationMethod", errBadSignature)
	}
	siMode, ok := c14nFor(cm)
	if !ok {
		return fmt.Errorf("%w: unsupported canonicalization", errBadSignature)
	}
	sm := si.child(nsDSig, "SignatureMethod")
	if sm == nil {
		return fmt.Errorf("%w: no SignatureMethod", errBadSignature)
	}
	smAlg, _ := sm.attr("Algorithm")
	salg, ok := signatureAlgs[smAlg]
	if !ok {
		return fmt.Errorf("%w: unsupported signature method %s", errBadSignature, smAlg)
	}
	ref := si.child(nsDSig, "Reference")
	if ref == nil {
		return fmt.Errorf("%w: SignedInfo must hold exactly one Reference", errBadSignature)
	}
	if uri, _ := ref.attr("URI"); uri != "#"+id {
		// A reference elsewhere would let a signed element vouch for an
		// unsigned one (signature wrapping).
		return fmt.Errorf("%w: the Reference does not name the enclosing element", errBadSignature)
	}
	refMode, enveloped, err := transforms(ref)
	if err != nil {
		return err
	}
	if !enveloped {
		return fmt.Errorf("%w: the Reference lacks the enveloped-signature transform", errBadSignature)
	}
	dm := ref.child(nsDSig, "DigestMethod")
	dv := ref.child(nsDSig, "DigestValue")
	if dm == nil || dv == nil {
		return fmt.Errorf("%w: no DigestMethod or DigestValue", errBadSignature)
	}
	dmAlg, _ := dm.attr("Algorithm")
	dh := digestAlgs[dmAlg]
	if dh == 0 {
		return fmt.Errorf("%w: unsupported digest method %s", errBadSignature, dmAlg)
	}
	want, err := b64Std(dv.text())
	if err != nil {
		return fmt.Errorf("%w: DigestValue is not base64", errBadSignature)
	}
	var buf bytes.Buffer
	canonicalize(&buf, signed, refMode, sig)
	if subtle.ConstantTimeCompare(digest(dh, buf.Bytes()), want) != 1 {
		return fmt.Errorf("%w: digest mismatch", errBadSignature)
	}
	sv := sig.child(nsDSig, "SignatureValue")
	if sv == nil {
		return fmt.Errorf("%w: no SignatureValue", errBadSignature)
	}
	sigBytes, err := b64Std(sv.text())
	if err != nil {
		return fmt.Errorf("%w: SignatureValue is not base64", errBadSignature)
	}
	buf.Reset()
	canonicalize(&buf, si, siMode, nil)
	h := digest(salg.hash, buf.Bytes())
	for _, c := range certs {
		if verifySigValue(c.PublicKey, salg, h, sigBytes) {
			return nil
		}
	}
	return errBadSignature
}

// transforms reads a Reference's Transforms: the enveloped-signature
// transform and at most one canonicalization (inclusive C14N when none is
// named, as XML-DSig defines for same-document references).
func transforms(ref *xmlElem) (c14nMode, bool, error) {
	var m c14nMode
	enveloped, haveC14N := false, false
	ts := ref.child(nsDSig, "Transforms")
	if ts == nil {
		return m, false, nil
	}
	list := ts.children(nsDSig, "Transform")
	if len(list) > 2 {
		return m, false, fmt.Errorf("%w: too many transforms", errBadSignature)
	}
	for _, t := range list {
		alg, _ := t.attr("Algorithm")
		if alg == algEnveloped {
			enveloped = true
			continue
		}
		mode, ok := c14nFor(t)
		if !ok || haveC14N {
			return m, false, fmt.Errorf("%w: unsupported transform %s", errBadSignature, alg)
		}
		m, haveC14N = mode, true
	}
	return m, enveloped, nil
}

// verifySigValue checks a SignatureValue over digest h with pub.
func verifySigValue(pub crypto.PublicKey, alg sigAlg, h, sig []byte) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return !alg.ec && rsa.VerifyPKCS1v15(k, alg.hash, h, sig) == nil
	case *ecdsa.PublicKey:
		if !alg.ec {
			return false
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		if len(sig) == 2*size { // XML-DSig 1.1 writes r||s
			r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
			return ecdsa.Verify(k, h, r, s)
		}
		var rs struct{ R, S *big.Int } // some signers write ASN.1 nonetheless
		if rest, err := asn1.Unmarshal(sig, &rs); err == nil && len(rest) == 0 {
			return ecdsa.Verify(k, h, rs.R, rs.S)
		}
	}
	return false
}

// b64Std decodes base64 that may be wrapped over several lines.
func b64Std(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
}
