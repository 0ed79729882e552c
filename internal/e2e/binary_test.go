package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// The tests in this file run the real iamd binary, as a user would.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// iamdBinary builds cmd/iamd once per test run.
func iamdBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "iamd-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "iamd")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/iamd/iamd/cmd/iamd").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// server is a running iamd process.
type server struct {
	cmd     *exec.Cmd
	url     string
	dataDir string
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServer runs `iamd serve` on dataDir and waits until it is healthy.
func startServer(t *testing.T, dataDir string, extra ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	args := append([]string{"serve", "--listen", addr, "--data-dir", dataDir}, extra...)
	cmd := exec.Command(iamdBinary(t), args...)
	cmd.Env = append(os.Environ(), "IAMD_ROOT_PASSWORD=Correct-Horse-9-battery")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if os.Getenv("IAMD_TEST_LOG") == "" {
		cmd.Stderr = nil
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // drain
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
		}
	}()
	s := &server{cmd: cmd, url: "http://" + addr, dataDir: dataDir}
	t.Cleanup(func() { s.kill() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("iamd did not become healthy at %s", s.url)
	return nil
}

func (s *server) kill() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		_ = s.cmd.Wait()
	}
}

// adminCreds reads the bootstrap admin key from the credentials file.
func adminCreds(t *testing.T, dataDir string) (string, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "admin-credentials"))
	if err != nil {
		t.Fatal(err)
	}
	var id, secret string
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			id = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		}
	}
	if fi, err := os.Stat(filepath.Join(dataDir, "admin-credentials")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin-credentials mode: %v %v", fi.Mode(), err)
	}
	return id, secret
}

func sdkIAM(url, id, secret string) *iam.Client {
	return iam.NewFromConfig(aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""),
	})
}

// TestKill9KeepsAcknowledgedWrites: after kill -9 of a server that
// acknowledged a write, a restart shows the write.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	id, secret := adminCreds(t, dir)
	ctx := context.Background()
	c := sdkIAM(s.url, id, secret)
	for i := range 20 {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("durable-%02d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	s.kill() // SIGKILL: no shutdown, no flush

	s2 := startServer(t, dir)
	c2 := sdkIAM(s2.url, id, secret)
	out, err := c2.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, u := range out.Users {
		if strings.HasPrefix(aws.ToString(u.UserName), "durable-") {
			n++
		}
	}
	if n != 20 {
		t.Fatalf("after kill -9 and restart: %d of 20 acknowledged users", n)
	}
}

// TestAWSCLI drives the server with the real AWS CLI, as the README's quick
// start does.
func TestAWSCLI(t *testing.T) {
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not installed")
	}
	dir := t.TempDir()
	s := startServer(t, dir)
	run := func(args ...string) (string, error) {
		cmd := exec.Command(awsBin, append([]string{"--endpoint-url", s.url, "--output", "json"}, args...)...)
		cmd.Env = append(os.Environ(),
			"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "admin-credentials"),
			"AWS_CONFIG_FILE=/dev/null", "AWS_DEFAULT_REGION=us-east-1", "AWS_PROFILE=default",
			"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN=")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("sts", "get-caller-identity")
	if err != nil {
		t.Fatalf("get-caller-identity: %v\n%s", err, out)
	}
	var ident struct{ Arn, Account string }
	if err := json.Unmarshal([]byte(out), &ident); err != nil || ident.Arn != "arn:aws:iam::123456789012:user/admin" {
		t.Fatalf("identity: %v %s", err, out)
	}
	if out, err := run("iam", "create-user", "--user-name", "cli-user", "--tags", "Key=team,Value=blue"); err != nil {
		t.Fatalf("create-user: %v\n%s", err, out)
	}
	out, err = run("iam", "list-users")
	if err != nil {
		t.Fatalf("list-users: %v\n%s", err, out)
	}
	var users struct {
		Users []struct{ UserName, Arn string }
	}
	if err := json.Unmarshal([]byte(out), &users); err != nil {
		t.Fatal(err, out)
	}
	found := false
	for _, u := range users.Users {
		found = found || u.UserName == "cli-user"
	}
	if !found {
		t.Fatalf("cli-user missing from %s", out)
	}
	out, err = run("iam", "get-user", "--user-name", "nobody")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !strings.Contains(out, "NoSuchEntity") {
		t.Fatalf("get-user nobody: %v\n%s", err, out)
	}
}

// TestBoto3 drives the server with boto3 when Python has it.
func TestBoto3(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		t.Skip("boto3 not installed")
	}
	dir := t.TempDir()
	s := startServer(t, dir)
	id, secret := adminCreds(t, dir)
	script := `
import sys, boto3, botocore
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
iam.create_user(UserName="py-user", Path="/py/")
names = [u["UserName"] for u in iam.list_users(PathPrefix="/py/")["Users"]]
assert names == ["py-user"], names
try:
    iam.get_user(UserName="nobody")
    raise SystemExit("expected NoSuchEntity")
except iam.exceptions.NoSuchEntityException as e:
    assert "cannot be found" in str(e), e
sts = boto3.client("sts", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
assert sts.get_caller_identity()["Arn"].endswith(":user/admin")
print("ok")
`
	out, err := exec.Command(py, "-c", script, s.url, id, secret).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
}
