# Organization guardrail cases: SCP and RCP chains. Run by gen_corpus.py
# (exec'd into its namespace: pol, st, write, OUT, ACCT, OTHER are shared).
#
# These are whole-chain cases, not single policy sets, so they live under a
# different top-level key ("chain_cases") that the single-set corpus runners
# ignore. They run in internal/authz/scp_corpus_test.go (authz.Evaluate with
# the case's levels) and, SCP cases, in internal/e2e/scp_corpus_test.go
# (real SimulatePrincipalPolicy calls against an organization built to the
# case's shape).
#
# Case fields:
#   kind       "SCP" | "RCP"
#   principal  SCP cases: "user" (an IAM user of a member account), "root"
#              (the member account's root user), "service-linked-role",
#              "management" (a user of the management account).
#   scps       SCP levels, organization root first, account last; each level
#              is the list of documents attached there. For "management" the
#              single level is what is attached to the management account.
#   identity   the principal's identity policies.
#   rcps/trust/caller_account/... RCP cases, see rcp() below.
#   expect     allowed, denied, org_allowed (SCP) and stage: the policy type
#              that decided a refusal ("scp", "rcp", "resource", "identity").
#
# Expectations are written by hand from the rules on the cited pages, never
# taken from the Go engine.

ORGS = "https://docs.aws.amazon.com/organizations/latest/userguide/"
SCP_EVAL = ORGS + "orgs_manage_policies_scps_evaluation.html"
SCP_PAGE = ORGS + "orgs_manage_policies_scps.html"
SCP_SYNTAX = ORGS + "orgs_manage_policies_scps_syntax.html"
SCP_EX_GENERAL = ORGS + "orgs_manage_policies_scps_examples_general.html"
SCP_EX_EC2 = ORGS + "orgs_manage_policies_scps_examples_ec2.html"
SCP_EX_TAG = ORGS + "orgs_manage_policies_scps_examples_tagging.html"
SCP_STRATEGY = ORGS + "orgs_manage_policies_scps_evaluation.html#how_scps_deny"
RCP_EVAL = ORGS + "orgs_manage_policies_rcps_evaluation.html"
RCP_PAGE = ORGS + "orgs_manage_policies_rcps.html"
RCP_EX = ORGS + "orgs_manage_policies_rcps_examples.html"
RCP_SYNTAX = ORGS + "orgs_manage_policies_rcps_syntax.html"
CONDOPS_ = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"

# AWS's FullAWSAccess and RCPFullAWSAccess, verbatim content.
FULL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
RCPFULL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
ORG_ID = "o-exampleorgid"


def allow(actions, resource="*", **kw):
    return pol(st("Allow", actions, resource, **kw))


def deny(actions, resource="*", **kw):
    return pol(st("Deny", actions, resource, **kw))


def deny_not(not_actions, resource="*", **kw):
    return pol(st("Deny", None, resource, NotAction=not_actions, **kw))


ADMIN = allow("*")
S3ONLY = allow("s3:*")

# expectation shorthands: (allowed, denied, org_allowed, stage)
OUT_ = {
    "allow": (True, False, True, ""),
    "scp-deny": (False, True, False, "scp"),
    "scp-implicit": (False, False, False, "scp"),
    "id-implicit": (False, False, True, "identity"),
    "id-deny": (False, True, True, "identity"),
}

chain = []


def scp(name, source, principal, levels, identity, probes):
    """probes: (action, resource, context, outcome)."""
    assert principal in ("user", "root", "service-linked-role", "management")
    for lv in levels:
        # AWS keeps at least one SCP on every target, and at most five.
        assert 1 <= len(lv) <= 4, name
    if principal == "management":
        assert len(levels) == 1, name
    for action, resource, context, outcome in probes:
        # the e2e harness's own caller needs iam:SimulatePrincipalPolicy
        assert action.lower() != "iam:simulateprincipalpolicy"
        allowed, denied, org, stage = OUT_[outcome]
        r = {"action": action, "resource": resource}
        if context:
            r["context"] = context
        ctxs = ",".join(f"{k}={'|'.join(v)}" for k, v in sorted((context or {}).items()))
        chain.append({
            "name": f"{name}: {action} {resource}" + (f" [{ctxs}]" if ctxs else ""),
            "source": source, "kind": "SCP", "principal": principal,
            "scps": levels, "identity": identity, "request": r,
            "allowed": allowed, "denied": denied, "org_allowed": org, "stage": stage,
        })


def R(action, resource="*", context=None):
    return (action, resource, context)


def P(outcome, *reqs):
    return [(a, r, c, outcome) for a, r, c in reqs]


B = "arn:aws:s3:::"
INST = "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"
TABLE = "arn:aws:dynamodb:us-east-1:111122223333:table/Books"
S3_GET = R("s3:GetObject", B + "corp-data/report.csv")
S3_DEL = R("s3:DeleteBucket", B + "corp-data")
EC2_RUN = R("ec2:RunInstances", INST)
EC2_DESC = R("ec2:DescribeInstances")
IAM_CU = R("iam:CreateUser", "arn:aws:iam::111122223333:user/new")
DDB_PUT = R("dynamodb:PutItem", TABLE)
LAMBDA = R("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:111122223333:function:f")

