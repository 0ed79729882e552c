package awsproto

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// xmlNode is a generic parsed XML element, used to read encoder output back
// independently of the encoder.
type xmlNode struct {
	name string
	text string
	kids []*xmlNode
}

func parseXML(t *testing.T, data []byte) *xmlNode {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	root := &xmlNode{}
	stack := []*xmlNode{root}
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch x := tok.(type) {
		case xml.StartElement:
			n := &xmlNode{name: x.Name.Local}
			top := stack[len(stack)-1]
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			stack[len(stack)-1].text += string(x)
		}
	}
	if len(stack) != 1 || len(root.kids) != 1 {
		t.Fatalf("malformed XML: %s", data)
	}
	return root.kids[0]
}

func (n *xmlNode) child(name string) *xmlNode {
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

// readXML converts an element back into a document value of the shape.
func readXML(t *testing.T, sh *Shape, n *xmlNode) any {
	switch sh.Type {
	case "structure":
		d := map[string]any{}
		for _, m := range sh.Members {
			if c := n.child(xmlName(m, "")); c != nil {
				d[m.Name] = readXML(t, m.Shape, c)
			}
		}
		return d
	case "list":
		l := []any{}
		for _, k := range n.kids {
			l = append(l, readXML(t, sh.Member.Shape, k))
		}
		return l
	case "map":
		m := map[string]any{}
		for _, e := range n.kids {
			m[e.child("key").text] = readXML(t, sh.Value.Shape, e.child("value"))
		}
		return m
	}
	v, err := func() (any, error) {
		switch sh.Type {
		case "string":
			return n.text, nil
		case "integer", "long":
			return strconv.ParseInt(n.text, 10, 64)
		case "double", "float":
			return strconv.ParseFloat(n.text, 64)
		case "boolean":
			return strconv.ParseBool(n.text)
		case "timestamp":
			return time.Parse(time.RFC3339, n.text)
		case "blob":
			return base64.StdEncoding.DecodeString(n.text)
		}
		return nil, fmt.Errorf("type %s", sh.Type)
	}()
	if err != nil {
		t.Fatalf("%s %q: %v", sh.Name, n.text, err)
	}
	return v
}

// TestQueryOutputRoundTripAllOperations encodes a model-complete output
// document for every IAM and STS operation and reads it back with an
// independent XML reader, proving every member is written where the SDKs
// look for it.
func TestQueryOutputRoundTripAllOperations(t *testing.T) {
	for _, svc := range []string{"iam", "sts"} {
		s := LookupService(svc)
		for _, name := range sortedKeys(s.Operations) {
			op := s.Operations[name]
			if op.Output == nil {
				continue
			}
			t.Run(svc+"/"+name, func(t *testing.T) {
				want := newSampler().structure(op.Output)
				body, err := op.EncodeQuery(want, "rid")
				if err != nil {
					t.Fatal(err)
				}
				root := parseXML(t, body)
				if root.name != name+"Response" || root.child("ResponseMetadata").child("RequestId").text != "rid" {
					t.Fatalf("envelope: %s", body)
				}
				res := root.child(op.ResultWrapper)
				if res == nil {
					t.Fatalf("no %s in %s", op.ResultWrapper, body)
				}
				if got := readXML(t, op.Output, res); !reflect.DeepEqual(got, want) {
					t.Fatalf("mismatch\n got: %#v\nwant: %#v", got, want)
				}
			})
		}
	}
}
