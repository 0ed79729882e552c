package sigv4

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func cloneRequest(r *Request) *Request {
	c := *r
	c.Header = r.Header.Clone()
	return &c
}

func setAuthz(r *Request, old, new string) {
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
}

// TestTamperHeaderAuth changes one signed component at a time; each must be
// refused with the code AWS uses.
func TestTamperHeaderAuth(t *testing.T) {
	base := sdkSign(t, signSpec{url: "https://iam.amazonaws.com/?Extra=1", body: "Action=ListUsers&Version=2010-05-08",
		header: http.Header{"Content-Type": {iamForm}, "X-Amz-Meta-A": {"v"}}}, signTime)
	sig := base.Header.Get("Authorization")[len(base.Header.Get("Authorization"))-64:]
	flipped := string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", sig[0])+1)%16]) + sig[1:]

	cases := []struct {
		name   string
		mutate func(r *Request)
		secret string
		code   string
		msg    string // substring of the message, when it matters
	}{
		{"untouched", func(*Request) {}, "", "", ""},
		{"unsigned header added", func(r *Request) { r.Header.Set("User-Agent", "evil") }, "", "", ""},
		{"uppercase signature", func(r *Request) { setAuthz(r, sig, strings.ToUpper(sig)) }, "", "", ""},
		{"body", func(r *Request) { r.PayloadHash = hexSHA256("Action=DeleteUser&Version=2010-05-08") }, "", CodeSignatureDoesNotMatch, "does not match"},
		{"signed header value", func(r *Request) { r.Header.Set("Content-Type", "text/plain") }, "", CodeSignatureDoesNotMatch, ""},
		{"signed header repeated", func(r *Request) { r.Header.Add("X-Amz-Meta-A", "w") }, "", CodeSignatureDoesNotMatch, ""},
		{"signed header removed", func(r *Request) { r.Header.Del("X-Amz-Meta-A") }, "", CodeSignatureDoesNotMatch, ""},
		{"content-length", func(r *Request) { r.Header.Set("Content-Length", "1") }, "", CodeSignatureDoesNotMatch, ""},
		{"query value", func(r *Request) { r.RawQuery = "Extra=2" }, "", CodeSignatureDoesNotMatch, ""},
		{"query param added", func(r *Request) { r.RawQuery += "&Action=DeleteUser" }, "", CodeSignatureDoesNotMatch, ""},
		{"query dropped", func(r *Request) { r.RawQuery = "" }, "", CodeSignatureDoesNotMatch, ""},
		{"method", func(r *Request) { r.Method = "PUT" }, "", CodeSignatureDoesNotMatch, ""},
		{"path", func(r *Request) { r.Path = "/x" }, "", CodeSignatureDoesNotMatch, ""},
		{"host", func(r *Request) { r.Host = "iam.evil.com" }, "", CodeSignatureDoesNotMatch, ""},
		{"date by a second", func(r *Request) { r.Header.Set("X-Amz-Date", "20240101T000001Z") }, "", CodeSignatureDoesNotMatch, "does not match"},
		{"date other day", func(r *Request) { r.Header.Set("X-Amz-Date", "20240102T000000Z") }, "", CodeSignatureDoesNotMatch,
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20240101' != '20240102', from '20240102T000000Z'."},
		{"region", func(r *Request) { setAuthz(r, "/us-east-1/", "/us-west-2/") }, "", CodeSignatureDoesNotMatch, "does not match"},
		{"service", func(r *Request) { setAuthz(r, "/iam/", "/sts/") }, "", CodeSignatureDoesNotMatch, "does not match"},
		{"access key", func(r *Request) { setAuthz(r, "AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLF") }, "", CodeSignatureDoesNotMatch, ""},
		{"secret", func(*Request) {}, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ", CodeSignatureDoesNotMatch, ""},
		{"signed header dropped from list", func(r *Request) { setAuthz(r, "content-type;", "") }, "", CodeSignatureDoesNotMatch, ""},
		{"host dropped from list", func(r *Request) { setAuthz(r, "host;", "") }, "", CodeIncompleteSignature, "'Host' or ':authority' must be a 'SignedHeader'"},
		{"signature flipped", func(r *Request) { setAuthz(r, sig, flipped) }, "", CodeSignatureDoesNotMatch, ""},
		{"signature truncated", func(r *Request) { setAuthz(r, sig, sig[:63]) }, "", CodeSignatureDoesNotMatch, ""},
		{"signature not hex", func(r *Request) { setAuthz(r, sig, "zz"+sig[2:]) }, "", CodeSignatureDoesNotMatch, ""},
		{"terminator", func(r *Request) { setAuthz(r, "/aws4_request", "/aws5_request") }, "", CodeSignatureDoesNotMatch,
			"Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."},
		{"declared payload hash differs from body", func(r *Request) { r.Header.Set("X-Amz-Content-Sha256", hexSHA256("other")) }, "",
			CodeContentSHA256Mismatch, ""},
		{"unsigned payload refused", func(r *Request) { r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload) }, "", CodeIncompleteSignature, ""},
	}
	var v Verifier
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := cloneRequest(base)
			c.mutate(r)
			a, err := Parse(r)
			if err == nil {
				// As the caller would: the secret is looked up by the key id sent.
				secret := map[string]string{testCreds.AccessKeyID: testCreds.SecretAccessKey, "AKIAIOSFODNN7EXAMPLF": "another secret"}[a.AccessKeyID]
				if c.secret != "" {
					secret = c.secret
				}
				err = v.Verify(r, a, secret, signTime)
			}
			checkErr(t, err, c.code, c.msg)
		})
	}
}

func checkErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("want success, got %s", errString(err))
		}
		return
	}
	if !isCode(err, code) {
		t.Fatalf("want %s, got %s", code, errString(err))
	}
	if e := err.(*Error); !strings.Contains(e.Message, msg) {
		t.Fatalf("message %q does not contain %q", e.Message, msg)
	}
	if e := err.(*Error); e.Status != map[string]int{
		CodeSignatureDoesNotMatch: 403, CodeIncompleteSignature: 400, CodeMissingAuthenticationToken: 403,
		CodeAccessDenied: 403, CodeMalformedQueryString: 404, CodeContentSHA256Mismatch: 400,
	}[code] {
		t.Fatalf("status %d for %s", e.Status, code)
	}
}

func TestTamperPresigned(t *testing.T) {
	base := sdkPresign(t, signSpec{method: "GET", service: "sts", creds: tempCreds,
		url: "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60"}, signTime)
	replaceQuery := func(old, new string) func(r *Request) {
		return func(r *Request) { r.RawQuery = strings.Replace(r.RawQuery, old, new, 1) }
	}
	cases := []struct {
		name   string
		mutate func(r *Request)
		code   string
		msg    string
	}{
		{"untouched", func(*Request) {}, "", ""},
		{"expires lengthened", replaceQuery("X-Amz-Expires=60", "X-Amz-Expires=600"), CodeSignatureDoesNotMatch, ""},
		{"action changed", replaceQuery("GetCallerIdentity", "GetSessionToken"), CodeSignatureDoesNotMatch, ""},
		{"token changed", replaceQuery("X-Amz-Security-Token=Fwo", "X-Amz-Security-Token=Gwo"), CodeSignatureDoesNotMatch, ""},
		{"param added", func(r *Request) { r.RawQuery += "&DurationSeconds=900" }, CodeSignatureDoesNotMatch, ""},
		{"host", func(r *Request) { r.Host = "sts.evil.com" }, CodeSignatureDoesNotMatch, ""},
		{"body added", func(r *Request) { r.PayloadHash = hexSHA256("x") }, CodeSignatureDoesNotMatch, ""},
		{"signature removed", func(r *Request) {
			q := strings.Split(r.RawQuery, "&")
			r.RawQuery = ""
			for _, p := range q {
				if !strings.HasPrefix(p, "X-Amz-Signature=") {
					r.RawQuery += p + "&"
				}
			}
		}, CodeIncompleteSignature, "must include 'X-Amz-Signature'"},
		{"signature twice", func(r *Request) { r.RawQuery += "&X-Amz-Signature=00" }, CodeIncompleteSignature, "more than once"},
		{"header auth too", func(r *Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x") }, CodeIncompleteSignature,
			"Only one auth mechanism allowed"},
		{"algorithm", replaceQuery("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1"), CodeIncompleteSignature, "only supports"},
	}
	var v Verifier
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := cloneRequest(base)
			c.mutate(r)
			a, err := Parse(r)
			if err == nil {
				err = v.Verify(r, a, tempCreds.SecretAccessKey, signTime)
			}
			checkErr(t, err, c.code, c.msg)
		})
	}
}

