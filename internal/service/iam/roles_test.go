package iam

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/policy"
)

func TestSLRRoleName(t *testing.T) {
	tests := []struct {
		service, suffix, want, errCode string
	}{
		{"elasticbeanstalk.amazonaws.com", "", "AWSServiceRoleForElasticBeanstalk", ""},
		{"autoscaling.amazonaws.com", "", "AWSServiceRoleForAutoScaling", ""},
		{"autoscaling.amazonaws.com", "web-1", "AWSServiceRoleForAutoScaling_web-1", ""},
		{"dynamodb.application-autoscaling.amazonaws.com", "", "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable", ""},
		{"ecs.amazonaws.com", "", "AWSServiceRoleForECS", ""},
		{"my-new.service.amazonaws.com", "", "AWSServiceRoleForMyNewService", ""},
		{"x.amazonaws.com", "", "AWSServiceRoleForX", ""},
		{"amazonaws.com", "", "", apierr.InvalidInput},
		{".amazonaws.com", "", "", apierr.InvalidInput},
		{"example.com", "", "", apierr.InvalidInput},
		{"-.amazonaws.com", "", "", apierr.InvalidInput},
		{"autoscaling.amazonaws.com", strings.Repeat("s", 64), "", apierr.InvalidInput},
		// 17 + 11 + 1 + 35 = 64: the longest name IAM allows.
		{"autoscaling.amazonaws.com", strings.Repeat("s", 35), "AWSServiceRoleForAutoScaling_" + strings.Repeat("s", 35), ""},
	}
	for _, tc := range tests {
		t.Run(tc.service+"/"+tc.suffix, func(t *testing.T) {
			got, err := slrRoleName(tc.service, tc.suffix)
			if tc.errCode != "" {
				var ae *apierr.Error
				if !errors.As(err, &ae) || ae.Code != tc.errCode {
					t.Fatalf("err = %v, want %s", err, tc.errCode)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("= %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestSLRTrustPolicyParses(t *testing.T) {
	for _, svc := range []string{"elasticbeanstalk.amazonaws.com", "a-b.amazonaws.com"} {
		if err := checkTrustPolicy(slrTrustPolicy(svc)); err != nil {
			t.Fatalf("%s: %v", svc, err)
		}
	}
}

func TestCheckTrustPolicy(t *testing.T) {
	ok := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
	tests := []struct {
		name, doc, code string
	}{
		{"valid", ok, ""},
		{"not json", `{`, policy.CodeMalformed},
		{"identity action", strings.Replace(ok, "sts:AssumeRole", "s3:GetObject", 1), policy.CodeMalformed},
		{"oversized", strings.Replace(ok, `"Effect"`, `"Sid":"`+strings.Repeat("x", 2048)+`","Effect"`, 1), apierr.LimitExceeded},
		{"whitespace not counted", strings.Replace(ok, `"Effect"`, strings.Repeat(" \n\t", 1000)+`"Effect"`, 1), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkTrustPolicy(tc.doc)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Code != tc.code {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
		})
	}
}

func TestRoleOut(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := &Role{Name: "r", ID: "AROAX", Path: "/", ARN: "arn:aws:iam::1:role/r", TrustPolicy: `{"a": "b c"}`,
		MaxSessionDuration: 3600, Boundary: "arn:aws:iam::aws:policy/B", Tags: []Tag{{"k", "v"}}, Created: created}
	tests := []struct {
		view       roleView
		has, lacks []string
	}{
		{roleList, []string{"RoleName", "AssumeRolePolicyDocument", "MaxSessionDuration"}, []string{"Tags", "PermissionsBoundary", "RoleLastUsed", "Description"}},
		{roleCreate, []string{"Tags", "PermissionsBoundary"}, []string{"RoleLastUsed"}},
		{roleFull, []string{"Tags", "PermissionsBoundary", "RoleLastUsed"}, nil},
	}
	for _, tc := range tests {
		m := r.out(tc.view)
		for _, k := range tc.has {
			if _, ok := m[k]; !ok {
				t.Errorf("view %d lacks %s", tc.view, k)
			}
		}
		for _, k := range tc.lacks {
			if _, ok := m[k]; ok {
				t.Errorf("view %d has %s", tc.view, k)
			}
		}
	}
	if got := r.out(roleList)["AssumeRolePolicyDocument"]; got != "%7B%22a%22%3A%20%22b%20c%22%7D" {
		t.Errorf("trust policy = %v", got)
	}
	if lu := r.out(roleFull)["RoleLastUsed"].(map[string]any); len(lu) != 0 {
		t.Errorf("unused role's RoleLastUsed = %v", lu)
	}
	r.LastUsed = &RoleUse{Date: created, Region: "us-west-2"}
	if lu := r.out(roleFull)["RoleLastUsed"].(map[string]any); lu["Region"] != "us-west-2" || lu["LastUsedDate"] != created {
		t.Errorf("RoleLastUsed = %v", lu)
	}
}
