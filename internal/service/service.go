// Package service holds what every AWS service implementation shares: the
// call a handler serves, the handler signature and the registry the wire edge
// routes to.
package service

import (
	"context"
	"net/netip"
	"time"

	"github.com/iamd/iamd/internal/principal"
)

// Call is one authenticated AWS API call as services see it.
type Call struct {
	RequestID string
	Service   string // "iam", "sts", ...
	Operation string
	Region    string
	Partition string
	// Account is the caller's account: the account the call acts in.
	Account   string
	Principal *principal.Principal
	Now       time.Time
	SourceIP  netip.Addr
	UserAgent string
	Secure    bool
	// MFAAuthTime is set when this call itself carried a verified MFA code
	// (AssumeRole or GetSessionToken with SerialNumber and TokenCode).
	MFAAuthTime time.Time
}

// Handler serves one operation: in and out are documents keyed by the
// model's member names (see internal/awsproto).
type Handler func(ctx context.Context, c *Call, in map[string]any) (map[string]any, error)

// Registry maps service name → operation name → handler.
type Registry map[string]map[string]Handler

// Add registers h for svc's operation op.
func (r Registry) Add(svc, op string, h Handler) {
	m := r[svc]
	if m == nil {
		m = map[string]Handler{}
		r[svc] = m
	}
	m[op] = h
}

// Lookup returns the handler for svc's op, or nil.
func (r Registry) Lookup(svc, op string) Handler { return r[svc][op] }
