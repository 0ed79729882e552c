// Package iam implements the IAM API's use cases: validation beyond the
// model's constraints, one store transaction per mutation, and AWS's errors.
package iam

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/accounts"
	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/secrets"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// Record kinds of IAM entities. Keys are lower-cased names unless noted: IAM
// names are unique case-insensitively within an account.
const (
	kindUser            = "user"
	kindGroup           = "group"
	kindMember          = "member" // key group|user, parent group, ref user
	kindRole            = "role"
	kindPolicy          = "policy"        // customer managed policy
	kindPolicyVersion   = "policyversion" // key policy/vN, parent policy
	kindInline          = "inline"        // key owner/name, parent owner ("user:bob")
	kindAttachment      = "attachment"    // key owner|policyArn, parent owner, ref policyArn
	kindAccessKey       = "accesskey"     // key = id = AKIA…, parent user key ("" parent for root is rootOwner)
	kindLoginProfile    = "loginprofile"
	kindInstanceProfile = "instanceprofile"
	kindSSHKey          = "sshkey"      // parent user key
	kindSigningCert     = "signingcert" // parent user key ("#root" for root)
	kindServiceCred     = "servicecred" // parent user key
	kindMFA             = "mfa"         // virtual MFA device, key serial; parent user key when assigned
)

// rootOwner is the Parent of the root user's own access keys and MFA devices.
const rootOwner = "#root"

// Service implements IAM.
type Service struct {
	Store store.Store
	Keys  *secrets.Keyring
	IDs   ids.Source
	Log   *slog.Logger
}

// Register adds every implemented IAM operation to r.
func (s *Service) Register(r service.Registry) {
	for name, h := range s.handlers() {
		r.Add("iam", name, h)
	}
}

func (s *Service) handlers() map[string]service.Handler {
	m := map[string]service.Handler{}
	s.userHandlers(m)
	s.accessKeyHandlers(m)
	s.groupHandlers(m)
	s.roleHandlers(m)
	s.instanceProfileHandlers(m)
	s.policyHandlers(m)
	s.inlinePolicyHandlers(m)
	s.credentialHandlers(m)
	s.providerHandlers(m)
	s.accountHandlers(m)
	s.mfaHandlers(m)
	s.credReportHandlers(m)
	s.tagHandlers(m)
	s.accessAdvisorHandlers(m)
	s.stsPrefsHandlers(m)
	s.outboundFederationHandlers(m)
	s.delegationHandlers(m)
	s.rootAccessHandlers(m) // last: wraps the login-profile handlers
	return m
}

// account reads the caller's account.
func (s *Service) account(ctx context.Context, id string) (*accounts.Account, error) {
	return accounts.Get(ctx, s.Store, id)
}

// get loads the record (account, kind, key) and decodes its document into T.
func get[T any](ctx context.Context, r store.Reader, account, kind, key string) (*T, store.Record, error) {
	rec, err := r.Get(ctx, account, kind, key)
	if err != nil {
		return nil, rec, err
	}
	v := new(T)
	if err := json.Unmarshal(rec.Data, v); err != nil {
		return nil, rec, fmt.Errorf("iam: decode %s %q: %w", kind, key, err)
	}
	return v, rec, nil
}

// decode decodes a record's document into T.
func decode[T any](rec store.Record) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(rec.Data, v); err != nil {
		return nil, fmt.Errorf("iam: decode %s %q: %w", rec.Kind, rec.Key, err)
	}
	return v, nil
}

// encode marshals an entity document.
func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("iam: entity not encodable: " + err.Error()) // our own types: a bug
	}
	return b
}

// notFound maps store.ErrNotFound to IAM's NoSuchEntity for kind/name.
func notFound(err error, kind, name string) error {
	if errors.Is(err, store.ErrNotFound) {
		return apierr.NotFound(kind, name)
	}
	return err
}

// key is the record key for an IAM name.
func key(name string) string { return strings.ToLower(name) }

// iamARN builds an ARN for an entity with a path: arn:P:iam::ACCT:user/path/name.
func iamARN(c *service.Call, typ, path, name string) string {
	return arn.IAM(c.Partition, c.Account, typ+path+name)
}

// pathOr returns the path given, or "/" when none was.
func pathOr(in map[string]any) string {
	if p := awsproto.Str(in, "Path"); p != "" {
		return p
	}
	return "/"
}

// page is one page of a listing.
type page struct {
	recs      []store.Record
	truncated bool
	marker    string
}

// listPage runs q with the request's Marker and MaxItems (default 100) and
// returns the records plus AWS's IsTruncated/Marker. Markers are opaque to
// clients: the base64 of the last key returned.
func listPage(ctx context.Context, r store.Reader, q store.ListQuery, in map[string]any) (page, error) {
	limit := 100
	if n, ok := awsproto.Int(in, "MaxItems"); ok {
		limit = int(n)
	}
	if m := awsproto.Str(in, "Marker"); m != "" {
		k, err := base64.RawURLEncoding.DecodeString(m)
		if err != nil {
			return page{}, apierr.Invalid("Invalid Marker.")
		}
		q.After = string(k)
	}
	q.Limit = limit + 1
	recs, err := r.List(ctx, q)
	if err != nil {
		return page{}, err
	}
	p := page{recs: recs}
	if len(recs) > limit {
		p.recs = recs[:limit]
		p.truncated = true
		p.marker = base64.RawURLEncoding.EncodeToString([]byte(p.recs[limit-1].Key))
	}
	return p, nil
}

