// Package sqlite is the embedded store.Store driver: one SQLite file in WAL
// mode, pure Go (modernc.org/sqlite), zero setup.
//
// Writes go through a single connection and every write transaction starts
// with BEGIN IMMEDIATE, so transactions are serialized (SQLite allows one
// writer at a time anyway) and never deadlock upgrading a read lock. Reads
// outside transactions use a separate pool of read-only connections, which in
// WAL mode run concurrently with the writer and see only committed data.
//
// Change notifications reach other processes using the same file (say, an
// admin command beside the server) through a change log table they poll.
package sqlite

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"

	"github.com/iamd/iamd/internal/store"
	"github.com/iamd/iamd/internal/store/migration"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// SQLite result codes (sqlite3.h) the driver reacts to.
const (
	codeBusy             = 5
	codeLocked           = 6
	codeConstraintPK     = 1555 // SQLITE_CONSTRAINT_PRIMARYKEY
	codeConstraintUnique = 2067 // SQLITE_CONSTRAINT_UNIQUE
	busyTimeoutMillis    = 10_000
	maxTxAttempts        = 10
	maxBackoff           = 200 * time.Millisecond
	initialBackoff       = 2 * time.Millisecond

	// pollInterval is how often a Store looks for changes committed by
	// other processes; changeRetention how long the change log keeps them.
	pollInterval    = 200 * time.Millisecond
	changeRetention = time.Hour
	pruneEvery      = 256 // commits between prunes of the change log
)

// Store is the SQLite driver. It is safe for concurrent use.
type Store struct {
	reader
	wstmts *stmts  // statements prepared on the writer
	w      *sql.DB // exactly one connection: the writer
	r      *sql.DB // read-only pool
	notify *store.Notifier

	origin   string        // identifies this Store's rows in the change log
	commits  atomic.Uint64 // write commits, to schedule pruning
	stopPoll context.CancelFunc
	pollDone chan struct{}
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path and applies any
// pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	// The driver takes DSN parameters after '?', and two pools over one
	// ":memory:" name would be two different databases.
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: unsupported database path %q (want a plain file path)", path)
	}
	// cache_size: each connection keeps up to 32 MiB of pages (allocated on
	// demand; SQLite's 2 MiB default made a 100-record page of a large
	// account several times slower).
	common := "_pragma=busy_timeout(" + strconv.Itoa(busyTimeoutMillis) + ")&_pragma=foreign_keys(1)&_pragma=cache_size(-32000)"
	// synchronous=FULL: a commit is on disk (WAL fsynced) before WithTx
	// returns, so an acknowledged write survives a crash or power loss.
	w, err := sql.Open("sqlite", path+"?"+common+"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	ws, err := newWriterStmts(ctx, w)
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s := &Store{reader: reader{c: newStmts(r)}, wstmts: ws, w: w, r: r, notify: store.NewNotifier(), pollDone: make(chan struct{})}
	var id [12]byte
	_, _ = crand.Read(id[:]) // never fails (crypto/rand)
	s.origin = hex.EncodeToString(id[:])
	// Start after the newest change: earlier ones predate this Store.
	var last int64
	if err := s.queryRow(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&last); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	pctx, cancel := context.WithCancel(context.Background())
	s.stopPoll = cancel
	go s.poll(pctx, last)
	return s, nil
}

// Close stops change delivery and closes the database. Transactions still
// running fail.
func (s *Store) Close() error {
	if s.stopPoll != nil {
		s.stopPoll()
		<-s.pollDone
	}
	s.notify.Close()
	return errors.Join(s.c.close(), s.wstmts.close(), s.r.Close(), s.w.Close())
}

// Analyze refreshes the query planner's statistics (PRAGMA optimize, which
// runs ANALYZE where it would help). Call it after bulk imports.
func (s *Store) Analyze(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `PRAGMA optimize=0x10002`); err != nil {
		return fmt.Errorf("sqlite: analyze: %w", err)
	}
	return nil
}

