package mail

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/smtp"
	"time"
)

// defaultTimeout bounds a whole SMTP exchange when ctx has no deadline, so a
// stalled relay cannot hold a goroutine forever.
const defaultTimeout = 30 * time.Second

// SMTP delivers through a relay: EHLO, STARTTLS whenever the relay offers
// it, AUTH PLAIN when a user name is configured (net/smtp refuses PLAIN
// over an unencrypted link to anything but localhost), then one
// MAIL/RCPT/DATA transaction.
type SMTP struct {
	Addr     string // host:port
	From     string
	Username string
	Password string
	Now      func() time.Time
	// TLSConfig overrides the STARTTLS configuration (tests use it to
	// trust their own certificate); nil verifies the relay's host name.
	TLSConfig *tls.Config
	// HelloName is the EHLO name; empty means "localhost".
	HelloName string
}

// Send implements Sender.
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	data, err := Render(m, s.From, s.Now(), newMessageID())
	if err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("mail: smtp address %q: %w", s.Addr, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("mail: dial %s: %w", s.Addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(dl); err != nil {
			return fmt.Errorf("mail: %w", err)
		}
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("mail: smtp greeting from %s: %w", s.Addr, err)
	}
	defer c.Close()
	if err := s.exchange(c, host, m, data); err != nil {
		return fmt.Errorf("mail: smtp %s: %w", s.Addr, err)
	}
	return nil
}

func (s *SMTP) exchange(c *smtp.Client, host string, m *Message, data []byte) error {
	hello := s.HelloName
	if hello == "" {
		hello = "localhost"
	}
	if err := c.Hello(hello); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := s.TLSConfig
		if cfg == nil {
			cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(cfg); err != nil {
			return err
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(s.From); err != nil {
		return err
	}
	for _, to := range m.To {
		if err := c.Rcpt(to); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	// The DATA writer dot-stuffs lines that start with ".".
	if _, err := w.Write(data); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
