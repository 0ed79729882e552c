package awsproto

import (
	"strings"
	"testing"
)

func TestAllPatternsEnforced(t *testing.T) {
	for _, s := range Services() {
		for _, n := range sortedKeys(s.Shapes) {
			if s.Shapes[n].PatternUnsupported() {
				t.Errorf("%s %s: pattern %q is not enforced", s.Name, n, s.Shapes[n].Pattern)
			}
		}
	}
}

func TestPatterns(t *testing.T) {
	tests := []struct {
		svc, shape, value string
		ok                bool
	}{
		{"iam", "userNameType", "alice.b@c+d=e,f-g_h", true},
		{"iam", "userNameType", "a b", false},
		{"iam", "userNameType", "a/b", false},
		// Unicode letters are \p{L}.
		{"iam", "tagKeyType", "ключ:é/=+-@ 1", true},
		{"iam", "tagKeyType", "k*", false},
		// Java \uXXXX escapes.
		{"iam", "pathType", "/", true},
		{"iam", "pathType", "/a/b/", true},
		{"iam", "pathType", "/a", false},
		{"iam", "policyDocumentType", "{\"Version\":\"2012-10-17\"}\n\t", true},
		{"iam", "policyDocumentType", "\x01", false},
		// Look-ahead patterns rewritten for RE2.
		{"iam", "accountAliasType", "my-alias-1", true},
		{"iam", "accountAliasType", "my--alias", false},
		{"iam", "accountAliasType", "-alias", false},
		{"iam", "accountAliasType", "alias-", false},
		{"iam", "accountAliasType", "Alias", false},
		{"budgets", "BudgetName", "monthly budget/ok", true},
		{"budgets", "BudgetName", "a:b", false},
		{"budgets", "BudgetName", `a\b`, false},
		{"budgets", "BudgetName", "x/action/y", false},
		{"budgets", "BudgetName", "x<SCRIPT>alert(1)</script>", false},
		{"cloudtrail", "PartitionKeyName", "key 😀", true},
		{"cloudtrail", "PartitionKeyName", "a\nb", false},
		// Alternation inside anchors keeps whole-value semantics.
		{"organizations", "PolicyTargetId", "123456789012", true},
		{"organizations", "PolicyTargetId", "ou-ab12-abcdefgh", true},
		{"organizations", "PolicyTargetId", "x123456789012", false},
	}
	for _, tt := range tests {
		sh := LookupService(tt.svc).Shapes[tt.shape]
		if sh == nil {
			t.Fatalf("%s %s missing", tt.svc, tt.shape)
		}
		if got := sh.matchPattern(tt.value); got != tt.ok {
			t.Errorf("%s %s %q = %v, want %v (pattern %q)", tt.svc, tt.shape, tt.value, got, tt.ok, sh.Pattern)
		}
	}
}

// TestValidationHugeInput checks validation of very large values stays fast
// and well-formed (RE2 is linear; no pathological backtracking).
func TestValidationHugeInput(t *testing.T) {
	op := mustOp(t, "iam", "PutUserPolicy")
	doc := strings.Repeat("a", 1<<20) + "\x00"
	form := map[string][]string{"UserName": {"u"}, "PolicyName": {"p"}, "PolicyDocument": {doc}}
	_, err := op.DecodeQuery(form)
	e, ok := err.(*Error)
	if !ok || e.Code != "ValidationError" || !strings.Contains(e.Message, "Member must satisfy regular expression pattern") ||
		!strings.Contains(e.Message, "Member must have length less than or equal to 131072") {
		t.Fatalf("err = %v", err)
	}
}
