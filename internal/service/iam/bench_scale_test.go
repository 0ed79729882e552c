package iam

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/secrets"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
	"github.com/iamd/iamd/internal/store/sqlite"
)

// BenchmarkUsersAtScale shows that GetUser and ListUsers (MaxItems 100) run
// on indexes: their cost depends on what a call returns, not on how many
// users the account holds. GetUser at 10,000 users stays within 2x of the
// cost at 10; a full page of ListUsers at 10,000 users within 2x of a full
// page at 100 (at 10 users a page holds only 10, so it costs less).
//
//	go test -run '^$' -bench UsersAtScale -benchmem ./internal/service/iam/
func BenchmarkUsersAtScale(b *testing.B) {
	for _, n := range []int{10, 100, 10000} {
		s, c := scaleService(b, n)
		ctx := context.Background()
		b.Run(fmt.Sprintf("GetUser/users=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			in := map[string]any{"UserName": fmt.Sprintf("user-%05d", n/2)}
			for b.Loop() {
				if _, err := s.getUser(ctx, c, in); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("ListUsers100/users=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			in := map[string]any{"MaxItems": int64(100)}
			for b.Loop() {
				out, err := s.listUsers(ctx, c, in)
				if err != nil {
					b.Fatal(err)
				}
				if got := len(out["Users"].([]any)); got != min(n, 100) {
					b.Fatalf("got %d users", got)
				}
			}
		})
	}
}

// scaleService opens a SQLite store holding n users.
func scaleService(b *testing.B, n int) (*Service, *service.Call) {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	kr, err := secrets.NewKeyring(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		b.Fatal(err)
	}
	s := &Service{Store: st, Keys: kr}
	c := &service.Call{Account: "123456789012", Partition: "aws", Region: "us-east-1", Now: time.Now(),
		Principal: &principal.Principal{Type: principal.Root, Account: "123456789012", ARN: "arn:aws:iam::123456789012:root"}}
	// CreateUser enforces IAM's quota of 5,000 users per account; the rest
	// of the 10,000 are written as the same records directly, in one
	// transaction, to measure the store at that size.
	for i := range min(n, maxUsers) {
		if _, err := s.createUser(ctx, c, map[string]any{"UserName": fmt.Sprintf("user-%05d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	err = st.WithTx(ctx, func(tx store.Tx) error {
		for i := maxUsers; i < n; i++ {
			name := fmt.Sprintf("user-%05d", i)
			u := &User{Name: name, ID: s.IDs.Unique(ids.User), Path: "/", ARN: iamARN(c, "user", "/", name), Created: now(c)}
			if err := tx.Insert(ctx, store.Record{Account: c.Account, Kind: kindUser, Key: key(name), ID: u.ID, Path: "/", Data: encode(u)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return s, c
}
