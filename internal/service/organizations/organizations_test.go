package organizations

import (
	"bytes"
	"encoding/base64"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/ids"
)

func TestPaginate(t *testing.T) {
	items := []string{"a", "b", "c", "d", "e"}
	id := func(s string) string { return s }
	tok := tokenFor
	tests := []struct {
		name     string
		in       map[string]any
		want     []string
		wantNext string
		wantErr  bool
	}{
		{"default page holds all", map[string]any{}, items, "", false},
		{"first page", map[string]any{"MaxResults": int64(2)}, []string{"a", "b"}, tok("b"), false},
		{"middle page", map[string]any{"MaxResults": int64(2), "NextToken": tok("b")}, []string{"c", "d"}, tok("d"), false},
		{"last page", map[string]any{"MaxResults": int64(2), "NextToken": tok("d")}, []string{"e"}, "", false},
		{"exact end", map[string]any{"MaxResults": int64(5)}, items, "", false},
		// A token naming a removed item resumes after where it sorted.
		{"token of a removed item", map[string]any{"NextToken": tok("bb")}, []string{"c", "d", "e"}, "", false},
		{"token past the end", map[string]any{"NextToken": tok("z")}, []string{}, "", false},
		{"garbage token", map[string]any{"NextToken": "!!"}, nil, "", true},
		// A decodable token this server did not issue (AWS: INVALID_NEXT_TOKEN).
		{"forged token", map[string]any{"NextToken": base64.RawURLEncoding.EncodeToString([]byte("b"))}, nil, "", true},
		{"empty decoded token", map[string]any{"NextToken": "="}, nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next, err := paginate(items, id, tt.in)
			if tt.wantErr {
				if !isCode(err, "InvalidInputException") {
					t.Fatalf("err = %v, want InvalidInputException", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) || next != tt.wantNext {
				t.Fatalf("got %v %q, want %v %q", got, next, tt.want, tt.wantNext)
			}
		})
	}
}

func TestPaginateWalksEverything(t *testing.T) {
	var items []string
	for i := range 47 {
		items = append(items, string(rune('A'+i)))
	}
	var seen []string
	in := map[string]any{"MaxResults": int64(5)}
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatal("pagination does not end")
		}
		got, next, err := paginate(items, func(s string) string { return s }, in)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, got...)
		if next == "" {
			break
		}
		in["NextToken"] = next
	}
	if !slices.Equal(seen, items) {
		t.Fatalf("walked %v", seen)
	}
}

func TestEffectivePolicy(t *testing.T) {
	p := func(content string) *orgPolicy { return &orgPolicy{ID: "p-x", Content: content} }
	tests := []struct {
		name   string
		levels [][]*orgPolicy
		want   string
	}{
		{
			"assign resolves to its value",
			[][]*orgPolicy{{p(`{"tags":{"cc":{"tag_key":{"@@assign":"CostCenter"}}}}`)}},
			`{"tags":{"cc":{"tag_key":"CostCenter"}}}`,
		},
		{
			"child assign replaces the parent's",
			[][]*orgPolicy{
				{p(`{"tags":{"cc":{"tag_value":{"@@assign":["1","2"]}}}}`)},
				{p(`{"tags":{"cc":{"tag_value":{"@@assign":["3"]}}}}`)},
			},
			`{"tags":{"cc":{"tag_value":["3"]}}}`,
		},
		{
			"append adds to the inherited list",
			[][]*orgPolicy{
				{p(`{"tags":{"cc":{"tag_value":{"@@assign":["1"]}}}}`)},
				{p(`{"tags":{"cc":{"tag_value":{"@@append":["2"]}}}}`)},
			},
			`{"tags":{"cc":{"tag_value":["1","2"]}}}`,
		},
		{
			"remove drops the key; operator controls vanish",
			[][]*orgPolicy{
				{p(`{"tags":{"cc":{"@@operators_allowed_for_child_policies":["@@none"],"tag_key":{"@@assign":"CC"}},"env":{"tag_key":{"@@assign":"Env"}}}}`)},
				{p(`{"tags":{"env":{"@@remove":{}}}}`)},
			},
			`{"tags":{"cc":{"tag_key":"CC"}}}`,
		},
		{
			"siblings merge key by key",
			[][]*orgPolicy{{p(`{"a":{"x":1}}`), p(`{"a":{"y":2}}`)}},
			`{"a":{"x":1,"y":2}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := effective(tt.levels)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
	// Merging never changes the attached policies' own documents.
	parent := p(`{"a":{"@@assign":["1"]}}`)
	if _, err := effective([][]*orgPolicy{{parent}, {p(`{"a":{"@@append":["2"]}}`)}}); err != nil {
		t.Fatal(err)
	}
	if parent.Content != `{"a":{"@@assign":["1"]}}` {
		t.Fatalf("parent changed: %s", parent.Content)
	}
}

func TestValidateContent(t *testing.T) {
	const scp = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`
	const rcp = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`
	pad := func(doc string, n int) string {
		return strings.Replace(doc, `"Effect"`, `"Sid":"`+strings.Repeat("a", n)+`","Effect"`, 1)
	}
	exactly := func(doc string, size int) string { return pad(doc, size-len(pad(doc, 0))) }
	tests := []struct {
		name, typ, content, code, reason string
	}{
		{"valid SCP", typeSCP, scp, "", ""},
		{"SCP at the limit", typeSCP, exactly(scp, 5120), "", ""},
		{"SCP over the limit", typeSCP, exactly(scp, 5121), "ConstraintViolationException", "POLICY_CONTENT_LIMIT_EXCEEDED"},
		{"SCP without Version", typeSCP, `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, "MalformedPolicyDocumentException", ""},
		{"SCP not JSON", typeSCP, `{`, "MalformedPolicyDocumentException", ""},
		{"valid RCP", typeRCP, rcp, "", ""},
		{"RCP without Principal", typeRCP, scp, "MalformedPolicyDocumentException", ""},
		{"tag policy", "TAG_POLICY", `{"tags":{}}`, "", ""},
		{"tag policy not an object", "TAG_POLICY", `[1]`, "MalformedPolicyDocumentException", ""},
		{"AI opt-out over its limit", "AISERVICES_OPT_OUT_POLICY", `{"x":"` + strings.Repeat("a", 2500) + `"}`, "ConstraintViolationException", "POLICY_CONTENT_LIMIT_EXCEEDED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateContent(tt.typ, tt.content)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			if !isCode(err, tt.code) {
				t.Fatalf("err = %v, want %s", err, tt.code)
			}
			if r := reasonOf(err); r != tt.reason {
				t.Fatalf("Reason %q, want %q", r, tt.reason)
			}
		})
	}
}

