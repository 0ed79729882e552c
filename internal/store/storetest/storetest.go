// Package storetest is the conformance suite every store.Store driver must
// pass, plus shared benchmarks. Drivers call Run from their own tests with a
// function that opens a fresh, empty store for each subtest.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/store"
)

// Accounts used throughout the suite.
const (
	acctA = "111111111111"
	acctB = "222222222222"
	acctC = "333333333333"
)

// changeWait bounds how long the suite waits for an asynchronous Changes
// callback; generous because PostgreSQL delivers them through LISTEN.
const changeWait = 10 * time.Second

// Run runs the conformance suite. open must return a fresh, empty store and
// arrange (t.Cleanup) for it to be closed.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) store.Store)
	}{
		{"InsertGet", testInsertGet},
		{"InsertConflict", testInsertConflict},
		{"Update", testUpdate},
		{"Delete", testDelete},
		{"GetByID", testGetByID},
		{"List", testList},
		{"Paginate", testPaginate},
		{"DeleteAll", testDeleteAll},
		{"DeleteAccount", testDeleteAccount},
		{"Timestamps", testTimestamps},
		{"BinaryData", testBinaryData},
		{"TxRollbackOnError", testTxRollbackOnError},
		{"TxRollbackOnPanic", testTxRollbackOnPanic},
		{"TxReadYourWrites", testTxReadYourWrites},
		{"TxUsableAfterErrors", testTxUsableAfterErrors},
		{"TxCanceledContext", testTxCanceledContext},
		{"ConcurrentIncrements", testConcurrentIncrements},
		{"Changes", testChanges},
		{"ChangesBeforeReturn", testChangesBeforeReturn},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// testChangesBeforeReturn: a store's own commits reach its subscribers
// before WithTx returns, so a process reads its own writes through caches
// invalidated by Changes.
func testChangesBeforeReturn(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	var mu sync.Mutex
	seen := map[string]bool{}
	s.Changes(func(a string) {
		mu.Lock()
		seen[a] = true
		mu.Unlock()
	})
	for i := range 20 {
		acct := fmt.Sprintf("3000000000%02d", i)
		mustTx(t, s, func(tx store.Tx) error { return tx.Insert(context.Background(), rec(acct, "k", "x")) })
		mu.Lock()
		ok := seen[acct]
		mu.Unlock()
		if !ok {
			t.Fatalf("commit to %s not reported by the time WithTx returned", acct)
		}
	}
}

// --- helpers ---------------------------------------------------------------

func rec(account, kind, key string) store.Record {
	return store.Record{Account: account, Kind: kind, Key: key, Data: []byte(`{"k":"` + key + `"}`)}
}

func mustTx(t testing.TB, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.WithTx(context.Background(), fn); err != nil {
		t.Fatalf("WithTx: %v", err)
	}
}

func mustInsert(t testing.TB, s store.Store, rs ...store.Record) {
	t.Helper()
	mustTx(t, s, func(tx store.Tx) error {
		for _, r := range rs {
			if err := tx.Insert(context.Background(), r); err != nil {
				return fmt.Errorf("insert %s/%s/%s: %w", r.Account, r.Kind, r.Key, err)
			}
		}
		return nil
	})
}

func mustGet(t testing.TB, s store.Reader, account, kind, key string) store.Record {
	t.Helper()
	r, err := s.Get(context.Background(), account, kind, key)
	if err != nil {
		t.Fatalf("Get(%s, %s, %q): %v", account, kind, key, err)
	}
	return r
}

func wantNotFound(t testing.TB, s store.Reader, account, kind, key string) {
	t.Helper()
	_, err := s.Get(context.Background(), account, kind, key)
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%s, %s, %q) = %v, want ErrNotFound", account, kind, key, err)
	}
}

// sameContent compares the caller-controlled fields of two records.
func sameContent(t testing.TB, got, want store.Record) {
	t.Helper()
	if got.Account != want.Account || got.Kind != want.Kind || got.Key != want.Key ||
		got.ID != want.ID || got.Parent != want.Parent || got.Ref != want.Ref || got.Path != want.Path {
		t.Fatalf("record mismatch:\n got  %+v\n want %+v", brief(got), brief(want))
	}
	if !bytes.Equal(got.Data, want.Data) {
		t.Fatalf("record %s Data = %q, want %q", want.Key, got.Data, want.Data)
	}
}

func brief(r store.Record) string {
	return fmt.Sprintf("{%s %s %q id=%q parent=%q ref=%q path=%q v=%d}",
		r.Account, r.Kind, r.Key, r.ID, r.Parent, r.Ref, r.Path, r.Version)
}

func keys(rs []store.Record) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Key)
	}
	return out
}

func ptr(s string) *string { return &s }

// --- CRUD ------------------------------------------------------------------