func TestSkewHeaderAuth(t *testing.T) {
	r := sdkSign(t, signSpec{url: "https://sts.amazonaws.com/", body: "Action=GetCallerIdentity&Version=2011-06-15", service: "sts"}, signTime)
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		now  time.Duration // server clock minus signing time
		code string
		msg  string
	}{
		{0, "", ""},
		{15 * time.Minute, "", ""},
		{-15 * time.Minute, "", ""},
		{15*time.Minute + time.Second, CodeSignatureDoesNotMatch,
			"Signature expired: 20240101T000000Z is now earlier than 20240101T000001Z (20240101T001501Z - 15 min.)"},
		{15*time.Minute + time.Millisecond, CodeSignatureDoesNotMatch, "Signature expired: 20240101T000000Z is now earlier than"},
		{-15*time.Minute - time.Second, CodeSignatureDoesNotMatch,
			"Signature not yet current: 20240101T000000Z is still later than 20231231T235959Z (20231231T234459Z + 15 min.)"},
		{24 * time.Hour, CodeSignatureDoesNotMatch, "Signature expired"},
	}
	var v Verifier
	for _, c := range cases {
		t.Run(c.now.String(), func(t *testing.T) {
			now := signTime.Add(c.now)
			checkErr(t, a.CheckTime(now), c.code, c.msg)
			checkErr(t, v.Verify(r, a, testCreds.SecretAccessKey, now), c.code, c.msg)
		})
	}
}

func TestPresignedWindow(t *testing.T) {
	var v Verifier
	cases := []struct {
		name    string
		query   string
		now     time.Duration
		code    string
		msg     string
		expires time.Duration
	}{
		{"within expires", "X-Amz-Expires=60", 60 * time.Second, "", "", time.Minute},
		{"just expired", "X-Amz-Expires=60", 61 * time.Second, CodeAccessDenied, "Request has expired", time.Minute},
		{"week long", "X-Amz-Expires=604800", 7 * 24 * time.Hour, "", "", 7 * 24 * time.Hour},
		{"week long expired", "X-Amz-Expires=604800", 7*24*time.Hour + time.Second, CodeAccessDenied, "Request has expired", 0},
		{"not yet current", "X-Amz-Expires=60", -15*time.Minute - time.Second, CodeSignatureDoesNotMatch, "Signature not yet current", 0},
		{"slightly early is fine", "X-Amz-Expires=60", -10 * time.Minute, "", "", time.Minute},
		{"no expires: 15 minutes", "", 15 * time.Minute, "", "", 0},
		{"no expires: expired", "", 15*time.Minute + time.Second, CodeSignatureDoesNotMatch, "Signature expired", 0},
		{"expires zero", "X-Amz-Expires=0", 0, CodeIncompleteSignature, "at least 1 second", 0},
		{"expires negative", "X-Amz-Expires=-1", 0, CodeIncompleteSignature, "non-negative", 0},
		{"expires not a number", "X-Amz-Expires=ten", 0, CodeIncompleteSignature, "should be a number", 0},
		{"expires over a week", "X-Amz-Expires=604801", 0, CodeIncompleteSignature, "less than a week", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08"
			if c.query != "" {
				u += "&" + c.query
			}
			r := sdkPresign(t, signSpec{method: "GET", url: u}, signTime)
			a, err := Parse(r)
			if err == nil {
				if a.Expires != c.expires && c.code == "" {
					t.Fatalf("Expires = %v, want %v", a.Expires, c.expires)
				}
				err = v.Verify(r, a, testCreds.SecretAccessKey, signTime.Add(c.now))
			}
			checkErr(t, err, c.code, c.msg)
		})
	}
}

