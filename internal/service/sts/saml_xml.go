package sts

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// A minimal XML tree for SAML: element names keep both the prefix written
// in the document (canonical XML reproduces it) and the namespace it
// resolves to (the SAML checks match on it). Comments are dropped, which is
// what canonicalization without comments does with them; processing
// instructions inside the document and DTDs are refused outright.

// Limits that keep hostile documents cheap to refuse.
const (
	xmlMaxDepth    = 64
	xmlMaxElements = 10000
)

const nsXML = "http://www.w3.org/XML/1998/namespace"

var errXML = errors.New("saml: malformed XML")

type xmlAttr struct {
	prefix, local, ns, value string
}

// xmlNS is a namespace declaration; prefix "" is the default namespace.
type xmlNS struct{ prefix, uri string }

type xmlElem struct {
	prefix, local, ns string
	attrs             []xmlAttr
	decls             []xmlNS
	parent            *xmlElem
	kids              []xmlNode
}

// xmlNode is a child: an element, or text when elem is nil.
type xmlNode struct {
	elem *xmlElem
	text string
}

// attr returns the value of the attribute local in no namespace.
func (e *xmlElem) attr(local string) (string, bool) {
	for _, a := range e.attrs {
		if a.ns == "" && a.local == local {
			return a.value, true
		}
	}
	return "", false
}

// children returns the child elements in namespace ns named local.
func (e *xmlElem) children(ns, local string) []*xmlElem {
	var out []*xmlElem
	for _, k := range e.kids {
		if k.elem != nil && k.elem.ns == ns && k.elem.local == local {
			out = append(out, k.elem)
		}
	}
	return out
}

// child returns the only child element ns:local, or nil when there is none
// or more than one.
func (e *xmlElem) child(ns, local string) *xmlElem {
	c := e.children(ns, local)
	if len(c) != 1 {
		return nil
	}
	return c[0]
}

// text is the element's character content (child elements ignored).
func (e *xmlElem) text() string {
	var b strings.Builder
	for _, k := range e.kids {
		if k.elem == nil {
			b.WriteString(k.text)
		}
	}
	return b.String()
}

// lookupNS resolves prefix in e's scope.
func (e *xmlElem) lookupNS(prefix string) (string, bool) {
	if prefix == "xml" {
		return nsXML, true
	}
	for x := e; x != nil; x = x.parent {
		for _, d := range x.decls {
			if d.prefix == prefix {
				return d.uri, true
			}
		}
	}
	if prefix == "" {
		return "", true
	}
	return "", false
}

// parseXML reads a document into a tree.
func parseXML(doc []byte) (*xmlElem, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	var root, cur *xmlElem
	depth, count := 0, 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errXML, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth++; depth > xmlMaxDepth {
				return nil, fmt.Errorf("%w: nested deeper than %d", errXML, xmlMaxDepth)
			}
			if count++; count > xmlMaxElements {
				return nil, fmt.Errorf("%w: more than %d elements", errXML, xmlMaxElements)
			}
			e, err := newElem(t, cur)
			if err != nil {
				return nil, err
			}
			if cur == nil {
				if root != nil {
					return nil, fmt.Errorf("%w: more than one root element", errXML)
				}
				root = e
			} else {
				cur.kids = append(cur.kids, xmlNode{elem: e})
			}
			cur = e
		case xml.EndElement:
			if cur == nil || t.Name.Space != cur.prefix || t.Name.Local != cur.local {
				return nil, fmt.Errorf("%w: mismatched end tag %s", errXML, t.Name.Local)
			}
			cur = cur.parent
			depth--
		case xml.CharData:
			if cur == nil {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, fmt.Errorf("%w: text outside the root element", errXML)
				}
				continue
			}
			if n := len(cur.kids); n > 0 && cur.kids[n-1].elem == nil {
				cur.kids[n-1].text += string(t)
			} else {
				cur.kids = append(cur.kids, xmlNode{text: string(t)})
			}
		case xml.ProcInst:
			if cur != nil || root != nil || t.Target != "xml" {
				return nil, fmt.Errorf("%w: processing instruction %q", errXML, t.Target)
			}
		case xml.Directive:
			// No DTDs: they are how entity expansion and external entity
			// attacks reach an XML consumer.
			return nil, fmt.Errorf("%w: DTDs are not accepted", errXML)
		case xml.Comment:
		}
	}
	if root == nil || cur != nil {
		return nil, fmt.Errorf("%w: document is incomplete", errXML)
	}
	return root, nil
}

// newElem builds an element from a raw start tag and resolves its names.
func newElem(t xml.StartElement, parent *xmlElem) (*xmlElem, error) {
	e := &xmlElem{prefix: t.Name.Space, local: t.Name.Local, parent: parent}
	for _, a := range t.Attr {
		switch {
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			e.decls = append(e.decls, xmlNS{"", a.Value})
		case a.Name.Space == "xmlns":
			if a.Value == "" || a.Name.Local == "xmlns" || a.Name.Local == "xml" {
				return nil, fmt.Errorf("%w: invalid declaration of prefix %s", errXML, a.Name.Local)
			}
			e.decls = append(e.decls, xmlNS{a.Name.Local, a.Value})
		default:
			e.attrs = append(e.attrs, xmlAttr{prefix: a.Name.Space, local: a.Name.Local, value: a.Value})
		}
	}
	var ok bool
	if e.ns, ok = e.lookupNS(e.prefix); !ok {
		return nil, fmt.Errorf("%w: undeclared prefix %s", errXML, e.prefix)
	}
	for i := range e.attrs {
		a := &e.attrs[i]
		if a.prefix != "" { // unprefixed attributes are in no namespace
			if a.ns, ok = e.lookupNS(a.prefix); !ok {
				return nil, fmt.Errorf("%w: undeclared prefix %s", errXML, a.prefix)
			}
		}
		for _, b := range e.attrs[:i] {
			if b.ns == a.ns && b.local == a.local {
				return nil, fmt.Errorf("%w: duplicate attribute %s", errXML, a.local)
			}
		}
	}
	return e, nil
}

