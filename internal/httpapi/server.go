// Package httpapi is iamd's edge: every AWS call takes one path through it,
// in this order: route → decode → authenticate → authorize → operation →
// encode. It is the only place that knows HTTP, and the one place where
// errors become AWS error responses.
package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/sigv4"
)

// maxBody bounds a request body; IAM's largest inputs (policy documents,
// SAML metadata) are far below it.
const maxBody = 4 << 20

// Authenticator turns a signed request into a principal.
type Authenticator interface {
	// Authenticate verifies a's signature over req (or, in test mode, may
	// accept it unverified) and returns the calling principal.
	Authenticate(ctx context.Context, req *sigv4.Request, a *sigv4.Auth, now time.Time) (*principal.Principal, error)
}

// Authorizer decides whether a call may run.
type Authorizer interface {
	Authorize(ctx context.Context, c *service.Call, op *awsproto.Operation, in map[string]any) error
}

// Server serves the AWS APIs and iamd's own endpoints on one handler.
type Server struct {
	Registry service.Registry
	Authn    Authenticator
	Authz    Authorizer // nil: every authenticated call is allowed
	Log      *slog.Logger
	Now      func() time.Time
	IDs      ids.Source
	// Reset, when set, serves POST /moto-api/reset (test mode only).
	Reset func(ctx context.Context) error
	// Extra routes (console, health details) mounted beside the AWS APIs.
	Extra map[string]http.Handler
}

// unsignedOps are the operations AWS serves without a signature.
var unsignedOps = map[string]bool{
	"sts.AssumeRoleWithSAML":        true,
	"sts.AssumeRoleWithWebIdentity": true,
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/healthz" || r.URL.Path == "/health":
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`+"\n")
		return
	case r.URL.Path == "/moto-api/reset" && s.Reset != nil:
		s.serveReset(w, r)
		return
	}
	for prefix, h := range s.Extra {
		if strings.HasPrefix(r.URL.Path, prefix) {
			h.ServeHTTP(w, r)
			return
		}
	}
	s.serveAWS(w, r)
}

func (s *Server) serveReset(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := s.Reset(r.Context()); err != nil {
		s.Log.ErrorContext(r.Context(), "reset failed", "err", err)
		http.Error(w, `{"status":"error"}`, http.StatusInternalServerError)
		return
	}
	s.Log.InfoContext(r.Context(), "state reset to bootstrap")
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"status":"ok"}`+"\n")
}

// call is the state of one AWS request as it passes the edge.
type call struct {
	svc   *awsproto.Service
	op    *awsproto.Operation
	c     service.Call
	start time.Time
}

// requestIDHeader is x-amzn-RequestId in canonical form, set directly so
// no request canonicalizes it again.
const requestIDHeader = "X-Amzn-Requestid"

func (s *Server) serveAWS(w http.ResponseWriter, r *http.Request) {
	start := s.Now()
	cl := &call{start: start}
	cl.c.RequestID = s.IDs.RequestID()
	cl.c.Now = start
	cl.c.UserAgent = r.UserAgent()
	cl.c.Secure = r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		cl.c.SourceIP, _ = netip.ParseAddr(host)
		cl.c.SourceIP = cl.c.SourceIP.Unmap()
	}
	w.Header()[requestIDHeader] = []string{cl.c.RequestID}

	status, err := s.handle(r, w, cl)
	if err != nil {
		status = s.writeError(w, r, cl, err)
	}
	s.logRequest(r.Context(), cl, status, err)
}

// logRequest writes the access-log line. Attributes are typed (no boxing)
// and built only when the line will be written.
func (s *Server) logRequest(ctx context.Context, cl *call, status int, err error) {
	if !s.Log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	var buf [7]slog.Attr
	attrs := append(buf[:0], slog.String("request_id", cl.c.RequestID), slog.Int("status", status), slog.Duration("duration", s.Now().Sub(cl.start)))
	if cl.op != nil {
		attrs = append(attrs, slog.String("service", cl.svc.Name), slog.String("operation", cl.op.Name))
	}
	if p := cl.c.Principal; p != nil {
		attrs = append(attrs, slog.String("principal", p.ARN))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", errorCode(err)))
	}
	s.Log.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
}