// Changes registers fn. It is called once per changed account: for this
// Store's own commits on the committing goroutine before WithTx returns;
// for commits by other processes (or other Stores) on the same file on a
// dedicated goroutine within about pollInterval, bursts coalesced. A Store that falls more than
// changeRetention behind reports every account.
func (s *Store) Changes(fn func(account string)) { s.notify.Subscribe(fn) }

// poll delivers changes other Stores logged, until ctx is canceled.
func (s *Store) poll(ctx context.Context, last int64) {
	defer close(s.pollDone)
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		next, accounts, err := s.changesSince(ctx, last)
		if err != nil {
			continue // transient (busy, closing); the next tick retries
		}
		last = next
		s.notify.Publish(accounts)
	}
}

// changesSince returns the newest seq and the accounts other Stores changed
// after seq last.
func (s *Store) changesSince(ctx context.Context, last int64) (int64, []string, error) {
	rows, err := s.query(ctx, `SELECT seq, origin, account FROM changes WHERE seq > ? ORDER BY seq`, last)
	if err != nil {
		return last, nil, err
	}
	defer rows.Close()
	var accounts []string
	first := true
	gap := false
	for rows.Next() {
		var seq int64
		var origin, account string
		if err := rows.Scan(&seq, &origin, &account); err != nil {
			return last, nil, err
		}
		// Sequence numbers are contiguous (a rolled-back transaction gives
		// its numbers back), so a hole after last means pruned rows.
		if first && last > 0 && seq > last+1 {
			gap = true
		}
		first = false
		last = seq
		if origin != s.origin {
			accounts = append(accounts, account)
		}
	}
	if err := rows.Err(); err != nil {
		return last, nil, err
	}
	if gap {
		all, err := s.allAccounts(ctx)
		if err != nil {
			return last, nil, err
		}
		accounts = append(accounts, all...)
	}
	return last, accounts, nil
}

