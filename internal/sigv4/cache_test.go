package sigv4

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestSigningKeyCacheSeparatesSecrets(t *testing.T) {
	v := NewVerifier(8)
	r := sdkSign(t, signSpec{url: "https://iam.amazonaws.com/", body: "Action=ListUsers&Version=2010-05-08"}, signTime)
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	// Warm the cache with the right secret, then the same scope with a wrong
	// one: the wrong secret must not be served the right key.
	if err := v.Verify(r, a, testCreds.SecretAccessKey, signTime); err != nil {
		t.Fatal(err)
	}
	checkErr(t, v.Verify(r, a, "not-the-secret", signTime), CodeSignatureDoesNotMatch, "")
	if err := v.Verify(r, a, testCreds.SecretAccessKey, signTime); err != nil {
		t.Fatal(err)
	}
	// Each scope component is part of the key too.
	base := v.signingKey("s", "20240101", "us-east-1", "iam")
	for _, k := range [][4]string{
		{"t", "20240101", "us-east-1", "iam"},
		{"s", "20240102", "us-east-1", "iam"},
		{"s", "20240101", "us-east-2", "iam"},
		{"s", "20240101", "us-east-1", "sts"},
	} {
		got := v.signingKey(k[0], k[1], k[2], k[3])
		if got == base {
			t.Errorf("%v shares a signing key with the base scope", k)
		}
		if !bytes.Equal(got[:], SigningKey(k[0], k[1], k[2], k[3])) {
			t.Errorf("%v: cached key differs from derived key", k)
		}
	}
}

func TestSigningKeyCacheBounded(t *testing.T) {
	for _, size := range []int{1, 2, 10, 0} {
		v := NewVerifier(size)
		limit := size
		if size <= 0 {
			limit = DefaultCacheSize
		}
		for i := range limit * 3 {
			v.signingKey(fmt.Sprint("secret", i), "20240101", "us-east-1", "iam")
		}
		if n := v.cached(); n > max(limit, 2) {
			t.Errorf("size %d: cache holds %d keys", size, n)
		}
	}
	// A key used between every insertion survives generation turnovers
	// (it is promoted out of the old generation before that is dropped).
	v := NewVerifier(4)
	hot := cacheKey{secret: sha256Of("hot"), date: "d", region: "r", service: "s"}
	for i := range 20 {
		v.signingKey("hot", "d", "r", "s")
		v.signingKey(fmt.Sprint("cold", i), "d", "r", "s")
		v.mu.Lock()
		_, inCur := v.cur[hot]
		_, inOld := v.old[hot]
		v.mu.Unlock()
		if !inCur && !inOld {
			t.Fatalf("hot key evicted after %d insertions", i+1)
		}
	}
}

// TestVerifyConcurrent is meant for -race: many goroutines share a Verifier
// with a tiny cache that churns.
func TestVerifyConcurrent(t *testing.T) {
	v := NewVerifier(2)
	var reqs []*Request
	var auths []*Auth
	for i := range 4 {
		r := sdkSign(t, signSpec{url: "https://iam.amazonaws.com/", body: fmt.Sprint("Action=ListUsers&Version=2010-05-08&n=", i),
			region: []string{"us-east-1", "us-west-2", "eu-west-1", "ap-south-1"}[i]}, signTime)
		a, err := Parse(r)
		if err != nil {
			t.Fatal(err)
		}
		reqs, auths = append(reqs, r), append(auths, a)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				k := (g + i) % len(reqs)
				if err := v.Verify(reqs[k], auths[k], testCreds.SecretAccessKey, signTime.Add(time.Second)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestSigningKeysPerSecret: the per-secret key set verifies what Verify
// verifies, keeps recent scopes, and serves no key of another scope.
func TestSigningKeysPerSecret(t *testing.T) {
	v := NewVerifier(8)
	r := sdkSign(t, signSpec{url: "https://iam.amazonaws.com/", body: "Action=ListUsers&Version=2010-05-08"}, signTime)
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	good, bad := NewSigningKeys(testCreds.SecretAccessKey), NewSigningKeys("not-the-secret")
	for range 2 { // cold, then warm
		if err := v.VerifyKeys(r, a, good, signTime); err != nil {
			t.Fatal(err)
		}
		checkErr(t, v.VerifyKeys(r, a, bad, signTime), CodeSignatureDoesNotMatch, "")
	}
	k := NewSigningKeys("s")
	scopes := [][3]string{
		{"20240101", "us-east-1", "iam"},
		{"20240102", "us-east-1", "iam"},
		{"20240101", "us-east-2", "iam"},
		{"20240101", "us-east-1", "sts"},
		{"20240103", "eu-west-1", "sts"}, // pushes the oldest out
		{"20240101", "us-east-1", "iam"}, // derived again
	}
	for i := range 2 * len(scopes) {
		sc := scopes[i%len(scopes)]
		got := k.key(sc[0], sc[1], sc[2])
		if !bytes.Equal(got[:], SigningKey("s", sc[0], sc[1], sc[2])) {
			t.Fatalf("%v: key differs from the derived key", sc)
		}
		if n := len(*k.recent.Load()); n > maxRecentScopes {
			t.Fatalf("holds %d scopes", n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { k.key("20240101", "us-east-1", "iam") }); n != 0 {
		t.Fatalf("warm key allocates %.1f", n)
	}
}

func TestSigningKeysConcurrent(t *testing.T) {
	k := NewSigningKeys("s")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				date := fmt.Sprintf("202401%02d", 1+(g+i)%6)
				got := k.key(date, "us-east-1", "iam")
				if !bytes.Equal(got[:], SigningKey("s", date, "us-east-1", "iam")) {
					t.Errorf("%s: wrong key", date)
					return
				}
			}
		}()
	}
	wg.Wait()
}
