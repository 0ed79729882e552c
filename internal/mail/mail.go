// Package mail sends iamd's notification mail (root password recovery
// links, ...): through an SMTP relay when one is configured, otherwise into
// an outbox directory of .eml files an operator can read. Neither path ever
// logs a message body, which is where one-time tokens live.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	netmail "net/mail"
	"strings"
	"time"
)

// Message is one plain-text mail.
type Message struct {
	To      []string // bare addresses: user@example.com
	Subject string
	Body    string // UTF-8 text; line breaks may be \n or \r\n
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m *Message) error
}

// Config selects and configures a Sender (see New).
type Config struct {
	// Addr is the SMTP relay host:port; empty means "write to the outbox".
	Addr     string
	From     string // envelope and header sender; defaults to iamd@localhost
	Username string // SMTP AUTH PLAIN when non-empty
	Password string
	// OutboxDir receives .eml files when Addr is empty.
	OutboxDir string
}

// DefaultFrom is the sender when none is configured.
const DefaultFrom = "iamd@localhost"

// New returns an SMTP sender when cfg.Addr is set and an outbox writer
// otherwise. now is the clock stamped into Date headers and file names.
func New(cfg Config, log *slog.Logger, now func() time.Time) (Sender, error) {
	from := cfg.From
	if from == "" {
		from = DefaultFrom
	}
	if err := checkAddress(from); err != nil {
		return nil, fmt.Errorf("mail: sender: %w", err)
	}
	if cfg.Addr != "" {
		return &SMTP{Addr: cfg.Addr, From: from, Username: cfg.Username, Password: cfg.Password, Now: now}, nil
	}
	if cfg.OutboxDir == "" {
		return nil, errors.New("mail: neither an SMTP address nor an outbox directory is configured")
	}
	return &Outbox{Dir: cfg.OutboxDir, From: from, Now: now, Log: log}, nil
}

// checkAddress accepts a bare address only: display names and anything
// with CR/LF would let a caller smuggle headers or SMTP commands.
func checkAddress(addr string) error {
	if strings.ContainsAny(addr, "\r\n<>") {
		return fmt.Errorf("address %q contains forbidden characters", addr)
	}
	a, err := netmail.ParseAddress(addr)
	if err != nil || a.Address != addr {
		return fmt.Errorf("address %q is not a bare mail address", addr)
	}
	return nil
}

// validate checks a message before anything is sent or written.
func (m *Message) validate() error {
	if len(m.To) == 0 {
		return errors.New("mail: message has no recipient")
	}
	for _, to := range m.To {
		if err := checkAddress(to); err != nil {
			return fmt.Errorf("mail: recipient: %w", err)
		}
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return errors.New("mail: subject contains a line break")
	}
	return nil
}

// newMessageID returns a random Message-ID local part; random rather than
// derived from the clock so ids never collide across nodes.
func newMessageID() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic("mail: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// Render formats m as an RFC 5322 message with CRLF line endings: the
// headers From, To, Subject (RFC 2047-encoded when not ASCII), Date,
// Message-ID and MIME headers for UTF-8 plain text, then the body.
func Render(m *Message, from string, date time.Time, id string) ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from)
	header("To", strings.Join(m.To, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", "<"+id+"@"+domainOf(from)+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	body := strings.ReplaceAll(m.Body, "\r\n", "\n")
	body = strings.TrimSuffix(body, "\n")
	for line := range strings.SplitSeq(body, "\n") {
		b.WriteString(line)
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "localhost"
}