func reasonOf(err error) string {
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		return ""
	}
	r, _ := ae.Fields["Reason"].(string)
	return r
}

func TestManagedPoliciesParse(t *testing.T) {
	for _, p := range managedPolicies {
		if err := validateContent(p.Type, p.Content); err != nil {
			t.Errorf("%s: %v", p.ID, err)
		}
		if d := defaultPolicy(p.Type); d == nil || d.ID != p.ID || !d.awsManaged {
			t.Errorf("defaultPolicy(%s) = %+v", p.Type, d)
		}
		if m := managedPolicy(p.ID); m == nil || m.Name != p.Name {
			t.Errorf("managedPolicy(%s) = %+v", p.ID, m)
		}
	}
	if defaultPolicy("TAG_POLICY") != nil || managedPolicy("p-12345678") != nil {
		t.Error("unexpected AWS managed policy")
	}
}

func TestTags(t *testing.T) {
	tag := func(k, v string) any { return map[string]any{"Key": k, "Value": v} }
	tests := []struct {
		name   string
		tags   []any
		want   []orgTag
		reason string
	}{
		{"none", nil, []orgTag{}, ""},
		{"two", []any{tag("a", "1"), tag("b", "2")}, []orgTag{{"a", "1"}, {"b", "2"}}, ""},
		{"keys are case-sensitive", []any{tag("a", "1"), tag("A", "2")}, []orgTag{{"a", "1"}, {"A", "2"}}, ""},
		{"duplicate", []any{tag("a", "1"), tag("a", "2")}, nil, "DUPLICATE_TAG_KEY"},
		{"reserved prefix", []any{tag("AWS:x", "1")}, nil, "INVALID_SYSTEM_TAGS_PARAMETER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tagsIn(map[string]any{"Tags": tt.tags})
			if tt.reason != "" {
				if r := reasonOf(err); r != tt.reason {
					t.Fatalf("err %v, want Reason %s", err, tt.reason)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	var many []any
	for i := range maxTags + 1 {
		many = append(many, tag(strings.Repeat("k", i+1), ""))
	}
	if _, err := tagsIn(map[string]any{"Tags": many}); reasonOf(err) != "MAX_TAG_LIMIT_EXCEEDED" {
		t.Fatalf("51 tags: %v", err)
	}
	merged, err := mergeTags([]orgTag{{"a", "1"}, {"b", "2"}}, []orgTag{{"b", "3"}, {"c", "4"}})
	if err != nil || !slices.Equal(merged, []orgTag{{"a", "1"}, {"b", "3"}, {"c", "4"}}) {
		t.Fatalf("merge: %v %v", merged, err)
	}
	if got := dropTags(merged, []string{"a", "c", "zz"}); !slices.Equal(got, []orgTag{{"b", "3"}}) {
		t.Fatalf("drop: %v", got)
	}
}

func TestRandomIDs(t *testing.T) {
	s := &Service{IDs: ids.Source{Rand: bytes.NewReader(bytes.Repeat([]byte{0, 1, 2, 250, 35, 36, 37}, 50))}}
	tests := []struct {
		got  string
		want string
	}{
		{s.randomID("o-", 10, lowerAlnum), `^o-[a-z0-9]{10}$`},
		{s.randomID("r-", 4, lowerAlnum), `^r-[a-z0-9]{4}$`},
		{s.randomID("ou-abcd-", 8, lowerAlnum), `^ou-abcd-[a-z0-9]{8}$`},
		{s.randomID("p-", 8, lowerAlnum), `^p-[a-z0-9]{8}$`},
		{s.randomID("h-", 10, lowerAlnum), `^h-[a-z0-9]{8,32}$`},
		{s.randomID("car-", 32, lowerAlnum), `^car-[a-z0-9]{8,32}$`},
	}
	for _, tt := range tests {
		if !regexp.MustCompile(tt.want).MatchString(tt.got) {
			t.Errorf("%q does not match %s", tt.got, tt.want)
		}
	}
	// The injected source decides the ids.
	a := (&Service{IDs: ids.Source{Rand: bytes.NewReader([]byte("0123456789"))}}).randomID("o-", 10, lowerAlnum)
	b := (&Service{IDs: ids.Source{Rand: bytes.NewReader([]byte("0123456789"))}}).randomID("o-", 10, lowerAlnum)
	if a != b {
		t.Fatalf("same source, different ids: %s %s", a, b)
	}
}

func TestHandshakeState(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		state string
		at    time.Time
		want  string
		open  bool
	}{
		{"OPEN", t0, "OPEN", true},
		{"OPEN", t0.Add(inviteTTL + time.Second), "EXPIRED", false},
		{"ACCEPTED", t0.Add(inviteTTL + time.Second), "ACCEPTED", false},
		{"DECLINED", t0, "DECLINED", false},
		{"CANCELED", t0, "CANCELED", false},
	}
	for _, tt := range tests {
		h := &handshake{State: tt.state, Requested: t0, Expires: t0.Add(inviteTTL)}
		if got := h.state(tt.at); got != tt.want {
			t.Errorf("%s at %v: state %s, want %s", tt.state, tt.at, got, tt.want)
		}
		if err := checkOpen(h, tt.at); (err == nil) != tt.open {
			t.Errorf("%s at %v: checkOpen %v", tt.state, tt.at, err)
		}
	}
	h := &handshake{State: "ACCEPTED", Expires: t0}
	if !isCode(checkOpen(h, t0), "HandshakeAlreadyInStateException") {
		t.Error("accepting twice should say HandshakeAlreadyInState")
	}
}

func TestServicePrincipal(t *testing.T) {
	for p, ok := range map[string]bool{
		"config.amazonaws.com": true, "securityhub.amazonaws.com": true,
		".amazonaws.com": false, "config": false, "config.example.com": false, "a b.amazonaws.com": false,
	} {
		if err := checkServicePrincipal(p); (err == nil) != ok {
			t.Errorf("%q: %v", p, err)
		}
	}
}

func TestPaths(t *testing.T) {
	o := &organization{ID: "o-abcdefghij", Mgmt: "111111111111", Partition: "aws"}
	if got := o.path([]string{"r-ab12", "ou-ab12-aaaaaaaa"}); got != "o-abcdefghij/r-ab12/ou-ab12-aaaaaaaa/" {
		t.Fatalf("path %s", got)
	}
	p := &orgPolicy{ID: "p-12345678", Type: typeSCP}
	if got := o.policyARN(p); got != "arn:aws:organizations::111111111111:policy/o-abcdefghij/service_control_policy/p-12345678" {
		t.Fatalf("policy ARN %s", got)
	}
	if got := o.policyARN(managedPolicy("p-RCPFullAWSAccess")); got != "arn:aws:organizations::aws:policy/resource_control_policy/p-RCPFullAWSAccess" {
		t.Fatalf("managed ARN %s", got)
	}
	if got := o.accountARN("222222222222"); got != "arn:aws:organizations::111111111111:account/o-abcdefghij/222222222222" {
		t.Fatalf("account ARN %s", got)
	}
}

func TestCloseQuota(t *testing.T) {
	for members, want := range map[int]int{1: 10, 99: 10, 100: 10, 250: 25, 10000: 1000, 20000: 1000} {
		if got := closeQuota(members); got != want {
			t.Errorf("closeQuota(%d) = %d, want %d", members, got, want)
		}
	}
}
