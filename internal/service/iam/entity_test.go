package iam

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/secrets"
)

// TestTagging runs TagX, ListXTags and UntagX of every taggable kind through
// the registered handlers: merging keys case-insensitively, removing, the
// per-entity limit, and NoSuchEntity worded for the kind.
func TestTagging(t *testing.T) {
	ctx := context.Background()
	s, c := grpTestService(t)
	kr, err := secrets.NewKeyring(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	s.Keys = kr
	h := s.handlers()
	call := func(op string, in map[string]any) (map[string]any, error) {
		t.Helper()
		fn := h[op]
		if fn == nil {
			t.Fatalf("%s is not registered", op)
		}
		return fn(ctx, c, in)
	}
	mustCall := func(op string, in map[string]any) map[string]any {
		t.Helper()
		out, err := call(op, in)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		return out
	}

	der, key := credTestCert(t, time.Now().Add(24*time.Hour))
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	samlDoc := `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="urn:idp">` +
		`<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		`<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>` +
		base64.StdEncoding.EncodeToString(der) + `</X509Certificate></X509Data></KeyInfo></KeyDescriptor>` +
		`</IDPSSODescriptor></EntityDescriptor>`
	const policyDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`

	tests := []struct {
		noun    string
		create  func() map[string]any // makes the entity; returns the members naming it
		missing map[string]any        // names an entity that does not exist
		msg     string                // the NoSuchEntity message for missing
	}{
		{"User", func() map[string]any {
			mustCall("CreateUser", map[string]any{"UserName": "Ann"})
			return map[string]any{"UserName": "ann"} // names are case-insensitive
		}, map[string]any{"UserName": "nobody"}, "The user with name nobody cannot be found."},
		{"Role", func() map[string]any {
			mustCall("CreateRole", map[string]any{"RoleName": "r1", "AssumeRolePolicyDocument": grpTestTrust})
			return map[string]any{"RoleName": "r1"}
		}, map[string]any{"RoleName": "nobody"}, "The role with name nobody cannot be found."},
		{"InstanceProfile", func() map[string]any {
			mustCall("CreateInstanceProfile", map[string]any{"InstanceProfileName": "ip1"})
			return map[string]any{"InstanceProfileName": "ip1"}
		}, map[string]any{"InstanceProfileName": "nobody"}, "Instance Profile nobody cannot be found."},
		{"Policy", func() map[string]any {
			out := mustCall("CreatePolicy", map[string]any{"PolicyName": "p1", "PolicyDocument": policyDoc})
			return map[string]any{"PolicyArn": out["Policy"].(map[string]any)["Arn"]}
		}, map[string]any{"PolicyArn": "arn:aws:iam::" + grpTestAccount + ":policy/nobody"},
			"Policy arn:aws:iam::" + grpTestAccount + ":policy/nobody was not found."},
		{"OpenIDConnectProvider", func() map[string]any {
			out := mustCall("CreateOpenIDConnectProvider", map[string]any{"Url": "https://idp.example.com", "ThumbprintList": []any{"0123456789abcdef0123456789abcdef01234567"}})
			return map[string]any{"OpenIDConnectProviderArn": out["OpenIDConnectProviderArn"]}
		}, map[string]any{"OpenIDConnectProviderArn": "arn:aws:iam::" + grpTestAccount + ":oidc-provider/nobody.example.com"},
			"OpenIDConnect Provider not found for arn arn:aws:iam::" + grpTestAccount + ":oidc-provider/nobody.example.com"},
		{"SAMLProvider", func() map[string]any {
			out := mustCall("CreateSAMLProvider", map[string]any{"Name": "idp", "SAMLMetadataDocument": samlDoc})
			return map[string]any{"SAMLProviderArn": out["SAMLProviderArn"]}
		}, map[string]any{"SAMLProviderArn": "arn:aws:iam::" + grpTestAccount + ":saml-provider/nobody"},
			"Manifest not found for arn arn:aws:iam::" + grpTestAccount + ":saml-provider/nobody"},
		{"ServerCertificate", func() map[string]any {
			mustCall("UploadServerCertificate", map[string]any{"ServerCertificateName": "sc1", "CertificateBody": certPEM, "PrivateKey": keyPEM})
			return map[string]any{"ServerCertificateName": "sc1"}
		}, map[string]any{"ServerCertificateName": "nobody"}, "The Server Certificate with name nobody cannot be found."},
		{"MFADevice", func() map[string]any {
			out := mustCall("CreateVirtualMFADevice", map[string]any{"VirtualMFADeviceName": "m1"})
			return map[string]any{"SerialNumber": out["VirtualMFADevice"].(map[string]any)["SerialNumber"]}
		}, map[string]any{"SerialNumber": "arn:aws:iam::" + grpTestAccount + ":mfa/nobody"},
			"VirtualMFADevice with serial number arn:aws:iam::" + grpTestAccount + ":mfa/nobody doesn't exist."},
	}
	for _, tt := range tests {
		t.Run(tt.noun, func(t *testing.T) {
			id := tt.create()
			with := func(extra map[string]any) map[string]any {
				m := map[string]any{}
				for k, v := range id {
					m[k] = v
				}
				for k, v := range extra {
					m[k] = v
				}
				return m
			}
			list := func() []any {
				t.Helper()
				return mustCall("List"+tt.noun+"Tags", id)["Tags"].([]any)
			}
			if got := list(); len(got) != 0 {
				t.Fatalf("new entity has tags %v", got)
			}
			mustCall("Tag"+tt.noun, with(map[string]any{"Tags": []any{
				map[string]any{"Key": "team", "Value": "a"}, map[string]any{"Key": "env", "Value": "dev"},
			}}))
			// A key differing only in case replaces the tag, taking the new case.
			mustCall("Tag"+tt.noun, with(map[string]any{"Tags": []any{map[string]any{"Key": "Team", "Value": "b"}}}))
			want := []any{map[string]any{"Key": "Team", "Value": "b"}, map[string]any{"Key": "env", "Value": "dev"}}
			if got := list(); !reflect.DeepEqual(got, want) {
				t.Fatalf("after tagging: %v, want %v", got, want)
			}
			mustCall("Untag"+tt.noun, with(map[string]any{"TagKeys": []any{"TEAM", "absent"}}))
			want = []any{map[string]any{"Key": "env", "Value": "dev"}}
			if got := list(); !reflect.DeepEqual(got, want) {
				t.Fatalf("after untagging: %v, want %v", got, want)
			}
			// Going over the limit changes nothing.
			many := make([]any, maxTags)
			for i := range many {
				many[i] = map[string]any{"Key": "k" + string(rune('A'+i%26)) + string(rune('a'+i/26)), "Value": ""}
			}
			_, err := call("Tag"+tt.noun, with(map[string]any{"Tags": many}))
			if ae := (*apierr.Error)(nil); !errors.As(err, &ae) || ae.Code != apierr.LimitExceeded {
				t.Fatalf("over the limit: %v, want LimitExceeded", err)
			}
			if got := list(); !reflect.DeepEqual(got, want) {
				t.Fatalf("after a refused tagging: %v, want %v", got, want)
			}
			for _, op := range []string{"Tag" + tt.noun, "Untag" + tt.noun, "List" + tt.noun + "Tags"} {
				in := map[string]any{"Tags": []any{map[string]any{"Key": "k", "Value": "v"}}, "TagKeys": []any{"k"}}
				for k, v := range tt.missing {
					in[k] = v
				}
				_, err := call(op, in)
				if ae := (*apierr.Error)(nil); !errors.As(err, &ae) || ae.Code != apierr.NoSuchEntity || ae.Message != tt.msg {
					t.Errorf("%s of a missing entity: %v, want NoSuchEntity %q", op, err, tt.msg)
				}
			}
		})
	}

	// AWS managed policies list no tags and cannot be tagged.
	awsPolicy := map[string]any{"PolicyArn": "arn:aws:iam::aws:policy/IAMReadOnlyAccess", "Tags": []any{map[string]any{"Key": "k", "Value": "v"}}}
	if out := mustCall("ListPolicyTags", awsPolicy); len(out["Tags"].([]any)) != 0 || out["IsTruncated"] != false {
		t.Errorf("ListPolicyTags of an AWS managed policy = %v", out)
	}
	_, err = call("TagPolicy", awsPolicy)
	if ae := (*apierr.Error)(nil); !errors.As(err, &ae) || ae.Code != apierr.UnmodifiableEntity {
		t.Errorf("TagPolicy of an AWS managed policy: %v, want UnmodifiableEntity", err)
	}
}

// TestModifyKeepsIndex checks that modify re-derives a document's indexed
// record columns: a user's permissions boundary is its record's Ref.
func TestModifyKeepsIndex(t *testing.T) {
	ctx := context.Background()
	s, c := grpTestService(t)
	h := s.handlers()
	if _, err := h["CreateUser"](ctx, c, map[string]any{"UserName": "u"}); err != nil {
		t.Fatal(err)
	}
	const boundary = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
	for _, tc := range []struct {
		op, want string
	}{
		{"PutUserPermissionsBoundary", boundary},
		{"TagUser", boundary}, // an unrelated change keeps it
		{"DeleteUserPermissionsBoundary", ""},
	} {
		in := map[string]any{"UserName": "u", "PermissionsBoundary": boundary, "Tags": []any{map[string]any{"Key": "k", "Value": "v"}}}
		if _, err := h[tc.op](ctx, c, in); err != nil {
			t.Fatalf("%s: %v", tc.op, err)
		}
		rec, err := s.Store.Get(ctx, c.Account, kindUser, "u")
		if err != nil {
			t.Fatal(err)
		}
		if rec.Ref != tc.want {
			t.Errorf("after %s: record Ref %q, want %q", tc.op, rec.Ref, tc.want)
		}
	}
}