func TestParseErrors(t *testing.T) {
	const goodCred = "Credential=AKIAIOSFODNN7EXAMPLE/20240101/us-east-1/iam/aws4_request"
	const goodRest = ", SignedHeaders=host;x-amz-date, Signature=" + EmptyPayloadHash
	cases := []struct {
		name   string
		authz  string
		date   string
		query  string
		code   string
		msg    string
		header http.Header
	}{
		{"no auth", "", "20240101T000000Z", "Action=ListUsers", CodeMissingAuthenticationToken, "missing Authentication Token", nil},
		{"ok", "AWS4-HMAC-SHA256 " + goodCred + goodRest, "20240101T000000Z", "", "", "", nil},
		{"ok without spaces", "AWS4-HMAC-SHA256 " + goodCred + ",SignedHeaders=host;x-amz-date,Signature=ab", "20240101T000000Z", "", "", "", nil},
		{"bearer", "Bearer abc", "20240101T000000Z", "", CodeIncompleteSignature,
			"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization=Bearer abc", nil},
		{"sigv4a", "AWS4-ECDSA-P256-SHA256 " + goodCred + goodRest, "20240101T000000Z", "", CodeIncompleteSignature,
			"Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'", nil},
		{"missing signature", "AWS4-HMAC-SHA256 " + goodCred + ", SignedHeaders=host", "20240101T000000Z", "", CodeIncompleteSignature,
			"Authorization header requires 'Signature' parameter. Authorization=", nil},
		{"missing date", "AWS4-HMAC-SHA256 " + goodCred + goodRest, "", "", CodeIncompleteSignature,
			"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.", nil},
		{"http date header", "AWS4-HMAC-SHA256 " + goodCred + goodRest, "", "", "", "",
			http.Header{"Date": {"Mon, 01 Jan 2024 00:00:00 GMT"}}},
		{"bad date", "AWS4-HMAC-SHA256 " + goodCred + goodRest, "2024-01-01T00:00:00Z", "", CodeIncompleteSignature,
			"Date must be in ISO-8601 'basic format'. Got '2024-01-01T00:00:00Z'.", nil},
		{"missing equals", "AWS4-HMAC-SHA256 " + goodCred + ", SignedHeaders" + ", Signature=ab", "20240101T000000Z", "", CodeIncompleteSignature,
			"'SignedHeaders' not a valid key=value pair (missing equal-sign) in Authorization header", nil},
		{"duplicate credential", "AWS4-HMAC-SHA256 " + goodCred + ", " + goodCred + goodRest, "20240101T000000Z", "", CodeIncompleteSignature,
			"duplicate 'Credential'", nil},
		{"short credential", "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/aws4_request" + goodRest, "20240101T000000Z", "",
			CodeIncompleteSignature, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKID/20240101/us-east-1/aws4_request'", nil},
		{"long credential", "AWS4-HMAC-SHA256 Credential=A/B/20240101/us-east-1/iam/aws4_request" + goodRest, "20240101T000000Z", "",
			CodeIncompleteSignature, "exactly 5", nil},
		{"empty signed headers", "AWS4-HMAC-SHA256 " + goodCred + ", SignedHeaders=, Signature=ab", "20240101T000000Z", "", CodeIncompleteSignature, "", nil},
		{"empty signed header name", "AWS4-HMAC-SHA256 " + goodCred + ", SignedHeaders=host;;x-amz-date, Signature=ab", "20240101T000000Z", "",
			CodeIncompleteSignature, "empty header name", nil},
		{"semicolon query", "AWS4-HMAC-SHA256 " + goodCred + goodRest, "20240101T000000Z", "a=1;b=2", CodeMalformedQueryString, "semicolon", nil},
		{"bad escape in auth query", "", "", "X-Amz-Credential=%zz", CodeMalformedQueryString, "escape", nil},
		{"presigned missing several", "", "", "X-Amz-Signature=ab&X-Amz-Date=20240101T000000Z", CodeIncompleteSignature,
			"must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-SignedHeaders'", nil},
		{"presigned http date refused", "", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=A%2F20240101%2Fus-east-1%2Fiam%2Faws4_request" +
			"&X-Amz-Date=Mon%2C+01+Jan+2024+00%3A00%3A00+GMT&X-Amz-SignedHeaders=host&X-Amz-Signature=ab", CodeIncompleteSignature, "ISO-8601", nil},
		{"presigned ok", "", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=A%2F20240101%2Fus-east-1%2Fiam%2Faws4_request" +
			"&X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=ab", "", "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range c.header {
				h[k] = v
			}
			if c.authz != "" {
				h.Set("Authorization", c.authz)
			}
			if c.date != "" {
				h.Set("X-Amz-Date", c.date)
			}
			a, err := Parse(&Request{Method: "GET", Path: "/", RawQuery: c.query, Header: h, Host: "iam.amazonaws.com", PayloadHash: EmptyPayloadHash})
			checkErr(t, err, c.code, c.msg)
			if err == nil && (a.AccessKeyID == "" || a.Date != "20240101" || !a.Time.Equal(signTime)) {
				t.Fatalf("Parse = %+v", a)
			}
		})
	}
}