func (s *Store) allAccounts(ctx context.Context) ([]string, error) {
	rows, err := s.query(ctx, `SELECT DISTINCT account FROM records`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// WithTx runs fn in a write transaction (BEGIN IMMEDIATE). Transactions are
// serialized through the single writer connection, so do not call WithTx from
// inside fn: it would wait for itself. If the database is busy (another
// process holds the write lock beyond busy_timeout) the whole transaction,
// fn included, is retried with backoff a bounded number of times, so fn must
// have no effects outside tx.
func (s *Store) WithTx(ctx context.Context, fn func(tx store.Tx) error) error {
	backoff := initialBackoff
	for attempt := 1; ; attempt++ {
		accounts, err := s.runTx(ctx, fn)
		if err == nil {
			s.notify.Deliver(accounts) // read-your-writes: caches are fresh when WithTx returns
			return nil
		}
		if !isBusy(err) || attempt == maxTxAttempts {
			return err
		}
		// Full jitter keeps contending processes from retrying in lockstep.
		t := time.NewTimer(rand.N(backoff) + time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("sqlite: transaction retry: %w (last error: %w)", ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// runTx makes one attempt. A panic in fn rolls back (deferred) and propagates.
func (s *Store) runTx(ctx context.Context, fn func(tx store.Tx) error) (accounts []string, err error) {
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = sqlTx.Rollback() // the error that made us roll back matters more
		}
	}()
	t := &tx{reader: reader{c: s.wstmts, tx: sqlTx}, written: map[string]struct{}{}}
	if err := fn(t); err != nil {
		return nil, err // unchanged, as the contract requires
	}
	if len(t.written) > 0 {
		now := time.Now()
		for a := range t.written {
			if _, err := t.exec(ctx, qLogChange, s.origin, a, now.Unix()); err != nil {
				return nil, fmt.Errorf("sqlite: log change: %w", err)
			}
		}
		if s.commits.Add(1)%pruneEvery == 0 {
			if _, err := t.exec(ctx, qPruneChanges, now.Add(-changeRetention).Unix()); err != nil {
				return nil, fmt.Errorf("sqlite: prune changes: %w", err)
			}
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: commit: %w", err)
	}
	committed = true
	for a := range t.written {
		accounts = append(accounts, a)
	}
	return accounts, nil
}

func isBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff // primary code; extended codes refine it
	return code == codeBusy || code == codeLocked
}

func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code() == codeConstraintPK || se.Code() == codeConstraintUnique)
}

// stmts caches prepared statements by query text. Parsing SQL dominates the
// cost of a point read in SQLite, and the set of query texts is small and
// fixed (List builds at most a few hundred filter combinations).
//
// The writer's cache is filled once, at Open, with the fixed statements:
// preparing on the single-connection writer pool while a transaction holds
// that connection would wait forever. Statements missing from it run
// unprepared.
type stmts struct {
	db     *sql.DB
	frozen bool // prepare nothing on a miss
	mu     sync.Mutex
	m      map[string]*sql.Stmt
}

func newStmts(db *sql.DB) *stmts { return &stmts{db: db, m: map[string]*sql.Stmt{}} }

// writerQueries are prepared on the writer at Open.
var writerQueries = []string{
	qGet, qGetByID, qInsert, qUpdate, qVersion, qDelete, qDeleteAccount, qLogChange, qPruneChanges,
}

func newWriterStmts(ctx context.Context, db *sql.DB) (*stmts, error) {
	c := newStmts(db)
	for _, q := range writerQueries {
		if _, err := c.get(ctx, q); err != nil {
			c.close()
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
	}
	c.frozen = true
	return c, nil
}

// get returns the prepared statement for query, or nil if the cache is
// frozen and does not hold it.
func (c *stmts) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok || c.frozen {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.m[query] = st
	return st, nil
}

func (c *stmts) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, st := range c.m {
		errs = append(errs, st.Close())
	}
	clear(c.m)
	return errors.Join(errs...)
}

// reader implements store.Reader: over the read pool outside transactions,
// over the transaction (on the writer connection) inside.
type reader struct {
	c  *stmts
	tx *sql.Tx // nil outside transactions
}

// stmt returns a prepared statement for query, or nil to run it unprepared.
func (rd reader) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	st, err := rd.c.get(ctx, query)
	if err != nil || rd.tx == nil || st == nil {
		return st, err
	}
	// Re-uses the statement already prepared on the writer connection.
	return rd.tx.StmtContext(ctx, st), nil
}

func (rd reader) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := rd.stmt(ctx, query)
	switch {
	case err != nil:
		return nil, err
	case st != nil:
		return st.QueryContext(ctx, args...)
	case rd.tx != nil:
		return rd.tx.QueryContext(ctx, query, args...)
	}
	return nil, fmt.Errorf("no statement for %q", query) // unreachable: read caches never freeze
}

func (rd reader) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := rd.stmt(ctx, query)
	switch {
	case err != nil:
		return nil, err
	case st != nil:
		return st.ExecContext(ctx, args...)
	case rd.tx != nil:
		return rd.tx.ExecContext(ctx, query, args...)
	}
	return nil, fmt.Errorf("write %q outside a transaction", query)
}

// row is like sql.Row but keeps a prepare error for Scan to report.
type row struct {
	rows *sql.Rows
	err  error
}

func (rd reader) queryRow(ctx context.Context, query string, args ...any) row {
	rows, err := rd.query(ctx, query, args...)
	return row{rows, err}
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	return r.rows.Close()
}

const columns = `account, kind, key, id, parent, ref, path, data, created, updated, version`

