package awsproto

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestJSONRoundTripAllOperations builds model-valid input and output
// documents for every JSON and rest-json operation and checks they survive
// encode→decode unchanged, input documents through DecodeJSON (and so
// through validation).
func TestJSONRoundTripAllOperations(t *testing.T) {
	for _, svc := range []string{"organizations", "cloudtrail", "budgets", "account"} {
		s := LookupService(svc)
		for _, name := range sortedKeys(s.Operations) {
			op := s.Operations[name]
			t.Run(svc+"/"+name, func(t *testing.T) {
				if op.Input != nil {
					want := newSampler().structure(op.Input)
					body, err := appendJSONStruct(nil, op.Input, want, false)
					if err != nil {
						t.Fatalf("encode input: %v", err)
					}
					if !json.Valid(body) {
						t.Fatalf("invalid JSON %s", body)
					}
					got, err := op.DecodeJSON(body)
					if err != nil {
						t.Fatalf("DecodeJSON: %v\nbody: %s", err, body)
					}
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("input mismatch\n got: %#v\nwant: %#v", got, want)
					}
				}
				if op.Output != nil {
					want := newSampler().structure(op.Output)
					body, err := op.EncodeJSON(want)
					if err != nil {
						t.Fatalf("EncodeJSON: %v", err)
					}
					raw, err := parseJSON(body)
					if err != nil {
						t.Fatalf("output is not JSON: %v\n%s", err, body)
					}
					got := map[string]any{}
					if err := (jsonDecoder{svc: s}).structure(op.Output, raw.(map[string]any), got); err != nil {
						t.Fatalf("decode output: %v", err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("output mismatch\n got: %#v\nwant: %#v", got, want)
					}
				}
			})
		}
	}
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		svc, op, body string
		want          map[string]any
	}{
		{"organizations", "CreateAccount", `{"AccountName":"dev","Email":"dev@example.com","IamUserAccessToBilling":"ALLOW",` +
			`"Tags":[{"Key":"k","Value":"v"}],"Unknown":{"x":1}}`,
			map[string]any{"AccountName": "dev", "Email": "dev@example.com", "IamUserAccessToBilling": "ALLOW",
				"Tags": []any{map[string]any{"Key": "k", "Value": "v"}}}},
		{"organizations", "ListAccounts", `{"MaxResults":20,"NextToken":null}`, map[string]any{"MaxResults": int64(20)}},
		{"organizations", "ListAccounts", ``, map[string]any{}},
		{"organizations", "ListAccounts", `  {}  `, map[string]any{}},
		{"organizations", "ListAccounts", `null`, map[string]any{}},
		{"organizations", "TagResource", `{"ResourceId":"123456789012","Tags":[]}`,
			map[string]any{"ResourceId": "123456789012", "Tags": []any{}}},
		// Timestamps: epoch seconds, fractional seconds and ISO 8601 strings.
		{"cloudtrail", "LookupEvents", `{"StartTime":1700000000,"EndTime":1700000000.5,"MaxResults":5}`,
			map[string]any{"StartTime": time.Unix(1700000000, 0).UTC(), "EndTime": time.Unix(1700000000, 500e6).UTC(), "MaxResults": int64(5)}},
		{"cloudtrail", "LookupEvents", `{"StartTime":"2023-11-14T22:13:20Z"}`,
			map[string]any{"StartTime": time.Unix(1700000000, 0).UTC()}},
		// Maps of lists; doubles.
		{"budgets", "CreateNotification", `{"AccountId":"123456789012","BudgetName":"b","Notification":{"NotificationType":"ACTUAL",` +
			`"ComparisonOperator":"GREATER_THAN","Threshold":80.5},"Subscribers":[{"SubscriptionType":"EMAIL","Address":"a@example.com"}]}`,
			map[string]any{"AccountId": "123456789012", "BudgetName": "b",
				"Notification": map[string]any{"NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN", "Threshold": 80.5},
				"Subscribers":  []any{map[string]any{"SubscriptionType": "EMAIL", "Address": "a@example.com"}}}},
		{"budgets", "CreateBudget", `{"AccountId":"123456789012","Budget":{"BudgetName":"b","TimeUnit":"MONTHLY","BudgetType":"COST",` +
			`"CostFilters":{"Service":["EC2","S3"]},"BudgetLimit":{"Amount":"10","Unit":"USD"}}}`,
			map[string]any{"AccountId": "123456789012", "Budget": map[string]any{"BudgetName": "b", "TimeUnit": "MONTHLY", "BudgetType": "COST",
				"CostFilters": map[string]any{"Service": []any{"EC2", "S3"}}, "BudgetLimit": map[string]any{"Amount": "10", "Unit": "USD"}}}},
		{"organizations", "EnableAllFeatures", `{}`, map[string]any{}},
		{"organizations", "UpdateOrganizationalUnit", `{"OrganizationalUnitId":"ou-ab12-abcdefgh","Name":"n"}`,
			map[string]any{"OrganizationalUnitId": "ou-ab12-abcdefgh", "Name": "n"}},
	}
	for _, tt := range tests {
		t.Run(tt.op+" "+tt.body, func(t *testing.T) {
			got, err := mustOp(t, tt.svc, tt.op).DecodeJSON([]byte(tt.body))
			if err != nil {
				t.Fatalf("DecodeJSON: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	tests := []struct {
		svc, op, body, code, msg string
	}{
		{"organizations", "ListAccounts", `{`, "SerializationException", ""},
		{"organizations", "ListAccounts", `{} {}`, "SerializationException", ""},
		{"organizations", "ListAccounts", `[]`, "SerializationException", ""},
		{"organizations", "ListAccounts", `{"MaxResults":"5"}`, "SerializationException", "STRING_VALUE can not be converted to an Integer"},
		{"organizations", "ListAccounts", `{"MaxResults":1.5}`, "SerializationException", ""},
		{"organizations", "ListAccounts", `{"MaxResults":99999999999}`, "SerializationException", ""},
		{"organizations", "ListAccounts", `{"NextToken":{}}`, "SerializationException", "Start of structure or map found where not expected."},
		{"organizations", "CreateAccount", `{"AccountName":"a","Email":"a@b.co","Tags":{}}`, "SerializationException", ""},
		{"organizations", "CreateAccount", `{"AccountName":"a","Email":"a@b.co","Tags":[1]}`, "SerializationException", ""},
		{"cloudtrail", "LookupEvents", `{"StartTime":"yesterday"}`, "SerializationException", ""},
		{"cloudtrail", "LookupEvents", `{"StartTime":true}`, "SerializationException", ""},
		{"organizations", "ListAccounts", `{"MaxResults":0}`, "ValidationException",
			"1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"organizations", "CreateAccount", `{"Email":"a@b.co"}`, "ValidationException",
			"1 validation error detected: Value null at 'accountName' failed to satisfy constraint: Member must not be null"},
		{"organizations", "CreateAccount", `{"AccountName":"a","Email":"a@b.co","Tags":[{"Key":"k"}]}`, "ValidationException",
			"1 validation error detected: Value null at 'tags.1.member.value' failed to satisfy constraint: Member must not be null"},
		{"organizations", "CreateAccount", `{"AccountName":"a","Email":"a@b.co","IamUserAccessToBilling":"MAYBE"}`, "ValidationException",
			"1 validation error detected: Value 'MAYBE' at 'iamUserAccessToBilling' failed to satisfy constraint: Member must satisfy enum value set: [ALLOW, DENY]"},
	}
	for _, tt := range tests {
		t.Run(tt.op+" "+tt.body, func(t *testing.T) {
			_, err := mustOp(t, tt.svc, tt.op).DecodeJSON([]byte(tt.body))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Code != tt.code || e.Status != 400 || !e.Sender {
				t.Errorf("got %+v, want %s", e, tt.code)
			}
			if tt.msg != "" && e.Message != tt.msg {
				t.Errorf("message\n got: %s\nwant: %s", e.Message, tt.msg)
			}
		})
	}
}

func TestEncodeJSON(t *testing.T) {
	ts := time.Date(2022, 2, 3, 4, 5, 6, 0, time.UTC)
	tests := []struct {
		svc, op string
		out     map[string]any
		want    string
	}{
		{"organizations", "DescribeAccount", map[string]any{"Account": map[string]any{
			"Id": "123456789012", "Name": "a \"q\" \\ \n\u2028", "JoinedTimestamp": ts, "Status": "ACTIVE", "Email": nil}},
			`{"Account":{"Id":"123456789012","JoinedTimestamp":1643861106,"Name":"a \"q\" \\ \n` + "\u2028" + `","Status":"ACTIVE"}}`},
		{"organizations", "DescribeAccount", map[string]any{"Account": map[string]any{"JoinedTimestamp": ts.Add(250 * time.Millisecond)}},
			`{"Account":{"JoinedTimestamp":1643861106.25}}`},
		{"organizations", "ListAccounts", map[string]any{"Accounts": []map[string]any{}}, `{"Accounts":[]}`},
		{"organizations", "DeleteOrganization", nil, `{}`},
		{"organizations", "ListAccounts", nil, `{}`},
		{"organizations", "ListRoots", map[string]any{"Roots": []any{map[string]any{"Id": "r-ab12", "PolicyTypes": []any{
			map[string]any{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}}}}},
			`{"Roots":[{"Id":"r-ab12","PolicyTypes":[{"Status":"ENABLED","Type":"SERVICE_CONTROL_POLICY"}]}]}`},
		{"budgets", "DescribeNotificationsForBudget", map[string]any{"Notifications": []any{map[string]any{"Threshold": 80.5, "NotificationState": "OK"}}},
			`{"Notifications":[{"NotificationState":"OK","Threshold":80.5}]}`},
		{"budgets", "DescribeBudget", map[string]any{"Budget": map[string]any{"CostFilters": map[string][]string{"Service": {"EC2"}},
			"CostTypes": map[string]any{"IncludeTax": true}}},
			`{"Budget":{"CostFilters":{"Service":["EC2"]},"CostTypes":{"IncludeTax":true}}}`},
		{"account", "GetAccountInformation", map[string]any{"AccountCreatedDate": ts, "AccountId": "123456789012"},
			`{"AccountCreatedDate":"2022-02-03T04:05:06Z","AccountId":"123456789012"}`},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			got, err := mustOp(t, tt.svc, tt.op).EncodeJSON(tt.out)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("\n got: %s\nwant: %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Error("invalid JSON")
			}
		})
	}
	if _, err := mustOp(t, "organizations", "DescribeAccount").EncodeJSON(map[string]any{"Account": map[string]any{"Id": 5}}); err == nil {
		t.Error("type mismatch not reported")
	}
}

func TestAppendJSONString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"a\"b\\c", `"a\"b\\c"`},
		{"\x00\x1f\t", `"\u0000\u001f\t"`},
		{"bad\xff", `"bad\ufffd"`},
		{"ünï😀", `"ünï😀"`},
	}
	for _, tt := range tests {
		got := appendJSONString(nil, tt.in)
		if string(got) != tt.want {
			t.Errorf("%q: got %s want %s", tt.in, got, tt.want)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q: %v", tt.in, err)
		}
	}
}

