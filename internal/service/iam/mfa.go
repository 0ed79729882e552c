package iam

import (
	"context"
	"crypto/rand"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
	"github.com/iamd/iamd/internal/totp"
)

// MFADevice is a stored virtual MFA device (kind mfa). Record key: the
// lower-cased path+name (the serial's resource after "mfa"); Parent: the
// owner's user key, or rootOwner, while assigned and "" while not; Ref:
// mfaAssignedRef while assigned, so ListVirtualMFADevices can select either
// status through an index.
type MFADevice struct {
	Name    string    `json:"name"`
	Path    string    `json:"path"`
	Serial  string    `json:"serial"`
	Created time.Time `json:"created"`
	// Sealed is the TOTP seed sealed with the keyring, bound to the serial.
	Sealed []byte `json:"sealed"`
	// Enabled is the EnableDate; zero while unassigned.
	Enabled time.Time `json:"enabled,omitzero"`
	// LastStep is the last TOTP step accepted (enable, resync or sign-in):
	// codes at or before it are refused, so no code works twice.
	LastStep int64 `json:"lastStep"`
	// Failures counts consecutive wrong codes in VerifyMFACode since
	// FailStart; both live in the store so every node sees them.
	Failures  int       `json:"failures,omitempty"`
	FailStart time.Time `json:"failStart,omitzero"`
	Tags      []Tag     `json:"tags,omitempty"`
}

const (
	// mfaAssignedRef marks assigned devices in the Ref index.
	mfaAssignedRef = "assigned"
	// maxMFAPerUser is IAM's quota of MFA devices per user (root included).
	maxMFAPerUser = 8
	// maxVirtualMFA: AWS sets the virtual MFA device quota equal to the
	// user quota of the account ("IAM and AWS STS quotas").
	maxVirtualMFA = maxUsers
	// mfaMaxFailures wrong codes within mfaFailWindow lock a device for the
	// rest of the window, so a six-digit code cannot be brute-forced.
	mfaMaxFailures = 5
	mfaFailWindow  = 5 * time.Minute
)

// Messages IAM and STS use.
const (
	msgMFAInUse       = "MFA Device is already in use."
	msgInvalidMFACode = "Authentication code for device is not valid."
	// STS's wording when a session request carries a wrong TokenCode.
	msgSTSInvalidMFA = "MultiFactorAuthentication failed with invalid MFA one time pass code."
	// AWS does not document its lockout wording; this follows STS's style.
	msgSTSTooManyMFA = "MultiFactorAuthentication failed, too many attempts. Try again later."
)

func (s *Service) mfaHandlers(m map[string]service.Handler) {
	m["CreateVirtualMFADevice"] = s.createVirtualMFADevice
	m["EnableMFADevice"] = s.enableMFADevice
	m["DeactivateMFADevice"] = s.deactivateMFADevice
	m["DeleteVirtualMFADevice"] = s.deleteVirtualMFADevice
	m["ResyncMFADevice"] = s.resyncMFADevice
	m["GetMFADevice"] = s.getMFADevice
	m["ListMFADevices"] = s.listMFADevices
	m["ListVirtualMFADevices"] = s.listVirtualMFADevices
}

func (d *MFADevice) seedAD() []byte { return []byte("mfa:" + d.Serial) }

func (d *MFADevice) seed(s *Service) ([]byte, error) {
	return s.Keys.Open(d.Sealed, d.seedAD())
}

// mfaKey maps a serial number of this account to the device's record key;
// ok is false for anything that cannot be one of our virtual devices
// (another account, a hardware token's serial...).
func mfaKey(account, serial string) (string, bool) {
	a, err := arn.Parse(serial)
	if err != nil || a.Service != "iam" || a.Account != account || !strings.HasPrefix(a.Resource, "mfa/") {
		return "", false
	}
	return key(a.Resource[len("mfa"):]), true
}

func mfaNotFound(serial string) error {
	return apierr.New(apierr.NoSuchEntity, "VirtualMFADevice with serial number %s doesn't exist.", serial)
}

// loadMFA reads the device with serial in account.
func loadMFA(ctx context.Context, r store.Reader, account, serial string) (*MFADevice, store.Record, error) {
	k, ok := mfaKey(account, serial)
	if !ok {
		return nil, store.Record{}, mfaNotFound(serial)
	}
	d, rec, err := get[MFADevice](ctx, r, account, kindMFA, k)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !strings.EqualFold(d.Serial, serial)) {
		return nil, rec, mfaNotFound(serial)
	}
	return d, rec, err
}

