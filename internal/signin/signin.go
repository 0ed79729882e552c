// Package signin is the console's sign-in endpoint: a small JSON API under
// /signin/api/ that checks IAM user and root passwords (with MFA), issues
// console sessions as HttpOnly cookies backed by store records every node
// can validate, throttles failed attempts, and runs the root user's
// password lifecycle (change, recovery mail, reset).
//
// Nothing here logs a password, token or MFA code; every decision is
// logged with the request id and the (claimed) principal.
package signin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/mail"
	"github.com/iamd/iamd/internal/secrets"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/service/iam"
	"github.com/iamd/iamd/internal/store"
)

// Lifetimes.
const (
	SessionLifetime = 12 * time.Hour
	// ChangeTokenLifetime bounds the step between a sign-in that needs a
	// new password and the change.
	ChangeTokenLifetime = 10 * time.Minute
	// ResetTokenLifetime is how long a root recovery link works.
	ResetTokenLifetime = time.Hour
)

// CookieName is the console session cookie.
const CookieName = "iamd-console-session"

// maxBody bounds a request body; every input here is a few short strings.
const maxBody = 64 << 10

// tokenBytes of randomness (256 bits) make sessions and one-time tokens.
const tokenBytes = 32

// Authorizer is the request authorizer (internal/authz), used for the
// iam:ChangePassword check a console password change makes.
type Authorizer interface {
	Authorize(ctx context.Context, c *service.Call, op *awsproto.Operation, in map[string]any) error
}

// Service serves /signin/. Build it with New.
type Service struct {
	Store    store.Store
	IAM      *iam.Service
	Registry service.Registry // IAM's handlers (ChangePassword, ListMFADevices)
	// CreateAccount, when set, enables sign-up (POST /signin/api/signup).
	CreateAccount func(ctx context.Context, id, email, password, name string) (*accounts.Account, error)
	Authz         Authorizer // nil: no authorization (auth off)
	Mail          mail.Sender
	Log           *slog.Logger
	Now           func() time.Time
	IDs           ids.Source
	// PublicURL is the externally reachable base URL put into recovery
	// links (never taken from the request's Host header, which a caller
	// controls).
	PublicURL string
	Limits    Limits
	// Region stamped on internal IAM calls.
	Region string

	dummyHash string // verified against for unknown identities
	bg        sync.WaitGroup
}

// New checks s, fills defaults and returns it.
func New(s *Service) (*Service, error) {
	if s.Store == nil || s.IAM == nil || s.Registry == nil || s.Mail == nil || s.Log == nil {
		return nil, errors.New("signin: Store, IAM, Registry, Mail and Log are required")
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Limits == (Limits{}) {
		s.Limits = DefaultLimits()
	}
	if s.Region == "" {
		s.Region = "us-east-1"
	}
	s.PublicURL = strings.TrimSuffix(s.PublicURL, "/")
	h, err := secrets.HashPassword(secrets.RandomToken(16))
	if err != nil {
		return nil, fmt.Errorf("signin: dummy hash: %w", err)
	}
	s.dummyHash = h
	return s, nil
}

// Wait blocks until background work (recovery mails) has finished.
func (s *Service) Wait() { s.bg.Wait() }

// request is what every handler knows about the HTTP request.
type request struct {
	id     string
	ip     netip.Addr
	secure bool
	now    time.Time
	r      *http.Request
	w      http.ResponseWriter
}

func (q *request) ctx() context.Context { return q.r.Context() }

// ServeHTTP routes /signin/api/*.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := &request{id: s.IDs.RequestID(), now: s.Now(), r: r, w: w}
	q.secure = r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			q.ip = a.Unmap()
		}
	}
	w.Header().Set("x-amzn-RequestId", q.id)
	w.Header().Set("Cache-Control", "no-store")
	type route struct {
		method string
		fn     func(*request)
	}
	routes := map[string]route{
		"/signin/api/login":           {http.MethodPost, s.login},
		"/signin/api/logout":          {http.MethodPost, s.logout},
		"/signin/api/session":         {http.MethodGet, s.session},
		"/signin/api/password":        {http.MethodPost, s.changeUserPassword},
		"/signin/api/root/password":   {http.MethodPost, s.changeRootPassword},
		"/signin/api/root/forgot":     {http.MethodPost, s.forgot},
		"/signin/api/root/reset":      {http.MethodPost, s.reset},
		"/signin/api/signup":          {http.MethodPost, s.signup},
		"/signin/api/root/mfa/create": {http.MethodPost, s.createRootMFA},
		"/signin/api/root/mfa/enable": {http.MethodPost, s.enableRootMFA},
	}
	rt, ok := routes[r.URL.Path]
	switch {
	case !ok:
		s.fail(q, http.StatusNotFound, "NotFound", "No such sign-in endpoint.")
	case r.Method != rt.method:
		w.Header().Set("Allow", rt.method)
		s.fail(q, http.StatusMethodNotAllowed, "MethodNotAllowed", "Use "+rt.method+".")
	case r.Method == http.MethodPost && !isJSON(r):
		// Requiring JSON keeps cross-site HTML forms out: a browser cannot
		// send application/json cross-origin without a CORS preflight,
		// which this API never grants.
		s.fail(q, http.StatusUnsupportedMediaType, "UnsupportedMediaType", "Send application/json.")
	default:
		rt.fn(q)
	}
}

