// Package postgres is the store.Store driver for several iamd nodes sharing
// one PostgreSQL database (pgx v5).
//
// Transactions run at SERIALIZABLE. The Tx interface has no row locking
// (no SELECT … FOR UPDATE), yet services do read-check-write (quota counts,
// "name not taken", version bumps); REPEATABLE READ would allow write skew
// there, SERIALIZABLE does not, and the price — retrying on 40001/40P01 — is
// paid here, inside WithTx, so callers never see it.
//
// Changes are published with pg_notify inside the write transaction, so they
// are delivered, by PostgreSQL, only if and after it commits, to every
// process that LISTENs: each Store keeps one dedicated LISTEN connection.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/iamd/iamd/internal/store"
	"github.com/iamd/iamd/internal/store/migration"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

const (
	// channelBase is the LISTEN/NOTIFY channel; a schema-scoped store appends
	// its schema so that separate deployments in one database stay separate.
	channelBase = "iamd_changes"
	// schemaParam is a DSN parameter naming the schema (see WithSchema); it
	// is consumed here, never sent to the server.
	schemaParam = "iamd_schema"
	// poolSizeParam bounds the connection pool (pgxpool's name for it).
	poolSizeParam   = "pool_max_conns"
	defaultPoolSize = 10

	maxTxAttempts  = 30
	initialBackoff = 2 * time.Millisecond
	maxBackoff     = 100 * time.Millisecond
	maxListenWait  = 5 * time.Second
)

var schemaRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,39}$`)

// Option configures Open.
type Option func(*options)

type options struct{ schema string }

// WithSchema keeps all of the store's tables in schema (created if needed)
// and scopes its change channel to it, so several deployments — or tests —
// can share one database. Names are lower-case letters, digits and '_', at
// most 40 characters. The DSN parameter iamd_schema does the same.
func WithSchema(schema string) Option { return func(o *options) { o.schema = schema } }

// Store is the PostgreSQL driver. It is safe for concurrent use.
type Store struct {
	reader
	pool    *connPool
	schema  string // "" means the server's default search_path
	channel string
	notify  *store.Notifier

	stopListen context.CancelFunc
	listenDone chan struct{}
	listenPID  atomic.Uint32 // backend PID of the LISTEN connection (tests)
}

var _ store.Store = (*Store)(nil)

// Open connects, applies pending migrations (under an advisory lock, so any
// number of nodes may start at once) and starts listening for changes.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	var o options
	// Our DSN parameters are not server settings: take them out.
	if v, ok := cfg.RuntimeParams[schemaParam]; ok {
		delete(cfg.RuntimeParams, schemaParam)
		o.schema = v
	}
	size := defaultPoolSize
	if v, ok := cfg.RuntimeParams[poolSizeParam]; ok {
		delete(cfg.RuntimeParams, poolSizeParam)
		if size, err = strconv.Atoi(v); err != nil || size < 1 {
			return nil, fmt.Errorf("postgres: invalid %s %q", poolSizeParam, v)
		}
	}
	for _, opt := range opts {
		opt(&o)
	}
	channel := channelBase
	if o.schema != "" {
		if !schemaRE.MatchString(o.schema) {
			return nil, fmt.Errorf("postgres: invalid schema name %q", o.schema)
		}
		cfg.RuntimeParams["search_path"] = o.schema
		channel += "_" + o.schema
	}
	pool := newConnPool(cfg, size)
	conn, err := pool.acquire(ctx)
	if err != nil {
		return nil, err
	}
	err = migrate(ctx, conn, o.schema)
	pool.release(conn)
	if err != nil {
		pool.close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	s := &Store{
		reader:     reader{use: pool.with},
		pool:       pool,
		schema:     o.schema,
		channel:    channel,
		notify:     store.NewNotifier(),
		listenDone: make(chan struct{}),
	}
	// LISTEN before returning, so no change committed after Open returns
	// can be missed.
	lconn, err := s.connectListener(ctx)
	if err != nil {
		s.notify.Close()
		pool.close()
		return nil, fmt.Errorf("postgres: listen: %w", err)
	}
	lctx, cancel := context.WithCancel(context.Background())
	s.stopListen = cancel
	go s.listen(lctx, lconn)
	return s, nil
}

// Close stops the listener and closes every connection.
func (s *Store) Close() error {
	s.stopListen()
	<-s.listenDone
	s.notify.Close()
	s.pool.close()
	return nil
}

// Analyze refreshes the planner's statistics for the records table. The
// autovacuum daemon does this on its own within about a minute of heavy
// writes; until then, after a bulk import into a new table, PostgreSQL
// guesses — and without statistics it can pick a secondary index for a
// primary-key lookup. Call it after imports (and benchmarks do).
func (s *Store) Analyze(ctx context.Context) error {
	if err := s.pool.with(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `ANALYZE records`)
		return err
	}); err != nil {
		return fmt.Errorf("postgres: analyze: %w", err)
	}
	return nil
}

// Changes registers fn. It is called on a dedicated goroutine, once per
// changed account (bursts coalesced), for commits by any process on the same
// database (and schema). After the listening connection is lost and
// re-established, every account with records is reported, since changes in
// between cannot be known.
func (s *Store) Changes(fn func(account string)) { s.notify.Subscribe(fn) }

// WithTx runs fn in a SERIALIZABLE transaction. On a serialization failure
// or deadlock the whole transaction, fn included, is retried with jittered
// exponential backoff (bounded), so fn must have no effects outside tx.
func (s *Store) WithTx(ctx context.Context, fn func(tx store.Tx) error) error {
	backoff := initialBackoff
	for attempt := 1; ; attempt++ {
		accounts, err := s.runTx(ctx, fn)
		if err == nil {
			// Read-your-writes on this node; other nodes hear LISTEN/NOTIFY.
			s.notify.Deliver(accounts)
			return nil
		}
		if !retryable(err) || attempt == maxTxAttempts {
			return err
		}
		t := time.NewTimer(rand.N(backoff) + time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("postgres: transaction retry: %w (last error: %w)", ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// runTx makes one attempt. A panic in fn rolls back (deferred) and propagates.
func (s *Store) runTx(ctx context.Context, fn func(tx store.Tx) error) ([]string, error) {
	conn, err := s.pool.acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: begin: %w", err)
	}
	defer s.pool.release(conn) // after the rollback below: deferred calls run last-in first-out
	ptx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return nil, fmt.Errorf("postgres: begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			// Not ctx: a canceled ctx must still release the connection cleanly.
			_ = ptx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	t := &tx{reader: reader{use: func(_ context.Context, fn func(q querier) error) error { return fn(ptx) }}, ptx: ptx, written: map[string]struct{}{}}
	if err := fn(t); err != nil {
		return nil, err // unchanged, as the contract requires
	}
	var accounts []string
	if len(t.written) > 0 {
		accounts = make([]string, 0, len(t.written))
		for a := range t.written {
			accounts = append(accounts, a)
		}
		slices.Sort(accounts)
		// Queued by the server and delivered only if the commit succeeds.
		if _, err := ptx.Exec(ctx, `SELECT pg_notify($1, a) FROM unnest($2::text[]) AS a`, s.channel, accounts); err != nil {
			return nil, fmt.Errorf("postgres: notify: %w", err)
		}
	}
	if err := ptx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("postgres: commit: %w", err)
	}
	committed = true
	return accounts, nil
}

// retryable reports serialization failures and deadlocks, after which the
// transaction can succeed if simply run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

func (s *Store) connectListener(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.cfg.Copy())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	s.listenPID.Store(conn.PgConn().PID())
	return conn, nil
}

// listen delivers notifications until ctx is canceled, reconnecting with
// backoff whenever the connection fails.
func (s *Store) listen(ctx context.Context, conn *pgx.Conn) {
	defer close(s.listenDone)
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err == nil {
			if !s.pool.owns(n.PID) { // our own commits were delivered at commit
				s.notify.Publish([]string{n.Payload})
			}
			continue
		}
		if ctx.Err() != nil {
			return
		}
		conn.Close(context.Background())
		conn = nil
		backoff := 50 * time.Millisecond
		for conn == nil {
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			if conn, err = s.connectListener(ctx); err != nil {
				conn = nil
				backoff = min(2*backoff, maxListenWait)
			}
		}
		// Whatever was committed while we were not listening is unknown:
		// report every account so subscribers drop what they cached.
		if accounts, err := s.accounts(ctx); err == nil {
			s.notify.Publish(accounts)
		}
	}
}

func (s *Store) accounts(ctx context.Context) ([]string, error) {
	var accounts []string
	err := s.pool.with(ctx, func(q querier) error {
		rows, err := q.Query(ctx, `SELECT DISTINCT account FROM records`)
		if err != nil {
			return err
		}
		accounts, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return accounts, err
}

// querier is what statements run on: a pooled *pgx.Conn outside
// transactions, the pgx.Tx inside.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// reader implements store.Reader; use lends it a querier for one call.
type reader struct {
	use func(ctx context.Context, fn func(q querier) error) error
}

const columns = `account, kind, key, id, parent, ref, path, data, created, updated, version`

func scan(row pgx.Row) (store.Record, error) {
	var r store.Record
	if err := row.Scan(&r.Account, &r.Kind, &r.Key, &r.ID, &r.Parent, &r.Ref, &r.Path, &r.Data, &r.Created, &r.Updated, &r.Version); err != nil {
		return store.Record{}, err
	}
	r.Created, r.Updated = r.Created.UTC(), r.Updated.UTC()
	return r, nil
}

func (rd reader) getOne(ctx context.Context, what, query string, args ...any) (store.Record, error) {
	var r store.Record
	err := rd.use(ctx, func(q querier) error {
		var err error
		r, err = scan(q.QueryRow(ctx, query, args...))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Record{}, fmt.Errorf("postgres: %s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return r, nil
}

func (rd reader) Get(ctx context.Context, account, kind, key string) (store.Record, error) {
	return rd.getOne(ctx, fmt.Sprintf("get %s/%s/%q", account, kind, key),
		`SELECT `+columns+` FROM records WHERE account = $1 AND kind = $2 AND key = $3`, account, kind, key)
}

func (rd reader) GetByID(ctx context.Context, kind, id string) (store.Record, error) {
	what := fmt.Sprintf("get %s id %q", kind, id)
	if id == "" { // records without an ID are not findable by ID
		return store.Record{}, fmt.Errorf("postgres: %s: %w", what, store.ErrNotFound)
	}
	return rd.getOne(ctx, what, `SELECT `+columns+` FROM records WHERE kind = $1 AND id = $2 AND id <> ''`, kind, id)
}

func (rd reader) List(ctx context.Context, q store.ListQuery) ([]store.Record, error) {
	f := filter(q)
	if q.After != "" {
		f.add(`key > `, q.After)
	}
	query := `SELECT ` + columns + ` FROM records WHERE ` + f.where.String() + ` ORDER BY key`
	if q.Limit > 0 {
		// A parameter, not a literal, so the statement cache does not grow
		// with every page size.
		f.args = append(f.args, q.Limit)
		query += ` LIMIT $` + strconv.Itoa(len(f.args))
	}
	var out []store.Record
	if q.Limit > 0 {
		out = make([]store.Record, 0, min(q.Limit, 1000))
	}
	err := rd.use(ctx, func(qr querier) error {
		rows, err := qr.Query(ctx, query, f.args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scan(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list %s/%s: %w", q.Account, q.Kind, err)
	}
	return out, nil
}

func (rd reader) Count(ctx context.Context, q store.ListQuery) (int, error) {
	f := filter(q)
	var n int
	err := rd.use(ctx, func(qr querier) error {
		return qr.QueryRow(ctx, `SELECT count(*) FROM records WHERE `+f.where.String(), f.args...).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: count %s/%s: %w", q.Account, q.Kind, err)
	}
	return n, nil
}

// where accumulates a WHERE clause with numbered parameters.
type where struct {
	where strings.Builder
	args  []any
}

func (w *where) add(cond string, arg any) {
	if len(w.args) > 0 {
		w.where.WriteString(` AND `)
	}
	w.args = append(w.args, arg)
	w.where.WriteString(cond + "$" + strconv.Itoa(len(w.args)))
}

// filter renders q's selection (not After/Limit).
//
// Prefix filters are ranges, prefix <= x < prefixEnd(prefix), not LIKE: a
// range treats every character literally, and unlike a LIKE pattern bound as
// a parameter it can use the btree indexes in a generic (cached) plan.
func filter(q store.ListQuery) *where {
	w := &where{}
	w.add(`account = `, q.Account)
	w.add(`kind = `, q.Kind)
	if q.Parent != nil {
		w.add(`parent = `, *q.Parent)
	}
	if q.Ref != nil {
		w.add(`ref = `, *q.Ref)
	}
	prefix := func(col, p string) {
		if p == "" {
			return
		}
		w.add(col+` >= `, p)
		if end, ok := prefixEnd(p); ok {
			w.add(col+` < `, end)
		}
	}
	prefix("path", q.PathPrefix)
	prefix("key", q.KeyPrefix)
	return w
}

// prefixEnd returns the least valid UTF-8 string greater, in byte order, than
// every string that starts with p, or false if there is none. It increments
// the last code point rather than the last byte, since PostgreSQL rejects
// invalid UTF-8; UTF-8 byte order is code point order, so the result is
// exact under the "C" collation.
func prefixEnd(p string) (string, bool) {
	for p != "" {
		r, size := utf8.DecodeLastRuneInString(p)
		p = p[:len(p)-size]
		switch {
		case r == utf8.RuneError && size <= 1:
			return "", false // not UTF-8: no bound; the server will reject p anyway
		case r == utf8.MaxRune:
			continue // no successor: carry into the previous code point
		case r == 0xD7FF:
			return p + string(rune(0xE000)), true // skip the surrogate range
		default:
			return p + string(r+1), true
		}
	}
	return "", false
}

// tx implements store.Tx.
type tx struct {
	reader
	ptx     pgx.Tx
	written map[string]struct{} // accounts to report after commit
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{} // NULL would violate NOT NULL; the contract treats nil as empty
	}
	return b
}

// now is truncated to PostgreSQL's precision so values read back compare equal.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t.Truncate(time.Microsecond)
}

// Insert uses ON CONFLICT DO NOTHING rather than catching a unique violation,
// which would abort the whole PostgreSQL transaction; the contract lets
// callers carry on after ErrConflict.
func (t *tx) Insert(ctx context.Context, r store.Record) error {
	n := now()
	created := orNow(r.Created, n)
	tag, err := t.ptx.Exec(ctx,
		`INSERT INTO records (`+columns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1) ON CONFLICT DO NOTHING`,
		r.Account, r.Kind, r.Key, r.ID, r.Parent, r.Ref, r.Path, nonNil(r.Data), created, orNow(r.Updated, created))
	if err != nil {
		return fmt.Errorf("postgres: insert %s/%s/%q: %w", r.Account, r.Kind, r.Key, mapUnique(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: insert %s/%s/%q (id %q): %w", r.Account, r.Kind, r.Key, r.ID, store.ErrConflict)
	}
	t.written[r.Account] = struct{}{}
	return nil
}

// mapUnique turns a unique violation that slipped past the in-statement
// checks (a concurrent insert) into ErrConflict, keeping the cause.
func mapUnique(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	}
	return err
}

