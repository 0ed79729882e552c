package accountctl

import "strings"

// TaskPolicyPrefix is the path of AWS's root task policies, the only
// policies sts:AssumeRoot accepts as TaskPolicyArn.
const TaskPolicyPrefix = "policy/root-task/"

// taskPolicies are the root task policies' documents, keyed by name. They
// grant what each privileged task needs and nothing else; the session they
// scope is a root session, so this is all the session can do
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/security-iam-awsmanpol.html).
var taskPolicies = map[string]string{
	"IAMAuditRootUserCredentials": allow(
		"iam:GetAccessKeyLastUsed", "iam:GetLoginProfile", "iam:GetUser",
		"iam:ListAccessKeys", "iam:ListMFADevices", "iam:ListSigningCertificates"),
	"IAMCreateRootUserPassword": allow(
		"iam:CreateLoginProfile", "iam:GetLoginProfile", "iam:GetUser"),
	"IAMDeleteRootUserCredentials": allow(
		"iam:DeactivateMFADevice", "iam:DeleteAccessKey", "iam:DeleteLoginProfile",
		"iam:DeleteSigningCertificate", "iam:DeleteVirtualMFADevice",
		"iam:GetAccessKeyLastUsed", "iam:GetLoginProfile", "iam:GetUser",
		"iam:ListAccessKeys", "iam:ListMFADevices", "iam:ListSigningCertificates"),
	"S3UnlockBucketPolicy": allow(
		"s3:DeleteBucketPolicy", "s3:GetBucketPolicy", "s3:PutBucketPolicy"),
	"SQSUnlockQueuePolicy": allow(
		"sqs:GetQueueAttributes", "sqs:SetQueueAttributes"),
}

func allow(actions ...string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["` + strings.Join(actions, `","`) + `"],"Resource":"*"}]}`
}

// TaskPolicy returns the document of the root task policy policyARN
// (arn:PARTITION:iam::aws:policy/root-task/NAME), or false when policyARN
// names none.
func TaskPolicy(policyARN string) (string, bool) {
	parts := strings.SplitN(policyARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[3] != "" || parts[4] != "aws" {
		return "", false
	}
	name, ok := strings.CutPrefix(parts[5], TaskPolicyPrefix)
	if !ok {
		return "", false
	}
	doc, ok := taskPolicies[name]
	return doc, ok
}

// TaskPolicyNames lists the root task policies, for documentation and
// error messages.
func TaskPolicyNames() []string {
	return []string{"IAMAuditRootUserCredentials", "IAMCreateRootUserPassword", "IAMDeleteRootUserCredentials", "S3UnlockBucketPolicy", "SQSUnlockQueuePolicy"}
}