// handle runs one AWS call and writes the success response. It returns the
// HTTP status written, or an error for writeError.
func (s *Server) handle(r *http.Request, w http.ResponseWriter, cl *call) (int, error) {
	ctx := r.Context()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return 0, apierr.New("MalformedInput", "could not read the request body")
	}
	if len(body) > maxBody {
		return 0, &apierr.Error{Code: "RequestEntityTooLarge", Message: "Request body too large.", Status: http.StatusRequestEntityTooLarge}
	}
	sreq := sigv4.NewRequest(r, payloadHash(body))
	auth, authErr := sigv4.Parse(sreq)

	// Route: the service is the one the request was signed for; unsigned
	// requests are routed by X-Amz-Target or Action.
	var form url.Values
	scopeService := ""
	if auth != nil {
		scopeService = auth.Service
		cl.c.Region = auth.Region
	}
	svc, op, form, err := route(r, body, scopeService)
	if err != nil {
		cl.svc = svc
		return 0, err
	}
	cl.svc, cl.op = svc, op
	cl.c.Service, cl.c.Operation = svc.Name, op.Name
	if cl.c.Region == "" {
		cl.c.Region = arn.DefaultRegion("aws")
	}
	cl.c.Partition = arn.Partition(cl.c.Region)

	// Authenticate before decoding parameters, as AWS does: an unsigned or
	// badly signed request learns nothing about validation.
	if authErr != nil {
		var se *sigv4.Error
		if !(errors.As(authErr, &se) && se.Code == "MissingAuthenticationToken" && unsignedOps[svc.Name+"."+op.Name]) {
			return 0, authErr
		}
		cl.c.Principal = &principal.Principal{Type: principal.Anonymous, Partition: cl.c.Partition}
	} else {
		p, err := s.Authn.Authenticate(ctx, sreq, auth, cl.start)
		if err != nil {
			return 0, err
		}
		cl.c.Principal = p
		cl.c.Account = p.Account
	}

	in, err := decode(svc, op, r, body, form)
	if err != nil {
		return 0, err
	}
	if s.Authz != nil {
		if err := s.Authz.Authorize(ctx, &cl.c, op, in); err != nil {
			return 0, err
		}
	}
	h := s.Registry.Lookup(svc.Name, op.Name)
	if h == nil {
		return 0, awsproto.UnsupportedOperation(svc, op.Name)
	}
	out, err := h(ctx, &cl.c, in)
	if err != nil {
		return 0, err
	}
	return s.writeResult(w, cl, out)
}

func payloadHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// route finds the service and operation of a request.
func route(r *http.Request, body []byte, scopeService string) (*awsproto.Service, *awsproto.Operation, url.Values, error) {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		for _, svc := range awsproto.Services() {
			if svc.Protocol != "json" || (scopeService != "" && svc.SigningName != scopeService && svc.Name != scopeService) {
				continue
			}
			if op := svc.OperationForTarget(target); op != nil {
				return svc, op, nil, nil
			}
			if strings.HasPrefix(target, svc.TargetPrefix+".") {
				return svc, nil, nil, awsproto.UnsupportedOperation(svc, strings.TrimPrefix(target, svc.TargetPrefix+"."))
			}
		}
		return nil, nil, nil, &apierr.Error{Code: "UnknownOperationException", Message: "Unknown operation " + target, Status: 400}
	}
	if scopeService == "account" {
		svc := awsproto.LookupService("account")
		if op, _ := svc.Match(r.Method, r.URL.Path); op != nil {
			return svc, op, nil, nil
		}
		return svc, nil, nil, &apierr.Error{Code: "UnknownOperationException", Message: "Unknown operation " + r.Method + " " + r.URL.Path, Status: 404}
	}
	form, err := queryForm(r, body)
	if err != nil {
		return nil, nil, nil, err
	}
	action := form.Get("Action")
	candidates := []string{"iam", "sts"}
	if scopeService == "iam" || scopeService == "sts" {
		candidates = []string{scopeService}
	}
	for _, name := range candidates {
		svc := awsproto.LookupService(name)
		if op := svc.Operations[action]; op != nil {
			return svc, op, form, nil
		}
	}
	svc := awsproto.LookupService(candidates[0])
	if action == "" {
		return svc, nil, nil, &apierr.Error{Code: "MissingAction", Message: "Missing Action", Status: 400}
	}
	return svc, nil, nil, awsproto.UnsupportedOperation(svc, action)
}

