package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/iamd/iamd/internal/store"
	"github.com/iamd/iamd/internal/store/storetest"
)

const dsnEnv = "IAMD_TEST_POSTGRES_DSN"

func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		tb.Skip("set IAMD_TEST_POSTGRES_DSN=postgres://... to run the PostgreSQL driver tests; .ci/run starts a server")
	}
	return dsn
}

var schemaSeq atomic.Int64

// freshSchema returns a schema name no other test (or earlier run) uses and
// drops the schema when the test ends.
func freshSchema(tb testing.TB) string {
	tb.Helper()
	dsn := testDSN(tb)
	name := fmt.Sprintf("iamd_t%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000_000, schemaSeq.Add(1))
	tb.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

func openSchema(tb testing.TB, schema string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), testDSN(tb), WithSchema(schema))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func openFresh(tb testing.TB) *Store { return openSchema(tb, freshSchema(tb)) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openFresh(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store { return openFresh(b) })
}

// TestCrossProcessChanges: two stores on one database stand in for two
// iamd nodes; a commit through either is reported by both.
func TestCrossProcessChanges(t *testing.T) {
	ctx := context.Background()
	schema := freshSchema(t)
	a, b := openSchema(t, schema), openSchema(t, schema)
	ra, rb := storetest.NewRecorder(), storetest.NewRecorder()
	a.Changes(ra.Record)
	b.Changes(rb.Record)

	if err := a.WithTx(ctx, func(tx store.Tx) error {
		return tx.Insert(ctx, store.Record{Account: "111111111111", Kind: "user", Key: "alice"})
	}); err != nil {
		t.Fatal(err)
	}
	rb.WaitFor(t, "111111111111")
	ra.WaitFor(t, "111111111111")

	if err := b.WithTx(ctx, func(tx store.Tx) error {
		return tx.DeleteAccount(ctx, "111111111111")
	}); err != nil {
		t.Fatal(err)
	}
	// a sees b's delete: wait for a second report of the account.
	deadline := time.Now().Add(10 * time.Second)
	for count(ra.Seen(), "111111111111") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("store a never saw store b's commit (seen %v)", ra.Seen())
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A store in another schema is another deployment: it hears nothing.
	other := openFresh(t)
	ro := storetest.NewRecorder()
	other.Changes(ro.Record)
	if err := a.WithTx(ctx, func(tx store.Tx) error {
		return tx.Insert(ctx, store.Record{Account: "222222222222", Kind: "user", Key: "bob"})
	}); err != nil {
		t.Fatal(err)
	}
	rb.WaitFor(t, "222222222222")
	if err := other.WithTx(ctx, func(tx store.Tx) error {
		return tx.Insert(ctx, store.Record{Account: "333333333333", Kind: "user", Key: "carol"})
	}); err != nil {
		t.Fatal(err)
	}
	ro.WaitFor(t, "333333333333")
	if slices.Contains(ro.Seen(), "222222222222") {
		t.Fatalf("store in another schema saw its changes: %v", ro.Seen())
	}
	if slices.Contains(rb.Seen(), "333333333333") {
		t.Fatalf("store saw changes of another schema: %v", rb.Seen())
	}
}

func count(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

// TestListenerReconnect: when the LISTEN connection dies, the store
// reconnects, reports every account (changes in between are unknown), and
// delivers later changes again.
func TestListenerReconnect(t *testing.T) {
	ctx := context.Background()
	schema := freshSchema(t)
	s, writer := openSchema(t, schema), openSchema(t, schema)
	r := storetest.NewRecorder()
	s.Changes(r.Record)
	if err := writer.WithTx(ctx, func(tx store.Tx) error {
		return tx.Insert(ctx, store.Record{Account: "111111111111", Kind: "user", Key: "alice"})
	}); err != nil {
		t.Fatal(err)
	}
	r.WaitFor(t, "111111111111")

	old := s.listenPID.Load()
	conn, err := pgx.Connect(ctx, testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, int32(old)).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend = %v, %v", ok, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for s.listenPID.Load() == old {
		if time.Now().After(deadline) {
			t.Fatal("listener did not reconnect")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The reconnect reports the existing account a second time.
	for count(r.Seen(), "111111111111") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no catch-up report after reconnect (seen %v)", r.Seen())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := writer.WithTx(ctx, func(tx store.Tx) error {
		return tx.Insert(ctx, store.Record{Account: "222222222222", Kind: "user", Key: "bob"})
	}); err != nil {
		t.Fatal(err)
	}
	r.WaitFor(t, "222222222222")
}

// TestConcurrentOpen: several nodes start at once on an empty schema; the
// advisory lock lets exactly one migrate and all of them work.
func TestConcurrentOpen(t *testing.T) {
	ctx := context.Background()
	schema := freshSchema(t)
	const n = 6
	var wg sync.WaitGroup
	stores := make([]*Store, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = Open(ctx, testDSN(t), WithSchema(schema)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
		defer stores[i].Close()
	}
	for i, s := range stores {
		if err := s.WithTx(ctx, func(tx store.Tx) error {
			return tx.Insert(ctx, store.Record{Account: "a", Kind: "k", Key: fmt.Sprint(i)})
		}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := stores[0].Count(ctx, store.ListQuery{Account: "a", Kind: "k"}); err != nil || got != n {
		t.Fatalf("Count = %d, %v; want %d", got, err, n)
	}
	ms, _ := loadMigrations()
	var recorded int
	if err := stores[0].pool.with(ctx, func(q querier) error {
		return q.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&recorded)
	}); err != nil || recorded != len(ms) {
		t.Fatalf("schema_migrations rows = %d, %v; want %d", recorded, err, len(ms))
	}
}

// TestMigrations: reopening is a no-op, and a schema migrated by a newer
// binary is refused.
func TestMigrations(t *testing.T) {
	ctx := context.Background()
	schema := freshSchema(t)
	s := openSchema(t, schema)
	if err := s.WithTx(ctx, func(tx store.Tx) error {
		return tx.Insert(ctx, store.Record{Account: "a", Kind: "k", Key: "survives"})
	}); err != nil {
		t.Fatal(err)
	}
	s2 := openSchema(t, schema)
	if _, err := s2.Get(ctx, "a", "k", "survives"); err != nil {
		t.Fatalf("record lost on reopen: %v", err)
	}
	if err := s2.pool.with(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (9999, 'future.sql')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if s3, err := Open(ctx, testDSN(t), WithSchema(schema)); err == nil {
		s3.Close()
		t.Fatal("Open of a schema with an unknown migration succeeded")
	}
}

// TestDSNParameters: the schema and pool size can come from the DSN.
func TestDSNParameters(t *testing.T) {
	ctx := context.Background()
	dsn := testDSN(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	schema := freshSchema(t)
	s, err := Open(ctx, dsn+sep+"iamd_schema="+schema+"&pool_max_conns=2")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if cap(s.pool.sem) != 2 || s.schema != schema || s.channel != "iamd_changes_"+schema {
		t.Fatalf("pool %d schema %q channel %q", cap(s.pool.sem), s.schema, s.channel)
	}
	if err := s.WithTx(ctx, func(tx store.Tx) error {
		return tx.Insert(ctx, store.Record{Account: "a", Kind: "k", Key: "x"})
	}); err != nil {
		t.Fatal(err)
	}
	// The table really is in that schema.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{schema, "records"}.Sanitize()).Scan(&n); err != nil || n != 1 {
		t.Fatalf("records in %s = %d, %v", schema, n, err)
	}

	for _, bad := range []string{"iamd_schema=Bad-Name", "iamd_schema=" + strings.Repeat("x", 41), "pool_max_conns=0", "pool_max_conns=x"} {
		if s, err := Open(ctx, dsn+sep+bad); err == nil {
			s.Close()
			t.Errorf("Open with %s succeeded", bad)
		}
	}
}

// TestSerializationRetry: two transactions that would write-skew under a
// weaker isolation level both commit, one of them after a retry, and the
// invariant they check holds.
func TestSerializationRetry(t *testing.T) {
	ctx := context.Background()
	s := openFresh(t)
	// Invariant: at most one "oncall" record per account. Each transaction
	// counts, then inserts under its own key — classic write skew.
	var attempts atomic.Int32
	// Both first attempts count before either inserts, so they overlap.
	var barrier sync.WaitGroup
	barrier.Add(2)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			first := true
			errs[i] = s.WithTx(ctx, func(tx store.Tx) error {
				attempts.Add(1)
				n, err := tx.Count(ctx, store.ListQuery{Account: "a", Kind: "oncall"})
				if err != nil {
					return err
				}
				if first {
					first = false
					barrier.Done()
					barrier.Wait()
				}
				if n > 0 {
					return nil // someone is on call already
				}
				return tx.Insert(ctx, store.Record{Account: "a", Kind: "oncall", Key: fmt.Sprint(i)})
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Count(ctx, store.ListQuery{Account: "a", Kind: "oncall"}); err != nil || n != 1 {
		t.Fatalf("oncall records = %d, %v; want exactly 1", n, err)
	}
	if attempts.Load() < 3 {
		t.Fatalf("%d attempts: the overlapping transactions were not retried", attempts.Load())
	}
}

func TestPrefixEnd(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"a", "b", true},
		{"/eng/", "/eng0", true},
		{"é", "ê", true},
		{"a\U0010FFFF", "b", true},
		{"\U0010FFFF", "", false},
		{"a\uD7FF", "a\uE000", true},
		{"", "", false},
		{"ab\xff", "", false},
	}
	for _, tc := range cases {
		got, ok := prefixEnd(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
