// Package policy implements the AWS IAM policy language: parsing and
// validation with AWS's error wording, compilation, and evaluation of one set
// of policies against a request. It is pure: no I/O, clock, logging or global
// mutable state. The evaluation chain across policy types (SCP, resource
// policy, boundary, session, identity) lives in internal/authz.
//
// Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
// and https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
package policy

import "fmt"

// Kind says where a policy document is used; each kind has its own grammar rules.
type Kind uint8

const (
	// Identity is an identity-based policy: inline, managed, or permissions boundary.
	Identity Kind = iota
	// Resource is a resource-based policy; it must name a Principal.
	Resource
	// Trust is a role trust policy (AssumeRolePolicyDocument).
	Trust
	// SCP is an AWS Organizations service control policy.
	SCP
	// RCP is an AWS Organizations resource control policy.
	RCP
	// Session is a session policy passed to AssumeRole* or GetFederationToken.
	Session
)

func (k Kind) String() string {
	switch k {
	case Identity:
		return "Identity"
	case Resource:
		return "Resource"
	case Trust:
		return "Trust"
	case SCP:
		return "SCP"
	case RCP:
		return "RCP"
	case Session:
		return "Session"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Effect of a statement.
type Effect uint8

const (
	// Allow grants.
	Allow Effect = iota + 1
	// Deny explicitly denies.
	Deny
)

func (e Effect) String() string {
	switch e {
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	}
	return fmt.Sprintf("Effect(%d)", uint8(e))
}

// Error is a policy validation failure as AWS reports it.
type Error struct {
	Code    string // "MalformedPolicyDocument"
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// CodeMalformed is the error code IAM uses for every grammar failure.
const CodeMalformed = "MalformedPolicyDocument"

func malformed(format string, args ...any) *Error {
	return &Error{Code: CodeMalformed, Message: fmt.Sprintf(format, args...)}
}

// Messages AWS returns; shared with tests.
const (
	msgSyntax         = "Syntax errors in policy."
	msgNoPrincipal    = "Policy document should not specify a principal."
	msgNeedActions    = "Policy statement must contain actions."
	msgNeedResources  = "Policy statement must contain resources."
	msgVendor         = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgVendorWildcard = "Action vendors must not contain wildcards."
	msgTrustActions   = "AssumeRole policy may only specify STS AssumeRole actions."
	msgSidUnique      = "Statement IDs (SID) in a single policy must be unique."
	msgSidChars       = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
)

// Version values accepted in the Version element.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Policy is a parsed and validated policy document.
type Policy struct {
	Kind       Kind
	Version    string // "" when absent
	ID         string
	Statements []Statement
}

// Statement is one parsed statement. Exactly one of Action/NotAction is set;
// Resource/NotResource and Principal/NotPrincipal at most one each.
type Statement struct {
	Sid          string
	Effect       Effect
	Principal    *PrincipalSpec
	NotPrincipal *PrincipalSpec
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	Condition    []Condition
	// Start and End locate the statement object in the source document
	// (End is the position just after its closing brace).
	Start, End Position

	c cstmt
}

// PrincipalSpec is the value of a Principal or NotPrincipal element.
type PrincipalSpec struct {
	Wildcard      bool // "Principal": "*"
	AWS           []string
	Service       []string
	Federated     []string
	CanonicalUser []string
}

// Condition is one operator/key pair of a Condition block.
type Condition struct {
	Operator string // as written, e.g. "ForAnyValue:StringLikeIfExists"
	Key      string // as written
	Values   []string
}
