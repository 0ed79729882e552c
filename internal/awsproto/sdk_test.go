package awsproto

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// These tests serve responses produced by this package to the real
// aws-sdk-go-v2 clients, proving the SDK deserializers accept them, and
// decode the SDK's own requests with this package's decoders.

type handlerFunc func(op *Operation, in map[string]any) (map[string]any, *Error)

// queryServer is a minimal query-protocol server built on this package.
func queryServer(t *testing.T, svc string, h handlerFunc) *httptest.Server {
	s := LookupService(svc)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("ParseForm: %v", err)
		}
		writeErr := func(e *Error) {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(e.Status)
			_, _ = w.Write(s.EncodeQueryError(e, "req-err"))
		}
		op := s.Operations[r.PostForm.Get("Action")]
		if op == nil {
			writeErr(UnsupportedOperation(s, r.PostForm.Get("Action")))
			return
		}
		in, err := op.DecodeQuery(r.PostForm)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("DecodeQuery: %v", err)
			}
			writeErr(e)
			return
		}
		out, e := h(op, in)
		if e != nil {
			writeErr(e)
			return
		}
		body, err := op.EncodeQuery(out, "req-123")
		if err != nil {
			t.Errorf("EncodeQuery: %v", err)
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

var testCreds = credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", "")

func iamClient(url string) *iam.Client {
	return iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: testCreds, RetryMaxAttempts: 1})
}

func TestSDKIAM(t *testing.T) {
	created := time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC)
	user := func(name string) map[string]any {
		return map[string]any{"UserName": name, "UserId": "AIDA" + name, "Arn": "arn:aws:iam::123456789012:user/" + name,
			"Path": "/", "CreateDate": created}
	}
	var gotCreate map[string]any
	srv := queryServer(t, "iam", func(op *Operation, in map[string]any) (map[string]any, *Error) {
		switch op.Name {
		case "CreateUser":
			gotCreate = in
			u := user(Str(in, "UserName"))
			u["Tags"] = in["Tags"]
			return map[string]any{"User": u}, nil
		case "GetUser":
			if Str(in, "UserName") == "missing" {
				return nil, op.Service.NewError("NoSuchEntity", "The user with name missing cannot be found.")
			}
			u := user(Str(in, "UserName"))
			u["PasswordLastUsed"] = created.Add(time.Hour)
			return map[string]any{"User": u}, nil
		case "ListUsers":
			return map[string]any{"Users": []any{user("a"), user("b")}, "IsTruncated": true, "Marker": "next"}, nil
		case "CreateAccessKey":
			return map[string]any{"AccessKey": map[string]any{"UserName": Str(in, "UserName"), "AccessKeyId": "AKIANEW",
				"SecretAccessKey": "s3cr3t/+=", "Status": "Active", "CreateDate": created}}, nil
		case "GetAccountSummary":
			return map[string]any{"SummaryMap": map[string]int64{"Users": 2, "UsersQuota": 5000}}, nil
		}
		return nil, UnsupportedOperation(op.Service, op.Name)
	})
	c := iamClient(srv.URL)
	ctx := context.Background()

	cu, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/"),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("core")}}})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if aws.ToString(cu.User.UserName) != "alice" || len(cu.User.Tags) != 1 || aws.ToString(cu.User.Tags[0].Value) != "core" ||
		!aws.ToTime(cu.User.CreateDate).Equal(created) {
		t.Errorf("CreateUser result %+v", cu.User)
	}
	if want := []any{map[string]any{"Key": "team", "Value": "core"}}; !equalDoc(gotCreate["Tags"], want) {
		t.Errorf("server decoded Tags %#v", gotCreate["Tags"])
	}

	gu, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if aws.ToString(gu.User.Arn) != "arn:aws:iam::123456789012:user/bob" || !aws.ToTime(gu.User.PasswordLastUsed).Equal(created.Add(time.Hour)) {
		t.Errorf("GetUser result %+v", gu.User)
	}

	lu, err := c.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(2)})
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if len(lu.Users) != 2 || aws.ToString(lu.Users[1].UserName) != "b" || !lu.IsTruncated || aws.ToString(lu.Marker) != "next" {
		t.Errorf("ListUsers result %+v", lu)
	}

	ak, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatalf("CreateAccessKey: %v", err)
	}
	if aws.ToString(ak.AccessKey.SecretAccessKey) != "s3cr3t/+=" || ak.AccessKey.Status != iamtypes.StatusTypeActive {
		t.Errorf("CreateAccessKey result %+v", ak.AccessKey)
	}

	sum, err := c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if err != nil {
		t.Fatalf("GetAccountSummary: %v", err)
	}
	if sum.SummaryMap["Users"] != 2 || sum.SummaryMap["UsersQuota"] != 5000 {
		t.Errorf("SummaryMap %v", sum.SummaryMap)
	}

	_, err = c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("missing")})
	var nse *iamtypes.NoSuchEntityException
	if !errors.As(err, &nse) || nse.ErrorCode() != "NoSuchEntity" || nse.ErrorMessage() != "The user with name missing cannot be found." {
		t.Errorf("GetUser(missing) err = %v", err)
	}

	// Server-side validation surfaces as the SDK's generic API error.
	_, err = c.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(5000)})
	assertAPIError(t, err, "ValidationError",
		"1 validation error detected: Value '5000' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000")

	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("x")})
	assertAPIError(t, err, "InvalidAction", "Could not find operation DeleteUser for version 2010-05-08")
}

