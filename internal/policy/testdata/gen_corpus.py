#!/usr/bin/env python3
"""Writes corpus/*.json: policy decision cases derived from the AWS IAM docs.

Expectations here come from the rules stated on the cited pages (and, for the
mechanical families, from small independent re-statements of those rules in
Python), never from running the Go engine. Re-run after editing:
    python3 internal/policy/testdata/gen_corpus.py
"""
import json, os, itertools, datetime, ipaddress

OUT = os.path.join(os.path.dirname(__file__), "corpus")
D = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
ACTION = D + "reference_policies_elements_action.html"
NOTACTION = D + "reference_policies_elements_notaction.html"
RESOURCE = D + "reference_policies_elements_resource.html"
NOTRESOURCE = D + "reference_policies_elements_notresource.html"
PRINCIPAL = D + "reference_policies_elements_principal.html"
NOTPRINCIPAL = D + "reference_policies_elements_notprincipal.html"
CONDOPS = D + "reference_policies_elements_condition_operators.html"
MULTI = D + "reference_policies_condition-single-vs-multi-valued-context-keys.html"
COND = D + "reference_policies_elements_condition.html"
VARS = D + "reference_policies_variables.html"
EVAL = D + "reference_policies_evaluation-logic.html"
GRAMMAR = D + "reference_policies_grammar.html"
VERSION = D + "reference_policies_elements_version.html"
STATEMENT = D + "reference_policies_elements_statement.html"
SID = D + "reference_policies_elements_sid.html"
TRUST = D + "id_roles_terms-and-concepts.html"
RCPS = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html"
SCPS = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_syntax.html"
ACCT = "111122223333"
OTHER = "444455556666"


def pol(*stmts, version="2012-10-17"):
    p = {}
    if version is not None:
        p["Version"] = version
    p["Statement"] = list(stmts)
    return p


def st(effect="Allow", action="*", resource="*", **kw):
    s = {"Effect": effect}
    if action is not None:
        s["Action"] = action
    if resource is not None:
        s["Resource"] = resource
    for k, v in kw.items():
        s[k] = v
    return s


def req(action, resource="*", context=None, principal=None):
    r = {"action": action, "resource": resource}
    if context:
        r["context"] = context
    if principal:
        r["principal"] = principal
    return r


def case(name, source, policies, request, allowed, denied=False, matched=None, missing=None, kind="Identity"):
    c = {"name": name, "source": source, "kind": kind, "policies": policies, "request": request,
         "allowed": allowed, "denied": denied}
    if matched is not None:
        c["matched"] = matched
    if missing is not None:
        c["missing"] = missing
    return c


def err(name, source, policy, message, kind="Identity"):
    c = {"name": name, "source": source, "kind": kind, "error": message}
    if isinstance(policy, str):
        c["policy_text"] = policy
    else:
        c["policies"] = [policy]
    return c


def write(fname, cases):
    os.makedirs(OUT, exist_ok=True)
    names = set()
    for c in cases:
        assert c["name"] not in names, c["name"]
        names.add(c["name"])
    with open(os.path.join(OUT, fname), "w") as f:
        # one case per line keeps diffs reviewable
        f.write('{"cases": [\n')
        f.write(",\n".join(json.dumps(c, sort_keys=True, ensure_ascii=False) for c in cases))
        f.write("\n]}\n")
    return len(cases)


total = 0

# ---------------------------------------------------------------- actions
cases = []
act_rows = [
    # pattern, request action, matches (wildcards *, ?; case-insensitive)
    ("s3:GetObject", "s3:GetObject", True),
    ("s3:GetObject", "s3:getobject", True),
    ("S3:GETOBJECT", "s3:GetObject", True),
    ("s3:GetObject", "s3:GetObjectAcl", False),
    ("s3:Get*", "s3:GetObject", True),
    ("s3:Get*", "s3:GetBucketPolicy", True),
    ("s3:Get*", "s3:PutObject", False),
    ("s3:*", "s3:PutObject", True),
    ("s3:*", "ec2:RunInstances", False),
    ("*", "ec2:RunInstances", True),
    ("*", "iam:CreateUser", True),
    ("iam:*AccessKey*", "iam:CreateAccessKey", True),
    ("iam:*AccessKey*", "iam:ListAccessKeys", True),
    ("iam:*AccessKey*", "iam:CreateUser", False),
    ("ec2:Describe*", "ec2:DescribeInstances", True),
    ("ec2:Describe*", "EC2:describeinstances", True),
    ("ec2:Describe*", "ec2:RunInstances", False),
    ("iam:Get?ser", "iam:GetUser", True),
    ("iam:Get?ser", "iam:GetUUser", False),
    ("iam:Get??er", "iam:GetUser", True),
    ("iam:*User", "iam:GetUser", True),
    ("iam:*User", "iam:GetUserPolicy", False),
    ("iam:*User*", "iam:GetUserPolicy", True),
    ("sts:AssumeRole", "sts:AssumeRoleWithSAML", False),
    ("sts:AssumeRole*", "sts:AssumeRoleWithSAML", True),
    ("dynamodb:*Item", "dynamodb:GetItem", True),
    ("dynamodb:*Item", "dynamodb:BatchGetItem", True),
    ("dynamodb:*Item", "dynamodb:Query", False),
    ("s3:GetObject", "s4:GetObject", False),
    ("s3:GetObject", "s3:GetObjec", False),
    ("s3:*Object", "s3:Object", True),
    ("organizations:List*", "organizations:ListAccounts", True),
    ("organizations:List*", "organizations:DescribeAccount", False),
    ("iam:?", "iam:X", True),
    ("iam:?", "iam:XY", False),
]
for i, (p, a, m) in enumerate(act_rows):
    cases.append(case(f"action {p} vs {a}", ACTION, [pol(st(action=p))], req(a), m, matched=[[0, 0]] if m else []))
    # the same in an array with a non-matching sibling
    cases.append(case(f"action list [{p}] vs {a}", ACTION, [pol(st(action=["zzz:Nothing", p]))], req(a), m))
    # NotAction is the complement
    cases.append(case(f"notaction {p} vs {a}", NOTACTION, [pol(st(action=None, NotAction=p))], req(a), not m))
cases.append(case("notaction with allow: all s3 except DeleteBucket (delete)", NOTACTION,
                  [pol(st(action=None, NotAction="s3:DeleteBucket", resource="arn:aws:s3:::*"))],
                  req("s3:DeleteBucket", "arn:aws:s3:::b"), False))
cases.append(case("notaction with allow also allows other services' actions on matching resource", NOTACTION,
                  [pol(st(action=None, NotAction="s3:DeleteBucket", resource="arn:aws:s3:::*"))],
                  req("s3:PutObject", "arn:aws:s3:::b/k"), True))
