// Package mailtest is a tiny in-process SMTP server for tests: it speaks
// enough of RFC 5321 (EHLO/HELO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA,
// RSET, NOOP, QUIT) to receive what internal/mail sends and keeps every
// message for inspection.
package mailtest

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"time"
)

// Received is one accepted message.
type Received struct {
	From string
	To   []string
	Data []byte // as transmitted, dot-unstuffed, CRLF line endings
	// TLS is true when the message came over a STARTTLS-upgraded link.
	TLS bool
	// Auth is the "user\x00password" of an AUTH PLAIN, if one was made.
	Auth string
}

// Sink is a running SMTP server.
type Sink struct {
	Addr string

	tlsConfig *tls.Config // non-nil: STARTTLS is offered

	ln   net.Listener
	mu   sync.Mutex
	msgs []Received
	cond *sync.Cond
	wg   sync.WaitGroup
}

// Start listens on 127.0.0.1 on a free port. tlsConfig (may be nil) enables
// STARTTLS. Close it when done.
func Start(tlsConfig *tls.Config) (*Sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Sink{Addr: ln.Addr().String(), ln: ln, tlsConfig: tlsConfig}
	s.cond = sync.NewCond(&s.mu)
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Close stops the listener and waits for open sessions to end.
func (s *Sink) Close() error {
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

// Messages returns a copy of what has been received so far.
func (s *Sink) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Wait blocks until at least n messages arrived or timeout passes, and
// returns what arrived.
func (s *Sink) Wait(n int, timeout time.Duration) []Received {
	deadline := time.Now().Add(timeout)
	t := time.AfterFunc(timeout, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer t.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.msgs) < n && time.Now().Before(deadline) {
		s.cond.Wait()
	}
	return append([]Received(nil), s.msgs...)
}

func (s *Sink) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
			s.session(conn)
		}()
	}
}

func (s *Sink) session(conn net.Conn) {
	tp := textproto.NewConn(conn)
	_ = tp.PrintfLine("220 mailtest ESMTP ready")
	var cur Received
	secure := false
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			exts := []string{"250-mailtest", "250-8BITMIME"}
			if s.tlsConfig != nil && !secure {
				exts = append(exts, "250-STARTTLS")
			}
			exts = append(exts, "250 AUTH PLAIN")
			for _, e := range exts {
				_ = tp.PrintfLine("%s", e)
			}
		case "HELO":
			_ = tp.PrintfLine("250 mailtest")
		case "STARTTLS":
			if s.tlsConfig == nil || secure {
				_ = tp.PrintfLine("502 not offered")
				continue
			}
			_ = tp.PrintfLine("220 go ahead")
			tc := tls.Server(conn, s.tlsConfig)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, secure = tc, true
			tp = textproto.NewConn(conn)
			cur = Received{}
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if !strings.EqualFold(mech, "PLAIN") {
				_ = tp.PrintfLine("504 unsupported mechanism")
				continue
			}
			if resp == "" {
				_ = tp.PrintfLine("334 ")
				if resp, err = tp.ReadLine(); err != nil {
					return
				}
			}
			raw, err := base64.StdEncoding.DecodeString(resp)
			if err != nil {
				_ = tp.PrintfLine("501 bad base64")
				continue
			}
			// PLAIN: authzid NUL authcid NUL password.
			parts := strings.SplitN(string(raw), "\x00", 3)
			if len(parts) != 3 {
				_ = tp.PrintfLine("501 bad PLAIN response")
				continue
			}
			cur.Auth = parts[1] + "\x00" + parts[2]
			_ = tp.PrintfLine("235 authenticated")
		case "MAIL":
			cur.From = trimPath(arg, "FROM:")
			cur.To = nil
			_ = tp.PrintfLine("250 ok")
		case "RCPT":
			cur.To = append(cur.To, trimPath(arg, "TO:"))
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			if cur.From == "" || len(cur.To) == 0 {
				_ = tp.PrintfLine("503 need MAIL and RCPT first")
				continue
			}
			_ = tp.PrintfLine("354 end with <CRLF>.<CRLF>")
			lines, err := tp.ReadDotLines()
			if err != nil {
				return
			}
			var b strings.Builder
			for _, l := range lines {
				b.WriteString(l)
				b.WriteString("\r\n")
			}
			cur.Data, cur.TLS = []byte(b.String()), secure
			s.mu.Lock()
			s.msgs = append(s.msgs, cur)
			s.cond.Broadcast()
			s.mu.Unlock()
			cur = Received{Auth: cur.Auth}
			_ = tp.PrintfLine("250 queued")
		case "RSET":
			cur = Received{Auth: cur.Auth}
			_ = tp.PrintfLine("250 ok")
		case "NOOP":
			_ = tp.PrintfLine("250 ok")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 command not implemented")
		}
	}
}

// trimPath extracts the address of "FROM:<a@b> SIZE=..." style arguments.
func trimPath(arg, prefix string) string {
	if len(arg) >= len(prefix) && strings.EqualFold(arg[:len(prefix)], prefix) {
		arg = arg[len(prefix):]
	}
	arg = strings.TrimSpace(arg)
	if i := strings.IndexByte(arg, '>'); strings.HasPrefix(arg, "<") && i > 0 {
		return arg[1:i]
	}
	addr, _, _ := strings.Cut(arg, " ")
	return addr
}

// Reader wraps Data for net/mail.ReadMessage.
func (r Received) Reader() *bufio.Reader {
	return bufio.NewReader(strings.NewReader(string(r.Data)))
}
