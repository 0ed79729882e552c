#!/usr/bin/env python3
"""AWS-fidelity sweep: drive a running iamd with boto3 and the AWS CLI, as a
user would, and check what such a user would notice.

    python3 test/boto3/sweep.py --endpoint URL --credentials-file FILE \
        [--xfail test/boto3/known_failures.txt] [--coverage-doc docs/coverage.md]

Every check prints one line (PASS/FAIL/XFAIL/XPASS/SKIP) and the run ends with
"N passed, N failed". Exit status is 0 only when nothing failed. A check listed
in the --xfail file that fails is an expected failure; one that passes is an
"unexpected pass" and fails the run, so the list only shrinks.

What every call is checked for, beyond the scenario's own assertions:
  * botocore parses it (no ResponseParserError);
  * the parsed output matches the model: required members present, values of
    the modelled type (timestamps are datetimes, booleans bools, enums in
    range), IAM policy documents come back as dicts (botocore URL-decodes and
    JSON-parses policyDocumentType members) and are URL-encoded on the wire;
  * the raw body carries no element/key the model does not know (a misspelt
    member is silently dropped by botocore, so only the raw body shows it),
    the XML namespace is the model's, and a RequestId is present;
  * errors carry the expected code, map to the modelled exception class
    (client.exceptions.X), and use the model's HTTP status.
"""

import argparse
import base64
import configparser
import datetime
import hashlib
import hmac
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
import xml.etree.ElementTree as ET

import boto3
import botocore
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

# Services the sweep covers, as named in docs/coverage.md.
SERVICES = ("iam", "sts", "organizations", "account")


class Fail(Exception):
    """A check's assertion failed."""


def need(cond, msg):
    if not cond:
        raise Fail(msg)


# ---------------------------------------------------------------- validation

