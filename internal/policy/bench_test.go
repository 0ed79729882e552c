package policy

import (
	"fmt"
	"strings"
	"testing"
)

func BenchmarkEvaluate100(b *testing.B)  { benchEvaluate(b, 10, 10) }
func BenchmarkEvaluate1000(b *testing.B) { benchEvaluate(b, 100, 10) }

func benchEvaluate(b *testing.B, nPol, nStmt int) {
	set, req := benchSet(b, nPol, nStmt)
	var res Result
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		set.Evaluate(req, &res)
	}
	if !res.Allowed {
		b.Fatal("not allowed")
	}
}

// BenchmarkEvaluate*SameService is the adversarial shape: every statement
// names a wildcard action of the request's service, so the action index
// cannot prune and every statement's resource is checked.
func BenchmarkEvaluate100SameService(b *testing.B)  { benchSameService(b, 10) }
func BenchmarkEvaluate1000SameService(b *testing.B) { benchSameService(b, 100) }

func benchSameService(b *testing.B, nPol int) {
	var ps []*Policy
	for p := 0; p < nPol; p++ {
		var sb strings.Builder
		sb.WriteString(`{"Version":"2012-10-17","Statement":[`)
		for s := 0; s < 10; s++ {
			if s > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::bucket-%d-%d/*"}`, p, s)
		}
		sb.WriteString("]}")
		pol, err := Parse([]byte(sb.String()), Identity)
		if err != nil {
			b.Fatal(err)
		}
		ps = append(ps, pol)
	}
	set := NewSet(ps...)
	req := &Request{Action: "s3:GetObject", Resource: fmt.Sprintf("arn:aws:s3:::bucket-%d-9/k", nPol-1)}
	var res Result
	b.ReportAllocs()
	for b.Loop() {
		set.Evaluate(req, &res)
	}
	if !res.Allowed {
		b.Fatal("not allowed")
	}
}

func sixKBPolicy() []byte {
	var sb strings.Builder
	sb.WriteString(`{"Version":"2012-10-17","Statement":[`)
	for i := 0; sb.Len() < 6*1024-400; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"Sid":"S%d","Effect":"Allow","Action":["s3:Get*","s3:List*","ec2:Describe%d"],"Resource":"arn:aws:s3:::bucket-%d/${aws:username}/*","Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*"]},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`, i, i, i)
	}
	sb.WriteString("]}")
	return []byte(sb.String())
}

func BenchmarkCompile6KB(b *testing.B) {
	doc := sixKBPolicy()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := Parse(doc, Identity)
		if err != nil {
			b.Fatal(err)
		}
		NewSet(p)
	}
}
