package authz

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/principal"
)

// The organization guardrail corpus (internal/policy/testdata/corpus/
// scp_*.json and rcp_*.json, written by testdata/gen_corpus_org.py) run
// through the chain with each case's SCP/RCP levels.

type chainCase struct {
	Name      string              `json:"name"`
	Source    string              `json:"source"`
	Kind      string              `json:"kind"`
	Principal string              `json:"principal"`
	SCPs      [][]json.RawMessage `json:"scps"`
	RCPs      [][]json.RawMessage `json:"rcps"`
	Identity  []json.RawMessage   `json:"identity"`
	Trust     json.RawMessage     `json:"trust"`
	// ResourceIn: "member" or "management" (RCP cases).
	ResourceIn string `json:"resource_in"`
	Request    struct {
		Action    string              `json:"action"`
		Resource  string              `json:"resource"`
		Context   map[string][]string `json:"context"`
		Principal *struct {
			Account string `json:"account"`
			ARN     string `json:"arn"`
		} `json:"principal"`
	} `json:"request"`
	Allowed    bool   `json:"allowed"`
	Denied     bool   `json:"denied"`
	OrgAllowed *bool  `json:"org_allowed"`
	Stage      string `json:"stage"`
}

// chainSkips are cases the engine is known to decide wrongly, with why.
// Empty: every case passes.
var chainSkips = map[string]string{}

var stageNames = map[string]Stage{
	"": StageNone, "scp": StageSCP, "rcp": StageRCP, "resource": StageResource, "identity": StageIdentity,
}

func loadChainCases(t testing.TB) map[string][]chainCase {
	var files []string
	for _, g := range []string{"scp_*.json", "rcp_*.json"} {
		m, err := filepath.Glob(filepath.Join("..", "policy", "testdata", "corpus", g))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	out := map[string][]chainCase{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cf struct {
			Cases []chainCase `json:"chain_cases"`
		}
		if err := json.Unmarshal(b, &cf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = cf.Cases
	}
	return out
}

func parseAll(t *testing.T, docs []json.RawMessage, kind policy.Kind) *policy.Set {
	t.Helper()
	ps := make([]*policy.Policy, 0, len(docs))
	for i, d := range docs {
		p, err := policy.Parse(d, kind)
		if err != nil {
			t.Fatalf("%v document %d: %v\n%s", kind, i, err, d)
		}
		ps = append(ps, p)
	}
	return policy.NewSet(ps...)
}

func parseLevels(t *testing.T, levels [][]json.RawMessage, kind policy.Kind) []*policy.Set {
	t.Helper()
	if levels == nil {
		return nil
	}
	out := make([]*policy.Set, 0, len(levels))
	for _, lv := range levels {
		out = append(out, parseAll(t, lv, kind))
	}
	return out
}

// chainInput maps a case onto Input the way enforcement does: the
// management account and service-linked roles get no SCP levels (org.go's
// Guardrails and boundBySCPs), the management account's resources no RCP
// levels, the root user is Root, and sts:AssumeRole* needs the trust policy.
func chainInput(t *testing.T, c *chainCase) *Input {
	in := &Input{Request: policy.Request{Action: c.Request.Action, Resource: c.Request.Resource}}
	if c.Request.Context != nil {
		in.Request.Context = policy.NewContext(len(c.Request.Context))
		for k, v := range c.Request.Context {
			in.Request.Context.Set(k, v...)
		}
	}
	switch c.Kind {
	case "SCP":
		in.Identity = parseAll(t, c.Identity, policy.Identity)
		in.SCPs = parseLevels(t, c.SCPs, policy.SCP)
		switch c.Principal {
		case "user":
			in.Request.Principal = &policy.Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/corpus"}
		case "root":
			in.Root = true
			in.Request.Principal = &policy.Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:root"}
		case "service-linked-role":
			slr := &principal.Principal{Type: principal.AssumedRole, Path: "/aws-service-role/autoscaling.amazonaws.com/"}
			if boundBySCPs(slr) {
				t.Fatal("SCPs bind a service-linked role")
			}
			in.SCPs = nil
		case "management":
			in.SCPs = nil
		default:
			t.Fatalf("unknown principal %q", c.Principal)
		}
	case "RCP":
		p := c.Request.Principal
		if p == nil {
			t.Fatal("RCP case without a caller")
		}
		in.Request.Principal = &policy.Principal{Account: p.Account, ARN: p.ARN}
		in.Identity = parseAll(t, c.Identity, policy.Identity)
		in.SCPs = parseLevels(t, c.SCPs, policy.SCP)
		if c.ResourceIn != "management" {
			in.RCPs = parseLevels(t, c.RCPs, policy.RCP)
		}
		kind := policy.Resource
		if isTrustAction(c.Request.Action) {
			kind = policy.Trust
			in.ResourceRequired = true
		}
		in.Resource = parseAll(t, []json.RawMessage{c.Trust}, kind)
		in.CrossAccount = resourceAccount(c.Request.Resource, "111122223333") != p.Account
		tr := &trust{set: in.Resource}
		in.ResourceGrantsPrincipalDirectly = tr.grantsDirectly(&in.Request)
	default:
		t.Fatalf("unknown kind %q", c.Kind)
	}
	return in
}

func TestChainCorpus(t *testing.T) {
	counts := map[string]int{}
	for file, cases := range loadChainCases(t) {
		for _, c := range cases {
			counts[c.Kind]++
			t.Run(file+"/"+c.Name, func(t *testing.T) {
				if why, ok := chainSkips[c.Name]; ok {
					t.Skip(why)
				}
				if c.Source == "" {
					t.Fatal("case cites no source page")
				}
				want, ok := stageNames[c.Stage]
				if !ok {
					t.Fatalf("unknown stage %q", c.Stage)
				}
				var d Decision
				Evaluate(chainInput(t, &c), &d)
				if d.Allowed != c.Allowed || d.Denied != c.Denied {
					t.Errorf("allowed=%v denied=%v (stage %v); want allowed=%v denied=%v", d.Allowed, d.Denied, d.Stage, c.Allowed, c.Denied)
				}
				if !d.Allowed && d.Stage != want {
					t.Errorf("refused at stage %q; want %q", d.Stage.Phrase(), want.Phrase())
				}
				if c.OrgAllowed != nil && d.OrgAllowed != *c.OrgAllowed {
					t.Errorf("OrgAllowed=%v; want %v", d.OrgAllowed, *c.OrgAllowed)
				}
			})
		}
	}
	if counts["SCP"] < 150 || counts["RCP"] < 50 {
		t.Errorf("corpus has %d SCP and %d RCP cases; want at least 150 and 50", counts["SCP"], counts["RCP"])
	}
}
