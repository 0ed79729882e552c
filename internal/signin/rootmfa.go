package signin

import (
	"errors"
	"net/http"

	"github.com/iamd/iamd/internal/accounts"
)

// Root MFA enrollment. AWS's IAM API cannot enable a device for the root
// user (EnableMFADevice requires UserName); root assigns its MFA device in
// the console
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/enable-virt-mfa-for-root.html).
// These endpoints are that console step: a signed-in root session creates a
// virtual device and enables it with two consecutive codes, through IAM's
// own handlers acting as root. Without them, --require-root-mfa would lock
// root out.

type rootMFACreateRequest struct {
	VirtualMFADeviceName string `json:"virtualMFADeviceName"`
}

type rootMFAEnableRequest struct {
	SerialNumber        string `json:"serialNumber"`
	AuthenticationCode1 string `json:"authenticationCode1"`
	AuthenticationCode2 string `json:"authenticationCode2"`
}

// rootIdentity returns the signed-in root user's identity, or answers the
// request itself and returns nil.
func (s *Service) rootIdentity(q *request, event string) *identity {
	ctx := q.ctx()
	p, _, _, err := s.sessionOf(ctx, q.r, q.now)
	if errors.Is(err, ErrNoSession) {
		s.fail(q, http.StatusUnauthorized, "NotSignedIn", "No valid console session.")
		return nil
	}
	if err != nil {
		s.internal(q, event, err)
		return nil
	}
	if !p.IsRoot() {
		s.fail(q, http.StatusForbidden, "AccessDenied", "Only the root user can manage the root user's MFA devices.")
		return nil
	}
	acct, err := accounts.Get(ctx, s.Store, p.Account)
	if err != nil {
		s.internal(q, event, err)
		return nil
	}
	return &identity{acct: acct}
}

// invokeAsRoot runs an IAM operation as the root user and answers its
// result (or its AWS error) as JSON.
func (s *Service) invokeAsRoot(q *request, id *identity, event, op string, in map[string]any) (map[string]any, bool) {
	h := s.Registry.Lookup("iam", op)
	if h == nil {
		s.internal(q, event, errors.New("iam:"+op+" is not registered"))
		return nil, false
	}
	out, err := h(q.ctx(), s.call(q, id, op), in)
	switch {
	case isAPIError(err):
		s.logDecision(q, event, "refused", id.arn(), "code", apiCode(err))
		s.fail(q, http.StatusBadRequest, apiCode(err), apiMessage(err))
		return nil, false
	case err != nil:
		s.internal(q, event, err)
		return nil, false
	}
	return out, true
}

func (s *Service) createRootMFA(q *request) {
	var in rootMFACreateRequest
	if !s.decode(q, &in) {
		return
	}
	id := s.rootIdentity(q, "root_mfa_create")
	if id == nil {
		return
	}
	name := in.VirtualMFADeviceName
	if name == "" {
		name = "root-account-mfa-device"
	}
	out, ok := s.invokeAsRoot(q, id, "root_mfa_create", "CreateVirtualMFADevice", map[string]any{"VirtualMFADeviceName": name})
	if !ok {
		return
	}
	dev, _ := out["VirtualMFADevice"].(map[string]any)
	s.logDecision(q, "root_mfa_create", "success", id.arn())
	// Seed and QR code go to the signed-in root user only, once, as the
	// console shows them; they are never logged.
	s.reply(q, http.StatusOK, map[string]any{
		"serialNumber":     dev["SerialNumber"],
		"base32StringSeed": string(asBytes(dev["Base32StringSeed"])),
		"qrCodePNG":        dev["QRCodePNG"], // []byte: base64 in JSON
	})
}

func (s *Service) enableRootMFA(q *request) {
	var in rootMFAEnableRequest
	if !s.decode(q, &in) {
		return
	}
	id := s.rootIdentity(q, "root_mfa_enable")
	if id == nil {
		return
	}
	// No UserName: IAM's handler acts on the root user's own devices when
	// root calls without one.
	_, ok := s.invokeAsRoot(q, id, "root_mfa_enable", "EnableMFADevice", map[string]any{
		"SerialNumber": in.SerialNumber, "AuthenticationCode1": in.AuthenticationCode1, "AuthenticationCode2": in.AuthenticationCode2,
	})
	if !ok {
		return
	}
	s.logDecision(q, "root_mfa_enable", "success", id.arn())
	s.reply(q, http.StatusOK, map[string]any{"mfaEnabled": true, "serialNumber": in.SerialNumber})
}

func asBytes(v any) []byte {
	switch b := v.(type) {
	case []byte:
		return b
	case string:
		return []byte(b)
	}
	return nil
}
