// Package organizations implements the AWS Organizations API: one
// organization per management account, its root and OUs, member accounts
// (created or invited through handshakes), management policies (SCPs, RCPs
// and the other policy types) and the data the authorization engine needs
// to apply SCPs and RCPs (Guardrails).
//
// Storage: every record of an organization lives in its management
// account's partition of the store, so deleting that account (or the
// organization) removes it all, and a committed change is reported under the
// management account. Records whose ids are globally unique (accounts,
// roots, OUs, policies, handshakes, create-account requests) carry the id in
// Record.ID, so an id — or a member account — finds its organization with
// one GetByID. Invited accounts get an index record of each handshake
// addressed to them in their own partition.
package organizations

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// Record kinds.
const (
	kindOrg       = "org"          // key "org" in the management account; ID o-…
	kindMember    = "orgaccount"   // key = ID = account id; Ref parent id
	kindRoot      = "orgroot"      // key = ID = r-…
	kindOU        = "orgou"        // key = ID = ou-…; Ref parent id
	kindPolicy    = "orgpolicy"    // key = ID = p-…; Ref policy type
	kindAttach    = "orgattach"    // key policy|target; Parent target; Ref policy id
	kindHandshake = "orghandshake" // key = ID = h-…; Ref target account (if known)
	kindInbox     = "orghsinbox"   // in the invited account: key h-…; Ref management account
	kindCreate    = "orgcreate"    // key = ID = car-…
	kindDelegated = "orgdelegated" // key account|service principal; Parent account
	orgKey        = "org"          // the one organization record's key
	lowerAlnum    = "abcdefghijklmnopqrstuvwxyz0123456789"
	mixedAlnum    = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	defaultMaxRes = 20 // MaxResults' model maximum, used when absent
)

// Quotas, from "Quotas for AWS Organizations"
// (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html).
const (
	defaultMaxAccounts = 10   // default account quota of a new organization
	maxOUs             = 1000 // OUs per organization
	maxOUDepth         = 5    // OU nesting below the root
	maxPolicies        = 1000 // policies of one type per organization
	maxTags            = 50
)

// Service implements AWS Organizations.
type Service struct {
	Store store.Store
	IDs   ids.Source
	// Registry runs IAM operations in accounts Organizations creates (the
	// OrganizationAccountAccessRole).
	Registry service.Registry
	// MaxAccounts is the account quota per organization; 0 means AWS's
	// default for new organizations (10).
	MaxAccounts int
}

// Register adds every Organizations operation to r.
func (s *Service) Register(r service.Registry) {
	for name, h := range s.handlers() {
		r.Add("organizations", name, h)
	}
}

func (s *Service) handlers() map[string]service.Handler {
	m := map[string]service.Handler{}
	s.orgHandlers(m)
	s.treeHandlers(m)
	s.accountHandlers(m)
	s.handshakeHandlers(m)
	s.policyHandlers(m)
	s.adminHandlers(m)
	s.unsupportedHandlers(m)
	return m
}

func (s *Service) maxAccounts() int {
	if s.MaxAccounts > 0 {
		return s.MaxAccounts
	}
	return defaultMaxAccounts
}

// randomID returns prefix followed by n characters of set, from the
// injected random source.
func (s *Service) randomID(prefix string, n int, set string) string {
	r := s.IDs.Rand
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		panic("organizations: random source failed: " + err.Error())
	}
	for i := range b {
		b[i] = set[int(b[i])%len(set)]
	}
	return prefix + string(b)
}

// now truncates to the second, as Organizations' timestamps are.
func now(c *service.Call) time.Time { return c.Now.UTC().Truncate(time.Second) }

// Errors, with the model's exception codes.

func errf(code, format string, args ...any) *apierr.Error {
	return apierr.New(code, format, args...)
}

func withReason(code, reason, format string, args ...any) *apierr.Error {
	e := apierr.New(code, format, args...)
	e.Fields = map[string]any{"Reason": reason}
	return e
}

func constraint(reason, format string, args ...any) *apierr.Error {
	return withReason("ConstraintViolationException", reason, format, args...)
}

func invalid(reason, format string, args ...any) *apierr.Error {
	return withReason("InvalidInputException", reason, format, args...)
}

func accessDenied() *apierr.Error {
	// Organizations answers every error, AccessDeniedException included,
	// with HTTP 400 (Organizations API Reference, "Errors").
	return &apierr.Error{Code: "AccessDeniedException", Message: "You don't have permissions to access this resource.", Status: http.StatusBadRequest}
}

func notInUse() *apierr.Error {
	return errf("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
}

// Documents.

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("organizations: entity not encodable: " + err.Error()) // our own types: a bug
	}
	return b
}

func decode[T any](rec store.Record) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(rec.Data, v); err != nil {
		return nil, fmt.Errorf("organizations: decode %s %q: %w", rec.Kind, rec.Key, err)
	}
	return v, nil
}

