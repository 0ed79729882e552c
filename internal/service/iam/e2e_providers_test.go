package iam_test

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	iamsvc "github.com/iamd/iamd/internal/service/iam"
	"github.com/iamd/iamd/internal/testenv"
)

func TestE2EOpenIDConnectProviders(t *testing.T) {
	env := testenv.Start(t)
	c, ctx := env.AdminIAM(), context.Background()
	thumb := strings.Repeat("9e", 20)

	_, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("http://token.example.com")})
	credWant(t, err, "InvalidInput")
	_, err = c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://token.example.com"), ThumbprintList: []string{strings.Repeat("zz", 20)}})
	credWant(t, err, "InvalidInput")

	out, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://Token.Example.com/tenant/"), ClientIDList: []string{"app1", "app1"}, ThumbprintList: []string{thumb},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("id")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	providerARN := aws.ToString(out.OpenIDConnectProviderArn)
	if providerARN != "arn:aws:iam::"+env.Account+":oidc-provider/token.example.com/tenant" || len(out.Tags) != 1 {
		t.Fatalf("create = %s %+v", providerARN, out.Tags)
	}
	_, err = c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://token.example.com/tenant")})
	var eae *types.EntityAlreadyExistsException
	if !errors.As(err, &eae) {
		t.Fatalf("duplicate: %v", err)
	}

	if _, err = c.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(providerARN), ClientID: aws.String("app2")}); err != nil {
		t.Fatal(err)
	}
	if _, err = c.RemoveClientIDFromOpenIDConnectProvider(ctx, &iam.RemoveClientIDFromOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(providerARN), ClientID: aws.String("app1")}); err != nil {
		t.Fatal(err)
	}
	newThumb := strings.Repeat("AB", 20)
	if _, err = c.UpdateOpenIDConnectProviderThumbprint(ctx, &iam.UpdateOpenIDConnectProviderThumbprintInput{OpenIDConnectProviderArn: aws.String(providerARN), ThumbprintList: []string{newThumb}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(providerARN)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Url) != "token.example.com/tenant" || fmt.Sprint(got.ClientIDList) != "[app2]" || fmt.Sprint(got.ThumbprintList) != "["+strings.ToLower(newThumb)+"]" || got.CreateDate == nil {
		t.Fatalf("get = %+v", got)
	}
	p, err := iamsvc.LookupOIDCProvider(ctx, env.App.Store, env.Account, "https://token.example.com/tenant")
	if err != nil || p.ARN != providerARN {
		t.Fatalf("LookupOIDCProvider = %+v %v", p, err)
	}

	if _, err = c.TagOpenIDConnectProvider(ctx, &iam.TagOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(providerARN), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err = c.UntagOpenIDConnectProvider(ctx, &iam.UntagOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(providerARN), TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListOpenIDConnectProviderTags(ctx, &iam.ListOpenIDConnectProviderTagsInput{OpenIDConnectProviderArn: aws.String(providerARN)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Fatalf("tags = %+v %v", tags, err)
	}

	list, err := c.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil || len(list.OpenIDConnectProviderList) != 1 {
		t.Fatalf("list = %+v %v", list, err)
	}
	if _, err = c.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(providerARN)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(providerARN)})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Fatalf("after delete: %v", err)
	}
}

