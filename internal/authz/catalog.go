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
}

// opInfo is the actions an API operation is authorized with.
type opInfo struct {
	Actions []opAction
}

type opAction struct {
	Action       string // "iam:CreateUser"
	ConditionKey string // e.g. iam:PassedToService for PassRole
	Values       []string
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
	return c, nil
}

// Action returns the reference entry of an action ("iam:CreateUser").
func (c *Catalog) Action(name string) *actionInfo { return c.actions[strings.ToLower(name)] }

// Operation returns the actions an operation is authorized with. Operations
// missing from the mapping are authorized with the action of the same name.
func (c *Catalog) Operation(svcPrefix, op string) []opAction {
	if oi := c.ops[svcPrefix+":"+op]; oi != nil {
		return oi.Actions
	}
	return []opAction{{Action: svcPrefix + ":" + op}}
}
