package iam_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	"golang.org/x/crypto/ssh"

	"github.com/iamd/iamd/internal/testenv"
)

// credErrCode is the AWS error code of err, or "" when err is nil.
func credErrCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	return ae.ErrorCode()
}

func credWant(t *testing.T, err error, code string) {
	t.Helper()
	if got := credErrCode(t, err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

// credSelfSigned makes a PEM certificate and PEM private key for cn.
func credSelfSigned(t *testing.T, cn string, notAfter time.Time) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

func credCreateUser(t *testing.T, c *iam.Client, name string) {
	t.Helper()
	if _, err := c.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
}

func TestE2ELoginProfileAndPasswordPolicy(t *testing.T) {
	env := testenv.Start(t)
	c, ctx := env.AdminIAM(), context.Background()
	credCreateUser(t, c, "alice")

	// Default policy: at least 8 characters, three character classes.
	_, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("short")})
	credWant(t, err, "PasswordPolicyViolation")
	_, err = c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("nobody"), Password: aws.String("Passw0rd!x")})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Fatalf("unknown user: %v", err)
	}
	out, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Passw0rd!x"), PasswordResetRequired: true})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.LoginProfile.UserName) != "alice" || !out.LoginProfile.PasswordResetRequired || out.LoginProfile.CreateDate == nil {
		t.Fatalf("login profile = %+v", out.LoginProfile)
	}
	_, err = c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Passw0rd!y")})
	var eae *types.EntityAlreadyExistsException
	if !errors.As(err, &eae) {
		t.Fatalf("second profile: %v", err)
	}
	// A user with a login profile cannot be deleted.
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
	credWant(t, err, "DeleteConflict")

	// Password policy round trip.
	_, err = c.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	if !errors.As(err, &nse) || !strings.Contains(err.Error(), "The Password Policy with domain name "+env.Account+" cannot be found.") {
		t.Fatalf("no policy: %v", err)
	}
	_, err = c.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{
		MinimumPasswordLength: aws.Int32(12), RequireSymbols: true, RequireNumbers: true, RequireUppercaseCharacters: true,
		RequireLowercaseCharacters: true, AllowUsersToChangePassword: true, MaxPasswordAge: aws.Int32(90), PasswordReusePrevention: aws.Int32(2),
	})
	if err != nil {
		t.Fatal(err)
	}
	pp, err := c.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	if err != nil {
		t.Fatal(err)
	}
	p := pp.PasswordPolicy
	if aws.ToInt32(p.MinimumPasswordLength) != 12 || !p.RequireSymbols || !p.ExpirePasswords || aws.ToInt32(p.MaxPasswordAge) != 90 || aws.ToInt32(p.PasswordReusePrevention) != 2 || !p.AllowUsersToChangePassword {
		t.Fatalf("policy = %+v", p)
	}
	_, err = c.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MaxPasswordAge: aws.Int32(2000)})
	if err == nil {
		t.Fatal("MaxPasswordAge 2000 accepted")
	}

	// UpdateLoginProfile applies the policy.
	_, err = c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Passw0rd!x")})
	credWant(t, err, "PasswordPolicyViolation")
	if _, err = c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Str0ng-Passw0rd")}); err != nil {
		t.Fatal(err)
	}

	// ChangePassword as alice herself. Authorization is enforced: grant
	// her iam:ChangePassword on her own user, as AWS's docs suggest.
	_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("self-password"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ChangePassword","Resource":"arn:aws:iam::*:user/${aws:username}"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	alice := testenv.IAM(env.Config(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), ""))
	_, err = alice.ChangePassword(ctx, &iam.ChangePasswordInput{OldPassword: aws.String("wrong-password"), NewPassword: aws.String("An0ther-Passw0rd")})
	credWant(t, err, "InvalidUserType")
	// Reuse prevention: the current password cannot be set again.
	_, err = alice.ChangePassword(ctx, &iam.ChangePasswordInput{OldPassword: aws.String("Str0ng-Passw0rd"), NewPassword: aws.String("Str0ng-Passw0rd")})
	credWant(t, err, "PasswordPolicyViolation")
	if _, err = alice.ChangePassword(ctx, &iam.ChangePasswordInput{OldPassword: aws.String("Str0ng-Passw0rd"), NewPassword: aws.String("An0ther-Passw0rd")}); err != nil {
		t.Fatal(err)
	}
	lp, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	if lp.LoginProfile.PasswordResetRequired {
		t.Fatal("ChangePassword left PasswordResetRequired set")
	}
	ok, reset, expired, err := env.App.IAM.CheckUserPassword(ctx, env.Account, "alice", "An0ther-Passw0rd", time.Now())
	if err != nil || !ok || reset || expired {
		t.Fatalf("CheckUserPassword = %v %v %v %v", ok, reset, expired, err)
	}
	if _, _, expired, _ = env.App.IAM.CheckUserPassword(ctx, env.Account, "alice", "An0ther-Passw0rd", time.Now().Add(91*24*time.Hour)); !expired {
		t.Fatal("password not expired after MaxPasswordAge")
	}
	if ok, _, _, _ = env.App.IAM.CheckUserPassword(ctx, env.Account, "alice", "Str0ng-Passw0rd", time.Now()); ok {
		t.Fatal("old password still accepted")
	}

	if _, err = c.DeleteAccountPasswordPolicy(ctx, &iam.DeleteAccountPasswordPolicyInput{}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteAccountPasswordPolicy(ctx, &iam.DeleteAccountPasswordPolicyInput{})
	credWant(t, err, "NoSuchEntity")
	if _, err = c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")})
	credWant(t, err, "NoSuchEntity")
}

func TestE2EServerCertificates(t *testing.T) {
	env := testenv.Start(t)
	c, ctx := env.AdminIAM(), context.Background()
	notAfter := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	certPEM, keyPEM := credSelfSigned(t, "www.example.com", notAfter)
	_, otherKey := credSelfSigned(t, "other", notAfter)
	chainPEM, _ := credSelfSigned(t, "ca", notAfter)

	_, err := c.UploadServerCertificate(ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("web"), CertificateBody: aws.String(certPEM), PrivateKey: aws.String(otherKey)})
	credWant(t, err, "KeyPairMismatch")
	_, err = c.UploadServerCertificate(ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("web"), CertificateBody: aws.String("not a cert"), PrivateKey: aws.String(keyPEM)})
	credWant(t, err, "MalformedCertificate")

	up, err := c.UploadServerCertificate(ctx, &iam.UploadServerCertificateInput{
		ServerCertificateName: aws.String("web"), Path: aws.String("/cloudfront/"), CertificateBody: aws.String(certPEM),
		PrivateKey: aws.String(keyPEM), CertificateChain: aws.String(chainPEM), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := up.ServerCertificateMetadata
	if !strings.HasPrefix(aws.ToString(m.ServerCertificateId), "ASCA") || aws.ToString(m.Arn) != "arn:aws:iam::"+env.Account+":server-certificate/cloudfront/web" || !m.Expiration.Equal(notAfter) {
		t.Fatalf("metadata = %+v", m)
	}
	_, err = c.UploadServerCertificate(ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("WEB"), CertificateBody: aws.String(certPEM), PrivateKey: aws.String(keyPEM)})
	credWant(t, err, "EntityAlreadyExists")

	got, err := c.GetServerCertificate(ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.ServerCertificate.CertificateBody) != strings.TrimSpace(certPEM) || aws.ToString(got.ServerCertificate.CertificateChain) == "" || len(got.ServerCertificate.Tags) != 1 {
		t.Fatalf("certificate = %+v", got.ServerCertificate)
	}
	pk, err := env.App.IAM.ServerCertificatePrivateKey(ctx, env.Account, "web")
	if err != nil || pk != keyPEM {
		t.Fatalf("sealed private key round trip: %v", err)
	}

	for _, n := range []string{"a", "b"} {
		cp, kp := credSelfSigned(t, n, notAfter)
		if _, err := c.UploadServerCertificate(ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String(n), CertificateBody: aws.String(cp), PrivateKey: aws.String(kp)}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := c.ListServerCertificates(ctx, &iam.ListServerCertificatesInput{MaxItems: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.ServerCertificateMetadataList) != 2 || !page.IsTruncated {
		t.Fatalf("page 1 = %d truncated %v", len(page.ServerCertificateMetadataList), page.IsTruncated)
	}
	page2, err := c.ListServerCertificates(ctx, &iam.ListServerCertificatesInput{Marker: page.Marker})
	if err != nil || len(page2.ServerCertificateMetadataList) != 1 || page2.IsTruncated {
		t.Fatalf("page 2 = %+v %v", page2, err)
	}
	pre, err := c.ListServerCertificates(ctx, &iam.ListServerCertificatesInput{PathPrefix: aws.String("/cloudfront/")})
	if err != nil || len(pre.ServerCertificateMetadataList) != 1 {
		t.Fatalf("path prefix = %+v %v", pre, err)
	}

	if _, err = c.UpdateServerCertificate(ctx, &iam.UpdateServerCertificateInput{ServerCertificateName: aws.String("web"), NewServerCertificateName: aws.String("web2")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetServerCertificate(ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String("web")})
	credWant(t, err, "NoSuchEntity")
	_, err = c.UpdateServerCertificate(ctx, &iam.UpdateServerCertificateInput{ServerCertificateName: aws.String("web2"), NewServerCertificateName: aws.String("a")})
	credWant(t, err, "EntityAlreadyExists")

	if _, err = c.UntagServerCertificate(ctx, &iam.UntagServerCertificateInput{ServerCertificateName: aws.String("web2"), TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListServerCertificateTags(ctx, &iam.ListServerCertificateTagsInput{ServerCertificateName: aws.String("web2")})
	if err != nil || len(tags.Tags) != 0 {
		t.Fatalf("tags after untag = %+v %v", tags, err)
	}
	if _, err = c.DeleteServerCertificate(ctx, &iam.DeleteServerCertificateInput{ServerCertificateName: aws.String("web2")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteServerCertificate(ctx, &iam.DeleteServerCertificateInput{ServerCertificateName: aws.String("web2")})
	credWant(t, err, "NoSuchEntity")
}

func TestE2ESigningCertificates(t *testing.T) {
	env := testenv.Start(t)
	c, ctx := env.AdminIAM(), context.Background()
	credCreateUser(t, c, "bob")
	notAfter := time.Now().Add(24 * time.Hour)
	certs := make([]string, 3)
	for i := range certs {
		certs[i], _ = credSelfSigned(t, "bob", notAfter)
	}
	up, err := c.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{UserName: aws.String("bob"), CertificateBody: aws.String(certs[0])})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(up.Certificate.CertificateId)
	if len(id) < 24 || up.Certificate.Status != types.StatusTypeActive || aws.ToString(up.Certificate.UserName) != "bob" {
		t.Fatalf("certificate = %+v", up.Certificate)
	}
	_, err = c.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{UserName: aws.String("bob"), CertificateBody: aws.String(certs[0])})
	credWant(t, err, "DuplicateCertificate")
	if _, err = c.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{UserName: aws.String("bob"), CertificateBody: aws.String(certs[1])}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{UserName: aws.String("bob"), CertificateBody: aws.String(certs[2])})
	credWant(t, err, "LimitExceeded")
	expired, _ := credSelfSigned(t, "old", time.Now().Add(-time.Minute))
	_, err = c.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{UserName: aws.String("bob"), CertificateBody: aws.String(expired)})
	credWant(t, err, "InvalidCertificate")

	list, err := c.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: aws.String("bob"), MaxItems: aws.Int32(1)})
	if err != nil || len(list.Certificates) != 1 || !list.IsTruncated {
		t.Fatalf("list = %+v %v", list, err)
	}
	if _, err = c.UpdateSigningCertificate(ctx, &iam.UpdateSigningCertificateInput{UserName: aws.String("bob"), CertificateId: aws.String(id), Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateSigningCertificate(ctx, &iam.UpdateSigningCertificateInput{UserName: aws.String("bob"), CertificateId: aws.String("ASCANOTAREALCERTIFICATEID1"), Status: types.StatusTypeInactive})
	credWant(t, err, "NoSuchEntity")
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})
	credWant(t, err, "DeleteConflict")
	if _, err = c.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: aws.String("bob"), CertificateId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	list, err = c.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: aws.String("bob")})
	if err != nil || len(list.Certificates) != 1 {
		t.Fatalf("after delete = %+v %v", list, err)
	}
}

