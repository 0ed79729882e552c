package awsproto

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

func TestEncodeQuery(t *testing.T) {
	created := time.Date(2024, 1, 2, 3, 4, 5, 999e6, time.UTC)
	tests := []struct {
		svc, op string
		out     map[string]any
		want    string
	}{
		{"iam", "GetUser", map[string]any{"User": map[string]any{
			"UserName": "alice", "UserId": "AIDAEXAMPLE", "Arn": "arn:aws:iam::123456789012:user/alice",
			"Path": "/", "CreateDate": created, "PasswordLastUsed": nil,
			"Tags": []map[string]any{{"Key": "a&b", "Value": "<v>"}},
		}}, `<GetUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetUserResult><User>` +
			`<Arn>arn:aws:iam::123456789012:user/alice</Arn><CreateDate>2024-01-02T03:04:05Z</CreateDate><Path>/</Path>` +
			`<Tags><member><Key>a&amp;b</Key><Value>&lt;v&gt;</Value></member></Tags><UserId>AIDAEXAMPLE</UserId><UserName>alice</UserName>` +
			`</User></GetUserResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetUserResponse>`},
		// Empty lists are written as empty elements; booleans as true/false.
		{"iam", "ListUsers", map[string]any{"Users": []any{}, "IsTruncated": false},
			`<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListUsersResult><IsTruncated>false</IsTruncated>` +
				`<Users></Users></ListUsersResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></ListUsersResponse>`},
		// Map shapes use entry/key/value; tolerated map[string]int.
		{"iam", "GetAccountSummary", map[string]any{"SummaryMap": map[string]int{"Users": 3, "Groups": 1}},
			`<GetAccountSummaryResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetAccountSummaryResult><SummaryMap>` +
				`<entry><key>Groups</key><value>1</value></entry><entry><key>Users</key><value>3</value></entry>` +
				`</SummaryMap></GetAccountSummaryResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetAccountSummaryResponse>`},
		// No output shape: no result element.
		{"iam", "DeleteUser", nil,
			`<DeleteUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></DeleteUserResponse>`},
		// A nil document for an op with output still yields its Result element.
		{"iam", "GetAccountPasswordPolicy", nil,
			`<GetAccountPasswordPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetAccountPasswordPolicyResult></GetAccountPasswordPolicyResult>` +
				`<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetAccountPasswordPolicyResponse>`},
		// Blobs are base64.
		{"iam", "GetCredentialReport", map[string]any{"Content": []byte("a,b\n"), "ReportFormat": "text/csv"},
			`<GetCredentialReportResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetCredentialReportResult><Content>YSxiCg==</Content>` +
				`<ReportFormat>text/csv</ReportFormat></GetCredentialReportResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetCredentialReportResponse>`},
		{"sts", "GetCallerIdentity", map[string]any{"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:root", "UserId": "123456789012", "Unknown": "ignored"},
			`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Account>123456789012</Account>` +
				`<Arn>arn:aws:iam::123456789012:root</Arn><UserId>123456789012</UserId></GetCallerIdentityResult>` +
				`<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			got, err := mustOp(t, tt.svc, tt.op).EncodeQuery(tt.out, "req-1")
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("\n got: %s\nwant: %s", got, tt.want)
			}
			if err := xml.Unmarshal(got, new(struct{})); err != nil {
				t.Errorf("not well-formed XML: %v", err)
			}
		})
	}
}

func TestEncodeQueryNested(t *testing.T) {
	// GetAccountAuthorizationDetails: lists of structures containing lists of
	// structures (policy versions, attached policies, tags).
	out := map[string]any{
		"UserDetailList": []any{map[string]any{
			"UserName": "u", "UserId": "AIDA", "Arn": "arn:aws:iam::1:user/u", "Path": "/",
			"CreateDate":              time.Unix(0, 0),
			"GroupList":               []string{"g1", "g2"},
			"AttachedManagedPolicies": []any{map[string]any{"PolicyName": "p", "PolicyArn": "arn:aws:iam::aws:policy/p"}},
			"UserPolicyList":          []any{map[string]any{"PolicyName": "inline", "PolicyDocument": "%7B%7D"}},
		}},
		"Policies": []any{map[string]any{
			"PolicyName": "p", "IsAttachable": true, "AttachmentCount": int32(2),
			"PolicyVersionList": []any{map[string]any{"VersionId": "v1", "IsDefaultVersion": true, "Document": "%7B%7D"}},
		}},
		"IsTruncated": true, "Marker": "m",
	}
	got, err := mustOp(t, "iam", "GetAccountAuthorizationDetails").EncodeQuery(out, "r")
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{
		`<UserDetailList><member><Arn>arn:aws:iam::1:user/u</Arn><AttachedManagedPolicies><member><PolicyArn>arn:aws:iam::aws:policy/p</PolicyArn><PolicyName>p</PolicyName></member></AttachedManagedPolicies>`,
		`<CreateDate>1970-01-01T00:00:00Z</CreateDate><GroupList><member>g1</member><member>g2</member></GroupList>`,
		`<UserPolicyList><member><PolicyDocument>%7B%7D</PolicyDocument><PolicyName>inline</PolicyName></member></UserPolicyList>`,
		`<Policies><member><AttachmentCount>2</AttachmentCount><IsAttachable>true</IsAttachable><PolicyName>p</PolicyName><PolicyVersionList><member><Document>%7B%7D</Document><IsDefaultVersion>true</IsDefaultVersion><VersionId>v1</VersionId></member></PolicyVersionList></member></Policies>`,
		`<IsTruncated>true</IsTruncated><Marker>m</Marker>`,
	} {
		if !strings.Contains(string(got), frag) {
			t.Errorf("missing %s\nin %s", frag, got)
		}
	}
}

func TestEncodeQueryTraits(t *testing.T) {
	op := testOperation(t)
	out := map[string]any{
		"Counts": map[string]int64{"a": 1},
		"Attrs":  map[string]string{"k": "v"},
		"Flat":   []string{"f1", "f2"},
		"Named":  []any{"n1", nil},
		"Nested": []any{[]any{"deep"}},
		"When":   time.Date(2024, 3, 5, 7, 9, 11, 0, time.FixedZone("x", 3600)),
		"Data":   []byte{0xff},
	}
	got, err := op.EncodeQuery(out, "id")
	if err != nil {
		t.Fatal(err)
	}
	want := `<TestResponse xmlns="urn:test"><TestResult><Counts><entry><Name>a</Name><Count>1</Count></entry></Counts>` +
		`<Attrs><entry><key>k</key><value>v</value></entry></Attrs><Flat>f1</Flat><Flat>f2</Flat>` +
		`<NamedItems><item>n1</item></NamedItems><Nested><member><item>deep</item></member></Nested>` +
		`<When>2024-03-05T06:09:11Z</When><Data>/w==</Data></TestResult><ResponseMetadata><RequestId>id</RequestId></ResponseMetadata></TestResponse>`
	if string(got) != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
}

func TestEncodeQueryTypeErrors(t *testing.T) {
	tests := []map[string]any{
		{"User": "not a struct"},
		{"User": map[string]any{"UserName": 5}},
		{"User": map[string]any{"CreateDate": "yesterday"}},
		{"User": map[string]any{"Tags": "x"}},
	}
	for _, out := range tests {
		if _, err := mustOp(t, "iam", "GetUser").EncodeQuery(out, "r"); err == nil {
			t.Errorf("EncodeQuery(%v) succeeded, want error", out)
		}
	}
}

func TestAppendEscaped(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{`<a href="x">&'`, "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"},
		{"line\nbreak\r\ttab", "line&#xA;break&#xD;&#x9;tab"},
		{"ctl\x00\x1b", "ctl\uFFFD\uFFFD"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
		{"ünï😀", "ünï😀"},
		{"\uFFFE", "\uFFFD"},
	}
	for _, tt := range tests {
		if got := string(appendEscaped(nil, tt.in)); got != tt.want {
			t.Errorf("appendEscaped(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEncodeQueryError(t *testing.T) {
	iam := LookupService("iam")
	tests := []struct {
		e    *Error
		want string
	}{
		{iam.NewError("NoSuchEntity", "The user with name bob cannot be found."),
			`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>` +
				`<Message>The user with name bob cannot be found.</Message></Error><RequestId>rid</RequestId></ErrorResponse>`},
		{iam.NewError("ServiceFailure", "x < y"),
			`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Receiver</Type><Code>ServiceFailure</Code>` +
				`<Message>x &lt; y</Message></Error><RequestId>rid</RequestId></ErrorResponse>`},
	}
	for _, tt := range tests {
		if got := string(iam.EncodeQueryError(tt.e, "rid")); got != tt.want {
			t.Errorf("\n got: %s\nwant: %s", got, tt.want)
		}
	}
}

func TestNewError(t *testing.T) {
	tests := []struct {
		svc, code, wantCode string
		status              int
		sender              bool
	}{
		{"iam", "NoSuchEntity", "NoSuchEntity", 404, true},
		{"iam", "NoSuchEntityException", "NoSuchEntity", 404, true}, // by shape name
		{"iam", "EntityAlreadyExists", "EntityAlreadyExists", 409, true},
		{"iam", "ServiceFailure", "ServiceFailure", 500, false},
		{"iam", "AccessDenied", "AccessDenied", 403, true},
		{"iam", "InternalFailure", "InternalFailure", 500, false},
		{"iam", "Whatever", "Whatever", 400, true},
		{"sts", "ExpiredTokenException", "ExpiredTokenException", 400, true},
		{"sts", "RegionDisabledException", "RegionDisabledException", 403, true},
		{"organizations", "AWSOrganizationsNotInUseException", "AWSOrganizationsNotInUseException", 400, true},
		{"organizations", "ServiceException", "ServiceException", 500, false},
		{"account", "ResourceNotFoundException", "ResourceNotFoundException", 404, true},
		{"account", "TooManyRequestsException", "TooManyRequestsException", 429, true},
	}
	for _, tt := range tests {
		e := LookupService(tt.svc).NewError(tt.code, "m")
		if e.Code != tt.wantCode || e.Status != tt.status || e.Sender != tt.sender || e.Message != "m" {
			t.Errorf("%s %s = %+v", tt.svc, tt.code, e)
		}
	}
	if got := (&Error{Code: "C", Message: "m"}).Error(); got != "C: m" {
		t.Errorf("Error() = %q", got)
	}
}

func TestUnsupportedOperation(t *testing.T) {
	tests := []struct {
		svc, code, msg string
		status         int
	}{
		{"iam", "InvalidAction", "Could not find operation Nope for version 2010-05-08", 400},
		{"sts", "InvalidAction", "Could not find operation Nope for version 2011-06-15", 400},
		{"organizations", "UnknownOperationException", "", 400},
		{"account", "UnknownOperationException", "", 404},
	}
	for _, tt := range tests {
		e := UnsupportedOperation(LookupService(tt.svc), "Nope")
		if e.Code != tt.code || e.Message != tt.msg || e.Status != tt.status || !e.Sender {
			t.Errorf("%s: %+v", tt.svc, e)
		}
	}
}
