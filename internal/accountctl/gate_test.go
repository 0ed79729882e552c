package accountctl

import (
	"strings"
	"testing"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/principal"
)

func TestDecide(t *testing.T) {
	root := &principal.Principal{Type: principal.Root, Account: "111122223333"}
	taskRoot := &principal.Principal{Type: principal.Root, Account: "111122223333", Issuer: "AssumeRoot", Temporary: true}
	user := &principal.Principal{Type: principal.User, Account: "111122223333", Name: "admin"}
	active := Facts{Status: accounts.Active}
	closed := Facts{Status: accounts.Suspended}
	billingOn := Facts{Status: accounts.Active, BillingAccess: true}
	mfaRequired := Facts{Status: accounts.Active, RequireRootMFA: true}
	mfaDone := Facts{Status: accounts.Active, RequireRootMFA: true, RootHasMFA: true}
	tests := []struct {
		name    string
		f       Facts
		p       *principal.Principal
		actions []string
		want    string // substring of the denial; "" allows
	}{
		{"active user", active, user, []string{"iam:ListUsers"}, ""},
		{"closed user", closed, user, []string{"iam:ListUsers"}, "is closed"},
		{"closed root write", closed, root, []string{"iam:CreateUser"}, "is closed"},
		{"closed root billing view", closed, root, []string{"aws-portal:ViewBilling"}, ""},
		{"closed root account info", closed, root, []string{"account:GetAccountInformation"}, ""},
		{"closed user account info", closed, user, []string{"account:GetAccountInformation"}, "is closed"},
		{"billing off user", active, user, []string{"ce:GetCostAndUsage"}, "billing information"},
		{"billing off user contact", active, user, []string{"account:GetContactInformation"}, "billing information"},
		{"billing off user alternate contact", active, user, []string{"account:GetAlternateContact"}, ""},
		{"billing off root", active, root, []string{"aws-portal:ModifyBilling"}, ""},
		{"billing on user", billingOn, user, []string{"budgets:ViewBudget"}, ""},
		{"mfa required root list users", mfaRequired, root, []string{"iam:ListUsers"}, "MFA device"},
		{"mfa required root enrol", mfaRequired, root, []string{"iam:CreateVirtualMFADevice"}, ""},
		{"mfa required root enable", mfaRequired, root, []string{"iam:EnableMFADevice"}, ""},
		{"mfa required user", mfaRequired, user, []string{"iam:ListUsers"}, ""},
		{"mfa required task session", mfaRequired, taskRoot, []string{"iam:DeleteAccessKey"}, ""},
		{"mfa done root", mfaDone, root, []string{"iam:ListUsers"}, ""},
		{"no actions", closed, user, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(&tt.f, tt.p, "111122223333", tt.actions)
			switch {
			case tt.want == "" && d != nil:
				t.Fatalf("denied: %s", d.Message)
			case tt.want != "" && d == nil:
				t.Fatalf("allowed, want denial containing %q", tt.want)
			case tt.want != "" && !strings.Contains(d.Message, tt.want):
				t.Fatalf("denial %q does not contain %q", d.Message, tt.want)
			}
		})
	}
}

func TestTaskPolicy(t *testing.T) {
	tests := []struct {
		arn   string
		ok    bool
		has   string
		hasnt string
	}{
		{"arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials", true, "iam:DeleteAccessKey", "iam:CreateUser"},
		{"arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials", true, "iam:ListAccessKeys", "iam:DeleteAccessKey"},
		{"arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword", true, "iam:CreateLoginProfile", "iam:DeleteLoginProfile"},
		{"arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy", true, "s3:DeleteBucketPolicy", "iam:"},
		{"arn:aws:iam::aws:policy/root-task/SQSUnlockQueuePolicy", true, "sqs:SetQueueAttributes", "iam:"},
		{"arn:aws:iam::aws:policy/AdministratorAccess", false, "", ""},
		{"arn:aws:iam::123456789012:policy/root-task/IAMAuditRootUserCredentials", false, "", ""},
		{"arn:aws:iam::aws:policy/root-task/Nope", false, "", ""},
		{"not an arn", false, "", ""},
	}
	for _, tt := range tests {
		doc, ok := TaskPolicy(tt.arn)
		if ok != tt.ok {
			t.Fatalf("TaskPolicy(%s) ok = %v", tt.arn, ok)
		}
		if ok && (!strings.Contains(doc, `"`+tt.has+`"`) || strings.Contains(doc, tt.hasnt)) {
			t.Fatalf("TaskPolicy(%s) = %s", tt.arn, doc)
		}
	}
	if len(TaskPolicyNames()) != len(taskPolicies) {
		t.Fatalf("TaskPolicyNames and taskPolicies disagree")
	}
}