func testInsertGet(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	cases := []store.Record{
		{Account: acctA, Kind: "user", Key: "alice", ID: "AIDAALICE", Parent: "p", Ref: "r", Path: "/eng/", Data: []byte(`{"n":"Alice"}`)},
		{Account: acctA, Kind: "user", Key: "bob", Data: []byte(`{}`)},
		{Account: acctB, Kind: "user", Key: "alice", ID: "AIDAALICEB", Data: []byte(`{"acct":"b"}`)},
		{Account: store.GlobalAccount, Kind: "account", Key: acctA, Data: []byte(`{}`)},
		{Account: acctA, Kind: "user", Key: "ünïcødé-名前", Path: "/ü/", Data: []byte(`"x"`)},
		{Account: acctA, Kind: "policy", Key: "with space and 'quote\"", Data: []byte(`1`)},
	}
	mustInsert(t, s, cases...)
	for _, want := range cases {
		t.Run(want.Account+"/"+want.Kind+"/"+want.Key, func(t *testing.T) {
			got := mustGet(t, s, want.Account, want.Kind, want.Key)
			sameContent(t, got, want)
			if got.Version != 1 {
				t.Errorf("Version = %d, want 1", got.Version)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		for _, k := range [][3]string{
			{acctA, "user", "carol"},
			{acctC, "user", "alice"},
			{acctA, "group", "alice"},
			{acctA, "user", "ALICE"}, // keys are case-sensitive; services lower-case them
		} {
			wantNotFound(t, s, k[0], k[1], k[2])
		}
	})
}

func testInsertConflict(t *testing.T, open func(t *testing.T) store.Store) {
	cases := []struct {
		name     string
		existing store.Record
		insert   store.Record
		conflict bool
	}{
		{"duplicate key", store.Record{Account: acctA, Kind: "user", Key: "a"}, store.Record{Account: acctA, Kind: "user", Key: "a"}, true},
		{"same key other account", store.Record{Account: acctA, Kind: "user", Key: "a"}, store.Record{Account: acctB, Kind: "user", Key: "a"}, false},
		{"same key other kind", store.Record{Account: acctA, Kind: "user", Key: "a"}, store.Record{Account: acctA, Kind: "role", Key: "a"}, false},
		{"duplicate id same account", store.Record{Account: acctA, Kind: "user", Key: "a", ID: "AIDA1"}, store.Record{Account: acctA, Kind: "user", Key: "b", ID: "AIDA1"}, true},
		{"duplicate id across accounts", store.Record{Account: acctA, Kind: "user", Key: "a", ID: "AIDA1"}, store.Record{Account: acctB, Kind: "user", Key: "b", ID: "AIDA1"}, true},
		{"same id other kind", store.Record{Account: acctA, Kind: "user", Key: "a", ID: "X1"}, store.Record{Account: acctA, Kind: "role", Key: "b", ID: "X1"}, false},
		{"empty ids never collide", store.Record{Account: acctA, Kind: "user", Key: "a"}, store.Record{Account: acctB, Kind: "user", Key: "b"}, false},
		{"id differs only in case", store.Record{Account: acctA, Kind: "user", Key: "a", ID: "AIDAX"}, store.Record{Account: acctA, Kind: "user", Key: "b", ID: "aidax"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			mustInsert(t, s, tc.existing)
			err := s.WithTx(context.Background(), func(tx store.Tx) error {
				return tx.Insert(context.Background(), tc.insert)
			})
			if tc.conflict {
				if !errors.Is(err, store.ErrConflict) {
					t.Fatalf("Insert = %v, want ErrConflict", err)
				}
				// The existing record is untouched and nothing else was written.
				sameContent(t, mustGet(t, s, tc.existing.Account, tc.existing.Kind, tc.existing.Key), tc.existing)
				if tc.insert.Key != tc.existing.Key || tc.insert.Account != tc.existing.Account {
					wantNotFound(t, s, tc.insert.Account, tc.insert.Kind, tc.insert.Key)
				}
				return
			}
			if err != nil {
				t.Fatalf("Insert = %v, want success", err)
			}
			sameContent(t, mustGet(t, s, tc.insert.Account, tc.insert.Kind, tc.insert.Key), tc.insert)
		})
	}
}

func testUpdate(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	base := store.Record{Account: acctA, Kind: "user", Key: "alice", ID: "AIDAALICE", Parent: "p1", Ref: "r1", Path: "/a/", Data: []byte(`{"v":1}`)}
	other := store.Record{Account: acctB, Kind: "user", Key: "bob", ID: "AIDABOB", Data: []byte(`{}`)}

	cases := []struct {
		name    string
		update  func(r store.Record) store.Record // derives the update from the stored record
		wantErr error
		version int64 // expected stored version afterwards
	}{
		{"unconditional", func(r store.Record) store.Record {
			r.Version = 0
			r.Data = []byte(`{"v":2}`)
			return r
		}, nil, 2},
		{"matching version", func(r store.Record) store.Record {
			r.Data = []byte(`{"v":2}`)
			return r
		}, nil, 2},
		{"stale version", func(r store.Record) store.Record {
			r.Version = 7
			r.Data = []byte(`{"v":2}`)
			return r
		}, store.ErrConflict, 1},
		{"missing key", func(r store.Record) store.Record {
			r.Key = "nobody"
			r.ID = ""
			r.Version = 0
			return r
		}, store.ErrNotFound, 1},
		{"missing key with version", func(r store.Record) store.Record {
			r.Key = "nobody"
			r.ID = ""
			return r
		}, store.ErrNotFound, 1},
		{"other account same key", func(r store.Record) store.Record {
			r.Account = acctC
			r.ID = ""
			return r
		}, store.ErrNotFound, 1},
		{"id taken by another account's record", func(r store.Record) store.Record {
			r.ID = other.ID
			return r
		}, store.ErrConflict, 1},
		{"change every attribute", func(r store.Record) store.Record {
			r.ID, r.Parent, r.Ref, r.Path, r.Data = "AIDANEW", "p2", "r2", "/b/", []byte(`{"v":3}`)
			return r
		}, nil, 2},
		{"clear attributes", func(r store.Record) store.Record {
			r.ID, r.Parent, r.Ref, r.Path, r.Data = "", "", "", "", nil
			return r
		}, nil, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			mustInsert(t, s, base, other)
			stored := mustGet(t, s, base.Account, base.Kind, base.Key)
			upd := tc.update(stored)
			err := s.WithTx(ctx, func(tx store.Tx) error { return tx.Update(ctx, upd) })
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Update = %v, want %v", err, tc.wantErr)
				}
				got := mustGet(t, s, base.Account, base.Kind, base.Key)
				sameContent(t, got, base)
				if got.Version != tc.version {
					t.Fatalf("Version = %d, want %d", got.Version, tc.version)
				}
				if upd.Key != base.Key || upd.Account != base.Account {
					wantNotFound(t, s, upd.Account, upd.Kind, upd.Key) // Update never inserts
				}
				return
			}
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			got := mustGet(t, s, base.Account, base.Kind, base.Key)
			sameContent(t, got, upd)
			if got.Version != tc.version {
				t.Fatalf("Version = %d, want %d", got.Version, tc.version)
			}
			// The ID index follows the update.
			if upd.ID != base.ID {
				if _, err := s.GetByID(ctx, base.Kind, base.ID); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("GetByID(old id) = %v, want ErrNotFound", err)
				}
			}
			if upd.ID != "" {
				byID, err := s.GetByID(ctx, base.Kind, upd.ID)
				if err != nil || byID.Key != base.Key {
					t.Errorf("GetByID(new id) = %v, %v", brief(byID), err)
				}
			}
			// Parent/Ref/Path indexes follow the update too.
			for _, q := range []store.ListQuery{
				{Account: acctA, Kind: "user", Parent: ptr(upd.Parent)},
				{Account: acctA, Kind: "user", Ref: ptr(upd.Ref)},
				{Account: acctA, Kind: "user", PathPrefix: upd.Path},
			} {
				rs, err := s.List(ctx, q)
				if err != nil || !slices.Equal(keys(rs), []string{"alice"}) {
					t.Errorf("List(%+v) = %v, %v; want [alice]", q, keys(rs), err)
				}
			}
		})
	}

	t.Run("successive versions", func(t *testing.T) {
		s := open(t)
		mustInsert(t, s, base)
		for want := int64(2); want <= 5; want++ {
			r := mustGet(t, s, base.Account, base.Kind, base.Key)
			r.Data = fmt.Appendf(nil, `{"v":%d}`, want)
			mustTx(t, s, func(tx store.Tx) error { return tx.Update(ctx, r) })
			got := mustGet(t, s, base.Account, base.Kind, base.Key)
			if got.Version != want || !bytes.Equal(got.Data, r.Data) {
				t.Fatalf("after update: version %d data %s, want %d %s", got.Version, got.Data, want, r.Data)
			}
			// Re-using the now stale version fails.
			err := s.WithTx(ctx, func(tx store.Tx) error { return tx.Update(ctx, r) })
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("stale update = %v, want ErrConflict", err)
			}
		}
	})
}

