package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
)

// errPoolClosed is returned by acquire after close.
var errPoolClosed = errors.New("postgres: store closed")

// connPool is a small bounded pool of pgx connections.
//
// pgxpool would do, but importing it needs github.com/jackc/puddle/v2 and
// golang.org/x/sync listed in go.mod, which this package may not change;
// the store needs only acquire/release with a bound, which is this.
type connPool struct {
	cfg *pgx.ConnConfig
	sem chan struct{} // one token per connection in use

	mu     sync.Mutex
	idle   []*pgx.Conn
	closed bool

	// own holds the backend PIDs of this pool's open connections: the
	// listener skips notifications they sent, which the store has already
	// delivered synchronously after its own commits.
	own sync.Map // uint32 → struct{}
}

// owns reports whether pid is one of this pool's connections.
func (p *connPool) owns(pid uint32) bool {
	_, ok := p.own.Load(pid)
	return ok
}

func (p *connPool) closeConn(c *pgx.Conn) {
	p.own.Delete(c.PgConn().PID())
	c.Close(context.Background())
}

func newConnPool(cfg *pgx.ConnConfig, size int) *connPool {
	return &connPool{cfg: cfg, sem: make(chan struct{}, size)}
}

// acquire returns an idle connection or dials a new one, waiting while size
// connections are in use.
func (p *connPool) acquire(ctx context.Context) (*pgx.Conn, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			<-p.sem
			return nil, errPoolClosed
		}
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			break
		}
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		if !c.IsClosed() {
			return c, nil
		}
		p.own.Delete(c.PgConn().PID())
	}
	c, err := pgx.ConnectConfig(ctx, p.cfg.Copy())
	if err != nil {
		<-p.sem
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	p.own.Store(c.PgConn().PID(), struct{}{})
	return c, nil
}

// release returns c to the pool, or closes it if it is broken or was left
// inside a transaction (a canceled query closes the connection in pgx).
func (p *connPool) release(c *pgx.Conn) {
	defer func() { <-p.sem }()
	p.mu.Lock()
	if p.closed || c.IsClosed() || c.PgConn().TxStatus() != 'I' {
		p.mu.Unlock()
		p.closeConn(c)
		return
	}
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

// with runs fn on a pooled connection.
func (p *connPool) with(ctx context.Context, fn func(q querier) error) error {
	c, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	defer p.release(c)
	return fn(c)
}

// close closes idle connections now and busy ones when they are released.
func (p *connPool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		p.closeConn(c)
	}
}
