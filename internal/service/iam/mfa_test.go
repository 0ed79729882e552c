package iam

import (
	"bytes"
	"context"
	"encoding/base32"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/secrets"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
	"github.com/iamd/iamd/internal/store/sqlite"
	"github.com/iamd/iamd/internal/totp"
)

const mfaTestAccount = "123456789012"

// mfaTestService is a Service on a fresh SQLite store with one account.
func mfaTestService(t *testing.T) *Service {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "iamd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kr, err := secrets.NewKeyring(bytes.Repeat([]byte{7}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{Store: st, Keys: kr, IDs: ids.Source{}}
	acct := &accounts.Account{ID: mfaTestAccount, Name: "test", Email: "root@example.com", Created: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := st.WithTx(ctx, func(tx store.Tx) error { return accounts.Create(ctx, tx, acct) }); err != nil {
		t.Fatal(err)
	}
	return s
}

// mfaRootCall is a call by the account's root user at t.
func mfaRootCall(t time.Time) *service.Call {
	return &service.Call{
		Account: mfaTestAccount, Partition: "aws", Now: t,
		Principal: &principal.Principal{Type: principal.Root, Partition: "aws", Account: mfaTestAccount, ARN: arn.IAM("aws", mfaTestAccount, "root"), UserID: mfaTestAccount},
	}
}

func mfaCode(t *testing.T, err error) string {
	t.Helper()
	var ae *apierr.Error
	if err == nil {
		return ""
	}
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	return ae.Code
}

// mfaNewDevice creates a device and returns its serial and seed.
func mfaNewDevice(t *testing.T, s *Service, c *service.Call, name string) (string, []byte) {
	t.Helper()
	out, err := s.createVirtualMFADevice(context.Background(), c, map[string]any{"VirtualMFADeviceName": name})
	if err != nil {
		t.Fatal(err)
	}
	d := out["VirtualMFADevice"].(map[string]any)
	b32 := string(d["Base32StringSeed"].([]byte))
	seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(b32)
	if err != nil {
		t.Fatal(err)
	}
	return d["SerialNumber"].(string), seed
}

func TestMFAKey(t *testing.T) {
	tests := []struct {
		serial, key string
		ok          bool
	}{
		{"arn:aws:iam::123456789012:mfa/Bob", "/bob", true},
		{"arn:aws:iam::123456789012:mfa/Team/Bob", "/team/bob", true},
		{"arn:aws-cn:iam::123456789012:mfa/x", "/x", true},
		{"arn:aws:iam::999999999999:mfa/Bob", "", false}, // another account
		{"arn:aws:iam::123456789012:user/Bob", "", false},
		{"arn:aws:sts::123456789012:mfa/Bob", "", false},
		{"GAHT12345678", "", false}, // a hardware token serial
	}
	for _, tt := range tests {
		k, ok := mfaKey(mfaTestAccount, tt.serial)
		if k != tt.key || ok != tt.ok {
			t.Errorf("mfaKey(%q) = %q, %v; want %q, %v", tt.serial, k, ok, tt.key, tt.ok)
		}
	}
}

func TestVerifyMFACodeReplayAndThrottle(t *testing.T) {
	ctx := context.Background()
	s := mfaTestService(t)
	t0 := time.Date(2025, 3, 1, 12, 0, 15, 0, time.UTC)
	c := mfaRootCall(t0)
	if _, err := s.createUser(ctx, c, map[string]any{"UserName": "Alice"}); err != nil {
		t.Fatal(err)
	}
	serial, seed := mfaNewDevice(t, s, c, "alice-phone")

	// Not assigned yet: refused like a wrong code.
	if got := mfaCode(t, s.VerifyMFACode(ctx, mfaTestAccount, serial, "Alice", totp.Code(seed, t0), t0)); got != apierr.AccessDenied {
		t.Fatalf("unassigned device: code %q, want AccessDenied", got)
	}
	_, err := s.enableMFADevice(ctx, c, map[string]any{
		"UserName": "alice", "SerialNumber": serial,
		"AuthenticationCode1": totp.Code(seed, t0.Add(-totp.Step)), "AuthenticationCode2": totp.Code(seed, t0),
	})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s.HasMFA(ctx, mfaTestAccount, "ALICE"); err != nil || !ok {
		t.Fatalf("HasMFA = %v, %v", ok, err)
	}
	if ok, err := s.HasMFA(ctx, mfaTestAccount, ""); err != nil || ok {
		t.Fatalf("HasMFA(root) = %v, %v", ok, err)
	}

	t1 := t0.Add(totp.Step)
	good := totp.Code(seed, t1)
	wrong := func(at time.Time) string {
		// Any six digits that are none of the accepted window's codes.
		for _, cand := range []string{"000000", "111111", "222222"} {
			if cand != totp.Code(seed, at) && cand != totp.Code(seed, at.Add(-totp.Step)) && cand != totp.Code(seed, at.Add(totp.Step)) {
				return cand
			}
		}
		t.Fatal("no wrong code")
		return ""
	}

	steps := []struct {
		name, owner, code string
		at                time.Time
		want              string // "" accepted, else the error code
		msg               string
	}{
		{"enable codes are spent", "Alice", totp.Code(seed, t0), t0, apierr.AccessDenied, msgSTSInvalidMFA},
		{"fresh code", "Alice", good, t1, "", ""},
		{"replay refused", "Alice", good, t1, apierr.AccessDenied, msgSTSInvalidMFA},
		{"other owner", "Bob", totp.Code(seed, t1.Add(totp.Step)), t1.Add(totp.Step), apierr.AccessDenied, msgSTSInvalidMFA},
		{"root is not the owner", "", totp.Code(seed, t1.Add(totp.Step)), t1.Add(totp.Step), apierr.AccessDenied, msgSTSInvalidMFA},
		// The replay above, this malformed code and three wrong codes make
		// five failures within the window; other owners' tries do not count.
		{"malformed", "Alice", "12345", t1, apierr.AccessDenied, msgSTSInvalidMFA},
		{"wrong 1", "Alice", wrong(t1), t1, apierr.AccessDenied, msgSTSInvalidMFA},
		{"wrong 2", "Alice", wrong(t1), t1.Add(time.Second), apierr.AccessDenied, msgSTSInvalidMFA},
		{"wrong 3", "Alice", wrong(t1), t1.Add(2 * time.Second), apierr.AccessDenied, msgSTSInvalidMFA},
		{"right code during lockout", "Alice", totp.Code(seed, t1.Add(4*time.Minute)), t1.Add(4 * time.Minute), apierr.AccessDenied, msgSTSTooManyMFA},
		{"still locked just before the window ends", "Alice", totp.Code(seed, t1.Add(5*time.Minute-time.Second)), t1.Add(5*time.Minute - time.Second), apierr.AccessDenied, msgSTSTooManyMFA},
		{"window over", "Alice", totp.Code(seed, t1.Add(5*time.Minute)), t1.Add(5 * time.Minute), "", ""},
		// A success resets the counter: four more failures do not lock.
		{"wrong after reset 1", "Alice", wrong(t1.Add(6 * time.Minute)), t1.Add(6 * time.Minute), apierr.AccessDenied, msgSTSInvalidMFA},
		{"wrong after reset 2", "Alice", wrong(t1.Add(6 * time.Minute)), t1.Add(6 * time.Minute), apierr.AccessDenied, msgSTSInvalidMFA},
		{"wrong after reset 3", "Alice", wrong(t1.Add(6 * time.Minute)), t1.Add(6 * time.Minute), apierr.AccessDenied, msgSTSInvalidMFA},
		{"wrong after reset 4", "Alice", wrong(t1.Add(6 * time.Minute)), t1.Add(6 * time.Minute), apierr.AccessDenied, msgSTSInvalidMFA},
		{"good after 4 failures", "Alice", totp.Code(seed, t1.Add(6*time.Minute)), t1.Add(6 * time.Minute), "", ""},
		// Failures spread over more than the window never lock.
		{"slow wrong 1", "Alice", wrong(t1.Add(7 * time.Minute)), t1.Add(7 * time.Minute), apierr.AccessDenied, msgSTSInvalidMFA},
		{"slow wrong 2", "Alice", wrong(t1.Add(8 * time.Minute)), t1.Add(8 * time.Minute), apierr.AccessDenied, msgSTSInvalidMFA},
		{"slow wrong 3", "Alice", wrong(t1.Add(9 * time.Minute)), t1.Add(9 * time.Minute), apierr.AccessDenied, msgSTSInvalidMFA},
		{"slow wrong 4", "Alice", wrong(t1.Add(10 * time.Minute)), t1.Add(10 * time.Minute), apierr.AccessDenied, msgSTSInvalidMFA},
		{"slow wrong 5 (new window)", "Alice", wrong(t1.Add(12 * time.Minute)), t1.Add(12 * time.Minute), apierr.AccessDenied, msgSTSInvalidMFA},
		{"good, not locked", "Alice", totp.Code(seed, t1.Add(12*time.Minute)), t1.Add(12 * time.Minute), "", ""},
		{"unknown serial", "Alice", "123456", t1, apierr.AccessDenied, msgSTSInvalidMFA},
	}
	for _, st := range steps {
		sn := serial
		if st.name == "unknown serial" {
			sn = arn.IAM("aws", mfaTestAccount, "mfa/nope")
		}
		err := s.VerifyMFACode(ctx, mfaTestAccount, sn, st.owner, st.code, st.at)
		if got := mfaCode(t, err); got != st.want {
			t.Fatalf("%s: code %q (%v), want %q", st.name, got, err, st.want)
		}
		var ae *apierr.Error
		if st.msg != "" && errors.As(err, &ae) && ae.Message != st.msg {
			t.Fatalf("%s: message %q, want %q", st.name, ae.Message, st.msg)
		}
	}

	// Five quick failures lock the device.
	t2 := t1.Add(20 * time.Minute)
	for i := range mfaMaxFailures {
		if err := s.VerifyMFACode(ctx, mfaTestAccount, serial, "Alice", wrong(t2), t2); mfaCode(t, err) != apierr.AccessDenied {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	err = s.VerifyMFACode(ctx, mfaTestAccount, serial, "Alice", totp.Code(seed, t2), t2)
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Message != msgSTSTooManyMFA {
		t.Fatalf("after %d failures: %v, want lockout", mfaMaxFailures, err)
	}
}

func TestMFAEnableResyncRules(t *testing.T) {
	ctx := context.Background()
	s := mfaTestService(t)
	t0 := time.Date(2025, 3, 1, 12, 0, 15, 0, time.UTC)
	c := mfaRootCall(t0)
	if _, err := s.createUser(ctx, c, map[string]any{"UserName": "carol"}); err != nil {
		t.Fatal(err)
	}
	serial, seed := mfaNewDevice(t, s, c, "carol")
	enable := func(user, c1, c2 string, at time.Time) error {
		_, err := s.enableMFADevice(ctx, mfaRootCall(at), map[string]any{"UserName": user, "SerialNumber": serial, "AuthenticationCode1": c1, "AuthenticationCode2": c2})
		return err
	}
	resync := func(c1, c2 string, at time.Time) error {
		_, err := s.resyncMFADevice(ctx, mfaRootCall(at), map[string]any{"UserName": "carol", "SerialNumber": serial, "AuthenticationCode1": c1, "AuthenticationCode2": c2})
		return err
	}
	at := func(d time.Duration) string { return totp.Code(seed, t0.Add(d)) }

	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"same code twice", func() error { return enable("carol", at(0), at(0), t0) }, "InvalidAuthenticationCode"},
		{"reversed order", func() error { return enable("carol", at(0), at(-totp.Step), t0) }, "InvalidAuthenticationCode"},
		{"no such user", func() error { return enable("nobody", at(-totp.Step), at(0), t0) }, apierr.NoSuchEntity},
		{"resync before enable", func() error { return resync(at(0), at(totp.Step), t0) }, apierr.NoSuchEntity},
		{"enable", func() error { return enable("carol", at(-totp.Step), at(0), t0) }, ""},
		{"enable again", func() error { return enable("carol", at(totp.Step), at(2*totp.Step), t0) }, apierr.EntityAlreadyExists},
		// Resync must move past the codes enable used.
		{"resync with used codes", func() error { return resync(at(-totp.Step), at(0), t0) }, "InvalidAuthenticationCode"},
		{"resync overlapping", func() error { return resync(at(0), at(totp.Step), t0.Add(totp.Step)) }, "InvalidAuthenticationCode"},
		// A phone whose clock runs 3 minutes fast.
		{"resync drifted clock", func() error { return resync(at(6*totp.Step), at(7*totp.Step), t0.Add(totp.Step)) }, ""},
	}
	for _, tt := range tests {
		if got := mfaCode(t, tt.call()); got != tt.want {
			t.Fatalf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	// After resync, codes up to the resync step are spent.
	if err := s.VerifyMFACode(ctx, mfaTestAccount, serial, "carol", at(7*totp.Step), t0.Add(7*totp.Step)); err == nil {
		t.Fatal("code used by resync accepted again")
	}
	if err := s.VerifyMFACode(ctx, mfaTestAccount, serial, "carol", at(8*totp.Step), t0.Add(8*totp.Step)); err != nil {
		t.Fatalf("next code after resync: %v", err)
	}
}

func TestMFARootDevices(t *testing.T) {
	ctx := context.Background()
	s := mfaTestService(t)
	t0 := time.Date(2025, 3, 1, 12, 0, 15, 0, time.UTC)
	c := mfaRootCall(t0)
	serial, seed := mfaNewDevice(t, s, c, "root-account-mfa-device")
	// Root enables its own device by leaving UserName out.
	_, err := s.enableMFADevice(ctx, c, map[string]any{"SerialNumber": serial, "AuthenticationCode1": totp.Code(seed, t0.Add(-totp.Step)), "AuthenticationCode2": totp.Code(seed, t0)})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s.HasMFA(ctx, mfaTestAccount, ""); err != nil || !ok {
		t.Fatalf("HasMFA(root) = %v, %v", ok, err)
	}
	out, err := s.listMFADevices(ctx, c, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	list := out["MFADevices"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["SerialNumber"] != serial {
		t.Fatalf("root ListMFADevices = %v", list)
	}
	out, err = s.listVirtualMFADevices(ctx, c, map[string]any{"AssignmentStatus": "Assigned"})
	if err != nil {
		t.Fatal(err)
	}
	v := out["VirtualMFADevices"].([]any)
	if len(v) != 1 {
		t.Fatalf("assigned devices = %v", v)
	}
	u := v[0].(map[string]any)["User"].(map[string]any)
	if u["Arn"] != "arn:aws:iam::123456789012:root" || u["UserId"] != mfaTestAccount {
		t.Fatalf("root user shape = %v", u)
	}
	t1 := t0.Add(totp.Step)
	if err := s.VerifyMFACode(ctx, mfaTestAccount, serial, "", totp.Code(seed, t1), t1); err != nil {
		t.Fatalf("root code: %v", err)
	}
	// An IAM user's name does not reach root's device.
	if err := s.VerifyMFACode(ctx, mfaTestAccount, serial, "root", totp.Code(seed, t1.Add(totp.Step)), t1.Add(totp.Step)); err == nil {
		t.Fatal("root device accepted for a user")
	}
	if _, err := s.deleteVirtualMFADevice(ctx, c, map[string]any{"SerialNumber": serial}); mfaCode(t, err) != apierr.DeleteConflict {
		t.Fatalf("delete assigned: %v", err)
	}
	if _, err := s.deactivateMFADevice(ctx, c, map[string]any{"SerialNumber": serial}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.HasMFA(ctx, mfaTestAccount, ""); ok {
		t.Fatal("root still has MFA after deactivation")
	}
	if _, err := s.deleteVirtualMFADevice(ctx, c, map[string]any{"SerialNumber": serial}); err != nil {
		t.Fatal(err)
	}
}

func TestMFAQuotaPerUser(t *testing.T) {
	ctx := context.Background()
	s := mfaTestService(t)
	t0 := time.Date(2025, 3, 1, 12, 0, 15, 0, time.UTC)
	c := mfaRootCall(t0)
	if _, err := s.createUser(ctx, c, map[string]any{"UserName": "dave"}); err != nil {
		t.Fatal(err)
	}
	for i := range maxMFAPerUser + 1 {
		serial, seed := mfaNewDevice(t, s, c, "dave-"+string(rune('a'+i)))
		_, err := s.enableMFADevice(ctx, c, map[string]any{"UserName": "dave", "SerialNumber": serial, "AuthenticationCode1": totp.Code(seed, t0.Add(-totp.Step)), "AuthenticationCode2": totp.Code(seed, t0)})
		want := ""
		if i == maxMFAPerUser {
			want = apierr.LimitExceeded
		}
		if got := mfaCode(t, err); got != want {
			t.Fatalf("device %d: %q (%v), want %q", i+1, got, err, want)
		}
	}
}
