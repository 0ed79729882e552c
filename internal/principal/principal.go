// Package principal describes who is calling: the authenticated identity that
// every request carries from authentication to authorization and services.
package principal

import "time"

// Type is the kind of principal, named as aws:PrincipalType names it.
type Type string

const (
	Root          Type = "Account"
	User          Type = "User"
	AssumedRole   Type = "AssumedRole"
	FederatedUser Type = "FederatedUser"
	Anonymous     Type = "Anonymous"
)

// Principal is an authenticated caller.
type Principal struct {
	Type      Type
	Partition string
	Account   string
	// ARN is the principal's own ARN: arn:aws:iam::ACCT:root, the user ARN,
	// or for a role session arn:aws:sts::ACCT:assumed-role/ROLE/SESSION.
	ARN string
	// UserID is aws:userid: the account id for root, AIDA… for users,
	// AROA…:session for role sessions.
	UserID string
	// Name is the user name, or the role name for a role session.
	Name string
	// Path is the IAM path of the user or role.
	Path string
	// RoleARN is the role of an AssumedRole session (aws:PrincipalArn).
	RoleARN     string
	SessionName string
	// SourceUser is the IAM user whose identity policies a federated user
	// session (GetFederationToken) inherits.
	SourceUser string

	// Credentials used for this request.
	AccessKeyID string
	// Temporary is true for session credentials (ASIA…).
	Temporary bool
	// Session facts, for temporary credentials.
	TokenIssueTime time.Time
	MFAAuthTime    time.Time // zero when the session was not MFA-authenticated
	SourceIdentity string
	SessionTags    map[string]string
	// TransitiveTagKeys are the session tags that pass on to a chained
	// role session.
	TransitiveTagKeys []string
	Expiration        time.Time
	// SessionPolicies are the policy documents passed at session creation.
	SessionPolicies []string
	// Issuer says which STS call made the session (GetSessionToken,
	// AssumeRole, GetFederationToken...), for the restrictions AWS places on
	// what some session credentials may call.
	Issuer string
}

// IsRoot reports whether p is an account's root user.
func (p *Principal) IsRoot() bool { return p != nil && p.Type == Root }

// PrincipalARN is aws:PrincipalArn: for a role session, the role's ARN.
func (p *Principal) PrincipalARN() string {
	if p.Type == AssumedRole && p.RoleARN != "" {
		return p.RoleARN
	}
	return p.ARN
}