// loadOwnedMFA reads a device that must be assigned to parent (a user key or
// rootOwner); userName names the owner in the error.
func loadOwnedMFA(ctx context.Context, r store.Reader, account, serial, parent, userName string) (*MFADevice, store.Record, error) {
	d, rec, err := loadMFA(ctx, r, account, serial)
	if err != nil {
		return nil, rec, err
	}
	if rec.Parent != parent {
		if userName == "" {
			return nil, rec, apierr.New(apierr.NoSuchEntity, "MFA Device with serial number %s does not exist for the root user.", serial)
		}
		return nil, rec, apierr.New(apierr.NoSuchEntity, "MFA Device with serial number %s does not exist for user %s.", serial, userName)
	}
	return d, rec, nil
}

func (s *Service) createVirtualMFADevice(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	name := awsproto.Str(in, "VirtualMFADeviceName")
	path := pathOr(in)
	tags, err := tagsIn(in)
	if err != nil {
		return nil, err
	}
	seed, err := totp.GenerateSeed(rand.Reader)
	if err != nil {
		return nil, err
	}
	d := &MFADevice{
		Name: name, Path: path, Serial: arn.IAM(c.Partition, c.Account, "mfa"+path+name),
		Created: now(c), LastStep: math.MinInt64, Tags: tags,
	}
	if d.Sealed, err = s.Keys.Seal(seed, d.seedAD()); err != nil {
		return nil, err
	}
	// Unassigned, the otpauth label's account part is the account id
	// (API_VirtualMFADevice: "AccountName is the user name if set,
	// otherwise the account ID").
	png, err := totp.QRCodePNG(totp.URI(c.Account, name, seed))
	if err != nil {
		return nil, err
	}
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		if err := checkQuota(ctx, tx, store.ListQuery{Account: c.Account, Kind: kindMFA}, maxVirtualMFA, apierr.Limit("Cannot exceed quota for VirtualMFADevicesPerAccount: %d.", maxVirtualMFA)); err != nil {
			return err
		}
		err = tx.Insert(ctx, store.Record{
			Account: c.Account, Kind: kindMFA, Key: key(path + name), ID: s.IDs.Unique(ids.MFADevice),
			Path: path, Data: encode(d), Created: d.Created,
		})
		if errors.Is(err, store.ErrConflict) {
			return apierr.New(apierr.EntityAlreadyExists, "MFADevice entity at the same path and name already exists.")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"SerialNumber": d.Serial,
		// The API's blob is the Base32 text; the codec base64-wraps blobs.
		"Base32StringSeed": []byte(totp.Base32(seed)),
		"QRCodePNG":        png,
	}
	withTags(out, tags)
	return map[string]any{"VirtualMFADevice": out}, nil
}

// mfaOwner resolves the owner an MFA call is about, as keyOwner does for
// access keys, and returns the owner's Parent value.
func mfaOwner(ctx context.Context, r store.Reader, c *service.Call, in map[string]any) (parent, userName string, err error) {
	user, root, err := keyOwner(c, in)
	if err != nil {
		return "", "", err
	}
	parent, err = ownerParent(ctx, r, c, user, root)
	return parent, user, err
}