func credSSHKey(t *testing.T, bits int) (*rsa.PrivateKey, string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return k, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))) + " bob@laptop"
}

func TestE2ESSHPublicKeys(t *testing.T) {
	env := testenv.Start(t)
	c, ctx := env.AdminIAM(), context.Background()
	credCreateUser(t, c, "carol")
	key, body := credSSHKey(t, 2048)
	up, err := c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("carol"), SSHPublicKeyBody: aws.String(body)})
	if err != nil {
		t.Fatal(err)
	}
	k := up.SSHPublicKey
	pub, _ := ssh.NewPublicKey(&key.PublicKey)
	if !strings.HasPrefix(aws.ToString(k.SSHPublicKeyId), "APKA") || aws.ToString(k.Fingerprint) != ssh.FingerprintLegacyMD5(pub) {
		t.Fatalf("key = %+v", k)
	}
	_, err = c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("carol"), SSHPublicKeyBody: aws.String(body)})
	credWant(t, err, "DuplicateSSHPublicKey")
	_, small := credSSHKey(t, 1024)
	_, err = c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("carol"), SSHPublicKeyBody: aws.String(small)})
	credWant(t, err, "InvalidPublicKey")
	_, err = c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("carol"), SSHPublicKeyBody: aws.String("hello world")})
	credWant(t, err, "UnrecognizedPublicKeyEncoding")

	// PEM upload of a second key, then PEM encoding back.
	k2, _ := credSSHKey(t, 2048)
	der, _ := x509.MarshalPKIXPublicKey(&k2.PublicKey)
	pemBody := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	up2, err := c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("carol"), SSHPublicKeyBody: aws.String(pemBody)})
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.GetSSHPublicKey(ctx, &iam.GetSSHPublicKeyInput{UserName: aws.String("carol"), SSHPublicKeyId: up2.SSHPublicKey.SSHPublicKeyId, Encoding: types.EncodingTypePem})
	if err != nil || aws.ToString(g.SSHPublicKey.SSHPublicKeyBody) != pemBody {
		t.Fatalf("PEM get = %q %v", aws.ToString(g.SSHPublicKey.SSHPublicKeyBody), err)
	}
	g, err = c.GetSSHPublicKey(ctx, &iam.GetSSHPublicKeyInput{UserName: aws.String("carol"), SSHPublicKeyId: k.SSHPublicKeyId, Encoding: types.EncodingTypeSsh})
	if err != nil || !strings.HasPrefix(body, aws.ToString(g.SSHPublicKey.SSHPublicKeyBody)) {
		t.Fatalf("SSH get = %q %v", aws.ToString(g.SSHPublicKey.SSHPublicKeyBody), err)
	}

	list, err := c.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: aws.String("carol"), MaxItems: aws.Int32(1)})
	if err != nil || len(list.SSHPublicKeys) != 1 || !list.IsTruncated {
		t.Fatalf("list = %+v %v", list, err)
	}
	if _, err = c.UpdateSSHPublicKey(ctx, &iam.UpdateSSHPublicKeyInput{UserName: aws.String("carol"), SSHPublicKeyId: k.SSHPublicKeyId, Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	if _, err = c.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: aws.String("carol"), SSHPublicKeyId: k.SSHPublicKeyId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetSSHPublicKey(ctx, &iam.GetSSHPublicKeyInput{UserName: aws.String("carol"), SSHPublicKeyId: k.SSHPublicKeyId, Encoding: types.EncodingTypeSsh})
	credWant(t, err, "NoSuchEntity")
}

func TestE2EServiceSpecificCredentials(t *testing.T) {
	env := testenv.Start(t)
	c, ctx := env.AdminIAM(), context.Background()
	credCreateUser(t, c, "dave")
	cc, err := c.CreateServiceSpecificCredential(ctx, &iam.CreateServiceSpecificCredentialInput{UserName: aws.String("dave"), ServiceName: aws.String("codecommit.amazonaws.com")})
	if err != nil {
		t.Fatal(err)
	}
	cred := cc.ServiceSpecificCredential
	if !strings.HasPrefix(aws.ToString(cred.ServiceSpecificCredentialId), "ACCA") || aws.ToString(cred.ServiceUserName) != "dave-at-"+env.Account || len(aws.ToString(cred.ServicePassword)) < 40 {
		t.Fatalf("credential = %+v", cred)
	}
	if _, err = c.CreateServiceSpecificCredential(ctx, &iam.CreateServiceSpecificCredentialInput{UserName: aws.String("dave"), ServiceName: aws.String("codecommit.amazonaws.com")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateServiceSpecificCredential(ctx, &iam.CreateServiceSpecificCredentialInput{UserName: aws.String("dave"), ServiceName: aws.String("codecommit.amazonaws.com")})
	credWant(t, err, "LimitExceeded")
	_, err = c.CreateServiceSpecificCredential(ctx, &iam.CreateServiceSpecificCredentialInput{UserName: aws.String("dave"), ServiceName: aws.String("s3.amazonaws.com")})
	credWant(t, err, "NotSupportedService")
	if _, err = c.CreateServiceSpecificCredential(ctx, &iam.CreateServiceSpecificCredentialInput{UserName: aws.String("dave"), ServiceName: aws.String("cassandra.amazonaws.com")}); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: aws.String("dave"), ServiceName: aws.String("codecommit.amazonaws.com")})
	if err != nil || len(list.ServiceSpecificCredentials) != 2 {
		t.Fatalf("list = %+v %v", list, err)
	}
	all, err := c.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{AllUsers: aws.Bool(true), MaxItems: aws.Int32(2)})
	if err != nil || len(all.ServiceSpecificCredentials) != 2 || !all.IsTruncated || aws.ToString(all.ServiceSpecificCredentials[0].UserName) != "dave" {
		t.Fatalf("all users = %+v %v", all, err)
	}
	reset, err := c.ResetServiceSpecificCredential(ctx, &iam.ResetServiceSpecificCredentialInput{UserName: aws.String("dave"), ServiceSpecificCredentialId: cred.ServiceSpecificCredentialId})
	if err != nil || aws.ToString(reset.ServiceSpecificCredential.ServicePassword) == aws.ToString(cred.ServicePassword) {
		t.Fatalf("reset = %+v %v", reset, err)
	}
	if _, err = c.UpdateServiceSpecificCredential(ctx, &iam.UpdateServiceSpecificCredentialInput{UserName: aws.String("dave"), ServiceSpecificCredentialId: cred.ServiceSpecificCredentialId, Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	if _, err = c.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: aws.String("dave"), ServiceSpecificCredentialId: cred.ServiceSpecificCredentialId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: aws.String("dave"), ServiceSpecificCredentialId: cred.ServiceSpecificCredentialId})
	credWant(t, err, "NoSuchEntity")

	bk, err := c.CreateServiceSpecificCredential(ctx, &iam.CreateServiceSpecificCredentialInput{UserName: aws.String("dave"), ServiceName: aws.String("bedrock.amazonaws.com"), CredentialAgeDays: aws.Int32(30)})
	if err != nil {
		t.Fatal(err)
	}
	if b := bk.ServiceSpecificCredential; aws.ToString(b.ServiceCredentialAlias) == "" || !strings.HasPrefix(aws.ToString(b.ServiceCredentialSecret), "ABSK") || b.ExpirationDate == nil {
		t.Fatalf("bedrock key = %+v", b)
	}
}