def _type_errors(value, shape, path, errs):
    """Checks a parsed value against its botocore shape."""
    t = shape.type_name
    if t == "structure":
        if not isinstance(value, dict):
            errs.append(f"{path}: {type(value).__name__}, want structure")
            return
        for req in shape.required_members:
            if req not in value:
                errs.append(f"{path}.{req}: required member missing")
        for k, v in value.items():
            if k == "ResponseMetadata" and path == "$":
                continue
            if k not in shape.members:
                errs.append(f"{path}.{k}: not in model")
                continue
            _type_errors(v, shape.members[k], f"{path}.{k}", errs)
    elif t == "list":
        if not isinstance(value, list):
            errs.append(f"{path}: {type(value).__name__}, want list")
            return
        for i, v in enumerate(value):
            _type_errors(v, shape.member, f"{path}[{i}]", errs)
    elif t == "map":
        if not isinstance(value, dict):
            errs.append(f"{path}: {type(value).__name__}, want map")
            return
        for k, v in value.items():
            _type_errors(v, shape.value, f"{path}[{k!r}]", errs)
    elif t == "string":
        if shape.name == "policyDocumentType":
            # botocore's json_decode_policies hands IAM policy documents to
            # the user as dicts; a str here means it did not decode.
            if not isinstance(value, dict):
                errs.append(f"{path}: policy document is {type(value).__name__}, want dict (decoded JSON)")
            return
        if not isinstance(value, str):
            errs.append(f"{path}: {type(value).__name__}, want str")
            return
        if shape.enum and value not in shape.enum:
            errs.append(f"{path}: {value!r} not in enum {shape.name}")
    elif t in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            errs.append(f"{path}: {type(value).__name__}, want int")
    elif t == "boolean":
        if not isinstance(value, bool):
            errs.append(f"{path}: {type(value).__name__}, want bool")
    elif t == "timestamp":
        if not isinstance(value, datetime.datetime):
            errs.append(f"{path}: {type(value).__name__}, want datetime")
    elif t == "blob":
        if not isinstance(value, (bytes, bytearray)):
            errs.append(f"{path}: {type(value).__name__}, want bytes")
    elif t in ("double", "float"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            errs.append(f"{path}: {type(value).__name__}, want number")


def _local(tag):
    return tag.split("}", 1)[1] if "}" in tag else tag


def _xml_errors(elem, shape, path, errs):
    """Walks raw query-protocol XML against the shape; reports unknown elements."""
    t = shape.type_name
    if t == "structure":
        by_wire = {}
        for name, m in shape.members.items():
            by_wire[m.serialization.get("name", name)] = m
        for child in elem:
            tag = _local(child.tag)
            m = by_wire.get(tag)
            if m is None:
                errs.append(f"{path}/{tag}: element not in model {shape.name}")
                continue
            _xml_errors(child, m, f"{path}/{tag}", errs)
    elif t == "list":
        want = shape.member.serialization.get("name", "member")
        for child in elem:
            tag = _local(child.tag)
            if tag != want:
                errs.append(f"{path}/{tag}: list item element, want {want}")
                continue
            _xml_errors(child, shape.member, f"{path}/{tag}", errs)
    elif t == "map":
        for child in elem:
            if _local(child.tag) != "entry":
                errs.append(f"{path}/{_local(child.tag)}: map item element, want entry")
                continue
            for kv in child:
                if _local(kv.tag) == "value":
                    _xml_errors(kv, shape.value, f"{path}/entry/value", errs)
                elif _local(kv.tag) != "key":
                    errs.append(f"{path}/entry/{_local(kv.tag)}: want key/value")
    elif t == "string" and shape.name == "policyDocumentType":
        text = elem.text or ""
        # IAM returns policy documents URL-encoded (RFC 3986); a raw '{' means
        # it was not. https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRolePolicy.html
        if "{" in text or '"' in text:
            errs.append(f"{path}: policy document not URL-encoded on the wire")
    elif t == "boolean":
        if (elem.text or "") not in ("true", "false"):
            errs.append(f"{path}: boolean {elem.text!r}")
    elif t == "timestamp":
        if "T" not in (elem.text or ""):
            errs.append(f"{path}: timestamp {elem.text!r} not ISO 8601")


def _json_errors(value, shape, path, errs):
    """Walks a raw JSON body against the shape; reports unknown keys."""
    t = shape.type_name
    if t == "structure" and isinstance(value, dict):
        by_wire = {m.serialization.get("name", n): m for n, m in shape.members.items()}
        for k, v in value.items():
            m = by_wire.get(k)
            if m is None:
                errs.append(f"{path}.{k}: key not in model {shape.name}")
                continue
            _json_errors(v, m, f"{path}.{k}", errs)
    elif t == "list" and isinstance(value, list):
        for i, v in enumerate(value):
            _json_errors(v, shape.member, f"{path}[{i}]", errs)
    elif t == "map" and isinstance(value, dict):
        for k, v in value.items():
            _json_errors(v, shape.value, f"{path}[{k!r}]", errs)
    elif t == "timestamp":
        # JSON protocols send epoch seconds unless the model says otherwise.
        fmt = shape.serialization.get("timestampFormat", "unixTimestamp")
        if fmt == "unixTimestamp" and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            errs.append(f"{path}: timestamp {value!r}, want epoch seconds")
        elif fmt == "iso8601" and not (isinstance(value, str) and "T" in value):
            errs.append(f"{path}: timestamp {value!r}, want ISO 8601")


# ---------------------------------------------------------------- the sweep

class Sweep:
    def __init__(self, endpoint, key, secret, xfail, creds_file):
        self.endpoint = endpoint
        self.key, self.secret = key, secret
        self.creds_file = creds_file
        self.xfail = xfail
        self.seen_xfail = set()
        self.passed = self.failed = self.xfailed = self.skipped = 0
        self.failures = []
        self.called = set()  # (service, Operation) answered by iamd
        self.last_raw = None
        self.names = set()

    # -- clients

    def client(self, service, key=None, secret=None, token=None, anonymous=False):
        cfg = Config(retries={"max_attempts": 1}, connect_timeout=10, read_timeout=60)
        if anonymous:
            cfg = cfg.merge(Config(signature_version=UNSIGNED))
        c = boto3.client(
            service, endpoint_url=self.endpoint, region_name="us-east-1", config=cfg,
            aws_access_key_id=key or self.key, aws_secret_access_key=secret or self.secret,
            aws_session_token=token)
        c.meta.events.register("before-parse", self._capture)
        return c

    def _capture(self, operation_model=None, response_dict=None, **_):
        self.last_raw = (operation_model, response_dict)
        self.called.add((operation_model.service_model.service_name, operation_model.name))

    # -- bookkeeping

    def record(self, name, ok, detail=""):
        if name in self.names:
            # Names are the xfail list's keys; duplicates would make it ambiguous.
            name = f"{name}#{sum(1 for n in self.names if n.startswith(name))}"
        self.names.add(name)
        if name in self.xfail:
            self.seen_xfail.add(name)
            if ok:
                self.failed += 1
                self.failures.append(name)
                print(f"XPASS {name}: unexpected pass; remove it from the xfail list", flush=True)
            else:
                self.xfailed += 1
                print(f"XFAIL {name}: {detail}", flush=True)
            return ok
        if ok:
            self.passed += 1
            print(f"PASS  {name}", flush=True)
        else:
            self.failed += 1
            self.failures.append(name)
            print(f"FAIL  {name}: {detail}", flush=True)
        return ok

    def skip(self, name, why):
        self.skipped += 1
        print(f"SKIP  {name}: {why}", flush=True)

    def check(self, name, fn):
        """Runs fn as one check; returns its value or None when it failed."""
        try:
            v = fn()
        except Fail as e:
            self.record(name, False, str(e))
            return None
        except ClientError as e:
            self.record(name, False, f"{type(e).__name__}: {e}")
            return None
        except Exception as e:  # a botocore parse error or a scenario bug
            tb = traceback.format_exc().strip().splitlines()[-3:]
            self.record(name, False, f"{type(e).__name__}: {e} | {' / '.join(tb)}")
            return None
        self.record(name, True)
        return v

    def expect(self, name, cond, detail=""):
        return self.record(name, bool(cond), detail if not cond else "")

    # -- calls

    def _validate(self, client, op_name, resp):
        om = client.meta.service_model.operation_model(op_name)
        errs = []
        md = resp.get("ResponseMetadata", {})
        if md.get("HTTPStatusCode") != 200:
            errs.append(f"HTTP {md.get('HTTPStatusCode')}, want 200")
        if not md.get("RequestId"):
            errs.append("no RequestId")
        if om.output_shape is not None:
            _type_errors(resp, om.output_shape, "$", errs)
            # IAM always answers IsTruncated on paginated lists.
            if "IsTruncated" in om.output_shape.members and "IsTruncated" not in resp:
                errs.append("$.IsTruncated missing")
        raw = self.last_raw
        if raw and raw[0].name == op_name:
            body = raw[1].get("body") or b""
            proto = client.meta.service_model.protocol
            if proto == "query":
                try:
                    root = ET.fromstring(body)
                except ET.ParseError as e:
                    errs.append(f"raw body is not XML: {e}")
                    root = None
                if root is not None:
                    ns = client.meta.service_model.metadata.get("xmlNamespace")
                    if ns and not root.tag.startswith("{" + ns + "}"):
                        errs.append(f"root element {root.tag}, want namespace {ns}")
                    if _local(root.tag) != op_name + "Response":
                        errs.append(f"root element {_local(root.tag)}, want {op_name}Response")
                    for child in root:
                        tag = _local(child.tag)
                        if tag == op_name + "Result" and om.output_shape is not None:
                            _xml_errors(child, om.output_shape, "/" + tag, errs)
                        elif tag not in (op_name + "Result", "ResponseMetadata"):
                            errs.append(f"unexpected element {tag}")
            elif body.strip() and om.output_shape is not None:
                try:
                    doc = json.loads(body)
                except ValueError as e:
                    errs.append(f"raw body is not JSON: {e}")
                else:
                    _json_errors(doc, om.output_shape, "$", errs)
        if errs:
            raise Fail("; ".join(errs[:6]) + (f" (+{len(errs) - 6} more)" if len(errs) > 6 else ""))

    def call(self, client, op_name, **kw):
        """Calls op_name (model name) and validates the response; raises on error."""
        method = getattr(client, botocore.xform_name(op_name))
        self.last_raw = None
        resp = method(**kw)
        self._validate(client, op_name, resp)
        return resp

    def ok(self, client, op_name, label="", **kw):
        """One check: op succeeds and its response matches the model."""
        svc = client.meta.service_model.service_name
        name = f"{svc}.{op_name}" + (f".{label}" if label else "")
        return self.check(name, lambda: self.call(client, op_name, **kw))

    def err(self, client, op_name, code, label="", status=None, **kw):
        """One check: op fails with code, the modelled class and status."""
        svc = client.meta.service_model.service_name
        name = f"{svc}.{op_name}.error.{code}" + (f".{label}" if label else "")

        def run():
            method = getattr(client, botocore.xform_name(op_name))
            try:
                method(**kw)
            except ClientError as e:
                return self._check_error(client, op_name, code, status, e)
            raise Fail(f"succeeded, want {code}")
        return self.check(name, run)

    def _check_error(self, client, op_name, code, status, e):
        sm = client.meta.service_model
        got = e.response.get("Error", {}).get("Code")
        errs = []
        if got != code:
            errs.append(f"code {got!r} ({e}), want {code!r}")
        shape = next((s for s in sm.error_shapes if s.error_code == code), None)
        want_status = status
        if shape is not None:
            want_cls = getattr(client.exceptions, shape.name)
            if not isinstance(e, want_cls):
                errs.append(f"exception class {type(e).__name__}, want {shape.name}")
            if want_status is None:
                want_status = shape.metadata.get("error", {}).get("httpStatusCode", 400)
        if want_status is None:
            want_status = 400
        got_status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if got_status != want_status:
            errs.append(f"HTTP {got_status}, want {want_status}")
        if sm.protocol == "query" and shape is not None:
            want_type = "Sender" if shape.metadata.get("error", {}).get("senderFault") else "Receiver"
            if e.response.get("Error", {}).get("Type") != want_type:
                errs.append(f"Error.Type {e.response.get('Error', {}).get('Type')!r}, want {want_type}")
        if not e.response.get("Error", {}).get("Message"):
            errs.append("empty error message")
        if not e.response.get("ResponseMetadata", {}).get("RequestId"):
            errs.append("no RequestId on the error")
        if errs:
            raise Fail("; ".join(errs))
        return e

    def paginate(self, client, op_name, result_key, label="paginator", min_items=2, page_size=1, **kw):
        """One check: a paginator with page size 1 terminates and yields every item."""
        svc = client.meta.service_model.service_name
        name = f"{svc}.{op_name}.{label}"

        def run():
            p = client.get_paginator(botocore.xform_name(op_name))
            want = []
            for n, page in enumerate(p.paginate(**kw)):
                need(n < 1000, "default-size pagination did not terminate")
                want.extend(_result(page, result_key))
            pages, items = 0, []
            cfg = {"PageSize": page_size} if page_size else {}
            for page in p.paginate(PaginationConfig=cfg, **kw):
                pages += 1
                self._validate(client, op_name, page)
                items.extend(_result(page, result_key))
                need(pages <= len(want) + 2, f"paginator did not terminate after {pages} pages")
            need(len(want) >= min_items, f"scenario expects >= {min_items} items, unpaginated call gave {len(want)}")
            need(not page_size or pages >= min(len(want), 2), f"{pages} pages for {len(want)} items with page size 1")
            need(_canon(items) == _canon(want), f"paginated items differ: {len(items)} vs {len(want)}")
            return items
        return self.check(name, run)

    # -- AWS CLI

    def cli(self, name, *args, expect_error=None):
        aws = shutil.which("aws")
        if aws is None:
            self.skip(name, "aws CLI not installed")
            return None
        env = dict(os.environ)
        env.update({"AWS_SHARED_CREDENTIALS_FILE": self.creds_file, "AWS_CONFIG_FILE": os.devnull,
                    "AWS_DEFAULT_REGION": "us-east-1", "AWS_PROFILE": "default",
                    "AWS_MAX_ATTEMPTS": "1"})
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.pop(k, None)

        def run():
            p = subprocess.run([aws, "--endpoint-url", self.endpoint, "--output", "json", *args],
                               env=env, capture_output=True, text=True, timeout=120)
            if expect_error:
                need(p.returncode != 0, f"succeeded, want {expect_error}: {p.stdout[:300]}")
                need(f"({expect_error})" in p.stderr, f"stderr lacks ({expect_error}): {p.stderr.strip()[:300]}")
                return None
            need(p.returncode == 0, f"exit {p.returncode}: {p.stderr.strip()[:400]}")
            return json.loads(p.stdout) if p.stdout.strip() else {}
        return self.check(f"cli.{name}", run)


def _result(resp, key):
    v = resp
    for part in key.split("."):
        v = v.get(part, []) if isinstance(v, dict) else []
    return v


def _canon(items):
    return sorted(json.dumps(i, sort_keys=True, default=str) for i in items)


def totp(seed_b32, t):
    """RFC 6238 code for seed at unix time t (30 s step, 6 digits)."""
    pad = "=" * (-len(seed_b32) % 8)
    key = base64.b32decode(seed_b32 + pad, casefold=True)
    msg = struct.pack(">Q", int(t) // 30)
    h = hmac.new(key, msg, hashlib.sha1).digest()
    o = h[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


# ---------------------------------------------------------------- fixtures

def trust_for(account):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": ["sts:AssumeRole", "sts:TagSession"]}]})


ALLOW_S3 = {"Version": "2012-10-17", "Statement": [{
    "Sid": "ReadBuckets", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
    "Resource": "*", "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}}]}
CREDENTIAL_REPORT_HEADER = ",".join([
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
    "password_next_rotation", "mfa_active", "access_key_1_active", "access_key_1_last_rotated",
    "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service", "cert_1_active", "cert_1_last_rotated",
    "cert_2_active", "cert_2_last_rotated"])
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def self_signed(cn):
    """A fresh RSA key and self-signed certificate, PEM-encoded."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    return key, key_pem, cert.public_bytes(serialization.Encoding.PEM).decode(), cert


def ssh_public_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode() + " sweep@example"


def eventually(fn, what, timeout=10.0):
    """Retries fn until it stops raising Fail (IAM is eventually consistent)."""
    deadline = time.time() + timeout
    while True:
        try:
            return fn()
        except Fail:
            if time.time() > deadline:
                raise
            time.sleep(0.3)


# ---------------------------------------------------------------- IAM

def sweep_iam(s, tag):
    iam = s.client("iam")
    sts = s.client("sts")
    me = s.call(sts, "GetCallerIdentity")
    acct = me["Account"]
    P = "/sweep/" + tag + "/"
    u1, u2, u3 = f"{tag}-alice", f"{tag}-bob", f"{tag}-carol"
    g1, g2 = f"{tag}-devs", f"{tag}-ops"
    r1, r2 = f"{tag}-app", f"{tag}-batch"
    tags = [{"Key": "team", "Value": "blue"}, {"Key": "cost-center", "Value": "42"}]

    # ---- managed policies first: users and roles use one as a boundary.
    pol = s.ok(iam, "CreatePolicy", PolicyName=f"{tag}-s3read", Path=P, Description="read buckets",
               PolicyDocument=json.dumps(ALLOW_S3), Tags=tags)
    pol_arn = pol["Policy"]["Arn"] if pol else f"arn:aws:iam::{acct}:policy{P}{tag}-s3read"
    if pol:
        p = pol["Policy"]
        s.expect("iam.CreatePolicy.fields", p.get("DefaultVersionId") == "v1" and p.get("AttachmentCount") == 0
                 and p.get("IsAttachable") is True and p.get("Path") == P and p.get("PolicyId", "").startswith("ANPA")
                 and isinstance(p.get("UpdateDate"), datetime.datetime) and p.get("Description") == "read buckets"
                 and sorted(t["Key"] for t in p.get("Tags", [])) == ["cost-center", "team"], p)
    s.err(iam, "CreatePolicy", "EntityAlreadyExists", PolicyName=f"{tag}-s3read", Path=P, PolicyDocument=json.dumps(ALLOW_S3))
    s.err(iam, "CreatePolicy", "MalformedPolicyDocument", PolicyName=f"{tag}-bad", PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Maybe"}]}')
    pol2 = s.ok(iam, "CreatePolicy", "second", PolicyName=f"{tag}-all", Path=P, PolicyDocument=json.dumps(ALLOW_ALL))
    pol2_arn = pol2["Policy"]["Arn"] if pol2 else ""
    g = s.ok(iam, "GetPolicy", PolicyArn=pol_arn)
    if g:
        s.expect("iam.GetPolicy.description", g["Policy"].get("Description") == "read buckets", g["Policy"])
    e = s.err(iam, "GetPolicy", "NoSuchEntity", PolicyArn=f"arn:aws:iam::{acct}:policy/{tag}-nope")
    if e:
        s.expect("iam.GetPolicy.error.message", e.response["Error"]["Message"] == f"Policy arn:aws:iam::{acct}:policy/{tag}-nope was not found.", e.response["Error"]["Message"])
    s.err(iam, "GetPolicy", "InvalidInput", PolicyArn="arn:aws:s3:::not-a-policy-arn")
    v2 = s.ok(iam, "CreatePolicyVersion", PolicyArn=pol_arn, PolicyDocument=json.dumps(ALLOW_ALL), SetAsDefault=True)
    if v2:
        s.expect("iam.CreatePolicyVersion.fields", v2["PolicyVersion"].get("VersionId") == "v2" and v2["PolicyVersion"].get("IsDefaultVersion") is True, v2)
    gv = s.ok(iam, "GetPolicyVersion", PolicyArn=pol_arn, VersionId="v1")
    if gv:
        s.expect("iam.GetPolicyVersion.document_decoded", gv["PolicyVersion"].get("Document") == ALLOW_S3, gv["PolicyVersion"].get("Document"))
    s.err(iam, "GetPolicyVersion", "NoSuchEntity", PolicyArn=pol_arn, VersionId="v9")
    s.paginate(iam, "ListPolicyVersions", "Versions", PolicyArn=pol_arn)
    s.ok(iam, "SetDefaultPolicyVersion", PolicyArn=pol_arn, VersionId="v1")
    s.err(iam, "DeletePolicyVersion", "DeleteConflict", label="default", PolicyArn=pol_arn, VersionId="v1")
    s.ok(iam, "DeletePolicyVersion", PolicyArn=pol_arn, VersionId="v2")
    s.paginate(iam, "ListPolicies", "Policies", Scope="Local", PathPrefix=P)
    lp = s.ok(iam, "ListPolicies", "aws_scope", Scope="AWS", MaxItems=5)
    if lp:
        s.expect("iam.ListPolicies.aws_managed", len(lp["Policies"]) == 5 and lp["IsTruncated"] is True and "Marker" in lp
                 and all(p["Arn"].startswith("arn:aws:iam::aws:policy/") for p in lp["Policies"]), lp.get("Policies"))
    ro = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    gro = s.ok(iam, "GetPolicy", "aws_managed", PolicyArn=ro)
    if gro:
        s.expect("iam.GetPolicy.aws_managed", gro["Policy"].get("Path") == "/" and gro["Policy"].get("PolicyName") == "ReadOnlyAccess"
                 and gro["Policy"].get("DefaultVersionId", "").startswith("v"), gro["Policy"])
        gvro = s.ok(iam, "GetPolicyVersion", "aws_managed", PolicyArn=ro, VersionId=gro["Policy"]["DefaultVersionId"])
        if gvro:
            s.expect("iam.GetPolicyVersion.aws_managed_document", isinstance(gvro["PolicyVersion"].get("Document"), dict)
                     and gvro["PolicyVersion"].get("IsDefaultVersion") is True, gvro["PolicyVersion"].get("IsDefaultVersion"))
    s.ok(iam, "TagPolicy", PolicyArn=pol_arn, Tags=[{"Key": "env", "Value": "prod"}])
    s.paginate(iam, "ListPolicyTags", "Tags", PolicyArn=pol_arn)
    s.ok(iam, "UntagPolicy", PolicyArn=pol_arn, TagKeys=["env"])
    s.check("iam.waiter.policy_exists", lambda: iam.get_waiter("policy_exists").wait(PolicyArn=pol_arn, WaiterConfig={"Delay": 1, "MaxAttempts": 3}))

    # ---- users
    cu = s.ok(iam, "CreateUser", UserName=u1, Path=P, Tags=tags, PermissionsBoundary=pol_arn)
    if cu:
        u = cu["User"]
        s.expect("iam.CreateUser.fields", u.get("UserName") == u1 and u.get("Path") == P and u.get("UserId", "").startswith("AIDA")
                 and u.get("Arn") == f"arn:aws:iam::{acct}:user{P}{u1}" and isinstance(u.get("CreateDate"), datetime.datetime)
                 and u.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") == pol_arn
                 and u.get("PermissionsBoundary", {}).get("PermissionsBoundaryType") == "PermissionsBoundaryPolicy"
                 and len(u.get("Tags", [])) == 2, u)
    s.ok(iam, "CreateUser", "second", UserName=u2, Path=P)
    s.ok(iam, "CreateUser", "third", UserName=u3, Path=P)
    s.err(iam, "CreateUser", "EntityAlreadyExists", UserName=u1)
    s.err(iam, "CreateUser", "ValidationError", label="bad_name", status=400, UserName="bad name!")
    s.check("iam.waiter.user_exists", lambda: iam.get_waiter("user_exists").wait(UserName=u1, WaiterConfig={"Delay": 1, "MaxAttempts": 3}))
    gu = s.ok(iam, "GetUser", UserName=u1)
    if gu:
        s.expect("iam.GetUser.tags_and_boundary", len(gu["User"].get("Tags", [])) == 2 and "PermissionsBoundary" in gu["User"], gu["User"])
    gme = s.ok(iam, "GetUser", "caller")
    if gme:
        s.expect("iam.GetUser.caller_is_admin", gme["User"].get("Arn") == me["Arn"], gme["User"])
    e = s.err(iam, "GetUser", "NoSuchEntity", UserName=f"{tag}-nobody")
    if e:
        # Scripts match on AWS's wording.
        s.expect("iam.GetUser.error.message", e.response["Error"]["Message"] == f"The user with name {tag}-nobody cannot be found.", e.response["Error"]["Message"])
    lak = s.ok(iam, "ListAccessKeys", "caller")
    if lak:
        s.expect("iam.ListAccessKeys.caller", [k["AccessKeyId"] for k in lak["AccessKeyMetadata"]] == [s.key] and lak["AccessKeyMetadata"][0].get("UserName") == "admin", lak)
    s.paginate(iam, "ListUsers", "Users", PathPrefix=P, min_items=3)
    lu = s.ok(iam, "ListUsers", "path", PathPrefix=P)
    if lu:
        s.expect("iam.ListUsers.no_tags_or_boundary", all("Tags" not in x and "PermissionsBoundary" not in x for x in lu["Users"]),
                 "AWS ListUsers omits Tags and PermissionsBoundary (https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUsers.html)")
    s.ok(iam, "UpdateUser", UserName=u3, NewUserName=u3 + "x", NewPath=P + "moved/")
    s.err(iam, "UpdateUser", "NoSuchEntity", UserName=u3)
    s.ok(iam, "UpdateUser", "back", UserName=u3 + "x", NewUserName=u3, NewPath=P)
    s.ok(iam, "TagUser", UserName=u2, Tags=tags)
    s.paginate(iam, "ListUserTags", "Tags", UserName=u2)
    s.ok(iam, "UntagUser", UserName=u2, TagKeys=["team"])
    lt = s.ok(iam, "ListUserTags", "after_untag", UserName=u2)
    if lt:
        s.expect("iam.UntagUser.effect", lt["Tags"] == [{"Key": "cost-center", "Value": "42"}], lt["Tags"])
    s.err(iam, "TagUser", "InvalidInput", label="aws_prefix", UserName=u2, Tags=[{"Key": "aws:x", "Value": "y"}])
    # 51 tags in one request fail the model's list constraint (ValidationError);
    # the 51st tag on an entity is LimitExceeded.
    s.err(iam, "TagUser", "ValidationError", label="51_in_one_request", status=400, UserName=u2, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    many = [f"k{i}" for i in range(49)]
    s.ok(iam, "TagUser", "to_50", UserName=u2, Tags=[{"Key": k, "Value": "v"} for k in many])
    s.err(iam, "TagUser", "LimitExceeded", label="51st", UserName=u2, Tags=[{"Key": "one-more", "Value": "v"}])
    s.ok(iam, "UntagUser", "49", UserName=u2, TagKeys=many)
    s.err(iam, "UpdateUser", "EntityAlreadyExists", label="rename_onto_existing", UserName=u2, NewUserName=u1)
    s.err(iam, "CreateAccessKey", "NoSuchEntity", label="no_user", UserName=f"{tag}-nobody")
    s.err(iam, "DeleteLoginProfile", "NoSuchEntity", label="none", UserName=u3)
    s.ok(iam, "PutUserPermissionsBoundary", UserName=u2, PermissionsBoundary=pol_arn)
    s.ok(iam, "DeleteUserPermissionsBoundary", UserName=u2)
    s.err(iam, "PutUserPermissionsBoundary", "NoSuchEntity", UserName=f"{tag}-nobody", PermissionsBoundary=pol_arn)

    # ---- inline and attached user policies
    s.ok(iam, "PutUserPolicy", UserName=u1, PolicyName="inline-a", PolicyDocument=json.dumps(ALLOW_S3))
    s.ok(iam, "PutUserPolicy", "second", UserName=u1, PolicyName="inline-b", PolicyDocument=json.dumps(ALLOW_ALL))
    gp = s.ok(iam, "GetUserPolicy", UserName=u1, PolicyName="inline-a")
    if gp:
        s.expect("iam.GetUserPolicy.document_decoded", gp.get("PolicyDocument") == ALLOW_S3, gp.get("PolicyDocument"))
    s.err(iam, "GetUserPolicy", "NoSuchEntity", UserName=u1, PolicyName="nope")
    s.err(iam, "PutUserPolicy", "MalformedPolicyDocument", UserName=u1, PolicyName="bad", PolicyDocument="{not json")
    s.paginate(iam, "ListUserPolicies", "PolicyNames", UserName=u1)
    s.ok(iam, "AttachUserPolicy", UserName=u1, PolicyArn=pol_arn)
    s.ok(iam, "AttachUserPolicy", "second", UserName=u1, PolicyArn=pol2_arn)
    s.err(iam, "AttachUserPolicy", "NoSuchEntity", UserName=u1, PolicyArn=f"arn:aws:iam::{acct}:policy/{tag}-nope")
    s.paginate(iam, "ListAttachedUserPolicies", "AttachedPolicies", UserName=u1)

    # ---- groups
    cg = s.ok(iam, "CreateGroup", GroupName=g1, Path=P)
    if cg:
        s.expect("iam.CreateGroup.fields", cg["Group"].get("GroupId", "").startswith("AGPA") and cg["Group"].get("Path") == P, cg["Group"])
    s.ok(iam, "CreateGroup", "second", GroupName=g2, Path=P)
    s.err(iam, "CreateGroup", "EntityAlreadyExists", GroupName=g1)
    s.paginate(iam, "ListGroups", "Groups", PathPrefix=P)
    s.ok(iam, "AddUserToGroup", GroupName=g1, UserName=u1)
    s.ok(iam, "AddUserToGroup", "second", GroupName=g1, UserName=u2)
    s.ok(iam, "AddUserToGroup", "third", GroupName=g2, UserName=u1)
    s.err(iam, "AddUserToGroup", "NoSuchEntity", GroupName=g1, UserName=f"{tag}-nobody")
    s.paginate(iam, "GetGroup", "Users", GroupName=g1)
    gg = s.ok(iam, "GetGroup", GroupName=g1)
    if gg:
        s.expect("iam.GetGroup.group", gg["Group"].get("GroupName") == g1 and gg["IsTruncated"] is False, gg)
    s.err(iam, "GetGroup", "NoSuchEntity", GroupName=f"{tag}-nogroup")
    s.paginate(iam, "ListGroupsForUser", "Groups", UserName=u1)
    s.ok(iam, "UpdateGroup", GroupName=g2, NewGroupName=g2 + "x", NewPath=P)
    s.ok(iam, "UpdateGroup", "back", GroupName=g2 + "x", NewGroupName=g2)
    s.ok(iam, "PutGroupPolicy", GroupName=g1, PolicyName="g-a", PolicyDocument=json.dumps(ALLOW_S3))
    s.ok(iam, "PutGroupPolicy", "second", GroupName=g1, PolicyName="g-b", PolicyDocument=json.dumps(ALLOW_S3))
    ggp = s.ok(iam, "GetGroupPolicy", GroupName=g1, PolicyName="g-a")
    if ggp:
        s.expect("iam.GetGroupPolicy.document_decoded", ggp.get("PolicyDocument") == ALLOW_S3, ggp.get("PolicyDocument"))
    s.err(iam, "GetGroupPolicy", "NoSuchEntity", GroupName=g1, PolicyName="nope")
    s.paginate(iam, "ListGroupPolicies", "PolicyNames", GroupName=g1)
    s.ok(iam, "AttachGroupPolicy", GroupName=g1, PolicyArn=pol_arn)
    s.ok(iam, "AttachGroupPolicy", "second", GroupName=g1, PolicyArn=pol2_arn)
    s.paginate(iam, "ListAttachedGroupPolicies", "AttachedPolicies", GroupName=g1)
    s.err(iam, "DeleteGroup", "DeleteConflict", GroupName=g1)

    # ---- roles
    cr = s.ok(iam, "CreateRole", RoleName=r1, Path=P, AssumeRolePolicyDocument=trust_for(acct), Description="app role",
              MaxSessionDuration=7200, Tags=tags, PermissionsBoundary=pol_arn)
    if cr:
        r = cr["Role"]
        s.expect("iam.CreateRole.fields", r.get("RoleId", "").startswith("AROA") and r.get("Arn") == f"arn:aws:iam::{acct}:role{P}{r1}"
                 and r.get("MaxSessionDuration") == 7200 and r.get("Description") == "app role"
                 and isinstance(r.get("AssumeRolePolicyDocument"), dict) and len(r.get("Tags", [])) == 2, r)
    s.ok(iam, "CreateRole", "second", RoleName=r2, Path=P, AssumeRolePolicyDocument=trust_for(acct))
    s.err(iam, "CreateRole", "EntityAlreadyExists", RoleName=r1, AssumeRolePolicyDocument=trust_for(acct))
    s.err(iam, "CreateRole", "MalformedPolicyDocument", RoleName=f"{tag}-badtrust", AssumeRolePolicyDocument=json.dumps(ALLOW_ALL))
    s.check("iam.waiter.role_exists", lambda: iam.get_waiter("role_exists").wait(RoleName=r1, WaiterConfig={"Delay": 1, "MaxAttempts": 3}))
    gr = s.ok(iam, "GetRole", RoleName=r1)
    if gr:
        r = gr["Role"]
        s.expect("iam.GetRole.fields", r.get("AssumeRolePolicyDocument") == json.loads(trust_for(acct)) and "RoleLastUsed" in r
                 and r.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") == pol_arn, r)
    e = s.err(iam, "GetRole", "NoSuchEntity", RoleName=f"{tag}-norole")
    if e:
        s.expect("iam.GetRole.error.message", e.response["Error"]["Message"] == f"The role with name {tag}-norole cannot be found.", e.response["Error"]["Message"])
    s.paginate(iam, "ListRoles", "Roles", PathPrefix=P)
    lr = s.ok(iam, "ListRoles", "path", PathPrefix=P)
    if lr:
        # https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoles.html
        s.expect("iam.ListRoles.omits_last_used_tags_boundary", all(not ({"RoleLastUsed", "Tags", "PermissionsBoundary"} & set(x)) for x in lr["Roles"]),
                 [sorted(x) for x in lr["Roles"]])
    lap = s.ok(iam, "ListPolicies", "only_attached", Scope="Local", OnlyAttached=True, PathPrefix=P)
    if lap:
        s.expect("iam.ListPolicies.only_attached", sorted(x["Arn"] for x in lap["Policies"]) == sorted([pol_arn, pol2_arn]), [x["Arn"] for x in lap["Policies"]])
    s.ok(iam, "UpdateRole", RoleName=r1, Description="updated", MaxSessionDuration=3600)
    s.err(iam, "UpdateRole", "ValidationError", label="duration", status=400, RoleName=r1, MaxSessionDuration=50000)
    ud = s.ok(iam, "UpdateRoleDescription", RoleName=r1, Description="described")
    if ud:
        s.expect("iam.UpdateRoleDescription.role", ud["Role"].get("Description") == "described", ud["Role"])
    s.ok(iam, "UpdateAssumeRolePolicy", RoleName=r2, PolicyDocument=trust_for(acct))
    s.err(iam, "UpdateAssumeRolePolicy", "MalformedPolicyDocument", RoleName=r2, PolicyDocument="{}")
    s.ok(iam, "TagRole", RoleName=r2, Tags=tags)
    s.paginate(iam, "ListRoleTags", "Tags", RoleName=r2)
    s.ok(iam, "UntagRole", RoleName=r2, TagKeys=["team", "cost-center"])
    s.ok(iam, "PutRolePermissionsBoundary", RoleName=r2, PermissionsBoundary=pol_arn)
    s.ok(iam, "DeleteRolePermissionsBoundary", RoleName=r2)
    s.ok(iam, "PutRolePolicy", RoleName=r1, PolicyName="r-a", PolicyDocument=json.dumps(ALLOW_ALL))
    s.ok(iam, "PutRolePolicy", "second", RoleName=r1, PolicyName="r-b", PolicyDocument=json.dumps(ALLOW_S3))
    grp = s.ok(iam, "GetRolePolicy", RoleName=r1, PolicyName="r-b")
    if grp:
        s.expect("iam.GetRolePolicy.document_decoded", grp.get("PolicyDocument") == ALLOW_S3, grp.get("PolicyDocument"))
    s.err(iam, "GetRolePolicy", "NoSuchEntity", RoleName=r1, PolicyName="nope")
    s.paginate(iam, "ListRolePolicies", "PolicyNames", RoleName=r1)
    s.ok(iam, "AttachRolePolicy", RoleName=r1, PolicyArn=pol_arn)
    s.ok(iam, "AttachRolePolicy", "second", RoleName=r1, PolicyArn=pol2_arn)
    s.paginate(iam, "ListAttachedRolePolicies", "AttachedPolicies", RoleName=r1)
    s.paginate(iam, "ListEntitiesForPolicy", "PolicyRoles", PolicyArn=pol2_arn, min_items=1)
    lef = s.ok(iam, "ListEntitiesForPolicy", "role_filter", PolicyArn=pol_arn, EntityFilter="Role")
    if lef:
        s.expect("iam.ListEntitiesForPolicy.role_filter", lef["PolicyUsers"] == [] and lef["PolicyGroups"] == [] and len(lef["PolicyRoles"]) == 1, lef)
    le = s.ok(iam, "ListEntitiesForPolicy", PolicyArn=pol_arn)
    if le:
        s.expect("iam.ListEntitiesForPolicy.all_kinds", [x["UserName"] for x in le["PolicyUsers"]] == [u1]
                 and [x["GroupName"] for x in le["PolicyGroups"]] == [g1] and [x["RoleName"] for x in le["PolicyRoles"]] == [r1], le)
    gpa = s.ok(iam, "GetPolicy", "attached", PolicyArn=pol_arn)
    if gpa:
        s.expect("iam.GetPolicy.attachment_count", gpa["Policy"].get("AttachmentCount") == 3, gpa["Policy"].get("AttachmentCount"))
    s.err(iam, "DeletePolicy", "DeleteConflict", PolicyArn=pol_arn)

    # ---- the boto3 resource API walks the same operations
    def resources():
        res = boto3.resource("iam", endpoint_url=s.endpoint, region_name="us-east-1",
                             aws_access_key_id=s.key, aws_secret_access_key=s.secret)
        for c in (res.meta.client,):
            c.meta.events.register("before-parse", s._capture)
        user = res.User(u1)
        need(user.arn == f"arn:aws:iam::{acct}:user{P}{u1}" and isinstance(user.create_date, datetime.datetime), user.arn)
        need(sorted(g.name for g in user.groups.all()) == sorted([g1, g2]), "user.groups")
        need(sorted(p.arn for p in res.Role(r1).attached_policies.all()) == sorted([pol_arn, pol2_arn]), "role.attached_policies")
        need(res.Policy(pol_arn).default_version_id == "v1", "policy.default_version_id")
        need(res.CurrentUser().arn == me["Arn"], "CurrentUser")
        names = [x.name for x in res.users.filter(PathPrefix=P).page_size(1)]
        need(sorted(names) == sorted([u1, u2, u3]), f"users collection {names}")
        doc = res.RolePolicy(r1, "r-b").policy_document
        need(doc == ALLOW_S3, f"RolePolicy.policy_document {doc!r}")
    s.check("iam.resource_api", resources)

    # ---- instance profiles
    ip1, ip2 = f"{tag}-ip1", f"{tag}-ip2"
    cip = s.ok(iam, "CreateInstanceProfile", InstanceProfileName=ip1, Path=P, Tags=tags)
    if cip:
        s.expect("iam.CreateInstanceProfile.fields", cip["InstanceProfile"].get("InstanceProfileId", "").startswith("AIPA")
                 and cip["InstanceProfile"].get("Roles") == [], cip["InstanceProfile"])
    s.ok(iam, "CreateInstanceProfile", "second", InstanceProfileName=ip2, Path=P)
    s.err(iam, "CreateInstanceProfile", "EntityAlreadyExists", InstanceProfileName=ip1)
    s.check("iam.waiter.instance_profile_exists", lambda: iam.get_waiter("instance_profile_exists").wait(InstanceProfileName=ip1, WaiterConfig={"Delay": 1, "MaxAttempts": 3}))
    s.ok(iam, "AddRoleToInstanceProfile", InstanceProfileName=ip1, RoleName=r1)
    s.ok(iam, "AddRoleToInstanceProfile", "second", InstanceProfileName=ip2, RoleName=r1)
    s.err(iam, "AddRoleToInstanceProfile", "LimitExceeded", InstanceProfileName=ip1, RoleName=r2)
    gip = s.ok(iam, "GetInstanceProfile", InstanceProfileName=ip1)
    if gip:
        s.expect("iam.GetInstanceProfile.role", [x["RoleName"] for x in gip["InstanceProfile"]["Roles"]] == [r1], gip)
    s.err(iam, "GetInstanceProfile", "NoSuchEntity", InstanceProfileName=f"{tag}-noip")
    s.paginate(iam, "ListInstanceProfiles", "InstanceProfiles", PathPrefix=P)
    s.paginate(iam, "ListInstanceProfilesForRole", "InstanceProfiles", RoleName=r1)
    s.ok(iam, "TagInstanceProfile", InstanceProfileName=ip2, Tags=tags)
    s.paginate(iam, "ListInstanceProfileTags", "Tags", InstanceProfileName=ip2)
    s.ok(iam, "UntagInstanceProfile", InstanceProfileName=ip2, TagKeys=["team"])
    s.err(iam, "DeleteRole", "DeleteConflict", RoleName=r1)
    s.ok(iam, "RemoveRoleFromInstanceProfile", InstanceProfileName=ip2, RoleName=r1)
    s.ok(iam, "DeleteInstanceProfile", InstanceProfileName=ip2)
    s.err(iam, "DeleteInstanceProfile", "DeleteConflict", InstanceProfileName=ip1)

    # ---- access keys
    ak = s.ok(iam, "CreateAccessKey", UserName=u2)
    ak2 = s.ok(iam, "CreateAccessKey", "second", UserName=u2)
    if ak:
        k = ak["AccessKey"]
        s.expect("iam.CreateAccessKey.fields", k.get("AccessKeyId", "").startswith("AKIA") and len(k.get("SecretAccessKey", "")) == 40
                 and k.get("Status") == "Active" and k.get("UserName") == u2, {x: y for x, y in k.items() if x != "SecretAccessKey"})
    s.err(iam, "CreateAccessKey", "LimitExceeded", UserName=u2)
    s.paginate(iam, "ListAccessKeys", "AccessKeyMetadata", UserName=u2)
    if ak2:
        s.ok(iam, "UpdateAccessKey", UserName=u2, AccessKeyId=ak2["AccessKey"]["AccessKeyId"], Status="Inactive")
    if ak:
        kid = ak["AccessKey"]["AccessKeyId"]
        lu_ = s.ok(iam, "GetAccessKeyLastUsed", "unused", AccessKeyId=kid)
        if lu_:
            s.expect("iam.GetAccessKeyLastUsed.unused", lu_.get("UserName") == u2 and lu_["AccessKeyLastUsed"].get("ServiceName") == "N/A"
                     and lu_["AccessKeyLastUsed"].get("Region") == "N/A" and "LastUsedDate" not in lu_["AccessKeyLastUsed"], lu_)
        s.ok(iam, "GetAccessKeyLastUsed", AccessKeyId=me["UserId"] and s.key)
        s.err(iam, "UpdateAccessKey", "NoSuchEntity", UserName=u2, AccessKeyId="AKIAAAAAAAAAAAAAAAAA", Status="Inactive")
        s.ok(iam, "DeleteAccessKey", UserName=u2, AccessKeyId=kid)
        s.err(iam, "DeleteAccessKey", "NoSuchEntity", UserName=u2, AccessKeyId=kid)

    # ---- passwords
    s.ok(iam, "UpdateAccountPasswordPolicy", MinimumPasswordLength=12, RequireSymbols=True, RequireNumbers=True,
         RequireUppercaseCharacters=True, RequireLowercaseCharacters=True, AllowUsersToChangePassword=True,
         MaxPasswordAge=90, PasswordReusePrevention=3, HardExpiry=False)
    gpp = s.ok(iam, "GetAccountPasswordPolicy")
    if gpp:
        pp = gpp["PasswordPolicy"]
        s.expect("iam.GetAccountPasswordPolicy.fields", pp.get("MinimumPasswordLength") == 12 and pp.get("ExpirePasswords") is True
                 and pp.get("MaxPasswordAge") == 90 and pp.get("PasswordReusePrevention") == 3 and pp.get("AllowUsersToChangePassword") is True, pp)
    s.err(iam, "CreateLoginProfile", "PasswordPolicyViolation", UserName=u2, Password="short")
    pw = "Sweep-Passw0rd-" + tag
    clp = s.ok(iam, "CreateLoginProfile", UserName=u2, Password=pw, PasswordResetRequired=False)
    if clp:
        s.expect("iam.CreateLoginProfile.fields", clp["LoginProfile"].get("UserName") == u2 and clp["LoginProfile"].get("PasswordResetRequired") is False, clp)
    s.err(iam, "CreateLoginProfile", "EntityAlreadyExists", UserName=u2, Password=pw)
    s.ok(iam, "GetLoginProfile", UserName=u2)
    s.err(iam, "GetLoginProfile", "NoSuchEntity", UserName=u3)
    s.ok(iam, "UpdateLoginProfile", UserName=u2, PasswordResetRequired=False)
    if ak2:
        # ChangePassword is called by the user, with the user's own key.
        kid2, sec2 = ak2["AccessKey"]["AccessKeyId"], ak2["AccessKey"]["SecretAccessKey"]
        s.call(iam, "UpdateAccessKey", UserName=u2, AccessKeyId=kid2, Status="Active")
        bob = s.client("iam", key=kid2, secret=sec2)
        time.sleep(0.5)
        s.err(bob, "ChangePassword", "PasswordPolicyViolation", OldPassword=pw, NewPassword="weak")
        s.ok(bob, "ChangePassword", OldPassword=pw, NewPassword=pw + "-2")
        last = s.ok(iam, "GetAccessKeyLastUsed", "used", AccessKeyId=kid2)
        if last:
            s.expect("iam.GetAccessKeyLastUsed.records_use", last["AccessKeyLastUsed"].get("ServiceName") == "iam"
                     and isinstance(last["AccessKeyLastUsed"].get("LastUsedDate"), datetime.datetime), last)
    s.ok(iam, "DeleteLoginProfile", UserName=u2)
    s.ok(iam, "DeleteAccountPasswordPolicy")
    s.err(iam, "GetAccountPasswordPolicy", "NoSuchEntity")

    # ---- account alias, summary, details, credential report
    alias = f"{tag}-alias"
    s.ok(iam, "CreateAccountAlias", AccountAlias=alias)
    la = s.ok(iam, "ListAccountAliases")
    if la:
        s.expect("iam.ListAccountAliases.alias", la["AccountAliases"] == [alias], la)
    s.err(iam, "CreateAccountAlias", "ValidationError", label="bad", status=400, AccountAlias="Bad_Alias")
    s.ok(iam, "DeleteAccountAlias", AccountAlias=alias)
    s.err(iam, "DeleteAccountAlias", "NoSuchEntity", AccountAlias=alias)
    sm = s.ok(iam, "GetAccountSummary")
    if sm:
        m = sm["SummaryMap"]
        s.expect("iam.GetAccountSummary.keys", all(isinstance(m.get(k), int) for k in
                 ("Users", "Groups", "Roles", "Policies", "UsersQuota", "AccessKeysPerUserQuota", "AccountMFAEnabled", "MFADevices")), m)
    s.paginate(iam, "GetAccountAuthorizationDetails", "UserDetailList", Filter=["User"])
    gad = s.ok(iam, "GetAccountAuthorizationDetails", Filter=["User", "Role", "Group", "LocalManagedPolicy"])
    if gad:
        ud_ = next((x for x in gad["UserDetailList"] if x["UserName"] == u1), {})
        s.expect("iam.GetAccountAuthorizationDetails.user_detail", sorted(x["PolicyName"] for x in ud_.get("UserPolicyList", [])) == ["inline-a", "inline-b"]
                 and isinstance(ud_.get("UserPolicyList", [{}])[0].get("PolicyDocument"), dict) and sorted(ud_.get("GroupList", [])) == sorted([g1, g2]), ud_)
        pd = next((x for x in gad["Policies"] if x["Arn"] == pol_arn), {})
        s.expect("iam.GetAccountAuthorizationDetails.policy_versions", pd.get("PolicyVersionList") and isinstance(pd["PolicyVersionList"][0].get("Document"), dict), pd)
    gen = s.ok(iam, "GenerateCredentialReport")
    if gen:
        s.expect("iam.GenerateCredentialReport.state", gen.get("State") in ("STARTED", "INPROGRESS", "COMPLETE"), gen)

    def report():
        r = s.call(iam, "GetCredentialReport")
        need(r.get("ReportFormat") == "text/csv", r.get("ReportFormat"))
        text = r["Content"].decode()
        header = text.split("\n", 1)[0].strip()
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html
        need(header == CREDENTIAL_REPORT_HEADER, f"header {header!r}")
        need("\n<root_account>,arn:aws:iam::" + acct + ":root," in text, "no <root_account> row")
        need(f"\n{u1}," in text, f"{u1} missing from report")
        return r
    s.check("iam.GetCredentialReport", lambda: eventually(report, "credential report", 15))

    # ---- virtual MFA
    mfa_name = f"{tag}-mfa"
    vm = s.ok(iam, "CreateVirtualMFADevice", VirtualMFADeviceName=mfa_name, Path=P, Tags=tags)
    s.err(iam, "CreateVirtualMFADevice", "EntityAlreadyExists", VirtualMFADeviceName=mfa_name, Path=P)
    if vm:
        d = vm["VirtualMFADevice"]
        serial = d["SerialNumber"]
        seed = d["Base32StringSeed"].decode()
        s.expect("iam.CreateVirtualMFADevice.fields", serial == f"arn:aws:iam::{acct}:mfa{P}{mfa_name}" and len(seed) >= 16
                 and d.get("QRCodePNG", b"")[:8] == b"\x89PNG\r\n\x1a\n", {"SerialNumber": serial, "seedlen": len(seed)})
        now = time.time()
        s.err(iam, "EnableMFADevice", "InvalidAuthenticationCode", UserName=u1, SerialNumber=serial,
              AuthenticationCode1="000000", AuthenticationCode2="000001")
        s.ok(iam, "EnableMFADevice", UserName=u1, SerialNumber=serial,
             AuthenticationCode1=totp(seed, now - 30), AuthenticationCode2=totp(seed, now))
        lm = s.ok(iam, "ListMFADevices", UserName=u1)
        if lm:
            s.expect("iam.ListMFADevices.device", [x["SerialNumber"] for x in lm["MFADevices"]] == [serial]
                     and isinstance(lm["MFADevices"][0].get("EnableDate"), datetime.datetime), lm)
        lv = s.ok(iam, "ListVirtualMFADevices", AssignmentStatus="Assigned")
        if lv:
            dv = next((x for x in lv["VirtualMFADevices"] if x["SerialNumber"] == serial), None)
            s.expect("iam.ListVirtualMFADevices.assigned", dv is not None and dv.get("User", {}).get("UserName") == u1
                     and "Base32StringSeed" not in dv and isinstance(dv.get("EnableDate"), datetime.datetime), dv)
        gm = s.ok(iam, "GetMFADevice", SerialNumber=serial, UserName=u1)
        if gm:
            s.expect("iam.GetMFADevice.fields", gm.get("SerialNumber") == serial and gm.get("UserName") == u1, gm)
        s.err(iam, "GetMFADevice", "NoSuchEntity", SerialNumber=f"arn:aws:iam::{acct}:mfa/{tag}-nomfa")
        s.ok(iam, "ResyncMFADevice", UserName=u1, SerialNumber=serial,
             AuthenticationCode1=totp(seed, now + 30), AuthenticationCode2=totp(seed, now + 60))
        s.ok(iam, "TagMFADevice", SerialNumber=serial, Tags=[{"Key": "env", "Value": "prod"}])
        s.paginate(iam, "ListMFADeviceTags", "Tags", SerialNumber=serial)
        s.ok(iam, "UntagMFADevice", SerialNumber=serial, TagKeys=["env"])
        s.err(iam, "DeleteVirtualMFADevice", "DeleteConflict", SerialNumber=serial)
        s.ok(iam, "DeactivateMFADevice", UserName=u1, SerialNumber=serial)
        s.paginate(iam, "ListVirtualMFADevices", "VirtualMFADevices", min_items=1, AssignmentStatus="Unassigned")
        s.ok(iam, "DeleteVirtualMFADevice", SerialNumber=serial)

    # ---- OIDC providers
    oidc_url = f"https://oidc.{tag}.example.com/tenant"
    thumb = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
    co = s.ok(iam, "CreateOpenIDConnectProvider", Url=oidc_url, ClientIDList=["app-1"], ThumbprintList=[thumb], Tags=tags)
    oidc_arn = co["OpenIDConnectProviderArn"] if co else f"arn:aws:iam::{acct}:oidc-provider/oidc.{tag}.example.com/tenant"
    if co:
        s.expect("iam.CreateOpenIDConnectProvider.arn", oidc_arn == f"arn:aws:iam::{acct}:oidc-provider/oidc.{tag}.example.com/tenant" and len(co.get("Tags", [])) == 2, co)
    s.err(iam, "CreateOpenIDConnectProvider", "EntityAlreadyExists", Url=oidc_url, ClientIDList=["app-1"], ThumbprintList=[thumb])
    s.ok(iam, "AddClientIDToOpenIDConnectProvider", OpenIDConnectProviderArn=oidc_arn, ClientID="app-2")
    s.ok(iam, "RemoveClientIDFromOpenIDConnectProvider", OpenIDConnectProviderArn=oidc_arn, ClientID="app-1")
    s.ok(iam, "UpdateOpenIDConnectProviderThumbprint", OpenIDConnectProviderArn=oidc_arn, ThumbprintList=[thumb, "a" * 40])
    go = s.ok(iam, "GetOpenIDConnectProvider", OpenIDConnectProviderArn=oidc_arn)
    if go:
        s.expect("iam.GetOpenIDConnectProvider.fields", go.get("Url") == oidc_url[len("https://"):] and go.get("ClientIDList") == ["app-2"]
                 and go.get("ThumbprintList") == [thumb, "a" * 40] and isinstance(go.get("CreateDate"), datetime.datetime), go)
    s.err(iam, "GetOpenIDConnectProvider", "NoSuchEntity", OpenIDConnectProviderArn=f"arn:aws:iam::{acct}:oidc-provider/none.example.com")
    lo = s.ok(iam, "ListOpenIDConnectProviders")
    if lo:
        s.expect("iam.ListOpenIDConnectProviders.arn", oidc_arn in [x["Arn"] for x in lo["OpenIDConnectProviderList"]], lo)
    s.ok(iam, "TagOpenIDConnectProvider", OpenIDConnectProviderArn=oidc_arn, Tags=[{"Key": "env", "Value": "prod"}])
    s.paginate(iam, "ListOpenIDConnectProviderTags", "Tags", OpenIDConnectProviderArn=oidc_arn)
    s.ok(iam, "UntagOpenIDConnectProvider", OpenIDConnectProviderArn=oidc_arn, TagKeys=["env"])

    # ---- SAML providers
    saml_idp = SAMLIdP(f"https://idp.{tag}.example.com/entity")
    cs = s.ok(iam, "CreateSAMLProvider", Name=f"{tag}-corp", SAMLMetadataDocument=saml_idp.metadata(), Tags=tags)
    saml_arn = cs["SAMLProviderArn"] if cs else f"arn:aws:iam::{acct}:saml-provider/{tag}-corp"
    s.err(iam, "CreateSAMLProvider", "InvalidInput", label="bad_metadata", Name=f"{tag}-bad", SAMLMetadataDocument="x" * 1000)
    gs = s.ok(iam, "GetSAMLProvider", SAMLProviderArn=saml_arn)
    if gs:
        s.expect("iam.GetSAMLProvider.fields", gs.get("SAMLMetadataDocument") == saml_idp.metadata() and isinstance(gs.get("ValidUntil"), datetime.datetime)
                 and len(gs.get("Tags", [])) == 2, {k: v for k, v in gs.items() if k != "SAMLMetadataDocument"})
    s.err(iam, "GetSAMLProvider", "NoSuchEntity", SAMLProviderArn=f"arn:aws:iam::{acct}:saml-provider/{tag}-none")
    s.ok(iam, "UpdateSAMLProvider", SAMLProviderArn=saml_arn, SAMLMetadataDocument=saml_idp.metadata())
    ls = s.ok(iam, "ListSAMLProviders")
    if ls:
        s.expect("iam.ListSAMLProviders.arn", saml_arn in [x["Arn"] for x in ls["SAMLProviderList"]], ls)
    s.ok(iam, "TagSAMLProvider", SAMLProviderArn=saml_arn, Tags=[{"Key": "env", "Value": "prod"}])
    s.paginate(iam, "ListSAMLProviderTags", "Tags", SAMLProviderArn=saml_arn)
    s.ok(iam, "UntagSAMLProvider", SAMLProviderArn=saml_arn, TagKeys=["env"])

    # ---- SSH keys, signing and server certificates, service credentials
    sk = s.ok(iam, "UploadSSHPublicKey", UserName=u1, SSHPublicKeyBody=ssh_public_key())
    s.ok(iam, "UploadSSHPublicKey", "second", UserName=u1, SSHPublicKeyBody=ssh_public_key())
    s.err(iam, "UploadSSHPublicKey", "InvalidPublicKey", UserName=u1, SSHPublicKeyBody="ssh-rsa notakey")
    if sk:
        kid = sk["SSHPublicKey"]["SSHPublicKeyId"]
        s.expect("iam.UploadSSHPublicKey.fields", kid.startswith("APKA") and sk["SSHPublicKey"].get("Status") == "Active"
                 and sk["SSHPublicKey"].get("Fingerprint", "").count(":") == 15, sk["SSHPublicKey"])
        s.ok(iam, "GetSSHPublicKey", UserName=u1, SSHPublicKeyId=kid, Encoding="SSH")
        gpem = s.ok(iam, "GetSSHPublicKey", "pem", UserName=u1, SSHPublicKeyId=kid, Encoding="PEM")
        if gpem:
            s.expect("iam.GetSSHPublicKey.pem_body", gpem["SSHPublicKey"]["SSHPublicKeyBody"].startswith("-----BEGIN PUBLIC KEY-----"), gpem["SSHPublicKey"]["SSHPublicKeyBody"][:40])
        s.err(iam, "GetSSHPublicKey", "NoSuchEntity", UserName=u1, SSHPublicKeyId="APKAAAAAAAAAAAAAAAAA", Encoding="SSH")
        s.paginate(iam, "ListSSHPublicKeys", "SSHPublicKeys", UserName=u1)
        s.ok(iam, "UpdateSSHPublicKey", UserName=u1, SSHPublicKeyId=kid, Status="Inactive")
        s.ok(iam, "DeleteSSHPublicKey", UserName=u1, SSHPublicKeyId=kid)

    _, _, cert_pem, _ = self_signed("signing." + tag)
    sc = s.ok(iam, "UploadSigningCertificate", UserName=u1, CertificateBody=cert_pem)
    _, _, cert_pem2, _ = self_signed("signing2." + tag)
    s.ok(iam, "UploadSigningCertificate", "second", UserName=u1, CertificateBody=cert_pem2)
    s.err(iam, "UploadSigningCertificate", "MalformedCertificate", UserName=u1, CertificateBody="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    if sc:
        cid = sc["Certificate"]["CertificateId"]
        s.paginate(iam, "ListSigningCertificates", "Certificates", UserName=u1)
        s.ok(iam, "UpdateSigningCertificate", UserName=u1, CertificateId=cid, Status="Inactive")
        s.ok(iam, "DeleteSigningCertificate", UserName=u1, CertificateId=cid)
        s.err(iam, "DeleteSigningCertificate", "NoSuchEntity", UserName=u1, CertificateId=cid)

    srv = f"{tag}-web"
    _, key_pem, scert, _ = self_signed("www." + tag + ".example.com")
    us = s.ok(iam, "UploadServerCertificate", ServerCertificateName=srv, Path="/cloudfront/" + tag + "/", CertificateBody=scert, PrivateKey=key_pem, Tags=tags)
    _, key_pem2, scert2, _ = self_signed("api." + tag + ".example.com")
    s.ok(iam, "UploadServerCertificate", "second", ServerCertificateName=srv + "2", Path="/cloudfront/" + tag + "/", CertificateBody=scert2, PrivateKey=key_pem2)
    s.err(iam, "UploadServerCertificate", "EntityAlreadyExists", ServerCertificateName=srv, CertificateBody=scert, PrivateKey=key_pem)
    s.err(iam, "UploadServerCertificate", "KeyPairMismatch", ServerCertificateName=srv + "-mm", CertificateBody=scert, PrivateKey=key_pem2)
    if us:
        md = us["ServerCertificateMetadata"]
        s.expect("iam.UploadServerCertificate.fields", md.get("ServerCertificateId", "").startswith("ASCA")
                 and isinstance(md.get("Expiration"), datetime.datetime) and md.get("Arn") == f"arn:aws:iam::{acct}:server-certificate/cloudfront/{tag}/{srv}", md)
    gsc = s.ok(iam, "GetServerCertificate", ServerCertificateName=srv)
    if gsc:
        s.expect("iam.GetServerCertificate.no_private_key", "PrivateKey" not in gsc["ServerCertificate"]
                 and gsc["ServerCertificate"].get("CertificateBody", "").strip() == scert.strip(), list(gsc["ServerCertificate"].keys()))
    s.err(iam, "GetServerCertificate", "NoSuchEntity", ServerCertificateName=f"{tag}-nocert")
    s.paginate(iam, "ListServerCertificates", "ServerCertificateMetadataList", PathPrefix="/cloudfront/" + tag + "/")
    s.ok(iam, "TagServerCertificate", ServerCertificateName=srv, Tags=[{"Key": "env", "Value": "prod"}])
    s.paginate(iam, "ListServerCertificateTags", "Tags", ServerCertificateName=srv)
    s.ok(iam, "UntagServerCertificate", ServerCertificateName=srv, TagKeys=["env"])
    s.ok(iam, "UpdateServerCertificate", ServerCertificateName=srv + "2", NewServerCertificateName=srv + "3")
    s.ok(iam, "DeleteServerCertificate", ServerCertificateName=srv + "3")
    s.ok(iam, "DeleteServerCertificate", "second", ServerCertificateName=srv)

    ssc = s.ok(iam, "CreateServiceSpecificCredential", UserName=u1, ServiceName="codecommit.amazonaws.com")
    s.err(iam, "CreateServiceSpecificCredential", "NotSupportedService", UserName=u1, ServiceName="ec2.amazonaws.com")
    if ssc:
        c = ssc["ServiceSpecificCredential"]
        cid = c["ServiceSpecificCredentialId"]
        s.expect("iam.CreateServiceSpecificCredential.fields", cid.startswith("ACCA") and c.get("ServicePassword") and c.get("ServiceUserName", "").startswith(u1 + "-at-")
                 and c.get("Status") == "Active", {k: v for k, v in c.items() if k != "ServicePassword"})
        lsc = s.ok(iam, "ListServiceSpecificCredentials", UserName=u1)
        if lsc:
            s.expect("iam.ListServiceSpecificCredentials.no_password", lsc["ServiceSpecificCredentials"] and all("ServicePassword" not in x for x in lsc["ServiceSpecificCredentials"]), lsc)
        rs = s.ok(iam, "ResetServiceSpecificCredential", UserName=u1, ServiceSpecificCredentialId=cid)
        if rs:
            s.expect("iam.ResetServiceSpecificCredential.new_password", rs["ServiceSpecificCredential"].get("ServicePassword") not in (None, c.get("ServicePassword")), "password unchanged")
        s.ok(iam, "UpdateServiceSpecificCredential", UserName=u1, ServiceSpecificCredentialId=cid, Status="Inactive")
        s.ok(iam, "DeleteServiceSpecificCredential", UserName=u1, ServiceSpecificCredentialId=cid)
        s.err(iam, "DeleteServiceSpecificCredential", "NoSuchEntity", UserName=u1, ServiceSpecificCredentialId=cid)

    # ---- service-linked roles
    slr = s.ok(iam, "CreateServiceLinkedRole", AWSServiceName="elasticbeanstalk.amazonaws.com", Description="sweep", CustomSuffix=tag)
    if slr:
        rr = slr["Role"]
        s.expect("iam.CreateServiceLinkedRole.fields", rr.get("Path") == "/aws-service-role/elasticbeanstalk.amazonaws.com/"
                 and rr.get("RoleName") == f"AWSServiceRoleForElasticBeanstalk_{tag}", rr)
        # A service-linked role is deleted only through DeleteServiceLinkedRole.
        s.err(iam, "DeleteRole", "UnmodifiableEntity", label="service_linked", RoleName=rr["RoleName"])
        dl = s.ok(iam, "DeleteServiceLinkedRole", RoleName=rr["RoleName"])
        if dl:
            tid = dl["DeletionTaskId"]
            s.check("iam.GetServiceLinkedRoleDeletionStatus", lambda: eventually(
                lambda: need(s.call(iam, "GetServiceLinkedRoleDeletionStatus", DeletionTaskId=tid)["Status"] == "SUCCEEDED", "not SUCCEEDED"), "slr", 10))
    s.err(iam, "CreateServiceLinkedRole", "InvalidInput", AWSServiceName="not-a-service.example.com")

    # ---- simulation
    sim = s.ok(iam, "SimulateCustomPolicy", PolicyInputList=[json.dumps(ALLOW_S3)], ActionNames=["s3:GetObject", "s3:PutObject"],
               ResourceArns=["arn:aws:s3:::bucket/key"], ContextEntries=[{"ContextKeyName": "aws:RequestedRegion", "ContextKeyValues": ["us-east-1"], "ContextKeyType": "string"}])
    if sim:
        d = {r["EvalActionName"]: r["EvalDecision"] for r in sim["EvaluationResults"]}
        s.expect("iam.SimulateCustomPolicy.decisions", d == {"s3:GetObject": "allowed", "s3:PutObject": "implicitDeny"}, d)
        mst = next((r for r in sim["EvaluationResults"] if r["EvalActionName"] == "s3:GetObject"), {}).get("MatchedStatements", [])
        s.expect("iam.SimulateCustomPolicy.matched_statement", mst and mst[0].get("SourcePolicyId") == "PolicyInputList.1" and "StartPosition" in mst[0], mst)
    nc = s.ok(iam, "SimulateCustomPolicy", "missing_context", PolicyInputList=[json.dumps(ALLOW_S3)], ActionNames=["s3:GetObject"])
    if nc:
        r0 = nc["EvaluationResults"][0]
        s.expect("iam.SimulateCustomPolicy.missing_context_values", r0["EvalDecision"] == "implicitDeny"
                 and [k.lower() for k in r0.get("MissingContextValues", [])] == ["aws:requestedregion"], r0)
    s.paginate(iam, "SimulateCustomPolicy", "EvaluationResults", PolicyInputList=[json.dumps(ALLOW_S3)], ActionNames=["s3:GetObject", "s3:ListBucket", "s3:PutObject"])
    # SimulateCustomPolicy models no MalformedPolicyDocument: a bad policy is InvalidInput.
    s.err(iam, "SimulateCustomPolicy", "InvalidInput", PolicyInputList=["{"], ActionNames=["s3:GetObject"])
    user_arn = f"arn:aws:iam::{acct}:user{P}{u1}"
    sp = s.ok(iam, "SimulatePrincipalPolicy", PolicySourceArn=user_arn, ActionNames=["s3:GetObject", "iam:CreateUser"],
              ContextEntries=[{"ContextKeyName": "aws:RequestedRegion", "ContextKeyValues": ["us-east-1"], "ContextKeyType": "string"}])
    if sp:
        d = {r["EvalActionName"]: r["EvalDecision"] for r in sp["EvaluationResults"]}
        # alice: inline ALLOW_ALL, boundary = s3read (now v1): IAM is outside the boundary.
        s.expect("iam.SimulatePrincipalPolicy.boundary", d.get("s3:GetObject") == "allowed" and d.get("iam:CreateUser") == "implicitDeny", d)
    s.paginate(iam, "SimulatePrincipalPolicy", "EvaluationResults", PolicySourceArn=user_arn, ActionNames=["s3:GetObject", "s3:ListBucket"])
    s.err(iam, "SimulatePrincipalPolicy", "NoSuchEntity", PolicySourceArn=f"arn:aws:iam::{acct}:user/{tag}-nobody", ActionNames=["s3:GetObject"])
    ck = s.ok(iam, "GetContextKeysForCustomPolicy", PolicyInputList=[json.dumps(ALLOW_S3)])
    if ck:
        s.expect("iam.GetContextKeysForCustomPolicy.keys", [k.lower() for k in ck.get("ContextKeyNames", [])] == ["aws:requestedregion"], ck)
    ckp = s.ok(iam, "GetContextKeysForPrincipalPolicy", PolicySourceArn=user_arn)
    if ckp:
        s.expect("iam.GetContextKeysForPrincipalPolicy.keys", "aws:requestedregion" in [k.lower() for k in ckp.get("ContextKeyNames", [])], ckp)

    # ---- teardown, in the order AWS requires
    for kk in (s.call(iam, "ListSSHPublicKeys", UserName=u1)["SSHPublicKeys"] if sk else []):
        s.call(iam, "DeleteSSHPublicKey", UserName=u1, SSHPublicKeyId=kk["SSHPublicKeyId"])
    for c in (s.call(iam, "ListSigningCertificates", UserName=u1)["Certificates"] if sc else []):
        s.call(iam, "DeleteSigningCertificate", UserName=u1, CertificateId=c["CertificateId"])
    s.ok(iam, "DeleteOpenIDConnectProvider", OpenIDConnectProviderArn=oidc_arn)
    s.err(iam, "DeleteOpenIDConnectProvider", "NoSuchEntity", OpenIDConnectProviderArn=oidc_arn)
    s.ok(iam, "RemoveRoleFromInstanceProfile", "last", InstanceProfileName=ip1, RoleName=r1)
    s.ok(iam, "DeleteInstanceProfile", "last", InstanceProfileName=ip1)
    s.ok(iam, "DetachRolePolicy", RoleName=r1, PolicyArn=pol_arn)
    s.err(iam, "DetachRolePolicy", "NoSuchEntity", RoleName=r1, PolicyArn=pol_arn)
    s.ok(iam, "DetachRolePolicy", "second", RoleName=r1, PolicyArn=pol2_arn)
    s.ok(iam, "DeleteRolePolicy", RoleName=r1, PolicyName="r-a")
    s.ok(iam, "DeleteRolePolicy", "second", RoleName=r1, PolicyName="r-b")
    s.err(iam, "DeleteRolePolicy", "NoSuchEntity", RoleName=r1, PolicyName="r-b")
    s.ok(iam, "DeleteRolePermissionsBoundary", "r1", RoleName=r1)
    s.ok(iam, "DeleteRole", RoleName=r1)
    s.err(iam, "DeleteRole", "NoSuchEntity", RoleName=r1)
    s.ok(iam, "DetachGroupPolicy", GroupName=g1, PolicyArn=pol_arn)
    s.ok(iam, "DetachGroupPolicy", "second", GroupName=g1, PolicyArn=pol2_arn)
    s.ok(iam, "DeleteGroupPolicy", GroupName=g1, PolicyName="g-a")
    s.ok(iam, "DeleteGroupPolicy", "second", GroupName=g1, PolicyName="g-b")
    s.ok(iam, "RemoveUserFromGroup", GroupName=g1, UserName=u1)
    s.err(iam, "RemoveUserFromGroup", "NoSuchEntity", label="not_member", GroupName=g1, UserName=u1)
    s.ok(iam, "RemoveUserFromGroup", "second", GroupName=g1, UserName=u2)
    s.ok(iam, "RemoveUserFromGroup", "third", GroupName=g2, UserName=u1)
    s.ok(iam, "DeleteGroup", GroupName=g1)
    s.ok(iam, "DeleteGroup", "second", GroupName=g2)
    s.err(iam, "DeleteGroup", "NoSuchEntity", GroupName=g1)
    s.ok(iam, "DetachUserPolicy", UserName=u1, PolicyArn=pol_arn)
    s.ok(iam, "DetachUserPolicy", "second", UserName=u1, PolicyArn=pol2_arn)
    s.err(iam, "DeleteUser", "DeleteConflict", UserName=u1)
    s.ok(iam, "DeleteUserPolicy", UserName=u1, PolicyName="inline-a")
    s.ok(iam, "DeleteUserPolicy", "second", UserName=u1, PolicyName="inline-b")
    s.err(iam, "DeleteUserPolicy", "NoSuchEntity", UserName=u1, PolicyName="inline-a")
    s.ok(iam, "DeleteUserPermissionsBoundary", "u1", UserName=u1)
    for u in (u1, u3):
        s.ok(iam, "DeleteUser", u.rsplit("-", 1)[1], UserName=u)
    for k in (s.call(iam, "ListAccessKeys", UserName=u2)["AccessKeyMetadata"]):
        s.call(iam, "DeleteAccessKey", UserName=u2, AccessKeyId=k["AccessKeyId"])
    s.ok(iam, "DeleteUser", "bob", UserName=u2)
    s.err(iam, "DeleteUser", "NoSuchEntity", UserName=u2)
    s.ok(iam, "DeletePolicy", PolicyArn=pol_arn)
    s.ok(iam, "DeletePolicy", "second", PolicyArn=pol2_arn)
    s.err(iam, "DeletePolicy", "NoSuchEntity", PolicyArn=pol_arn)
    return acct, saml_idp, saml_arn


class SAMLIdP:
    """A SAML identity provider: a key, a self-signed certificate, metadata,
    and signed responses whose Assertion is already in exclusive canonical
    form, so the digest is the digest of the text as written."""

    def __init__(self, entity_id):
        from cryptography.hazmat.primitives import serialization
        self.key, _, _, cert = self_signed("idp")
        self.cert_b64 = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        self.entity_id = entity_id

    def metadata(self):
        return ('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="' + self.entity_id + '">'
                '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
                '<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>'
                + self.cert_b64 + '</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'
                '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>'
                '</md:IDPSSODescriptor></md:EntityDescriptor>')

    def response(self, name_id, role_pairs, lifetime=300):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        def ts(t):
            return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        issued, until = time.time() - 60, time.time() + lifetime
        roles = "".join(f"<saml:AttributeValue>{r}</saml:AttributeValue>" for r in role_pairs)
        opening = ('<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_assert1" IssueInstant="'
                   + ts(issued) + '" Version="2.0">')
        body = ('<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">' + name_id + '</saml:NameID>'
                '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="'
                + ts(until) + '" Recipient="https://signin.aws.amazon.com/saml"></saml:SubjectConfirmationData></saml:SubjectConfirmation></saml:Subject>'
                '<saml:Conditions NotBefore="' + ts(issued) + '" NotOnOrAfter="' + ts(until) + '"><saml:AudienceRestriction>'
                '<saml:Audience>https://signin.aws.amazon.com/saml</saml:Audience></saml:AudienceRestriction></saml:Conditions>'
                '<saml:AttributeStatement><saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role">' + roles + '</saml:Attribute>'
                '<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><saml:AttributeValue>' + name_id
                + '</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>')
        issuer = "<saml:Issuer>" + self.entity_id + "</saml:Issuer>"
        digest = base64.b64encode(hashlib.sha256((opening + issuer + body).encode()).digest()).decode()
        si_ns = '<ds:SignedInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
        si_rest = ('<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:CanonicalizationMethod>'
                   '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"></ds:SignatureMethod><ds:Reference URI="#_assert1"><ds:Transforms>'
                   '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></ds:Transform><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:Transform></ds:Transforms>'
                   '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></ds:DigestMethod><ds:DigestValue>' + digest + '</ds:DigestValue></ds:Reference></ds:SignedInfo>')
        sig = self.key.sign((si_ns + si_rest).encode(), padding.PKCS1v15(), hashes.SHA256())
        signature = ('<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>' + si_rest
                     + '<ds:SignatureValue>' + base64.b64encode(sig).decode() + '</ds:SignatureValue></ds:Signature>')
        doc = ('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_resp1" Version="2.0" IssueInstant="'
               + ts(issued) + '">\n  ' + issuer + '\n  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>\n  '
               + opening + issuer + signature + body + "\n</samlp:Response>")
        return base64.b64encode(doc.encode()).decode()


# ---------------------------------------------------------------- STS

def sweep_sts(s, tag, acct, saml_idp, saml_arn):
    iam = s.client("iam")
    sts = s.client("sts")
    anon = s.client("sts", anonymous=True)
    gci = s.ok(sts, "GetCallerIdentity")
    if gci:
        s.expect("sts.GetCallerIdentity.fields", gci.get("Account") == acct and gci.get("Arn", "").endswith(":user/admin")
                 and gci.get("UserId", "").startswith("AIDA"), gci)
    s.err(s.client("sts", key="AKIAIOSFODNN7EXAMPLE", secret="x" * 40), "GetCallerIdentity", "InvalidClientTokenId", status=403)
    s.err(s.client("sts", secret="y" * 40), "GetCallerIdentity", "SignatureDoesNotMatch", status=403)

    gst = s.ok(sts, "GetSessionToken", DurationSeconds=900)
    if gst:
        c = gst["Credentials"]
        s.expect("sts.GetSessionToken.fields", c["AccessKeyId"].startswith("ASIA") and isinstance(c.get("Expiration"), datetime.datetime)
                 and 800 <= (c["Expiration"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds() <= 1000, c["Expiration"])
        sess = s.client("sts", key=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"])
        who = s.ok(sess, "GetCallerIdentity", "session_token")
        if who:
            s.expect("sts.GetSessionToken.identity", who.get("Arn") == gci.get("Arn") if gci else False, who)
        s.err(sess, "GetSessionToken", "AccessDenied", label="from_session", status=403)
    s.err(sts, "GetSessionToken", "ValidationError", label="too_long", status=400, DurationSeconds=200000)

    role = f"{tag}-sts"
    s.call(iam, "CreateRole", RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}, "Action": ["sts:AssumeRole", "sts:TagSession"],
         "Condition": {"StringEquals": {"sts:ExternalId": "ext-1"}}},
        {"Effect": "Allow", "Principal": {"Federated": saml_arn}, "Action": "sts:AssumeRoleWithSAML",
         "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}}]}), MaxSessionDuration=7200)
    s.call(iam, "PutRolePolicy", RoleName=role, PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL))
    role_arn = f"arn:aws:iam::{acct}:role/{role}"
    time.sleep(0.5)
    ar = s.ok(sts, "AssumeRole", RoleArn=role_arn, RoleSessionName="sweep-session", ExternalId="ext-1", DurationSeconds=1800,
              Tags=[{"Key": "project", "Value": "sweep"}], TransitiveTagKeys=["project"], SourceIdentity="sweeper",
              Policy=json.dumps(ALLOW_S3), PolicyArns=[{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}])
    if ar:
        s.expect("sts.AssumeRole.fields", ar["AssumedRoleUser"].get("Arn") == f"arn:aws:sts::{acct}:assumed-role/{role}/sweep-session"
                 and ar["AssumedRoleUser"].get("AssumedRoleId", "").startswith("AROA") and ar["AssumedRoleUser"]["AssumedRoleId"].endswith(":sweep-session")
                 and isinstance(ar.get("PackedPolicySize"), int) and ar.get("SourceIdentity") == "sweeper", {k: v for k, v in ar.items() if k != "Credentials"})
        c = ar["Credentials"]
        rs = s.client("sts", key=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"])
        who = s.ok(rs, "GetCallerIdentity", "assumed_role")
        if who:
            s.expect("sts.AssumeRole.identity", who.get("Arn") == ar["AssumedRoleUser"]["Arn"] and who.get("UserId") == ar["AssumedRoleUser"]["AssumedRoleId"], who)
        ri = s.client("iam", key=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"])
        s.err(ri, "CreateUser", "AccessDenied", label="session_policy", status=403, UserName=f"{tag}-denied")
        info = s.ok(sts, "GetAccessKeyInfo", AccessKeyId=c["AccessKeyId"])
        if info:
            s.expect("sts.GetAccessKeyInfo.account", info.get("Account") == acct, info)
    s.err(sts, "AssumeRole", "AccessDenied", label="no_external_id", status=403, RoleArn=role_arn, RoleSessionName="xx")
    s.err(sts, "AssumeRole", "ValidationError", label="bad_session_name", status=400, RoleArn=role_arn, RoleSessionName="has space", ExternalId="ext-1")
    s.err(sts, "AssumeRole", "MalformedPolicyDocument", RoleArn=role_arn, RoleSessionName="xx", ExternalId="ext-1", Policy="{")
    s.err(sts, "AssumeRole", "ValidationError", label="duration_over_max", status=400, RoleArn=role_arn, RoleSessionName="xx", ExternalId="ext-1", DurationSeconds=7201)

    ft = s.ok(sts, "GetFederationToken", Name="fed-" + tag[:20], Policy=json.dumps(ALLOW_S3), DurationSeconds=900,
              Tags=[{"Key": "project", "Value": "sweep"}])
    if ft:
        s.expect("sts.GetFederationToken.fields", ft["FederatedUser"].get("Arn") == f"arn:aws:sts::{acct}:federated-user/fed-{tag[:20]}"
                 and ft["FederatedUser"].get("FederatedUserId") == f"{acct}:fed-{tag[:20]}" and isinstance(ft.get("PackedPolicySize"), int), ft["FederatedUser"])
    s.err(sts, "GetFederationToken", "ValidationError", label="bad_name", status=400, Name="has space")
    gak = s.ok(sts, "GetAccessKeyInfo", "own", AccessKeyId=s.key)
    if gak:
        s.expect("sts.GetAccessKeyInfo.own", gak.get("Account") == acct, gak)
    s.err(sts, "DecodeAuthorizationMessage", "InvalidAuthorizationMessageException", EncodedMessage="not-a-message")

    # SAML: unsigned call with a signed assertion.
    pair = f"{role_arn},{saml_arn}"
    sa = s.ok(anon, "AssumeRoleWithSAML", RoleArn=role_arn, PrincipalArn=saml_arn, SAMLAssertion=saml_idp.response("alice", [pair]), DurationSeconds=900)
    if sa:
        q = base64.b64encode(hashlib.sha1((saml_idp.entity_id + acct + "/" + saml_arn.rsplit("/", 1)[1]).encode()).digest()).decode()
        s.expect("sts.AssumeRoleWithSAML.fields", sa.get("Subject") == "alice" and sa.get("SubjectType") == "persistent" and sa.get("Issuer") == saml_idp.entity_id
                 and sa.get("Audience") == "https://signin.aws.amazon.com/saml" and sa.get("NameQualifier") == q
                 and sa["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{acct}:assumed-role/{role}/alice", {k: v for k, v in sa.items() if k != "Credentials"})
    s.err(anon, "AssumeRoleWithSAML", "InvalidIdentityToken", RoleArn=role_arn, PrincipalArn=saml_arn, SAMLAssertion="%%%%")
    s.err(anon, "AssumeRoleWithSAML", "AccessDenied", label="role_not_in_assertion", status=403, RoleArn=role_arn, PrincipalArn=saml_arn,
          SAMLAssertion=saml_idp.response("bob", [f"arn:aws:iam::{acct}:role/other,{saml_arn}"]))
    # Web identity: the issuer must be reachable over HTTPS to fetch its keys,
    # which a self-contained script cannot provide; the error paths still run.
    s.err(anon, "AssumeRoleWithWebIdentity", "InvalidIdentityToken", RoleArn=role_arn, RoleSessionName="web", WebIdentityToken="not.a.jwt")

    s.call(iam, "DeleteRolePolicy", RoleName=role, PolicyName="all")
    s.call(iam, "DeleteRole", RoleName=role)
    s.ok(iam, "DeleteSAMLProvider", SAMLProviderArn=saml_arn)
    s.check("iam.DeleteSAMLProvider.gone", lambda: need(_code(lambda: iam.get_saml_provider(SAMLProviderArn=saml_arn)) == "NoSuchEntity", "still there"))
    s.err(iam, "DeleteSAMLProvider", "NoSuchEntity", SAMLProviderArn=saml_arn)


def _code(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


# ---------------------------------------------------------------- Organizations, Account, root access

SCP = {"Version": "2012-10-17", "Statement": [{"Sid": "NoLeave", "Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]}
TAG_POLICY = {"tags": {"costcenter": {"tag_key": {"@@assign": "CostCenter"}}}}


def sweep_organizations(s, tag, acct):
    org = s.client("organizations")
    account = s.client("account")
    iam = s.client("iam")
    sts = s.client("sts")
    s.err(org, "DescribeOrganization", "AWSOrganizationsNotInUseException")
    co = s.ok(org, "CreateOrganization", FeatureSet="ALL")
    if co:
        o = co["Organization"]
        s.expect("organizations.CreateOrganization.fields", o.get("Id", "").startswith("o-") and o.get("FeatureSet") == "ALL"
                 and o.get("MasterAccountId") == acct and o.get("Arn", "").startswith("arn:aws:organizations::" + acct + ":organization/o-"), o)
    s.err(org, "CreateOrganization", "AlreadyInOrganizationException")
    s.ok(org, "DescribeOrganization")
    s.err(org, "EnableAllFeatures", "HandshakeConstraintViolationException")
    roots = s.ok(org, "ListRoots")
    root_id = roots["Roots"][0]["Id"] if roots else "r-none"
    if roots:
        s.expect("organizations.ListRoots.root", root_id.startswith("r-") and roots["Roots"][0].get("PolicyTypes") == [], roots["Roots"])

    ou1 = s.ok(org, "CreateOrganizationalUnit", ParentId=root_id, Name=f"{tag}-eng", Tags=[{"Key": "team", "Value": "eng"}])
    ou2 = s.ok(org, "CreateOrganizationalUnit", "second", ParentId=root_id, Name=f"{tag}-ops")
    ou1_id = ou1["OrganizationalUnit"]["Id"] if ou1 else "ou-none"
    ou2_id = ou2["OrganizationalUnit"]["Id"] if ou2 else "ou-none"
    s.err(org, "CreateOrganizationalUnit", "DuplicateOrganizationalUnitException", ParentId=root_id, Name=f"{tag}-eng")
    s.ok(org, "DescribeOrganizationalUnit", OrganizationalUnitId=ou1_id)
    s.err(org, "DescribeOrganizationalUnit", "OrganizationalUnitNotFoundException", OrganizationalUnitId="ou-abcd-abcdefgh")
    s.ok(org, "UpdateOrganizationalUnit", OrganizationalUnitId=ou2_id, Name=f"{tag}-ops2")
    s.paginate(org, "ListOrganizationalUnitsForParent", "OrganizationalUnits", ParentId=root_id)
    s.paginate(org, "ListChildren", "Children", ParentId=root_id, ChildType="ORGANIZATIONAL_UNIT")

    members = []
    for i, name in enumerate(("dev", "prod")):
        ca = s.ok(org, "CreateAccount", name if i else "", Email=f"{name}-{tag}@example.com", AccountName=f"{tag}-{name}",
                  Tags=[{"Key": "env", "Value": name}])
        if not ca:
            continue
        st = ca["CreateAccountStatus"]
        s.expect(f"organizations.CreateAccount.status.{name}", st.get("Id", "").startswith("car-") and st.get("State") in ("IN_PROGRESS", "SUCCEEDED")
                 and isinstance(st.get("RequestedTimestamp"), datetime.datetime), st)

        def done(sid=st["Id"]):
            d = s.call(org, "DescribeCreateAccountStatus", CreateAccountRequestId=sid)["CreateAccountStatus"]
            need(d.get("State") == "SUCCEEDED", d)
            return d
        d = s.check(f"organizations.DescribeCreateAccountStatus.{name}", lambda: eventually(done, "account", 20))
        if d:
            members.append(d["AccountId"])
    s.err(org, "DescribeCreateAccountStatus", "CreateAccountStatusNotFoundException", CreateAccountRequestId="car-" + "0" * 32)
    s.paginate(org, "ListCreateAccountStatus", "CreateAccountStatuses", States=["SUCCEEDED"])
    s.paginate(org, "ListAccounts", "Accounts", min_items=3)
    # A token that no response issued is refused, not read as an empty page
    # (InvalidInputException, reason INVALID_NEXT_TOKEN:
    # https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html).
    s.err(org, "ListAccounts", "InvalidInputException", label="forged_next_token", NextToken="garbage")
    dev, prod = (members + ["000000000001", "000000000002"])[:2]
    da = s.ok(org, "DescribeAccount", AccountId=dev)
    if da:
        a = da["Account"]
        s.expect("organizations.DescribeAccount.fields", a.get("Status") == "ACTIVE" and a.get("JoinedMethod") == "CREATED"
                 and isinstance(a.get("JoinedTimestamp"), datetime.datetime) and a.get("Arn", "").endswith("/" + dev), a)
    s.err(org, "DescribeAccount", "AccountNotFoundException", AccountId="999999999999")
    s.ok(org, "MoveAccount", AccountId=dev, SourceParentId=root_id, DestinationParentId=ou1_id)
    s.ok(org, "MoveAccount", "second", AccountId=prod, SourceParentId=root_id, DestinationParentId=ou1_id)
    s.err(org, "MoveAccount", "SourceParentNotFoundException", AccountId=dev, SourceParentId="ou-abcd-zzzzzzzz", DestinationParentId=ou2_id)
    s.paginate(org, "ListAccountsForParent", "Accounts", ParentId=ou1_id)
    lp = s.ok(org, "ListParents", ChildId=dev)
    if lp:
        s.expect("organizations.ListParents.ou", lp["Parents"] == [{"Id": ou1_id, "Type": "ORGANIZATIONAL_UNIT"}], lp["Parents"])
    s.err(org, "DeleteOrganizationalUnit", "OrganizationalUnitNotEmptyException", OrganizationalUnitId=ou1_id)

    if co:
        sweep_org_access_report(s, co["Organization"]["Id"], root_id)

    # ---- tags
    s.ok(org, "TagResource", ResourceId=dev, Tags=[{"Key": "owner", "Value": "sweep"}])
    s.paginate(org, "ListTagsForResource", "Tags", page_size=None, min_items=1, ResourceId=dev)
    s.ok(org, "UntagResource", ResourceId=dev, TagKeys=["owner"])
    s.err(org, "TagResource", "TargetNotFoundException", ResourceId="999999999999", Tags=[{"Key": "a", "Value": "b"}])

    # ---- policies
    ep = s.ok(org, "EnablePolicyType", RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    if ep:
        s.expect("organizations.EnablePolicyType.root", {"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"} in ep["Root"].get("PolicyTypes", []), ep["Root"])
    cp = s.ok(org, "CreatePolicy", Name=f"{tag}-noleave", Description="deny leave", Type="SERVICE_CONTROL_POLICY",
              Content=json.dumps(SCP), Tags=[{"Key": "k", "Value": "v"}])
    scp_id = cp["Policy"]["PolicySummary"]["Id"] if cp else "p-none"
    if cp:
        s.expect("organizations.CreatePolicy.fields", scp_id.startswith("p-") and cp["Policy"]["PolicySummary"].get("AwsManaged") is False
                 and json.loads(cp["Policy"].get("Content", "{}")) == SCP, cp["Policy"]["PolicySummary"])
    s.err(org, "CreatePolicy", "MalformedPolicyDocumentException", Name=f"{tag}-bad", Description="", Type="SERVICE_CONTROL_POLICY", Content="{")
    tp = s.ok(org, "CreatePolicy", "tag", Name=f"{tag}-tags", Description="tags", Type="TAG_POLICY", Content=json.dumps(TAG_POLICY))
    tag_id = tp["Policy"]["PolicySummary"]["Id"] if tp else "p-none"
    # A policy of a type not enabled in the root can be created but not attached.
    s.err(org, "AttachPolicy", "PolicyTypeNotEnabledException", PolicyId=tag_id, TargetId=root_id)
    s.ok(org, "EnablePolicyType", "tag", RootId=root_id, PolicyType="TAG_POLICY")
    s.err(org, "EnablePolicyType", "PolicyTypeAlreadyEnabledException", RootId=root_id, PolicyType="TAG_POLICY")
    s.ok(org, "DescribePolicy", PolicyId=scp_id)
    s.err(org, "DescribePolicy", "PolicyNotFoundException", PolicyId="p-abcdefgh")
    s.ok(org, "UpdatePolicy", PolicyId=scp_id, Description="deny leaving")
    s.paginate(org, "ListPolicies", "Policies", Filter="SERVICE_CONTROL_POLICY")
    s.ok(org, "AttachPolicy", PolicyId=scp_id, TargetId=ou1_id)
    s.ok(org, "AttachPolicy", "tag", PolicyId=tag_id, TargetId=root_id)
    s.err(org, "AttachPolicy", "DuplicatePolicyAttachmentException", PolicyId=scp_id, TargetId=ou1_id)
    s.paginate(org, "ListPoliciesForTarget", "Policies", TargetId=ou1_id, Filter="SERVICE_CONTROL_POLICY")
    s.paginate(org, "ListTargetsForPolicy", "Targets", PolicyId="p-FullAWSAccess")
    ef = s.ok(org, "DescribeEffectivePolicy", PolicyType="TAG_POLICY", TargetId=dev)
    if ef:
        s.expect("organizations.DescribeEffectivePolicy.content", ef["EffectivePolicy"].get("TargetId") == dev
                 and "costcenter" in json.loads(ef["EffectivePolicy"].get("PolicyContent", "{}")).get("tags", {}), ef)
    s.ok(org, "ListAccountsWithInvalidEffectivePolicy", PolicyType="TAG_POLICY")
    s.ok(org, "ListEffectivePolicyValidationErrors", AccountId=dev, PolicyType="TAG_POLICY")
    s.ok(org, "DetachPolicy", PolicyId=tag_id, TargetId=root_id)
    s.err(org, "DetachPolicy", "PolicyNotAttachedException", PolicyId=tag_id, TargetId=root_id)
    s.ok(org, "DeletePolicy", PolicyId=tag_id)
    s.err(org, "DeletePolicy", "PolicyInUseException", PolicyId=scp_id)
    s.ok(org, "DisablePolicyType", RootId=root_id, PolicyType="TAG_POLICY")

    # ---- trusted access and delegated administrators
    for sp in ("iam.amazonaws.com", "account.amazonaws.com", "securityhub.amazonaws.com"):
        s.ok(org, "EnableAWSServiceAccess", sp.split(".")[0], ServicePrincipal=sp)
    s.paginate(org, "ListAWSServiceAccessForOrganization", "EnabledServicePrincipals", min_items=3)
    s.err(org, "EnableAWSServiceAccess", "InvalidInputException", ServicePrincipal="not-a-principal")
    s.ok(org, "RegisterDelegatedAdministrator", AccountId=prod, ServicePrincipal="securityhub.amazonaws.com")
    s.err(org, "RegisterDelegatedAdministrator", "AccountAlreadyRegisteredException", AccountId=prod, ServicePrincipal="securityhub.amazonaws.com")
    s.ok(org, "ListDelegatedAdministrators")
    s.ok(org, "ListDelegatedServicesForAccount", AccountId=prod)
    s.ok(org, "DeregisterDelegatedAdministrator", AccountId=prod, ServicePrincipal="securityhub.amazonaws.com")
    s.err(org, "DeregisterDelegatedAdministrator", "AccountNotRegisteredException", AccountId=prod, ServicePrincipal="securityhub.amazonaws.com")
    s.ok(org, "DisableAWSServiceAccess", ServicePrincipal="securityhub.amazonaws.com")

    # ---- resource policy
    s.err(org, "DescribeResourcePolicy", "ResourcePolicyNotFoundException")
    rp = {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{prod}:root"},
                                                  "Action": "organizations:DescribeOrganization", "Resource": "*"}]}
    pr = s.ok(org, "PutResourcePolicy", Content=json.dumps(rp), Tags=[{"Key": "k", "Value": "v"}])
    if pr:
        s.expect("organizations.PutResourcePolicy.fields", pr["ResourcePolicy"]["ResourcePolicySummary"].get("Id", "").startswith("rp-"), pr["ResourcePolicy"]["ResourcePolicySummary"])
    s.ok(org, "DescribeResourcePolicy")
    s.ok(org, "DeleteResourcePolicy")

    # ---- unsupported-for-this-org operations answer AWS's errors
    s.err(org, "CreateGovCloudAccount", "ConstraintViolationException", Email=f"gov-{tag}@example.com", AccountName="gov")
    s.ok(org, "ListInboundResponsibilityTransfers", Type="BILLING")
    s.ok(org, "ListOutboundResponsibilityTransfers", Type="BILLING")
    s.err(org, "DescribeResponsibilityTransfer", "ResponsibilityTransferNotFoundException", Id="rt-abcdefgh12")
    s.err(org, "UpdateResponsibilityTransfer", "ResponsibilityTransferNotFoundException", Id="rt-abcdefgh12", Name="x")
    s.err(org, "TerminateResponsibilityTransfer", "ResponsibilityTransferNotFoundException", Id="rt-abcdefgh12")
    s.err(org, "InviteOrganizationToTransferResponsibility", "AccessDeniedException", Type="BILLING",
          Target={"Id": "111122223333", "Type": "ACCOUNT"}, StartTimestamp=datetime.datetime.now(datetime.timezone.utc), SourceName="x")

    # ---- Account API against a member (trusted access is on)
    sweep_account_member(s, account, dev)

    # ---- centralized root access
    lf = s.ok(iam, "ListOrganizationsFeatures")
    if lf:
        s.expect("iam.ListOrganizationsFeatures.off", lf.get("EnabledFeatures") == [] and lf.get("OrganizationId", "").startswith("o-"), lf)
    s.err(sts, "AssumeRoot", "AccessDenied", label="not_enabled", status=403, TargetPrincipal=dev,
          TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"})
    s.ok(iam, "EnableOrganizationsRootCredentialsManagement")
    s.ok(iam, "EnableOrganizationsRootSessions")
    lf = s.ok(iam, "ListOrganizationsFeatures", "on")
    if lf:
        s.expect("iam.ListOrganizationsFeatures.on", sorted(lf.get("EnabledFeatures", [])) == ["RootCredentialsManagement", "RootSessions"], lf)
    ar = s.ok(sts, "AssumeRoot", TargetPrincipal=dev, TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"}, DurationSeconds=900)
    if ar:
        c = ar["Credentials"]
        who = s.ok(s.client("sts", key=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"]), "GetCallerIdentity", "root_session")
        if who:
            s.expect("sts.AssumeRoot.identity", who.get("Arn") == f"arn:aws:iam::{dev}:root", who)
    s.err(sts, "AssumeRoot", "ValidationError", label="non_task_policy", status=400, TargetPrincipal=dev,
          TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/AdministratorAccess"})
    s.ok(iam, "DisableOrganizationsRootSessions")
    s.ok(iam, "DisableOrganizationsRootCredentialsManagement")

    # ---- handshakes: prod leaves (through its OrganizationAccountAccessRole) and is invited back
    def member_client(svc, account_id):
        c = s.call(sts, "AssumeRole", RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="sweep")["Credentials"]
        return s.client(svc, key=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"])
    porg = s.check("sts.AssumeRole.OrganizationAccountAccessRole", lambda: member_client("organizations", prod))
    if porg:
        s.ok(org, "DetachPolicy", "scp", PolicyId=scp_id, TargetId=ou1_id)
        s.ok(org, "DeletePolicy", "scp", PolicyId=scp_id)
        s.ok(porg, "LeaveOrganization")
        s.err(org, "DescribeAccount", "AccountNotFoundException", label="left", AccountId=prod)
        h = s.ok(org, "InviteAccountToOrganization", Target={"Id": prod, "Type": "ACCOUNT"}, Notes="come back",
                 Tags=[{"Key": "k", "Value": "v"}])
        hid = h["Handshake"]["Id"] if h else "h-none"
        if h:
            hs = h["Handshake"]
            s.expect("organizations.InviteAccountToOrganization.fields", hid.startswith("h-") and hs.get("State") == "OPEN"
                     and hs.get("Action") == "INVITE" and isinstance(hs.get("ExpirationTimestamp"), datetime.datetime)
                     and {"Id": prod, "Type": "ACCOUNT"} in hs.get("Parties", []), hs)
        s.err(org, "InviteAccountToOrganization", "DuplicateHandshakeException", Target={"Id": prod, "Type": "ACCOUNT"})
        s.ok(org, "DescribeHandshake", HandshakeId=hid)
        s.err(org, "DescribeHandshake", "HandshakeNotFoundException", HandshakeId="h-abcdefghij")
        s.paginate(org, "ListHandshakesForOrganization", "Handshakes", min_items=1)
        s.ok(org, "CancelHandshake", HandshakeId=hid)
        s.err(porg, "AcceptHandshake", "InvalidHandshakeTransitionException", HandshakeId=hid)
        h2 = s.ok(org, "InviteAccountToOrganization", "again", Target={"Id": prod, "Type": "ACCOUNT"})
        s.paginate(porg, "ListHandshakesForAccount", "Handshakes", min_items=1)
        if h2:
            s.ok(porg, "DeclineHandshake", HandshakeId=h2["Handshake"]["Id"])
        h3 = s.ok(org, "InviteAccountToOrganization", "third", Target={"Id": prod, "Type": "ACCOUNT"})
        if h3:
            acc = s.ok(porg, "AcceptHandshake", HandshakeId=h3["Handshake"]["Id"])
            if acc:
                s.expect("organizations.AcceptHandshake.state", acc["Handshake"].get("State") == "ACCEPTED", acc["Handshake"])
        s.ok(org, "RemoveAccountFromOrganization", AccountId=prod)
    s.err(org, "RemoveAccountFromOrganization", "ConstraintViolationException", label="management", AccountId=acct)
    s.err(org, "DeleteOrganization", "OrganizationNotEmptyException")
    s.ok(org, "CloseAccount", AccountId=dev)
    s.err(org, "CloseAccount", "AccountAlreadyClosedException", AccountId=dev)
    s.ok(org, "RemoveAccountFromOrganization", "closed", AccountId=dev)
    s.ok(org, "DeleteOrganizationalUnit", OrganizationalUnitId=ou1_id)
    s.ok(org, "DeleteOrganizationalUnit", "second", OrganizationalUnitId=ou2_id)
    s.ok(org, "DeleteOrganization")
    s.err(org, "DescribeOrganization", "AWSOrganizationsNotInUseException", label="deleted")


def sweep_account_member(s, account, member):
    s.ok(account, "GetPrimaryEmail", label="member", AccountId=member)
    s.ok(account, "StartPrimaryEmailUpdate", AccountId=member, PrimaryEmail=f"new-{member}@example.com")
    s.err(account, "AcceptPrimaryEmailUpdate", "ValidationException", label="wrong_otp", AccountId=member,
          PrimaryEmail=f"new-{member}@example.com", Otp="ZZZZZZ")
    s.err(account, "GetContactInformation", "AccessDeniedException", label="member_billing_gate", AccountId=member)
    s.ok(account, "GetAccountInformation", "member", AccountId=member)


def sweep_account(s, tag):
    account = s.client("account")
    ci = {"FullName": "Sweep Tester", "AddressLine1": "1 Main St", "City": "Seattle", "PostalCode": "98101",
          "CountryCode": "US", "PhoneNumber": "+12065550100", "StateOrRegion": "WA", "CompanyName": "Sweep Inc"}
    # iamd treats contact information as billing information: an IAM
    # principal is refused until root activates IAM access to billing
    # (iamd's /iamd/account/billing-access, root-only). The bootstrap admin
    # is an IAM user, so only the refusal is exercised here.
    s.err(account, "GetContactInformation", "AccessDeniedException", label="billing_gate")
    s.err(account, "PutContactInformation", "AccessDeniedException", label="billing_gate", ContactInformation=ci)
    alt = {"Name": "Ops", "Title": "On call", "EmailAddress": "ops@example.com", "PhoneNumber": "+12065550101"}
    s.err(account, "GetAlternateContact", "ResourceNotFoundException", AlternateContactType="SECURITY")
    s.ok(account, "PutAlternateContact", AlternateContactType="SECURITY", **alt)
    ga = s.ok(account, "GetAlternateContact", AlternateContactType="SECURITY")
    if ga:
        s.expect("account.GetAlternateContact.round_trip", ga.get("AlternateContact") == dict(alt, AlternateContactType="SECURITY"), ga.get("AlternateContact"))
    s.ok(account, "DeleteAlternateContact", AlternateContactType="SECURITY")
    s.err(account, "DeleteAlternateContact", "ResourceNotFoundException", AlternateContactType="SECURITY")
    gi = s.ok(account, "GetAccountInformation")
    if gi:
        s.expect("account.GetAccountInformation.fields", gi.get("AccountId") and isinstance(gi.get("AccountCreatedDate"), datetime.datetime), gi)
    s.ok(account, "PutAccountName", AccountName=f"{tag}-name")
    s.paginate(account, "ListRegions", "Regions", min_items=10)
    s.ok(account, "ListRegions", "filtered", RegionOptStatusContains=["ENABLED_BY_DEFAULT"])
    s.ok(account, "EnableRegion", RegionName="af-south-1")
    gr = s.ok(account, "GetRegionOptStatus", RegionName="af-south-1")
    if gr:
        s.expect("account.GetRegionOptStatus.enabling", gr.get("RegionOptStatus") in ("ENABLING", "ENABLED"), gr)
    s.err(account, "DisableRegion", "ValidationException", label="default_region", RegionName="us-east-1")
    s.check("account.DisableRegion", lambda: eventually(lambda: _disable(s, account), "disable", 15))
    s.err(account, "GetPrimaryEmail", "AccessDeniedException", label="standalone", AccountId="999999999999")


def _disable(s, account):
    try:
        return s.call(account, "DisableRegion", RegionName="af-south-1")
    except ClientError as e:
        # AWS refuses a change while the region is ENABLING; wait it out.
        raise Fail(str(e))


# ---------------------------------------------------------------- trust policy principals, AWS managed policies

def sweep_trust(s, tag, acct):
    iam = s.client("iam")

    def trust(principal_arn):
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": principal_arn}, "Action": "sts:AssumeRole"}]})
    ghost = f"arn:aws:iam::{acct}:user/{tag}-ghost"
    # A trust policy naming an IAM user or role that does not exist is
    # refused: "Invalid principal in policy"
    # (https://repost.aws/knowledge-center/iam-trust-policy-error).
    s.err(iam, "CreateRole", "MalformedPolicyDocument", label="nonexistent_principal", RoleName=f"{tag}-ghostly", AssumeRolePolicyDocument=trust(ghost))
    s.call(iam, "CreateRole", RoleName=f"{tag}-trusting", AssumeRolePolicyDocument=trust(f"arn:aws:iam::{acct}:root"))
    s.err(iam, "UpdateAssumeRolePolicy", "MalformedPolicyDocument", label="nonexistent_principal", RoleName=f"{tag}-trusting", PolicyDocument=trust(ghost))

    # AWS stores a named user as its unique id: deleting the user breaks the
    # trust, and a new user of the same name is not trusted
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
    name = f"{tag}-trusted"
    old = s.call(iam, "CreateUser", UserName=name)["User"]
    s.call(iam, "UpdateAssumeRolePolicy", RoleName=f"{tag}-trusting", PolicyDocument=trust(old["Arn"]))
    s.call(iam, "DeleteUser", UserName=name)
    doc = s.call(iam, "GetRole", RoleName=f"{tag}-trusting")["Role"]["AssumeRolePolicyDocument"]
    s.expect("iam.GetRole.deleted_principal_shows_unique_id", doc["Statement"][0]["Principal"].get("AWS") == old["UserId"], doc["Statement"][0]["Principal"])
    s.call(iam, "CreateUser", UserName=name)
    key = s.call(iam, "CreateAccessKey", UserName=name)["AccessKey"]
    time.sleep(0.5)
    s.err(s.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"]), "AssumeRole", "AccessDenied",
          label="recreated_user_not_trusted", status=403, RoleArn=f"arn:aws:iam::{acct}:role/{tag}-trusting", RoleSessionName="recreated")
    s.call(iam, "DeleteAccessKey", UserName=name, AccessKeyId=key["AccessKeyId"])
    s.call(iam, "DeleteUser", UserName=name)

    # Common AWS managed policies are attachable, service-role paths included.
    for arn_ in ("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                 "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"):
        ok = s.ok(iam, "AttachRolePolicy", "aws_managed_" + arn_.rsplit("/", 1)[1], RoleName=f"{tag}-trusting", PolicyArn=arn_)
        if ok:
            s.call(iam, "DetachRolePolicy", RoleName=f"{tag}-trusting", PolicyArn=arn_)
    n = s.check("iam.ListPolicies.aws_managed_catalog_size", lambda: len(s.call(iam, "ListPolicies", Scope="AWS", MaxItems=1000)["Policies"]))
    if n is not None:
        # AWS publishes well over a thousand managed policies.
        s.expect("iam.ListPolicies.aws_managed_catalog_complete", n >= 1000, f"{n} AWS managed policies")
    s.call(iam, "DeleteRole", RoleName=f"{tag}-trusting")


# ---------------------------------------------------------------- IAM access analysis, outbound federation, STS preferences

def _jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def sweep_iam_extra(s, tag, acct):
    iam = s.client("iam")
    sts = s.client("sts")
    u = f"{tag}-analyst"
    s.call(iam, "CreateUser", UserName=u)
    doc = {"Version": "2012-10-17", "Statement": ALLOW_S3["Statement"] + [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]}
    pol = s.call(iam, "CreatePolicy", PolicyName=f"{tag}-analyst", PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
    s.call(iam, "AttachUserPolicy", UserName=u, PolicyArn=pol)
    s.call(iam, "PutUserPolicy", UserName=u, PolicyName="iam-read", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}]}))
    user_arn = f"arn:aws:iam::{acct}:user/{u}"

    # Service last accessed: a job per entity, read back when COMPLETED.
    job = s.ok(iam, "GenerateServiceLastAccessedDetails", Arn=user_arn, Granularity="ACTION_LEVEL")
    s.err(iam, "GenerateServiceLastAccessedDetails", "NoSuchEntity", Arn=f"arn:aws:iam::{acct}:user/{tag}-nobody")
    if job:
        def done():
            r = s.call(iam, "GetServiceLastAccessedDetails", JobId=job["JobId"])
            need(r.get("JobStatus") == "COMPLETED", r.get("JobStatus"))
            return r
        r = s.check("iam.GetServiceLastAccessedDetails", lambda: eventually(done, "job", 15))
        if r:
            ns = sorted(x.get("ServiceNamespace") for x in r.get("ServicesLastAccessed", []))
            s.expect("iam.GetServiceLastAccessedDetails.job", r.get("JobType") == "ACTION_LEVEL" and "iam" in ns
                     and all(isinstance(x.get("TotalAuthenticatedEntities"), int) for x in r["ServicesLastAccessed"]), r.get("ServicesLastAccessed"))
            # Every service the entity's policies allow is reported, whether
            # or not iamd hosts it.
            # https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetServiceLastAccessedDetails.html
            s.expect("iam.GetServiceLastAccessedDetails.all_granted_services", ns == ["iam", "s3"], ns)
    s.err(iam, "GetServiceLastAccessedDetails", "NoSuchEntity", JobId="00000000-0000-0000-0000-000000000000")
    pjob = s.ok(iam, "GenerateServiceLastAccessedDetails", "policy", Arn=pol)
    if pjob:
        for ns in ("iam", "s3"):
            def pdone(ns=ns):
                r = s.call(iam, "GetServiceLastAccessedDetailsWithEntities", JobId=pjob["JobId"], ServiceNamespace=ns)
                need(r.get("JobStatus") == "COMPLETED", r.get("JobStatus"))
                return r
            r = s.check(f"iam.GetServiceLastAccessedDetailsWithEntities.{ns}", lambda: eventually(pdone, "job", 15))
            if r:
                s.expect(f"iam.GetServiceLastAccessedDetailsWithEntities.{ns}.entity",
                         [x.get("EntityInfo", {}).get("Arn") for x in r.get("EntityDetailsList", [])] == [user_arn], r.get("EntityDetailsList"))
    lg = s.ok(iam, "ListPoliciesGrantingServiceAccess", Arn=user_arn, ServiceNamespaces=["s3", "iam", "ec2"])
    if lg:
        by = {x["ServiceNamespace"]: sorted(p["PolicyName"] for p in x.get("Policies", [])) for x in lg["PoliciesGrantingServiceAccess"]}
        s.expect("iam.ListPoliciesGrantingServiceAccess.iam", by.get("iam") == sorted([f"{tag}-analyst", "iam-read"]) and by.get("ec2") == [], by)
        # https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPoliciesGrantingServiceAccess.html
        s.expect("iam.ListPoliciesGrantingServiceAccess.s3", by.get("s3") == [f"{tag}-analyst"], by)
    s.err(iam, "ListPoliciesGrantingServiceAccess", "NoSuchEntity", Arn=f"arn:aws:iam::{acct}:user/{tag}-nobody", ServiceNamespaces=["s3"])

    # Outbound web identity federation and sts:GetWebIdentityToken.
    s.err(iam, "GetOutboundWebIdentityFederationInfo", "FeatureDisabled")
    s.err(sts, "GetWebIdentityToken", "OutboundWebIdentityFederationDisabledException", label="disabled",
          Audience=["https://api.example.com"], SigningAlgorithm="RS256")
    en = s.ok(iam, "EnableOutboundWebIdentityFederation")
    s.err(iam, "EnableOutboundWebIdentityFederation", "FeatureEnabled")
    info = s.ok(iam, "GetOutboundWebIdentityFederationInfo")
    if en and info:
        s.expect("iam.GetOutboundWebIdentityFederationInfo.fields", info.get("JwtVendingEnabled") is True
                 and info.get("IssuerIdentifier") == en.get("IssuerIdentifier") and en.get("IssuerIdentifier", "").startswith("http"), info)
    wt = s.ok(sts, "GetWebIdentityToken", Audience=["https://api.example.com"], SigningAlgorithm="RS256", DurationSeconds=300,
              Tags=[{"Key": "team", "Value": "blue"}])
    if wt and en:
        claims = s.check("sts.GetWebIdentityToken.jwt", lambda: _jwt_claims(wt["WebIdentityToken"]))
        if claims:
            aud = claims.get("aud")
            s.expect("sts.GetWebIdentityToken.claims", claims.get("iss") == en["IssuerIdentifier"]
                     and (aud == "https://api.example.com" or aud == ["https://api.example.com"])
                     and claims.get("sub") == s.call(sts, "GetCallerIdentity")["Arn"], claims)
        s.expect("sts.GetWebIdentityToken.expiration", isinstance(wt.get("Expiration"), datetime.datetime)
                 and 200 <= (wt["Expiration"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds() <= 400, wt.get("Expiration"))
    s.ok(iam, "DisableOutboundWebIdentityFederation")
    s.err(iam, "DisableOutboundWebIdentityFederation", "FeatureDisabled")

    # Regional STS token version, reflected in the account summary.
    s.ok(iam, "SetSecurityTokenServicePreferences", GlobalEndpointTokenVersion="v2Token")
    sm = s.call(iam, "GetAccountSummary")["SummaryMap"]
    s.expect("iam.SetSecurityTokenServicePreferences.summary", sm.get("GlobalEndpointTokenVersion") == 2, sm.get("GlobalEndpointTokenVersion"))
    s.ok(iam, "SetSecurityTokenServicePreferences", "v1", GlobalEndpointTokenVersion="v1Token")

    s.call(iam, "DeleteUserPolicy", UserName=u, PolicyName="iam-read")
    s.call(iam, "DetachUserPolicy", UserName=u, PolicyArn=pol)
    s.call(iam, "DeletePolicy", PolicyArn=pol)
    s.call(iam, "DeleteUser", UserName=u)


def sweep_delegation(s, tag, acct):
    """Temporary delegation: the partner (here the same account) asks, the
    owner associates, reviews, accepts and releases the token."""
    iam = s.client("iam")
    tmpl = s.call(iam, "CreatePolicy", PolicyName=f"{tag}-deleg", PolicyDocument=json.dumps(ALLOW_S3))["Policy"]["Arn"]

    def create(wf, label=""):
        return s.ok(iam, "CreateDelegationRequest", label, Description="sweep access", Permissions={"PolicyTemplateArn": tmpl},
                    RequestMessage="please", RequestorWorkflowId=wf, NotificationChannel=f"arn:aws:sns:us-east-1:{acct}:sweep",
                    SessionDuration=3600, RedirectUrl="https://partner.example.com/done")
    cr = create(f"{tag}-wf1")
    s.err(iam, "CreateDelegationRequest", "EntityAlreadyExists", Description="again", Permissions={"PolicyTemplateArn": tmpl},
          RequestorWorkflowId=f"{tag}-wf1", NotificationChannel=f"arn:aws:sns:us-east-1:{acct}:sweep", SessionDuration=3600)
    s.err(iam, "GetDelegationRequest", "NoSuchEntity", DelegationRequestId="dr-000000000000000000000000")
    if not cr:
        return
    rid = cr["DelegationRequestId"]

    def state(want, label):
        g = s.ok(iam, "GetDelegationRequest", label, DelegationRequestId=rid)
        if g:
            s.expect(f"iam.GetDelegationRequest.{label}.state", g["DelegationRequest"].get("State") == want, g["DelegationRequest"])
        return g
    state("UNASSIGNED", "unassigned")
    hs = s.ok(iam, "GetHumanReadableSummary", EntityArn=f"arn:aws:iam::{acct}:delegation-request/{rid}", Locale="en-US")
    if hs:
        s.expect("iam.GetHumanReadableSummary.available", hs.get("SummaryState") == "AVAILABLE" and hs.get("SummaryContent"), hs)
    s.err(iam, "GetHumanReadableSummary", "InvalidInput", EntityArn=f"arn:aws:iam::{acct}:user/{tag}-x")
    s.ok(iam, "AssociateDelegationRequest", DelegationRequestId=rid)
    state("ASSIGNED", "assigned")
    ld = s.ok(iam, "ListDelegationRequests")
    if ld:
        s.expect("iam.ListDelegationRequests.contains", rid in [x.get("DelegationRequestId") for x in ld.get("DelegationRequests", [])], ld)
    s.ok(iam, "UpdateDelegationRequest", DelegationRequestId=rid, Notes="looks fine")
    pc = s.ok(iam, "GetDelegationRequest", "permission_check", DelegationRequestId=rid, DelegationPermissionCheck=True)
    if pc:
        s.expect("iam.GetDelegationRequest.permission_check", pc.get("PermissionCheckStatus") is not None, pc)
    s.ok(iam, "AcceptDelegationRequest", DelegationRequestId=rid)
    state("ACCEPTED", "accepted")
    s.ok(iam, "SendDelegationToken", DelegationRequestId=rid)
    s.err(iam, "SendDelegationToken", "NoSuchEntity", label="unknown", DelegationRequestId="dr-000000000000000000000000")
    cr2 = create(f"{tag}-wf2", "second")
    if cr2:
        rid2 = cr2["DelegationRequestId"]
        s.call(iam, "AssociateDelegationRequest", DelegationRequestId=rid2)
        s.ok(iam, "RejectDelegationRequest", DelegationRequestId=rid2, Notes="not now")
        g = s.ok(iam, "GetDelegationRequest", "rejected", DelegationRequestId=rid2)
        if g:
            s.expect("iam.GetDelegationRequest.rejected.state", g["DelegationRequest"].get("State") == "REJECTED", g["DelegationRequest"])
    s.err(iam, "RejectDelegationRequest", "NoSuchEntity", DelegationRequestId="dr-000000000000000000000000")
    # The exchange token goes to the partner's notification channel, which a
    # script cannot read; the refusal of a bad token still runs.
    s.err(s.client("sts"), "GetDelegatedAccessToken", "ExpiredTradeInTokenException", TradeInToken="not-a-trade-in-token-" + "x" * 24)


def sweep_org_access_report(s, org_id, root_id):
    iam = s.client("iam")
    job = s.ok(iam, "GenerateOrganizationsAccessReport", EntityPath=f"{org_id}/{root_id}")
    if job:
        def done():
            r = s.call(iam, "GetOrganizationsAccessReport", JobId=job["JobId"])
            need(r.get("JobStatus") == "COMPLETED", r.get("JobStatus"))
            return r
        r = s.check("iam.GetOrganizationsAccessReport", lambda: eventually(done, "job", 15))
        if r:
            s.expect("iam.GetOrganizationsAccessReport.counts", isinstance(r.get("NumberOfServicesAccessible"), int)
                     and isinstance(r.get("JobCompletionDate"), datetime.datetime), {k: v for k, v in r.items() if k != "AccessDetails"})
    s.err(iam, "GetOrganizationsAccessReport", "NoSuchEntity", JobId="00000000-0000-0000-0000-000000000000")


# ---------------------------------------------------------------- AWS CLI

def sweep_cli(s, tag):
    n = tag + "-cli"
    s.cli("iam.create-user", "iam", "create-user", "--user-name", n, "--path", "/cli/", "--tags", "Key=team,Value=blue")
    out = s.cli("iam.get-user", "iam", "get-user", "--user-name", n)
    if out is not None:
        s.expect("cli.iam.get-user.fields", out.get("User", {}).get("UserName") == n and out["User"].get("Path") == "/cli/", out)
    out = s.cli("iam.list-users", "iam", "list-users", "--path-prefix", "/cli/")
    if out is not None:
        s.expect("cli.iam.list-users.contains", [u["UserName"] for u in out.get("Users", [])] == [n], out)
    s.cli("iam.get-user.error", "iam", "get-user", "--user-name", n + "-none", expect_error="NoSuchEntity")
    s.cli("iam.create-group", "iam", "create-group", "--group-name", n)
    s.cli("iam.add-user-to-group", "iam", "add-user-to-group", "--group-name", n, "--user-name", n)
    out = s.cli("iam.get-group", "iam", "get-group", "--group-name", n)
    if out is not None:
        s.expect("cli.iam.get-group.member", [u["UserName"] for u in out.get("Users", [])] == [n], out)
    s.cli("iam.remove-user-from-group", "iam", "remove-user-from-group", "--group-name", n, "--user-name", n)
    s.cli("iam.delete-group", "iam", "delete-group", "--group-name", n)
    acct = s.call(s.client("sts"), "GetCallerIdentity")["Account"]
    s.cli("iam.create-role", "iam", "create-role", "--role-name", n, "--assume-role-policy-document", trust_for(acct),
          "--description", "cli role")
    out = s.cli("iam.get-role", "iam", "get-role", "--role-name", n)
    if out is not None:
        s.expect("cli.iam.get-role.trust_decoded", isinstance(out.get("Role", {}).get("AssumeRolePolicyDocument"), dict), out)
    s.cli("iam.list-roles", "iam", "list-roles")
    s.cli("iam.put-role-policy", "iam", "put-role-policy", "--role-name", n, "--policy-name", "inline", "--policy-document", json.dumps(ALLOW_ALL))
    out = s.cli("iam.get-role-policy", "iam", "get-role-policy", "--role-name", n, "--policy-name", "inline")
    if out is not None:
        s.expect("cli.iam.get-role-policy.decoded", out.get("PolicyDocument") == ALLOW_ALL, out)
    out = s.cli("sts.assume-role", "sts", "assume-role", "--role-arn", f"arn:aws:iam::{acct}:role/{n}", "--role-session-name", "cli")
    if out is not None:
        s.expect("cli.sts.assume-role.arn", out.get("AssumedRoleUser", {}).get("Arn") == f"arn:aws:sts::{acct}:assumed-role/{n}/cli", out.get("AssumedRoleUser"))
    s.cli("iam.delete-role-policy", "iam", "delete-role-policy", "--role-name", n, "--policy-name", "inline")
    s.cli("iam.delete-role", "iam", "delete-role", "--role-name", n)
    out = s.cli("iam.create-policy", "iam", "create-policy", "--policy-name", n, "--policy-document", json.dumps(ALLOW_S3))
    parn = out.get("Policy", {}).get("Arn", "") if out else f"arn:aws:iam::{acct}:policy/{n}"
    s.cli("iam.list-policies", "iam", "list-policies", "--scope", "Local")
    out = s.cli("iam.get-policy-version", "iam", "get-policy-version", "--policy-arn", parn, "--version-id", "v1")
    if out is not None:
        s.expect("cli.iam.get-policy-version.decoded", out.get("PolicyVersion", {}).get("Document") == ALLOW_S3, out)
    s.cli("iam.delete-policy", "iam", "delete-policy", "--policy-arn", parn)
    s.cli("iam.create-instance-profile", "iam", "create-instance-profile", "--instance-profile-name", n)
    s.cli("iam.list-instance-profiles", "iam", "list-instance-profiles")
    s.cli("iam.delete-instance-profile", "iam", "delete-instance-profile", "--instance-profile-name", n)
    out = s.cli("iam.create-access-key", "iam", "create-access-key", "--user-name", n)
    s.cli("iam.list-access-keys", "iam", "list-access-keys", "--user-name", n)
    if out:
        s.cli("iam.delete-access-key", "iam", "delete-access-key", "--user-name", n, "--access-key-id", out["AccessKey"]["AccessKeyId"])
    s.cli("iam.create-user.second", "iam", "create-user", "--user-name", n + "2", "--path", "/cli/")
    page = s.cli("iam.list-users.max-items", "iam", "list-users", "--path-prefix", "/cli/", "--max-items", "1")
    if page is not None:
        s.expect("cli.iam.list-users.next-token", len(page.get("Users", [])) == 1 and page.get("NextToken"), page)
        if page.get("NextToken"):
            rest = s.cli("iam.list-users.starting-token", "iam", "list-users", "--path-prefix", "/cli/", "--max-items", "1",
                         "--starting-token", page["NextToken"])
            if rest is not None:
                s.expect("cli.iam.list-users.second-page", len(rest.get("Users", [])) == 1 and "NextToken" not in rest
                         and rest["Users"][0]["UserName"] != page["Users"][0]["UserName"], rest)
    s.cli("iam.delete-user.second", "iam", "delete-user", "--user-name", n + "2")
    s.cli("iam.delete-user", "iam", "delete-user", "--user-name", n)
    out = s.cli("iam.simulate-custom-policy", "iam", "simulate-custom-policy", "--policy-input-list", json.dumps(ALLOW_S3),
                "--action-names", "s3:GetObject", "s3:PutObject",
                "--context-entries", "ContextKeyName=aws:RequestedRegion,ContextKeyValues=us-east-1,ContextKeyType=string")
    if out is not None:
        d = {r["EvalActionName"]: r["EvalDecision"] for r in out.get("EvaluationResults", [])}
        s.expect("cli.iam.simulate-custom-policy.decisions", d == {"s3:GetObject": "allowed", "s3:PutObject": "implicitDeny"}, d)
    s.cli("sts.get-caller-identity", "sts", "get-caller-identity")
    s.cli("organizations.create-organization", "organizations", "create-organization", "--feature-set", "ALL")
    out = s.cli("organizations.list-accounts", "organizations", "list-accounts")
    if out is not None:
        s.expect("cli.organizations.list-accounts.management", [a["Id"] for a in out.get("Accounts", [])] == [acct], out)
    s.cli("organizations.describe-organization", "organizations", "describe-organization")
    s.cli("organizations.delete-organization", "organizations", "delete-organization")


# ---------------------------------------------------------------- self-test

def selftest(s):
    """The validators must be able to fail: feed them known-bad input."""
    iam = s.client("iam")
    sm = iam.meta.service_model
    out = sm.operation_model("GetUser").output_shape
    cases = {
        "missing_required": ({"User": {"UserName": "x"}}, out),
        "timestamp_as_str": ({"User": {"UserName": "x", "UserId": "AIDA", "Arn": "a", "Path": "/", "CreateDate": "2020-01-01"}}, out),
        "policy_doc_not_decoded": ({"PolicyDocument": "%7B%7D", "UserName": "u", "PolicyName": "p"}, sm.operation_model("GetUserPolicy").output_shape),
        "bad_enum": ({"AccessKeyMetadata": [{"Status": "Paused"}], "IsTruncated": False}, sm.operation_model("ListAccessKeys").output_shape),
    }
    for name, (value, shape) in cases.items():
        errs = []
        _type_errors(value, shape, "$", errs)
        s.expect(f"selftest.types.{name}", errs, "validator accepted bad input")
    xml_cases = {
        "unknown_element": "<GetUserResult><User><UserNme>x</UserNme></User></GetUserResult>",
        "unencoded_policy": '<GetUserPolicyResult><PolicyDocument>{"Version":"2012-10-17"}</PolicyDocument></GetUserPolicyResult>',
    }
    for name, body in xml_cases.items():
        op = "GetUserPolicy" if "Policy" in body else "GetUser"
        errs = []
        _xml_errors(ET.fromstring(body), sm.operation_model(op).output_shape, "/", errs)
        s.expect(f"selftest.xml.{name}", errs, "validator accepted bad XML")
    bad = ClientError({"Error": {"Code": "NoSuchEntity", "Message": "m", "Type": "Sender"},
                       "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": "r"}}, "GetUser")
    try:
        s._check_error(iam, "GetUser", "NoSuchEntity", None, bad)
        s.record("selftest.error_status_and_class", False, "a generic ClientError with HTTP 400 passed as NoSuchEntityException/404")
    except Fail:
        s.record("selftest.error_status_and_class", True)


# ---------------------------------------------------------------- main

def implemented_ops(path):
    """(service, Operation) pairs docs/coverage.md marks implemented."""
    ops, svc = set(), None
    with open(path) as f:
        for line in f:
            if line.startswith("## "):
                svc = line[3:].strip()
            elif svc in SERVICES and line.startswith("| ") and "| implemented" in line:
                ops.add((svc, line.split("|")[1].strip()))
    return ops


def read_credentials(path):
    cp = configparser.ConfigParser()
    cp.read(path)
    sec = cp["default"] if "default" in cp else cp[cp.sections()[0]]
    return sec["aws_access_key_id"].strip(), sec["aws_secret_access_key"].strip()


def read_xfail(path):
    names = {}
    if not path:
        return names
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, reason = line.partition(" ")
            names[name] = reason.strip()
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--credentials-file", required=True)
    ap.add_argument("--xfail", help="file of expected-failure check names, one per line, then the reason")
    ap.add_argument("--coverage-doc", help="docs/coverage.md: check every implemented operation was exercised")
    ap.add_argument("--tag", default="sw%d" % (int(time.time()) % 1000000), help="prefix for the names this run creates")
    args = ap.parse_args()
    key, secret = read_credentials(args.credentials_file)
    s = Sweep(args.endpoint.rstrip("/"), key, secret, read_xfail(args.xfail), os.path.abspath(args.credentials_file))
    tag = args.tag
    s.check("scenario.selftest", lambda: selftest(s))
    iam_out = s.check("scenario.iam", lambda: sweep_iam(s, tag))
    s.check("scenario.account", lambda: sweep_account(s, tag))
    s.check("scenario.sts", lambda: sweep_sts(s, tag, *iam_out))
    acct = iam_out[0] if iam_out else s.call(s.client("sts"), "GetCallerIdentity")["Account"]
    s.check("scenario.trust", lambda: sweep_trust(s, tag, acct))
    s.check("scenario.iam_extra", lambda: sweep_iam_extra(s, tag, acct))
    s.check("scenario.delegation", lambda: sweep_delegation(s, tag, acct))
    s.check("scenario.organizations", lambda: sweep_organizations(s, tag, acct))
    s.check("scenario.cli", lambda: sweep_cli(s, tag))
    if args.coverage_doc:
        # One check per implemented operation, so a gap can be listed alone.
        for svc, op in sorted(implemented_ops(args.coverage_doc)):
            s.expect(f"coverage.{svc}.{op}", (svc, op) in s.called, "implemented but never called by the sweep")
    stale = sorted(set(s.xfail) - s.seen_xfail)
    for name in stale:
        s.record("xfail." + name, False, "listed in the xfail file but no such check ran; remove or rename it")
    print(f"{s.passed} passed, {s.failed} failed ({s.xfailed} expected failures, {s.skipped} skipped)")
    return 0 if s.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