func TestCheckScope(t *testing.T) {
	a := &Auth{Region: "us-east-1", Service: "iam"}
	checkErr(t, a.CheckScope("iam", "us-east-1"), "", "")
	checkErr(t, a.CheckScope("iam"), "", "")
	checkErr(t, a.CheckScope("iam", "eu-west-1", "us-east-1"), "", "")
	checkErr(t, a.CheckScope("iam", "us-west-2"), CodeSignatureDoesNotMatch, "Credential should be scoped to a valid region.")
	checkErr(t, a.CheckScope("sts", "us-east-1"), CodeSignatureDoesNotMatch, "Credential should be scoped to correct service: 'sts'.")
}

func TestVerifyRequiresPayloadHash(t *testing.T) {
	r := sdkSign(t, signSpec{url: "https://iam.amazonaws.com/", body: "Action=ListUsers&Version=2010-05-08"}, signTime)
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	r.PayloadHash = ""
	var v Verifier
	if err := v.Verify(r, a, testCreds.SecretAccessKey, signTime); err == nil || isCode(err, CodeSignatureDoesNotMatch) {
		t.Fatalf("want a caller error, got %v", err)
	}
}

func TestUnsignedPayloadOptIn(t *testing.T) {
	r := sdkSign(t, signSpec{url: "https://iam.amazonaws.com/", body: "Action=ListUsers&Version=2010-05-08",
		header: http.Header{"X-Amz-Content-Sha256": {UnsignedPayload}}, payloadHash: UnsignedPayload}, signTime)
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	r.PayloadHash = hexSHA256("anything at all")
	checkErr(t, (&Verifier{}).Verify(r, a, testCreds.SecretAccessKey, signTime), CodeIncompleteSignature, UnsignedPayload)
	checkErr(t, (&Verifier{AllowUnsignedPayload: true}).Verify(r, a, testCreds.SecretAccessKey, signTime), "", "")
}