ALLOW_S3_EC2 = allow(["s3:*", "ec2:*"])
ALLOW_EC2_DDB = allow(["ec2:*", "dynamodb:*"])
ALLOW_S3 = allow("s3:*")
ALLOW_EC2 = allow("ec2:*")
DENY_S3_DELETE = deny(["s3:DeleteBucket", "s3:DeleteObject"])
DENY_EC2_RUN = deny("ec2:RunInstances")
DENY_DDB = deny("dynamodb:*")

# --- every level must allow -------------------------------------------------
scp("FullAWSAccess on the account only", SCP_EVAL, "user", [[FULL]], [ADMIN],
    P("allow", S3_GET, EC2_RUN, IAM_CU, DDB_PUT))
scp("FullAWSAccess at root, OU and account", SCP_EVAL, "user", [[FULL], [FULL], [FULL]], [ADMIN],
    P("allow", S3_GET, S3_DEL, EC2_RUN, IAM_CU, LAMBDA))
scp("allow list on the account, FullAWSAccess above", SCP_EVAL, "user", [[FULL], [ALLOW_S3_EC2]], [ADMIN],
    P("allow", S3_GET, EC2_RUN, EC2_DESC) + P("scp-implicit", IAM_CU, DDB_PUT, LAMBDA))
scp("allow list on the OU, FullAWSAccess on the account", SCP_EVAL, "user", [[FULL], [ALLOW_S3_EC2], [FULL]], [ADMIN],
    P("allow", S3_GET, EC2_RUN) + P("scp-implicit", IAM_CU, DDB_PUT))
scp("allow list at the root level binds everything below", SCP_EVAL, "user", [[ALLOW_S3], [FULL], [FULL]], [ADMIN],
    P("allow", S3_GET, S3_DEL) + P("scp-implicit", EC2_RUN, IAM_CU))
scp("OU allows fewer services than the account", SCP_EVAL, "user", [[FULL], [ALLOW_S3], [ALLOW_S3_EC2]], [ADMIN],
    P("allow", S3_GET) + P("scp-implicit", EC2_RUN, DDB_PUT))
scp("account allows fewer services than the OU", SCP_EVAL, "user", [[FULL], [ALLOW_S3_EC2], [ALLOW_S3]], [ADMIN],
    P("allow", S3_GET) + P("scp-implicit", EC2_RUN, DDB_PUT))
scp("only the intersection of the levels' allow lists", SCP_EVAL, "user", [[ALLOW_S3_EC2], [ALLOW_EC2_DDB]], [ADMIN],
    P("allow", EC2_RUN, EC2_DESC) + P("scp-implicit", S3_GET, DDB_PUT, IAM_CU))
scp("two allow policies on one level add up", SCP_EVAL, "user", [[FULL], [ALLOW_S3, ALLOW_EC2]], [ADMIN],
    P("allow", S3_GET, EC2_RUN) + P("scp-implicit", DDB_PUT, IAM_CU))
scp("FullAWSAccess on the OU but an allow list on the account", SCP_EVAL, "user", [[FULL], [FULL], [ALLOW_EC2]], [ADMIN],
    P("allow", EC2_RUN) + P("scp-implicit", S3_GET, LAMBDA))
scp("deep tree, allow list in the middle OU", SCP_EVAL, "user",
    [[FULL], [FULL], [allow(["s3:*", "ec2:*", "dynamodb:*"])], [FULL], [FULL]], [ADMIN],
    P("allow", S3_GET, EC2_RUN, DDB_PUT) + P("scp-implicit", IAM_CU, LAMBDA))
scp("allow list with action wildcards", SCP_SYNTAX, "user", [[FULL], [allow(["ec2:Describe*", "s3:Get*"])]], [ADMIN],
    P("allow", EC2_DESC, S3_GET, R("s3:GetBucketPolicy", B + "corp-data")) + P("scp-implicit", EC2_RUN, S3_DEL))

# --- explicit deny at any level wins -----------------------------------------
scp("deny on the OU", SCP_EVAL, "user", [[FULL], [FULL, DENY_S3_DELETE], [FULL]], [ADMIN],
    P("scp-deny", S3_DEL, R("s3:DeleteObject", B + "corp-data/k")) + P("allow", S3_GET, EC2_RUN))
scp("deny on the account", SCP_EVAL, "user", [[FULL], [FULL], [FULL, DENY_EC2_RUN]], [ADMIN],
    P("scp-deny", EC2_RUN) + P("allow", EC2_DESC, S3_GET))
scp("deny at the root level", SCP_EVAL, "user", [[FULL, DENY_DDB], [FULL]], [ADMIN],
    P("scp-deny", DDB_PUT, R("dynamodb:GetItem", TABLE)) + P("allow", S3_GET, EC2_RUN))
scp("deny on one level, allow list on another", SCP_EVAL, "user", [[FULL, DENY_S3_DELETE], [ALLOW_S3]], [ADMIN],
    P("scp-deny", S3_DEL) + P("allow", S3_GET) + P("scp-implicit", EC2_RUN))
scp("deny overrides an allow on the same level", SCP_EVAL, "user", [[FULL], [ALLOW_S3, DENY_S3_DELETE]], [ADMIN],
    P("scp-deny", S3_DEL) + P("allow", S3_GET) + P("scp-implicit", DDB_PUT))
scp("deny of an action no level allows is still explicit", SCP_EVAL, "user", [[FULL], [ALLOW_S3, DENY_EC2_RUN]], [ADMIN],
    P("scp-deny", EC2_RUN) + P("scp-implicit", EC2_DESC))
