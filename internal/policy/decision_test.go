package policy

import "testing"

// TestCorpusDecisionOnly: the DecisionOnly shortcuts (skipping Allow
// statements once allowed, stopping at the first Deny) reach the same
// decision as a full evaluation on every corpus case, and a Result reused
// across cases keeps the mode.
func TestCorpusDecisionOnly(t *testing.T) {
	res := Result{DecisionOnly: true}
	n := 0
	for file, cases := range loadCorpus(t) {
		for _, c := range cases {
			if c.Error != "" {
				continue
			}
			kind := kindNames[c.Kind]
			docs := c.Policies
			if c.PolicyText != nil {
				docs = docs[:0:0]
				docs = append(docs, []byte(*c.PolicyText))
			}
			var ps []*Policy
			for _, d := range docs {
				p, err := Parse(d, kind)
				if err != nil {
					t.Fatalf("%s/%s: %v", file, c.Name, err)
				}
				ps = append(ps, p)
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
			set := NewSet(ps...)
			var full Result
			set.Evaluate(req, &full)
			set.Evaluate(req, &res)
			if !res.DecisionOnly {
				t.Fatal("Evaluate cleared DecisionOnly")
			}
			if res.Allowed != full.Allowed || res.Denied != full.Denied {
				t.Errorf("%s/%s: decision-only allowed=%v denied=%v; full allowed=%v denied=%v", file, c.Name, res.Allowed, res.Denied, full.Allowed, full.Denied)
			}
			n++
		}
	}
	if n < 400 {
		t.Fatalf("only %d corpus cases evaluated", n)
	}
}
