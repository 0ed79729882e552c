package awsproto

import (
	"errors"
	"net/url"
	"testing"
)

// FuzzDecodeQuery feeds arbitrary form bodies to every IAM/STS operation's
// decoder: it must never panic, must fail only with *Error, and whatever it
// accepts must be encodable back to a form that decodes to the same thing.
func FuzzDecodeQuery(f *testing.F) {
	for _, seed := range []string{
		"UserName=alice&Tags.member.1.Key=k&Tags.member.1.Value=v",
		"Tags=&UserName=a",
		"Tags.member.99999999999999999999.Key=x",
		"Tags.member.-1.Key=x&Tags.member.0.Value=y",
		"MaxItems=abc",
		"Filter.member.1=User&Filter.member.2=Role",
		"PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2Fx",
		"a.b.c.d.e.f.g=1&.=&..=",
	} {
		f.Add("CreateUser", seed)
		f.Add("AssumeRole", seed)
	}
	iam, sts := LookupService("iam"), LookupService("sts")
	f.Fuzz(func(t *testing.T, action, body string) {
		op := iam.Operations[action]
		if op == nil {
			op = sts.Operations[action]
		}
		if op == nil {
			op = iam.Operations["CreateUser"]
		}
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		doc, err := op.DecodeQuery(form)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != 400 {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if op.Input == nil {
			return
		}
		again, err := op.DecodeQuery(toForm(op.Input, doc, op.Name, op.Service.APIVersion))
		if err != nil {
			t.Fatalf("re-decode of accepted document failed: %v", err)
		}
		if !equalDoc(doc, again) {
			t.Fatalf("unstable decode\nfirst:  %#v\nsecond: %#v", doc, again)
		}
	})
}

// FuzzDecodeJSON feeds arbitrary bodies to JSON operations: no panics,
// failures are *Error, and accepted documents re-encode and re-decode
// identically.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"AccountName":"dev","Email":"a@b.co","Tags":[{"Key":"k","Value":"v"}]}`,
		`{"MaxResults":20}`, `{"MaxResults":1e400}`, `{"StartTime":1e300}`, `[`, `null`, `{"a":[[[[[[]]]]]]}`,
		`{"Budget":{"BudgetName":"b","TimeUnit":"MONTHLY","BudgetType":"COST","FilterExpression":{"And":[{"Not":{}}]}}}`,
	} {
		f.Add("organizations", "CreateAccount", seed)
		f.Add("budgets", "CreateBudget", seed)
		f.Add("cloudtrail", "LookupEvents", seed)
	}
	f.Fuzz(func(t *testing.T, svc, action, body string) {
		s := LookupService(svc)
		if s == nil || s.Protocol != "json" {
			s = LookupService("organizations")
		}
		op := s.Operations[action]
		if op == nil {
			op = s.Operations[sortedKeys(s.Operations)[len(body)%len(s.Operations)]]
		}
		doc, err := op.DecodeJSON([]byte(body))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != 400 {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if op.Input == nil {
			return
		}
		enc, err := appendJSONStruct(nil, op.Input, doc, false)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, err := op.DecodeJSON(enc)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", enc, err)
		}
		if !equalDoc(doc, again) {
			t.Fatalf("unstable decode\nfirst:  %#v\nsecond: %#v", doc, again)
		}
	})
}