scp("denies at several levels", SCP_EVAL, "user", [[FULL, DENY_DDB], [FULL, DENY_EC2_RUN], [FULL, DENY_S3_DELETE]], [ADMIN],
    P("scp-deny", DDB_PUT, EC2_RUN, S3_DEL) + P("allow", S3_GET, EC2_DESC, LAMBDA))
scp("deny scoped to a bucket", SCP_SYNTAX, "user", [[FULL], [FULL, deny("s3:*", B + "secret-*")]], [ADMIN],
    P("scp-deny", R("s3:GetObject", B + "secret-payroll/x")) + P("allow", S3_GET))
scp("deny with NotResource", SCP_SYNTAX, "user", [[FULL], [FULL, deny("s3:*", None, NotResource=[B + "approved-*"])]], [ADMIN],
    P("allow", R("s3:PutObject", B + "approved-logs/x")) + P("scp-deny", R("s3:PutObject", B + "other/x")))
scp("deny list strategy: FullAWSAccess plus denies", SCP_STRATEGY, "user",
    [[FULL], [FULL, deny(["ec2:TerminateInstances", "rds:DeleteDBInstance"])]], [ADMIN],
    P("scp-deny", R("ec2:TerminateInstances", INST), R("rds:DeleteDBInstance", "arn:aws:rds:us-east-1:111122223333:db:prod")) +
    P("allow", EC2_RUN, R("rds:CreateDBInstance", "arn:aws:rds:us-east-1:111122223333:db:new")))

# --- NotAction denies with exceptions -----------------------------------------
EXEMPT = ["iam:*", "sts:*", "organizations:*", "s3:*", "cloudwatch:*"]
scp("deny everything except listed services", SCP_SYNTAX, "user", [[FULL], [FULL, deny_not(EXEMPT)]], [ADMIN],
    P("allow", S3_GET, IAM_CU, R("cloudwatch:PutMetricData")) + P("scp-deny", EC2_RUN, DDB_PUT, LAMBDA))
scp("NotAction deny at root, allow list below", SCP_SYNTAX, "user", [[FULL, deny_not(EXEMPT)], [ALLOW_S3_EC2]], [ADMIN],
    P("allow", S3_GET) + P("scp-deny", EC2_RUN) + P("scp-implicit", IAM_CU))
scp("allow with NotAction: everything but one service", SCP_SYNTAX, "user",
    [[FULL], [pol(st("Allow", None, "*", NotAction=["dynamodb:*"]))]], [ADMIN],
    P("allow", S3_GET, EC2_RUN, IAM_CU) + P("scp-implicit", DDB_PUT))

# --- conditions --------------------------------------------------------------
REGION_EXEMPT = ["a4b:*", "acm:*", "aws-marketplace-management:*", "aws-marketplace:*", "aws-portal:*",
                 "budgets:*", "ce:*", "chime:*", "cloudfront:*", "config:*", "cur:*", "directconnect:*",
                 "ec2:DescribeRegions", "ec2:DescribeTransitGateways", "ec2:DescribeVpnGateways", "fms:*",
                 "globalaccelerator:*", "health:*", "iam:*", "importexport:*", "kms:*", "mobileanalytics:*",
                 "networkmanager:*", "organizations:*", "pricing:*", "route53:*", "route53domains:*",
                 "route53-recovery-cluster:*", "route53-recovery-control-config:*", "route53-recovery-readiness:*",
                 "s3:GetAccountPublic*", "s3:ListAllMyBuckets", "s3:ListMultiRegionAccessPoints",
                 "s3:PutAccountPublic*", "shield:*", "sts:*", "support:*", "trustedadvisor:*", "waf-regional:*",
                 "waf:*", "wafv2:*", "wellarchitected:*"]
REGION_LOCK = deny_not(REGION_EXEMPT, Sid="DenyAllOutsideEU", Condition={
    "StringNotEquals": {"aws:RequestedRegion": ["eu-central-1", "eu-west-1"]},
    "ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/Role1AllowedToBypassThisSCP",
                                        "arn:aws:iam::*:role/Role2AllowedToBypassThisSCP"]}})
US = {"aws:RequestedRegion": ["us-east-1"], "aws:PrincipalArn": ["arn:aws:iam::111122223333:user/dev"]}
EU = {"aws:RequestedRegion": ["eu-west-1"], "aws:PrincipalArn": ["arn:aws:iam::111122223333:user/dev"]}
BYPASS = {"aws:RequestedRegion": ["us-east-1"], "aws:PrincipalArn": ["arn:aws:iam::111122223333:role/Role2AllowedToBypassThisSCP"]}
scp("region lock", SCP_EX_GENERAL, "user", [[FULL], [FULL, REGION_LOCK]], [ADMIN],
    P("scp-deny", R("ec2:RunInstances", INST, US), R("dynamodb:PutItem", TABLE, US), R("lambda:InvokeFunction", "*", US),
      R("ec2:DescribeInstances", "*", US)) +
    P("allow", R("ec2:RunInstances", INST, EU), R("dynamodb:PutItem", TABLE, EU),
      R("ec2:RunInstances", INST, {"aws:RequestedRegion": ["eu-central-1"], "aws:PrincipalArn": ["arn:aws:iam::111122223333:user/dev"]}),
      R("iam:CreateUser", "*", US), R("sts:AssumeRole", "*", US), R("route53:ChangeResourceRecordSets", "*", US),
      R("ec2:DescribeRegions", "*", US), R("s3:ListAllMyBuckets", "*", US), R("kms:Decrypt", "*", US),
      R("ec2:RunInstances", INST, BYPASS), R("dynamodb:PutItem", TABLE, BYPASS)))
