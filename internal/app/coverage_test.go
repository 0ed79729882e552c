package app_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/iamd/iamd/internal/app"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/testenv"
)

// TestCoverageDoc keeps docs/coverage.md true: it is regenerated from the
// registry and the end-to-end tests and must match what is committed.
func TestCoverageDoc(t *testing.T) {
	env := testenv.Start(t)
	tested := testedOperations(t, "../..")
	var buf bytes.Buffer
	app.WriteCoverage(&buf, env.App.Coverage(tested))
	path := "../../docs/coverage.md"
	if os.Getenv("IAMD_UPDATE_COVERAGE") != "" {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(have, buf.Bytes()) {
		t.Fatalf("docs/coverage.md is stale: run IAMD_UPDATE_COVERAGE=1 go test ./internal/app/ -run TestCoverageDoc")
	}
}

// testedOperations finds the operations that test files call through an
// AWS client: SDK method calls (`.CreateUser(ctx`) and AWS CLI commands
// (`"create-user"`).
func testedOperations(t *testing.T, root string) map[string]bool {
	t.Helper()
	var src strings.Builder
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, "_test.go") && !strings.HasSuffix(p, "coverage_test.go") {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			src.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	text := src.String()
	out := map[string]bool{}
	for _, svc := range awsproto.Services() {
		for name := range svc.Operations {
			sdk := regexp.MustCompile(`\.` + name + `\(ctx`)
			cli := `"` + kebab(name) + `"`
			// rest-json operations driven by signed HTTP requests name
			// their request path ("/getContactInformation").
			rest := svc.Protocol == "rest-json" && strings.Contains(text, `"`+strings.SplitN(svc.Operations[name].RequestURI, "?", 2)[0])
			if sdk.MatchString(text) || strings.Contains(text, cli) || rest {
				out[svc.Name+":"+name] = true
			}
		}
	}
	return out
}

// kebab turns CreateUser into create-user, as the AWS CLI names commands.
func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 && (s[i-1] < 'A' || s[i-1] > 'Z' || (i+1 < len(s) && s[i+1] >= 'a' && s[i+1] <= 'z')) {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
