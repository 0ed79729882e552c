package iam

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

func TestParsePolicyARN(t *testing.T) {
	for _, tc := range []struct {
		in                  string
		ok                  bool
		account, path, name string
	}{
		{"arn:aws:iam::aws:policy/AdministratorAccess", true, "aws", "/", "AdministratorAccess"},
		{"arn:aws:iam::aws:policy/job-function/Billing", true, "aws", "/job-function/", "Billing"},
		{"arn:aws-cn:iam::123456789012:policy/a/b/c/P", true, "123456789012", "/a/b/c/", "P"},
		{"arn:aws:iam::123456789012:user/bob", false, "", "", ""},
		{"arn:aws:iam::123456789012:policy/", false, "", "", ""},
		{"arn:aws:iam::123456789012:policy/path/", false, "", "", ""},
		{"arn:aws:iam:us-east-1:123456789012:policy/P", false, "", "", ""},
		{"arn:aws:s3:::policy/P", false, "", "", ""},
		{"arn:aws:iam:::policy/P", false, "", "", ""},
		{"policy/P", false, "", "", ""},
	} {
		a, path, name, ok := parsePolicyARN(tc.in)
		if ok != tc.ok || ok && (a.Account != tc.account || path != tc.path || name != tc.name) {
			t.Errorf("parsePolicyARN(%q) = %q %q %q %v", tc.in, a.Account, path, name, ok)
		}
	}
}

func TestVersionIDs(t *testing.T) {
	for _, tc := range []struct {
		in    string
		valid bool
	}{
		{"v1", true}, {"v12", true}, {"v0", false}, {"v01", false}, {"1", false}, {"v", false}, {"v-1", false}, {"vx", false},
	} {
		if got := validVersionID(tc.in); got != tc.valid {
			t.Errorf("validVersionID(%q) = %v", tc.in, got)
		}
	}
	// Keys sort newest first, so ListPolicyVersions is a key-ordered query.
	if !(versionKey("p", "v10") < versionKey("p", "v2")) || versionKey("p", "v7") != "p/99999992" {
		t.Errorf("versionKey order: %s %s", versionKey("p", "v2"), versionKey("p", "v10"))
	}
}

// sliceSource serves keys from a sorted slice.
func sliceSource(keys ...string) polSource {
	return func(after string, n int) ([]polItem, error) {
		var out []polItem
		for _, k := range keys {
			if k > after && len(out) < n {
				out = append(out, polItem{key: k, v: k})
			}
		}
		return out, nil
	}
}

func TestPolPaginate(t *testing.T) {
	sources := []polSource{sliceSource("a", "b", "c"), sliceSource(), sliceSource("a", "d")}
	for _, max := range []int{1, 2, 3, 4, 5, 6, 100} {
		var got []string
		marker := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatalf("MaxItems %d: no end", max)
			}
			in := map[string]any{"MaxItems": int64(max)}
			if marker != "" {
				in["Marker"] = marker
			}
			items, pg, err := polPaginate(in, sources)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) > max {
				t.Fatalf("MaxItems %d: page of %d", max, len(items))
			}
			for _, it := range items {
				got = append(got, it.key)
			}
			if !pg.truncated {
				break
			}
			marker = pg.marker
		}
		if fmt.Sprint(got) != "[a b c a d]" {
			t.Errorf("MaxItems %d: %v", max, got)
		}
	}
	for _, bad := range []string{"!!", base64.RawURLEncoding.EncodeToString([]byte("9:x")), base64.RawURLEncoding.EncodeToString([]byte("nocolon"))} {
		_, _, err := polPaginate(map[string]any{"Marker": bad}, sources)
		if err == nil || !strings.Contains(err.Error(), "Invalid Marker") {
			t.Errorf("marker %q: %v", bad, err)
		}
	}
}

func TestInlineQuota(t *testing.T) {
	for kind, want := range map[string]int{kindUser: 2048, kindGroup: 5120, kindRole: 10240} {
		if got := inlineQuota(kind); got != want {
			t.Errorf("inlineQuota(%s) = %d, want %d", kind, got, want)
		}
	}
}
