package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/app"
	"github.com/iamd/iamd/internal/testenv"
)

// sweepSummary is the script's last line: "N passed, N failed (...)".
var sweepSummary = regexp.MustCompile(`(?m)^(\d+) passed, (\d+) failed`)

// TestBoto3Sweep runs test/boto3/sweep.py against the real binary: every
// implemented IAM, STS, Organizations and Account operation through boto3
// (response shapes against the botocore models, modelled exception
// classes and HTTP statuses, paginators, waiters) plus a subset through the
// AWS CLI. Checks listed in test/boto3/known_failures.txt are expected to
// fail; one that passes fails the run, so the list only shrinks.
func TestBoto3Sweep(t *testing.T) {
	if testing.Short() {
		t.Skip("the sweep takes a couple of minutes")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	// cryptography makes the certificates, SSH keys and SAML signatures.
	if err := exec.Command(py, "-c", "import boto3, cryptography").Run(); err != nil {
		t.Skip("boto3 or cryptography not installed")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}

	// The operations the registry implements, rendered as docs/coverage.md
	// is, so the script can check that each one was exercised without
	// depending on the committed file being fresh.
	var cov bytes.Buffer
	app.WriteCoverage(&cov, testenv.Start(t).App.Coverage(nil))
	covPath := filepath.Join(t.TempDir(), "coverage.md")
	if err := os.WriteFile(covPath, cov.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	s := startServer(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join(root, "test/boto3/sweep.py"),
		"--endpoint", s.url,
		"--credentials-file", filepath.Join(dir, "admin-credentials"),
		"--xfail", filepath.Join(root, "test/boto3/known_failures.txt"),
		"--coverage-doc", covPath)
	out, err := cmd.CombinedOutput()
	text := string(out)
	if testing.Verbose() {
		t.Log(text)
	}
	m := sweepSummary.FindAllStringSubmatch(text, -1)
	if err != nil || len(m) == 0 {
		t.Fatalf("sweep: %v\n%s", err, notPassed(text))
	}
	passed, _ := strconv.Atoi(m[len(m)-1][1])
	failed, _ := strconv.Atoi(m[len(m)-1][2])
	if failed != 0 || passed < 500 {
		t.Fatalf("sweep: %d passed, %d failed\n%s", passed, failed, notPassed(text))
	}
}

// notPassed keeps the lines worth reading: failures, unexpected passes,
// expected failures, skips and the summary.
func notPassed(text string) string {
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "PASS ") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