func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// decode reads the JSON body into v; false (after answering) when it is
// not valid.
func (s *Service) decode(q *request, v any) bool {
	body := http.MaxBytesReader(q.w, q.r.Body, maxBody)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		s.fail(q, http.StatusBadRequest, "InvalidRequest", "The request body is not valid JSON.")
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		s.fail(q, http.StatusBadRequest, "InvalidRequest", "The request body holds more than one JSON value.")
		return false
	}
	return true
}

// reply writes a JSON answer.
func (s *Service) reply(q *request, status int, v any) {
	q.w.Header().Set("Content-Type", "application/json")
	q.w.WriteHeader(status)
	if err := json.NewEncoder(q.w).Encode(v); err != nil {
		s.Log.DebugContext(q.ctx(), "signin: write response", "request_id", q.id, "err", err)
	}
}

// errorBody is every error answer.
type errorBody struct {
	Error      string `json:"error"`
	Message    string `json:"message"`
	RequestID  string `json:"requestId"`
	RetryAfter int    `json:"retryAfterSeconds,omitempty"`
}

func (s *Service) fail(q *request, status int, code, msg string) {
	s.reply(q, status, errorBody{Error: code, Message: msg, RequestID: q.id})
}

// internal answers an unexpected error: logged with the request id, never
// detailed to the caller.
func (s *Service) internal(q *request, event string, err error) {
	s.Log.ErrorContext(q.ctx(), "signin: internal error", "request_id", q.id, "event", event, "err", err)
	s.fail(q, http.StatusInternalServerError, "InternalFailure", "An internal error occurred. Request id "+q.id+".")
}

// throttled answers 429 with Retry-After.
func (s *Service) throttled(q *request, wait time.Duration) {
	secs := int((wait + time.Second - 1) / time.Second)
	q.w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.reply(q, http.StatusTooManyRequests, errorBody{
		Error: "Throttling", Message: "Too many failed sign-in attempts. Wait and try again.", RequestID: q.id, RetryAfter: secs,
	})
}

// logDecision records one decision. Fields never include secrets: callers
// pass identities and outcomes only.
func (s *Service) logDecision(q *request, event, outcome, principal string, attrs ...any) {
	level := slog.LevelInfo
	if outcome != "success" && outcome != "mfa_required" && outcome != "password_change_required" && outcome != "accepted" {
		level = slog.LevelWarn
	}
	args := append([]any{"request_id", q.id, "event", event, "outcome", outcome, "principal", principal, "source_ip", q.ip.String()}, attrs...)
	s.Log.Log(q.ctx(), level, "signin", args...)
}
