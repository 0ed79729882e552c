package policy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestIndexDifferential checks that the action index, the resolved-action
// cache and the resource trie never change a decision: a big Set must match
// exactly the statements that, evaluated one at a time, apply.
func TestIndexDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	actions := []string{`"s3:Get*"`, `"s3:GetObject"`, `"s3:*"`, `"*"`, `["s3:PutObject","ec2:Describe*"]`, `"s3:?etObject"`, `"ec2:*"`}
	resources := []string{`"*"`, `"arn:aws:s3:::a/*"`, `"arn:aws:s3:::ab/*"`, `"arn:aws:s3:::a*"`, `["arn:aws:s3:::b/x","arn:aws:s3:::a/x"]`,
		`"arn:aws:s3:::${aws:username}/*"`, `"arn:aws:s3:::a/${aws:username}"`, `"arn:aws:*:*:*:*"`, `"arn:aws:ec2:*:*:instance/*"`}
	var docs [][]string // per policy, statements as JSON
	var ps []*Policy
	for p := 0; p < 30; p++ {
		var stmts []string
		for i := 0; i < 10; i++ {
			effect := []string{"Allow", "Deny"}[r.IntN(2)]
			actKey := "Action"
			if r.IntN(8) == 0 {
				actKey = "NotAction"
			}
			resKey := "Resource"
			if r.IntN(8) == 0 {
				resKey = "NotResource"
			}
			stmts = append(stmts, fmt.Sprintf(`{"Effect":%q,%q:%s,%q:%s}`, effect, actKey, actions[r.IntN(len(actions))], resKey, resources[r.IntN(len(resources))]))
		}
		docs = append(docs, stmts)
		pol, err := Parse([]byte(`{"Version":"2012-10-17","Statement":[`+strings.Join(stmts, ",")+`]}`), Identity)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, pol)
	}
	big := NewSet(ps...)
	single := make([][]*Set, len(docs))
	for p, stmts := range docs {
		for _, st := range stmts {
			pol, err := Parse([]byte(`{"Version":"2012-10-17","Statement":[`+st+`]}`), Identity)
			if err != nil {
				t.Fatal(err)
			}
			single[p] = append(single[p], NewSet(pol))
		}
	}
	reqActions := []string{"s3:GetObject", "s3:getobject", "s3:PutObject", "s3:SetObject", "ec2:DescribeInstances", "iam:CreateUser", "s3:GetBucketAcl"}
	reqResources := []string{"*", "arn:aws:s3:::a/x", "arn:aws:s3:::ab/y", "arn:aws:s3:::a", "arn:aws:s3:::b/x", "arn:aws:s3:::bob/k",
		"arn:aws:s3:::a/bob", "arn:aws:ec2:us-east-1:1:instance/i-1", "arn:aws:s3:::"}
	ctx := NewContext(1)
	ctx.Set("aws:username", "bob")
	var got, one Result
	for round := 0; round < 2; round++ { // the second round runs on the warmed cache
		for _, a := range reqActions {
			for _, res := range reqResources {
				req := &Request{Action: a, Resource: res, Context: ctx}
				big.Evaluate(req, &got)
				var want [][2]int
				denied, allowed := false, false
				for p := range single {
					for i, s := range single[p] {
						s.Evaluate(req, &one)
						if len(one.Matched) > 0 {
							want = append(want, [2]int{p, i})
							denied = denied || one.Denied
							allowed = allowed || one.Allowed
						}
					}
				}
				var have [][2]int
				for _, m := range got.Matched {
					have = append(have, [2]int{m.Policy, m.Statement})
				}
				if !slices.Equal(have, want) || got.Denied != denied || got.Allowed != (allowed && !denied) {
					t.Fatalf("%s on %s: matched %v (allowed=%v denied=%v); one at a time %v (allowed=%v denied=%v)",
						a, res, have, got.Allowed, got.Denied, want, allowed && !denied, denied)
				}
			}
		}
	}
}