cases.append(case("notaction deny without MFA: iam actions excluded", NOTACTION,
                  [pol(st(action="*"), st("Deny", action=None, NotAction="iam:*",
                                           Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}))],
                  req("iam:ListUsers", context={"aws:MultiFactorAuthPresent": ["false"]}), True, matched=[[0, 0]]))
cases.append(case("notaction deny without MFA: other actions denied", NOTACTION,
                  [pol(st(action="*"), st("Deny", action=None, NotAction="iam:*",
                                           Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}))],
                  req("ec2:RunInstances", context={"aws:MultiFactorAuthPresent": ["false"]}), False, True,
                  matched=[[0, 0], [0, 1]]))
total += write("actions.json", cases)

# ---------------------------------------------------------------- resources
cases = []
res_rows = [
    ("*", "arn:aws:s3:::bucket/key", True),
    ("*", "*", True),
    ("arn:aws:s3:::bucket", "arn:aws:s3:::bucket", True),
    ("arn:aws:s3:::bucket", "arn:aws:s3:::Bucket", False),  # case-sensitive
    ("arn:aws:s3:::bucket", "arn:aws:s3:::bucket/key", False),
    ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/key", True),
    ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c", True),
    ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", False),
    ("arn:aws:s3:::bucket*", "arn:aws:s3:::bucket", True),
    ("arn:aws:s3:::bucket*", "arn:aws:s3:::bucket2/x", True),
    ("arn:aws:s3:::*", "arn:aws:s3:::anything/at/all", True),
    ("arn:aws:s3:::bucket/?", "arn:aws:s3:::bucket/a", True),
    ("arn:aws:s3:::bucket/?", "arn:aws:s3:::bucket/ab", False),
    ("arn:aws:iam::111122223333:user/*", "arn:aws:iam::111122223333:user/Bob", True),
    ("arn:aws:iam::111122223333:user/*", "arn:aws:iam::111122223333:user/division_abc/subdivision_xyz/Bob", True),
    ("arn:aws:iam::111122223333:user/*", "arn:aws:iam::444455556666:user/Bob", False),
    ("arn:aws:iam::111122223333:user/Bob", "arn:aws:iam::111122223333:user/bob", False),
    ("arn:aws:iam::*:user/Bob", "arn:aws:iam::444455556666:user/Bob", True),
    ("arn:aws:iam::*:user/Bob", "arn:aws:iam::444455556666:role/Bob", False),
    ("arn:aws:iam::111122223333:*", "arn:aws:iam::111122223333:role/r", True),
    ("arn:aws:iam::111122223333:*", "arn:aws:iam::111122223333:user/path/u", True),
    ("arn:aws:iam::111122223333:role/*", "arn:aws:iam::111122223333:user/role/x", False),
    ("arn:aws:dynamodb:us-east-2:111122223333:table/*", "arn:aws:dynamodb:us-east-2:111122223333:table/Books", True),
    ("arn:aws:dynamodb:*:111122223333:table/*", "arn:aws:dynamodb:eu-west-1:111122223333:table/Books", True),
    ("arn:aws:dynamodb:us-east-2:111122223333:table/*", "arn:aws:dynamodb:eu-west-1:111122223333:table/Books", False),
    ("arn:aws:ec2:us-east-1:*:instance/*", "arn:aws:ec2:us-east-1:111122223333:instance/i-123", True),
    ("arn:aws:logs:us-east-1:111122223333:log-group:g:*", "arn:aws:logs:us-east-1:111122223333:log-group:g:log-stream:s", True),
    ("arn:aws:logs:us-east-1:111122223333:log-group:*", "arn:aws:logs:us-east-1:111122223333:log-group:g:log-stream:s", True),
    # '*' in the resource part spans ':' and '/', but not into other components
    ("arn:aws:iam::111122223333:user*", "arn:aws:iam::111122223333:user/a:b", True),
    ("arn:aws:iam::*", "arn:aws:iam::111122223333:user/x", True),
    ("arn:aws:*", "arn:aws:sqs:us-east-1:111122223333:q", True),
    ("arn:aws:*", "arn:aws-cn:sqs:cn-north-1:111122223333:q", False),
    ("arn:*", "arn:aws-cn:sqs:cn-north-1:111122223333:q", True),
    ("arn:aws:s*:::b", "arn:aws:s3:::b", True),
    ("arn:aws:s3:::b", "arn:aws:s3:us-east-1::b", False),
    ("arn:aws:sqs:*:111122223333:queue?", "arn:aws:sqs:us-east-1:111122223333:queue1", True),
    ("arn:aws:sqs:*:111122223333:queue?", "arn:aws:sqs:us-east-1:111122223333:queue12", False),
    ("arn:aws:s3:::b/*", "*", False),
    ("arn:aws:s3:::café/*", "arn:aws:s3:::café/x", True),
    ("arn:aws:s3:::caf?/x", "arn:aws:s3:::café/x", True),
]
for p, r, m in res_rows:
    cases.append(case(f"resource {p} vs {r}", RESOURCE, [pol(st(action="s3:GetObject", resource=p))],
                      req("s3:GetObject", r), m, matched=[[0, 0]] if m else []))
    cases.append(case(f"notresource {p} vs {r}", NOTRESOURCE,
                      [pol(st(action="s3:GetObject", resource=None, NotResource=p))], req("s3:GetObject", r), not m))