// Update replaces the record's attributes and data. Created is kept, Updated
// is set to now and Version incremented. A taken ID is detected in the same
// statement (NOT EXISTS) instead of by a unique violation, for the reason
// given on Insert.
func (t *tx) Update(ctx context.Context, r store.Record) error {
	what := fmt.Sprintf("update %s/%s/%q", r.Account, r.Kind, r.Key)
	tag, err := t.ptx.Exec(ctx,
		`UPDATE records SET id = $1, parent = $2, ref = $3, path = $4, data = $5, updated = $6, version = version + 1
		 WHERE account = $7 AND kind = $8 AND key = $9 AND ($10::bigint = 0 OR version = $10)
		   AND NOT EXISTS (SELECT 1 FROM records o WHERE o.kind = $8 AND o.id = $1 AND $1 <> ''
		                   AND NOT (o.account = $7 AND o.key = $9))`,
		r.ID, r.Parent, r.Ref, r.Path, nonNil(r.Data), now(), r.Account, r.Kind, r.Key, r.Version)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", what, mapUnique(err))
	}
	if tag.RowsAffected() > 0 {
		t.written[r.Account] = struct{}{}
		return nil
	}
	// Absent, stale version, or ID taken: tell them apart.
	var version int64
	var idTaken bool
	err = t.ptx.QueryRow(ctx,
		`SELECT version, EXISTS (SELECT 1 FROM records o WHERE o.kind = $2 AND o.id = $4 AND $4 <> ''
		                         AND NOT (o.account = $1 AND o.key = $3))
		 FROM records WHERE account = $1 AND kind = $2 AND key = $3`,
		r.Account, r.Kind, r.Key, r.ID).Scan(&version, &idTaken)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("postgres: %s: %w", what, store.ErrNotFound)
	case err != nil:
		return fmt.Errorf("postgres: %s: %w", what, err)
	case r.Version != 0 && r.Version != version:
		return fmt.Errorf("postgres: %s: version %d, stored %d: %w", what, r.Version, version, store.ErrConflict)
	case idTaken:
		return fmt.Errorf("postgres: %s: id %q taken: %w", what, r.ID, store.ErrConflict)
	}
	// Unreachable unless the row changed between the two statements, which
	// SERIALIZABLE excludes; report it rather than claim success.
	return fmt.Errorf("postgres: %s: no row updated: %w", what, store.ErrConflict)
}

