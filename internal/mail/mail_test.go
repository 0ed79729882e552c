package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamd/iamd/internal/mail/mailtest"
)

var testNow = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func fixedNow() time.Time { return testNow }

func TestRender(t *testing.T) {
	m := &Message{To: []string{"root@example.com"}, Subject: "Reset your password", Body: "Hello,\nline two\n.dot line\n"}
	got, err := Render(m, "iamd@example.org", testNow, "abc123")
	if err != nil {
		t.Fatal(err)
	}
	want := "From: iamd@example.org\r\n" +
		"To: root@example.com\r\n" +
		"Subject: Reset your password\r\n" +
		"Date: Tue, 04 Mar 2025 05:06:07 +0000\r\n" +
		"Message-ID: <abc123@example.org>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n" +
		"\r\n" +
		"Hello,\r\nline two\r\n.dot line\r\n"
	if string(got) != want {
		t.Fatalf("Render:\n%q\nwant\n%q", got, want)
	}
	parsed, err := netmail.ReadMessage(bytes.NewReader(got))
	if err != nil {
		t.Fatalf("not RFC 5322: %v", err)
	}
	if d, err := parsed.Header.Date(); err != nil || !d.Equal(testNow) {
		t.Fatalf("Date = %v, %v", d, err)
	}
}

func TestRenderEncodesNonASCIISubject(t *testing.T) {
	got, err := Render(&Message{To: []string{"a@example.com"}, Subject: "Passwort zurücksetzen", Body: "x"}, DefaultFrom, testNow, "id")
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := netmail.ReadMessage(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	raw := parsed.Header.Get("Subject")
	if !strings.HasPrefix(raw, "=?utf-8?q?") {
		t.Fatalf("raw Subject %q is not RFC 2047 encoded", raw)
	}
	dec, err := new(mime.WordDecoder).DecodeHeader(raw)
	if err != nil || dec != "Passwort zurücksetzen" {
		t.Fatalf("decoded Subject = %q, %v", dec, err)
	}
}

func TestRenderRejectsInjection(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Message
	}{
		{"no recipient", Message{Subject: "s"}},
		{"CRLF in subject", Message{To: []string{"a@example.com"}, Subject: "hi\r\nBcc: evil@example.com"}},
		{"LF in recipient", Message{To: []string{"a@example.com\nRCPT TO:<x@y.z>"}}},
		{"display name recipient", Message{To: []string{"Eve <eve@example.com>"}}},
		{"not an address", Message{To: []string{"nobody"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Render(&tc.m, DefaultFrom, testNow, "id"); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestNewChoosesSender(t *testing.T) {
	dir := t.TempDir()
	s, err := New(Config{OutboxDir: dir}, nil, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if ob, ok := s.(*Outbox); !ok || ob.From != DefaultFrom || ob.Dir != dir {
		t.Fatalf("no SMTP address: got %#v", s)
	}
	s, err = New(Config{Addr: "mail.example.com:587", From: "ops@example.com", OutboxDir: dir}, nil, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if sm, ok := s.(*SMTP); !ok || sm.From != "ops@example.com" {
		t.Fatalf("SMTP address: got %#v", s)
	}
	if _, err := New(Config{}, nil, fixedNow); err == nil {
		t.Fatal("no destination accepted")
	}
	if _, err := New(Config{OutboxDir: dir, From: "bad\r\nfrom@x.y"}, nil, fixedNow); err == nil {
		t.Fatal("bad From accepted")
	}
}

func TestOutbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	var logBuf bytes.Buffer
	ob := &Outbox{Dir: dir, From: DefaultFrom, Now: fixedNow, Log: slog.New(slog.NewTextHandler(&logBuf, nil))}
	secret := "https://iamd.example/signin/reset?token=SECRET-TOKEN"
	m := &Message{To: []string{"root@example.com"}, Subject: "Password recovery", Body: "Use " + secret}
	if err := ob.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if err := ob.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("%d files, want 2 (same timestamp must not collide)", len(entries))
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "20250304T050607.000000000Z-") || !strings.HasSuffix(e.Name(), ".eml") {
			t.Fatalf("file name %q", e.Name())
		}
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, want 0600", info.Mode().Perm())
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := netmail.ReadMessage(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(parsed.Body)
		if parsed.Header.Get("To") != "root@example.com" || string(body) != "Use "+secret+"\r\n" {
			t.Fatalf("message: %q / %q", parsed.Header.Get("To"), body)
		}
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("outbox dir mode: %v %v", st.Mode(), err)
	}
	logged := logBuf.String()
	if !strings.Contains(logged, "mail written to outbox") {
		t.Fatalf("no log line: %s", logged)
	}
	if strings.Contains(logged, "SECRET-TOKEN") || strings.Contains(logged, "Use https") {
		t.Fatalf("log line leaks the body: %s", logged)
	}
}

func TestSMTPPlain(t *testing.T) {
	sink, err := mailtest.Start(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	s := &SMTP{Addr: sink.Addr, From: "iamd@example.org", Now: fixedNow}
	m := &Message{To: []string{"root@example.com", "ops@example.com"}, Subject: "Recovery", Body: "line one\n.starts with a dot\nend"}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := sink.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	r := got[0]
	if r.From != "iamd@example.org" || strings.Join(r.To, ",") != "root@example.com,ops@example.com" || r.TLS || r.Auth != "" {
		t.Fatalf("envelope: %+v", r)
	}
	// Exactly what Render makes, bar the random Message-ID.
	parsed, err := netmail.ReadMessage(r.Reader())
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(parsed.Header.Get("Message-ID"), "<"), "@example.org>")
	want, err := Render(m, "iamd@example.org", testNow, id)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.Data, want) {
		t.Fatalf("received\n%q\nwant\n%q", r.Data, want)
	}
}

func TestSMTPStartTLSAndAuth(t *testing.T) {
	cert, pool := selfSigned(t)
	sink, err := mailtest.Start(&tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	s := &SMTP{
		Addr: sink.Addr, From: "iamd@example.org", Username: "relay-user", Password: "relay-pass", Now: fixedNow,
		TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"},
	}
	if err := s.Send(context.Background(), &Message{To: []string{"root@example.com"}, Subject: "s", Body: "b"}); err != nil {
		t.Fatal(err)
	}
	got := sink.Messages()
	if len(got) != 1 || !got[0].TLS || got[0].Auth != "relay-user\x00relay-pass" {
		t.Fatalf("received %+v", got)
	}
}

func TestSMTPUntrustedCertificateFails(t *testing.T) {
	cert, _ := selfSigned(t)
	sink, err := mailtest.Start(&tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	// Default TLS configuration: the self-signed certificate is not trusted,
	// so nothing may be sent in clear text as a fallback.
	s := &SMTP{Addr: sink.Addr, From: "iamd@example.org", Now: fixedNow}
	if err := s.Send(context.Background(), &Message{To: []string{"root@example.com"}, Subject: "s", Body: "b"}); err == nil {
		t.Fatal("sent over an unverified STARTTLS link")
	}
	if n := len(sink.Messages()); n != 0 {
		t.Fatalf("%d messages delivered", n)
	}
}

func TestSMTPUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &SMTP{Addr: addr, From: DefaultFrom, Now: fixedNow}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Send(ctx, &Message{To: []string{"root@example.com"}, Subject: "s", Body: "b"}); err == nil {
		t.Fatal("no error for a closed port")
	}
}

// selfSigned makes a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailtest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}
