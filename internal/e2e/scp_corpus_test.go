package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/iamd/iamd/internal/testenv"
)

// The SCP cases of the guardrail corpus (internal/policy/testdata/corpus/
// scp_*.json, format in testdata/gen_corpus_org.py) run unchanged through
// real SimulatePrincipalPolicy calls: one organization; per distinct SCP
// tree a member account placed below OUs as the case's levels need (the
// organization root keeps only FullAWSAccess, so case level i is OU i and the
// last level is the account); per case a user with the case's identity
// policies (or a service-linked role given them as PolicyInputList).
//
// RCP cases stay engine-only: AWS's simulator evaluates identity-based
// policies, SCPs and the inputs given, not RCPs
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulateCustomPolicy.html,
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html).

type scpCorpusCase struct {
	Name      string              `json:"name"`
	Principal string              `json:"principal"`
	SCPs      [][]json.RawMessage `json:"scps"`
	Identity  []json.RawMessage   `json:"identity"`
	Request   struct {
		Action   string              `json:"action"`
		Resource string              `json:"resource"`
		Context  map[string][]string `json:"context"`
	} `json:"request"`
	Allowed    bool `json:"allowed"`
	Denied     bool `json:"denied"`
	OrgAllowed bool `json:"org_allowed"`
}

// harnessSCP is attached next to the case's SCPs on every OU and account
// the harness builds: the simulations are themselves requests of the member
// account's OrganizationAccountAccessRole, which the case's allow lists
// would otherwise refuse. It allows only iam:SimulatePrincipalPolicy, an
// action no case simulates, and only for that role, so no case's decision
// changes.
const harnessSCP = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:SimulatePrincipalPolicy","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/OrganizationAccountAccessRole"}}}]}`

const fullAWSAccess = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// scpGroup is the cases sharing one SCP tree and so one account.
type scpGroup struct {
	key   string
	mgmt  bool
	scps  [][]string // compact JSON
	cases []int
}

type scpOutcome struct {
	err  error
	skip string
}

func compactJSON(t *testing.T, raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestSCPCorpusThroughSimulatePrincipalPolicy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an organization of many accounts")
	}
	files, err := filepath.Glob("../policy/testdata/corpus/scp_*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no SCP corpus: %v", err)
	}
	var cases []scpCorpusCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cf struct {
			Cases []scpCorpusCase `json:"chain_cases"`
		}
		if err := json.Unmarshal(b, &cf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		cases = append(cases, cf.Cases...)
	}

	env := testenv.Start(t)
	// One account per distinct tree: more than AWS's default quota of 10,
	// raised here as a Service Quotas increase would.
	env.App.Authz.Orgs.MaxAccounts = 200
	ctx := context.Background()
	org := testenv.Organizations(env.AdminConfig())
	orgMust(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}))
	root := aws.ToString(orgMust(org.ListRoots(ctx, &organizations.ListRootsInput{})).Roots[0].Id)
	orgMust(org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(root), PolicyType: orgtypes.PolicyTypeServiceControlPolicy}))

	// Group the cases by tree; create each distinct document once.
	outcomes := make([]scpOutcome, len(cases))
	groups := map[string]*scpGroup{}
	var order []string
	docs := map[string]string{compactJSON(t, json.RawMessage(fullAWSAccess)): "p-FullAWSAccess"}
	for i, c := range cases {
		if c.Principal == "root" {
			outcomes[i].skip = "SimulatePrincipalPolicy cannot simulate a root user (PolicySourceArn names a user, group or role); engine-only in internal/authz"
			continue
		}
		g := &scpGroup{mgmt: c.Principal == "management"}
		for _, lv := range c.SCPs {
			var l []string
			for _, d := range lv {
				s := compactJSON(t, d)
				l = append(l, s)
				if _, ok := docs[s]; !ok {
					docs[s] = ""
				}
			}
			g.scps = append(g.scps, l)
		}
		kb, _ := json.Marshal(g.scps)
		g.key = strconv.FormatBool(g.mgmt) + string(kb)
		if have, ok := groups[g.key]; ok {
			g = have
		} else {
			groups[g.key] = g
			order = append(order, g.key)
		}
		g.cases = append(g.cases, i)
	}
	docs[harnessSCP] = ""
	names := make([]string, 0, len(docs))
	for d := range docs {
		names = append(names, d)
	}
	sort.Strings(names)
	for n, d := range names {
		if docs[d] != "" {
			continue
		}
		p := orgMust(org.CreatePolicy(ctx, &organizations.CreatePolicyInput{
			Name: aws.String(fmt.Sprintf("corpus-%03d", n)), Description: aws.String("SCP corpus"),
			Type: orgtypes.PolicyTypeServiceControlPolicy, Content: aws.String(d),
		}))
		docs[d] = aws.ToString(p.Policy.PolicySummary.Id)
	}
	mgmtGroups := 0
	for _, k := range order {
		if groups[k].mgmt {
			mgmtGroups++
		}
	}
	if mgmtGroups > 1 {
		t.Fatalf("%d management-account SCP shapes; the harness has one management account", mgmtGroups)
	}

	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for gi, k := range order {
		g := groups[k]
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			err := runSCPGroup(ctx, env, org, root, docs, gi, g, cases, outcomes)
			if err != nil {
				for _, i := range g.cases {
					if outcomes[i].err == nil {
						outcomes[i].err = fmt.Errorf("group setup: %w", err)
					}
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d cases in %d trees in %v", len(cases), len(order), time.Since(start))

	for i, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if outcomes[i].skip != "" {
				t.Skip(outcomes[i].skip)
			}
			if outcomes[i].err != nil {
				t.Error(outcomes[i].err)
			}
		})
	}
}

