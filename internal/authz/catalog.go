package authz

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// The Service Authorization Reference data, copied from ../shared/aws-authz.
//
//go:embed data/*.json
var dataFS embed.FS

// actionInfo is one IAM action of the reference.
type actionInfo struct {
	Name          string
	Resources     []string // ARN templates of the required resource types
	ConditionKeys []string
	// arn is Resources[0] split at its ${...} placeholders, parsed once.
	arn []arnPart
}

// arnPart is literal text, or (when ph is set) a placeholder to fill.
type arnPart struct {
	lit string
	ph  string
}

// compileARN splits an ARN template at its placeholders; ok is false for a
// malformed template (an unclosed "${"), which resource treats as "*".
func compileARN(tmpl string) (parts []arnPart, ok bool) {
	rest := tmpl
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			if rest != "" {
				parts = append(parts, arnPart{lit: rest})
			}
			return parts, true
		}
		if i > 0 {
			parts = append(parts, arnPart{lit: rest[:i]})
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, false
		}
		parts = append(parts, arnPart{ph: rest[i+2 : i+j]})
		rest = rest[i+j+1:]
	}
}

// opInfo is the actions an API operation is authorized with.
type opInfo struct {
	Actions []opAction
}

type opAction struct {
	Action       string // "iam:CreateUser"
	ConditionKey string // e.g. iam:PassedToService for PassRole
	Values       []string
	info         *actionInfo // Action's reference entry; nil if unknown
}

// Catalog is the parsed reference: actions per service and the operation →
// actions mapping.
type Catalog struct {
	actions map[string]*actionInfo // "iam:createuser" (lower-cased)
	ops     map[string]*opInfo     // "iam:CreateUser"
}

var (
	catalogOnce sync.Once
	catalog     *Catalog
)

// DefaultCatalog loads the embedded reference once.
func DefaultCatalog() *Catalog {
	catalogOnce.Do(func() {
		c, err := loadCatalog()
		if err != nil {
			panic("authz: embedded authorization data is corrupt: " + err.Error())
		}
		catalog = c
	})
	return catalog
}

type rawService struct {
	Prefix  string `json:"prefix"`
	Actions []struct {
		Name          string `json:"name"`
		ResourceTypes []struct {
			Name     string `json:"name"`
			Required bool   `json:"required"`
		} `json:"resource_types"`
		ConditionKeys []string `json:"condition_keys"`
	} `json:"actions"`
	ResourceTypes []struct {
		Name string `json:"name"`
		ARN  string `json:"arn"`
	} `json:"resource_types"`
	Operations []struct {
		Name    string `json:"name"`
		Actions []struct {
			Action       string   `json:"action"`
			ConditionKey string   `json:"condition_key"`
			Values       []string `json:"values"`
		} `json:"authorized_actions"`
	} `json:"operations"`
}

func loadCatalog() (*Catalog, error) {
	c := &Catalog{actions: map[string]*actionInfo{}, ops: map[string]*opInfo{}}
	entries, err := dataFS.ReadDir("data")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "global-") || strings.HasPrefix(e.Name(), "policy-") {
			continue
		}
		b, err := dataFS.ReadFile("data/" + e.Name())
		if err != nil {
			return nil, err
		}
		var raw rawService
		if err := json.Unmarshal(b, &raw); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		arns := map[string]string{}
		for _, rt := range raw.ResourceTypes {
			arns[rt.Name] = rt.ARN
		}
		for _, a := range raw.Actions {
			ai := &actionInfo{Name: raw.Prefix + ":" + a.Name, ConditionKeys: a.ConditionKeys}
			for _, rt := range a.ResourceTypes {
				if rt.Required && arns[rt.Name] != "" {
					ai.Resources = append(ai.Resources, arns[rt.Name])
				}
			}
			if len(ai.Resources) > 0 {
				if parts, ok := compileARN(ai.Resources[0]); ok {
					ai.arn = parts
				}
			}
			c.actions[strings.ToLower(ai.Name)] = ai
		}
		for _, op := range raw.Operations {
			oi := &opInfo{}
			for _, a := range op.Actions {
				oi.Actions = append(oi.Actions, opAction{Action: a.Action, ConditionKey: a.ConditionKey, Values: a.Values})
			}
			c.ops[raw.Prefix+":"+op.Name] = oi
		}
	}
	// Resolve each operation's actions now that every service is loaded
	// (an operation may be authorized with another service's action).
	for _, oi := range c.ops {
		for i := range oi.Actions {
			oi.Actions[i].info = c.Action(oi.Actions[i].Action)
		}
	}
	return c, nil
}

// Action returns the reference entry of an action ("iam:CreateUser").
func (c *Catalog) Action(name string) *actionInfo {
	if ai, ok := c.actions[name]; ok { // already lower case: no copy
		return ai
	}
	return c.actions[strings.ToLower(name)]
}

// Operation returns the actions an operation is authorized with. Operations
// missing from the mapping are authorized with the action of the same name.
func (c *Catalog) Operation(svcPrefix, op string) []opAction {
	if oi := c.ops[svcPrefix+":"+op]; oi != nil {
		return oi.Actions
	}
	a := svcPrefix + ":" + op
	return []opAction{{Action: a, info: c.Action(a)}}
}
