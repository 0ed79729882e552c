package policy

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/iamd/iamd/internal/policy/corpus"
)

// The decision corpus: testdata/corpus/*.json, written by
// testdata/gen_corpus.py from the AWS documentation pages each case cites.

// corpusCase is a case of the shared corpus reader.
type corpusCase = corpus.Case

var kindNames = map[string]Kind{
	"Identity": Identity, "Resource": Resource, "Trust": Trust, "SCP": SCP, "RCP": RCP, "Session": Session,
}

func loadCorpus(t testing.TB) map[string][]corpusCase {
	out, err := corpus.Load("testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCorpus(t *testing.T) {
	total := 0
	for file, cases := range loadCorpus(t) {
		for _, c := range cases {
			total++
			t.Run(file+"/"+c.Name, func(t *testing.T) {
				if c.Source == "" {
					t.Fatal("case cites no source page")
				}
				kind, ok := kindNames[c.Kind]
				if !ok {
					t.Fatalf("unknown kind %q", c.Kind)
				}
				docs := c.Policies
				if c.PolicyText != nil {
					docs = []json.RawMessage{json.RawMessage(*c.PolicyText)}
				}
				var ps []*Policy
				for i, d := range docs {
					p, err := Parse(d, kind)
					if c.Error != "" {
						if err == nil {
							t.Fatalf("policy %d parsed; want error %q", i, c.Error)
						}
						pe, ok := err.(*Error)
						if !ok || pe.Code != CodeMalformed || pe.Message != c.Error {
							t.Fatalf("error = %v; want %s: %s", err, CodeMalformed, c.Error)
						}
						return
					}
					if err != nil {
						t.Fatalf("policy %d: %v\n%s", i, err, d)
					}
					ps = append(ps, p)
				}
				if c.Error != "" {
					t.Fatal("error case without a policy")
				}
				req := &Request{Action: c.Request.Action, Resource: c.Request.Resource}
				if c.Request.Context != nil {
					req.Context = NewContext(len(c.Request.Context))
					for k, v := range c.Request.Context {
						req.Context.Set(k, v...)
					}
				}
				if p := c.Request.Principal; p != nil {
					req.Principal = &Principal{Account: p.Account, ARN: p.ARN, SessionARN: p.SessionARN,
						Service: p.Service, Federated: p.Federated, Anonymous: p.Anonymous}
				}
				var res Result
				NewSet(ps...).Evaluate(req, &res)
				if res.Allowed != c.Allowed || res.Denied != c.Denied {
					t.Errorf("allowed=%v denied=%v; want allowed=%v denied=%v (matched %v)", res.Allowed, res.Denied, c.Allowed, c.Denied, res.Matched)
				}
				if c.Matched != nil {
					got := [][2]int{}
					for _, m := range res.Matched {
						got = append(got, [2]int{m.Policy, m.Statement})
					}
					if !slices.Equal(got, c.Matched) {
						t.Errorf("matched %v; want %v", got, c.Matched)
					}
				}
				if c.Missing != nil && !slices.Equal(res.Missing, c.Missing) {
					t.Errorf("missing %q; want %q", res.Missing, c.Missing)
				}
			})
		}
	}
	if total < 500 {
		t.Errorf("corpus has %d cases; want at least 500", total)
	}
}
