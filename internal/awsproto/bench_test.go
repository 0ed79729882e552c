package awsproto

import (
	"fmt"
	"net/url"
	"testing"
	"time"
)

func BenchmarkDecodeQueryCreateUser(b *testing.B) {
	op := mustOp(b, "iam", "CreateUser")
	form := url.Values{"Action": {"CreateUser"}, "Version": {"2010-05-08"}, "UserName": {"alice"}, "Path": {"/engineering/"},
		"PermissionsBoundary": {"arn:aws:iam::123456789012:policy/boundary"}}
	for i := 1; i <= 10; i++ {
		form.Set(fmt.Sprintf("Tags.member.%d.Key", i), fmt.Sprintf("key-%d", i))
		form.Set(fmt.Sprintf("Tags.member.%d.Value", i), fmt.Sprintf("value %d", i))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := op.DecodeQuery(form); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeQueryListUsers(b *testing.B) {
	op := mustOp(b, "iam", "ListUsers")
	users := make([]any, 100)
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range users {
		name := fmt.Sprintf("user-%03d", i)
		users[i] = map[string]any{"UserName": name, "UserId": "AIDA" + name, "Path": "/",
			"Arn": "arn:aws:iam::123456789012:user/" + name, "CreateDate": created, "PasswordLastUsed": created}
	}
	out := map[string]any{"Users": users, "IsTruncated": false}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := op.EncodeQuery(out, "c3d4e5f6-0000-4000-8000-000000000000"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeJSONCreateAccount(b *testing.B) {
	op := mustOp(b, "organizations", "CreateAccount")
	body := []byte(`{"AccountName":"dev","Email":"dev@example.com","IamUserAccessToBilling":"ALLOW","Tags":[{"Key":"k","Value":"v"}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := op.DecodeJSON(body); err != nil {
			b.Fatal(err)
		}
	}
}
