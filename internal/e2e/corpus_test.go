package e2e

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/policy"
	"github.com/iamd/iamd/internal/policy/corpus"
	"github.com/iamd/iamd/internal/testenv"
)

// The policy decision corpus (internal/policy/testdata/corpus, format in
// internal/policy/corpus_test.go) run unchanged through real
// SimulateCustomPolicy calls: the engine must decide the same over HTTP as
// in process.

type corpusCase = corpus.Case

var corpusKinds = map[string]policy.Kind{
	"Identity": policy.Identity, "Resource": policy.Resource, "Trust": policy.Trust,
	"SCP": policy.SCP, "RCP": policy.RCP, "Session": policy.Session,
}

// allowEverything is the harness's identity side for cross-account
// resource-policy cases: there both sides must allow, so with the identity
// side allowing everything the resource policy alone decides, as the case
// expects.
const allowEverything = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

type corpusRun struct {
	file string
	c    corpusCase
	in   *iam.SimulateCustomPolicyInput
	// resourceSide: compare only the ResourcePolicy's statements.
	resourceSide bool
	// modelInvalid: the document breaks the model's own constraints
	// (length, character set), which the wire layer rejects with
	// ValidationError before any policy grammar is checked.
	modelInvalid bool
	skip         string
}

// plan maps a case onto SimulateCustomPolicy, or says why it cannot be.
func plan(file string, c corpusCase) corpusRun {
	r := corpusRun{file: file, c: c}
	docs := make([]string, 0, len(c.Policies))
	for _, p := range c.Policies {
		docs = append(docs, string(p))
	}
	if c.PolicyText != nil {
		docs = []string{*c.PolicyText}
	}
	in := &iam.SimulateCustomPolicyInput{ActionNames: []string{c.Request.Action}, PolicyInputList: []string{}}
	if c.Error != "" {
		in.ActionNames = []string{"s3:GetObject"}
		r.modelInvalid = slices.ContainsFunc(docs, func(d string) bool { return !fitsModel(d) })
		switch c.Kind {
		case "Identity":
			in.PolicyInputList = docs
		case "Resource":
			in.ResourcePolicy = aws.String(docs[0])
			in.CallerArn = aws.String("arn:aws:iam::111122223333:user/corpus")
		default:
			r.skip = "grammar error of a " + c.Kind + " policy: SimulateCustomPolicy takes identity and resource-based policies only"
		}
		r.in = in
		return r
	}
	if c.Request.Resource != "" && c.Request.Resource != "*" {
		in.ResourceArns = []string{c.Request.Resource}
	}
	for _, k := range sortedKeys(c.Request.Context) {
		v := c.Request.Context[k]
		typ := types.ContextKeyTypeEnumStringList
		if len(v) == 1 {
			typ = types.ContextKeyTypeEnumString
		}
		in.ContextEntries = append(in.ContextEntries, types.ContextEntry{ContextKeyName: aws.String(k), ContextKeyType: typ, ContextKeyValues: v})
	}
	switch c.Kind {
	case "Identity":
		in.PolicyInputList = docs
	case "Resource", "Trust":
		p := c.Request.Principal
		switch {
		case p == nil:
			r.skip = "resource-based policy without a caller"
		case p.Anonymous:
			r.skip = "anonymous caller: CallerArn takes an IAM user only"
		case p.Service != "":
			r.skip = "service principal caller: CallerArn takes an IAM user only"
		case p.Federated != "":
			r.skip = "federated caller: CallerArn takes an IAM user only"
		case p.SessionARN != "":
			r.skip = "role session caller: CallerArn takes an IAM user only"
		case !strings.Contains(p.ARN, ":user/"):
			r.skip = "root caller: CallerArn takes an IAM user only"
		}
		if len(docs) != 1 {
			r.skip = "several resource-based policies"
		}
		if r.skip != "" {
			return r
		}
		in.ResourcePolicy = aws.String(docs[0])
		in.CallerArn = aws.String(p.ARN)
		// The case asks what the resource policy alone decides. Simulated
		// cross-account (the resource owned by another account) with an
		// identity side that allows everything, the resource policy's answer
		// is the answer. A resource whose ARN names the caller's own account
		// stays in that account: there a role's trust policy is required
		// anyway (the identity side may allow everything again), and any
		// other resource policy is evaluated with no identity policy.
		in.ResourceOwner = aws.String("arn:aws:iam::" + otherAccount(p.Account) + ":root")
		a, err := arn.Parse(c.Request.Resource)
		sameAccount := err == nil && a.Account == p.Account
		if !sameAccount || strings.HasPrefix(strings.ToLower(c.Request.Action), "sts:assumerole") {
			in.PolicyInputList = []string{allowEverything}
		}
		r.resourceSide = true
	default:
		r.skip = c.Kind + " policies are not an input of SimulateCustomPolicy"
	}
	r.in = in
	return r
}

