package signin

import (
	"net/http"
	"strings"
)

// Sign-up: an email address and a password create an account and its root
// user, as AWS's sign-up does. Disabled unless the operator enables it
// (--signup): on a self-hosted plane, open registration is a choice.

type signupRequest struct {
	Email       string `json:"email"`
	Password    string `json:"password"`
	AccountName string `json:"accountName"`
}

func (s *Service) signup(q *request) {
	if s.CreateAccount == nil {
		s.fail(q, http.StatusForbidden, "SignupDisabled", "Sign-up is not enabled on this server (iamd serve --signup).")
		return
	}
	var in signupRequest
	if !s.decode(q, &in) {
		return
	}
	ctx := q.ctx()
	// Sign-up attempts share the source address's throttle with sign-in.
	if wait, err := s.lockedOut(ctx, q, "signup|"+strings.ToLower(in.Email)); err != nil {
		s.internal(q, "signup", err)
		return
	} else if wait > 0 {
		s.throttled(q, wait)
		return
	}
	name := in.AccountName
	if name == "" {
		name, _, _ = strings.Cut(in.Email, "@")
	}
	if err := CheckRootPassword(in.Password, in.Email, name); err != nil {
		s.fail(q, http.StatusBadRequest, apiCode(err), apiMessage(err))
		return
	}
	acct, err := s.CreateAccount(ctx, "", in.Email, in.Password, name)
	switch {
	case isAPIError(err) && apiCode(err) == "EntityAlreadyExists":
		// Said plainly, as AWS's sign-up does: the address is taken.
		s.fail(q, http.StatusConflict, "EmailAlreadyInUse", "An account with this email address already exists.")
		return
	case isAPIError(err):
		s.fail(q, http.StatusBadRequest, apiCode(err), apiMessage(err))
		return
	case err != nil:
		s.internal(q, "signup", err)
		return
	}
	s.logDecision(q, "signup", "success", "arn:"+acct.Partition+":iam::"+acct.ID+":root")
	s.reply(q, http.StatusOK, map[string]any{"accountId": acct.ID, "rootUserArn": "arn:" + acct.Partition + ":iam::" + acct.ID + ":root"})
}
