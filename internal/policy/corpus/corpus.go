// Package corpus reads the policy decision corpus
// (internal/policy/testdata/corpus/*.json, written by
// testdata/gen_corpus.py from the AWS documentation pages each case cites),
// so the engine's own tests and the end-to-end run through
// SimulateCustomPolicy read exactly the same cases.
package corpus

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Case is one decision: policies and a request, and what AWS decides.
type Case struct {
	Name       string            `json:"name"`
	Source     string            `json:"source"`
	Kind       string            `json:"kind"`
	Policies   []json.RawMessage `json:"policies"`
	PolicyText *string           `json:"policy_text"`
	Error      string            `json:"error"`
	Request    struct {
		Action    string              `json:"action"`
		Resource  string              `json:"resource"`
		Context   map[string][]string `json:"context"`
		Principal *Principal          `json:"principal"`
	} `json:"request"`
	Allowed bool     `json:"allowed"`
	Denied  bool     `json:"denied"`
	Matched [][2]int `json:"matched"`
	Missing []string `json:"missing"`
}

// Principal is the caller of a resource-policy case.
type Principal struct {
	Account    string `json:"account"`
	ARN        string `json:"arn"`
	SessionARN string `json:"session_arn"`
	Service    string `json:"service"`
	Federated  string `json:"federated"`
	Anonymous  bool   `json:"anonymous"`
}

// Load reads every *.json file in dir and returns its cases by file name.
// Files without a "cases" member (the SCP/RCP chain cases) hold none.
func Load(dir string) (map[string][]Case, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("corpus: no files in %s", dir)
	}
	sort.Strings(files)
	out := map[string][]Case{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var cf struct {
			Cases []Case `json:"cases"`
		}
		if err := json.Unmarshal(b, &cf); err != nil {
			return nil, fmt.Errorf("corpus: %s: %w", f, err)
		}
		out[filepath.Base(f)] = cf.Cases
	}
	return out, nil
}
