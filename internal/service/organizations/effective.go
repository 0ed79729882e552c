package organizations

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// levels returns the policies of typ that apply to account, one slice per
// level from the root through its OUs to the account itself, each ordered
// by policy id, and the latest change among them.
func levels(ctx context.Context, r store.Reader, o *organization, account, typ string) ([][]*orgPolicy, time.Time, error) {
	m, _, err := getMember(ctx, r, o, account)
	if err != nil {
		return nil, time.Time{}, err
	}
	ch, err := chain(ctx, r, o, m.Parent, parentNotFound())
	if err != nil {
		return nil, time.Time{}, err
	}
	return levelsAt(ctx, r, o, append(ch, account), typ)
}

// levelsAt is levels for a known chain of targets, root first.
func levelsAt(ctx context.Context, r store.Reader, o *organization, targets []string, typ string) ([][]*orgPolicy, time.Time, error) {
	var latest time.Time
	out := make([][]*orgPolicy, 0, len(targets))
	for _, t := range targets {
		as, err := attachments(ctx, r, o, t, typ)
		if err != nil {
			return nil, time.Time{}, err
		}
		level := make([]*orgPolicy, 0, len(as))
		for _, a := range as {
			p, rec, err := getPolicy(ctx, r, o, a.Policy)
			if err != nil {
				return nil, time.Time{}, fmt.Errorf("organizations: attached policy %s: %w", a.Policy, err)
			}
			if rec.Updated.After(latest) {
				latest = rec.Updated
			}
			level = append(level, p)
		}
		out = append(out, sortByID(level, func(p *orgPolicy) string { return p.ID }))
	}
	return out, latest, nil
}

// Inheritance operators of management policies
// (https://docs.aws.amazon.com/organizations/latest/userguide/policy-operators.html).
const (
	opAssign  = "@@assign"
	opAppend  = "@@append"
	opRemove  = "@@remove"
	opAllowed = "@@operators_allowed_for_child_policies"
)

// mergeInto folds a child policy into the inherited document: objects merge
// key by key, @@append lists concatenate, anything else the child sets
// replaces what it inherited.
func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		switch cur := dst[k].(type) {
		case map[string]any:
			if sv, ok := v.(map[string]any); ok {
				mergeInto(cur, sv)
				continue
			}
		case []any:
			if sv, ok := v.([]any); ok && k == opAppend {
				dst[k] = append(slices.Clone(cur), sv...)
				continue
			}
		}
		dst[k] = v
	}
}

// resolve turns a merged document into the effective policy: @@assign
// (plus @@append) become values, @@remove drops the key, operator
// restrictions disappear. ok is false when the key is removed.
func resolve(v any) (any, bool) {
	m, isMap := v.(map[string]any)
	if !isMap {
		return v, true
	}
	if _, ok := m[opRemove]; ok {
		return nil, false
	}
	if a, ok := m[opAssign]; ok {
		val, _ := resolve(a)
		if add, ok := m[opAppend].([]any); ok {
			if list, ok := val.([]any); ok {
				val = append(slices.Clone(list), add...)
			}
		}
		return val, true
	}
	if add, ok := m[opAppend]; ok {
		return add, true
	}
	out := make(map[string]any, len(m))
	for k, e := range m {
		if k == opAllowed {
			continue
		}
		if r, ok := resolve(e); ok {
			out[k] = r
		}
	}
	return out, true
}

// effective computes the effective policy of levels.
func effective(lv [][]*orgPolicy) (string, error) {
	doc := map[string]any{}
	for _, level := range lv {
		for _, p := range level {
			var m map[string]any
			if err := json.Unmarshal([]byte(p.Content), &m); err != nil {
				return "", fmt.Errorf("organizations: policy %s content: %w", p.ID, err)
			}
			mergeInto(doc, m)
		}
	}
	r, _ := resolve(doc)
	b, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("organizations: effective policy: %w", err)
	}
	return string(b), nil
}

// effectiveTarget resolves DescribeEffectivePolicy's target: the caller's
// own account by default; other accounts only for the management account
// and delegated administrators; never a root or OU.
func (s *Service) effectiveTarget(ctx context.Context, c *service.Call, in map[string]any, key string) (*organization, string, error) {
	o, err := s.asMember(ctx, s.Store, c)
	if err != nil {
		return nil, "", err
	}
	t := awsproto.Str(in, key)
	if t == "" {
		t = c.Account
	}
	if t == o.RootID || strings.HasPrefix(t, "ou-") {
		return nil, "", invalid("TARGET_NOT_SUPPORTED", "You can't specify a root or OU as the target of this operation.")
	}
	if t != c.Account {
		if _, err := s.asReader(ctx, s.Store, c); err != nil {
			return nil, "", err
		}
	}
	if _, _, err := getMember(ctx, s.Store, o, t); err != nil {
		return nil, "", targetNotFound()
	}
	return o, t, nil
}

func (s *Service) describeEffectivePolicy(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	o, t, err := s.effectiveTarget(ctx, c, in, "TargetId")
	if err != nil {
		return nil, err
	}
	typ := awsproto.Str(in, "PolicyType")
	lv, latest, err := levels(ctx, s.Store, o, t, typ)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(lv, func(l []*orgPolicy) bool { return len(l) > 0 }) {
		return nil, errf("EffectivePolicyNotFoundException", "We can't find an effective policy for the specified target.")
	}
	content, err := effective(lv)
	if err != nil {
		return nil, err
	}
	return map[string]any{"EffectivePolicy": map[string]any{
		"PolicyContent": content, "PolicyType": typ, "TargetId": t, "LastUpdatedTimestamp": latest.UTC().Truncate(time.Second),
	}}, nil
}

// listAccountsWithInvalidEffectivePolicy: iamd's merge always yields a
// valid effective policy, so no account has an invalid one.
func (s *Service) listAccountsWithInvalidEffectivePolicy(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	if _, err := s.asReader(ctx, s.Store, c); err != nil {
		return nil, err
	}
	return map[string]any{"Accounts": []any{}, "PolicyType": awsproto.Str(in, "PolicyType")}, nil
}

func (s *Service) listEffectivePolicyValidationErrors(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	o, t, err := s.effectiveTarget(ctx, c, in, "AccountId")
	if err != nil {
		if isCode(err, "TargetNotFoundException") {
			return nil, errf("AccountNotFoundException", "You specified an account that doesn't exist.")
		}
		return nil, err
	}
	m, _, err := getMember(ctx, s.Store, o, t)
	if err != nil {
		return nil, err
	}
	ch, err := chain(ctx, s.Store, o, m.Parent, parentNotFound())
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"AccountId": t, "PolicyType": awsproto.Str(in, "PolicyType"), "Path": o.path(append(ch, t)),
		"EvaluationTimestamp": now(c), "EffectivePolicyValidationErrors": []any{},
	}, nil
}