// listAll decodes every record of kind in the management account mgmt
// matching q's filters.
func listAll[T any](ctx context.Context, r store.Reader, q store.ListQuery) ([]*T, error) {
	recs, err := r.List(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("organizations: list %s: %w", q.Kind, err)
	}
	out := make([]*T, 0, len(recs))
	for _, rec := range recs {
		v, err := decode[T](rec)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Pagination. Organizations pages with NextToken/MaxResults; our tokens are
// the base64 of the last id returned, and every listing is ordered by id.

// paginate returns the page of items (sorted by key) after the request's
// NextToken, and the token of the next page ("" when this is the last).
func paginate[T any](items []T, key func(T) string, in map[string]any) ([]T, string, error) {
	limit := defaultMaxRes
	if n, ok := awsproto.Int(in, "MaxResults"); ok && n > 0 {
		limit = int(n)
	}
	start := 0
	if tok := awsproto.Str(in, "NextToken"); tok != "" {
		after, ok := keyFromToken(tok)
		if !ok {
			return nil, "", invalid("INVALID_NEXT_TOKEN", "You specified an invalid value for nextToken. You must get the value from the response to a previous call to the API.")
		}
		start = len(items)
		for i, it := range items {
			if key(it) > after {
				start = i
				break
			}
		}
	}
	end := min(start+limit, len(items))
	next := ""
	if end < len(items) {
		next = tokenFor(key(items[end-1]))
	}
	return items[start:end], next, nil
}

// tokenFor makes a NextToken for the last key returned: the key and a
// check value, so that a token not issued by a previous call is refused
// (AWS answers INVALID_NEXT_TOKEN) instead of silently listing nothing.
func tokenFor(key string) string {
	sum := sha256.Sum256([]byte("iamd-organizations-token:" + key))
	return base64.RawURLEncoding.EncodeToString([]byte(key)) + "." + base64.RawURLEncoding.EncodeToString(sum[:6])
}

func keyFromToken(tok string) (string, bool) {
	k64, check, ok := strings.Cut(tok, ".")
	if !ok {
		return "", false
	}
	k, err := base64.RawURLEncoding.DecodeString(k64)
	if err != nil || len(k) == 0 || tokenFor(string(k)) != tok || check == "" {
		return "", false
	}
	return string(k), true
}

// pageOut is a list response: items under name, plus NextToken when more.
func pageOut(name string, items []any, next string) map[string]any {
	out := map[string]any{name: items}
	if next != "" {
		out["NextToken"] = next
	}
	return out
}

// Tags.

// orgTag is an Organizations resource tag.
type orgTag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

func tagsOut(tags []orgTag) []any {
	out := make([]any, len(tags))
	for i, t := range tags {
		out[i] = map[string]any{"Key": t.Key, "Value": t.Value}
	}
	return out
}

// tagsIn reads a Tags list: keys unique (case-sensitively, as Organizations
// compares them), no aws: prefix, at most 50.
func tagsIn(in map[string]any) ([]orgTag, error) {
	list := awsproto.List(in, "Tags")
	tags := make([]orgTag, 0, len(list))
	for _, v := range list {
		m, _ := v.(map[string]any)
		t := orgTag{Key: awsproto.Str(m, "Key"), Value: awsproto.Str(m, "Value")}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return nil, invalid("INVALID_SYSTEM_TAGS_PARAMETER", "You provided a value that does not match the required pattern: tag keys can't start with aws:.")
		}
		if slices.ContainsFunc(tags, func(x orgTag) bool { return x.Key == t.Key }) {
			return nil, invalid("DUPLICATE_TAG_KEY", "You provided duplicate tag keys: %s.", t.Key)
		}
		tags = append(tags, t)
	}
	if len(tags) > maxTags {
		return nil, constraint("MAX_TAG_LIMIT_EXCEEDED", "You have exceeded the number of tags allowed on this resource.")
	}
	return tags, nil
}

func mergeTags(have, add []orgTag) ([]orgTag, error) {
	out := slices.Clone(have)
	for _, t := range add {
		if i := slices.IndexFunc(out, func(x orgTag) bool { return x.Key == t.Key }); i >= 0 {
			out[i] = t
		} else {
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return nil, constraint("MAX_TAG_LIMIT_EXCEEDED", "You have exceeded the number of tags allowed on this resource.")
	}
	return out, nil
}

func dropTags(have []orgTag, keys []string) []orgTag {
	return slices.DeleteFunc(slices.Clone(have), func(t orgTag) bool { return slices.Contains(keys, t.Key) })
}

// isConflict reports store.ErrConflict.
func isConflict(err error) bool { return errors.Is(err, store.ErrConflict) }

// isNotFound reports store.ErrNotFound.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// isCode reports an *apierr.Error with code.
func isCode(err error, code string) bool {
	var ae *apierr.Error
	return errors.As(err, &ae) && ae.Code == code
}