// provMetadata is IdP metadata with certPEM as its signing certificate.
func provMetadata(entityID, certPEM string) string {
	block, _ := pem.Decode([]byte(certPEM))
	b64 := base64.StdEncoding.EncodeToString(block.Bytes)
	return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="` + entityID + `">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + b64 + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso/saml"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso/saml"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`
}

func TestE2ESAMLProviders(t *testing.T) {
	env := testenv.Start(t)
	c, ctx := env.AdminIAM(), context.Background()
	certPEM, _ := credSelfSigned(t, "idp.example.com", time.Now().Add(365*24*time.Hour))
	md := provMetadata("https://idp.example.com/metadata", certPEM)

	noCert := strings.Replace(md, `use="signing"`, `use="encryption"`, 1)
	_, err := c.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("corp"), SAMLMetadataDocument: aws.String(noCert)})
	credWant(t, err, "InvalidInput")
	_, err = c.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("corp"), SAMLMetadataDocument: aws.String(strings.Repeat("<x>not metadata</x>", 60))})
	credWant(t, err, "InvalidInput")

	out, err := c.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("corp"), SAMLMetadataDocument: aws.String(md), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	if err != nil {
		t.Fatal(err)
	}
	providerARN := aws.ToString(out.SAMLProviderArn)
	if providerARN != "arn:aws:iam::"+env.Account+":saml-provider/corp" {
		t.Fatalf("arn = %s", providerARN)
	}
	_, err = c.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("corp"), SAMLMetadataDocument: aws.String(md)})
	credWant(t, err, "EntityAlreadyExists")

	got, err := c.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(providerARN)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.SAMLMetadataDocument) != md || got.ValidUntil == nil || len(aws.ToString(got.SAMLProviderUUID)) < 22 || len(got.Tags) != 1 {
		t.Fatalf("get = %+v", got)
	}
	p, err := iamsvc.LookupSAMLProvider(ctx, env.App.Store, env.Account, providerARN)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := p.Certificates()
	if err != nil || len(certs) != 1 || certs[0].Subject.CommonName != "idp.example.com" || p.EntityID != "https://idp.example.com/metadata" {
		t.Fatalf("LookupSAMLProvider = %+v %v", p, err)
	}

	// Update with new metadata and a decryption key; Required then holds.
	cert2, key2 := credSelfSigned(t, "idp2.example.com", time.Now().Add(365*24*time.Hour))
	md2 := provMetadata("https://idp.example.com/metadata", cert2)
	_, err = c.UpdateSAMLProvider(ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(providerARN), AssertionEncryptionMode: types.AssertionEncryptionModeTypeRequired})
	credWant(t, err, "InvalidInput")
	up, err := c.UpdateSAMLProvider(ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(providerARN), SAMLMetadataDocument: aws.String(md2), AddPrivateKey: aws.String(key2), AssertionEncryptionMode: types.AssertionEncryptionModeTypeRequired})
	if err != nil || aws.ToString(up.SAMLProviderArn) != providerARN {
		t.Fatalf("update = %+v %v", up, err)
	}
	got, err = c.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(providerARN)})
	if err != nil || aws.ToString(got.SAMLMetadataDocument) != md2 || len(got.PrivateKeyList) != 1 || got.AssertionEncryptionMode != types.AssertionEncryptionModeTypeRequired {
		t.Fatalf("after update = %+v %v", got, err)
	}
	p, _ = iamsvc.LookupSAMLProvider(ctx, env.App.Store, env.Account, providerARN)
	if keys, err := p.DecryptionKeys(env.App.Keys); err != nil || len(keys) != 1 {
		t.Fatalf("decryption keys = %d %v", len(keys), err)
	}

	if _, err = c.UntagSAMLProvider(ctx, &iam.UntagSAMLProviderInput{SAMLProviderArn: aws.String(providerARN), TagKeys: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	if _, err = c.TagSAMLProvider(ctx, &iam.TagSAMLProviderInput{SAMLProviderArn: aws.String(providerARN), Tags: []types.Tag{{Key: aws.String("x"), Value: aws.String("y")}}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListSAMLProviderTags(ctx, &iam.ListSAMLProviderTagsInput{SAMLProviderArn: aws.String(providerARN)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "x" {
		t.Fatalf("tags = %+v %v", tags, err)
	}
	list, err := c.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{})
	if err != nil || len(list.SAMLProviderList) != 1 || aws.ToString(list.SAMLProviderList[0].Arn) != providerARN {
		t.Fatalf("list = %+v %v", list, err)
	}
	if _, err = c.DeleteSAMLProvider(ctx, &iam.DeleteSAMLProviderInput{SAMLProviderArn: aws.String(providerARN)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(providerARN)})
	credWant(t, err, "NoSuchEntity")
}
