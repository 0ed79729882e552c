package authz_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/sigv4"
	"github.com/iamd/iamd/internal/testenv"
)

// policyDoc is one managed policy of n statements, each with a condition.
// One statement in ten names iam:Get* (so it is a candidate for the
// benchmarked iam:GetUser and its SourceIp condition is evaluated); the
// others name actions of other services, as a real account's policies do.
// The last statement is the one that allows (127.0.0.0/8).
func policyDoc(p, n int) string {
	var b strings.Builder
	b.WriteString(`{"Version":"2012-10-17","Statement":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		action := fmt.Sprintf("ec2:Describe%d%d", p, i)
		if i%10 == 0 {
			action = "iam:Get*"
		}
		cidr := fmt.Sprintf("10.%d.%d.0/24", p, i)
		if i == n-1 {
			action, cidr = "iam:Get*", "127.0.0.0/8"
		}
		fmt.Fprintf(&b, `{"Effect":"Allow","Action":%q,"Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":%q}}}`, action, cidr)
	}
	b.WriteString(`]}`)
	return b.String()
}

// setupUser creates user "bench" whose identity policies hold groups×10
// attached policies of perPolicy statements each: with groups == 0 the ten
// policies are attached to the user itself, otherwise to each of the
// user's groups (IAM allows ten managed policies per user or group).
func setupUser(b *testing.B, env *testenv.Env, groups, perPolicy int) {
	ctx := context.Background()
	admin := env.AdminIAM()
	must := func(_ any, err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bench")}))
	attach := func(owner string, g, k int) {
		out, err := admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("p%d-%d", g, k)), PolicyDocument: aws.String(policyDoc(g*10+k, perPolicy))})
		if err != nil {
			b.Fatal(err)
		}
		if owner == "" {
			must(admin.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bench"), PolicyArn: out.Policy.Arn}))
			return
		}
		must(admin.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(owner), PolicyArn: out.Policy.Arn}))
	}
	if groups == 0 {
		for k := range 10 {
			attach("", 0, k)
		}
		return
	}
	for g := range groups {
		name := fmt.Sprintf("g%d", g)
		must(admin.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(name)}))
		must(admin.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(name), UserName: aws.String("bench")}))
		for k := range 10 {
			attach(name, g, k)
		}
	}
}

func benchAuthorize(b *testing.B, groups, perPolicy int) {
	env := testenv.Start(b)
	setupUser(b, env, groups, perPolicy)
	ctx := context.Background()
	u, err := env.AdminIAM().GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	p := &principal.Principal{Type: principal.User, Partition: "aws", Account: env.Account, ARN: aws.ToString(u.User.Arn),
		UserID: aws.ToString(u.User.UserId), Name: "bench", Path: "/"}
	call := &service.Call{RequestID: "r", Service: "iam", Operation: "GetUser", Region: "us-east-1", Partition: "aws",
		Account: env.Account, Principal: p, Now: time.Now(), SourceIP: netip.MustParseAddr("127.0.0.1"), UserAgent: "bench", Secure: true}
	op := awsproto.LookupService("iam").Operation("GetUser")
	in := map[string]any{"UserName": "bench"}
	az := env.App.Authz
	if err := az.Authorize(ctx, call, op, in); err != nil { // warm the caches
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		if err := az.Authorize(ctx, call, op, in); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// processCPU is this process's user+system CPU time. Wall-clock ns/op is
// distorted on a shared machine; CPU time per operation is what the
// targets are about (it includes the GC and any background goroutine).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkAuthorize100 is a warm decision for a user with 10 attached
// policies × 10 statements with conditions. Target: ≤ 3 µs.
func BenchmarkAuthorize100(b *testing.B) { benchAuthorize(b, 0, 10) }

// BenchmarkAuthorize1000: 10 groups × 10 policies × 10 statements. Target:
// ≤ 3× the 100-statement figure.
func BenchmarkAuthorize1000(b *testing.B) { benchAuthorize(b, 10, 10) }

// BenchmarkAuthorizedRequest replays one pre-signed IAM request through the
// whole handler stack (SigV4 verify, authentication, request context,
// decision, query codec, a trivial handler) with no network: ServeHTTP on a
// ResponseRecorder. Target: ≤ 10 µs CPU outside the codec.
//
// Sub-benchmarks break the figure down on the same request:
//   - full: ServeHTTP, logging as testenv does (text handler to io.Discard);
//   - nolog: ServeHTTP with a discarding logger (full − nolog = access log);
//   - authn: payload hash, SigV4 parse, key lookup and signature verify;
//   - authz: request context and decision (Authorize);
//   - codec: form parsing, input decoding and response encoding;
//   - harness: this benchmark's own per-request cost (request clone,
//     recorder) around a handler that only writes 200.
//
// authn + authz is the verify+context+decision figure the target is about.
func BenchmarkAuthorizedRequest(b *testing.B) {
	env := testenv.Start(b)
	setupUser(b, env, 0, 10)
	ctx := context.Background()
	k, err := env.AdminIAM().CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	// A handler that does no work, so the figure is the request path's.
	out := map[string]any{"User": map[string]any{"UserName": "bench", "UserId": "AIDAEXAMPLE", "Arn": "arn:aws:iam::" + env.Account + ":user/bench", "Path": "/", "CreateDate": time.Unix(0, 0)}}
	env.App.Registry.Add("iam", "GetUser", func(context.Context, *service.Call, map[string]any) (map[string]any, error) {
		return out, nil
	})
	body := "Action=GetUser&Version=2010-05-08&UserName=bench"
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	creds := aws.Credentials{AccessKeyID: aws.ToString(k.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(k.AccessKey.SecretAccessKey)}
	hash := fmt.Sprintf("%x", sha256.Sum256([]byte(body)))
	signed := time.Now()
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hash, "iam", "us-east-1", signed); err != nil {
		b.Fatal(err)
	}
	serveWith := func(h http.Handler) func() *httptest.ResponseRecorder {
		return func() *httptest.ResponseRecorder {
			r := req.Clone(ctx)
			r.Body = io.NopCloser(strings.NewReader(body))
			r.RemoteAddr = "127.0.0.1:50000"
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w
		}
	}
	loop := func(b *testing.B, f func() error) {
		if err := f(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		cpu := processCPU()
		for b.Loop() {
			if err := f(); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, cpu)
	}
	serveOK := func(serve func() *httptest.ResponseRecorder) func() error {
		return func() error {
			if w := serve(); w.Code != http.StatusOK {
				return fmt.Errorf("status %d: %s", w.Code, w.Body)
			}
			return nil
		}
	}
	b.Run("full", func(b *testing.B) { loop(b, serveOK(serveWith(env.App.Handler()))) })
	b.Run("nolog", func(b *testing.B) {
		quiet := *env.App.Server
		quiet.Log = slog.New(slog.DiscardHandler)
		loop(b, serveOK(serveWith(&quiet)))
	})
	b.Run("harness", func(b *testing.B) {
		loop(b, serveOK(serveWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusOK)
		}))))
	})
	b.Run("authn", func(b *testing.B) {
		loop(b, func() error {
			sum := sha256.Sum256([]byte(body))
			sreq := sigv4.NewRequest(req, hex.EncodeToString(sum[:]))
			auth, err := sigv4.Parse(sreq)
			if err != nil {
				return err
			}
			_, err = env.App.Authn.Authenticate(ctx, sreq, auth, signed)
			return err
		})
	})
	op := awsproto.LookupService("iam").Operation("GetUser")
	b.Run("authz", func(b *testing.B) {
		sum := sha256.Sum256([]byte(body))
		sreq := sigv4.NewRequest(req, hex.EncodeToString(sum[:]))
		auth, err := sigv4.Parse(sreq)
		if err != nil {
			b.Fatal(err)
		}
		p, err := env.App.Authn.Authenticate(ctx, sreq, auth, signed)
		if err != nil {
			b.Fatal(err)
		}
		in := map[string]any{"UserName": "bench"}
		loop(b, func() error {
			// A fresh Call per request, as the server makes.
			c := service.Call{RequestID: "r", Service: "iam", Operation: "GetUser", Region: "us-east-1", Partition: "aws",
				Account: p.Account, Principal: p, Now: signed, SourceIP: netip.MustParseAddr("127.0.0.1"), UserAgent: req.UserAgent()}
			return env.App.Authz.Authorize(ctx, &c, op, in)
		})
	})
	b.Run("codec", func(b *testing.B) {
		loop(b, func() error {
			form, err := url.ParseQuery(body)
			if err != nil {
				return err
			}
			delete(form, "Action")
			delete(form, "Version")
			if _, err := op.DecodeQuery(form); err != nil {
				return err
			}
			_, err = op.EncodeQuery(out, "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE")
			return err
		})
	})
}
