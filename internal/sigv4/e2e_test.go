package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// authServer verifies every request it receives the way the edge will and
// records the outcome; it answers with minimal well-formed bodies so the SDK
// clients are satisfied.
type authServer struct {
	v       Verifier
	secrets map[string]string
	service string

	mu      sync.Mutex
	results []error
}

func (s *authServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	sum := sha256.Sum256(body)
	req := NewRequest(r, hex.EncodeToString(sum[:]))
	err = func() error {
		a, err := Parse(req)
		if err != nil {
			return err
		}
		if err := a.CheckScope(s.service, "us-east-1"); err != nil {
			return err
		}
		secret, ok := s.secrets[a.AccessKeyID]
		if !ok {
			return ErrInvalidClientTokenID()
		}
		return s.v.Verify(req, a, secret, time.Now())
	}()
	s.mu.Lock()
	s.results = append(s.results, err)
	s.mu.Unlock()
	if err != nil {
		e := err.(*Error)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(e.Status)
		fmt.Fprintf(w, "<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>r</RequestId></ErrorResponse>", e.Code, e.Message)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	switch s.service {
	case "iam":
		fmt.Fprint(w, `<ListUsersResponse><ListUsersResult><Users/><IsTruncated>false</IsTruncated></ListUsersResult></ListUsersResponse>`)
	default:
		fmt.Fprint(w, `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/a</Arn>`+
			`<UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`)
	}
}

func (s *authServer) last(t *testing.T) error {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.results) == 0 {
		t.Fatal("server saw no request")
	}
	return s.results[len(s.results)-1]
}

func sdkConfig(url string, c aws.Credentials) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
	}
}

// TestEndToEndSDKClients drives a real net/http server with the real IAM and
// STS clients, so nothing about what goes on the wire is simulated.
func TestEndToEndSDKClients(t *testing.T) {
	ctx := context.Background()
	secrets := map[string]string{testCreds.AccessKeyID: testCreds.SecretAccessKey, tempCreds.AccessKeyID: tempCreds.SecretAccessKey}

	iamSrv := &authServer{secrets: secrets, service: "iam"}
	ts := httptest.NewServer(iamSrv)
	defer ts.Close()
	client := iam.NewFromConfig(sdkConfig(ts.URL, testCreds))
	if _, err := client.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/división ✓/a+b/"), Marker: aws.String("x y&z=1")}); err != nil {
		t.Fatalf("ListUsers: %v (server: %v)", err, iamSrv.last(t))
	}
	if err := iamSrv.last(t); err != nil {
		t.Fatalf("server: %v", err)
	}

	// Wrong secret and unknown key are refused with AWS's codes.
	bad := iam.NewFromConfig(sdkConfig(ts.URL, aws.Credentials{AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: "wrong"}))
	if _, err := bad.ListUsers(ctx, &iam.ListUsersInput{}); err == nil {
		t.Fatal("wrong secret accepted")
	}
	checkErr(t, iamSrv.last(t), CodeSignatureDoesNotMatch, "")
	unknown := iam.NewFromConfig(sdkConfig(ts.URL, aws.Credentials{AccessKeyID: "AKIAUNKNOWN", SecretAccessKey: "x"}))
	if _, err := unknown.ListUsers(ctx, &iam.ListUsersInput{}); err == nil {
		t.Fatal("unknown key accepted")
	}
	if !isCode(iamSrv.last(t), CodeInvalidClientTokenID) {
		t.Fatalf("server: %v", iamSrv.last(t))
	}

	// STS: signed call with a session token, then a presigned
	// GetCallerIdentity URL (the EKS-token pattern) fetched separately.
	stsSrv := &authServer{secrets: secrets, service: "sts"}
	ts2 := httptest.NewServer(stsSrv)
	defer ts2.Close()
	stsClient := sts.NewFromConfig(sdkConfig(ts2.URL, tempCreds))
	if _, err := stsClient.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity: %v (server: %v)", err, stsSrv.last(t))
	}
	p, err := sts.NewPresignClient(stsClient).PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(p.Method, p.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range p.SignedHeader {
		if k != "Host" {
			req.Header[k] = v
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := stsSrv.last(t); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("presigned GetCallerIdentity: status %d, server: %v", resp.StatusCode, err)
	}
	// IAM's credential scope is refused by STS.
	wrongSvc := sts.NewFromConfig(sdkConfig(ts.URL, testCreds))
	_, _ = wrongSvc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	checkErr(t, iamSrv.last(t), CodeSignatureDoesNotMatch, "Credential should be scoped to correct service: 'iam'.")
}
