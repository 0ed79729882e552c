package store

import (
	"slices"
	"sync"
)

// Notifier delivers committed-change notifications to subscribers on its own
// goroutine, so a slow subscriber never delays a commit and no subscriber runs
// while a driver's writer is held. Accounts pending delivery are coalesced: a
// burst of commits to one account is reported once. Both drivers use it to
// implement Store.Changes.
type Notifier struct {
	mu      sync.Mutex
	subs    []func(account string)
	pending map[string]struct{}
	closed  bool

	wake chan struct{} // capacity 1: "pending is non-empty"
	done chan struct{}
	wg   sync.WaitGroup
}

// NewNotifier starts a Notifier's delivery goroutine; Close stops it.
func NewNotifier() *Notifier {
	n := &Notifier{
		pending: make(map[string]struct{}),
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	n.wg.Go(n.run)
	return n
}

// Subscribe registers fn for every account published from now on.
func (n *Notifier) Subscribe(fn func(account string)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.subs = append(n.subs, fn)
}

// Deliver runs every subscriber for accounts on the caller's goroutine.
// Drivers call it after their own commits, before WithTx returns, so a
// process reads its own writes: its caches are invalidated by then.
// Subscribers must therefore be fast and must not call the store.
func (n *Notifier) Deliver(accounts []string) {
	if len(accounts) == 0 {
		return
	}
	n.mu.Lock()
	subs, closed := slices.Clone(n.subs), n.closed
	n.mu.Unlock()
	if closed {
		return
	}
	for _, a := range accounts {
		for _, fn := range subs {
			fn(a)
		}
	}
}

// Publish queues accounts for delivery and returns immediately.
func (n *Notifier) Publish(accounts []string) {
	if len(accounts) == 0 {
		return
	}
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	for _, a := range accounts {
		n.pending[a] = struct{}{}
	}
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

func (n *Notifier) run() {
	for {
		select {
		case <-n.done:
			return
		case <-n.wake:
		}
		n.mu.Lock()
		accounts := make([]string, 0, len(n.pending))
		for a := range n.pending {
			accounts = append(accounts, a)
		}
		clear(n.pending)
		subs := slices.Clone(n.subs)
		n.mu.Unlock()
		slices.Sort(accounts)
		for _, a := range accounts {
			for _, fn := range subs {
				fn(a)
			}
		}
	}
}

// Close stops delivery and waits for a delivery in progress to finish;
// notifications still pending are dropped, since the store they describe is
// going away. Closing twice is harmless.
func (n *Notifier) Close() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	n.mu.Unlock()
	close(n.done)
	n.wg.Wait()
}
