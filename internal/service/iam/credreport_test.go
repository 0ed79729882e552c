package iam

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/store"
)

func TestCredRowFields(t *testing.T) {
	created := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	used := time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	changed := time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)
	none := "false,N/A,N/A,N/A,N/A"
	tests := []struct {
		name string
		row  credRow
		want string
	}{
		{
			"root, password used, MFA",
			credRow{User: "<root_account>", ARN: "arn:aws:iam::123456789012:root", Created: created, Root: true, HasPassword: true, PasswordLastUsed: used, MFA: true},
			"<root_account>,arn:aws:iam::123456789012:root,2024-05-06T07:08:09+00:00,not_supported,2025-01-02T02:04:05+00:00,not_supported,not_supported,true," + none + "," + none + ",false,N/A,false,N/A",
		},
		{
			"root, password never used",
			credRow{User: "<root_account>", ARN: "arn:aws:iam::123456789012:root", Created: created, Root: true, HasPassword: true},
			"<root_account>,arn:aws:iam::123456789012:root,2024-05-06T07:08:09+00:00,not_supported,no_information,not_supported,not_supported,false," + none + "," + none + ",false,N/A,false,N/A",
		},
		{
			"user without password or keys",
			credRow{User: "bob", ARN: "arn:aws:iam::123456789012:user/bob", Created: created},
			"bob,arn:aws:iam::123456789012:user/bob,2024-05-06T07:08:09+00:00,false,N/A,N/A,N/A,false," + none + "," + none + ",false,N/A,false,N/A",
		},
		{
			"user whose password was removed after use",
			credRow{User: "bob", ARN: "a", Created: created, PasswordLastUsed: used},
			"bob,a,2024-05-06T07:08:09+00:00,false,2025-01-02T02:04:05+00:00,N/A,N/A,false," + none + "," + none + ",false,N/A,false,N/A",
		},
		{
			"password never used, no rotation policy",
			credRow{User: "u", ARN: "a", Created: created, HasPassword: true, PasswordChanged: changed},
			"u,a,2024-05-06T07:08:09+00:00,true,no_information,2024-12-01T00:00:00+00:00,N/A,false," + none + "," + none + ",false,N/A,false,N/A",
		},
		{
			"password with 90-day rotation, two keys, one cert",
			credRow{
				User: "u", ARN: "a", Created: created, HasPassword: true, PasswordChanged: changed, PasswordLastUsed: used, MaxPasswordAge: 90, MFA: true,
				Keys: []credKey{
					{Active: true, Created: created, LastUsed: &LastUsed{Date: used, Region: "us-east-1", Service: "iam"}},
					{Active: false, Created: changed},
				},
				Certs: []credCert{{Active: true, Created: changed}},
			},
			"u,a,2024-05-06T07:08:09+00:00,true,2025-01-02T02:04:05+00:00,2024-12-01T00:00:00+00:00,2025-03-01T00:00:00+00:00,true," +
				"true,2024-05-06T07:08:09+00:00,2025-01-02T02:04:05+00:00,us-east-1,iam," +
				"false,2024-12-01T00:00:00+00:00,N/A,N/A,N/A," +
				"true,2024-12-01T00:00:00+00:00,false,N/A",
		},
		{
			"key used from a global service without region",
			credRow{User: "u", ARN: "a", Created: created, Keys: []credKey{{Active: true, Created: created, LastUsed: &LastUsed{Date: used, Service: "sts"}}}},
			"u,a,2024-05-06T07:08:09+00:00,false,N/A,N/A,N/A,false,true,2024-05-06T07:08:09+00:00,2025-01-02T02:04:05+00:00,N/A,sts," + none + ",false,N/A,false,N/A",
		},
	}
	for _, tt := range tests {
		f := tt.row.fields()
		if len(f) != len(credReportHeader) {
			t.Errorf("%s: %d fields, want %d", tt.name, len(f), len(credReportHeader))
		}
		if got := strings.Join(f, ","); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func TestRenderCredReport(t *testing.T) {
	b, err := renderCredReport([]credRow{{User: "a,b", ARN: "x", Created: time.Unix(0, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasSuffix(b, []byte("\n")) {
		t.Error("report ends with a newline")
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || strings.Join(recs[0], ",") != strings.Join(credReportHeader, ",") || recs[1][0] != "a,b" {
		t.Errorf("report = %q", recs)
	}
	if got := strings.Join(credReportHeader, ","); got != "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated" {
		t.Errorf("header = %s", got)
	}
}

func TestCredentialReportLifecycle(t *testing.T) {
	ctx := context.Background()
	s := mfaTestService(t)
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	call := func(op string, at time.Time) (map[string]any, error) {
		c := mfaRootCall(at)
		if op == "gen" {
			return s.generateCredentialReport(ctx, c, map[string]any{})
		}
		return s.getCredentialReport(ctx, c, map[string]any{})
	}
	if _, err := call("get", t0); mfaCode(t, err) != "ReportNotPresent" {
		t.Fatalf("get before generate: %v", err)
	}
	if _, err := s.createUser(ctx, mfaRootCall(t0), map[string]any{"UserName": "erin"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		if _, _, err := s.NewAccessKey(ctx, tx, mfaTestAccount, "erin", "erin", t0); err != nil {
			return err
		}
		// Records of other areas, in the JSON they store (loginprofiles.go,
		// passwordpolicy.go, certificates.go): the report's read contract.
		for _, r := range []store.Record{
			{Kind: kindLoginProfile, Key: "erin", Parent: "erin", Data: []byte(`{"created":"2025-01-01T00:00:00Z","changed":"2025-02-01T00:00:00Z","hash":"x"}`)},
			{Kind: "passwordpolicy", Key: "policy", Data: []byte(`{"minLength":8,"maxAge":30}`)},
			{Kind: kindSigningCert, Key: "ASCAEXAMPLE", ID: "ASCAEXAMPLE", Parent: "erin", Data: []byte(`{"id":"ASCAEXAMPLE","status":"Inactive","uploaded":"2025-02-02T00:00:00Z"}`)},
		} {
			r.Account = mfaTestAccount
			if err := tx.Insert(ctx, r); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		op        string
		at        time.Duration
		state     string // for gen
		generated time.Duration
		err       string
	}{
		{"gen", 0, "STARTED", 0, ""},
		{"get", time.Minute, "", 0, ""},
		{"gen", time.Hour, "COMPLETE", 0, ""},
		{"get", 4*time.Hour - time.Second, "", 0, ""},
		{"get", 4 * time.Hour, "", 0, "ReportExpired"},
		{"gen", 5 * time.Hour, "STARTED", 5 * time.Hour, ""},
		{"get", 5 * time.Hour, "", 5 * time.Hour, ""},
	}
	for i, st := range steps {
		out, err := call(st.op, t0.Add(st.at))
		if got := mfaCode(t, err); got != st.err {
			t.Fatalf("step %d %s: %q (%v), want %q", i, st.op, got, err, st.err)
		}
		if err != nil {
			continue
		}
		if st.op == "gen" {
			if out["State"] != st.state {
				t.Fatalf("step %d: State %v, want %s", i, out["State"], st.state)
			}
			continue
		}
		if out["ReportFormat"] != "text/csv" || !out["GeneratedTime"].(time.Time).Equal(t0.Add(st.generated)) {
			t.Fatalf("step %d: %v", i, out)
		}
		recs, err := csv.NewReader(bytes.NewReader(out["Content"].([]byte))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 3 || recs[1][0] != "<root_account>" || recs[1][3] != "not_supported" {
			t.Fatalf("step %d: report %q", i, recs)
		}
		erin := map[string]string{}
		for j, h := range recs[0] {
			erin[h] = recs[2][j]
		}
		want := map[string]string{
			"user": "erin", "password_enabled": "true", "password_last_used": "no_information",
			"password_last_changed": "2025-02-01T00:00:00+00:00", "password_next_rotation": "2025-03-03T00:00:00+00:00",
			"access_key_1_active": "true", "access_key_1_last_rotated": "2025-03-01T12:00:00+00:00", "access_key_1_last_used_date": "N/A",
			"access_key_2_active": "false", "cert_1_active": "false", "cert_1_last_rotated": "2025-02-02T00:00:00+00:00", "mfa_active": "false",
		}
		for k, v := range want {
			if erin[k] != v {
				t.Errorf("step %d: %s = %q, want %q", i, k, erin[k], v)
			}
		}
	}
}
