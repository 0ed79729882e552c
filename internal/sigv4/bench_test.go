package sigv4

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func benchRequests(b *testing.B) map[string]*Request {
	return map[string]*Request{
		"iam-post": sdkSign(b, signSpec{url: "https://iam.amazonaws.com/", body: "Action=ListUsers&Version=2010-05-08",
			header: http.Header{"Content-Type": {iamForm}, "User-Agent": {"aws-sdk-go-v2/1.x"}}}, signTime),
		"sts-post-token": sdkSign(b, signSpec{url: "https://sts.amazonaws.com/", body: "Action=GetCallerIdentity&Version=2011-06-15",
			header: http.Header{"Content-Type": {iamForm}}, service: "sts", creds: tempCreds}, signTime),
		"iam-get-query": sdkSign(b, signSpec{method: "GET",
			url: "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08&PathPrefix=%2Fa%20b%2F&MaxItems=100&Marker=x"}, signTime),
		"sts-post-realistic-token": sdkSign(b, signSpec{url: "https://sts.amazonaws.com/", body: "Action=GetCallerIdentity&Version=2011-06-15",
			header: http.Header{"Content-Type": {iamForm}}, service: "sts", creds: realisticTempCreds}, signTime),
		"sts-presigned-realistic-token": sdkPresign(b, signSpec{method: "GET", service: "sts", creds: realisticTempCreds,
			url: "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60"}, signTime),
		"sts-presigned": sdkPresign(b, signSpec{method: "GET", service: "sts", creds: tempCreds,
			url:    "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60",
			header: http.Header{"X-K8s-Aws-Id": {"cluster"}}}, signTime),
	}
}

// realisticTempCreds carries a session token of the length STS issues.
var realisticTempCreds = aws.Credentials{AccessKeyID: "ASIAREALISTICEXAMPLE", SecretAccessKey: tempCreds.SecretAccessKey,
	SessionToken: "IQoJb3JpZ2luX2VjE" + strings.Repeat("Abc/def+GHI0123456789", 45) + "=="}

func secretOf(a *Auth) string {
	if strings.HasPrefix(a.AccessKeyID, "ASIA") {
		return tempCreds.SecretAccessKey
	}
	return testCreds.SecretAccessKey
}

// BenchmarkVerify measures Verify with a warm signing-key cache, the steady
// state of a server.
func BenchmarkVerify(b *testing.B) {
	for name, r := range benchRequests(b) {
		b.Run(name, func(b *testing.B) {
			a, err := Parse(r)
			if err != nil {
				b.Fatal(err)
			}
			v := NewVerifier(0)
			now := signTime.Add(time.Second)
			secret := secretOf(a)
			if err := v.Verify(r, a, secret, now); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := v.Verify(r, a, secret, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyParallel shows the shared cache under contention.
func BenchmarkVerifyParallel(b *testing.B) {
	r := benchRequests(b)["iam-post"]
	a, err := Parse(r)
	if err != nil {
		b.Fatal(err)
	}
	var v Verifier
	now := signTime.Add(time.Second)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := v.Verify(r, a, testCreds.SecretAccessKey, now); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkVerifyColdKey derives the signing key every time (cache miss).
func BenchmarkVerifyColdKey(b *testing.B) {
	r := benchRequests(b)["iam-post"]
	a, err := Parse(r)
	if err != nil {
		b.Fatal(err)
	}
	now := signTime.Add(time.Second)
	b.ReportAllocs()
	for b.Loop() {
		v := NewVerifier(1)
		if err := v.Verify(r, a, testCreds.SecretAccessKey, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	for name, r := range benchRequests(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
