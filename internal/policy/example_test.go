package policy_test

import (
	"fmt"

	"github.com/iamd/iamd/internal/policy"
)

func ExampleSet_Evaluate() {
	doc := []byte(`{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Home", "Effect": "Allow", "Action": "s3:*",
     "Resource": "arn:aws:s3:::bucket/home/${aws:username}/*"},
    {"Sid": "NoPlainHTTP", "Effect": "Deny", "Action": "*", "Resource": "*",
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
  ]
}`)
	p, err := policy.Parse(doc, policy.Identity)
	if err != nil {
		fmt.Println(err)
		return
	}
	set := policy.NewSet(p)

	ctx := policy.NewContext(2)
	ctx.Set("aws:username", "bob")
	ctx.Set("aws:SecureTransport", "true")
	var res policy.Result
	set.Evaluate(&policy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::bucket/home/bob/a.txt", Context: ctx}, &res)
	fmt.Println(res.Allowed, res.Denied, res.Matched[0].Sid, res.Matched[0].Start)

	ctx.Set("aws:SecureTransport", "false")
	set.Evaluate(&policy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::bucket/home/bob/a.txt", Context: ctx}, &res)
	fmt.Println(res.Allowed, res.Denied, len(res.Matched))

	_, err = policy.Parse([]byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`), policy.Identity)
	fmt.Println(err)
	// Output:
	// true false Home {4 5}
	// false true 2
	// MalformedPolicyDocument: Policy document should not specify a principal.
}