// out fills IsTruncated and Marker on a list response.
func (p page) out(m map[string]any) map[string]any {
	m["IsTruncated"] = p.truncated
	if p.truncated {
		m["Marker"] = p.marker
	}
	return m
}

// escapePolicy URL-encodes a policy document as IAM returns documents
// (RFC 3986 percent-encoding; spaces as %20, which the SDKs decode).
func escapePolicy(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

// Tag is an IAM tag.
type Tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

func tagsOut(tags []Tag) []any {
	out := make([]any, len(tags))
	for i, t := range tags {
		out[i] = map[string]any{"Key": t.Key, "Value": t.Value}
	}
	return out
}

// maxTags is IAM's limit of tags per entity.
const maxTags = 50

// tagsIn reads and validates a Tags list: no duplicate keys (compared
// case-insensitively, as IAM does), no aws: prefix.
func tagsIn(in map[string]any) ([]Tag, error) {
	list := awsproto.List(in, "Tags")
	tags := make([]Tag, 0, len(list))
	seen := map[string]bool{}
	for _, v := range list {
		m, _ := v.(map[string]any)
		t := Tag{Key: awsproto.Str(m, "Key"), Value: awsproto.Str(m, "Value")}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return nil, apierr.Invalid("User-defined tag keys can't start with \"aws:\". This prefix is reserved for AWS tags.")
		}
		lk := strings.ToLower(t.Key)
		if seen[lk] {
			return nil, apierr.Invalid("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[lk] = true
		tags = append(tags, t)
	}
	if len(tags) > maxTags {
		return nil, apierr.Limit("The number of tags has reached the maximum limit.")
	}
	return tags, nil
}

// mergeTags adds or replaces tags (keys compared case-insensitively, the new
// key's case wins) and enforces the per-entity limit.
func mergeTags(have, add []Tag) ([]Tag, error) {
	out := append([]Tag(nil), have...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if strings.EqualFold(out[i].Key, t.Key) {
				out[i] = t
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return nil, apierr.Limit("The number of tags has reached the maximum limit.")
	}
	return out, nil
}

// removeTags drops tags whose keys are listed in TagKeys (case-insensitive).
func removeTags(have []Tag, in map[string]any) []Tag {
	drop := map[string]bool{}
	for _, k := range awsproto.List(in, "TagKeys") {
		s, _ := k.(string)
		drop[strings.ToLower(s)] = true
	}
	out := have[:0:0]
	for _, t := range have {
		if !drop[strings.ToLower(t.Key)] {
			out = append(out, t)
		}
	}
	return out
}

// paginateTags returns one page of tags for ListXTags operations.
func paginateTags(tags []Tag, in map[string]any) (map[string]any, error) {
	start := 0
	if m := awsproto.Str(in, "Marker"); m != "" {
		b, err := base64.RawURLEncoding.DecodeString(m)
		if err != nil {
			return nil, apierr.Invalid("Invalid Marker.")
		}
		fmt.Sscanf(string(b), "%d", &start)
		if start < 0 || start > len(tags) {
			return nil, apierr.Invalid("Invalid Marker.")
		}
	}
	limit := 100
	if n, ok := awsproto.Int(in, "MaxItems"); ok {
		limit = int(n)
	}
	end := min(start+limit, len(tags))
	out := map[string]any{"Tags": tagsOut(tags[start:end]), "IsTruncated": end < len(tags)}
	if end < len(tags) {
		out["Marker"] = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d", end))
	}
	return out, nil
}

// now truncates to the second, as IAM's timestamps are.
func now(c *service.Call) time.Time { return c.Now.UTC().Truncate(time.Second) }

// EntityInfo is what authorization needs of a named entity: its IAM path
// (part of its ARN) and its tags (aws:ResourceTag/*, iam:ResourceTag/*).
type EntityInfo struct {
	Path string `json:"path"`
	Tags []Tag  `json:"tags"`
}

// LookupEntityInfo reads the path and tags of a named entity. kind is the
// ARN resource type ("user", "group", "role", "instance-profile").
func LookupEntityInfo(ctx context.Context, r store.Reader, account, kind, name string) (*EntityInfo, error) {
	k := map[string]string{"user": kindUser, "group": kindGroup, "role": kindRole, "instance-profile": kindInstanceProfile}[kind]
	if k == "" {
		return nil, store.ErrNotFound
	}
	info, _, err := get[EntityInfo](ctx, r, account, k, key(name))
	if err != nil {
		return nil, err
	}
	if info.Path == "" {
		info.Path = "/"
	}
	return info, nil
}