// The fixed statements (see writerQueries).
const (
	qGet           = `SELECT ` + columns + ` FROM records WHERE account = ? AND kind = ? AND key = ?`
	qGetByID       = `SELECT ` + columns + ` FROM records WHERE kind = ? AND id = ? AND id <> ''`
	qInsert        = `INSERT INTO records (` + columns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`
	qVersion       = `SELECT version FROM records WHERE account = ? AND kind = ? AND key = ?`
	qDelete        = `DELETE FROM records WHERE account = ? AND kind = ? AND key = ?`
	qDeleteAccount = `DELETE FROM records WHERE account = ?`
	qLogChange     = `INSERT INTO changes (origin, account, at) VALUES (?, ?, ?)`
	qPruneChanges  = `DELETE FROM changes WHERE at < ?`
	qUpdate        = `UPDATE records SET id = ?, parent = ?, ref = ?, path = ?, data = ?, updated = ?, version = version + 1
		WHERE account = ? AND kind = ? AND key = ? AND (? = 0 OR version = ?)`
)

func scan(sc interface{ Scan(...any) error }) (store.Record, error) {
	var r store.Record
	var created, updated int64
	if err := sc.Scan(&r.Account, &r.Kind, &r.Key, &r.ID, &r.Parent, &r.Ref, &r.Path, &r.Data, &created, &updated, &r.Version); err != nil {
		return store.Record{}, err
	}
	r.Created = time.UnixMicro(created).UTC()
	r.Updated = time.UnixMicro(updated).UTC()
	return r, nil
}

func (rd reader) getOne(ctx context.Context, what, query string, args ...any) (store.Record, error) {
	r, err := scan(rd.queryRow(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Record{}, fmt.Errorf("sqlite: %s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return r, nil
}

func (rd reader) Get(ctx context.Context, account, kind, key string) (store.Record, error) {
	return rd.getOne(ctx, fmt.Sprintf("get %s/%s/%q", account, kind, key),
		qGet, account, kind, key)
}

func (rd reader) GetByID(ctx context.Context, kind, id string) (store.Record, error) {
	what := fmt.Sprintf("get %s id %q", kind, id)
	if id == "" { // records without an ID are not findable by ID
		return store.Record{}, fmt.Errorf("sqlite: %s: %w", what, store.ErrNotFound)
	}
	return rd.getOne(ctx, what, qGetByID, kind, id)
}

func (rd reader) List(ctx context.Context, q store.ListQuery) ([]store.Record, error) {
	where, args := filter(q)
	if q.After != "" {
		where += ` AND key > ?`
		args = append(args, q.After)
	}
	query := `SELECT ` + columns + ` FROM records WHERE ` + where + ` ORDER BY key`
	if q.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, q.Limit)
	}
	rows, err := rd.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list %s/%s: %w", q.Account, q.Kind, err)
	}
	defer rows.Close()
	var out []store.Record
	if q.Limit > 0 {
		out = make([]store.Record, 0, min(q.Limit, 1000))
	}
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list %s/%s: %w", q.Account, q.Kind, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list %s/%s: %w", q.Account, q.Kind, err)
	}
	return out, nil
}

func (rd reader) Count(ctx context.Context, q store.ListQuery) (int, error) {
	where, args := filter(q)
	var n int
	if err := rd.queryRow(ctx, `SELECT count(*) FROM records WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count %s/%s: %w", q.Account, q.Kind, err)
	}
	return n, nil
}

// filter renders q's selection (not After/Limit) as a WHERE clause.
//
// Prefix filters are byte ranges, prefix <= x < prefixEnd(prefix), rather
// than LIKE: SQLite's LIKE is case-insensitive for ASCII and would need
// escaping, while a range is exact, treats every character literally and can
// use the (…, path, key) index.
func filter(q store.ListQuery) (string, []any) {
	var b strings.Builder
	b.WriteString(`account = ? AND kind = ?`)
	args := []any{q.Account, q.Kind}
	if q.Parent != nil {
		b.WriteString(` AND parent = ?`)
		args = append(args, *q.Parent)
	}
	if q.Ref != nil {
		b.WriteString(` AND ref = ?`)
		args = append(args, *q.Ref)
	}
	prefix := func(col, p string) {
		if p == "" {
			return
		}
		b.WriteString(` AND ` + col + ` >= ?`)
		args = append(args, p)
		if end, ok := prefixEnd(p); ok {
			b.WriteString(` AND ` + col + ` < ?`)
			args = append(args, end)
		}
	}
	prefix("path", q.PathPrefix)
	prefix("key", q.KeyPrefix)
	return b.String(), args
}

