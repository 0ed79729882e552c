package awsproto

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustOp(t testing.TB, svc, name string) *Operation {
	t.Helper()
	s := LookupService(svc)
	if s == nil {
		t.Fatalf("service %s not found", svc)
	}
	op := s.Operations[name]
	if op == nil {
		t.Fatalf("operation %s.%s not found", svc, name)
	}
	return op
}

func TestServicesLoad(t *testing.T) {
	tests := []struct {
		name, protocol, version, target, signing string
		op                                       string
	}{
		{"iam", "query", "2010-05-08", "", "iam", "CreateUser"},
		{"sts", "query", "2011-06-15", "", "sts", "AssumeRole"},
		{"organizations", "json", "2016-11-28", "AWSOrganizationsV20161128", "organizations", "CreateAccount"},
		{"cloudtrail", "json", "2013-11-01", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101", "cloudtrail", "LookupEvents"},
		{"budgets", "json", "2016-10-20", "AWSBudgetServiceGateway", "budgets", "DescribeBudgets"},
		{"account", "rest-json", "2021-02-01", "", "account", "GetContactInformation"},
	}
	if got := len(Services()); got != len(tests) {
		t.Fatalf("Services() = %d services, want %d", got, len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := LookupService(tt.name)
			if s == nil {
				t.Fatal("not found")
			}
			if s.Protocol != tt.protocol || s.APIVersion != tt.version || s.TargetPrefix != tt.target || s.SigningName != tt.signing {
				t.Errorf("got %s/%s/%s/%s", s.Protocol, s.APIVersion, s.TargetPrefix, s.SigningName)
			}
			if s.Operations[tt.op] == nil || s.Operations[tt.op].Service != s {
				t.Errorf("operation %s missing or unlinked", tt.op)
			}
		})
	}
	if LookupService("ec2") != nil {
		t.Error("LookupService(ec2) should be nil")
	}
	if ns := LookupService("iam").XMLNamespace; ns != "https://iam.amazonaws.com/doc/2010-05-08/" {
		t.Errorf("iam namespace %q", ns)
	}
}