# Negated operators match when the key is absent
# (reference_policies_elements_condition_operators.html): with no Region
# and no principal ARN in the request both conditions hold and the deny applies.
scp("region lock without request context", CONDOPS_, "user", [[FULL], [FULL, REGION_LOCK]], [ADMIN],
    P("scp-deny", EC2_RUN, DDB_PUT) + P("allow", IAM_CU, R("sts:GetCallerIdentity")))
scp("region lock with an allow list", SCP_EX_GENERAL, "user", [[FULL, REGION_LOCK], [ALLOW_S3_EC2]], [ADMIN],
    P("scp-deny", R("ec2:RunInstances", INST, US), R("s3:PutObject", B + "b/k", US)) +
    P("allow", R("ec2:RunInstances", INST, EU), R("s3:ListAllMyBuckets", "*", US)) +
    P("scp-implicit", R("iam:CreateUser", "*", US), R("dynamodb:PutItem", TABLE, EU)))

PROTECT_ROLE = deny(["iam:AttachRolePolicy", "iam:DeleteRole", "iam:DeleteRolePermissionsBoundary",
                     "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary",
                     "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
                     "iam:UpdateRoleDescription"], "arn:aws:iam::*:role/name-of-role-to-deny",
                    Condition={"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/name-of-admin-role"}})
ROLE = "arn:aws:iam::111122223333:role/name-of-role-to-deny"
ADMIN_CTX = {"aws:PrincipalArn": ["arn:aws:iam::111122223333:role/name-of-admin-role"]}
DEV_CTX = {"aws:PrincipalArn": ["arn:aws:iam::111122223333:user/dev"]}
scp("protect a role except from an admin role", SCP_EX_GENERAL, "user", [[FULL], [FULL, PROTECT_ROLE]], [ADMIN],
    P("scp-deny", R("iam:DeleteRole", ROLE, DEV_CTX), R("iam:PutRolePolicy", ROLE, DEV_CTX),
      R("iam:UpdateAssumeRolePolicy", ROLE, DEV_CTX), R("iam:DeleteRole", ROLE)) +
    P("allow", R("iam:DeleteRole", ROLE, ADMIN_CTX), R("iam:PutRolePolicy", ROLE, ADMIN_CTX),
      R("iam:DeleteRole", "arn:aws:iam::111122223333:role/other", DEV_CTX), R("iam:GetRole", ROLE, DEV_CTX)))

TEAM_DENY = deny(["s3:DeleteBucket", "s3:DeleteObject"], Condition={"StringNotEquals": {"aws:PrincipalTag/team": "storage-admins"}})
scp("deny unless a principal tag", SCP_EX_TAG, "user", [[FULL], [FULL, TEAM_DENY]], [ADMIN],
    P("allow", R("s3:DeleteBucket", B + "b", {"aws:PrincipalTag/team": ["storage-admins"]}), S3_GET,
      R("s3:DeleteObject", B + "b/k", {"aws:PrincipalTag/team": ["storage-admins"]})) +
    P("scp-deny", R("s3:DeleteBucket", B + "b", {"aws:PrincipalTag/team": ["dev"]}), R("s3:DeleteBucket", B + "b"),
      R("s3:DeleteObject", B + "b/k", {"aws:PrincipalTag/team": ["Storage-Admins"]})))

MFA_DENY = deny(["ec2:StopInstances", "ec2:TerminateInstances"], Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})
MFA_STRICT = deny(["ec2:StopInstances", "ec2:TerminateInstances"], Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})
STOP = "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"
scp("MFA required to stop instances (BoolIfExists)", SCP_EX_EC2, "user", [[FULL], [FULL, MFA_DENY]], [ADMIN],
    P("allow", R("ec2:StopInstances", STOP, {"aws:MultiFactorAuthPresent": ["true"]}), EC2_RUN) +
    P("scp-deny", R("ec2:StopInstances", STOP, {"aws:MultiFactorAuthPresent": ["false"]}), R("ec2:TerminateInstances", STOP),
      R("ec2:TerminateInstances", STOP, {"aws:MultiFactorAuthPresent": ["false"]})))
scp("MFA deny with Bool does not match an absent key", CONDOPS_, "user", [[FULL], [FULL, MFA_STRICT]], [ADMIN],
    P("allow", R("ec2:StopInstances", STOP), R("ec2:StopInstances", STOP, {"aws:MultiFactorAuthPresent": ["true"]})) +
    P("scp-deny", R("ec2:StopInstances", STOP, {"aws:MultiFactorAuthPresent": ["false"]})))

TAG_REQUIRED = deny("ec2:RunInstances", "arn:aws:ec2:*:*:instance/*", Condition={"Null": {"aws:RequestTag/Project": "true"}})
scp("require a tag on new instances", SCP_EX_TAG, "user", [[FULL], [FULL, TAG_REQUIRED]], [ADMIN],
    P("allow", R("ec2:RunInstances", INST, {"aws:RequestTag/Project": ["apollo"]}),
      R("ec2:RunInstances", "arn:aws:ec2:us-east-1::image/ami-1"), EC2_DESC) +
    P("scp-deny", EC2_RUN, R("ec2:RunInstances", INST, {"aws:RequestTag/Owner": ["me"]})))