// runSCPGroup builds one tree, its principals, and runs its cases.
func runSCPGroup(ctx context.Context, env *testenv.Env, org *organizations.Client, root string, docs map[string]string,
	gi int, g *scpGroup, cases []scpCorpusCase, outcomes []scpOutcome) error {
	var client *iam.Client
	var account string
	if g.mgmt {
		client, account = env.AdminIAM(), env.Account
	} else {
		cs, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{
			AccountName: aws.String(fmt.Sprintf("corpus-%d", gi)), Email: aws.String(fmt.Sprintf("corpus-%d@example.com", gi)),
		})
		if err != nil {
			return err
		}
		st, err := org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: cs.CreateAccountStatus.Id})
		if err != nil {
			return err
		}
		account = aws.ToString(st.CreateAccountStatus.AccountId)
		if account == "" {
			return fmt.Errorf("account not created: %+v", st.CreateAccountStatus)
		}
		out, err := testenv.STS(env.AdminConfig()).AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::" + account + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("corpus"),
		})
		if err != nil {
			return err
		}
		cr := out.Credentials
		client = testenv.IAM(env.Config(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken)))
	}

	// Principals first: once the SCPs are attached the harness role may no
	// longer create them.
	sources := make(map[int]string, len(g.cases))
	for _, i := range g.cases {
		c := &cases[i]
		name := fmt.Sprintf("corpus-%d-%d", gi, i)
		if c.Principal == "service-linked-role" {
			r, err := client.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{
				AWSServiceName: aws.String("autoscaling.amazonaws.com"), CustomSuffix: aws.String(strconv.Itoa(i)),
			})
			if err != nil {
				return err
			}
			sources[i] = aws.ToString(r.Role.Arn)
			continue
		}
		u, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
		if err != nil {
			return err
		}
		for j, d := range c.Identity {
			_, err := client.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
				UserName: aws.String(name), PolicyName: aws.String("p" + strconv.Itoa(j)), PolicyDocument: aws.String(string(d)),
			})
			if err != nil {
				return err
			}
		}
		sources[i] = aws.ToString(u.User.Arn)
	}

	// The tree: root (FullAWSAccess only) → one OU per case level but the
	// last → the account, which takes the last level.
	targets := []string{account}
	if !g.mgmt {
		parent := root
		var ous []string
		for l := 0; l < len(g.scps)-1; l++ {
			ou, err := org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{
				ParentId: aws.String(parent), Name: aws.String(fmt.Sprintf("corpus-%d-%d", gi, l)),
			})
			if err != nil {
				return err
			}
			parent = aws.ToString(ou.OrganizationalUnit.Id)
			ous = append(ous, parent)
		}
		if parent != root {
			_, err := org.MoveAccount(ctx, &organizations.MoveAccountInput{
				AccountId: aws.String(account), SourceParentId: aws.String(root), DestinationParentId: aws.String(parent),
			})
			if err != nil {
				return err
			}
		}
		targets = append(ous, account)
	}
	for l, target := range targets {
		want := map[string]bool{docs[harnessSCP]: true}
		for _, d := range g.scps[l] {
			want[docs[d]] = true
		}
		for id := range want {
			if id == "p-FullAWSAccess" {
				continue // attached to every new target already
			}
			if _, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(target)}); err != nil {
				return fmt.Errorf("attach %s to %s: %w", id, target, err)
			}
		}
		if !want["p-FullAWSAccess"] {
			_, err := org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String("p-FullAWSAccess"), TargetId: aws.String(target)})
			var nae *orgtypes.PolicyNotAttachedException
			if err != nil && !errors.As(err, &nae) {
				return fmt.Errorf("detach FullAWSAccess from %s: %w", target, err)
			}
		}
	}

	for _, i := range g.cases {
		outcomes[i].err = simulateSCPCase(ctx, client, sources[i], &cases[i])
	}
	return nil
}

