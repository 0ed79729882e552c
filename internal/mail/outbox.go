package mail

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Outbox writes each message to Dir/<timestamp>-<id>.eml (mode 0600, the
// directory 0700) for deployments without an SMTP relay: recovery links
// then reach whoever can read the data directory, which is the operator.
type Outbox struct {
	Dir  string
	From string
	Now  func() time.Time
	Log  *slog.Logger
}

// Send implements Sender.
func (o *Outbox) Send(ctx context.Context, m *Message) error {
	at := o.Now()
	id := newMessageID()
	data, err := Render(m, o.From, at, id)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	// Fixed-width UTC timestamp so a directory listing is in send order.
	name := at.UTC().Format("20060102T150405.000000000Z") + "-" + id + ".eml"
	path := filepath.Join(o.Dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("mail: outbox %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("mail: outbox %s: %w", name, err)
	}
	if o.Log != nil {
		// Recipients and subject only: the body carries one-time links.
		o.Log.InfoContext(ctx, "mail written to outbox (no SMTP server configured)", "file", path, "to", m.To, "subject", m.Subject)
	}
	return nil
}
