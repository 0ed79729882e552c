// Package store defines iamd's storage contract: an indexed record store with
// transactions, implemented by the SQLite and PostgreSQL drivers.
//
// Every piece of IAM state is a Record keyed by (Account, Kind, Key). Services
// choose the key (for IAM names: the lower-cased name, since IAM names are unique
// case-insensitively) and put the entity's JSON document in Data. Three secondary
// attributes are indexed so that every lookup and paginated list runs in the
// database: ID (globally unique within a Kind, e.g. AIDA…/AKIA… ids), Parent and
// Ref (for children and relations: a user's access keys, a group's members, the
// entities a policy is attached to), and Path (IAM PathPrefix filters).
package store

import (
	"context"
	"errors"
	"time"
)

// GlobalAccount is the Account of records that belong to no account (the
// account directory, email index, ...).
const GlobalAccount = "-"

// Sentinel errors. Drivers wrap them with %w; services test with errors.Is.
var (
	// ErrNotFound: no record with that key (or id).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: Insert of a key or id that already exists, or an Update whose
	// expected Version no longer matches.
	ErrConflict = errors.New("store: conflict")
)

// Record is one stored entity.
type Record struct {
	Account string // 12-digit account id, or GlobalAccount
	Kind    string // entity kind: "user", "group", "accesskey", ...
	Key     string // unique within (Account, Kind)
	ID      string // optional; when non-empty unique within Kind across all accounts
	Parent  string // optional; indexed (ListQuery.Parent)
	Ref     string // optional; indexed (ListQuery.Ref)
	Path    string // optional IAM path; indexed for PathPrefix
	Data    []byte // the entity document (JSON)
	Created time.Time
	Updated time.Time
	// Version is set by the store: 1 on Insert, +1 on every Update. An Update
	// with a non-zero Version fails with ErrConflict unless it matches.
	Version int64
}

// ListQuery selects records of one kind in one account, ordered by Key.
type ListQuery struct {
	Account    string
	Kind       string
	Parent     *string // only records with this Parent
	Ref        *string // only records with this Ref
	PathPrefix string  // only records whose Path starts with this
	KeyPrefix  string  // only records whose Key starts with this
	After      string  // only records with Key > After (pagination marker)
	Limit      int     // at most this many; 0 means no limit
}

// Reader is the read side, available inside and outside transactions.
type Reader interface {
	Get(ctx context.Context, account, kind, key string) (Record, error)
	// GetByID finds a record by its globally unique ID within kind.
	GetByID(ctx context.Context, kind, id string) (Record, error)
	List(ctx context.Context, q ListQuery) ([]Record, error)
	// Count counts what List would return without Limit and After.
	Count(ctx context.Context, q ListQuery) (int, error)
}

// Tx is one transaction. It is valid only inside the function passed to WithTx.
type Tx interface {
	Reader
	// Insert adds r; ErrConflict if (Account, Kind, Key) or (Kind, ID) exists.
	// Created/Updated default to now when zero.
	Insert(ctx context.Context, r Record) error
	// Update replaces the record with r's (Account, Kind, Key); ErrNotFound if
	// absent, ErrConflict on a Version mismatch (when r.Version != 0).
	Update(ctx context.Context, r Record) error
	// Delete removes one record; ErrNotFound if absent.
	Delete(ctx context.Context, account, kind, key string) error
	// DeleteAll removes every record matching q (Limit and After ignored) and
	// returns how many were removed.
	DeleteAll(ctx context.Context, q ListQuery) (int, error)
	// DeleteAccount removes every record of account (all kinds).
	DeleteAccount(ctx context.Context, account string) error
}

// Store is a driver.
type Store interface {
	Reader
	// WithTx runs fn in one serializable transaction. If fn returns an error
	// the transaction is rolled back and that error returned unchanged. After a
	// successful commit every account whose records were written is reported
	// to the Changes subscribers (in every process sharing the database).
	// Drivers retry serialization failures by running fn again, so fn must
	// have no effects outside tx. Update keeps Created and sets Updated to
	// now when zero; timestamps come back in UTC with microsecond precision.
	WithTx(ctx context.Context, fn func(tx Tx) error) error
	// Changes registers fn to be called with the account id of every
	// committed change: for this store's own commits before WithTx returns
	// (so a process reads its own writes), for changes made by other
	// processes on the same database asynchronously, possibly batched. Used
	// to invalidate caches: fn must be fast and must not call the store.
	Changes(fn func(account string))
	Close() error
}
