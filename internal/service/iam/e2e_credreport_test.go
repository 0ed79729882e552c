package iam_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamd/iamd/internal/testenv"
)

func TestE2ECredentialReport(t *testing.T) {
	env := testenv.Start(t)
	cl := env.AdminIAM()
	ctx := context.Background()

	_, err := cl.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	var notPresent *types.CredentialReportNotPresentException
	if !errors.As(err, &notPresent) {
		t.Fatalf("GetCredentialReport before generating: %v", err)
	}

	if _, err := cl.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("report-user")}); err != nil {
		t.Fatal(err)
	}
	key, err := cl.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("report-user")})
	if err != nil {
		t.Fatal(err)
	}

	gen, err := cl.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	if gen.State != types.ReportStateTypeStarted {
		t.Fatalf("first GenerateCredentialReport: State %s", gen.State)
	}
	gen, err = cl.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	if gen.State != types.ReportStateTypeComplete {
		t.Fatalf("second GenerateCredentialReport: State %s", gen.State)
	}

	rep, err := cl.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ReportFormat != types.ReportFormatTypeTextCsv || rep.GeneratedTime == nil {
		t.Fatalf("report metadata: %s %v", rep.ReportFormat, rep.GeneratedTime)
	}
	recs, err := csv.NewReader(bytes.NewReader(rep.Content)).ReadAll()
	if err != nil {
		t.Fatalf("report is not CSV: %v\n%s", err, rep.Content)
	}
	const header = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
	if got := strings.Join(recs[0], ","); got != header {
		t.Fatalf("header:\n got %s\nwant %s", got, header)
	}
	rows := map[string]map[string]string{}
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		rows[r[0]] = m
	}
	if recs[1][0] != "<root_account>" {
		t.Fatalf("first row is %q, want <root_account>", recs[1][0])
	}
	iso := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$`)
	root := rows["<root_account>"]
	for col, want := range map[string]string{
		"arn": "arn:aws:iam::" + env.Account + ":root", "password_enabled": "not_supported",
		"password_last_changed": "not_supported", "password_next_rotation": "not_supported",
		"mfa_active": "false", "access_key_1_active": "false", "access_key_1_last_rotated": "N/A",
		"cert_1_active": "false", "cert_1_last_rotated": "N/A",
	} {
		if root[col] != want {
			t.Errorf("root %s = %q, want %q", col, root[col], want)
		}
	}
	if !iso.MatchString(root["user_creation_time"]) {
		t.Errorf("root user_creation_time = %q", root["user_creation_time"])
	}

	u := rows["report-user"]
	if u == nil {
		t.Fatalf("no row for report-user in %q", recs)
	}
	for col, want := range map[string]string{
		"arn": "arn:aws:iam::" + env.Account + ":user/report-user", "password_enabled": "false",
		"password_last_used": "N/A", "password_last_changed": "N/A", "password_next_rotation": "N/A",
		"mfa_active": "false", "access_key_1_active": "true", "access_key_1_last_used_date": "N/A",
		"access_key_1_last_used_region": "N/A", "access_key_1_last_used_service": "N/A",
		"access_key_2_active": "false", "access_key_2_last_rotated": "N/A", "access_key_2_last_used_date": "N/A",
		"cert_1_active": "false", "cert_2_active": "false", "cert_2_last_rotated": "N/A",
	} {
		if u[col] != want {
			t.Errorf("report-user %s = %q, want %q", col, u[col], want)
		}
	}
	wantRotated := key.AccessKey.CreateDate.UTC().Format("2006-01-02T15:04:05+00:00")
	if u["access_key_1_last_rotated"] != wantRotated || !iso.MatchString(u["user_creation_time"]) {
		t.Errorf("report-user times: rotated %q (want %q), created %q", u["access_key_1_last_rotated"], wantRotated, u["user_creation_time"])
	}
	if rows["admin"] == nil {
		t.Error("no row for the bootstrap admin")
	}
}