func TestEncodeJSONNonFinite(t *testing.T) {
	sh := &Shape{Name: "D", Type: "double"}
	m := &Member{Name: "x", Shape: sh}
	for _, tt := range []struct {
		f    float64
		want string
	}{{math.NaN(), `"NaN"`}, {math.Inf(1), `"Infinity"`}, {math.Inf(-1), `"-Infinity"`}, {1e21, `1e+21`}} {
		got, err := appendJSONValue(nil, m, tt.f)
		if err != nil || string(got) != tt.want {
			t.Errorf("%v: got %s %v", tt.f, got, err)
		}
		back, err := (jsonDecoder{svc: LookupService("budgets")}).value(m, mustParse(t, got))
		if err != nil {
			t.Errorf("decode %s: %v", got, err)
		} else if f := back.(float64); f != tt.f && !(math.IsNaN(f) && math.IsNaN(tt.f)) {
			t.Errorf("round trip %v -> %v", tt.f, f)
		}
	}
}

func mustParse(t *testing.T, b []byte) any {
	t.Helper()
	v, err := parseJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestEncodeJSONError(t *testing.T) {
	org := LookupService("organizations")
	tests := []struct {
		e    *Error
		want string
	}{
		{org.NewError("AccountNotFoundException", "nope"), `{"__type":"AccountNotFoundException","Message":"nope"}`},
		{&Error{Code: "ConstraintViolationException", Message: "m", Status: 400, Sender: true,
			Fields: map[string]any{"Reason": "ACCOUNT_NUMBER_LIMIT_EXCEEDED", "Bogus": 1}},
			`{"__type":"ConstraintViolationException","Message":"m","Reason":"ACCOUNT_NUMBER_LIMIT_EXCEEDED"}`},
		{org.NewError("ValidationException", "bad"), `{"__type":"ValidationException","message":"bad"}`},
		{UnsupportedOperation(org, "X"), `{"__type":"UnknownOperationException"}`},
	}
	for _, tt := range tests {
		body, hdr := org.EncodeJSONError(tt.e)
		if string(body) != tt.want {
			t.Errorf("\n got: %s\nwant: %s", body, tt.want)
		}
		if hdr.Get("X-Amzn-ErrorType") != tt.e.Code || hdr.Get("Content-Type") != JSONContentType {
			t.Errorf("headers %v", hdr)
		}
	}
}

func TestRESTMatch(t *testing.T) {
	acct := LookupService("account")
	tests := []struct{ method, path, want string }{
		{"POST", "/getContactInformation", "GetContactInformation"},
		{"post", "/putAccountName", "PutAccountName"},
		{"POST", "/listRegions?x=1", "ListRegions"},
		{"GET", "/getContactInformation", ""},
		{"POST", "/getContactInformation/extra", ""},
		{"POST", "/", ""},
	}
	for _, tt := range tests {
		op, _ := acct.Match(tt.method, tt.path)
		got := ""
		if op != nil {
			got = op.Name
		}
		if got != tt.want {
			t.Errorf("%s %s = %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

// TestRESTTemplates exercises URI parameters, greedy labels and query
// literals, which the Account model does not use.
func TestRESTTemplates(t *testing.T) {
	s := &Service{Name: "t", Protocol: "rest-json", Operations: map[string]*Operation{}}
	for _, o := range []struct{ name, method, uri string }{
		{"GetThing", "GET", "/things/{Id}"},
		{"ListThings", "GET", "/things"},
		{"GetSpecial", "GET", "/things/special"},
		{"GetObject", "GET", "/objects/{Key+}"},
		{"GetTagged", "GET", "/things/{Id}?tagging"},
	} {
		op := &Operation{Name: o.name, Service: s, HTTPMethod: o.method, RequestURI: o.uri}
		r, err := parseRoute(op)
		if err != nil {
			t.Fatal(err)
		}
		s.routes = append(s.routes, r)
	}
	sortRoutes(s.routes)
	tests := []struct {
		path, want string
		params     map[string]string
	}{
		{"/things/abc", "GetThing", map[string]string{"Id": "abc"}},
		{"/things/a%2Fb", "GetThing", map[string]string{"Id": "a/b"}},
		{"/things/special", "GetSpecial", map[string]string{}},
		{"/things", "ListThings", map[string]string{}},
		{"/things/abc?tagging", "GetTagged", map[string]string{"Id": "abc"}},
		{"/objects/a/b/c", "GetObject", map[string]string{"Key": "a/b/c"}},
		{"/objects", "", nil},
		{"/things/a/b", "", nil},
	}
	for _, tt := range tests {
		op, params := s.Match("GET", tt.path)
		got := ""
		if op != nil {
			got = op.Name
		}
		if got != tt.want || (tt.params != nil && !reflect.DeepEqual(params, tt.params)) {
			t.Errorf("%s = %q %v, want %q %v", tt.path, got, params, tt.want, tt.params)
		}
	}
}

func TestDecodeREST(t *testing.T) {
	op := mustOp(t, "account", "PutContactInformation")
	body := `{"AccountId":"123456789012","ContactInformation":{"FullName":"Jane","AddressLine1":"1 Main St","City":"Seattle",` +
		`"PostalCode":"98101","CountryCode":"US","PhoneNumber":"+1-206-555-0100"}}`
	got, err := op.DecodeREST(nil, nil, http.Header{}, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"AccountId": "123456789012", "ContactInformation": map[string]any{"FullName": "Jane",
		"AddressLine1": "1 Main St", "City": "Seattle", "PostalCode": "98101", "CountryCode": "US", "PhoneNumber": "+1-206-555-0100"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	_, err = op.DecodeREST(nil, nil, nil, []byte(`{"ContactInformation":{}}`))
	var e *Error
	if !errors.As(err, &e) || e.Code != "ValidationException" || !strings.HasPrefix(e.Message, "6 validation errors detected: Value null at 'contactInformation.addressLine1'") {
		t.Errorf("err = %v", err)
	}
	if _, err := op.DecodeREST(nil, nil, nil, []byte(`{"ContactInformation":`)); !errors.As(err, &e) || e.Code != "SerializationException" {
		t.Errorf("err = %v", err)
	}
}

func TestDecodeRESTLocations(t *testing.T) {
	str := &Shape{Name: "S", Type: "string"}
	num := &Shape{Name: "I", Type: "integer"}
	boolean := &Shape{Name: "B", Type: "boolean"}
	ts := &Shape{Name: "T", Type: "timestamp"}
	list := &Shape{Name: "L", Type: "list", Member: &Member{Name: "member", Shape: str}}
	smap := &Shape{Name: "M", Type: "map", Key: &Member{Name: "key", Shape: str}, Value: &Member{Name: "value", Shape: str}}
	in := &Shape{Name: "In", Type: "structure", Members: []*Member{
		{Name: "Id", Shape: str, Location: "uri", LocationName: "Id"},
		{Name: "Max", Shape: num, Location: "querystring", LocationName: "max"},
		{Name: "States", Shape: list, Location: "querystring", LocationName: "state"},
		{Name: "Extra", Shape: smap, Location: "querystring"},
		{Name: "Force", Shape: boolean, Location: "header", LocationName: "X-Force"},
		{Name: "Since", Shape: ts, Location: "header", LocationName: "If-Modified-Since"},
		{Name: "Meta", Shape: smap, Location: "headers", LocationName: "X-Meta-"},
		{Name: "Body", Shape: str},
	}}
	in.memberIndex = map[string]*Member{}
	for _, m := range in.Members {
		in.memberIndex[m.Name] = m
	}
	out := &Shape{Name: "Out", Type: "structure", Members: []*Member{
		{Name: "Code", Shape: num, Location: "statusCode"},
		{Name: "ETag", Shape: str, Location: "header", LocationName: "ETag"},
		{Name: "Modified", Shape: ts, Location: "header", LocationName: "Last-Modified"},
		{Name: "Meta", Shape: smap, Location: "headers", LocationName: "X-Meta-"},
		{Name: "Body", Shape: str},
	}}
	svc := &Service{Name: "t", Protocol: "rest-json", errorByCode: map[string]*Shape{}}
	op := &Operation{Name: "Op", Service: svc, Input: in, Output: out, ResponseCode: 201}

	h := http.Header{}
	h.Set("X-Force", "true")
	h.Set("If-Modified-Since", "Wed, 21 Oct 2015 07:28:00 GMT")
	h.Set("X-Meta-Color", "red")
	got, err := op.DecodeREST(map[string]string{"Id": "abc"},
		map[string][]string{"max": {"5"}, "state": {"a", "b"}, "other": {"o"}}, h, []byte(`{"Body":"b","Id":"ignored"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"Id": "abc", "Max": int64(5), "States": []any{"a", "b"}, "Extra": map[string]any{"other": "o"},
		"Force": true, "Since": time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC), "Meta": map[string]any{"Color": "red"}, "Body": "b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	if _, err := op.DecodeREST(nil, map[string][]string{"max": {"x"}}, nil, nil); err == nil {
		t.Error("bad integer accepted")
	}

	status, hdr, body, err := op.EncodeREST(map[string]any{"ETag": "e1", "Modified": time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC),
		"Meta": map[string]string{"Color": "blue"}, "Body": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if status != 201 || hdr.Get("ETag") != "e1" || hdr.Get("Last-Modified") != "Wed, 21 Oct 2015 07:28:00 GMT" ||
		hdr.Get("X-Meta-Color") != "blue" || string(body) != `{"Body":"x"}` {
		t.Errorf("EncodeREST = %d %v %s", status, hdr, body)
	}
	status, _, _, _ = op.EncodeREST(map[string]any{"Code": 202})
	if status != 202 {
		t.Errorf("statusCode member: %d", status)
	}
}

func TestEncodeREST(t *testing.T) {
	op := mustOp(t, "account", "GetContactInformation")
	status, hdr, body, err := op.EncodeREST(map[string]any{"ContactInformation": map[string]any{"FullName": "Jane", "City": "Seattle"}})
	if err != nil {
		t.Fatal(err)
	}
	if status != 200 || hdr.Get("Content-Type") != RESTContentType || string(body) != `{"ContactInformation":{"City":"Seattle","FullName":"Jane"}}` {
		t.Errorf("got %d %v %s", status, hdr, body)
	}
	status, _, body, err = mustOp(t, "account", "PutAccountName").EncodeREST(nil)
	if err != nil || status != 200 || string(body) != "{}" {
		t.Errorf("no-output op: %d %s %v", status, body, err)
	}
}

func TestEncodeRESTError(t *testing.T) {
	acct := LookupService("account")
	status, hdr, body := acct.EncodeRESTError(&Error{Code: "ValidationException", Message: "bad", Status: 400, Sender: true,
		Fields: map[string]any{"reason": "fieldValidationFailed", "fieldList": []any{map[string]any{"name": "x", "message": "y"}}}})
	if status != 400 || hdr.Get("X-Amzn-ErrorType") != "ValidationException" ||
		string(body) != `{"message":"bad","fieldList":[{"message":"y","name":"x"}],"reason":"fieldValidationFailed"}` {
		t.Errorf("got %d %v %s", status, hdr, body)
	}
	status, hdr, body = acct.EncodeRESTError(&Error{Code: "AccessDeniedException", Message: "no", Status: 403, Sender: true,
		Fields: map[string]any{"errorType": "x"}})
	if status != 403 || hdr.Get("X-Amzn-ErrorType") != "AccessDeniedException" || string(body) != `{"message":"no"}` {
		t.Errorf("got %d %v %s", status, hdr, body)
	}
	e := acct.NewError("ResourceNotFoundException", "m")
	if status, _, _ := acct.EncodeRESTError(e); status != 404 {
		t.Errorf("status %d", status)
	}
}
