package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/iamd/iamd/internal/store"
)

// BenchSizes are the account sizes Bench measures. The point of measuring two
// sizes three orders of magnitude apart is to show the indexes work: the cost
// of a point read or of one page must not grow with the account.
var BenchSizes = []int{10, 10_000}

// benchDoc is a user document of realistic size.
var benchDoc = []byte(`{"UserName":"user","UserId":"AIDAEXAMPLEEXAMPLE01","Arn":"arn:aws:iam::111111111111:user/eng/user",` +
	`"Path":"/eng/","CreateDate":"2026-01-01T00:00:00Z","Tags":[{"Key":"team","Value":"platform"}],` +
	`"PermissionsBoundary":null,"PasswordLastUsed":"2026-01-02T00:00:00Z"}`)

// Bench runs the read benchmarks at every size in BenchSizes:
//
//	records=N/Get       point read of a random key
//	records=N/List100   List(Limit 100) from a random marker; returns min(N,100)
//	                    records, so compare its ns/record metric across sizes
//	records=N/List10    List(Limit 10) from a random marker: same page size at
//	                    both sizes, so ns/op compares directly
//	records=N/ListParent100  List(Parent, Limit 100) through the parent index
//
// open must return a fresh, empty store.
func Bench(b *testing.B, open func(b *testing.B) store.Store) {
	for _, n := range BenchSizes {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			s := open(b)
			populate(b, s, n)
			// A long-running server's database has planner statistics
			// (autovacuum gathers them); give the drivers that have it the
			// same chance here.
			if a, ok := s.(Analyzer); ok {
				if err := a.Analyze(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(1, uint64(n)))

			b.Run("Get", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					key := benchKey(rng.IntN(n))
					if _, err := s.Get(ctx, acctA, "user", key); err != nil {
						b.Fatal(err)
					}
				}
			})
			list := func(limit int, parent bool) func(b *testing.B) {
				return func(b *testing.B) {
					b.ReportAllocs()
					rows := 0
					for b.Loop() {
						q := store.ListQuery{Account: acctA, Kind: "user", Limit: limit}
						// Start where a full page remains, so large accounts
						// always return exactly limit records.
						if n > limit {
							q.After = benchKey(rng.IntN(n - limit))
						}
						if parent {
							q.Parent = ptr("group")
							q.After = ""
						}
						rs, err := s.List(ctx, q)
						if err != nil {
							b.Fatal(err)
						}
						rows += len(rs)
					}
					if rows > 0 {
						b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/record")
					}
				}
			}
			b.Run("List100", list(100, false))
			b.Run("List10", list(10, false))
			b.Run("ListParent100", list(100, true))
		})
	}
}

// Analyzer is implemented by drivers that can refresh their query planner's
// statistics; Bench calls it after loading data.
type Analyzer interface {
	Analyze(ctx context.Context) error
}

func benchKey(i int) string { return fmt.Sprintf("user%07d", i) }

// populate inserts n users into acctA in batches, plus as many records in
// another account and kind so that the indexes, not the table size, decide.
func populate(b *testing.B, s store.Store, n int) {
	b.Helper()
	ctx := context.Background()
	const batch = 1000
	for start := 0; start < n; start += batch {
		err := s.WithTx(ctx, func(tx store.Tx) error {
			for i := start; i < min(start+batch, n); i++ {
				r := store.Record{
					Account: acctA, Kind: "user", Key: benchKey(i),
					ID: fmt.Sprintf("AIDA%016d", i), Path: "/eng/", Data: benchDoc,
				}
				if i%(max(n/100, 1)) == 0 {
					r.Parent = "group" // 100 members at most, 1% of the account
				}
				if err := tx.Insert(ctx, r); err != nil {
					return err
				}
				o := r
				o.Account, o.ID = acctB, ""
				if err := tx.Insert(ctx, o); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatalf("populate: %v", err)
		}
	}
}