func TestHeaderLookup(t *testing.T) {
	long := strings.Repeat("x-long-header-", 6) + "name"
	h := http.Header{}
	h.Set("X-Amz-Date", "d")
	h.Set("Content-Type", "ct")
	h.Set(long, "long")
	h.Set("x_under", "u")
	h["lowercase-only"] = []string{"hand-built"}
	cases := []struct{ name, want string }{
		{"x-amz-date", "d"},
		{"content-type", "ct"},
		{long, "long"},
		{"x_under", "u"},
		{"missing", ""},
		// Like http.Header.Get, only canonical keys are found.
		{"lowercase-only", ""},
	}
	for _, c := range cases {
		if got := headerValue(h, c.name); got != c.want {
			t.Errorf("headerValue(%q) = %q, want %q", c.name, got, c.want)
		}
		if got := headerValue(h, c.name); got != h.Get(c.name) {
			t.Errorf("headerValue(%q) = %q, http.Header.Get = %q", c.name, got, h.Get(c.name))
		}
	}
}

// TestUppercaseSignedHeaderNames: names in SignedHeaders enter the canonical
// request verbatim, but are looked up case-insensitively.
func TestUppercaseSignedHeaderNames(t *testing.T) {
	r := &Request{Method: "GET", Path: "/", Host: "h", PayloadHash: EmptyPayloadHash,
		Header: http.Header{"Content-Type": {"a"}, "X-Amz-Date": {"20240101T000000Z"}}}
	a := &Auth{Date: "20240101", Region: "us-east-1", Service: "iam", Time: signTime, SignedHeaders: []string{"Content-Type", "Host"}}
	creq, err := CanonicalRequest(r, a, EmptyPayloadHash)
	if err != nil {
		t.Fatal(err)
	}
	if want := "GET\n/\n\nContent-Type:a\nHost:h\n\nContent-Type;Host\n" + EmptyPayloadHash; creq != want {
		t.Fatalf("got %q, want %q", creq, want)
	}
}

func TestNewRequest(t *testing.T) {
	cases := []struct {
		raw, path, query string
	}{
		{"POST /a%2Fb/c%20d?x=1&y=%2B HTTP/1.1\r\nHost: iam.amazonaws.com\r\nContent-Length: 2\r\n\r\nab", "/a%2Fb/c%20d", "x=1&y=%2B"},
		{"GET /%7Euser/ HTTP/1.1\r\nHost: h:8080\r\n\r\n", "/%7Euser/", ""},
		{"GET http://iam.amazonaws.com/p%20q?a=b HTTP/1.1\r\nHost: iam.amazonaws.com\r\n\r\n", "/p%20q", "a=b"},
	}
	for _, c := range cases {
		hr, err := http.ReadRequest(bufio.NewReader(strings.NewReader(c.raw)))
		if err != nil {
			t.Fatal(err)
		}
		r := NewRequest(hr, EmptyPayloadHash)
		if r.Path != c.path || r.RawQuery != c.query || r.Host != hr.Host || r.Method != hr.Method || r.PayloadHash != EmptyPayloadHash ||
			r.ContentLength != hr.ContentLength {
			t.Errorf("%q: got %+v", c.raw, r)
		}
	}
}

func TestScopeHostFallbackLongSecret(t *testing.T) {
	long := aws.Credentials{AccessKeyID: "AKIALONG", SecretAccessKey: strings.Repeat("s", 300)}
	r := sdkSign(t, signSpec{url: "https://iam.amazonaws.com/", body: "Action=ListUsers&Version=2010-05-08", creds: long}, signTime)
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Scope(); got != "20240101/us-east-1/iam/aws4_request" {
		t.Fatalf("Scope = %q", got)
	}
	// A hand-built Request may carry Host in the header map instead.
	r.Header.Set("Host", r.Host)
	r.Host = ""
	var v Verifier
	if err := v.Verify(r, a, long.SecretAccessKey, signTime); err != nil {
		t.Fatal(err)
	}
	checkErr(t, v.Verify(r, a, long.SecretAccessKey+"x", signTime), CodeSignatureDoesNotMatch, "")
	if digestSecret(long.SecretAccessKey) == digestSecret(long.SecretAccessKey+"x") {
		t.Fatal("long secrets share a digest")
	}
}
