package sts

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/service/iam"
)

// codeOf is the AWS error code of err, "" for nil.
func codeOf(err error) string {
	if err == nil {
		return ""
	}
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return "non-AWS error: " + err.Error()
}

func TestTrustAllows(t *testing.T) {
	const (
		oidcARN = "arn:aws:iam::123456789012:oidc-provider/example.com/tenant"
		samlARN = "arn:aws:iam::123456789012:saml-provider/Okta"
	)
	role := func(trust string) *iam.Role {
		return &iam.Role{ARN: "arn:aws:iam::123456789012:role/r", TrustPolicy: trust}
	}
	const oidcTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + oidcARN + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"example.com/tenant:aud":"client-1"},"StringLike":{"example.com/tenant:sub":"repo:acme/*"}}}]}`
	const oidcTrustTags = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + oidcARN + `"},"Action":["sts:AssumeRoleWithWebIdentity","sts:TagSession"]}]}`
	const denyName = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + oidcARN + `"},"Action":"sts:AssumeRoleWithWebIdentity"},{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"sts:RoleSessionName":"blocked"}}}]}`
	const hostTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"example.com/tenant"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`
	const samlTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + samlARN + `"},"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`
	const sourceTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + samlARN + `"},"Action":["sts:AssumeRoleWithSAML","sts:SetSourceIdentity"]}]}`
	const userTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`

	oidc := func(sub, session string, tags map[string]string) *federatedSession {
		c := &service.Call{Now: time.Unix(1.7e9, 0), SourceIP: netip.MustParseAddr("192.0.2.1")}
		fs := &federatedSession{action: "sts:AssumeRoleWithWebIdentity", federated: []string{oidcARN, "example.com/tenant"}, ctx: requestContext(c), sessionName: session, tags: tags}
		fs.ctx.Set("example.com/tenant:aud", "client-1")
		fs.ctx.Set("example.com/tenant:sub", sub)
		fs.addSessionKeys()
		return fs
	}
	saml := func(aud, source string) *federatedSession {
		c := &service.Call{Now: time.Unix(1.7e9, 0)}
		fs := &federatedSession{action: "sts:AssumeRoleWithSAML", federated: []string{samlARN}, ctx: requestContext(c), sessionName: "alice", sourceIdentity: source}
		fs.ctx.Set("saml:aud", aud)
		fs.addSessionKeys()
		return fs
	}
	tests := []struct {
		name  string
		trust string
		fs    *federatedSession
		want  bool
	}{
		{"conditions hold", oidcTrust, oidc("repo:acme/app:ref:main", "s1", nil), true},
		{"sub does not match", oidcTrust, oidc("repo:evil/app", "s1", nil), false},
		{"tags without TagSession", oidcTrust, oidc("repo:acme/app", "s1", map[string]string{"k": "v"}), false},
		{"tags with TagSession", oidcTrustTags, oidc("x", "s1", map[string]string{"k": "v"}), true},
		{"explicit deny on session name", denyName, oidc("x", "blocked", nil), false},
		{"deny does not apply", denyName, oidc("x", "fine", nil), true},
		{"provider named by host/path", hostTrust, oidc("x", "s1", nil), true},
		{"trust for another principal", userTrust, oidc("x", "s1", nil), false},
		{"malformed trust", `{"Statement":`, oidc("x", "s1", nil), false},
		{"saml audience", samlTrust, saml("https://signin.aws.amazon.com/saml", ""), true},
		{"saml other audience", samlTrust, saml("https://elsewhere.example/saml", ""), false},
		{"source identity without SetSourceIdentity", samlTrust, saml("https://signin.aws.amazon.com/saml", "alice"), false},
		{"source identity allowed", sourceTrust, saml("x", "alice"), true},
		{"oidc provider cannot use a saml trust", samlTrust, oidc("x", "s1", nil), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := trustAllows(role(tc.trust), tc.fs); got != tc.want {
				t.Fatalf("trustAllows = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFederatedRole(t *testing.T) {
	tests := []struct {
		arn      string
		wantCode string
	}{
		{"arn:aws:iam::123456789012:role/path/r", ""},
		{"arn:aws:iam::123456789012:user/u", "ValidationError"},
		{"arn:aws:s3:::bucket", "ValidationError"},
		{"not-an-arn", "ValidationError"},
	}
	for _, tc := range tests {
		c := &service.Call{}
		ra, err := federatedRole(c, map[string]any{"RoleArn": tc.arn})
		if got := codeOf(err); got != tc.wantCode {
			t.Errorf("%s: code %q, want %q", tc.arn, got, tc.wantCode)
			continue
		}
		if err == nil && (c.Account != "123456789012" || c.Partition != "aws" || ra.String() != tc.arn) {
			t.Errorf("%s: call acts in %q/%q", tc.arn, c.Account, c.Partition)
		}
	}
}