// TestE2ERootCredentials runs with --auth off, where unknown keys act as
// the account's root user, to cover the root paths.
func TestE2ERootCredentials(t *testing.T) {
	env := testenv.Start(t, testenv.WithAuth("off"))
	root := testenv.IAM(env.Config("AKIAROOTROOTROOTROOT", "secret", ""))
	ctx := context.Background()

	_, err := root.ChangePassword(ctx, &iam.ChangePasswordInput{OldPassword: aws.String("a"), NewPassword: aws.String("b")})
	credWant(t, err, "InvalidUserType")

	certPEM, _ := credSelfSigned(t, "root", time.Now().Add(time.Hour))
	up, err := root.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{CertificateBody: aws.String(certPEM)})
	if err != nil {
		t.Fatal(err)
	}
	if up.Certificate.UserName != nil {
		t.Fatalf("root certificate has UserName %q", aws.ToString(up.Certificate.UserName))
	}
	list, err := root.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{})
	if err != nil || len(list.Certificates) != 1 {
		t.Fatalf("root list = %+v %v", list, err)
	}
	sum, err := root.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if err != nil || sum.SummaryMap["AccountSigningCertificatesPresent"] != 1 {
		t.Fatalf("summary = %+v %v", sum, err)
	}
	if _, err = root.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{CertificateId: up.Certificate.CertificateId}); err != nil {
		t.Fatal(err)
	}
	keys, err := root.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{})
	if err != nil || len(keys.SSHPublicKeys) != 0 {
		t.Fatalf("root SSH keys = %+v %v", keys, err)
	}
}