func (t *tx) Delete(ctx context.Context, account, kind, key string) error {
	what := fmt.Sprintf("delete %s/%s/%q", account, kind, key)
	tag, err := t.ptx.Exec(ctx, `DELETE FROM records WHERE account = $1 AND kind = $2 AND key = $3`, account, kind, key)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: %s: %w", what, store.ErrNotFound)
	}
	t.written[account] = struct{}{}
	return nil
}

func (t *tx) DeleteAll(ctx context.Context, q store.ListQuery) (int, error) {
	f := filter(q)
	n, err := t.bulk(ctx, q.Account, `DELETE FROM records WHERE `+f.where.String(), f.args...)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete all %s/%s: %w", q.Account, q.Kind, err)
	}
	return int(n), nil
}

func (t *tx) DeleteAccount(ctx context.Context, account string) error {
	if _, err := t.bulk(ctx, account, `DELETE FROM records WHERE account = $1`, account); err != nil {
		return fmt.Errorf("postgres: delete account %s: %w", account, err)
	}
	return nil
}

// bulk runs a bulk write and marks account changed if it touched any row.
func (t *tx) bulk(ctx context.Context, account, query string, args ...any) (int64, error) {
	tag, err := t.ptx.Exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	if tag.RowsAffected() > 0 {
		t.written[account] = struct{}{}
	}
	return tag.RowsAffected(), nil
}