TYPE_LIMIT = deny("ec2:RunInstances", "arn:aws:ec2:*:*:instance/*", Condition={"StringNotEquals": {"ec2:InstanceType": "t2.micro"}})
scp("only t2.micro instances", SCP_EX_EC2, "user", [[FULL], [FULL, TYPE_LIMIT]], [ADMIN],
    P("allow", R("ec2:RunInstances", INST, {"ec2:InstanceType": ["t2.micro"]})) +
    P("scp-deny", R("ec2:RunInstances", INST, {"ec2:InstanceType": ["m5.large"]}), EC2_RUN))

scp("prevent leaving the organization", SCP_EX_GENERAL, "user", [[FULL], [FULL, deny("organizations:LeaveOrganization")]], [ADMIN],
    P("scp-deny", R("organizations:LeaveOrganization")) + P("allow", R("organizations:DescribeOrganization"), S3_GET))

ROOT_DENY = deny("*", Condition={"StringLike": {"aws:PrincipalArn": ["arn:aws:iam::*:root"]}})
ROOT_CTX = {"aws:PrincipalArn": ["arn:aws:iam::111122223333:root"]}
scp("deny the root user", SCP_EX_GENERAL, "user", [[FULL], [FULL, ROOT_DENY]], [ADMIN],
    P("allow", R("ec2:RunInstances", INST, DEV_CTX), R("iam:CreateUser", "*", DEV_CTX), S3_GET) +
    P("scp-deny", R("ec2:RunInstances", INST, ROOT_CTX), R("s3:GetObject", B + "b/k", ROOT_CTX)))

UNLESS_ADMIN = deny(["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "guardduty:DeleteDetector"],
                    Condition={"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/SecurityAdmin"}})
scp("protect security services except for a security role", SCP_EX_GENERAL, "user", [[FULL, UNLESS_ADMIN], [FULL]], [ADMIN],
    P("scp-deny", R("cloudtrail:StopLogging", "*", DEV_CTX), R("guardduty:DeleteDetector", "*", DEV_CTX), R("cloudtrail:DeleteTrail")) +
    P("allow", R("cloudtrail:StopLogging", "*", {"aws:PrincipalArn": ["arn:aws:iam::111122223333:role/SecurityAdmin"]}),
      R("cloudtrail:LookupEvents", "*", DEV_CTX)))

ORG_TAG = deny("ec2:*", Condition={"StringEquals": {"aws:PrincipalTag/sandbox": ["true"]}, "StringNotEquals": {"aws:RequestedRegion": "us-west-2"}})
scp("conditions with two keys must both match", CONDOPS_, "user", [[FULL], [FULL, ORG_TAG]], [ADMIN],
    P("scp-deny", R("ec2:RunInstances", INST, {"aws:PrincipalTag/sandbox": ["true"], "aws:RequestedRegion": ["us-east-1"]})) +
    P("allow", R("ec2:RunInstances", INST, {"aws:PrincipalTag/sandbox": ["true"], "aws:RequestedRegion": ["us-west-2"]}),
      R("ec2:RunInstances", INST, {"aws:PrincipalTag/sandbox": ["false"], "aws:RequestedRegion": ["us-east-1"]}),
      R("ec2:RunInstances", INST, {"aws:RequestedRegion": ["us-east-1"]})))

# The SCP syntax page's element table now lists Condition, NotAction, Resource
# and NotResource for Allow statements too (older SCPs allowed them in Deny only).
ALLOW_COND = allow("ec2:*", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}})
scp("allow list with a condition", SCP_SYNTAX, "user", [[FULL], [ALLOW_S3, ALLOW_COND]], [ADMIN],
    P("allow", R("ec2:RunInstances", INST, {"aws:RequestedRegion": ["eu-west-1"]}), S3_GET) +
    P("scp-implicit", R("ec2:RunInstances", INST, {"aws:RequestedRegion": ["us-east-1"]}), EC2_RUN))

# --- SCPs never grant --------------------------------------------------------
scp("identity policy still needed", SCP_PAGE, "user", [[FULL], [FULL]], [S3ONLY],
    P("allow", S3_GET) + P("id-implicit", EC2_RUN, IAM_CU))
scp("no identity policy at all", SCP_PAGE, "user", [[FULL], [ALLOW_S3_EC2]], [],
    P("id-implicit", S3_GET, EC2_RUN) + P("scp-implicit", IAM_CU))
scp("identity narrower than the SCP allow list", SCP_PAGE, "user", [[FULL], [ALLOW_S3_EC2]], [allow("ec2:Describe*")],
    P("allow", EC2_DESC) + P("id-implicit", EC2_RUN, S3_GET) + P("scp-implicit", DDB_PUT))
scp("identity deny under FullAWSAccess", SCP_PAGE, "user", [[FULL], [FULL]], [ADMIN, deny("s3:DeleteBucket")],
    P("id-deny", S3_DEL) + P("allow", S3_GET))
scp("SCP deny and identity deny together", SCP_EVAL, "user", [[FULL], [FULL, DENY_S3_DELETE]], [ADMIN, deny("s3:*", B + "corp-data")],
    P("scp-deny", S3_DEL) + P("allow", S3_GET))
scp("identity deny of an action the SCP does not allow", SCP_EVAL, "user", [[FULL], [ALLOW_S3]], [ADMIN, deny("ec2:*")],
    P("scp-implicit", DDB_PUT) + P("allow", S3_GET))
