package sigv4_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/iamd/iamd/internal/sigv4"
)

// The IAM ListUsers request from AWS's SigV4 documentation, verified the way
// the edge does it.
func ExampleVerifier_Verify() {
	req := &sigv4.Request{
		Method:   "GET",
		Path:     "/",
		RawQuery: "Action=ListUsers&Version=2010-05-08",
		Host:     "iam.amazonaws.com",
		Header: http.Header{
			"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"},
			"X-Amz-Date":   {"20150830T123600Z"},
			"Authorization": {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, " +
				"SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"},
		},
		PayloadHash: sigv4.EmptyPayloadHash,
	}
	now := time.Date(2015, 8, 30, 12, 40, 0, 0, time.UTC)

	auth, err := sigv4.Parse(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := auth.CheckScope("iam", "us-east-1"); err != nil {
		fmt.Println(err)
		return
	}
	secrets := map[string]string{"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	secret, ok := secrets[auth.AccessKeyID]
	if !ok {
		fmt.Println(sigv4.ErrInvalidClientTokenID())
		return
	}
	var v sigv4.Verifier
	fmt.Println(auth.AccessKeyID, v.Verify(req, auth, secret, now))
	fmt.Println(v.Verify(req, auth, secret, now.Add(time.Hour)))
	// Output:
	// AKIDEXAMPLE <nil>
	// SignatureDoesNotMatch: Signature expired: 20150830T123600Z is now earlier than 20150830T132500Z (20150830T134000Z - 15 min.)
}
