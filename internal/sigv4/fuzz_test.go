package sigv4

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Parse and Verify must never panic, and every refusal must be an *Error
// with a status AWS uses.
func checkFuzzResult(t *testing.T, r *Request, a *Auth, err error) {
	t.Helper()
	if err != nil {
		e, ok := err.(*Error)
		if !ok || e.Code == "" || e.Status < 400 || e.Status > 404 {
			t.Fatalf("Parse returned %T %v", err, err)
		}
		return
	}
	if a.Date != a.AmzDate[:8] || len(a.SignedHeaders) == 0 {
		t.Fatalf("inconsistent Auth %+v", a)
	}
	var v Verifier
	if err := v.Verify(r, a, "secret", a.Time); err != nil {
		if _, ok := err.(*Error); !ok {
			t.Fatalf("Verify returned %T %v", err, err)
		}
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, "+
		"Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7", "20150830T123600Z", "Action=ListUsers&Version=2010-05-08")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e,SignedHeaders=host,Signature=", "Mon, 02 Jan 2006 15:04:05 GMT", "a=%zz")
	f.Add("AWS4-HMAC-SHA256 ,,,=,Credential==", "", ";")
	f.Add("Bearer x", "20150830T123600Z", "")
	f.Fuzz(func(t *testing.T, authz, date, query string) {
		h := http.Header{"Authorization": {authz}, "Content-Type": {"text/plain"}}
		if date != "" {
			h.Set("X-Amz-Date", date)
		}
		r := &Request{Method: "POST", Path: "/", RawQuery: query, Header: h, Host: "iam.amazonaws.com", PayloadHash: EmptyPayloadHash}
		a, err := Parse(r)
		if authz != "" && err == nil && a.Presigned {
			t.Fatal("header auth parsed as presigned")
		}
		checkFuzzResult(t, r, a, err)
	})
}

func FuzzParsePresigned(f *testing.F) {
	f.Add("Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
		"&X-Amz-Credential=ASIA%2F20240101%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=60" +
		"&X-Amz-Security-Token=tok%2Bx&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=abcd")
	f.Add("X-Amz-Signature=&X-Amz-Signature=")
	f.Add("X-Amz-Credential=%&X-Amz-Algorithm=+")
	f.Add("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a/20240101/b/c/aws4_request&X-Amz-Date=20240101T000000Z" +
		"&X-Amz-SignedHeaders=host&X-Amz-Signature=00&X-Amz-Expires=604801")
	f.Fuzz(func(t *testing.T, query string) {
		r := &Request{Method: "GET", Path: "/", RawQuery: query, Header: http.Header{"X-K8s-Aws-Id": {"c"}},
			Host: "sts.amazonaws.com", PayloadHash: EmptyPayloadHash}
		a, err := Parse(r)
		if err == nil && !a.Presigned {
			t.Fatal("no Authorization header yet not presigned")
		}
		if err == nil && a.Expires > MaxPresignExpires {
			t.Fatalf("Expires %v over the limit", a.Expires)
		}
		if err != nil && !strings.Contains(query, "X-Amz-") && !strings.Contains(query, "%") && !strings.Contains(query, ";") &&
			!isCode(err, CodeMissingAuthenticationToken) {
			t.Fatalf("query without auth parameters: %v", err)
		}
		checkFuzzResult(t, r, a, err)
	})
}

// FuzzVerifyMatchesSDK is differential: whatever path, query and header value
// the SDK signer accepts, Verify must accept too, including when the query
// goes on the wire in the client's own (non-canonical) encoding.
func FuzzVerifyMatchesSDK(f *testing.F) {
	f.Add("/", "Action=ListUsers&Version=2010-05-08", "v")
	f.Add("/a b/ü/%/+", "a=1&a=0&b=%2F&c=a+b&d&=e&f=%7e", "  x \t y  ")
	f.Add("", "r=a-b&r=a/b&r=a%2Fb", "\tz\t")
	f.Fuzz(func(t *testing.T, path, query, value string) {
		if _, err := url.ParseQuery(query); err != nil {
			return // the SDK would drop the bad pairs; we refuse them (tested elsewhere)
		}
		for i := 0; i < len(value); i++ {
			if c := value[i]; c < 0x20 && c != '\t' || c == 0x7f {
				return // not a valid header value: never reaches a server
			}
		}
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		u := &url.URL{Scheme: "https", Host: "iam.amazonaws.com", Path: path, RawQuery: query}
		req := &http.Request{Method: "POST", URL: u, Host: u.Host, Header: http.Header{"X-Custom": {value}}}
		if err := v4.NewSigner().SignHTTP(context.Background(), testCreds, req, EmptyPayloadHash, "iam", "us-east-1", signTime); err != nil {
			t.Skip(err)
		}
		r := &Request{Method: "POST", Path: u.EscapedPath(), RawQuery: query, Header: req.Header, Host: u.Host, PayloadHash: EmptyPayloadHash}
		a, err := Parse(r)
		if err != nil {
			if isCode(err, CodeIncompleteSignature) && strings.Contains(query, "X-Amz-") {
				return // the query itself claims presigned auth: refused as ambiguous
			}
			t.Fatalf("Parse: %v", err)
		}
		var v Verifier
		if err := v.Verify(r, a, testCreds.SecretAccessKey, signTime); err != nil {
			creq, _ := CanonicalRequest(r, a, EmptyPayloadHash)
			t.Fatalf("Verify: %v\n%q", err, creq)
		}
	})
}

// FuzzQueryUnescape holds the decoder to url.QueryUnescape, which is what
// the SDK signer (via url.URL.Query) uses on its side.
func FuzzQueryUnescape(f *testing.F) {
	for _, s := range []string{"", "a+b", "%2F%2b", "%", "%4", "%zz", "plain", "ü%C3%BC+", "a%2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := queryUnescape(s)
		want, wantErr := url.QueryUnescape(s)
		if (err != nil) != (wantErr != nil) || got != want {
			t.Fatalf("queryUnescape(%q) = %q, %v; url.QueryUnescape = %q, %v", s, got, err, want, wantErr)
		}
		if err != nil && !isCode(err, CodeMalformedQueryString) {
			t.Fatalf("error %v", err)
		}
	})
}
