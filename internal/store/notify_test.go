package store

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// TestNotifier checks delivery to every subscriber, that a burst to one
// account arrives at least once and no more often than it was published, and
// that nothing is delivered after Close.
func TestNotifier(t *testing.T) {
	n := NewNotifier()
	var mu sync.Mutex
	got := map[string][]string{}
	for _, sub := range []string{"a", "b"} {
		n.Subscribe(func(account string) {
			mu.Lock()
			defer mu.Unlock()
			got[sub] = append(got[sub], account)
		})
	}
	n.Publish(nil) // nothing to deliver
	for range 10 {
		n.Publish([]string{"111", "222"})
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		done := slices.Contains(got["a"], "111") && slices.Contains(got["a"], "222") &&
			slices.Contains(got["b"], "111") && slices.Contains(got["b"], "222")
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not delivered: %v", got)
		}
		time.Sleep(time.Millisecond)
	}
	n.Close()
	n.Close()
	mu.Lock()
	before := len(got["a"]) + len(got["b"])
	mu.Unlock()
	n.Publish([]string{"333"})
	time.Sleep(20 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if after := len(got["a"]) + len(got["b"]); after != before {
		t.Errorf("delivered after Close: %v", got)
	}
	for sub, accts := range got {
		if len(accts) > 20 {
			t.Errorf("subscriber %s got %d deliveries for 20 publications", sub, len(accts))
		}
	}
}
