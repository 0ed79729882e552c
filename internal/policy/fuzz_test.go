package policy

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzParse(f *testing.F) {
	for _, cases := range loadCorpus(f) {
		for i, c := range cases {
			if i%7 != 0 {
				continue
			}
			for _, d := range c.Policies {
				f.Add([]byte(d), uint8(kindNames[c.Kind]))
			}
		}
	}
	f.Add([]byte(`{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::${aws:username, 'x'}/*"}}`), uint8(Identity))
	f.Add([]byte(`{"a":"\ud83d\ude00\u0000"}`), uint8(Identity))
	f.Fuzz(func(t *testing.T, doc []byte, kind uint8) {
		k := Kind(kind % 6)
		if Size(doc) > len(doc) {
			t.Fatal("size larger than the document")
		}
		p, err := Parse(doc, k)
		if err != nil {
			if e, ok := err.(*Error); !ok || e.Code != CodeMalformed || e.Message == "" {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		ctx := NewContext(2)
		ctx.Set("aws:username", "bob")
		var res Result
		set := NewSet(p)
		for _, a := range []string{"s3:GetObject", "sts:AssumeRole", "iam:CreateUser", "x"} {
			set.Evaluate(&Request{Action: a, Resource: "arn:aws:s3:::b/k", Context: ctx, Principal: &Principal{Anonymous: true}}, &res)
			if res.Allowed && res.Denied {
				t.Fatal("allowed and denied")
			}
			if len(res.Matched) > len(p.Statements) {
				t.Fatal("more matches than statements")
			}
		}
	})
}

// FuzzWildcardMatch checks the matcher against the oracle and bounds its time.
func FuzzWildcardMatch(f *testing.F) {
	f.Add("a*b?c", "aXXbYc")
	f.Add(strings.Repeat("*a", 30)+"b", strings.Repeat("a", 200))
	f.Add("arn:aws:s3:::*/x", "arn:aws:s3:::b/c/x")
	f.Fuzz(func(t *testing.T, p, s string) {
		if len(p) > 4096 || len(s) > 4096 {
			return
		}
		start := time.Now()
		got := globMatch(encodeGlob(p), s)
		arnMatch(encodeGlob(p), s)
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Fatalf("match of %d-byte pattern on %d-byte input took %v", len(p), len(s), d)
		}
		if strings.ContainsRune(p, wStar) || strings.ContainsRune(p, wOne) || len(p)*len(s) > 1<<16 ||
			!utf8.ValidString(p) || !utf8.ValidString(s) {
			// Control bytes are the encoding; the oracle is quadratic and
			// folds invalid UTF-8 into U+FFFD, unlike the byte matcher.
			return
		}
		if want := refGlob(p, s); got != want {
			t.Fatalf("globMatch(%q, %q) = %v; oracle %v", p, s, got, want)
		}
	})
}