// prefixEnd returns the least string greater than every string that starts
// with p in byte order, or false if there is none (p is all 0xff bytes).
func prefixEnd(p string) (string, bool) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// tx implements store.Tx.
type tx struct {
	reader
	written map[string]struct{} // accounts to report after commit
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{} // NULL would violate NOT NULL; the contract treats nil as empty
	}
	return b
}

func micros(t time.Time, now int64) int64 {
	if t.IsZero() {
		return now
	}
	return t.UnixMicro()
}

func (t *tx) Insert(ctx context.Context, r store.Record) error {
	now := time.Now().UnixMicro()
	created := micros(r.Created, now)
	_, err := t.exec(ctx,
		qInsert,
		r.Account, r.Kind, r.Key, r.ID, r.Parent, r.Ref, r.Path, nonNil(r.Data), created, micros(r.Updated, created))
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: insert %s/%s/%q (id %q): %w", r.Account, r.Kind, r.Key, r.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: insert %s/%s/%q: %w", r.Account, r.Kind, r.Key, err)
	}
	t.written[r.Account] = struct{}{}
	return nil
}

// Update replaces the record's attributes and data. Created is kept, Updated
// is set to now and Version incremented.
func (t *tx) Update(ctx context.Context, r store.Record) error {
	what := fmt.Sprintf("update %s/%s/%q", r.Account, r.Kind, r.Key)
	res, err := t.exec(ctx,
		qUpdate,
		r.ID, r.Parent, r.Ref, r.Path, nonNil(r.Data), time.Now().UnixMicro(),
		r.Account, r.Kind, r.Key, r.Version, r.Version)
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: %s: id %q taken: %w", what, r.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if n == 0 {
		// Either absent or a version mismatch; tell them apart.
		var v int64
		err := t.queryRow(ctx, qVersion,
			r.Account, r.Kind, r.Key).Scan(&v)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("sqlite: %s: %w", what, store.ErrNotFound)
		case err != nil:
			return fmt.Errorf("sqlite: %s: %w", what, err)
		}
		return fmt.Errorf("sqlite: %s: version %d, stored %d: %w", what, r.Version, v, store.ErrConflict)
	}
	t.written[r.Account] = struct{}{}
	return nil
}

func (t *tx) Delete(ctx context.Context, account, kind, key string) error {
	what := fmt.Sprintf("delete %s/%s/%q", account, kind, key)
	res, err := t.exec(ctx, qDelete, account, kind, key)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: %s: %w", what, store.ErrNotFound)
	}
	t.written[account] = struct{}{}
	return nil
}

func (t *tx) DeleteAll(ctx context.Context, q store.ListQuery) (int, error) {
	where, args := filter(q)
	n, err := t.bulk(ctx, q.Account, `DELETE FROM records WHERE `+where, args...)
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete all %s/%s: %w", q.Account, q.Kind, err)
	}
	return int(n), nil
}

func (t *tx) DeleteAccount(ctx context.Context, account string) error {
	if _, err := t.bulk(ctx, account, qDeleteAccount, account); err != nil {
		return fmt.Errorf("sqlite: delete account %s: %w", account, err)
	}
	return nil
}

// bulk runs a bulk write and marks account changed if it touched any row.
func (t *tx) bulk(ctx context.Context, account, query string, args ...any) (int64, error) {
	res, err := t.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if n > 0 {
		t.written[account] = struct{}{}
	}
	return n, nil
}

// loadMigrations reads the embedded migrations.
func loadMigrations() ([]migration.Migration, error) {
	return migration.Load(migrationFS, "migrations")
}

// migrate applies pending migrations in one IMMEDIATE transaction, so two
// processes opening a new file at once cannot both apply them.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	applied := map[int]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	pending, err := migration.Pending(ms, applied)
	if err != nil {
		return err
	}
	for _, m := range pending {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, time.Now().Unix()); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return tx.Commit()
}
