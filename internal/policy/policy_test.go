package policy

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// refGlob is an independent dynamic-programming matcher used as the oracle
// for globMatch ('*' any run, '?' one rune).
func refGlob(p, s string) bool {
	sr := []rune(s)
	dp := make([]bool, len(sr)+1)
	dp[0] = true
	for _, c := range p {
		next := make([]bool, len(sr)+1)
		switch c {
		case '*':
			seen := false
			for j := 0; j <= len(sr); j++ {
				seen = seen || dp[j]
				next[j] = seen
			}
		default:
			for j := 1; j <= len(sr); j++ {
				next[j] = dp[j-1] && (c == '?' || c == sr[j-1])
			}
		}
		dp = next
	}
	return dp[len(sr)]
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything", true},
		{"a*", "a", true},
		{"a*b", "axxb", true},
		{"a*b", "axxbc", false},
		{"*b*", "abc", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "aéc", true}, // '?' is one character, not one byte
		{"**a**", "xa", true},
		{"a*a*a*a*b", strings.Repeat("a", 50), false},
		{"ab*cd*ef", "abXcdYcdef", true},
	}
	for _, tt := range tests {
		if got := globMatch(encodeGlob(tt.p), tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v; want %v", tt.p, tt.s, got, tt.want)
		}
		if ref := refGlob(tt.p, tt.s); ref != tt.want {
			t.Errorf("oracle disagrees on (%q, %q)", tt.p, tt.s)
		}
	}
}

// TestGlobGenerated checks globMatch against the oracle over a mechanically
// generated family of patterns and strings over a small alphabet.
func TestGlobGenerated(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pick := func(alpha string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		return string(b)
	}
	for i := 0; i < 20000; i++ {
		p := pick("ab*?", r.IntN(7))
		s := pick("ab", r.IntN(8))
		if got, want := globMatch(encodeGlob(p), s), refGlob(p, s); got != want {
			t.Fatalf("globMatch(%q, %q) = %v; oracle %v", p, s, got, want)
		}
	}
}

func TestGlobPathological(t *testing.T) {
	p := encodeGlob(strings.Repeat("*a", 1000) + "b")
	s := strings.Repeat("a", 2048)
	start := time.Now()
	if globMatch(p, s) {
		t.Fatal("unexpected match")
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Fatalf("pathological match took %v", d)
	}
}

func TestArnMatch(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/x:y/z", true},
		{"arn:aws:iam::*:root", "arn:aws:iam::111122223333:root", true},
		{"arn:aws:iam::1*3:root", "arn:aws:iam::111122223333:root", true},
		// '*' in the account component does not reach into the resource part.
		{"arn:aws:iam::*", "arn:aws:iam::1:user/x", true},
		{"arn:aws:iam:*:user/x", "arn:aws:iam::1:user/x", false},
		{"arn:aws:iam::1:user/x", "arn:aws:iam::1:user/x:extra", false},
		{"*", "not-an-arn", true},
		{"arn:aws:s3:::b", "*", false},
		{"arn:aws:s3:::b", "arn:aws:s3", false},
	}
	for _, tt := range tests {
		if got := arnMatch(encodeGlob(tt.p), tt.s); got != tt.want {
			t.Errorf("arnMatch(%q, %q) = %v; want %v", tt.p, tt.s, got, tt.want)
		}
	}
}

func TestSize(t *testing.T) {
	tests := []struct {
		doc  string
		want int
	}{
		{"", 0},
		{"{}", 2},
		{"{ \n\t\"a\" : 1 }", 7},
		{"{\"é\":1}", 7},
	}
	for _, tt := range tests {
		if got := Size([]byte(tt.doc)); got != tt.want {
			t.Errorf("Size(%q) = %d; want %d", tt.doc, got, tt.want)
		}
	}
}