// simulateSCPCase runs one case, retrying briefly: SCP changes reach cached
// guardrails through the store's change notifications.
func simulateSCPCase(ctx context.Context, client *iam.Client, source string, c *scpCorpusCase) error {
	in := &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(source), ActionNames: []string{c.Request.Action}}
	if c.Principal == "service-linked-role" {
		// A service-linked role's permissions cannot be edited; the case's
		// identity policies are given as input policies instead.
		for _, d := range c.Identity {
			in.PolicyInputList = append(in.PolicyInputList, string(d))
		}
	}
	if r := c.Request.Resource; r != "" && r != "*" {
		in.ResourceArns = []string{r}
	}
	for _, k := range sortedKeys(c.Request.Context) {
		v := c.Request.Context[k]
		typ := types.ContextKeyTypeEnumStringList
		if len(v) == 1 {
			typ = types.ContextKeyTypeEnumString
		}
		in.ContextEntries = append(in.ContextEntries, types.ContextEntry{ContextKeyName: aws.String(k), ContextKeyType: typ, ContextKeyValues: v})
	}
	want := "implicitDeny"
	switch {
	case c.Denied:
		want = "explicitDeny"
	case c.Allowed:
		want = "allowed"
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := func() error {
			out, err := client.SimulatePrincipalPolicy(ctx, in)
			if err != nil {
				var ae smithy.APIError
				if errors.As(err, &ae) && ae.ErrorCode() == "AccessDenied" {
					return fmt.Errorf("the harness role may not simulate under this case's SCPs: %w", err)
				}
				return err
			}
			if len(out.EvaluationResults) != 1 {
				return fmt.Errorf("%d evaluation results", len(out.EvaluationResults))
			}
			r := out.EvaluationResults[0]
			got := string(r.EvalDecision)
			if r.OrganizationsDecisionDetail == nil {
				return fmt.Errorf("EvalDecision %s; no OrganizationsDecisionDetail", got)
			}
			org := r.OrganizationsDecisionDetail.AllowedByOrganizations
			if got != want || org != c.OrgAllowed {
				return fmt.Errorf("EvalDecision %s, AllowedByOrganizations %v; want %s, %v", got, org, want, c.OrgAllowed)
			}
			return nil
		}()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
