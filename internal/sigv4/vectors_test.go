package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"
)

const (
	exampleKeyID  = "AKIDEXAMPLE"
	exampleSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	exampleDate   = "20150830T123600Z"
)

var exampleTime = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)

// TestDocumentedVectors runs the IAM ListUsers example from the SigV4 docs
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html)
// and cases of AWS's SigV4 test suite whose paths need no escaping. Suite
// cases with escaped or dot-segment paths (get-utf8, get-space, normalize-path)
// assume single encoding and normalisation, which the SDKs do not do for
// non-S3 services; SDK-signed paths are covered in sdk_test.go instead.
func TestDocumentedVectors(t *testing.T) {
	suite := func(method, query string, hdr http.Header, signed, sig string) (*Request, string) {
		h := http.Header{"X-Amz-Date": {exampleDate}}
		for k, v := range hdr {
			h[k] = v
		}
		h.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders="+
			signed+", Signature="+sig)
		return &Request{Method: method, Path: "/", RawQuery: query, Header: h, Host: "example.amazonaws.com", PayloadHash: EmptyPayloadHash}, sig
	}
	type tc struct {
		name    string
		req     *Request
		service string
	}
	var cases []tc
	add := func(name string, r *Request, service string) { cases = append(cases, tc{name, r, service}) }

	add("iam-list-users", &Request{
		Method: "GET", Path: "/", RawQuery: "Action=ListUsers&Version=2010-05-08", Host: "iam.amazonaws.com",
		Header: http.Header{
			"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"},
			"X-Amz-Date":   {exampleDate},
			"Authorization": {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, " +
				"SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"},
		},
		PayloadHash: EmptyPayloadHash,
	}, "iam")
	r, _ := suite("GET", "", nil, "host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
	add("get-vanilla", r, "service")
	r, _ = suite("GET", "Param1=value2&Param1=value1", nil, "host;x-amz-date", "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694")
	add("get-vanilla-query-order-value", r, "service")
	r, _ = suite("GET", "", http.Header{"My-Header1": {" value1"}, "My-Header2": {`"a   b   c"`}},
		"host;my-header1;my-header2;x-amz-date", "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736")
	add("get-header-value-trim", r, "service")
	r, _ = suite("POST", "", nil, "host;x-amz-date", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
	add("post-vanilla", r, "service")
	r, _ = suite("POST", "Param1=value1", nil, "host;x-amz-date", "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11")
	add("post-vanilla-query", r, "service")
	r, _ = suite("POST", "", http.Header{"My-Header1": {"value1"}}, "host;my-header1;x-amz-date",
		"c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c")
	add("post-header-key-sort", r, "service")
	r, _ = suite("POST", "", http.Header{"My-Header1": {"VALUE1"}}, "host;my-header1;x-amz-date",
		"cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d")
	add("post-header-value-case", r, "service")
	r, _ = suite("POST", "", http.Header{"X-Amz-Security-Token": {"AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="}},
		"host;x-amz-date;x-amz-security-token", "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead")
	add("post-sts-header-before", r, "service")

	// The 2011 edition of the suite signs with the Date header (an HTTP
	// date) instead of X-Amz-Date; the string to sign carries its ISO form.
	add("2011-get-vanilla-query-date-header", &Request{
		Method: "GET", Path: "/", RawQuery: "foo=Zoo&foo=aha", Host: "host.foo.com",
		Header: http.Header{
			"Date": {"Mon, 09 Sep 2011 23:36:00 GMT"},
			"Authorization": {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, " +
				"SignedHeaders=date;host, Signature=be7148d34ebccdc6423b19085378aa0bee970bdc61d144bd1a8c48c33079ab09"},
		},
		PayloadHash: EmptyPayloadHash,
	}, "host")

	var v Verifier
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := Parse(c.req)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if a.AccessKeyID != exampleKeyID || a.Region != "us-east-1" || a.Service != c.service || a.Date != a.AmzDate[:8] {
				t.Fatalf("Parse = %+v", a)
			}
			if err := a.CheckScope(c.service, "us-east-1"); err != nil {
				t.Fatalf("CheckScope: %v", err)
			}
			if err := v.Verify(c.req, a, exampleSecret, a.Time); err != nil {
				creq, _ := CanonicalRequest(c.req, a, c.req.PayloadHash)
				t.Fatalf("Verify: %v\ncanonical request:\n%s", err, creq)
			}
			if err := v.Verify(c.req, a, exampleSecret+"x", a.Time); !isCode(err, CodeSignatureDoesNotMatch) {
				t.Fatalf("Verify with wrong secret = %v", err)
			}
		})
	}
}

// TestDocumentedIntermediates pins the canonical request, string to sign and
// signing key of the IAM example, so a failure says which step broke.
func TestDocumentedIntermediates(t *testing.T) {
	r := &Request{
		Method: "GET", RawQuery: "Action=ListUsers&Version=2010-05-08", Host: "iam.amazonaws.com",
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}, "X-Amz-Date": {exampleDate}},
	}
	a := &Auth{AccessKeyID: exampleKeyID, Date: "20150830", Region: "us-east-1", Service: "iam", Time: exampleTime,
		SignedHeaders: []string{"content-type", "host", "x-amz-date"}}
	creq, err := CanonicalRequest(r, a, EmptyPayloadHash)
	if err != nil {
		t.Fatal(err)
	}
	wantCreq := "GET\n/\nAction=ListUsers&Version=2010-05-08\n" +
		"content-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n" +
		"content-type;host;x-amz-date\n" + EmptyPayloadHash
	if creq != wantCreq {
		t.Fatalf("canonical request:\n%q\nwant\n%q", creq, wantCreq)
	}
	sts := StringToSign(a, creq)
	wantSTS := "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n" +
		"f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
	if sts != wantSTS {
		t.Fatalf("string to sign:\n%q\nwant\n%q", sts, wantSTS)
	}
	key := SigningKey(exampleSecret, "20150830", "us-east-1", "iam")
	if got := hex.EncodeToString(key); got != "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9" {
		t.Fatalf("signing key = %s", got)
	}
}

func TestHMACMatchesStdlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 55, 56, 63, 64, 65, 200, 511, 512, 513, 2000} {
		var key [32]byte
		for i := range key {
			key[i] = byte(rng.UintN(256))
		}
		msg := make([]byte, n)
		for i := range msg {
			msg[i] = byte(rng.UintN(256))
		}
		m := hmac.New(sha256.New, key[:])
		m.Write(msg)
		want := m.Sum(nil)
		got := hmacSHA256(&key, msg)
		if !hmac.Equal(got[:], want) {
			t.Fatalf("len %d: hmacSHA256 = %x, want %x", n, got, want)
		}
	}
}

func isCode(err error, code string) bool {
	e, ok := err.(*Error)
	return ok && e.Code == code
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%T %v", err, err)
}

func sha256Of(s string) [32]byte { return sha256.Sum256([]byte(s)) }