// c14nMode selects Canonical XML 1.0 or Exclusive XML Canonicalization 1.0,
// both without comments.
type c14nMode struct {
	exclusive bool
	// inclusive lists the prefixes of an exclusive transform's
	// InclusiveNamespaces PrefixList ("" for #default), which are rendered
	// as inclusive canonicalization would.
	inclusive []string
}

// canonicalize writes the canonical form of the subtree at e, leaving out
// the element skip (the enveloped signature) and its subtree.
func canonicalize(w *bytes.Buffer, e *xmlElem, m c14nMode, skip *xmlElem) {
	c14nElem(w, e, m, skip, map[string]string{"": ""})
}

// c14nElem renders e; rendered maps each prefix to the namespace the
// nearest output ancestor declared for it.
func c14nElem(w *bytes.Buffer, e *xmlElem, m c14nMode, skip *xmlElem, rendered map[string]string) {
	// Which namespace declarations this element must carry.
	var candidates []string
	if m.exclusive {
		// Visibly utilized: the element's own prefix and its attributes'
		// prefixes (unprefixed attributes use no namespace).
		candidates = append(candidates, e.prefix)
		for _, a := range e.attrs {
			if a.prefix != "" {
				candidates = append(candidates, a.prefix)
			}
		}
		candidates = append(candidates, m.inclusive...)
	} else {
		for x := e; x != nil; x = x.parent {
			for _, d := range x.decls {
				candidates = append(candidates, d.prefix)
			}
		}
	}
	slices.Sort(candidates)
	candidates = slices.Compact(candidates)
	var decls []xmlNS
	for _, p := range candidates {
		if p == "xml" {
			continue
		}
		uri, ok := e.lookupNS(p)
		if !ok {
			continue // an InclusiveNamespaces prefix not in scope here
		}
		prev, ok := rendered[p]
		if ok && prev == uri {
			continue // the nearest output ancestor already declared it
		}
		if !ok && uri == "" {
			continue
		}
		decls = append(decls, xmlNS{p, uri})
	}
	if len(decls) > 0 {
		next := make(map[string]string, len(rendered)+len(decls))
		for k, v := range rendered {
			next[k] = v
		}
		for _, d := range decls {
			next[d.prefix] = d.uri
		}
		rendered = next
	}
	w.WriteByte('<')
	writeQName(w, e.prefix, e.local)
	for _, d := range decls { // sorted by prefix, the default namespace first
		if d.prefix == "" {
			w.WriteString(` xmlns="`)
		} else {
			w.WriteString(` xmlns:`)
			w.WriteString(d.prefix)
			w.WriteString(`="`)
		}
		escapeAttr(w, d.uri)
		w.WriteByte('"')
	}
	attrs := slices.Clone(e.attrs)
	slices.SortFunc(attrs, func(a, b xmlAttr) int {
		if c := strings.Compare(a.ns, b.ns); c != 0 {
			return c
		}
		return strings.Compare(a.local, b.local)
	})
	for _, a := range attrs {
		w.WriteByte(' ')
		writeQName(w, a.prefix, a.local)
		w.WriteString(`="`)
		escapeAttr(w, a.value)
		w.WriteByte('"')
	}
	w.WriteByte('>')
	for _, k := range e.kids {
		switch {
		case k.elem == nil:
			escapeText(w, k.text)
		case k.elem != skip:
			c14nElem(w, k.elem, m, skip, rendered)
		}
	}
	w.WriteString("</")
	writeQName(w, e.prefix, e.local)
	w.WriteByte('>')
}

func writeQName(w *bytes.Buffer, prefix, local string) {
	if prefix != "" {
		w.WriteString(prefix)
		w.WriteByte(':')
	}
	w.WriteString(local)
}

// escapeText escapes character content as Canonical XML section 2.3 says.
func escapeText(w *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			w.WriteString("&amp;")
		case '<':
			w.WriteString("&lt;")
		case '>':
			w.WriteString("&gt;")
		case '\r':
			w.WriteString("&#xD;")
		default:
			w.WriteByte(c)
		}
	}
}

// escapeAttr escapes an attribute value as Canonical XML section 2.3 says.
func escapeAttr(w *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			w.WriteString("&amp;")
		case '<':
			w.WriteString("&lt;")
		case '"':
			w.WriteString("&quot;")
		case '\t':
			w.WriteString("&#x9;")
		case '\n':
			w.WriteString("&#xA;")
		case '\r':
			w.WriteString("&#xD;")
		default:
			w.WriteByte(c)
		}
	}
}