func TestStatementPositions(t *testing.T) {
	doc := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"},\n    {\n      \"Sid\": \"Second\",\n      \"Effect\": \"Deny\", \"Action\": \"s3:*\", \"Resource\": \"*\"\n    }\n  ]\n}"
	p, err := Parse([]byte(doc), Identity)
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]Position{{{4, 5}, {4, 56}}, {{5, 5}, {8, 6}}}
	for i, w := range want {
		if s := p.Statements[i]; s.Start != w[0] || s.End != w[1] {
			t.Errorf("statement %d at %v-%v; want %v-%v", i, s.Start, s.End, w[0], w[1])
		}
	}
	var res Result
	NewSet(p).Evaluate(&Request{Action: "s3:GetObject", Resource: "*"}, &res)
	if len(res.Matched) != 2 || res.Matched[1].Sid != "Second" || res.Matched[1].Start != (Position{5, 5}) {
		t.Errorf("matched %+v", res.Matched)
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		doc  string
	}{
		{"minimal identity", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`},
		{"no version", Identity, `{"Statement":[{"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:iam::*"}]}`},
		{"2008 version with Id", Identity, `{"Version":"2008-10-17","Id":"x","Statement":[{"Sid":"A1","Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"arn:aws:s3:::b/*"}]}`},
		{"trust AssumeRole family", Trust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:role/r","arn:aws:sts::111122223333:assumed-role/r/s"]},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity","sts:SetContext"]}]}`},
		{"trust wildcard sts action", Trust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWith*"}]}`},
		{"resource policy with canonical user", Resource, `{"Version":"2012-10-17","Statement":[{"Sid":"any-string ok","Effect":"Allow","Principal":{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`},
		{"every operator", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{
			"StringEquals":{"a:b":"x"},"StringNotEquals":{"a:b":"x"},"StringEqualsIgnoreCase":{"a:b":"x"},"StringNotEqualsIgnoreCase":{"a:b":"x"},
			"StringLike":{"a:b":"x"},"StringNotLike":{"a:b":"x"},"NumericEquals":{"a:b":1},"NumericNotEquals":{"a:b":1},"NumericLessThan":{"a:b":1},
			"NumericLessThanEquals":{"a:b":1},"NumericGreaterThan":{"a:b":1},"NumericGreaterThanEquals":{"a:b":1},"DateEquals":{"a:b":"2020-01-01"},
			"DateNotEquals":{"a:b":"2020-01-01"},"DateLessThan":{"a:b":"2020-01-01"},"DateLessThanEquals":{"a:b":"2020-01-01"},
			"DateGreaterThan":{"a:b":"2020-01-01"},"DateGreaterThanEquals":{"a:b":"2020-01-01"},"Bool":{"a:b":true},"BinaryEquals":{"a:b":"AA=="},
			"IpAddress":{"a:b":"10.0.0.0/8"},"NotIpAddress":{"a:b":"::1"},"ArnEquals":{"a:b":"arn:aws:s3:::b"},"ArnLike":{"a:b":"arn:*"},
			"ArnNotEquals":{"a:b":"arn:*"},"ArnNotLike":{"a:b":"arn:*"},"Null":{"a:b":"true"},"ForAllValues:StringLikeIfExists":{"a:b":["x","y"]},
			"ForAnyValue:NumericLessThan":{"a:b":[1,2]}}}}`},
		{"SCP with NotResource", SCP, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","NotResource":"arn:aws:s3:::b/*"}]}`},
		{"session policy", Session, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`},
		{"escapes in strings", Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:\u0047etObject","Resource":"arn:aws:s3:::b\/k"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse([]byte(tt.doc), tt.kind); err != nil {
				t.Fatalf("Parse: %v", err)
			}
		})
	}
}

func TestContext(t *testing.T) {
	c := NewContext(4)
	c.Set("AWS:UserName", "Bob")
	c.Add("aws:TagKeys", "a")
	c.Add("AWS:TAGKEYS", "b")
	if v, ok := c.Get("aws:username"); !ok || len(v) != 1 || v[0] != "Bob" {
		t.Fatalf("Get username = %v %v", v, ok)
	}
	if v, _ := c.Get("aws:tagkeys"); len(v) != 2 {
		t.Fatalf("tag keys = %v", v)
	}
	c.Set("aws:TagKeys")
	if v, ok := c.Get("aws:TagKeys"); !ok || len(v) != 0 {
		t.Fatalf("empty set: %v %v", v, ok)
	}
	c.Delete("AWS:USERNAME")
	if _, ok := c.Get("aws:username"); ok || c.Len() != 1 {
		t.Fatal("delete failed")
	}
	c.Reset()
	if c.Len() != 0 {
		t.Fatal("reset failed")
	}
	var nilCtx *Context
	if _, ok := nilCtx.Get("a:b"); ok {
		t.Fatal("nil context has keys")
	}
}

func TestEvaluateAllocations(t *testing.T) {
	set, req := benchSet(t, 10, 10)
	var res Result
	set.Evaluate(req, &res)
	if !res.Allowed {
		t.Fatalf("benchmark request not allowed: %+v", res)
	}
	if n := testing.AllocsPerRun(100, func() { set.Evaluate(req, &res) }); n > 0 {
		t.Errorf("Evaluate allocates %.1f times per call; want 0 once the Result is warm", n)
	}
}

func TestEvaluateConcurrent(t *testing.T) {
	set, req := benchSet(t, 10, 10)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res Result
			for i := 0; i < 200; i++ {
				set.Evaluate(req, &res)
				if !res.Allowed {
					t.Error("decision changed under concurrency")
					return
				}
			}
		}()
	}
	wg.Wait()
}

// benchSet builds nPol policies of nStmt statements, each with conditions,
// over distinct actions, plus the one allowing statement last in the last
// policy. Every statement in the request's service is a candidate.
func benchSet(tb testing.TB, nPol, nStmt int) (*Set, *Request) {
	tb.Helper()
	var ps []*Policy
	for p := 0; p < nPol; p++ {
		var b strings.Builder
		b.WriteString(`{"Version":"2012-10-17","Statement":[`)
		for s := 0; s < nStmt; s++ {
			if s > 0 {
				b.WriteByte(',')
			}
			last := p == nPol-1 && s == nStmt-1
			action := fmt.Sprintf(`["svc%d:Action%d","svc%d:Other*"]`, p*nStmt+s, s, p*nStmt+s)
			effect := "Deny"
			if s%2 == 0 || last {
				effect = "Allow"
			}
			if last {
				action = `["s3:GetObject","s3:List*"]`
			} else if s%10 == 9 {
				// a few statements in the request's service that do not apply
				action = `"s3:Put*"`
			}
			fmt.Fprintf(&b, `{"Sid":"S%d","Effect":%q,"Action":%s,"Resource":["arn:aws:s3:::bucket-%d/*","arn:aws:s3:::shared/${aws:username}/*"],"Condition":{"StringEquals":{"aws:PrincipalTag/team":["blue","green"]},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.0.2.0/24"]},"Bool":{"aws:SecureTransport":"true"},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}`,
				s, effect, action, s)
		}
		b.WriteString("]}")
		pol, err := Parse([]byte(b.String()), Identity)
		if err != nil {
			tb.Fatal(err)
		}
		ps = append(ps, pol)
	}
	ctx := NewContext(8)
	ctx.Set("aws:username", "bob")
	ctx.Set("aws:PrincipalTag/team", "green")
	ctx.Set("aws:SourceIp", "10.1.2.3")
	ctx.Set("aws:SecureTransport", "true")
	ctx.Set("aws:CurrentTime", "2026-11-22T10:00:00Z")
	ctx.Set("aws:PrincipalArn", "arn:aws:iam::111122223333:user/bob")
	req := &Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::shared/bob/report.csv", Context: ctx,
		Principal: &Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/bob"}}
	return NewSet(ps...), req
}

// TestResolvedCacheConcurrent exercises the resolved-action cache from many
// goroutines with actions that only wildcard patterns match.
func TestResolvedCacheConcurrent(t *testing.T) {
	p, err := Parse([]byte(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"},
		{"Effect":"Deny","Action":"ec2:*Volume*","Resource":"*"},
		{"Effect":"Allow","NotAction":"iam:*","Resource":"arn:aws:s3:::*"}]}`), Identity)
	if err != nil {
		t.Fatal(err)
	}
	set := NewSet(p)
	want := map[string][2]bool{ // allowed, denied
		"ec2:DescribeInstances": {true, false},
		"ec2:DescribeVolumes":   {false, true},
		"ec2:CreateVolume":      {false, true},
		"ec2:RunInstances":      {false, false},
		"iam:ListUsers":         {false, false},
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res Result
			for i := 0; i < 100; i++ {
				for a, w := range want {
					set.Evaluate(&Request{Action: a, Resource: "*"}, &res)
					if res.Allowed != w[0] || res.Denied != w[1] {
						t.Errorf("%s: allowed=%v denied=%v; want %v", a, res.Allowed, res.Denied, w)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	// A resource that NotAction's statement covers.
	var res Result
	set.Evaluate(&Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, &res)
	if !res.Allowed {
		t.Errorf("NotAction statement did not apply: %+v", res)
	}
}

func TestResolvedCacheBounded(t *testing.T) {
	p, err := Parse([]byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"svc:A*","Resource":"*"}}`), Identity)
	if err != nil {
		t.Fatal(err)
	}
	set := NewSet(p)
	var res Result
	for i := 0; i < maxResolved+100; i++ {
		set.Evaluate(&Request{Action: fmt.Sprintf("svc:A%d", i), Resource: "*"}, &res)
		if !res.Allowed {
			t.Fatalf("svc:A%d not allowed", i)
		}
	}
	if n := len(*set.resolved.Load()); n != maxResolved {
		t.Errorf("cache holds %d actions; want the bound %d", n, maxResolved)
	}
}