// otherAccount is an account id that is not acct.
func otherAccount(acct string) string {
	if acct == "999988887777" {
		return "777788889999"
	}
	return "999988887777"
}

// fitsModel checks policyDocumentType: 1 to 131072 characters from
// [\u0009\u000A\u000D\u0020-\u00FF].
func fitsModel(doc string) bool {
	if doc == "" || len(doc) > 131072 {
		return false
	}
	for _, r := range doc {
		if !(r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xFF)) {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string][]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func loadCorpus(t *testing.T) []corpusRun {
	byFile, err := corpus.Load("../policy/testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	files := slices.Sorted(maps.Keys(byFile))
	var runs []corpusRun
	for _, f := range files {
		for _, c := range byFile[f] {
			runs = append(runs, plan(f, c))
		}
	}
	return runs
}

func TestCorpusOverHTTP(t *testing.T) {
	runs := loadCorpus(t)
	if len(runs) < 1500 {
		t.Fatalf("corpus has %d cases; want at least 1500", len(runs))
	}
	env := testenv.Start(t)
	client := env.AdminIAM()
	ctx := context.Background()
	start := time.Now()

	skipped := map[string]int{}
	var todo []corpusRun
	for _, r := range runs {
		if r.skip != "" {
			skipped[r.skip]++
			continue
		}
		todo = append(todo, r)
	}
	var (
		mu       sync.Mutex
		failures []string
		wg       sync.WaitGroup
		next     = make(chan corpusRun)
	)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range next {
				if err := runCase(ctx, client, r); err != nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s/%s: %v", r.file, r.c.Name, err))
					mu.Unlock()
				}
			}
		}()
	}
	for _, r := range todo {
		next <- r
	}
	close(next)
	wg.Wait()

	sort.Strings(failures)
	for _, f := range failures {
		t.Error(f)
	}
	total := 0
	for reason, n := range skipped {
		total += n
		t.Logf("skipped %4d: %s", n, reason)
	}
	t.Logf("%d cases, %d run over HTTP in %v, %d skipped", len(runs), len(todo), time.Since(start).Round(time.Millisecond), total)
	// Only callers CallerArn cannot name and policy kinds the API has no
	// input for are skipped; that must stay a small share.
	if share := float64(total) / float64(len(runs)); share > 0.15 {
		t.Errorf("skipped %.1f%% of the corpus; want at most 15%%", share*100)
	}
}