func testDelete(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	mustInsert(t, s,
		store.Record{Account: acctA, Kind: "user", Key: "a", ID: "ID-A"},
		store.Record{Account: acctA, Kind: "user", Key: "b"},
		store.Record{Account: acctB, Kind: "user", Key: "a"},
	)
	cases := []struct {
		name               string
		account, kind, key string
		wantErr            error
	}{
		{"existing", acctA, "user", "a", nil},
		{"already deleted", acctA, "user", "a", store.ErrNotFound},
		{"never existed", acctA, "user", "zzz", store.ErrNotFound},
		{"wrong kind", acctA, "group", "b", store.ErrNotFound},
		{"wrong account", acctC, "user", "b", store.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.WithTx(ctx, func(tx store.Tx) error { return tx.Delete(ctx, tc.account, tc.kind, tc.key) })
			if !errors.Is(err, tc.wantErr) { // errors.Is(err, nil) means err == nil
				t.Fatalf("Delete = %v, want %v", err, tc.wantErr)
			}
		})
	}
	wantNotFound(t, s, acctA, "user", "a")
	mustGet(t, s, acctA, "user", "b")
	mustGet(t, s, acctB, "user", "a")
	if _, err := s.GetByID(ctx, "user", "ID-A"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetByID after delete = %v, want ErrNotFound", err)
	}
	// Both the key and the ID are free again.
	mustInsert(t, s, store.Record{Account: acctC, Kind: "user", Key: "a", ID: "ID-A"})
	mustInsert(t, s, store.Record{Account: acctA, Kind: "user", Key: "a"})
}

func testGetByID(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	mustInsert(t, s,
		store.Record{Account: acctA, Kind: "user", Key: "alice", ID: "AIDA1", Data: []byte("a")},
		store.Record{Account: acctB, Kind: "user", Key: "bob", ID: "AIDA2", Data: []byte("b")},
		store.Record{Account: acctA, Kind: "role", Key: "admin", ID: "AIDA1", Data: []byte("r")},
		store.Record{Account: acctA, Kind: "user", Key: "noid", Data: []byte("n")},
	)
	cases := []struct {
		kind, id string
		wantAcct string
		wantKey  string // "" means ErrNotFound
	}{
		{"user", "AIDA1", acctA, "alice"},
		{"user", "AIDA2", acctB, "bob"},
		{"role", "AIDA1", acctA, "admin"},
		{"role", "AIDA2", "", ""},
		{"user", "AIDA3", "", ""},
		{"user", "aida1", "", ""},
		{"user", "", "", ""}, // an empty ID never matches records without one
		{"group", "AIDA1", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.kind+"/"+tc.id, func(t *testing.T) {
			got, err := s.GetByID(ctx, tc.kind, tc.id)
			if tc.wantKey == "" {
				if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("GetByID = %v, %v; want ErrNotFound", brief(got), err)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetByID: %v", err)
			}
			if got.Account != tc.wantAcct || got.Key != tc.wantKey || got.Kind != tc.kind || got.ID != tc.id {
				t.Fatalf("GetByID = %v, want %s/%s", brief(got), tc.wantAcct, tc.wantKey)
			}
			if got.Version != 1 || len(got.Data) != 1 {
				t.Fatalf("GetByID returned incomplete record %v data %q", brief(got), got.Data)
			}
		})
	}
}

