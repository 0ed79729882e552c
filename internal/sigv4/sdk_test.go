package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var (
	signTime  = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	testCreds = aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	tempCreds = aws.Credentials{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
		SessionToken: "FwoGZXIvYXdzEBYaDHqa0AP1/EXAMPLE+token/with=chars"}
)

const iamForm = "application/x-www-form-urlencoded; charset=utf-8"

type signSpec struct {
	method, url, body string
	header            http.Header
	service, region   string
	creds             aws.Credentials
	payloadHash       string // what the signer is told; default: hash of body
}

func (s signSpec) withDefaults() signSpec {
	if s.method == "" {
		s.method = "POST"
	}
	if s.service == "" {
		s.service = "iam"
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.creds.AccessKeyID == "" {
		s.creds = testCreds
	}
	return s
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func newClientRequest(t testing.TB, s signSpec) *http.Request {
	t.Helper()
	var body *strings.Reader
	if s.body != "" {
		body = strings.NewReader(s.body)
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequest(s.method, s.url, body)
	} else {
		req, err = http.NewRequest(s.method, s.url, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range s.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	return req
}

// sdkSign signs with the AWS SDK's own signer and returns the request as the
// server would see it on the wire.
func sdkSign(t testing.TB, s signSpec, at time.Time) *Request {
	t.Helper()
	s = s.withDefaults()
	req := newClientRequest(t, s)
	ph := hexSHA256(s.body)
	signed := ph
	if s.payloadHash != "" {
		signed = s.payloadHash
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), s.creds, req, signed, s.service, s.region, at); err != nil {
		t.Fatal(err)
	}
	h := req.Header.Clone()
	if req.ContentLength > 0 {
		h.Set("Content-Length", strconv.FormatInt(req.ContentLength, 10))
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	return &Request{Method: req.Method, Path: req.URL.EscapedPath(), RawQuery: req.URL.RawQuery, Header: h, Host: host, PayloadHash: ph}
}

// sdkPresign presigns with the AWS SDK and returns the request a holder of
// the URL would send: the URL plus the headers the signer says to send.
func sdkPresign(t testing.TB, s signSpec, at time.Time) *Request {
	t.Helper()
	s = s.withDefaults()
	req := newClientRequest(t, s)
	ph := hexSHA256(s.body)
	uri, signed, err := v4.NewSigner().PresignHTTP(context.Background(), s.creds, req, ph, s.service, s.region, at)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for k, v := range signed {
		if k != "Host" {
			h[k] = v
		}
	}
	return &Request{Method: s.method, Path: u.EscapedPath(), RawQuery: u.RawQuery, Header: h, Host: u.Host, PayloadHash: ph}
}

var sdkCases = []struct {
	name string
	spec signSpec
}{
	{"iam form post", signSpec{url: "https://iam.amazonaws.com/", body: "Action=CreateUser&Path=%2Fdivision_abc%2Fsubdivision_xyz%2F&UserName=Bob&Version=2010-05-08",
		header: http.Header{"Content-Type": {iamForm}}}},
	{"sts post with session token", signSpec{url: "https://sts.amazonaws.com/", body: "Action=GetCallerIdentity&Version=2011-06-15",
		header: http.Header{"Content-Type": {iamForm}}, service: "sts", creds: tempCreds}},
	{"regional sts", signSpec{url: "https://sts.eu-west-3.amazonaws.com/", body: "Action=GetSessionToken&Version=2011-06-15",
		header: http.Header{"Content-Type": {iamForm}}, service: "sts", region: "eu-west-3"}},
	{"organizations json", signSpec{url: "https://organizations.us-east-1.amazonaws.com/", body: `{"MaxResults":20}`,
		header:  http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {"AWSOrganizationsV20161128.ListAccounts"}},
		service: "organizations"}},
	{"get odd query", signSpec{method: "GET", url: "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08" +
		"&PathPrefix=%2Fa%20b%2F&Marker=x+y&u=%C3%BC%E2%9C%93&empty=&flag&r=b&r=a&r=a-b&r=a%2Fb&Z=1&a=2&t=~._-%21%2A%27%28%29&eq=a%3Db%26c"}},
	{"get unicode and spaces in path", signSpec{method: "GET", url: "https://example.amazonaws.com/some%20path/%C3%BC/a+b/%2F/~x", service: "execute-api"}},
	{"empty path", signSpec{method: "GET", url: "https://iam.amazonaws.com?Action=ListRoles&Version=2010-05-08"}},
	{"header folding and repeats", signSpec{url: "https://iam.amazonaws.com/", body: "Action=ListUsers&Version=2010-05-08",
		header: http.Header{"Content-Type": {iamForm}, "X-Amz-Meta-Note": {"  a   b    c  "}, "X-Custom": {"one", " two  three "},
			"X-Amz-Target": {"\tTabbed\t"}}}},
	{"non-default port", signSpec{url: "http://127.0.0.1:8443/", body: "Action=ListUsers&Version=2010-05-08",
		header: http.Header{"Content-Type": {iamForm}}}},
	{"unicode form body", signSpec{url: "https://iam.amazonaws.com/", body: url.Values{"Action": {"TagUser"}, "UserName": {"zoë"},
		"Tags.member.1.Key": {"clé ✓"}, "Tags.member.1.Value": {"a+b c"}, "Version": {"2010-05-08"}}.Encode(),
		header: http.Header{"Content-Type": {iamForm}}}},
}

func TestVerifySDKSigned(t *testing.T) {
	var v Verifier
	for _, c := range sdkCases {
		t.Run(c.name, func(t *testing.T) {
			r := sdkSign(t, c.spec, signTime)
			a, err := Parse(r)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			spec := c.spec.withDefaults()
			if a.AccessKeyID != spec.creds.AccessKeyID || a.SecurityToken != spec.creds.SessionToken || a.Presigned {
				t.Fatalf("Parse = %+v", a)
			}
			if err := a.CheckScope(spec.service, spec.region); err != nil {
				t.Fatalf("CheckScope: %v", err)
			}
			if err := v.Verify(r, a, spec.creds.SecretAccessKey, signTime.Add(time.Minute)); err != nil {
				creq, _ := CanonicalRequest(r, a, r.PayloadHash)
				t.Fatalf("Verify: %v\n%s", err, creq)
			}
		})
	}
}

func TestVerifySDKPresigned(t *testing.T) {
	cases := []struct {
		name    string
		spec    signSpec
		expires time.Duration
	}{
		{"sts get caller identity (eks token style)", signSpec{method: "GET",
			url:    "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60",
			header: http.Header{"X-K8s-Aws-Id": {"my-cluster"}}, service: "sts", creds: tempCreds}, time.Minute},
		{"iam get unicode query, no expires", signSpec{method: "GET",
			url: "https://iam.amazonaws.com/?Action=GetUser&UserName=zo%C3%AB&Version=2010-05-08&x=a+b"}, 0},
		{"hoisted x-amz header", signSpec{method: "GET", url: "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08&X-Amz-Expires=604800",
			header: http.Header{"X-Amz-Meta-Trace": {"abc"}}}, 7 * 24 * time.Hour},
		{"post body", signSpec{url: "https://sts.amazonaws.com/?X-Amz-Expires=900", body: "Action=GetCallerIdentity&Version=2011-06-15",
			header: http.Header{"Content-Type": {iamForm}}, service: "sts"}, 15 * time.Minute},
	}
	var v Verifier
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := sdkPresign(t, c.spec, signTime)
			a, err := Parse(r)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			spec := c.spec.withDefaults()
			if !a.Presigned || a.Expires != c.expires || a.SecurityToken != spec.creds.SessionToken {
				t.Fatalf("Parse = %+v", a)
			}
			if err := v.Verify(r, a, spec.creds.SecretAccessKey, signTime.Add(30*time.Second)); err != nil {
				creq, _ := CanonicalRequest(r, a, r.PayloadHash)
				t.Fatalf("Verify: %v\n%s\n%s", err, r.RawQuery, creq)
			}
		})
	}
}

// TestEquivalentQueryEncodings re-encodes a signed query the way other clients
// might (+ for spaces, lowercase hex, other order): AWS decodes before
// canonicalising, so the signature must still hold.
func TestEquivalentQueryEncodings(t *testing.T) {
	r := sdkSign(t, signSpec{method: "GET", url: "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08&PathPrefix=%2Fa%20b%2F&u=%C3%BC&r=b&r=a"}, signTime)
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	var v Verifier
	for _, raw := range []string{
		"r=a&r=b&u=%c3%bc&PathPrefix=/a+b/&Version=2010-05-08&Action=ListUsers",
		"Version=2010-05-08&&Action=ListUsers&PathPrefix=%2fa%20b%2f&u=%C3%BC&r=b&r=a&",
		url.Values{"Action": {"ListUsers"}, "Version": {"2010-05-08"}, "PathPrefix": {"/a b/"}, "u": {"ü"}, "r": {"a", "b"}}.Encode(),
	} {
		r2 := *r
		r2.RawQuery = raw
		if err := v.Verify(&r2, a, testCreds.SecretAccessKey, signTime); err != nil {
			t.Errorf("%q: %v", raw, err)
		}
	}
}