// queryForm merges the URL query and a form-encoded body, as the query
// protocol allows either.
func queryForm(r *http.Request, body []byte) (url.Values, error) {
	var form url.Values
	if r.URL.RawQuery != "" {
		var err error
		if form, err = url.ParseQuery(r.URL.RawQuery); err != nil {
			return nil, apierr.New("MalformedQueryString", "The query string is malformed.")
		}
	}
	if len(body) > 0 {
		bf, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, apierr.New("MalformedInput", "The request body is not a valid form.")
		}
		if form == nil {
			return bf, nil // the usual case: everything is in the body
		}
		for k, v := range bf {
			form[k] = append(form[k], v...)
		}
	}
	if form == nil {
		form = url.Values{}
	}
	return form, nil
}

// decode turns the request into the operation's input document.
func decode(svc *awsproto.Service, op *awsproto.Operation, r *http.Request, body []byte, form url.Values) (map[string]any, error) {
	switch svc.Protocol {
	case "query":
		// form is this request's own (route parsed it): drop the protocol's
		// parameters in place rather than copying the rest.
		for k := range form {
			if k == "Action" || k == "Version" || strings.HasPrefix(k, "X-Amz-") {
				delete(form, k)
			}
		}
		return op.DecodeQuery(form)
	case "json":
		return op.DecodeJSON(body)
	default:
		_, uri := svc.Match(r.Method, r.URL.Path)
		return op.DecodeREST(uri, r.URL.Query(), r.Header, body)
	}
}

func (s *Server) writeResult(w http.ResponseWriter, cl *call, out map[string]any) (int, error) {
	switch cl.svc.Protocol {
	case "query":
		b, err := cl.op.EncodeQuery(out, cl.c.RequestID)
		if err != nil {
			return 0, fmt.Errorf("encode %s: %w", cl.op.Name, err)
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
		return http.StatusOK, nil
	case "json":
		b, err := cl.op.EncodeJSON(out)
		if err != nil {
			return 0, fmt.Errorf("encode %s: %w", cl.op.Name, err)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-"+cl.svc.JSONVersion)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
		return http.StatusOK, nil
	default:
		status, h, b, err := cl.op.EncodeREST(out)
		if err != nil {
			return 0, fmt.Errorf("encode %s: %w", cl.op.Name, err)
		}
		for k, v := range h {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = w.Write(b)
		return status, nil
	}
}

// AWSError maps any error to the AWS error the client sees: the one place
// where that happens. Unknown errors become InternalFailure and are logged.
func (s *Server) AWSError(ctx context.Context, svc *awsproto.Service, requestID string, err error) *awsproto.Error {
	var (
		pe *awsproto.Error
		ae *apierr.Error
		se *sigv4.Error
	)
	switch {
	case errors.As(err, &pe):
		return pe
	case errors.As(err, &ae):
		e := svc.NewError(ae.Code, ae.Message)
		if ae.Status != 0 {
			e.Status = ae.Status
		}
		if ae.Fields != nil {
			e.Fields = ae.Fields
		}
		return e
	case errors.As(err, &se):
		e := svc.NewError(se.Code, se.Message)
		e.Status, e.Sender = se.Status, true
		return e
	}
	s.Log.ErrorContext(ctx, "internal failure", "request_id", requestID, "err", err)
	return &awsproto.Error{Code: "InternalFailure", Message: "The request processing has failed because of an unknown error, exception or failure. Request id: " + requestID, Status: http.StatusInternalServerError}
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, cl *call, err error) int {
	svc := cl.svc
	if svc == nil {
		svc = awsproto.LookupService("iam")
	}
	e := s.AWSError(r.Context(), svc, cl.c.RequestID, err)
	switch svc.Protocol {
	case "query":
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(e.Status)
		_, _ = w.Write(svc.EncodeQueryError(e, cl.c.RequestID))
	case "json":
		b, h := svc.EncodeJSONError(e)
		for k, v := range h {
			w.Header()[k] = v
		}
		w.WriteHeader(e.Status)
		_, _ = w.Write(b)
	default:
		b, _ := json.Marshal(map[string]string{"message": e.Message})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", e.Code)
		w.WriteHeader(e.Status)
		_, _ = w.Write(b)
	}
	return e.Status
}

func errorCode(err error) string {
	var (
		pe *awsproto.Error
		ae *apierr.Error
		se *sigv4.Error
	)
	switch {
	case errors.As(err, &pe):
		return pe.Code
	case errors.As(err, &ae):
		return ae.Code
	case errors.As(err, &se):
		return se.Code
	}
	return "InternalFailure"
}