# An explicit deny anywhere is an explicit deny; AllowedByOrganizations
# still reports that the SCPs did not allow ec2:RunInstances.
chain.append({
    "name": "identity deny and SCP implicit deny: the deny is explicit", "source": SCP_EVAL, "kind": "SCP",
    "principal": "user", "scps": [[FULL], [ALLOW_S3]], "identity": [ADMIN, deny("ec2:*")],
    "request": {"action": "ec2:RunInstances", "resource": INST},
    "allowed": False, "denied": True, "org_allowed": False, "stage": "identity"})

# --- who SCPs bind -----------------------------------------------------------
# The member account's root user is bound; no IAM policy is needed for it.
scp("root user of a member account under FullAWSAccess", SCP_PAGE, "root", [[FULL], [FULL]], [],
    P("allow", S3_GET, EC2_RUN, IAM_CU))
scp("root user of a member account under an allow list", SCP_PAGE, "root", [[FULL], [ALLOW_S3]], [],
    P("allow", S3_GET, S3_DEL) + P("scp-implicit", EC2_RUN, IAM_CU))
scp("root user of a member account under a deny", SCP_PAGE, "root", [[FULL, DENY_S3_DELETE], [FULL]], [],
    P("scp-deny", S3_DEL) + P("allow", S3_GET))
scp("root user under the deny-root example", SCP_EX_GENERAL, "root", [[FULL], [FULL, ROOT_DENY]], [],
    P("scp-deny", R("ec2:RunInstances", INST, ROOT_CTX), R("iam:CreateUser", "*", ROOT_CTX)))
# The management account is never restricted, whatever is attached to it.
MGMT = [[ALLOW_S3, DENY_EC2_RUN, deny_not(EXEMPT)]]
scp("management account ignores its SCPs", SCP_PAGE, "management", MGMT, [ADMIN],
    P("allow", S3_GET, EC2_RUN, IAM_CU, DDB_PUT, LAMBDA))
scp("management account still needs identity policies", SCP_PAGE, "management", MGMT, [S3ONLY],
    P("allow", S3_GET) + P("id-implicit", EC2_RUN, DDB_PUT))
scp("management account identity deny", SCP_PAGE, "management", MGMT, [ADMIN, deny("dynamodb:*")],
    P("id-deny", DDB_PUT) + P("allow", EC2_RUN))
# Service-linked roles are never restricted by SCPs.
scp("service-linked role ignores SCPs", SCP_PAGE, "service-linked-role", [[FULL, DENY_EC2_RUN], [ALLOW_S3]], [ADMIN],
    P("allow", EC2_RUN, S3_GET, DDB_PUT))
scp("service-linked role needs its own permissions", SCP_PAGE, "service-linked-role", [[FULL, DENY_EC2_RUN], [ALLOW_S3]], [allow("ec2:*")],
    P("allow", EC2_RUN) + P("id-implicit", S3_GET))

n_scp = len(chain)
assert n_scp >= 150, n_scp


def write_chain_file(fname, cases):
    names = set()
    for c in cases:
        assert c["name"] not in names, c["name"]
        names.add(c["name"])
    with open(os.path.join(OUT, fname), "w") as f:
        f.write('{"chain_cases": [\n')
        f.write(",\n".join(json.dumps(c, sort_keys=True, ensure_ascii=False) for c in cases))
        f.write("\n]}\n")
    return len(cases)


write_chain_file("scp_chain.json", chain)

# ---------------------------------------------------------------- RCPs
# RCPs bound what may be done to a member account's resources. In iamd the
# resources are roles: sts:AssumeRole* checks the role account's RCPs. The
# role (resource) is in ACCT; callers come from ACCT, another member
# (MEMBER2) or outside the organization (OTHER).
rcases = []
MEMBER2 = "777788889999"
ROLE_ARN = f"arn:aws:iam::{ACCT}:role/Target"
RCP_OUT = {
    "allow": (True, False, ""),
    "rcp-deny": (False, True, "rcp"),
    "scp-deny": (False, True, "scp"),
    "trust-implicit": (False, False, "resource"),
    "trust-deny": (False, True, "resource"),
    "id-implicit": (False, False, "identity"),
}


def trust_for(principal):
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]}


def rdeny(actions, **kw):
    s = {"Effect": "Deny", "Principal": "*", "Action": actions, "Resource": "*"}
    s.update(kw)
    return {"Version": "2012-10-17", "Statement": [s]}


def rcp(name, source, levels, probes, trust=None, identity=(ADMIN,), scps=None, resource_in="member",
        action="sts:AssumeRole", resource=ROLE_ARN):
    """probes: (caller account, caller name, context, outcome)."""
    for lv in levels:
        assert RCPFULL in lv, name  # RCPFullAWSAccess cannot be detached
    for acct, who, context, outcome in probes:
        allowed, denied, stage = RCP_OUT[outcome]
        caller = f"arn:aws:iam::{acct}:user/{who}"
        r = {"action": action, "resource": resource, "principal": {"account": acct, "arn": caller}}
        if context:
            r["context"] = context
        ctxs = ",".join(f"{k}={'|'.join(v)}" for k, v in sorted((context or {}).items()))
        c = {"name": f"{name}: {action} by {caller}" + (f" [{ctxs}]" if ctxs else ""),
             "source": source, "kind": "RCP", "rcps": levels, "resource_in": resource_in,
             "trust": trust if trust is not None else trust_for(f"arn:aws:iam::{acct}:root"),
             "identity": list(identity), "request": r,
             "allowed": allowed, "denied": denied, "stage": stage}
        if scps is not None:
            c["scps"] = scps
        rcases.append(c)