func (s *Service) enableMFADevice(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	serial := awsproto.Str(in, "SerialNumber")
	code1, code2 := awsproto.Str(in, "AuthenticationCode1"), awsproto.Str(in, "AuthenticationCode2")
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		parent, _, err := mfaOwner(ctx, tx, c, in)
		if err != nil {
			return err
		}
		d, rec, err := loadMFA(ctx, tx, c.Account, serial)
		if err != nil {
			return err
		}
		if rec.Parent != "" {
			return apierr.New(apierr.EntityAlreadyExists, msgMFAInUse)
		}
		if err := checkQuota(ctx, tx, byParent(c.Account, kindMFA, parent), maxMFAPerUser, apierr.Limit("Cannot exceed quota for MFADevicesPerUser: %d.", maxMFAPerUser)); err != nil {
			return err
		}
		step, err := s.mfaConsecutive(d, code1, code2, c.Now)
		if err != nil {
			return err
		}
		d.LastStep, d.Enabled = step, now(c)
		d.Failures, d.FailStart = 0, time.Time{}
		rec.Parent, rec.Ref = parent, mfaAssignedRef
		rec.Data, rec.Updated = encode(d), now(c)
		return tx.Update(ctx, rec)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// mfaConsecutive checks two consecutive codes and returns the step of the
// second. The first code's step must be newer than any code already
// accepted, so enable and resync never take a used code again.
func (s *Service) mfaConsecutive(d *MFADevice, code1, code2 string, at time.Time) (int64, error) {
	seed, err := d.seed(s)
	if err != nil {
		return 0, err
	}
	step, ok := totp.VerifyConsecutive(seed, code1, code2, at)
	if !ok || step-1 <= d.LastStep {
		return 0, apierr.New("InvalidAuthenticationCode", msgInvalidMFACode)
	}
	return step, nil
}

func (s *Service) resyncMFADevice(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	code1, code2 := awsproto.Str(in, "AuthenticationCode1"), awsproto.Str(in, "AuthenticationCode2")
	_, err := modify(ctx, s.Store, c, in, ownedMFAIn, func(_ store.Tx, d *MFADevice) error {
		step, err := s.mfaConsecutive(d, code1, code2, c.Now)
		if err != nil {
			return err
		}
		// A successful resync proves possession: it also clears a lockout.
		d.LastStep, d.Failures, d.FailStart = step, 0, time.Time{}
		return nil
	})
	return map[string]any{}, err
}

// ownedMFAIn is the loader of the device a request's SerialNumber names,
// which must be assigned to the owner keyOwner finds.
func ownedMFAIn(ctx context.Context, r store.Reader, c *service.Call, in map[string]any) (*MFADevice, store.Record, error) {
	parent, user, err := mfaOwner(ctx, r, c, in)
	if err != nil {
		return nil, store.Record{}, err
	}
	return loadOwnedMFA(ctx, r, c.Account, awsproto.Str(in, "SerialNumber"), parent, user)
}

func (s *Service) deactivateMFADevice(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		d, rec, err := ownedMFAIn(ctx, tx, c, in)
		if err != nil {
			return err
		}
		// The device returns to the unassigned pool; LastStep is kept so
		// codes used before can never enable it again.
		d.Enabled, d.Failures, d.FailStart = time.Time{}, 0, time.Time{}
		rec.Parent, rec.Ref = "", ""
		rec.Data, rec.Updated = encode(d), now(c)
		return tx.Update(ctx, rec)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) deleteVirtualMFADevice(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	serial := awsproto.Str(in, "SerialNumber")
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		_, rec, err := loadMFA(ctx, tx, c.Account, serial)
		if err != nil {
			return err
		}
		if rec.Parent != "" {
			return apierr.New(apierr.DeleteConflict, msgMFAInUse)
		}
		return tx.Delete(ctx, rec.Account, rec.Kind, rec.Key)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// mfaUserName returns the name of the user whose key is parent ("" for
// root), read from the user record so renames show.
func mfaUserName(ctx context.Context, r store.Reader, account, parent string) (*User, error) {
	u, _, err := get[User](ctx, r, account, kindUser, parent)
	return u, err
}

// GetMFADevice describes an assigned device. Certifications only exist for
// FIDO security keys, so virtual devices never have them. An unassigned
// device belongs to no user and is answered NoSuchEntity.
func (s *Service) getMFADevice(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	serial := awsproto.Str(in, "SerialNumber")
	var (
		d   *MFADevice
		rec store.Record
		err error
	)
	if awsproto.Str(in, "UserName") != "" {
		var parent, user string
		if parent, user, err = mfaOwner(ctx, s.Store, c, in); err != nil {
			return nil, err
		}
		d, rec, err = loadOwnedMFA(ctx, s.Store, c.Account, serial, parent, user)
	} else {
		d, rec, err = loadMFA(ctx, s.Store, c.Account, serial)
		if err == nil && rec.Parent == "" {
			err = apierr.New(apierr.NoSuchEntity, "MFA Device with serial number %s is not assigned to any user.", serial)
		}
	}
	if err != nil {
		return nil, err
	}
	out := map[string]any{"SerialNumber": d.Serial, "EnableDate": d.Enabled}
	if rec.Parent != rootOwner {
		u, err := mfaUserName(ctx, s.Store, c.Account, rec.Parent)
		if err != nil {
			return nil, err
		}
		out["UserName"] = u.Name
	}
	return out, nil
}

func (s *Service) listMFADevices(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	parent, user, err := mfaOwner(ctx, s.Store, c, in)
	if err != nil {
		return nil, err
	}
	if parent != rootOwner {
		// The user's current spelling of the name, not the one given.
		u, err := mfaUserName(ctx, s.Store, c.Account, parent)
		if err != nil {
			return nil, err
		}
		user = u.Name
	}
	return listOut(ctx, s.Store, byParent(c.Account, kindMFA, parent), in, "MFADevices", func(d *MFADevice) any {
		m := map[string]any{"SerialNumber": d.Serial, "EnableDate": d.Enabled}
		// Root has no user name; as for root's access keys, it is left out.
		if user != "" {
			m["UserName"] = user
		}
		return m
	})
}

func (s *Service) listVirtualMFADevices(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	q := store.ListQuery{Account: c.Account, Kind: kindMFA}
	switch awsproto.Str(in, "AssignmentStatus") {
	case "Assigned":
		ref := mfaAssignedRef
		q.Ref = &ref
	case "Unassigned":
		none := ""
		q.Parent = &none
	}
	p, err := listPage(ctx, s.Store, q, in)
	if err != nil {
		return nil, err
	}
	var acctCreated time.Time // read once, only if a root device is listed
	list := make([]any, 0, len(p.recs))
	for _, rec := range p.recs {
		d, err := decode[MFADevice](rec)
		if err != nil {
			return nil, err
		}
		m := map[string]any{"SerialNumber": d.Serial}
		switch rec.Parent {
		case "":
		case rootOwner:
			if acctCreated.IsZero() {
				acct, err := s.account(ctx, c.Account)
				if err != nil {
					return nil, err
				}
				acctCreated = acct.Created
			}
			// Root as IAM describes it without UserName (see getUser).
			m["User"] = map[string]any{"UserId": c.Account, "Arn": arn.IAM(c.Partition, c.Account, "root"), "CreateDate": acctCreated, "Path": "/"}
			m["EnableDate"] = d.Enabled
		default:
			u, err := mfaUserName(ctx, s.Store, c.Account, rec.Parent)
			if err != nil {
				return nil, err
			}
			um := u.out(false)
			delete(um, "PermissionsBoundary")
			m["User"], m["EnableDate"] = um, d.Enabled
		}
		withTags(m, d.Tags)
		list = append(list, m)
	}
	return p.out(map[string]any{"VirtualMFADevices": list}), nil
}

// mfaOwnerParent is the Parent of ownerUserName's devices ("" → root).
func mfaOwnerParent(ownerUserName string) string {
	if ownerUserName == "" {
		return rootOwner
	}
	return key(ownerUserName)
}

// VerifyMFACode checks a TOTP code from the device serialNumber of
// ownerUserName ("" for the account's root user) in account, for STS's
// TokenCode and console sign-in. The device must exist and be assigned to
// that owner. A code is accepted at most once: the matched step is stored
// in the same transaction. After mfaMaxFailures consecutive wrong codes
// within mfaFailWindow the device refuses every code for the rest of that
// window; the counter lives in the device record so all nodes share it.
// Errors are AccessDenied with STS's wording; nothing tells a caller
// whether the device or the code was wrong.
func (s *Service) VerifyMFACode(ctx context.Context, account, serialNumber, ownerUserName, code string, now time.Time) error {
	var refused error
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		d, rec, err := loadMFA(ctx, tx, account, serialNumber)
		var ae *apierr.Error
		if errors.As(err, &ae) && ae.Code == apierr.NoSuchEntity {
			refused = apierr.New(apierr.AccessDenied, msgSTSInvalidMFA)
			return nil
		}
		if err != nil {
			return err
		}
		if rec.Parent == "" || rec.Parent != mfaOwnerParent(ownerUserName) {
			refused = apierr.New(apierr.AccessDenied, msgSTSInvalidMFA)
			return nil
		}
		locked := d.Failures >= mfaMaxFailures && now.Sub(d.FailStart) < mfaFailWindow
		if locked {
			// Not counted: the window ends when it started to end.
			refused = apierr.New(apierr.AccessDenied, msgSTSTooManyMFA)
			return nil
		}
		seed, err := d.seed(s)
		if err != nil {
			return err
		}
		if step, ok := totp.Verify(seed, code, now, d.LastStep); ok {
			d.LastStep, d.Failures, d.FailStart = step, 0, time.Time{}
		} else {
			if d.Failures == 0 || now.Sub(d.FailStart) >= mfaFailWindow {
				d.Failures, d.FailStart = 0, now
			}
			d.Failures++
			refused = apierr.New(apierr.AccessDenied, msgSTSInvalidMFA)
		}
		// The failure count must be stored too, so the transaction commits
		// either way and the refusal is returned after it.
		rec.Data = encode(d)
		return tx.Update(ctx, rec)
	})
	if err != nil {
		return err
	}
	return refused
}

// HasMFA reports whether ownerUserName ("" for root) has an MFA device
// assigned in account.
func (s *Service) HasMFA(ctx context.Context, account, ownerUserName string) (bool, error) {
	parent := mfaOwnerParent(ownerUserName)
	n, err := s.Store.Count(ctx, byParent(account, kindMFA, parent))
	return n > 0, err
}
