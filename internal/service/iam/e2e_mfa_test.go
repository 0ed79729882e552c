package iam_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/pquerna/otp"
	ptotp "github.com/pquerna/otp/totp"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/store"
	"github.com/iamd/iamd/internal/testenv"
)

// mfaCodeAt computes a code with an implementation independent of ours.
func mfaCodeAt(t *testing.T, seed string, at time.Time) string {
	t.Helper()
	c, err := ptotp.GenerateCodeCustom(seed, at, ptotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mfaAPICode is the AWS error code of a service-level error, or "".
func mfaAPICode(err error) string {
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

func TestE2EVirtualMFA(t *testing.T) {
	env := testenv.Start(t)
	cl := env.AdminIAM()
	ctx := context.Background()

	for _, u := range []string{"mfa-alice", "mfa-bob"} {
		if _, err := cl.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}); err != nil {
			t.Fatal(err)
		}
	}
	created, err := cl.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{
		VirtualMFADeviceName: aws.String("alice-phone"), Path: aws.String("/team/"),
		Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("alice")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	dev := created.VirtualMFADevice
	serial := aws.ToString(dev.SerialNumber)
	if want := "arn:aws:iam::" + env.Account + ":mfa/team/alice-phone"; serial != want {
		t.Fatalf("SerialNumber = %s, want %s", serial, want)
	}
	seed := string(dev.Base32StringSeed)
	if !regexp.MustCompile(`^[A-Z2-7]{64}$`).MatchString(seed) {
		t.Fatalf("Base32StringSeed = %q", seed)
	}
	if _, err := png.Decode(bytes.NewReader(dev.QRCodePNG)); err != nil {
		t.Fatalf("QRCodePNG is not a PNG: %v", err)
	}
	if len(dev.Tags) != 1 {
		t.Fatalf("Tags = %v", dev.Tags)
	}

	// Names are unique per path, case-insensitively.
	_, err = cl.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("Alice-Phone"), Path: aws.String("/team/")})
	var exists *types.EntityAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("duplicate device: %v", err)
	}
	spare, err := cl.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("spare")})
	if err != nil {
		t.Fatal(err)
	}
	spareSerial := aws.ToString(spare.VirtualMFADevice.SerialNumber)

	now := time.Now()
	enable := func(user, c1, c2 string) error {
		_, err := cl.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String(user), SerialNumber: aws.String(serial), AuthenticationCode1: aws.String(c1), AuthenticationCode2: aws.String(c2)})
		return err
	}
	var badCode *types.InvalidAuthenticationCodeException
	if err := enable("mfa-alice", mfaCodeAt(t, seed, now), mfaCodeAt(t, seed, now.Add(-30*time.Second))); !errors.As(err, &badCode) {
		t.Fatalf("codes in the wrong order: %v", err)
	}
	if err := enable("mfa-alice", "123456", "654321"); !errors.As(err, &badCode) || badCode.ErrorMessage() != "Authentication code for device is not valid." {
		t.Fatalf("wrong codes: %v", err)
	}
	var nse *types.NoSuchEntityException
	if err := enable("nobody", mfaCodeAt(t, seed, now.Add(-30*time.Second)), mfaCodeAt(t, seed, now)); !errors.As(err, &nse) {
		t.Fatalf("unknown user: %v", err)
	}
	if err := enable("mfa-alice", mfaCodeAt(t, seed, now.Add(-30*time.Second)), mfaCodeAt(t, seed, now)); err != nil {
		t.Fatalf("enable: %v", err)
	}
	if err := enable("mfa-bob", mfaCodeAt(t, seed, now.Add(30*time.Second)), mfaCodeAt(t, seed, now.Add(60*time.Second))); !errors.As(err, &exists) {
		t.Fatalf("device in use: %v", err)
	}

	// ListMFADevices for the user, and for a user without devices.
	l, err := cl.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("mfa-alice")})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.MFADevices) != 1 || aws.ToString(l.MFADevices[0].SerialNumber) != serial || aws.ToString(l.MFADevices[0].UserName) != "mfa-alice" || l.MFADevices[0].EnableDate == nil {
		t.Fatalf("ListMFADevices = %+v", l.MFADevices)
	}
	if l, err := cl.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("mfa-bob")}); err != nil || len(l.MFADevices) != 0 {
		t.Fatalf("bob's devices = %v, %v", l, err)
	}
	if _, err := cl.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("nobody")}); !errors.As(err, &nse) {
		t.Fatalf("unknown user: %v", err)
	}

	g, err := cl.GetMFADevice(ctx, &iam.GetMFADeviceInput{SerialNumber: aws.String(serial), UserName: aws.String("mfa-alice")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(g.UserName) != "mfa-alice" || g.EnableDate == nil || g.Certifications != nil {
		t.Fatalf("GetMFADevice = %+v", g)
	}
	if _, err := cl.GetMFADevice(ctx, &iam.GetMFADeviceInput{SerialNumber: aws.String(serial), UserName: aws.String("mfa-bob")}); !errors.As(err, &nse) {
		t.Fatalf("GetMFADevice for another user: %v", err)
	}

	// ListVirtualMFADevices by assignment status, paginated.
	status := func(s types.AssignmentStatusType) []types.VirtualMFADevice {
		t.Helper()
		var all []types.VirtualMFADevice
		p := iam.NewListVirtualMFADevicesPaginator(cl, &iam.ListVirtualMFADevicesInput{AssignmentStatus: s, MaxItems: aws.Int32(1)})
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.VirtualMFADevices) > 1 {
				t.Fatalf("page of %d with MaxItems 1", len(out.VirtualMFADevices))
			}
			pages++
			all = append(all, out.VirtualMFADevices...)
		}
		return all
	}
	if all := status(types.AssignmentStatusTypeAny); len(all) != 2 {
		t.Fatalf("Any = %d devices", len(all))
	}
	assigned := status(types.AssignmentStatusTypeAssigned)
	if len(assigned) != 1 || aws.ToString(assigned[0].SerialNumber) != serial || assigned[0].User == nil ||
		aws.ToString(assigned[0].User.UserName) != "mfa-alice" || assigned[0].EnableDate == nil || len(assigned[0].Tags) != 1 || assigned[0].Base32StringSeed != nil {
		t.Fatalf("Assigned = %+v", assigned)
	}
	unassigned := status(types.AssignmentStatusTypeUnassigned)
	if len(unassigned) != 1 || aws.ToString(unassigned[0].SerialNumber) != spareSerial || unassigned[0].User != nil {
		t.Fatalf("Unassigned = %+v", unassigned)
	}

	// Tags.
	if _, err := cl.TagMFADevice(ctx, &iam.TagMFADeviceInput{SerialNumber: aws.String(serial), Tags: []types.Tag{{Key: aws.String("Owner"), Value: aws.String("a")}, {Key: aws.String("team"), Value: aws.String("x")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.UntagMFADevice(ctx, &iam.UntagMFADeviceInput{SerialNumber: aws.String(serial), TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := cl.ListMFADeviceTags(ctx, &iam.ListMFADeviceTagsInput{SerialNumber: aws.String(serial)})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "Owner" || aws.ToString(tags.Tags[0].Value) != "a" {
		t.Fatalf("tags = %+v", tags.Tags)
	}
	if _, err := cl.ListMFADeviceTags(ctx, &iam.ListMFADeviceTagsInput{SerialNumber: aws.String("arn:aws:iam::" + env.Account + ":mfa/none")}); !errors.As(err, &nse) {
		t.Fatalf("tags of unknown device: %v", err)
	}

	// Nothing assigned can be deleted, nor the user holding it.
	var conflict *types.DeleteConflictException
	if _, err := cl.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("mfa-alice")}); !errors.As(err, &conflict) {
		t.Fatalf("DeleteUser with an MFA device: %v", err)
	}
	if _, err := cl.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)}); !errors.As(err, &conflict) || conflict.ErrorMessage() != "MFA Device is already in use." {
		t.Fatalf("delete assigned device: %v", err)
	}

	// The sign-in check: a fresh code once, never twice.
	svc := env.App.IAM
	later := now.Add(30 * time.Second)
	code := mfaCodeAt(t, seed, later)
	if err := svc.VerifyMFACode(ctx, env.Account, serial, "mfa-alice", code, later); err != nil {
		t.Fatalf("VerifyMFACode: %v", err)
	}
	if err := svc.VerifyMFACode(ctx, env.Account, serial, "mfa-alice", code, later); mfaAPICode(err) != "AccessDenied" {
		t.Fatalf("replayed code: %v", err)
	}
	if ok, err := svc.HasMFA(ctx, env.Account, "mfa-alice"); err != nil || !ok {
		t.Fatalf("HasMFA = %v, %v", ok, err)
	}

	// Resync with the next two codes (the one just used is spent).
	if _, err := cl.ResyncMFADevice(ctx, &iam.ResyncMFADeviceInput{
		UserName: aws.String("mfa-alice"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(code), AuthenticationCode2: aws.String(mfaCodeAt(t, seed, later.Add(30*time.Second))),
	}); !errors.As(err, &badCode) {
		t.Fatalf("resync with a used code: %v", err)
	}
	if _, err := cl.ResyncMFADevice(ctx, &iam.ResyncMFADeviceInput{
		UserName: aws.String("mfa-alice"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(mfaCodeAt(t, seed, later.Add(30*time.Second))), AuthenticationCode2: aws.String(mfaCodeAt(t, seed, later.Add(60*time.Second))),
	}); err != nil {
		t.Fatalf("resync: %v", err)
	}

	// Deactivate (as the wrong user first), then delete.
	if _, err := cl.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("mfa-bob"), SerialNumber: aws.String(serial)}); !errors.As(err, &nse) {
		t.Fatalf("deactivate as another user: %v", err)
	}
	if _, err := cl.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("mfa-alice"), SerialNumber: aws.String(serial)}); err != nil {
		t.Fatal(err)
	}
	if l, err := cl.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("mfa-alice")}); err != nil || len(l.MFADevices) != 0 {
		t.Fatalf("after deactivation: %v, %v", l, err)
	}
	if err := svc.VerifyMFACode(ctx, env.Account, serial, "mfa-alice", mfaCodeAt(t, seed, later.Add(90*time.Second)), later.Add(90*time.Second)); mfaAPICode(err) != "AccessDenied" {
		t.Fatalf("code of a deactivated device: %v", err)
	}
	for _, sn := range []string{serial, spareSerial} {
		if _, err := cl.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(sn)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cl.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)}); !errors.As(err, &nse) {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := cl.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("mfa-alice")}); err != nil {
		t.Fatalf("DeleteUser after removing the device: %v", err)
	}
}

// Root manages its own devices by leaving UserName out.
func TestE2ERootMFADevices(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	var key, secret string
	err := env.App.Store.WithTx(ctx, func(tx store.Tx) error {
		k, s, err := env.App.IAM.NewAccessKey(ctx, tx, env.Account, "#root", "", time.Now())
		if err == nil {
			key, secret = k.ID, s
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	root := testenv.IAM(env.Config(key, secret, ""))
	if _, err := root.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("root-account-mfa-device")}); err != nil {
		t.Fatal(err)
	}
	l, err := root.ListMFADevices(ctx, &iam.ListMFADevicesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.MFADevices) != 0 || aws.ToBool(&l.IsTruncated) {
		t.Fatalf("root devices before enabling: %+v", l.MFADevices)
	}
	if ok, err := env.App.IAM.HasMFA(ctx, env.Account, ""); err != nil || ok {
		t.Fatalf("HasMFA(root) = %v, %v", ok, err)
	}
}