func TestSDKSTS(t *testing.T) {
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var got map[string]any
	srv := queryServer(t, "sts", func(op *Operation, in map[string]any) (map[string]any, *Error) {
		got = in
		return map[string]any{
			"Credentials":      map[string]any{"AccessKeyId": "ASIA", "SecretAccessKey": "sk", "SessionToken": "tok", "Expiration": exp},
			"AssumedRoleUser":  map[string]any{"AssumedRoleId": "AROA:s", "Arn": "arn:aws:sts::123456789012:assumed-role/r/s"},
			"PackedPolicySize": 7, "SourceIdentity": "me",
		}, nil
	})
	c := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: testCreds, RetryMaxAttempts: 1})
	out, err := c.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::123456789012:role/r"), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(900),
		PolicyArns: []ststypes.PolicyDescriptorType{{Arn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}},
		Tags:       []ststypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
	})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	if aws.ToString(out.Credentials.SessionToken) != "tok" || !aws.ToTime(out.Credentials.Expiration).Equal(exp) ||
		aws.ToString(out.SourceIdentity) != "me" || aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::123456789012:assumed-role/r/s" {
		t.Errorf("AssumeRole result %+v", out)
	}
	want := map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "s1", "DurationSeconds": int64(900),
		"PolicyArns": []any{map[string]any{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}},
		"Tags":       []any{map[string]any{"Key": "k", "Value": "v"}}}
	if !equalDoc(got, want) {
		t.Errorf("server decoded %#v", got)
	}
}

func assertAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae interface {
		ErrorCode() string
		ErrorMessage() string
	}
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want an API error", err)
	}
	if ae.ErrorCode() != code || ae.ErrorMessage() != msg {
		t.Errorf("got %s %q, want %s %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

// jsonServer is a minimal JSON 1.1 server built on this package.
func jsonServer(t *testing.T, svc string, h handlerFunc) *httptest.Server {
	s := LookupService(svc)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		writeErr := func(e *Error) {
			b, hdr := s.EncodeJSONError(e)
			for k, v := range hdr {
				w.Header()[k] = v
			}
			w.WriteHeader(e.Status)
			_, _ = w.Write(b)
		}
		op := s.OperationForTarget(r.Header.Get("X-Amz-Target"))
		if op == nil {
			writeErr(UnsupportedOperation(s, r.Header.Get("X-Amz-Target")))
			return
		}
		in, err := op.DecodeJSON(body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("DecodeJSON: %v", err)
			}
			writeErr(e)
			return
		}
		out, e := h(op, in)
		if e != nil {
			writeErr(e)
			return
		}
		b, err := op.EncodeJSON(out)
		if err != nil {
			t.Errorf("EncodeJSON: %v", err)
		}
		w.Header().Set("Content-Type", JSONContentType)
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSDKOrganizations(t *testing.T) {
	joined := time.Date(2022, 2, 3, 4, 5, 6, 500e6, time.UTC)
	var got map[string]any
	srv := jsonServer(t, "organizations", func(op *Operation, in map[string]any) (map[string]any, *Error) {
		got = in
		switch op.Name {
		case "DescribeAccount":
			if Str(in, "AccountId") == "000000000000" {
				e := op.Service.NewError("AccountNotFoundException", "You specified an account that doesn't exist.")
				return nil, e
			}
			return map[string]any{"Account": map[string]any{"Id": Str(in, "AccountId"), "Name": "dev", "Email": "d@example.com",
				"Status": "ACTIVE", "JoinedMethod": "CREATED", "JoinedTimestamp": joined,
				"Arn": "arn:aws:organizations::111111111111:account/o-abcdefghij/" + Str(in, "AccountId")}}, nil
		case "ListAccounts":
			return map[string]any{"Accounts": []any{map[string]any{"Id": "222222222222", "Name": "a"}}, "NextToken": "t"}, nil
		case "CreateAccount":
			return nil, &Error{Code: "ConstraintViolationException", Message: "too many", Status: 400, Sender: true,
				Fields: map[string]any{"Reason": "ACCOUNT_NUMBER_LIMIT_EXCEEDED"}}
		}
		return nil, UnsupportedOperation(op.Service, op.Name)
	})
	c := organizations.New(organizations.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: testCreds, RetryMaxAttempts: 1})
	ctx := context.Background()

	da, err := c.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("123456789012")})
	if err != nil {
		t.Fatalf("DescribeAccount: %v", err)
	}
	a := da.Account
	if aws.ToString(a.Id) != "123456789012" || a.Status != orgtypes.AccountStatusActive || !aws.ToTime(a.JoinedTimestamp).Equal(joined) {
		t.Errorf("DescribeAccount result %+v", a)
	}

	la, err := c.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(5)})
	if err != nil {
		t.Fatalf("ListAccounts: %v", err)
	}
	if len(la.Accounts) != 1 || aws.ToString(la.NextToken) != "t" || !equalDoc(got, map[string]any{"MaxResults": int64(5)}) {
		t.Errorf("ListAccounts result %+v, decoded %#v", la, got)
	}

	_, err = c.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("000000000000")})
	var anf *orgtypes.AccountNotFoundException
	if !errors.As(err, &anf) || anf.ErrorMessage() != "You specified an account that doesn't exist." {
		t.Errorf("DescribeAccount(missing) err = %v", err)
	}

	_, err = c.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("n"), Email: aws.String("n@example.com")})
	var cve *orgtypes.ConstraintViolationException
	if !errors.As(err, &cve) || cve.Reason != orgtypes.ConstraintViolationExceptionReasonAccountNumberLimitExceeded || cve.ErrorMessage() != "too many" {
		t.Errorf("CreateAccount err = %v", err)
	}

	// Server-side validation (the SDK does not check patterns).
	_, err = c.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("12")})
	assertAPIError(t, err, "ValidationException",
		"1 validation error detected: Value '12' at 'accountId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^\\d{12}$")

	_, err = c.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{})
	assertAPIError(t, err, "UnknownOperationException", "UnknownError") // the SDK's placeholder for an absent message
}