// TestE2ERenamedUserKeepsCredentials checks a rename carries the login
// profile, SSH keys and service credentials to the new name.
func TestE2ERenamedUserKeepsCredentials(t *testing.T) {
	env := testenv.Start(t)
	c, ctx := env.AdminIAM(), context.Background()
	credCreateUser(t, c, "erin")
	if _, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("erin"), Password: aws.String("Erin-Passw0rd")}); err != nil {
		t.Fatal(err)
	}
	_, body := credSSHKey(t, 2048)
	up, err := c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("erin"), SSHPublicKeyBody: aws.String(body)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = c.CreateServiceSpecificCredential(ctx, &iam.CreateServiceSpecificCredentialInput{UserName: aws.String("erin"), ServiceName: aws.String("codecommit.amazonaws.com")}); err != nil {
		t.Fatal(err)
	}
	if _, err = c.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("erin"), NewUserName: aws.String("erin2")}); err != nil {
		t.Fatal(err)
	}
	lp, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("erin2")})
	if err != nil || aws.ToString(lp.LoginProfile.UserName) != "erin2" {
		t.Fatalf("login profile after rename = %+v %v", lp, err)
	}
	if ok, _, _, err := env.App.IAM.CheckUserPassword(ctx, env.Account, "erin2", "Erin-Passw0rd", time.Now()); !ok || err != nil {
		t.Fatalf("password after rename: %v %v", ok, err)
	}
	k, err := c.GetSSHPublicKey(ctx, &iam.GetSSHPublicKeyInput{UserName: aws.String("erin2"), SSHPublicKeyId: up.SSHPublicKey.SSHPublicKeyId, Encoding: types.EncodingTypeSsh})
	if err != nil || aws.ToString(k.SSHPublicKey.UserName) != "erin2" {
		t.Fatalf("SSH key after rename = %+v %v", k, err)
	}
	creds, err := c.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: aws.String("erin2")})
	if err != nil || len(creds.ServiceSpecificCredentials) != 1 {
		t.Fatalf("service credentials after rename = %+v %v", creds, err)
	}
	_, err = c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("erin")})
	credWant(t, err, "NoSuchEntity")
}