// listFixture is a data set whose keys and paths exercise byte ordering and
// LIKE metacharacters.
func listFixture() []store.Record {
	mk := func(key, parent, ref, path string) store.Record {
		r := rec(acctA, "user", key)
		r.Parent, r.Ref, r.Path = parent, ref, path
		return r
	}
	return []store.Record{
		mk("b", "g1", "pol1", "/"),
		mk("a", "g1", "pol2", "/eng/"),
		mk("B", "g2", "pol1", "/eng/team/"),
		mk("a%", "", "", "/100%/"),
		mk("a_", "g1", "", "/a_b/"),
		mk("ab", "g2", "pol1", "/axb/"),
		mk(`a\`, "", "pol2", `/back\slash/`),
		mk(`a\b`, "", "", "/engineering/"),
		mk("aXb", "g1", "", "/100x/"),
		mk("é", "g2", "", "/ü/"),
		mk("z", "", "pol1", "/eng/"),
		mk("A", "", "", ""),
		// Same kind, other account, and other kind, same account: never listed.
		{Account: acctB, Kind: "user", Key: "a", Parent: "g1", Ref: "pol1", Path: "/eng/", Data: rec("", "", "a").Data},
		{Account: acctA, Kind: "group", Key: "a", Parent: "g1", Ref: "pol1", Path: "/eng/", Data: rec("", "", "a").Data},
	}
}

// fixtureKeys are the (acctA, user) keys of listFixture in byte order.
var fixtureKeys = []string{"A", "B", "a", "a%", "aXb", `a\`, `a\b`, "a_", "ab", "b", "z", "é"}

// except returns fixtureKeys without the given keys.
func except(drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(fixtureKeys), func(k string) bool { return slices.Contains(drop, k) })
}

func testList(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	mustInsert(t, s, listFixture()...)
	// All keys of (acctA, user) in byte order.
	all := fixtureKeys
	if !slices.IsSorted(all) {
		t.Fatal("fixture order is not byte order")
	}
	q := func(mod func(q *store.ListQuery)) store.ListQuery {
		l := store.ListQuery{Account: acctA, Kind: "user"}
		if mod != nil {
			mod(&l)
		}
		return l
	}
	cases := []struct {
		name  string
		q     store.ListQuery
		want  []string
		count int // what Count returns (ignores After/Limit); -1: len(want)
	}{
		{"all", q(nil), all, -1},
		{"other account", store.ListQuery{Account: acctB, Kind: "user"}, []string{"a"}, -1},
		{"empty account", store.ListQuery{Account: acctC, Kind: "user"}, nil, -1},
		{"unknown kind", store.ListQuery{Account: acctA, Kind: "nope"}, nil, -1},
		{"limit", q(func(q *store.ListQuery) { q.Limit = 3 }), []string{"A", "B", "a"}, len(all)},
		{"limit larger than set", q(func(q *store.ListQuery) { q.Limit = 100 }), all, -1},
		{"after", q(func(q *store.ListQuery) { q.After = "b" }), []string{"z", "é"}, len(all)},
		{"after non-existent key", q(func(q *store.ListQuery) { q.After = "aa" }), []string{"ab", "b", "z", "é"}, len(all)},
		{"after and limit", q(func(q *store.ListQuery) { q.After = "a"; q.Limit = 2 }), []string{"a%", "aXb"}, len(all)},
		{"after last", q(func(q *store.ListQuery) { q.After = "é" }), nil, len(all)},
		{"parent", q(func(q *store.ListQuery) { q.Parent = ptr("g1") }), []string{"a", "aXb", "a_", "b"}, -1},
		{"empty parent", q(func(q *store.ListQuery) { q.Parent = ptr("") }), []string{"A", "a%", `a\`, `a\b`, "z"}, -1},
		{"parent no match", q(func(q *store.ListQuery) { q.Parent = ptr("G1") }), nil, -1},
		{"ref", q(func(q *store.ListQuery) { q.Ref = ptr("pol1") }), []string{"B", "ab", "b", "z"}, -1},
		{"parent and ref", q(func(q *store.ListQuery) { q.Parent = ptr("g2"); q.Ref = ptr("pol1") }), []string{"B", "ab"}, -1},
		{"parent with limit", q(func(q *store.ListQuery) { q.Parent = ptr("g1"); q.Limit = 2 }), []string{"a", "aXb"}, 4},
		{"parent with after", q(func(q *store.ListQuery) { q.Parent = ptr("g1"); q.After = "aXb" }), []string{"a_", "b"}, 4},
		{"path prefix root", q(func(q *store.ListQuery) { q.PathPrefix = "/" }), except("A"), -1},
		{"path prefix", q(func(q *store.ListQuery) { q.PathPrefix = "/eng/" }), []string{"B", "a", "z"}, -1},
		{"path prefix partial segment", q(func(q *store.ListQuery) { q.PathPrefix = "/eng" }), []string{"B", "a", `a\b`, "z"}, -1},
		{"path prefix percent is literal", q(func(q *store.ListQuery) { q.PathPrefix = "/100%" }), []string{"a%"}, -1},
		{"path prefix underscore is literal", q(func(q *store.ListQuery) { q.PathPrefix = "/a_" }), []string{"a_"}, -1},
		{"path prefix backslash is literal", q(func(q *store.ListQuery) { q.PathPrefix = `/back\` }), []string{`a\`}, -1},
		{"path prefix case-sensitive", q(func(q *store.ListQuery) { q.PathPrefix = "/ENG/" }), nil, -1},
		{"path prefix unicode", q(func(q *store.ListQuery) { q.PathPrefix = "/ü" }), []string{"é"}, -1},
		{"path prefix with ref", q(func(q *store.ListQuery) { q.PathPrefix = "/eng/"; q.Ref = ptr("pol1") }), []string{"B", "z"}, -1},
		{"key prefix", q(func(q *store.ListQuery) { q.KeyPrefix = "a" }), []string{"a", "a%", "aXb", `a\`, `a\b`, "a_", "ab"}, -1},
		{"key prefix percent is literal", q(func(q *store.ListQuery) { q.KeyPrefix = "a%" }), []string{"a%"}, -1},
		{"key prefix underscore is literal", q(func(q *store.ListQuery) { q.KeyPrefix = "a_" }), []string{"a_"}, -1},
		{"key prefix backslash is literal", q(func(q *store.ListQuery) { q.KeyPrefix = `a\` }), []string{`a\`, `a\b`}, -1},
		{"key prefix case-sensitive", q(func(q *store.ListQuery) { q.KeyPrefix = "A" }), []string{"A"}, -1},
		{"key prefix whole key", q(func(q *store.ListQuery) { q.KeyPrefix = "ab" }), []string{"ab"}, -1},
		{"key prefix longer than keys", q(func(q *store.ListQuery) { q.KeyPrefix = "abc" }), nil, -1},
		{"key prefix unicode", q(func(q *store.ListQuery) { q.KeyPrefix = "é" }), []string{"é"}, -1},
		{"key prefix with after and limit", q(func(q *store.ListQuery) { q.KeyPrefix = "a"; q.After = "a%"; q.Limit = 2 }), []string{"aXb", `a\`}, 7},
		{"key prefix and path prefix", q(func(q *store.ListQuery) { q.KeyPrefix = "a"; q.PathPrefix = "/100" }), []string{"a%", "aXb"}, -1},
		{"global account", store.ListQuery{Account: store.GlobalAccount, Kind: "user"}, nil, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := s.List(ctx, tc.q)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if got := keys(rs); !slices.Equal(got, tc.want) {
				t.Fatalf("List keys = %q, want %q", got, tc.want)
			}
			for _, r := range rs {
				if r.Account != tc.q.Account || r.Kind != tc.q.Kind || r.Version != 1 || !bytes.Equal(r.Data, rec("", "", r.Key).Data) {
					t.Fatalf("List returned incomplete record %v data %q", brief(r), r.Data)
				}
			}
			wantCount := tc.count
			if wantCount < 0 {
				wantCount = len(tc.want)
			}
			n, err := s.Count(ctx, tc.q)
			if err != nil {
				t.Fatalf("Count: %v", err)
			}
			if n != wantCount {
				t.Fatalf("Count = %d, want %d", n, wantCount)
			}
		})
	}
}

func testPaginate(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	var want []string
	var rs []store.Record
	for i := range 57 {
		r := rec(acctA, "user", fmt.Sprintf("u%03d", (i*37)%57)) // inserted out of order
		r.Parent = "g"
		rs = append(rs, r)
		want = append(want, r.Key)
	}
	mustInsert(t, s, rs...)
	sort.Strings(want)
	for _, pageSize := range []int{1, 10, 56, 57, 58} {
		t.Run(fmt.Sprint(pageSize), func(t *testing.T) {
			var got []string
			after := ""
			for pages := 0; ; pages++ {
				if pages > 60 {
					t.Fatal("pagination does not terminate")
				}
				page, err := s.List(ctx, store.ListQuery{Account: acctA, Kind: "user", Parent: ptr("g"), After: after, Limit: pageSize})
				if err != nil {
					t.Fatalf("List: %v", err)
				}
				if len(page) > pageSize {
					t.Fatalf("page of %d records exceeds limit %d", len(page), pageSize)
				}
				got = append(got, keys(page)...)
				if len(page) < pageSize {
					break
				}
				after = page[len(page)-1].Key
			}
			if !slices.Equal(got, want) {
				t.Fatalf("paginated keys = %v, want %v", got, want)
			}
		})
	}
}

func testDeleteAll(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	cases := []struct {
		name      string
		q         store.ListQuery
		removed   int
		remaining []string // (acctA, user) keys left
	}{
		{"whole kind", store.ListQuery{Account: acctA, Kind: "user"}, 12, nil},
		{"parent", store.ListQuery{Account: acctA, Kind: "user", Parent: ptr("g1")}, 4, except("a", "a_", "aXb", "b")},
		{"ref", store.ListQuery{Account: acctA, Kind: "user", Ref: ptr("pol2")}, 2, except("a", `a\`)},
		{"path prefix literal", store.ListQuery{Account: acctA, Kind: "user", PathPrefix: "/a_"}, 1, except("a_")},
		{"key prefix literal", store.ListQuery{Account: acctA, Kind: "user", KeyPrefix: `a\`}, 2, except(`a\`, `a\b`)},
		{"limit and after ignored", store.ListQuery{Account: acctA, Kind: "user", KeyPrefix: "a", After: "ab", Limit: 1}, 7, []string{"A", "B", "b", "z", "é"}},
		{"no match", store.ListQuery{Account: acctA, Kind: "user", Parent: ptr("nope")}, 0, fixtureKeys},
		{"other account", store.ListQuery{Account: acctC, Kind: "user"}, 0, fixtureKeys},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			mustInsert(t, s, listFixture()...)
			var n int
			mustTx(t, s, func(tx store.Tx) error {
				var err error
				n, err = tx.DeleteAll(ctx, tc.q)
				return err
			})
			if n != tc.removed {
				t.Fatalf("DeleteAll removed %d, want %d", n, tc.removed)
			}
			rs, err := s.List(ctx, store.ListQuery{Account: acctA, Kind: "user"})
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(rs); !slices.Equal(got, tc.remaining) {
				t.Fatalf("remaining = %q, want %q", got, tc.remaining)
			}
			// Records of other accounts and kinds are never touched.
			mustGet(t, s, acctB, "user", "a")
			mustGet(t, s, acctA, "group", "a")
		})
	}
}

func testDeleteAccount(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	mustInsert(t, s,
		store.Record{Account: acctA, Kind: "user", Key: "a", ID: "AIDA-A"},
		store.Record{Account: acctA, Kind: "group", Key: "g"},
		store.Record{Account: acctA, Kind: "policy", Key: "p", Path: "/"},
		store.Record{Account: acctB, Kind: "user", Key: "a", ID: "AIDA-B"},
		store.Record{Account: store.GlobalAccount, Kind: "account", Key: acctA},
	)
	mustTx(t, s, func(tx store.Tx) error { return tx.DeleteAccount(ctx, acctA) })
	for _, kind := range []string{"user", "group", "policy"} {
		if n, err := s.Count(ctx, store.ListQuery{Account: acctA, Kind: kind}); err != nil || n != 0 {
			t.Fatalf("Count(%s) after DeleteAccount = %d, %v", kind, n, err)
		}
	}
	if _, err := s.GetByID(ctx, "user", "AIDA-A"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetByID after DeleteAccount = %v", err)
	}
	mustGet(t, s, acctB, "user", "a")
	mustGet(t, s, store.GlobalAccount, "account", acctA)
	// Deleting an empty account is not an error.
	mustTx(t, s, func(tx store.Tx) error { return tx.DeleteAccount(ctx, acctC) })
	// The account can be reused, IDs included.
	mustInsert(t, s, store.Record{Account: acctA, Kind: "user", Key: "a", ID: "AIDA-A"})
}

func testTimestamps(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	// Drivers keep microsecond precision (PostgreSQL's); allow for that.
	before := time.Now().Add(-time.Millisecond)
	mustInsert(t, s, rec(acctA, "user", "auto"))
	after := time.Now().Add(time.Millisecond)
	got := mustGet(t, s, acctA, "user", "auto")
	if got.Created.Before(before) || got.Created.After(after) {
		t.Fatalf("Created = %v, want between %v and %v", got.Created, before, after)
	}
	if !got.Updated.Equal(got.Created) {
		t.Fatalf("Updated = %v, want Created %v", got.Updated, got.Created)
	}
	if got.Created.Location() != time.UTC {
		t.Errorf("Created location = %v, want UTC", got.Created.Location())
	}

	created := time.Date(2020, 2, 29, 12, 34, 56, 123456000, time.UTC)
	updated := time.Date(2021, 3, 1, 1, 2, 3, 654321000, time.FixedZone("x", 3600))
	r := rec(acctA, "user", "explicit")
	r.Created, r.Updated, r.Version = created, updated, 42 // Version is the store's, not ours
	mustInsert(t, s, r)
	got = mustGet(t, s, acctA, "user", "explicit")
	if !got.Created.Equal(created) || !got.Updated.Equal(updated) {
		t.Fatalf("explicit times round-trip as %v / %v, want %v / %v", got.Created, got.Updated, created, updated)
	}
	if got.Version != 1 {
		t.Fatalf("Version after Insert = %d, want 1", got.Version)
	}

	// Update keeps Created, moves Updated forward and bumps Version.
	got.Data = []byte(`{"changed":true}`)
	got.Created = time.Time{}
	mustTx(t, s, func(tx store.Tx) error { return tx.Update(ctx, got) })
	upd := mustGet(t, s, acctA, "user", "explicit")
	if !upd.Created.Equal(created) {
		t.Fatalf("Created after Update = %v, want %v", upd.Created, created)
	}
	if upd.Updated.Before(before) {
		t.Fatalf("Updated after Update = %v, want >= %v", upd.Updated, before)
	}
	if upd.Version != 2 {
		t.Fatalf("Version after Update = %d, want 2", upd.Version)
	}
	// List and GetByID return the same metadata as Get.
	rs, err := s.List(ctx, store.ListQuery{Account: acctA, Kind: "user", KeyPrefix: "explicit"})
	if err != nil || len(rs) != 1 {
		t.Fatalf("List = %v, %v", rs, err)
	}
	if !rs[0].Created.Equal(upd.Created) || !rs[0].Updated.Equal(upd.Updated) || rs[0].Version != upd.Version {
		t.Fatalf("List metadata %v/%v/%d differs from Get %v/%v/%d",
			rs[0].Created, rs[0].Updated, rs[0].Version, upd.Created, upd.Updated, upd.Version)
	}
}

func testBinaryData(t *testing.T, open func(t *testing.T) store.Store) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), 1<<16) // ~1.1 MiB
	cases := []struct {
		name string
		data []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"every byte", all},
		{"nul only", []byte{0}},
		{"invalid utf-8", []byte{0xc3, 0x28, 0xff, 0xfe}},
		{"large", big},
	}
	ctx := context.Background()
	s := open(t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := store.Record{Account: acctA, Kind: "blob", Key: fmt.Sprint(i), Data: tc.data}
			mustInsert(t, s, r)
			if got := mustGet(t, s, acctA, "blob", r.Key); !bytes.Equal(got.Data, tc.data) {
				t.Fatalf("Data round-trip: got %d bytes, want %d", len(got.Data), len(tc.data))
			}
			// Update round-trips too, including from empty to non-empty.
			r.Data = append(slices.Clone(tc.data), 0, 1, 2)
			mustTx(t, s, func(tx store.Tx) error { return tx.Update(ctx, r) })
			if got := mustGet(t, s, acctA, "blob", r.Key); !bytes.Equal(got.Data, r.Data) {
				t.Fatalf("Data after Update: got %d bytes, want %d", len(got.Data), len(r.Data))
			}
		})
	}
	// Data returned by one read is not shared with the next.
	a := mustGet(t, s, acctA, "blob", "2")
	a.Data[0] = 'X'
	if b := mustGet(t, s, acctA, "blob", "2"); b.Data[0] != 0 {
		t.Fatal("Data returned by Get aliases driver memory")
	}
}

// --- transactions ----------------------------------------------------------

func testTxRollbackOnError(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	sentinel := errors.New("boom")
	cases := []struct {
		name string
		fn   func(tx store.Tx) error
	}{
		{"insert", func(tx store.Tx) error {
			if err := tx.Insert(ctx, rec(acctA, "user", "new")); err != nil {
				return err
			}
			return sentinel
		}},
		{"update", func(tx store.Tx) error {
			r := rec(acctA, "user", "keep")
			r.Data = []byte("changed")
			if err := tx.Update(ctx, r); err != nil {
				return err
			}
			return sentinel
		}},
		{"delete", func(tx store.Tx) error {
			if err := tx.Delete(ctx, acctA, "user", "keep"); err != nil {
				return err
			}
			return sentinel
		}},
		{"delete all", func(tx store.Tx) error {
			if _, err := tx.DeleteAll(ctx, store.ListQuery{Account: acctA, Kind: "user"}); err != nil {
				return err
			}
			return sentinel
		}},
		{"delete account", func(tx store.Tx) error {
			if err := tx.DeleteAccount(ctx, acctA); err != nil {
				return err
			}
			return sentinel
		}},
		{"many writes", func(tx store.Tx) error {
			for i := range 20 {
				if err := tx.Insert(ctx, rec(acctB, "user", fmt.Sprint(i))); err != nil {
					return err
				}
			}
			if err := tx.Delete(ctx, acctA, "user", "keep"); err != nil {
				return err
			}
			return fmt.Errorf("wrapped: %w", sentinel)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			keep := rec(acctA, "user", "keep")
			mustInsert(t, s, keep)
			err := s.WithTx(ctx, tc.fn)
			if !errors.Is(err, sentinel) {
				t.Fatalf("WithTx = %v, want the error fn returned", err)
			}
			if tc.name != "many writes" && err != sentinel {
				t.Fatalf("WithTx returned %v (%T), want fn's error unchanged", err, err)
			}
			got := mustGet(t, s, acctA, "user", "keep")
			sameContent(t, got, keep)
			if got.Version != 1 {
				t.Fatalf("Version = %d after rollback, want 1", got.Version)
			}
			wantNotFound(t, s, acctA, "user", "new")
			for _, acct := range []string{acctA, acctB} {
				n, err := s.Count(ctx, store.ListQuery{Account: acct, Kind: "user"})
				want := map[string]int{acctA: 1, acctB: 0}[acct]
				if err != nil || n != want {
					t.Fatalf("Count(%s) = %d, %v; want %d", acct, n, err, want)
				}
			}
		})
	}
}

func testTxRollbackOnPanic(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	type marker struct{ v int }
	func() {
		defer func() {
			p := recover()
			if m, ok := p.(marker); !ok || m.v != 42 {
				t.Fatalf("recovered %v, want the original panic value", p)
			}
		}()
		_ = s.WithTx(ctx, func(tx store.Tx) error {
			if err := tx.Insert(ctx, rec(acctA, "user", "ghost")); err != nil {
				return err
			}
			panic(marker{42})
		})
		t.Fatal("WithTx returned instead of propagating the panic")
	}()
	wantNotFound(t, s, acctA, "user", "ghost")
	// The store is still usable: the writer was released by the rollback.
	done := make(chan struct{})
	go func() {
		defer close(done)
		mustInsert(t, s, rec(acctA, "user", "after"))
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("WithTx after a panicking transaction did not complete")
	}
	mustGet(t, s, acctA, "user", "after")
	wantNotFound(t, s, acctA, "user", "ghost")
}

func testTxReadYourWrites(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	mustInsert(t, s, store.Record{Account: acctA, Kind: "user", Key: "old", ID: "ID-OLD", Parent: "g", Data: []byte("old")})
	mustTx(t, s, func(tx store.Tx) error {
		n := store.Record{Account: acctA, Kind: "user", Key: "new", ID: "ID-NEW", Parent: "g", Path: "/p/", Data: []byte("new")}
		if err := tx.Insert(ctx, n); err != nil {
			return err
		}
		checks := []struct {
			name string
			fn   func() error
		}{
			{"Get sees insert", func() error {
				r, err := tx.Get(ctx, acctA, "user", "new")
				if err != nil || string(r.Data) != "new" || r.Version != 1 {
					return fmt.Errorf("get = %v %q, %v", brief(r), r.Data, err)
				}
				return nil
			}},
			{"GetByID sees insert", func() error {
				r, err := tx.GetByID(ctx, "user", "ID-NEW")
				if err != nil || r.Key != "new" {
					return fmt.Errorf("getByID = %v, %v", brief(r), err)
				}
				return nil
			}},
			{"List sees insert", func() error {
				rs, err := tx.List(ctx, store.ListQuery{Account: acctA, Kind: "user", Parent: ptr("g")})
				if err != nil || !slices.Equal(keys(rs), []string{"new", "old"}) {
					return fmt.Errorf("list = %v, %v", keys(rs), err)
				}
				return nil
			}},
			{"Count sees insert", func() error {
				n, err := tx.Count(ctx, store.ListQuery{Account: acctA, Kind: "user", PathPrefix: "/p"})
				if err != nil || n != 1 {
					return fmt.Errorf("count = %d, %v", n, err)
				}
				return nil
			}},
			{"uncommitted insert invisible outside", func() error {
				// Outside reads may run concurrently with the open transaction
				// and must not see it.
				if _, err := s.Get(ctx, acctA, "user", "new"); !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("store.Get of uncommitted record = %v, want ErrNotFound", err)
				}
				return nil
			}},
			{"Get sees update", func() error {
				r, err := tx.Get(ctx, acctA, "user", "old")
				if err != nil {
					return err
				}
				r.Data = []byte("updated")
				if err := tx.Update(ctx, r); err != nil {
					return err
				}
				r, err = tx.Get(ctx, acctA, "user", "old")
				if err != nil || string(r.Data) != "updated" || r.Version != 2 {
					return fmt.Errorf("get after Update = %v %q, %v", brief(r), r.Data, err)
				}
				return nil
			}},
			{"uncommitted update invisible outside", func() error {
				r, err := s.Get(ctx, acctA, "user", "old")
				if err != nil || string(r.Data) != "old" || r.Version != 1 {
					return fmt.Errorf("store.Get = %v %q, %v; want the committed version", brief(r), r.Data, err)
				}
				return nil
			}},
			{"Get sees delete", func() error {
				if err := tx.Delete(ctx, acctA, "user", "old"); err != nil {
					return err
				}
				if _, err := tx.Get(ctx, acctA, "user", "old"); !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("get after Delete = %v", err)
				}
				if _, err := tx.GetByID(ctx, "user", "ID-OLD"); !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("getByID after Delete = %v", err)
				}
				return nil
			}},
			{"DeleteAll sees own inserts", func() error {
				for i := range 3 {
					if err := tx.Insert(ctx, rec(acctA, "tmp", fmt.Sprint(i))); err != nil {
						return err
					}
				}
				n, err := tx.DeleteAll(ctx, store.ListQuery{Account: acctA, Kind: "tmp"})
				if err != nil || n != 3 {
					return fmt.Errorf("deleteAll = %d, %v; want 3", n, err)
				}
				return nil
			}},
		}
		for _, c := range checks {
			if err := c.fn(); err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
		}
		return nil
	})
	sameContent(t, mustGet(t, s, acctA, "user", "new"),
		store.Record{Account: acctA, Kind: "user", Key: "new", ID: "ID-NEW", Parent: "g", Path: "/p/", Data: []byte("new")})
	wantNotFound(t, s, acctA, "user", "old")
}

// testTxUsableAfterErrors: a failed Insert/Update/Delete inside a transaction
// reports its sentinel and leaves the transaction usable (services probe with
// Insert and fall back), as PostgreSQL would not without savepoints.
func testTxUsableAfterErrors(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	mustInsert(t, s, store.Record{Account: acctA, Kind: "user", Key: "a", ID: "ID-A"}, store.Record{Account: acctA, Kind: "user", Key: "b"})
	mustTx(t, s, func(tx store.Tx) error {
		steps := []struct {
			name    string
			fn      func() error
			wantErr error
		}{
			{"duplicate key", func() error { return tx.Insert(ctx, rec(acctA, "user", "a")) }, store.ErrConflict},
			{"duplicate id", func() error {
				return tx.Insert(ctx, store.Record{Account: acctB, Kind: "user", Key: "x", ID: "ID-A"})
			}, store.ErrConflict},
			{"update missing", func() error { return tx.Update(ctx, rec(acctA, "user", "zzz")) }, store.ErrNotFound},
			{"update stale", func() error {
				r := rec(acctA, "user", "a")
				r.ID, r.Version = "ID-A", 9
				return tx.Update(ctx, r)
			}, store.ErrConflict},
			{"update to taken id", func() error {
				r := rec(acctA, "user", "b")
				r.ID = "ID-A"
				return tx.Update(ctx, r)
			}, store.ErrConflict},
			{"delete missing", func() error { return tx.Delete(ctx, acctA, "user", "zzz") }, store.ErrNotFound},
			{"get missing", func() error { _, err := tx.Get(ctx, acctA, "user", "zzz"); return err }, store.ErrNotFound},
			{"insert after failures", func() error { return tx.Insert(ctx, rec(acctA, "user", "c")) }, nil},
			{"update after failures", func() error {
				r := rec(acctA, "user", "b")
				r.Data = []byte("b2")
				return tx.Update(ctx, r)
			}, nil},
		}
		for _, st := range steps {
			err := st.fn()
			if !errors.Is(err, st.wantErr) {
				return fmt.Errorf("%s: got %v, want %v", st.name, err, st.wantErr)
			}
		}
		return nil
	})
	mustGet(t, s, acctA, "user", "c")
	if r := mustGet(t, s, acctA, "user", "b"); string(r.Data) != "b2" {
		t.Fatalf("b.Data = %q, want b2", r.Data)
	}
	wantNotFound(t, s, acctB, "user", "x")
}

func testTxCanceledContext(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// fn may or may not run; nothing may be written either way.
	err := s.WithTx(ctx, func(tx store.Tx) error {
		return tx.Insert(ctx, rec(acctA, "user", "x"))
	})
	if err == nil {
		t.Fatal("WithTx with a canceled context succeeded")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("WithTx = %v, want an error wrapping context.Canceled", err)
	}
	wantNotFound(t, s, acctA, "user", "x")
}

// testConcurrentIncrements: read-modify-write from many goroutines loses no
// update. Drivers retry serialization failures internally, so no WithTx call
// may fail and every Update's Version check must pass.
func testConcurrentIncrements(t *testing.T, open func(t *testing.T) store.Store) {
	const workers, perWorker = 8, 15
	ctx := context.Background()
	s := open(t)
	mustInsert(t, s, store.Record{Account: acctA, Kind: "counter", Key: "c", Data: []byte("0")})
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for range workers {
		wg.Go(func() {
			for range perWorker {
				err := s.WithTx(ctx, func(tx store.Tx) error {
					r, err := tx.Get(ctx, acctA, "counter", "c")
					if err != nil {
						return err
					}
					var n int
					if _, err := fmt.Sscan(string(r.Data), &n); err != nil {
						return err
					}
					r.Data = []byte(fmt.Sprint(n + 1))
					return tx.Update(ctx, r) // Version-checked
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("increment failed: %v", err)
	}
	r := mustGet(t, s, acctA, "counter", "c")
	if want := fmt.Sprint(workers * perWorker); string(r.Data) != want {
		t.Fatalf("counter = %s, want %s (lost updates)", r.Data, want)
	}
	if r.Version != workers*perWorker+1 {
		t.Fatalf("Version = %d, want %d", r.Version, workers*perWorker+1)
	}
}

// --- change notifications ---------------------------------------------------

// Recorder collects Changes callbacks. Exported so driver tests (for example a
// cross-process PostgreSQL test) can reuse it.
type Recorder struct {
	mu   sync.Mutex
	seen []string
	more chan struct{}
}

// NewRecorder returns a Recorder; register it with s.Changes(r.Record).
func NewRecorder() *Recorder { return &Recorder{more: make(chan struct{}, 1)} }

// Record is the callback to pass to store.Store.Changes.
func (r *Recorder) Record(account string) {
	r.mu.Lock()
	r.seen = append(r.seen, account)
	r.mu.Unlock()
	select {
	case r.more <- struct{}{}:
	default:
	}
}

// Seen returns the accounts reported so far, in order.
func (r *Recorder) Seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

// WaitFor waits until every account in accounts has been reported.
func (r *Recorder) WaitFor(t testing.TB, accounts ...string) {
	t.Helper()
	deadline := time.After(changeWait)
	for {
		seen := r.Seen()
		missing := slices.DeleteFunc(slices.Clone(accounts), func(a string) bool { return slices.Contains(seen, a) })
		if len(missing) == 0 {
			return
		}
		select {
		case <-r.more:
		case <-deadline:
			t.Fatalf("Changes never reported %v (seen %v)", missing, seen)
		}
	}
}

func testChanges(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	sentinel := errors.New("rollback")
	type step struct {
		fn      func(tx store.Tx) error
		wantErr error
	}
	cases := []struct {
		name   string
		setup  []store.Record
		steps  []step
		want   []string // reported after the steps
		absent []string // never reported
	}{
		{
			name:  "insert",
			steps: []step{{fn: func(tx store.Tx) error { return tx.Insert(ctx, rec(acctA, "user", "a")) }}},
			want:  []string{acctA},
		},
		{
			name: "several accounts in one transaction",
			steps: []step{{fn: func(tx store.Tx) error {
				if err := tx.Insert(ctx, rec(acctA, "user", "a")); err != nil {
					return err
				}
				return tx.Insert(ctx, rec(store.GlobalAccount, "account", acctA))
			}}},
			want: []string{acctA, store.GlobalAccount},
		},
		{
			name:  "update, delete, delete all, delete account",
			setup: []store.Record{rec(acctA, "user", "a"), rec(acctB, "user", "b"), rec(acctC, "user", "c"), rec(store.GlobalAccount, "x", "d")},
			steps: []step{
				{fn: func(tx store.Tx) error { return tx.Update(ctx, rec(acctA, "user", "a")) }},
				{fn: func(tx store.Tx) error { return tx.Delete(ctx, acctB, "user", "b") }},
				{fn: func(tx store.Tx) error {
					_, err := tx.DeleteAll(ctx, store.ListQuery{Account: acctC, Kind: "user"})
					return err
				}},
				{fn: func(tx store.Tx) error { return tx.DeleteAccount(ctx, store.GlobalAccount) }},
			},
			want: []string{acctA, acctB, acctC, store.GlobalAccount},
		},
		{
			name: "rolled back transaction is not reported",
			steps: []step{
				{fn: func(tx store.Tx) error {
					if err := tx.Insert(ctx, rec(acctB, "user", "b")); err != nil {
						return err
					}
					return sentinel
				}, wantErr: sentinel},
				// A later commit is reported; once it is, the rolled-back one
				// would have been too.
				{fn: func(tx store.Tx) error { return tx.Insert(ctx, rec(acctC, "user", "c")) }},
			},
			want:   []string{acctC},
			absent: []string{acctB},
		},
		{
			name:  "failed write is not reported",
			setup: []store.Record{rec(acctA, "user", "a")},
			steps: []step{
				{fn: func(tx store.Tx) error { return tx.Insert(ctx, rec(acctA, "user", "a")) }, wantErr: store.ErrConflict},
				{fn: func(tx store.Tx) error { return tx.Insert(ctx, rec(acctC, "user", "c")) }},
			},
			want:   []string{acctC},
			absent: []string{acctA},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			if len(tc.setup) > 0 {
				mustInsert(t, s, tc.setup...)
			}
			// Subscribe after setup, and let setup's notifications drain by
			// waiting for a marker commit, so only the steps are observed.
			r := NewRecorder()
			s.Changes(r.Record)
			const marker = "999999999999"
			mustInsert(t, s, rec(marker, "marker", "m"))
			r.WaitFor(t, marker)
			r.mu.Lock()
			r.seen = nil
			r.mu.Unlock()

			// A second subscriber sees the same changes.
			r2 := NewRecorder()
			s.Changes(r2.Record)
			for i, st := range tc.steps {
				err := s.WithTx(ctx, st.fn)
				if !errors.Is(err, st.wantErr) {
					t.Fatalf("step %d: WithTx = %v, want %v", i, err, st.wantErr)
				}
			}
			r.WaitFor(t, tc.want...)
			r2.WaitFor(t, tc.want...)
			for _, a := range tc.absent {
				if slices.Contains(r.Seen(), a) || slices.Contains(r2.Seen(), a) {
					t.Fatalf("account %s reported for a change that never committed (seen %v)", a, r.Seen())
				}
			}
			for _, a := range r.Seen() {
				if a == marker || a == "" || strings.ContainsAny(a, ", ") {
					t.Fatalf("unexpected account %q reported", a)
				}
			}
		})
	}
}