IN_ORG = {"aws:PrincipalOrgID": [ORG_ID]}
OUT_ORG = {"aws:PrincipalOrgID": ["o-someoneelse"]}
PERIMETER = rdeny(["sts:AssumeRole", "s3:*", "sqs:*", "kms:*", "secretsmanager:*"], Sid="EnforceOrgIdentities", Condition={
    "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG_ID},
    "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}})

rcp("RCPFullAWSAccess alone changes nothing", RCP_EVAL, [[RCPFULL]],
    [(OTHER, "ext", None, "allow"), (ACCT, "local", None, "allow"), (MEMBER2, "peer", IN_ORG, "allow")])
rcp("RCPFullAWSAccess at every level", RCP_EVAL, [[RCPFULL], [RCPFULL], [RCPFULL]],
    [(OTHER, "ext", None, "allow"), (ACCT, "local", None, "allow")])
rcp("RCPs do not grant: no trust, no access", RCP_PAGE, [[RCPFULL]],
    [(OTHER, "ext", None, "trust-implicit"), (MEMBER2, "peer", IN_ORG, "trust-implicit")],
    trust=trust_for("arn:aws:iam::123456789012:root"))
rcp("RCPs do not grant: the caller's identity policy is still needed", RCP_PAGE, [[RCPFULL]],
    [(OTHER, "ext", None, "id-implicit"), (MEMBER2, "peer", IN_ORG, "id-implicit")], identity=(S3ONLY,))
rcp("organization identity perimeter", RCP_EX, [[RCPFULL], [RCPFULL, PERIMETER]],
    [(ACCT, "local", IN_ORG, "allow"), (MEMBER2, "peer", IN_ORG, "allow"),
     (OTHER, "ext", OUT_ORG, "rcp-deny"), (OTHER, "ext", None, "rcp-deny"),
     (OTHER, "ext", {"aws:PrincipalOrgID": ["o-someoneelse"], "aws:PrincipalIsAWSService": ["false"]}, "rcp-deny"),
     (OTHER, "svc", {"aws:PrincipalIsAWSService": ["true"]}, "allow")])
rcp("perimeter at the root level binds every account", RCP_EVAL, [[RCPFULL, PERIMETER], [RCPFULL], [RCPFULL]],
    [(OTHER, "ext", OUT_ORG, "rcp-deny"), (MEMBER2, "peer", IN_ORG, "allow")])
rcp("perimeter on the account level", RCP_EVAL, [[RCPFULL], [RCPFULL], [RCPFULL, PERIMETER]],
    [(OTHER, "ext", OUT_ORG, "rcp-deny"), (ACCT, "local", IN_ORG, "allow")])
rcp("deny of sts:AssumeRole from everyone", RCP_EVAL, [[RCPFULL], [RCPFULL, rdeny("sts:AssumeRole")]],
    [(OTHER, "ext", None, "rcp-deny"), (ACCT, "local", IN_ORG, "rcp-deny"), (MEMBER2, "peer", IN_ORG, "rcp-deny")])
rcp("deny of another action leaves AssumeRole alone", RCP_EVAL, [[RCPFULL], [RCPFULL, rdeny("s3:*")]],
    [(OTHER, "ext", None, "allow"), (ACCT, "local", None, "allow")])
rcp("deny wins over RCPFullAWSAccess on the same level", RCP_EVAL, [[RCPFULL, rdeny("sts:*")]],
    [(OTHER, "ext", None, "rcp-deny"), (ACCT, "local", None, "rcp-deny")])
SCOPED = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
                                                  "Resource": "arn:aws:iam::*:role/Protected*"}]}
rcp("deny scoped to protected roles", RCP_SYNTAX, [[RCPFULL, SCOPED]],
    [(OTHER, "ext", None, "allow"), (ACCT, "local", None, "allow")])
rcp("deny scoped to protected roles (protected)", RCP_SYNTAX, [[RCPFULL, SCOPED]],
    [(OTHER, "ext", None, "rcp-deny"), (ACCT, "local", None, "rcp-deny")],
    resource=f"arn:aws:iam::{ACCT}:role/ProtectedAdmin")
ACCT_LIST = rdeny("sts:AssumeRole", Condition={"StringNotEqualsIfExists": {"aws:PrincipalAccount": [ACCT, MEMBER2]},
                                                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}})
rcp("only listed accounts may assume", RCP_EX, [[RCPFULL, ACCT_LIST]],
    [(ACCT, "local", {"aws:PrincipalAccount": [ACCT]}, "allow"), (MEMBER2, "peer", {"aws:PrincipalAccount": [MEMBER2]}, "allow"),
     (OTHER, "ext", {"aws:PrincipalAccount": [OTHER]}, "rcp-deny"), (OTHER, "ext", None, "rcp-deny")])
CONFUSED = rdeny("sts:AssumeRole", Sid="EnforceConfusedDeputyProtection", Condition={
    "StringNotEqualsIfExists": {"aws:SourceOrgID": ORG_ID},
    "Null": {"aws:SourceAccount": "false"},
    "Bool": {"aws:PrincipalIsAWSService": "true"}})