func TestOperationForTarget(t *testing.T) {
	tests := []struct {
		svc, target, want string
	}{
		{"organizations", "AWSOrganizationsV20161128.CreateAccount", "CreateAccount"},
		{"cloudtrail", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents", "LookupEvents"},
		{"budgets", "AWSBudgetServiceGateway.DescribeBudgets", "DescribeBudgets"},
		{"organizations", "AWSOrganizationsV20161128.NoSuchThing", ""},
		{"organizations", "Wrong.CreateAccount", ""},
		{"organizations", "CreateAccount", ""},
		{"organizations", "", ""},
	}
	for _, tt := range tests {
		op := LookupService(tt.svc).OperationForTarget(tt.target)
		got := ""
		if op != nil {
			got = op.Name
		}
		if got != tt.want {
			t.Errorf("%s %q = %q, want %q", tt.svc, tt.target, got, tt.want)
		}
	}
}

func TestPaginator(t *testing.T) {
	tests := []struct {
		svc, op        string
		in, out, limit string
		ok             bool
	}{
		{"iam", "ListUsers", "Marker", "Marker", "MaxItems", true},
		{"organizations", "ListAccounts", "NextToken", "NextToken", "MaxResults", true},
		{"account", "ListRegions", "NextToken", "NextToken", "MaxResults", true},
		{"iam", "CreateUser", "", "", "", false},
	}
	for _, tt := range tests {
		in, out, limit, ok := mustOp(t, tt.svc, tt.op).Paginator()
		if in != tt.in || out != tt.out || limit != tt.limit || ok != tt.ok {
			t.Errorf("%s.%s = %q %q %q %v", tt.svc, tt.op, in, out, limit, ok)
		}
	}
	if p := mustOp(t, "iam", "ListPolicies").Pagination(); p == nil || p.MoreResults != "IsTruncated" || p.ResultKeys[0] != "Policies" {
		t.Errorf("ListPolicies pagination = %+v", p)
	}
}

// TestQueryRoundTripAllOperations builds a valid input document for every
// IAM and STS operation from the model, serializes it like the SDKs do, and
// checks DecodeQuery returns the same document.
func TestQueryRoundTripAllOperations(t *testing.T) {
	for _, svc := range []string{"iam", "sts"} {
		s := LookupService(svc)
		for _, name := range sortedKeys(s.Operations) {
			op := s.Operations[name]
			if op.Input == nil {
				continue
			}
			t.Run(svc+"/"+name, func(t *testing.T) {
				want := newSampler().structure(op.Input)
				form := toForm(op.Input, want, name, s.APIVersion)
				got, err := op.DecodeQuery(form)
				if err != nil {
					t.Fatalf("DecodeQuery: %v\nform: %v", err, form)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("round trip mismatch\n got: %#v\nwant: %#v", got, want)
				}
			})
		}
	}
}

func TestDecodeQuery(t *testing.T) {
	tests := []struct {
		op   string
		form string
		want map[string]any
	}{
		{"CreateUser", "Action=CreateUser&Version=2010-05-08&UserName=alice&Path=%2Fdev%2F" +
			"&Tags.member.1.Key=team&Tags.member.1.Value=core&Tags.member.2.Key=env&Tags.member.2.Value=prod",
			map[string]any{"UserName": "alice", "Path": "/dev/", "Tags": []any{
				map[string]any{"Key": "team", "Value": "core"},
				map[string]any{"Key": "env", "Value": "prod"},
			}}},
		// Indices are ordered numerically, not lexically, and gaps compact.
		{"CreateUser", "UserName=bob&Tags.member.10.Key=k10&Tags.member.10.Value=v&Tags.member.2.Key=k2&Tags.member.2.Value=v",
			map[string]any{"UserName": "bob", "Tags": []any{
				map[string]any{"Key": "k2", "Value": "v"},
				map[string]any{"Key": "k10", "Value": "v"},
			}}},
		// "Tags=" is an explicitly empty list.
		{"CreateUser", "UserName=bob&Tags=", map[string]any{"UserName": "bob", "Tags": []any{}}},
		// Unknown parameters and non-numeric indices are ignored.
		{"CreateUser", "UserName=bob&Bogus=1&Tags.member.x.Key=k", map[string]any{"UserName": "bob", "Tags": []any{}}},
		{"ListUsers", "MaxItems=100&PathPrefix=%2F", map[string]any{"MaxItems": int64(100), "PathPrefix": "/"}},
		{"ListUsers", "", map[string]any{}},
		{"UpdateAccountPasswordPolicy", "MinimumPasswordLength=12&RequireSymbols=true&RequireNumbers=FALSE&AllowUsersToChangePassword=True",
			map[string]any{"MinimumPasswordLength": int64(12), "RequireSymbols": true, "RequireNumbers": false, "AllowUsersToChangePassword": true}},
		{"DeleteAccessKey", "AccessKeyId=AKIAIOSFODNN7EXAMPLE", map[string]any{"AccessKeyId": "AKIAIOSFODNN7EXAMPLE"}},
		{"GetAccountAuthorizationDetails", "Filter.member.1=User&Filter.member.2=Role&MaxItems=5",
			map[string]any{"Filter": []any{"User", "Role"}, "MaxItems": int64(5)}},
		{"UploadSSHPublicKey", "UserName=a&SSHPublicKeyBody=ssh-rsa%20AAAA", map[string]any{"UserName": "a", "SSHPublicKeyBody": "ssh-rsa AAAA"}},
	}
	for _, tt := range tests {
		t.Run(tt.op+"?"+tt.form, func(t *testing.T) {
			form, err := url.ParseQuery(tt.form)
			if err != nil {
				t.Fatal(err)
			}
			got, err := mustOp(t, "iam", tt.op).DecodeQuery(form)
			if err != nil {
				t.Fatalf("DecodeQuery: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestDecodeQuerySTS(t *testing.T) {
	form, _ := url.ParseQuery("Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=s1" +
		"&DurationSeconds=3600&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FReadOnlyAccess" +
		"&Tags.member.1.Key=k&Tags.member.1.Value=v&TransitiveTagKeys.member.1=k")
	got, err := mustOp(t, "sts", "AssumeRole").DecodeQuery(form)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "s1", "DurationSeconds": int64(3600),
		"PolicyArns":        []any{map[string]any{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}},
		"Tags":              []any{map[string]any{"Key": "k", "Value": "v"}},
		"TransitiveTagKeys": []any{"k"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
}

// testShape builds an ad-hoc model exercising traits the embedded query
// models do not use (flattened lists/maps, locationName, input maps).
func testOperation(t *testing.T) *Operation {
	t.Helper()
	str := &Shape{Name: "S", Type: "string"}
	num := &Shape{Name: "N", Type: "integer"}
	ts := &Shape{Name: "T", Type: "timestamp"}
	blob := &Shape{Name: "B", Type: "blob"}
	mp := &Shape{Name: "M", Type: "map", Key: &Member{Name: "key", Shape: str, LocationName: "Name"},
		Value: &Member{Name: "value", Shape: num, LocationName: "Count"}}
	plainMap := &Shape{Name: "PM", Type: "map", Key: &Member{Name: "key", Shape: str}, Value: &Member{Name: "value", Shape: str}}
	flatList := &Shape{Name: "FL", Type: "list", Flattened: true, Member: &Member{Name: "member", Shape: str}}
	namedList := &Shape{Name: "NL", Type: "list", Member: &Member{Name: "member", Shape: str, LocationName: "item"}}
	nested := &Shape{Name: "NN", Type: "list", Member: &Member{Name: "member", Shape: namedList}}
	in := &Shape{Name: "In", Type: "structure", Members: []*Member{
		{Name: "Counts", Shape: mp},
		{Name: "Attrs", Shape: plainMap},
		{Name: "Flat", Shape: flatList},
		{Name: "Named", Shape: namedList, LocationName: "NamedItems"},
		{Name: "Nested", Shape: nested},
		{Name: "When", Shape: ts},
		{Name: "Data", Shape: blob},
	}}
	in.memberIndex = map[string]*Member{}
	for _, m := range in.Members {
		in.memberIndex[m.Name] = m
	}
	svc := &Service{Name: "test", Protocol: "query", APIVersion: "2020-01-01", XMLNamespace: "urn:test",
		errorByCode: map[string]*Shape{}}
	return &Operation{Name: "Test", Service: svc, Input: in, Output: in, ResultWrapper: "TestResult"}
}

func TestDecodeQueryTraits(t *testing.T) {
	op := testOperation(t)
	form, _ := url.ParseQuery("Counts.entry.1.Name=a&Counts.entry.1.Count=1&Counts.entry.2.Name=b&Counts.entry.2.Count=2" +
		"&Attrs.entry.1.key=x&Attrs.entry.1.value=y&Attrs.entry.2.value=orphan" +
		"&Flat.1=f1&Flat.2=f2&NamedItems.item.1=n1&Nested.member.1.item.1=deep" +
		"&When=2024-03-05T07:09:11.250Z&Data=aGVsbG8%3D")
	got, err := op.DecodeQuery(form)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Counts": map[string]any{"a": int64(1), "b": int64(2)},
		"Attrs":  map[string]any{"x": "y"},
		"Flat":   []any{"f1", "f2"},
		"Named":  []any{"n1"},
		"Nested": []any{[]any{"deep"}},
		"When":   time.Date(2024, 3, 5, 7, 9, 11, 250e6, time.UTC),
		"Data":   []byte("hello"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
}

func TestDecodeQueryValidation(t *testing.T) {
	long := strings.Repeat("a", 65)
	tests := []struct {
		svc, op, form, code, msg string
	}{
		{"iam", "CreateUser", "", "ValidationError",
			"1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null"},
		{"iam", "CreateUser", "UserName=" + long, "ValidationError",
			"1 validation error detected: Value '" + long + "' at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		{"iam", "CreateUser", "UserName=", "ValidationError",
			"2 validation errors detected: Value '' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+; " +
				"Value '' at 'userName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"iam", "CreateUser", "UserName=a%20b", "ValidationError",
			"1 validation error detected: Value 'a b' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"},
		{"iam", "CreateUser", "UserName=a&Tags.member.1.Key=k", "ValidationError",
			"1 validation error detected: Value null at 'tags.1.member.value' failed to satisfy constraint: Member must not be null"},
		{"iam", "ListUsers", "MaxItems=0", "ValidationError",
			"1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"iam", "ListUsers", "MaxItems=1001", "ValidationError",
			"1 validation error detected: Value '1001' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000"},
		{"iam", "UpdateAccessKey", "AccessKeyId=AKIAIOSFODNN7EXAMPLE&Status=Bogus", "ValidationError",
			"1 validation error detected: Value 'Bogus' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive, Expired]"},
		{"iam", "GetAccountAuthorizationDetails", "Filter.member.1=Nope", "ValidationError",
			"1 validation error detected: Value '[Nope]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]]"},
		// Sensitive values are not echoed.
		{"iam", "ChangePassword", "OldPassword=&NewPassword=x", "ValidationError",
			"2 validation errors detected: Value at 'oldPassword' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+; " +
				"Value at 'oldPassword' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"sts", "AssumeRole", "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=a%20b", "ValidationError",
			"1 validation error detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"},
		{"iam", "ListUsers", "MaxItems=abc", "MalformedInput", "integer must follow xsd1.1 definition"},
		{"iam", "ListUsers", "MaxItems=99999999999", "MalformedInput", ""},
		{"iam", "UpdateAccountPasswordPolicy", "RequireSymbols=yes", "MalformedInput", "boolean must follow xsd1.1 definition"},
	}
	for _, tt := range tests {
		t.Run(tt.op+"?"+tt.form, func(t *testing.T) {
			form, err := url.ParseQuery(tt.form)
			if err != nil {
				t.Fatal(err)
			}
			_, err = mustOp(t, tt.svc, tt.op).DecodeQuery(form)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Code != tt.code || e.Status != 400 || !e.Sender {
				t.Errorf("got %s/%d/%v, want %s/400/Sender", e.Code, e.Status, e.Sender, tt.code)
			}
			if tt.msg != "" && e.Message != tt.msg {
				t.Errorf("message\n got: %s\nwant: %s", e.Message, tt.msg)
			}
		})
	}
}