// loadMigrations reads the embedded migrations.
func loadMigrations() ([]migration.Migration, error) {
	return migration.Load(migrationFS, "migrations")
}

// migrationLockKey is the advisory lock serializing migrations of one schema
// across every node starting at once.
func migrationLockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("iamd/migrate/" + schema))
	return int64(h.Sum64())
}

// migrate applies pending migrations in one transaction holding a
// transaction-scoped advisory lock: concurrent nodes wait, then find the
// work done.
func migrate(ctx context.Context, conn *pgx.Conn, schema string) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	ptx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer ptx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after Commit
	if _, err := ptx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockKey(schema)); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if schema != "" {
		ident := pgx.Identifier{schema}.Sanitize()
		if _, err := ptx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+ident); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
		if _, err := ptx.Exec(ctx, `SET LOCAL search_path TO `+ident); err != nil {
			return err
		}
	}
	if _, err := ptx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER     PRIMARY KEY,
		name       TEXT        NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	rows, err := ptx.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return err
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return err
	}
	applied := map[int]bool{}
	for _, v := range versions {
		applied[int(v)] = true
	}
	pending, err := migration.Pending(ms, applied)
	if err != nil {
		return err
	}
	for _, m := range pending {
		// Simple protocol: a migration file may hold several statements.
		if _, err := ptx.Exec(ctx, m.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if _, err := ptx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return ptx.Commit(ctx)
}
