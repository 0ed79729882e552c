package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/store"
	"github.com/iamd/iamd/internal/store/storetest"
)

func openTemp(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(context.Background(), filepath.Join(tb.TempDir(), "iamd.db"))
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

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store { return openTemp(b) })
}

func TestOpenRejectsPaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro", "a#b"} {
		if s, err := Open(context.Background(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", p)
		}
	}
}

// TestPragmas checks the durability settings are in force on the writer.
func TestPragmas(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	cases := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", strconv.Itoa(busyTimeoutMillis)},
	}
	for _, tc := range cases {
		var got string
		if err := s.w.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tc.pragma, err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
		}
	}
	// Readers are read-only: a write through them must fail.
	if _, err := s.r.ExecContext(ctx, `DELETE FROM records`); err == nil {
		t.Error("write through the reader pool succeeded")
	}
}

// TestMigrations: reopening applies nothing twice, and a database migrated by
// a newer binary is refused.
func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	ms, err := loadMigrations()
	if err != nil || len(ms) == 0 {
		t.Fatalf("loadMigrations = %v, %v", ms, err)
	}
	for i := range 3 {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("open #%d: %v", i, err)
		}
		var n int
		if err := s.w.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != len(ms) {
			t.Fatalf("open #%d: %d migrations recorded, want %d", i, n, len(ms))
		}
		if i == 0 {
			if err := s.WithTx(ctx, func(tx store.Tx) error {
				return tx.Insert(ctx, store.Record{Account: "a", Kind: "k", Key: "survives"})
			}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Get(ctx, "a", "k", "survives"); err != nil {
			t.Fatalf("open #%d: %v", i, err)
		}
		if i == 2 {
			if _, err := s.w.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (9999, 'future.sql', 0)`); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
	}
	if s, err := Open(ctx, path); err == nil {
		s.Close()
		t.Fatal("Open of a database with an unknown migration succeeded")
	}
}

// TestConcurrentOpen: several stores (as several processes would) open a new
// file at once; migrations run exactly once and all can write.
func TestConcurrentOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	const n = 4
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			s, err := Open(ctx, path)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			errs <- s.WithTx(ctx, func(tx store.Tx) error {
				return tx.Insert(ctx, store.Record{Account: "a", Kind: "k", Key: strconv.Itoa(i)})
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var recs int
	if err := db.QueryRow(`SELECT count(*) FROM records`).Scan(&recs); err != nil || recs != n {
		t.Fatalf("records = %d, %v; want %d", recs, err, n)
	}
}

func TestPrefixEnd(t *testing.T) {
	cases := []struct {
		in   string
		want string
		ok   bool
	}{
		{"a", "b", true},
		{"/eng/", "/eng0", true},
		{"a\xff", "b", true},
		{"\xff\xff", "", false},
		{"é", "\xc3\xaa", true},
		{"", "", false},
	}
	for _, tc := range cases {
		got, ok := prefixEnd(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestQueryPlans: every lookup the driver issues is answered from an index,
// never a table scan or a temporary sort.
func TestQueryPlans(t *testing.T) {
	s := openTemp(t)
	p := func(s string) *string { return &s }
	cases := []struct {
		name string
		q    store.ListQuery
	}{
		{"kind", store.ListQuery{Account: "a", Kind: "k", After: "x", Limit: 10}},
		{"parent", store.ListQuery{Account: "a", Kind: "k", Parent: p("g"), Limit: 10}},
		{"ref", store.ListQuery{Account: "a", Kind: "k", Ref: p("r"), Limit: 10}},
		{"key prefix", store.ListQuery{Account: "a", Kind: "k", KeyPrefix: "ab", Limit: 10}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			where, args := filter(tc.q)
			plan := explain(t, s, `SELECT `+columns+` FROM records WHERE `+where+` AND key > ? ORDER BY key LIMIT 10`, append(args, tc.q.After)...)
			if strings.Contains(plan, "SCAN records") && !strings.Contains(plan, "USING") || strings.Contains(plan, "TEMP B-TREE") {
				t.Fatalf("plan without index:\n%s", plan)
			}
		})
	}
	plan := explain(t, s, `SELECT `+columns+` FROM records WHERE kind = ? AND id = ? AND id <> ''`, "user", "AIDA")
	if !strings.Contains(plan, "records_kind_id") {
		t.Fatalf("GetByID does not use records_kind_id:\n%s", plan)
	}
}

func explain(t *testing.T, s *Store, query string, args ...any) string {
	t.Helper()
	rows, err := s.r.Query(`EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	return b.String()
}

// crashChildEnv names the database file a re-executed test binary writes to.
const crashChildEnv = "IAMD_SQLITE_CRASH_CHILD"

// TestCrashDurability re-executes the test binary as a child that commits
// records and prints "ACK i" after each commit; the parent kills it with
// SIGKILL mid-stream and checks that every acknowledged record survived.
func TestCrashDurability(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDurability$", "-test.v=false")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const killAfter = 25
	last := -1
	sc := bufio.NewScanner(out)
	deadline := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		line := sc.Text()
		if n, ok := strings.CutPrefix(line, "ACK "); ok {
			if last, err = strconv.Atoi(n); err != nil {
				t.Fatalf("bad line %q", line)
			}
			if last >= killAfter {
				break
			}
		}
	}
	if last < killAfter {
		t.Fatalf("child stopped after ACK %d: %v", last, sc.Err())
	}
	// The child is mid-way through further commits: kill it without warning.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child exit: %v, want killed by SIGKILL", err)
	}

	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	defer s.Close()
	for i := 0; i <= last; i++ {
		r, err := s.Get(context.Background(), "111111111111", "crash", fmt.Sprintf("k%06d", i))
		if err != nil {
			t.Fatalf("acknowledged record %d lost: %v", i, err)
		}
		if want := fmt.Sprintf(`{"i":%d}`, i); string(r.Data) != want {
			t.Fatalf("record %d data %q, want %q", i, r.Data, want)
		}
	}
}