// runCase makes the call and compares the decision, the matched statements
// and the missing context keys.
func runCase(ctx context.Context, client *iam.Client, r corpusRun) error {
	c := r.c
	out, err := client.SimulateCustomPolicy(ctx, r.in)
	if c.Error != "" {
		var ae smithy.APIError
		if r.modelInvalid {
			if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
				return fmt.Errorf("want ValidationError for a document outside the model's constraints, got %v", err)
			}
			return nil
		}
		if !errors.As(err, &ae) {
			return fmt.Errorf("want InvalidInput %q, got %v", c.Error, err)
		}
		if ae.ErrorCode() != "InvalidInput" || ae.ErrorMessage() != c.Error {
			return fmt.Errorf("error %s: %q; want InvalidInput: %q", ae.ErrorCode(), ae.ErrorMessage(), c.Error)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if len(out.EvaluationResults) != 1 {
		return fmt.Errorf("%d evaluation results; want 1", len(out.EvaluationResults))
	}
	er := out.EvaluationResults[0]
	want := types.PolicyEvaluationDecisionTypeImplicitDeny
	switch {
	case c.Denied:
		want = types.PolicyEvaluationDecisionTypeExplicitDeny
	case c.Allowed:
		want = types.PolicyEvaluationDecisionTypeAllowed
	}
	if er.EvalDecision != want {
		return fmt.Errorf("decision %s; want %s (matched %s)", er.EvalDecision, want, describeMatches(er.MatchedStatements))
	}
	missing := er.MissingContextValues
	if len(r.in.ResourceArns) > 0 {
		if len(er.ResourceSpecificResults) != 1 {
			return fmt.Errorf("%d resource-specific results; want 1", len(er.ResourceSpecificResults))
		}
		rs := er.ResourceSpecificResults[0]
		if rs.EvalResourceDecision != want || aws.ToString(rs.EvalResourceName) != r.in.ResourceArns[0] {
			return fmt.Errorf("resource result %s on %s", rs.EvalResourceDecision, aws.ToString(rs.EvalResourceName))
		}
		missing = rs.MissingContextValues
	}
	if c.Matched != nil {
		if err := compareMatched(r, er.MatchedStatements); err != nil {
			return err
		}
	}
	if c.Missing != nil && !slices.Equal(missing, c.Missing) {
		return fmt.Errorf("missing %q; want %q", missing, c.Missing)
	}
	return nil
}

// compareMatched maps MatchedStatements back to (policy, statement) by their
// positions and compares them with the case's matched statements that
// decide: the API reports only the deny statements of an explicit deny.
func compareMatched(r corpusRun, got []types.Statement) error {
	c := r.c
	kind := corpusKinds[c.Kind]
	var pols []*policy.Policy
	for _, d := range c.Policies {
		p, err := policy.Parse(d, kind)
		if err != nil {
			return fmt.Errorf("local parse: %w", err)
		}
		pols = append(pols, p)
	}
	wantEffect := policy.Allow
	if c.Denied {
		wantEffect = policy.Deny
	}
	want := [][2]int{}
	for _, m := range c.Matched {
		if (c.Allowed || c.Denied) && pols[m[0]].Statements[m[1]].Effect == wantEffect {
			want = append(want, m)
		}
	}
	have := [][2]int{}
	for _, s := range got {
		pi := 0
		switch {
		case r.resourceSide:
			if s.SourcePolicyType != types.PolicySourceTypeResource {
				continue
			}
		default:
			id := aws.ToString(s.SourcePolicyId)
			if _, err := fmt.Sscanf(id, "PolicyInputList.%d", &pi); err != nil {
				return fmt.Errorf("SourcePolicyId %q", id)
			}
			pi--
		}
		if pi < 0 || pi >= len(pols) || s.StartPosition == nil || s.EndPosition == nil {
			return fmt.Errorf("matched statement %s out of range", describeMatches([]types.Statement{s}))
		}
		si := slices.IndexFunc(pols[pi].Statements, func(st policy.Statement) bool {
			return st.Start.Line == int(s.StartPosition.Line) && st.Start.Column == int(s.StartPosition.Column) &&
				st.End.Line == int(s.EndPosition.Line) && st.End.Column == int(s.EndPosition.Column)
		})
		if si < 0 {
			return fmt.Errorf("no statement at %s", describeMatches([]types.Statement{s}))
		}
		have = append(have, [2]int{pi, si})
	}
	if !slices.Equal(have, want) {
		return fmt.Errorf("matched %v; want %v", have, want)
	}
	return nil
}

func describeMatches(ss []types.Statement) string {
	var b strings.Builder
	for _, s := range ss {
		fmt.Fprintf(&b, "[%s %s", aws.ToString(s.SourcePolicyId), s.SourcePolicyType)
		if s.StartPosition != nil && s.EndPosition != nil {
			fmt.Fprintf(&b, " %d:%d-%d:%d", s.StartPosition.Line, s.StartPosition.Column, s.EndPosition.Line, s.EndPosition.Column)
		}
		b.WriteString("]")
	}
	return b.String()
}