cases.append(case("notresource deny all but payroll folder (other bucket denied)", NOTRESOURCE,
                  [pol(st(action="s3:*", resource="*"),
                       st("Deny", action="s3:*", resource=None,
                          NotResource=["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]))],
                  req("s3:GetObject", "arn:aws:s3:::Other/x"), False, True, matched=[[0, 0], [0, 1]]))
cases.append(case("notresource deny all but payroll folder (payroll allowed)", NOTRESOURCE,
                  [pol(st(action="s3:*", resource="*"),
                       st("Deny", action="s3:*", resource=None,
                          NotResource=["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]))],
                  req("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/jan.csv"), True, matched=[[0, 0]]))
total += write("resources.json", cases)

# ---------------------------------------------------------------- principals
cases = []
user = {"account": ACCT, "arn": f"arn:aws:iam::{ACCT}:user/Bob"}
root = {"account": ACCT, "arn": f"arn:aws:iam::{ACCT}:root"}
sess = {"account": ACCT, "arn": f"arn:aws:iam::{ACCT}:role/Admin",
        "session_arn": f"arn:aws:sts::{ACCT}:assumed-role/Admin/alice"}
sess2 = {"account": ACCT, "arn": f"arn:aws:iam::{ACCT}:role/Admin",
         "session_arn": f"arn:aws:sts::{ACCT}:assumed-role/Admin/mallory"}
other = {"account": OTHER, "arn": f"arn:aws:iam::{OTHER}:user/Bob"}
anon = {"anonymous": True}
svc = {"service": "ec2.amazonaws.com"}
fed = {"federated": "cognito-identity.amazonaws.com"}
saml = {"federated": f"arn:aws:iam::{ACCT}:saml-provider/Okta"}
callers = {"user": user, "root": root, "session": sess, "session2": sess2, "other-account": other,
           "anonymous": anon, "service": svc, "web-identity": fed, "saml": saml}
prin_rows = [
    ("*", {"user", "root", "session", "session2", "other-account", "anonymous", "service", "web-identity", "saml"}),
    ({"AWS": "*"}, {"user", "root", "session", "session2", "other-account", "anonymous", "service", "web-identity", "saml"}),
    ({"AWS": ACCT}, {"user", "root", "session", "session2"}),
    ({"AWS": f"arn:aws:iam::{ACCT}:root"}, {"user", "root", "session", "session2"}),
    ({"AWS": [f"arn:aws:iam::{ACCT}:root", OTHER]}, {"user", "root", "session", "session2", "other-account"}),
    ({"AWS": f"arn:aws:iam::{ACCT}:user/Bob"}, {"user"}),
    ({"AWS": f"arn:aws:iam::{OTHER}:user/Bob"}, {"other-account"}),
    ({"AWS": f"arn:aws:iam::{ACCT}:role/Admin"}, {"session", "session2"}),
    ({"AWS": f"arn:aws:sts::{ACCT}:assumed-role/Admin/alice"}, {"session"}),
    ({"Service": "ec2.amazonaws.com"}, {"service"}),
    ({"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"]}, {"service"}),
    ({"Service": "lambda.amazonaws.com"}, set()),
    ({"Federated": "cognito-identity.amazonaws.com"}, {"web-identity"}),
    ({"Federated": f"arn:aws:iam::{ACCT}:saml-provider/Okta"}, {"saml"}),
    ({"AWS": f"arn:aws:iam::{ACCT}:user/Bob", "Service": "ec2.amazonaws.com"}, {"user", "service"}),
]
for p, who in prin_rows:
    for cname, caller in callers.items():
        m = cname in who
        cases.append(case(f"principal {json.dumps(p)} vs {cname}", PRINCIPAL,
                          [pol(st(action="s3:GetObject", resource="arn:aws:s3:::b/*", Principal=p))],
                          req("s3:GetObject", "arn:aws:s3:::b/k", principal=caller), m, kind="Resource"))
def not_principal_excludes(spec, c):
    # NotPrincipal page: AWS checks account, then role, then session; every
    # layer of the caller must be named for the caller to be exempt.
    aws = spec.get("AWS", []) if isinstance(spec, dict) else []
    aws = [aws] if isinstance(aws, str) else aws
    if "*" in aws:
        return True
    if c.get("anonymous"):
        return False
    if "service" in c:
        svcs = spec.get("Service", [])
        return c["service"] in ([svcs] if isinstance(svcs, str) else svcs)
    if "federated" in c:
        feds = spec.get("Federated", [])
        return c["federated"] in ([feds] if isinstance(feds, str) else feds)
    acct_named = c["account"] in aws or f"arn:aws:iam::{c['account']}:root" in aws
    arn_named = c["arn"].endswith(":root") or c["arn"] in aws
    sess_named = "session_arn" not in c or c["session_arn"] in aws
    return acct_named and arn_named and sess_named


np_rows = [p for p, _ in prin_rows[2:9]] + [
    {"AWS": [f"arn:aws:iam::{ACCT}:user/Bob", f"arn:aws:iam::{ACCT}:root"]},
    {"AWS": [f"arn:aws:sts::{ACCT}:assumed-role/Admin/alice", f"arn:aws:iam::{ACCT}:role/Admin", ACCT]},
    {"AWS": [f"arn:aws:sts::{ACCT}:assumed-role/Admin/alice", f"arn:aws:iam::{ACCT}:role/Admin"]},
    {"Service": "ec2.amazonaws.com"},
]
for p in np_rows:
    for cname, caller in callers.items():
        m = not not_principal_excludes(p, caller)
        cases.append(case(f"notprincipal deny {json.dumps(p)} vs {cname}", NOTPRINCIPAL,
                          [pol(st("Deny", action="s3:GetObject", resource="arn:aws:s3:::b/*", NotPrincipal=p))],
                          req("s3:GetObject", "arn:aws:s3:::b/k", principal=caller), False, m, kind="Resource"))
# trust policies
for cname, caller in callers.items():
    cases.append(case(f"trust policy: account root trusts {cname}", TRUST,
                      [pol({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"}, "Action": "sts:AssumeRole"})],
                      req("sts:AssumeRole", f"arn:aws:iam::{ACCT}:role/R", principal=caller),
                      cname in {"user", "root", "session", "session2"}, kind="Trust"))
    cases.append(case(f"trust policy: ec2 service trusts {cname}", TRUST,
                      [pol({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})],
                      req("sts:AssumeRole", f"arn:aws:iam::{ACCT}:role/R", principal=caller),
                      cname == "service", kind="Trust"))
cases.append(case("trust policy does not grant other sts actions", TRUST,
                  [pol({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})],
                  req("sts:TagSession", f"arn:aws:iam::{ACCT}:role/R", principal=svc), False, kind="Trust"))
cases.append(case("trust policy web identity with aud condition", TRUST,
                  [pol({"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:12345678-abcd"}}})],
                  req("sts:AssumeRoleWithWebIdentity", f"arn:aws:iam::{ACCT}:role/R", principal=fed,
                      context={"cognito-identity.amazonaws.com:aud": ["us-east-1:12345678-abcd"]}), True, kind="Trust"))
cases.append(case("trust policy web identity wrong aud", TRUST,
                  [pol({"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:12345678-abcd"}}})],
                  req("sts:AssumeRoleWithWebIdentity", f"arn:aws:iam::{ACCT}:role/R", principal=fed,
                      context={"cognito-identity.amazonaws.com:aud": ["other"]}), False, kind="Trust"))
total += write("principals.json", cases)

# ---------------------------------------------------------------- string operators
cases = []


def cond_case(fname_cases, name, source, op, key, pvals, ctx, expect, missing=None):
    pv = pvals if isinstance(pvals, list) and len(pvals) != 1 else (pvals[0] if isinstance(pvals, list) else pvals)
    context = None if ctx is None else {key if isinstance(ctx, list) else k: v for k, v in ([(key, ctx)] if isinstance(ctx, list) else ctx.items())}
    fname_cases.append(case(name, source, [pol(st(action="s3:GetObject", Condition={op: {key: pv}}))],
                            req("s3:GetObject", context=context), expect, matched=[[0, 0]] if expect else [],
                            missing=missing))


def s_eq(a, b): return a == b
def s_eqic(a, b): return a.lower() == b.lower()


def s_like(p, s):
    # independent glob: translate to a regex over the whole string
    import re
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in p)
    return re.fullmatch(rx, s, re.S) is not None


str_ops = {"StringEquals": (s_eq, False), "StringNotEquals": (s_eq, True),
           "StringEqualsIgnoreCase": (s_eqic, False), "StringNotEqualsIgnoreCase": (s_eqic, True),
           "StringLike": (s_like, False), "StringNotLike": (s_like, True)}
str_vals = [["Engineering"], ["engineering"], ["Eng*"], ["Eng?neering"], ["Sales", "Engineering"], ["*"], ["Marketing"], [""]]
str_reqs = ["Engineering", "ENGINEERING", "Eng*", "Sales", ""]
for op, (fn, neg) in str_ops.items():
    for pv in str_vals:
        for rv in str_reqs:
            pos = any(fn(p, rv) for p in pv)
            cond_case(cases, f"{op} {pv} vs {rv!r}", CONDOPS, op, "aws:PrincipalTag/dept", pv, [rv], pos != neg)
        # missing key: positive operators fail, negated succeed
        cond_case(cases, f"{op} {pv} missing key", CONDOPS, op, "aws:PrincipalTag/dept", pv, None, neg,
                  missing=["aws:PrincipalTag/dept"])
        cond_case(cases, f"{op}IfExists {pv} missing key", CONDOPS, op + "IfExists", "aws:PrincipalTag/dept", pv, None, True,
                  missing=[])
    cond_case(cases, f"{op}IfExists present", CONDOPS, op + "IfExists", "aws:PrincipalTag/dept", ["Engineering"],
              ["Engineering"], (not neg))
# key names are case-insensitive, values case-sensitive
cases.append(case("condition key name is case-insensitive", COND,
                  [pol(st(action="s3:GetObject", Condition={"StringEquals": {"AWS:PrincipalTag/Dept": "Eng"}}))],
                  req("s3:GetObject", context={"aws:principaltag/dept": ["Eng"]}), True))
total += write("condition_string.json", cases)

# ---------------------------------------------------------------- numeric / date
cases = []
num_ops = {"NumericEquals": lambda a, b: a == b, "NumericNotEquals": lambda a, b: a != b,
           "NumericLessThan": lambda a, b: a < b, "NumericLessThanEquals": lambda a, b: a <= b,
           "NumericGreaterThan": lambda a, b: a > b, "NumericGreaterThanEquals": lambda a, b: a >= b}
for op, fn in num_ops.items():
    for pv in ["10", "10.5", "-3"]:
        for rv in ["9", "10", "10.0", "10.5", "11", "-3", "-4"]:
            cond_case(cases, f"{op} {pv} vs {rv}", CONDOPS, op, "s3:max-keys", [pv], [rv], fn(float(rv), float(pv)))
    cond_case(cases, f"{op} non-numeric request value", CONDOPS, op, "s3:max-keys", ["10"], ["ten"],
              op == "NumericNotEquals")
    cond_case(cases, f"{op} missing key", CONDOPS, op, "s3:max-keys", ["10"], None, op == "NumericNotEquals",
              missing=["s3:max-keys"])
date_ops = {"DateEquals": lambda a, b: a == b, "DateNotEquals": lambda a, b: a != b,
            "DateLessThan": lambda a, b: a < b, "DateLessThanEquals": lambda a, b: a <= b,
            "DateGreaterThan": lambda a, b: a > b, "DateGreaterThanEquals": lambda a, b: a >= b}
base = datetime.datetime(2020, 1, 1, 0, 0, 0, tzinfo=datetime.timezone.utc)
policy_dates = [("2020-01-01T00:00:00Z", base), ("1577836800", base), ("2020-01-01", base),
                ("2020-01-01T01:00:00+01:00", base)]
req_dates = [("2019-12-31T23:59:59Z", base - datetime.timedelta(seconds=1)), ("2020-01-01T00:00:00Z", base),
             ("2020-01-01T00:00:01Z", base + datetime.timedelta(seconds=1)), ("1577836801", base + datetime.timedelta(seconds=1))]
for op, fn in date_ops.items():
    for ps, pt in policy_dates:
        for rs, rt in req_dates:
            cond_case(cases, f"{op} {ps} vs {rs}", CONDOPS, op, "aws:CurrentTime", [ps], [rs], fn(rt, pt))
    cond_case(cases, f"{op} missing key", CONDOPS, op, "aws:CurrentTime", ["2020-01-01T00:00:00Z"], None,
              op == "DateNotEquals", missing=["aws:CurrentTime"])
total += write("condition_numeric_date.json", cases)

# ---------------------------------------------------------------- bool, binary, ip, arn, null
cases = []
for pv in ["true", "false"]:
    for rv in ["true", "false", "TRUE"]:
        cond_case(cases, f"Bool {pv} vs {rv}", CONDOPS, "Bool", "aws:SecureTransport", [pv], [rv], pv == rv.lower())
    cond_case(cases, f"Bool {pv} missing", CONDOPS, "Bool", "aws:SecureTransport", [pv], None, False,
              missing=["aws:SecureTransport"])
    cond_case(cases, f"BoolIfExists {pv} missing", CONDOPS, "BoolIfExists", "aws:SecureTransport", [pv], None, True)
cond_case(cases, "Bool json true literal", CONDOPS, "Bool", "aws:SecureTransport", [True], ["true"], True)
for pv, rv, m in [("QmluYXJ5VmFsdWVJbkJhc2U2NA==", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", True),
                  ("QmluYXJ5VmFsdWVJbkJhc2U2NA==", "T3RoZXI=", False),
                  ("AAEC", "AAEC", True), ("AAEC", "AAED", False)]:
    cond_case(cases, f"BinaryEquals {pv} vs {rv}", CONDOPS, "BinaryEquals", "aws:ExampleBinary", [pv], [rv], m)
ip_pol = [["203.0.113.0/24"], ["2001:DB8:1234:5678::/64"], ["203.0.113.0/24", "2001:DB8:1234:5678::/64"],
          ["192.0.2.1"], ["10.0.0.0/8"]]
ip_req = ["203.0.113.7", "203.0.114.1", "2001:db8:1234:5678::1", "2001:db8:1234:5679::1", "192.0.2.1",
          "10.255.255.255", "::ffff:203.0.113.9", "not-an-ip"]
for pv in ip_pol:
    nets = [ipaddress.ip_network(p.lower(), strict=False) for p in pv]
    for rv in ip_req:
        try:
            a = ipaddress.ip_address(rv)
            if getattr(a, "ipv4_mapped", None):
                a = a.ipv4_mapped
            inside = any(a.version == n.version and a in n for n in nets)
        except ValueError:
            inside = None
        cond_case(cases, f"IpAddress {pv} vs {rv}", CONDOPS, "IpAddress", "aws:SourceIp", pv, [rv], bool(inside))
        cond_case(cases, f"NotIpAddress {pv} vs {rv}", CONDOPS, "NotIpAddress", "aws:SourceIp", pv, [rv],
                  inside is False or inside is None)
    cond_case(cases, f"IpAddress {pv} missing", CONDOPS, "IpAddress", "aws:SourceIp", pv, None, False,
              missing=["aws:SourceIp"])
    cond_case(cases, f"NotIpAddress {pv} missing", CONDOPS, "NotIpAddress", "aws:SourceIp", pv, None, True,
              missing=["aws:SourceIp"])


def arn_like(p, s):
    pp, sp = p.split(":", 5), s.split(":", 5)
    if len(pp) != 6 or len(sp) != 6:
        return s_like(p, s)
    return all(s_like(a, b) for a, b in zip(pp, sp))


arn_pol = ["arn:aws:iam::111122223333:role/Admin", "arn:aws:iam::111122223333:role/*",
           "arn:aws:iam::*:role/Admin", "arn:aws:iam::111122223333:*", "arn:aws:sns:*:111122223333:topic?"]
arn_req = ["arn:aws:iam::111122223333:role/Admin", "arn:aws:iam::111122223333:role/admin",
           "arn:aws:iam::444455556666:role/Admin", "arn:aws:iam::111122223333:user/Admin",
           "arn:aws:sns:us-east-1:111122223333:topic1", "arn:aws:iam::111122223333:role/path/Admin"]
for op, neg in [("ArnEquals", False), ("ArnLike", False), ("ArnNotEquals", True), ("ArnNotLike", True)]:
    for pv in arn_pol:
        for rv in arn_req:
            cond_case(cases, f"{op} {pv} vs {rv}", CONDOPS, op, "aws:PrincipalArn", [pv], [rv], arn_like(pv, rv) != neg)
    cond_case(cases, f"{op} missing", CONDOPS, op, "aws:SourceArn", [arn_pol[0]], None, neg, missing=["aws:SourceArn"])
    cond_case(cases, f"{op}IfExists missing", CONDOPS, op + "IfExists", "aws:SourceArn", [arn_pol[0]], None, True)
for pv in ["true", "false"]:
    for present in [True, False]:
        cond_case(cases, f"Null {pv} key present={present}", CONDOPS, "Null", "aws:TokenIssueTime", [pv],
                  ["2020-01-01T00:00:00Z"] if present else None, (pv == "true") != present, missing=[])
cond_case(cases, "Null true on present empty set", CONDOPS, "Null", "aws:TagKeys", ["true"], [], True)
cond_case(cases, "Null [true,false] is always true (OR)", CONDOPS, "Null", "aws:TagKeys", ["true", "false"], ["a"], True)
total += write("condition_other.json", cases)

# ---------------------------------------------------------------- multivalued
cases = []
# ForAllValues / ForAnyValue: from the single- vs multi-valued keys page.
sets = {"missing": None, "empty": [], "one-allowed": ["environment"], "both-allowed": ["environment", "cost-center"],
        "one-disallowed": ["environment", "owner"], "disallowed": ["owner"]}
allowed_tags = ["environment", "cost-center"]
for op in ["StringEquals", "StringNotEquals", "StringLike", "StringNotLike", "StringEqualsIgnoreCase"]:
    fn, neg = str_ops[op]
    for q in ["ForAllValues", "ForAnyValue"]:
        for sname, vals in sets.items():
            if vals is None or len(vals) == 0:
                exp = q == "ForAllValues"
            elif q == "ForAllValues":
                exp = all((any(fn(p, v) for p in allowed_tags)) != neg for v in vals)
            else:
                exp = any((any(fn(p, v) for p in allowed_tags)) != neg for v in vals)
            cond_case(cases, f"{q}:{op} tags {sname}", MULTI, f"{q}:{op}", "aws:TagKeys", allowed_tags, vals, exp,
                      missing=["aws:TagKeys"] if vals is None else None)
            cond_case(cases, f"{q}:{op}IfExists tags {sname}", MULTI, f"{q}:{op}IfExists", "aws:TagKeys", allowed_tags,
                      vals, True if vals is None else exp)
# unqualified operator over a multi-valued key: any request value matching any policy value
for sname, vals in sets.items():
    if vals is None:
        continue
    exp = any(v in allowed_tags for v in vals)
    cond_case(cases, f"StringEquals unqualified over set {sname}", MULTI, "StringEquals", "aws:TagKeys", allowed_tags, vals, exp)
# Multiple keys AND, multiple operators AND, values OR
c2 = {"StringEquals": {"aws:PrincipalTag/dept": ["Eng", "Ops"], "aws:RequestedRegion": "us-east-1"},
      "Bool": {"aws:SecureTransport": "true"}}
for dept, region, tls in itertools.product(["Eng", "Ops", "Sales"], ["us-east-1", "eu-west-1"], ["true", "false"]):
    exp = dept in ("Eng", "Ops") and region == "us-east-1" and tls == "true"
    cases.append(case(f"AND of keys/operators, OR of values: {dept} {region} {tls}", COND,
                      [pol(st(action="ec2:RunInstances", Condition=c2))],
                      req("ec2:RunInstances", context={"aws:PrincipalTag/dept": [dept], "aws:RequestedRegion": [region],
                                                       "aws:SecureTransport": [tls]}), exp))
total += write("condition_multivalued.json", cases)

# ---------------------------------------------------------------- variables
cases = []
home = pol(st(action="s3:*", resource=["arn:aws:s3:::bucket/home/${aws:username}", "arn:aws:s3:::bucket/home/${aws:username}/*"]))
for uname, res, exp in [("Bob", "arn:aws:s3:::bucket/home/Bob/notes.txt", True),
                        ("Bob", "arn:aws:s3:::bucket/home/Bob", True),
                        ("Bob", "arn:aws:s3:::bucket/home/Alice/notes.txt", False),
                        ("bob", "arn:aws:s3:::bucket/home/Bob/notes.txt", False),
                        (None, "arn:aws:s3:::bucket/home/Bob/notes.txt", False),
                        (None, "arn:aws:s3:::bucket/home/${aws:username}/x", False),
                        ("*", "arn:aws:s3:::bucket/home/Bob/x", False),
                        ("*", "arn:aws:s3:::bucket/home/*/x", True)]:
    ctx = {"aws:username": [uname]} if uname is not None else None
    cases.append(case(f"resource variable aws:username={uname} {res}", VARS, [home], req("s3:GetObject", res, ctx), exp))
legacy = pol(st(action="s3:*", resource="arn:aws:s3:::bucket/home/${aws:username}/*"), version=None)
cases.append(case("no Version: variable is literal text (no match on value)", VERSION, [legacy],
                  req("s3:GetObject", "arn:aws:s3:::bucket/home/Bob/x", {"aws:username": ["Bob"]}), False))
cases.append(case("no Version: variable is literal text (matches literally)", VERSION, [legacy],
                  req("s3:GetObject", "arn:aws:s3:::bucket/home/${aws:username}/x", {"aws:username": ["Bob"]}), True))
legacy08 = pol(st(action="s3:*", resource="arn:aws:s3:::bucket/home/${aws:username}/*"), version="2008-10-17")
cases.append(case("Version 2008-10-17: variable is literal", VERSION, [legacy08],
                  req("s3:GetObject", "arn:aws:s3:::bucket/home/Bob/x", {"aws:username": ["Bob"]}), False))
# special characters
for pat, res, exp in [("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/*", True), ("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/x", False),
                      ("arn:aws:s3:::b/${?}", "arn:aws:s3:::b/?", True), ("arn:aws:s3:::b/${?}", "arn:aws:s3:::b/x", False),
                      ("arn:aws:s3:::b/${$}x", "arn:aws:s3:::b/$x", True)]:
    cases.append(case(f"special variable {pat} vs {res}", VARS, [pol(st(action="s3:*", resource=pat))],
                      req("s3:GetObject", res), exp))
# principal tags and defaults
tagpol = pol(st(action="s3:*", resource="arn:aws:s3:::bucket/${aws:PrincipalTag/team, 'company-wide'}/*"))
for tag, res, exp in [("blue", "arn:aws:s3:::bucket/blue/x", True), ("blue", "arn:aws:s3:::bucket/company-wide/x", False),
                      (None, "arn:aws:s3:::bucket/company-wide/x", True), (None, "arn:aws:s3:::bucket/blue/x", False)]:
    ctx = {"aws:PrincipalTag/team": [tag]} if tag else None
    cases.append(case(f"variable default value: tag={tag} {res}", VARS, [tagpol], req("s3:GetObject", res, ctx), exp))
# multi-valued key cannot be a variable
cases.append(case("multivalued key as variable resolves to nothing", VARS,
                  [pol(st(action="s3:*", resource="arn:aws:s3:::b/${aws:TagKeys}/*"))],
                  req("s3:GetObject", "arn:aws:s3:::b/a/x", {"aws:TagKeys": ["a", "b"]}), False))
# NotResource with unresolved variable: ARN matches nothing, so NotResource applies to everything
cases.append(case("notresource with unresolved variable applies", VARS,
                  [pol(st("Deny", action="s3:*", resource=None, NotResource="arn:aws:s3:::b/${aws:username}/*"),
                       st(action="s3:*"))],
                  req("s3:GetObject", "arn:aws:s3:::b/Bob/x"), False, True))
# variables in conditions
condvar = lambda op, v: pol(st(action="s3:ListBucket", resource="arn:aws:s3:::b", Condition={op: {"s3:prefix": v}}))
for op, v, ctx, exp in [
    ("StringLike", "home/${aws:username}/*", {"s3:prefix": ["home/Bob/docs"], "aws:username": ["Bob"]}, True),
    ("StringLike", "home/${aws:username}/*", {"s3:prefix": ["home/Alice/docs"], "aws:username": ["Bob"]}, False),
    ("StringLike", "home/${aws:username}/*", {"s3:prefix": ["home/Bob/docs"]}, False),
    ("StringNotLike", "home/${aws:username}/*", {"s3:prefix": ["home/Bob/docs"]}, True),
    ("StringNotLike", "home/${aws:username}/*", {"s3:prefix": ["home/Bob/docs"], "aws:username": ["Bob"]}, False),
    ("StringEquals", "${aws:username}", {"s3:prefix": ["Bob"], "aws:username": ["Bob"]}, True),
    ("StringEquals", "${aws:username}", {"s3:prefix": ["Bob"]}, False),
    ("StringNotEquals", "${aws:username}", {"s3:prefix": ["Bob"]}, True),
    ("StringEquals", "${aws:username}", {"s3:prefix": ["*"], "aws:username": ["*"]}, True),
    ("StringLike", "${aws:username}", {"s3:prefix": ["Bob"], "aws:username": ["*"]}, False),
    ("StringEquals", ["${aws:username}", "shared"], {"s3:prefix": ["shared"]}, True),
    ("StringEqualsIgnoreCase", "${aws:username}", {"s3:prefix": ["BOB"], "aws:username": ["bob"]}, True),
    ("StringEquals", "${aws:PrincipalTag/x, 'dflt'}", {"s3:prefix": ["dflt"]}, True),
    ("NumericEquals", "${aws:username}", {"s3:prefix": ["1"], "aws:username": ["1"]}, False),
]:
    cases.append(case(f"condition variable {op} {v} ctx={sorted(ctx.items())}", VARS, [condvar(op, v)],
                      req("s3:ListBucket", "arn:aws:s3:::b", ctx), exp))
cases.append(case("ArnLike condition with variable", VARS,
                  [pol(st(action="iam:PassRole", Condition={"ArnLike": {"iam:AssociatedResourceArn": "arn:aws:ec2:*:*:instance/${aws:PrincipalTag/inst}"}}))],
                  req("iam:PassRole", context={"iam:AssociatedResourceArn": ["arn:aws:ec2:us-east-1:111122223333:instance/i-1"],
                                                "aws:PrincipalTag/inst": ["i-1"]}), True))
total += write("variables.json", cases)

# ---------------------------------------------------------------- evaluation logic
cases = []
A = lambda **kw: st(**kw)
cases.append(case("implicit deny when nothing matches", EVAL, [pol(st(action="s3:GetObject"))], req("s3:PutObject"), False, False, []))
cases.append(case("explicit allow", EVAL, [pol(st(action="s3:GetObject"))], req("s3:GetObject"), True, False, [[0, 0]]))
cases.append(case("explicit deny overrides allow in same policy", EVAL,
                  [pol(st(action="s3:*"), st("Deny", action="s3:DeleteBucket"))], req("s3:DeleteBucket"), False, True, [[0, 0], [0, 1]]))
cases.append(case("explicit deny overrides allow across policies", EVAL,
                  [pol(st(action="s3:*")), pol(st("Deny", action="s3:DeleteBucket"))], req("s3:DeleteBucket"), False, True, [[0, 0], [1, 0]]))
cases.append(case("deny of other action does not block", EVAL,
                  [pol(st(action="s3:*")), pol(st("Deny", action="s3:DeleteBucket"))], req("s3:GetObject"), True, False, [[0, 0]]))
cases.append(case("deny alone gives denied, not allowed", EVAL, [pol(st("Deny", action="*"))], req("ec2:RunInstances"), False, True, [[0, 0]]))
cases.append(case("all matching statements reported in order", EVAL,
                  [pol(st(action="s3:Get*"), st(action="s3:GetObject"), st(action="*")), pol(st(action="s3:*"))],
                  req("s3:GetObject"), True, False, [[0, 0], [0, 1], [0, 2], [1, 0]]))
cases.append(case("deny with unmet condition does not apply", EVAL,
                  [pol(st(action="*"), st("Deny", action="*", Condition={"Bool": {"aws:SecureTransport": "false"}}))],
                  req("s3:GetObject", context={"aws:SecureTransport": ["true"]}), True, False, [[0, 0]]))
cases.append(case("deny with met condition applies", EVAL,
                  [pol(st(action="*"), st("Deny", action="*", Condition={"Bool": {"aws:SecureTransport": "false"}}))],
                  req("s3:GetObject", context={"aws:SecureTransport": ["false"]}), False, True, [[0, 0], [0, 1]]))
cases.append(case("region restriction deny with StringNotEquals", EVAL,
                  [pol(st(action="*"), st("Deny", action=None, NotAction=["iam:*", "organizations:*"],
                                           Condition={"StringNotEquals": {"aws:RequestedRegion": ["eu-central-1", "eu-west-1"]}}))],
                  req("ec2:RunInstances", context={"aws:RequestedRegion": ["us-east-1"]}), False, True))
cases.append(case("region restriction allows listed region", EVAL,
                  [pol(st(action="*"), st("Deny", action=None, NotAction=["iam:*", "organizations:*"],
                                           Condition={"StringNotEquals": {"aws:RequestedRegion": ["eu-central-1", "eu-west-1"]}}))],
                  req("ec2:RunInstances", context={"aws:RequestedRegion": ["eu-west-1"]}), True, False))
cases.append(case("region restriction exempts global service", EVAL,
                  [pol(st(action="*"), st("Deny", action=None, NotAction=["iam:*", "organizations:*"],
                                           Condition={"StringNotEquals": {"aws:RequestedRegion": ["eu-central-1", "eu-west-1"]}}))],
                  req("iam:CreateUser", context={"aws:RequestedRegion": ["us-east-1"]}), True, False))
cases.append(case("empty set of policies is implicit deny", EVAL, [], req("s3:GetObject"), False, False, []))
cases.append(case("Sid is reported", STATEMENT, [pol(dict(st(action="s3:GetObject"), Sid="ReadOnly"))], req("s3:GetObject"), True, False, [[0, 0]]))
cases.append(case("statement as single object", STATEMENT, [{"Version": "2012-10-17", "Statement": st(action="s3:GetObject")}],
                  req("s3:GetObject"), True, False, [[0, 0]]))
# missing keys reporting
cases.append(case("missing keys reported", EVAL,
                  [pol(st(action="*", Condition={"StringEquals": {"aws:PrincipalTag/team": "a"}}))],
                  req("s3:GetObject"), False, False, [], ["aws:PrincipalTag/team"]))
# index stress: many services, correct selection
many = [st(action=f"svc{i}:Action{j}") for i in range(10) for j in range(10)]
for i, j in [(0, 0), (3, 7), (9, 9)]:
    cases.append(case(f"index picks svc{i}:Action{j} among 100", EVAL, [pol(*many)], req(f"svc{i}:action{j}"), True, False, [[0, i * 10 + j]]))
cases.append(case("index: unknown action among 100", EVAL, [pol(*many)], req("svc1:Action10"), False, False, []))
cases.append(case("index: wildcard and exact mixed", EVAL, [pol(*(many + [st(action="svc1:Action1*")]))], req("svc1:Action10"), True, False, [[0, 100]]))
cases.append(case("index: wildcard and exact both match", EVAL, [pol(*(many + [st(action="svc1:Action1*")]))], req("svc1:Action1"), True, False, [[0, 11], [0, 100]]))
# SCP / RCP / session / boundary are evaluated the same way within one set
cases.append(case("SCP allow list: action outside is implicit deny", SCPS,
                  [pol(st(action=["ec2:*", "s3:*"]))], req("iam:CreateUser"), False, kind="SCP"))
cases.append(case("SCP deny with condition", SCPS,
                  [pol(st(action="*"), st("Deny", action="ec2:RunInstances", resource="arn:aws:ec2:*:*:instance/*",
                                          Condition={"StringNotEquals": {"ec2:InstanceType": "t2.micro"}}))],
                  req("ec2:RunInstances", "arn:aws:ec2:us-east-1:111122223333:instance/i-1", {"ec2:InstanceType": ["m5.large"]}),
                  False, True, kind="SCP"))
cases.append(case("RCP full access allows", RCPS,
                  [pol({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"})],
                  req("s3:GetObject", "arn:aws:s3:::b/k", principal=user), True, kind="RCP"))
cases.append(case("RCP deny non-TLS", RCPS,
                  [pol({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
                       {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                        "Condition": {"BoolIfExists": {"aws:SecureTransport": "false"}}})],
                  req("s3:GetObject", "arn:aws:s3:::b/k", {"aws:SecureTransport": ["false"]}, principal=user), False, True, kind="RCP"))
total += write("evaluation.json", cases)

# ---------------------------------------------------------------- parse errors
cases = []
E = err
cases += [
    E("invalid json", GRAMMAR, '{"Version":"2012-10-17","Statement":[', "Syntax errors in policy."),
    E("not an object", GRAMMAR, '["Statement"]', "Syntax errors in policy."),
    E("empty document", GRAMMAR, '', "Syntax errors in policy."),
    E("trailing garbage", GRAMMAR, '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}} x', "Syntax errors in policy."),
    E("duplicate top-level key", GRAMMAR, '{"Version":"2012-10-17","Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}', "Syntax errors in policy."),
    E("duplicate statement key", GRAMMAR, '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}}', "Syntax errors in policy."),
    E("unknown top-level field", GRAMMAR, {"Version": "2012-10-17", "Comment": "x", "Statement": st()}, "Unknown field Comment"),
    E("unknown field lowercase statement", GRAMMAR, {"Version": "2012-10-17", "statement": st()}, "Unknown field statement"),
    E("unknown statement field", GRAMMAR, pol(dict(st(), Conditions={})), "Unknown field Conditions"),
    E("bad version", VERSION, pol(st(), version="2012-10-18"), "Syntax errors in policy."),
    E("version not a string", VERSION, {"Version": 2012, "Statement": st()}, "Syntax errors in policy."),
    E("missing statement", STATEMENT, {"Version": "2012-10-17"}, "Missing required field Statement"),
    E("empty statement array", STATEMENT, {"Version": "2012-10-17", "Statement": []}, "Missing required field Statement"),
    E("statement is a string", STATEMENT, {"Version": "2012-10-17", "Statement": "x"}, "Syntax errors in policy."),
    E("missing effect", GRAMMAR, pol({"Action": "*", "Resource": "*"}), "Missing required field Effect"),
    E("lowercase effect", GRAMMAR, pol(st(effect="allow")), "Invalid effect: allow"),
    E("effect not a string", GRAMMAR, pol({"Effect": True, "Action": "*", "Resource": "*"}), "Syntax errors in policy."),
    E("missing action", ACTION, pol(st(action=None)), "Policy statement must contain actions."),
    E("empty action array", ACTION, pol(st(action=[])), "Policy statement must contain actions."),
    E("action and notaction", NOTACTION, pol(st(NotAction="s3:*")), "Syntax errors in policy."),
    E("action without vendor", ACTION, pol(st(action="GetObject")), "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    E("action vendor wildcard", ACTION, pol(st(action="s3*:GetObject")), "Action vendors must not contain wildcards."),
    E("action is a number", ACTION, pol(st(action=3)), "Syntax errors in policy."),
    E("action list holds object", ACTION, pol(st(action=["s3:GetObject", {}])), "Syntax errors in policy."),
    E("missing resource identity", RESOURCE, pol(st(resource=None)), "Policy statement must contain resources."),
    E("empty resource array", RESOURCE, pol(st(resource=[])), "Policy statement must contain resources."),
    E("resource and notresource", NOTRESOURCE, pol(st(NotResource="*")), "Syntax errors in policy."),
    E("resource not an arn", RESOURCE, pol(st(resource="vpc-123")), 'Resource vpc-123 must be in ARN format or "*".'),
    E("resource object", RESOURCE, pol(st(resource={"a": "b"})), "Syntax errors in policy."),
    E("principal in identity policy", PRINCIPAL, pol(st(Principal="*")), "Policy document should not specify a principal."),
    E("notprincipal in identity policy", PRINCIPAL, pol(st(NotPrincipal={"AWS": ACCT})), "Policy document should not specify a principal."),
    E("principal in session policy", PRINCIPAL, pol(st(Principal="*")), "Policy document should not specify a principal.", kind="Session"),
    E("principal in SCP", SCPS, pol(st(Principal="*")), "Policy document should not specify a principal.", kind="SCP"),
    E("trust with resource", TRUST, pol({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole", "Resource": "*"}), "Has prohibited field Resource", kind="Trust"),
    E("trust with notresource", TRUST, pol({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole", "NotResource": "*"}), "Has prohibited field NotResource", kind="Trust"),
    E("trust without principal", TRUST, pol({"Effect": "Allow", "Action": "sts:AssumeRole"}), "Missing required field Principal", kind="Trust"),
    E("trust with s3 action", TRUST, pol({"Effect": "Allow", "Principal": {"AWS": ACCT}, "Action": "s3:GetObject"}), "AssumeRole policy may only specify STS AssumeRole actions.", kind="Trust"),
    E("trust with sts:GetCallerIdentity", TRUST, pol({"Effect": "Allow", "Principal": {"AWS": ACCT}, "Action": "sts:GetCallerIdentity"}), "AssumeRole policy may only specify STS AssumeRole actions.", kind="Trust"),
    E("trust with star action", TRUST, pol({"Effect": "Allow", "Principal": {"AWS": ACCT}, "Action": "*"}), "AssumeRole policy may only specify STS AssumeRole actions.", kind="Trust"),
    E("trust with notprincipal", TRUST, pol({"Effect": "Deny", "NotPrincipal": {"AWS": ACCT}, "Action": "sts:AssumeRole"}), "Has prohibited field NotPrincipal", kind="Trust"),
    E("trust invalid aws principal", TRUST, pol({"Effect": "Allow", "Principal": {"AWS": "bob"}, "Action": "sts:AssumeRole"}), 'Invalid principal in policy: "AWS":"bob"', kind="Trust"),
    E("trust principal wildcard arn", TRUST, pol({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:role/*"}, "Action": "sts:AssumeRole"}), f'Invalid principal in policy: "AWS":"arn:aws:iam::{ACCT}:role/*"', kind="Trust"),
    E("trust invalid service principal", TRUST, pol({"Effect": "Allow", "Principal": {"Service": "ec2"}, "Action": "sts:AssumeRole"}), 'Invalid principal in policy: "SERVICE":"ec2"', kind="Trust"),
    E("unknown principal type", PRINCIPAL, pol({"Effect": "Allow", "Principal": {"User": "x"}, "Action": "s3:*", "Resource": "*"}), 'Invalid principal in policy: "USER":"x"', kind="Resource"),
    E("principal string not star", PRINCIPAL, pol({"Effect": "Allow", "Principal": ACCT, "Action": "s3:*", "Resource": "*"}), f'Invalid principal in policy: "{ACCT}"', kind="Resource"),
    E("principal empty object", PRINCIPAL, pol({"Effect": "Allow", "Principal": {}, "Action": "s3:*", "Resource": "*"}), "Syntax errors in policy.", kind="Resource"),
    E("principal empty list", PRINCIPAL, pol({"Effect": "Allow", "Principal": {"AWS": []}, "Action": "s3:*", "Resource": "*"}), "Syntax errors in policy.", kind="Resource"),
    E("resource policy without principal", PRINCIPAL, pol(st(action="s3:*")), "Missing required field Principal", kind="Resource"),
    E("unknown condition operator", CONDOPS, pol(st(Condition={"StringEqual": {"aws:username": "x"}})), "Invalid Condition type : StringEqual"),
    E("null with IfExists invalid", CONDOPS, pol(st(Condition={"NullIfExists": {"aws:username": "true"}})), "Invalid Condition type : NullIfExists"),
    E("condition key without vendor", CONDOPS, pol(st(Condition={"StringEquals": {"username": "x"}})), "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    E("condition value object", CONDOPS, pol(st(Condition={"StringEquals": {"aws:username": {"a": "b"}}})), "Syntax errors in policy."),
    E("condition value empty list", CONDOPS, pol(st(Condition={"StringEquals": {"aws:username": []}})), "Syntax errors in policy."),
    E("condition value null", CONDOPS, pol(st(Condition={"StringEquals": {"aws:username": None}})), "Syntax errors in policy."),
    E("condition block not object", COND, pol(st(Condition=["x"])), "Syntax errors in policy."),
    E("duplicate sid", SID, pol(dict(st(), Sid="A"), dict(st(), Sid="A")), "Statement IDs (SID) in a single policy must be unique."),
    E("sid with punctuation", SID, pol(dict(st(), Sid="my-sid")), "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"),
    E("sid not string", SID, pol(dict(st(), Sid=1)), "Syntax errors in policy."),
    E("RCP principal must be star", RCPS, pol({"Effect": "Deny", "Principal": {"AWS": ACCT}, "Action": "s3:*", "Resource": "*"}), f'Invalid principal in policy: "AWS":"{ACCT}"', kind="RCP"),
    E("RCP custom allow", RCPS, pol({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}), "Invalid effect: Allow", kind="RCP"),
    E("RCP NotAction", RCPS, pol({"Effect": "Deny", "Principal": "*", "NotAction": "s3:*", "Resource": "*"}), "Has prohibited field NotAction", kind="RCP"),
    E("RCP without version", RCPS, pol({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}, version=None), "Missing required field Version", kind="RCP"),
    E("SCP without version", SCPS, pol(st(), version=None), "Missing required field Version", kind="SCP"),
]
total += write("parse_errors.json", cases)
exec(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen_corpus_org.py")).read())
print(total)