// crashChild commits records forever, acknowledging each on stdout only after
// WithTx returned, until the parent kills it.
func crashChild(path string) {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		err := s.WithTx(ctx, func(tx store.Tx) error {
			return tx.Insert(ctx, store.Record{Account: "111111111111", Kind: "crash",
				Key: fmt.Sprintf("k%06d", i), Data: fmt.Appendf(nil, `{"i":%d}`, i)})
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "child write:", err)
			os.Exit(2)
		}
		fmt.Printf("ACK %d\n", i)
	}
}

// TestChangesAcrossStores: two Stores on one file stand in for two processes
// (say, an admin command beside the server); each reports the other's
// commits, and its own exactly once.
func TestChangesAcrossStores(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	open := func() *Store {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	ra, rb := storetest.NewRecorder(), storetest.NewRecorder()
	a.Changes(ra.Record)
	b.Changes(rb.Record)
	write := func(s *Store, account string) {
		t.Helper()
		if err := s.WithTx(ctx, func(tx store.Tx) error {
			return tx.Insert(ctx, store.Record{Account: account, Kind: "user", Key: "k"})
		}); err != nil {
			t.Fatal(err)
		}
	}
	write(a, "111111111111")
	rb.WaitFor(t, "111111111111")
	write(b, "222222222222")
	ra.WaitFor(t, "222222222222")
	// Rolled back: logged nowhere.
	if err := b.WithTx(ctx, func(tx store.Tx) error {
		if err := tx.Insert(ctx, store.Record{Account: "333333333333", Kind: "user", Key: "k"}); err != nil {
			return err
		}
		return errors.New("rollback")
	}); err == nil {
		t.Fatal("WithTx succeeded")
	}
	write(b, "444444444444")
	ra.WaitFor(t, "444444444444")
	time.Sleep(3 * pollInterval) // let any duplicate delivery happen
	for _, c := range []struct {
		r       *storetest.Recorder
		account string
		want    int
	}{
		{ra, "111111111111", 1}, {ra, "222222222222", 1}, {ra, "333333333333", 0}, {ra, "444444444444", 1},
		{rb, "111111111111", 1}, {rb, "222222222222", 1}, {rb, "333333333333", 0},
	} {
		n := 0
		for _, s := range c.r.Seen() {
			if s == c.account {
				n++
			}
		}
		if n != c.want {
			t.Errorf("account %s reported %d times, want %d (seen %v)", c.account, n, c.want, c.r.Seen())
		}
	}
}

// TestChangesAfterPrune: a Store whose next unseen change was pruned from
// the log reports every account instead.
func TestChangesAfterPrune(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	a, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, acct := range []string{"111111111111", "222222222222"} {
		if err := a.WithTx(ctx, func(tx store.Tx) error {
			return tx.Insert(ctx, store.Record{Account: acct, Kind: "user", Key: "k"})
		}); err != nil {
			t.Fatal(err)
		}
	}
	// As if another Store had last seen seq 0 before rows 1.. were pruned
	// and then a new change (seq 3) arrived from elsewhere.
	if _, err := a.w.ExecContext(ctx, `DELETE FROM changes`); err != nil {
		t.Fatal(err)
	}
	if _, err := a.w.ExecContext(ctx, `INSERT INTO changes (origin, account, at) VALUES ('other', '333333333333', 0)`); err != nil {
		t.Fatal(err)
	}
	last, accounts, err := a.changesSince(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(accounts)
	if want := []string{"111111111111", "222222222222", "333333333333"}; last != 3 || !slices.Equal(accounts, want) {
		t.Fatalf("changesSince = %d, %v; want 3, %v", last, accounts, want)
	}
	// Without a gap only the other origin's account is reported.
	if _, accounts, err = a.changesSince(ctx, 2); err != nil || !slices.Equal(accounts, []string{"333333333333"}) {
		t.Fatalf("changesSince(2) = %v, %v", accounts, err)
	}
}