// equalDoc compares documents structurally, including value types; NaN
// equals NaN so fuzzed doubles compare.
func equalDoc(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || (math.IsNaN(x) && math.IsNaN(y)))
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !equalDoc(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalDoc(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func TestSDKIAMAuthorizationDetails(t *testing.T) {
	created := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	used := created.Add(48 * time.Hour)
	var gotFilter []any
	srv := queryServer(t, "iam", func(op *Operation, in map[string]any) (map[string]any, *Error) {
		gotFilter = List(in, "Filter")
		role := map[string]any{"RoleName": "r", "RoleId": "AROA1", "Arn": "arn:aws:iam::123456789012:role/r", "Path": "/",
			"CreateDate": created, "AssumeRolePolicyDocument": "%7B%7D", "Tags": []any{map[string]any{"Key": "k", "Value": "v"}},
			"RoleLastUsed": map[string]any{"LastUsedDate": used, "Region": "us-east-1"}}
		return map[string]any{
			"UserDetailList": []any{map[string]any{"UserName": "u", "UserId": "AIDA1", "Arn": "arn:aws:iam::123456789012:user/u",
				"Path": "/", "CreateDate": created, "GroupList": []string{"admins"},
				"UserPolicyList":          []any{map[string]any{"PolicyName": "inline", "PolicyDocument": "%7B%7D"}},
				"AttachedManagedPolicies": []any{map[string]any{"PolicyName": "ro", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}}}},
			"RoleDetailList": []any{map[string]any{"RoleName": "r", "RoleId": "AROA1", "Arn": "arn:aws:iam::123456789012:role/r",
				"Path": "/", "CreateDate": created, "RoleLastUsed": role["RoleLastUsed"],
				"InstanceProfileList": []any{map[string]any{"InstanceProfileName": "ip", "InstanceProfileId": "AIPA1",
					"Arn": "arn:aws:iam::123456789012:instance-profile/ip", "Path": "/", "CreateDate": created, "Roles": []any{role}}}}},
			"Policies": []any{map[string]any{"PolicyName": "p", "PolicyId": "ANPA1", "Arn": "arn:aws:iam::123456789012:policy/p",
				"DefaultVersionId": "v2", "AttachmentCount": 3, "IsAttachable": true, "CreateDate": created, "UpdateDate": used,
				"PolicyVersionList": []any{
					map[string]any{"VersionId": "v1", "IsDefaultVersion": false, "Document": "%7B%7D", "CreateDate": created},
					map[string]any{"VersionId": "v2", "IsDefaultVersion": true, "Document": "%7B%22a%22%7D", "CreateDate": used},
				}}},
			"GroupDetailList": []any{},
			"IsTruncated":     false,
		}, nil
	})
	out, err := iamClient(srv.URL).GetAccountAuthorizationDetails(context.Background(), &iam.GetAccountAuthorizationDetailsInput{
		Filter: []iamtypes.EntityType{iamtypes.EntityTypeUser, iamtypes.EntityTypeRole}})
	if err != nil {
		t.Fatal(err)
	}
	if !equalDoc(gotFilter, []any{"User", "Role"}) {
		t.Errorf("decoded filter %v", gotFilter)
	}
	u := out.UserDetailList[0]
	if u.GroupList[0] != "admins" || aws.ToString(u.UserPolicyList[0].PolicyName) != "inline" ||
		aws.ToString(u.AttachedManagedPolicies[0].PolicyArn) != "arn:aws:iam::aws:policy/ReadOnlyAccess" {
		t.Errorf("user detail %+v", u)
	}
	r := out.RoleDetailList[0]
	ipRole := r.InstanceProfileList[0].Roles[0]
	if !aws.ToTime(r.RoleLastUsed.LastUsedDate).Equal(used) || aws.ToString(ipRole.Tags[0].Value) != "v" ||
		aws.ToString(ipRole.AssumeRolePolicyDocument) != "%7B%7D" {
		t.Errorf("role detail %+v", r)
	}
	p := out.Policies[0]
	if aws.ToInt32(p.AttachmentCount) != 3 || !p.IsAttachable || len(p.PolicyVersionList) != 2 ||
		!p.PolicyVersionList[1].IsDefaultVersion || aws.ToString(p.PolicyVersionList[1].Document) != "%7B%22a%22%7D" {
		t.Errorf("policy detail %+v", p)
	}
	if out.GroupDetailList == nil || len(out.GroupDetailList) != 0 || out.IsTruncated {
		t.Errorf("group list %v truncated %v", out.GroupDetailList, out.IsTruncated)
	}
}