rcp("confused deputy protection", RCP_EX, [[RCPFULL, CONFUSED]],
    [(OTHER, "svc", {"aws:PrincipalIsAWSService": ["true"], "aws:SourceAccount": [OTHER], "aws:SourceOrgID": ["o-someoneelse"]}, "rcp-deny"),
     (OTHER, "svc", {"aws:PrincipalIsAWSService": ["true"], "aws:SourceAccount": [MEMBER2], "aws:SourceOrgID": [ORG_ID]}, "allow"),
     (OTHER, "svc", {"aws:PrincipalIsAWSService": ["true"]}, "allow"),
     (OTHER, "ext", {"aws:SourceAccount": [OTHER], "aws:SourceOrgID": ["o-someoneelse"]}, "allow"),
     (OTHER, "svc", {"aws:PrincipalIsAWSService": ["true"], "aws:SourceAccount": [OTHER]}, "rcp-deny")])
TLS = rdeny(["s3:*", "sts:*"], Condition={"BoolIfExists": {"aws:SecureTransport": "false"}})
rcp("enforce secure transport", RCP_EX, [[RCPFULL, TLS]],
    [(OTHER, "ext", {"aws:SecureTransport": ["false"]}, "rcp-deny"), (OTHER, "ext", {"aws:SecureTransport": ["true"]}, "allow"),
     (ACCT, "local", {"aws:SecureTransport": ["false"]}, "rcp-deny")])
# Within the account a trust policy naming the user grants on its own, yet
# the RCP still bounds it.
rcp("same-account direct trust is still bound by RCPs", RCP_EVAL, [[RCPFULL, rdeny("sts:AssumeRole")]],
    [(ACCT, "local", None, "rcp-deny")], trust=trust_for(f"arn:aws:iam::{ACCT}:user/local"), identity=())
rcp("same-account direct trust without identity policy", RCP_EVAL, [[RCPFULL]],
    [(ACCT, "local", None, "allow")], trust=trust_for(f"arn:aws:iam::{ACCT}:user/local"), identity=())
rcp("cross-account direct trust still needs the caller's identity policy", RCP_EVAL, [[RCPFULL]],
    [(OTHER, "ext", None, "id-implicit")], trust=trust_for(f"arn:aws:iam::{OTHER}:user/ext"), identity=())
TRUST_DENY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
    {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG_ID}}}]}
rcp("RCP deny reported before a trust-policy deny", RCP_EVAL, [[RCPFULL, PERIMETER]],
    [(OTHER, "ext", OUT_ORG, "rcp-deny"), (MEMBER2, "peer", IN_ORG, "allow")], trust=TRUST_DENY)
rcp("trust-policy deny with RCPs allowing", RCP_EVAL, [[RCPFULL]],
    [(OTHER, "ext", OUT_ORG, "trust-deny")], trust=TRUST_DENY)
# RCPs never bind resources of the management account.
rcp("management account's roles ignore RCPs", RCP_PAGE, [[RCPFULL, rdeny("sts:*")]],
    [(OTHER, "ext", None, "allow"), (MEMBER2, "peer", IN_ORG, "allow")], resource_in="management")
# The caller's SCPs and the role account's RCPs both apply.
rcp("caller's SCP and resource's RCP", RCP_PAGE, [[RCPFULL, PERIMETER]],
    [(MEMBER2, "peer", IN_ORG, "scp-deny")], scps=[[FULL, deny("sts:AssumeRole")]])
rcp("caller's SCP allows, RCP perimeter allows", RCP_PAGE, [[RCPFULL, PERIMETER]],
    [(MEMBER2, "peer", IN_ORG, "allow")], scps=[[FULL], [FULL]])
rcp("RCP deny with the caller's SCP allowing", RCP_PAGE, [[RCPFULL, rdeny("sts:AssumeRole")]],
    [(MEMBER2, "peer", IN_ORG, "rcp-deny")], scps=[[FULL]])
# RCPs govern other resource types the same way; the engine is generic.
BUCKET_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}, "Action": "s3:GetObject", "Resource": B + "shared/*"}]}
rcp("bucket perimeter", RCP_EX, [[RCPFULL, PERIMETER]],
    [(OTHER, "ext", OUT_ORG, "rcp-deny"), (OTHER, "svc", {"aws:PrincipalIsAWSService": ["true"]}, "allow")],
    trust=BUCKET_POLICY, action="s3:GetObject", resource=B + "shared/data.csv")
rcp("bucket secure transport", RCP_EX, [[RCPFULL, TLS]],
    [(OTHER, "ext", {"aws:SecureTransport": ["false"]}, "rcp-deny"), (OTHER, "ext", {"aws:SecureTransport": ["true"]}, "allow")],
    trust=BUCKET_POLICY, action="s3:GetObject", resource=B + "shared/data.csv")
TLS_VERSION = rdeny("s3:*", Condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}})
rcp("bucket minimum TLS version", RCP_EX, [[RCPFULL, TLS_VERSION]],
    [(OTHER, "ext", {"s3:TlsVersion": ["1.0"]}, "rcp-deny"), (OTHER, "ext", {"s3:TlsVersion": ["1.3"]}, "allow"),
     (OTHER, "ext", None, "allow")],
    trust=BUCKET_POLICY, action="s3:GetObject", resource=B + "shared/data.csv")

assert len(rcases) >= 50, len(rcases)
write_chain_file("rcp_chain.json", rcases)
print("chain cases:", n_scp, "SCP,", len(rcases), "RCP")
