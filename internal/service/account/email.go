package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"time"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/mail"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// otpLifetime is how long a primary email update code is valid.
const otpLifetime = 24 * time.Hour

// otpAlphabet: the model's Otp is six letters or digits; iamd sends
// upper-case letters and digits without look-alikes.
const otpAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// emailUpdate is a pending primary email change of a member account.
type emailUpdate struct {
	Email   string    `json:"email"`
	OTP     string    `json:"otp"`
	Expires time.Time `json:"expires"`
}

func newOTP() (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = otpAlphabet[int(b[i])%len(otpAlphabet)]
	}
	return string(b), nil
}

// startPrimaryEmailUpdate sends a one-time code to the new address of a
// member account's root user
// (https://docs.aws.amazon.com/accounts/latest/reference/API_StartPrimaryEmailUpdate.html).
func (s *Service) startPrimaryEmailUpdate(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	email := awsproto.Str(in, "PrimaryEmail")
	if err := accounts.ValidEmail(email); err != nil {
		return nil, validation("The primary email address %s is not valid.", email)
	}
	otp, err := newOTP()
	if err != nil {
		return nil, err
	}
	var id string
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		if id, err = target(ctx, tx, c, in, true); err != nil {
			return err
		}
		if _, err := accounts.ByEmail(ctx, tx, email); err == nil {
			return conflict("The email address %s is already in use by another AWS account.", email)
		}
		return putDoc(ctx, tx, id, kindEmail, "pending", emailUpdate{Email: email, OTP: otp, Expires: c.Now.Add(otpLifetime)}, now(c))
	})
	if err != nil {
		return nil, err
	}
	msg := &mail.Message{
		To:      []string{email},
		Subject: "Verify the new root email address of AWS account " + id,
		Body:    "Your verification code for changing the root user email address of account " + id + " is:\n\n    " + otp + "\n\nIt expires in 24 hours. If you did not expect this message, ignore it.\n",
	}
	if s.Mail != nil {
		if err := s.Mail.Send(ctx, msg); err != nil {
			return nil, err
		}
	} else if s.Log != nil {
		// No mail configured: the operator relays the code.
		s.Log.WarnContext(ctx, "no mail sender configured: primary email update code for account "+id+" is written here", "account", id, "new_email", email, "otp", otp)
	}
	return map[string]any{"Status": "PENDING"}, nil
}

func (s *Service) acceptPrimaryEmailUpdate(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	email, otp := awsproto.Str(in, "PrimaryEmail"), awsproto.Str(in, "Otp")
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		id, err := target(ctx, tx, c, in, true)
		if err != nil {
			return err
		}
		u, _, err := getDoc[emailUpdate](ctx, tx, id, kindEmail, "pending")
		if errors.Is(err, store.ErrNotFound) {
			return notFound("There is no pending primary email update for account %s.", id)
		}
		if err != nil {
			return err
		}
		if u.Email != email || !c.Now.Before(u.Expires) || subtle.ConstantTimeCompare([]byte(u.OTP), []byte(otp)) != 1 {
			return validation("The one-time password is invalid or expired, or does not match the requested primary email.")
		}
		a, err := getAccountInfo(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := accounts.ChangeEmail(ctx, tx, a, email); err != nil {
			var ae *apierr.Error
			if errors.As(err, &ae) && ae.Code == apierr.EntityAlreadyExists {
				return conflict("The email address %s is already in use by another AWS account.", email)
			}
			return err
		}
		return tx.Delete(ctx, id, kindEmail, "pending")
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"Status": "ACCEPTED"}, nil
}

func (s *Service) getPrimaryEmail(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	id, err := target(ctx, s.Store, c, in, true)
	if err != nil {
		return nil, err
	}
	a, err := getAccountInfo(ctx, s.Store, id)
	if err != nil {
		return nil, err
	}
	return map[string]any{"PrimaryEmail": a.Email}, nil
}
