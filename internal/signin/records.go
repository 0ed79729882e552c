package signin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/iamd/iamd/internal/store"
)

// Sign-in state lives in the store so every node sees the same sessions,
// tokens and failure counts. It is kept under store.GlobalAccount: writes
// there do not invalidate an account's compiled policies, so a flood of
// failed sign-ins cannot thrash the authorizer's cache.
//
// Every record expires. Its Key is "<expiry>|<id>" with a fixed-width UTC
// timestamp, so listing a kind in key order yields the oldest first and a
// sweep deletes expired records without a scan; lookups go through the
// indexed ID (the token hash or the counter subject).
const (
	kindSession  = "signin-session"  // ID: token hash; Parent: principal key
	kindChange   = "signin-change"   // password-change token; ID: token hash
	kindReset    = "signin-reset"    // root recovery token; ID: token hash; Parent: principal key
	kindCounter  = "signin-failures" // ID: "p|<acct>|<name>", "ip|<addr>", "mail|<email>"
	keyTimeStamp = "20060102T150405.000000000Z"
	sweepBatch   = 32
)

// hashToken is the stored form of a bearer token: a database reader learns
// nothing usable. Tokens carry 256 random bits, so a fast hash suffices.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func expiringKey(expires time.Time, id string) string {
	return expires.UTC().Format(keyTimeStamp) + "|" + id
}

// keyExpiry parses the expiry back out of a record key.
func keyExpiry(key string) (time.Time, bool) {
	ts, _, ok := strings.Cut(key, "|")
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(keyTimeStamp, ts)
	return t, err == nil
}

// getLive reads the record of kind with id into v; ok is false when there
// is none or it has expired at now.
func getLive(ctx context.Context, r store.Reader, kind, id string, now time.Time, v any) (store.Record, bool, error) {
	rec, err := r.GetByID(ctx, kind, id)
	if errors.Is(err, store.ErrNotFound) {
		return rec, false, nil
	}
	if err != nil {
		return rec, false, fmt.Errorf("signin: read %s: %w", kind, err)
	}
	exp, ok := keyExpiry(rec.Key)
	if !ok || !now.Before(exp) {
		return rec, false, nil
	}
	if err := json.Unmarshal(rec.Data, v); err != nil {
		return rec, false, fmt.Errorf("signin: decode %s: %w", kind, err)
	}
	return rec, true, nil
}

// put stores v as the record of kind with id, replacing any earlier one
// (whose key, carrying the old expiry, differs).
func put(ctx context.Context, tx store.Tx, kind, id, parent string, expires, now time.Time, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("signin: encode %s: %w", kind, err)
	}
	if err := deleteID(ctx, tx, kind, id); err != nil {
		return err
	}
	rec := store.Record{Account: store.GlobalAccount, Kind: kind, Key: expiringKey(expires, id), ID: id, Parent: parent, Data: data, Created: now, Updated: now}
	if err := tx.Insert(ctx, rec); err != nil {
		return fmt.Errorf("signin: store %s: %w", kind, err)
	}
	return nil
}

// deleteID removes the record of kind with id, if any.
func deleteID(ctx context.Context, tx store.Tx, kind, id string) error {
	rec, err := tx.GetByID(ctx, kind, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("signin: read %s: %w", kind, err)
	}
	if err := tx.Delete(ctx, store.GlobalAccount, kind, rec.Key); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("signin: delete %s: %w", kind, err)
	}
	return nil
}

// deleteParent removes every record of kind under parent (all sessions of
// a principal, say) except the one with id keep.
func deleteParent(ctx context.Context, tx store.Tx, kind, parent, keep string) error {
	recs, err := tx.List(ctx, store.ListQuery{Account: store.GlobalAccount, Kind: kind, Parent: &parent})
	if err != nil {
		return fmt.Errorf("signin: list %s: %w", kind, err)
	}
	for _, rec := range recs {
		if keep != "" && rec.ID == keep {
			continue
		}
		if err := tx.Delete(ctx, store.GlobalAccount, kind, rec.Key); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("signin: delete %s: %w", kind, err)
		}
	}
	return nil
}

// sweep deletes up to sweepBatch records of kind that expired before now.
// Called on writes, it keeps the tables bounded without a background job.
func sweep(ctx context.Context, tx store.Tx, kind string, now time.Time) error {
	recs, err := tx.List(ctx, store.ListQuery{Account: store.GlobalAccount, Kind: kind, Limit: sweepBatch})
	if err != nil {
		return fmt.Errorf("signin: sweep %s: %w", kind, err)
	}
	for _, rec := range recs {
		exp, ok := keyExpiry(rec.Key)
		if ok && now.Before(exp) {
			break // keys are in expiry order: the rest are live
		}
		if err := tx.Delete(ctx, store.GlobalAccount, kind, rec.Key); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("signin: sweep %s: %w", kind, err)
		}
	}
	return nil
}
