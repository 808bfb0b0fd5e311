package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"github.com/equipe-dev/equipe"
	"log/slog"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/mail/mailtest"
)

func TestParseSMTPURL(t *testing.T) {
	good := []struct {
		raw  string
		want SMTPConfig
	}{
		{"smtp://user:pass@mail.example.com:587", SMTPConfig{Host: "mail.example.com", Port: 587, Username: "user", Password: "pass", TLS: TLSStartTLS}},
		{"smtp://mail.example.com", SMTPConfig{Host: "mail.example.com", Port: 587, TLS: TLSStartTLS}},
		{"SMTP://mail.example.com/", SMTPConfig{Host: "mail.example.com", Port: 587, TLS: TLSStartTLS}},
		{"smtps://mail.example.com", SMTPConfig{Host: "mail.example.com", Port: 465, TLS: TLSImplicit}},
		{"smtps://u:p@mail.example.com:2465", SMTPConfig{Host: "mail.example.com", Port: 2465, Username: "u", Password: "p", TLS: TLSImplicit}},
		{"smtp://127.0.0.1:1025?tls=none", SMTPConfig{Host: "127.0.0.1", Port: 1025, TLS: TLSNone}},
		{"smtp://relay.local?tls=opportunistic", SMTPConfig{Host: "relay.local", Port: 587, TLS: TLSOpportunistic}},
		{"smtp://relay.local:25?tls=starttls", SMTPConfig{Host: "relay.local", Port: 25, TLS: TLSStartTLS}},
		{"smtp://u%40x.test:p%3Ass%2F@host:25", SMTPConfig{Host: "host", Port: 25, Username: "u@x.test", Password: "p:ss/", TLS: TLSStartTLS}},
		{"smtp://[::1]:2525?tls=none", SMTPConfig{Host: "::1", Port: 2525, TLS: TLSNone}},
	}
	for _, tc := range good {
		got, err := ParseSMTPURL(tc.raw)
		if err != nil {
			t.Errorf("ParseSMTPURL(%q): %v", tc.raw, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseSMTPURL(%q) = %+v, want %+v", tc.raw, got, tc.want)
		}
	}
	// Every bad URL carries the password s3cret, which no error may repeat.
	bad := []string{
		"",
		"   ",
		"mail.example.com:587",
		"smtp:mail.example.com",
		"http://u:s3cret@mail.example.com",
		"//u:s3cret@mail.example.com",
		"smtp://u:s3cret@",
		"smtp://u:s3cret@mail.example.com:0",
		"smtp://u:s3cret@mail.example.com:99999",
		"smtp://u:s3cret@mail.example.com:abc",
		"smtp://u:s3cret@mail.example.com?tls=maybe",
		"smtp://u:s3cret@mail.example.com?tls=none&tls=none",
		"smtps://u:s3cret@mail.example.com?tls=none",
		"smtp://u:s3cret@mail.example.com?timeout=5",
		"smtp://u:s3cret@mail.example.com/inbox",
		"smtp://u:s3cret@mail.example.com#top",
		"smtp://u@mail.example.com",
		"smtp://:s3cret@mail.example.com",
		"smtp://u:s3%zzcret@mail.example.com",
		"smtp://u:s3cret@mail example.com",
		"smtp://u:s3cret@mail.example.com\n",
	}
	for _, raw := range bad {
		_, err := ParseSMTPURL(raw)
		if err == nil {
			t.Errorf("ParseSMTPURL(%q) succeeded", raw)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "s3") || strings.Contains(msg, "zz") || strings.ContainsAny(msg, "\r\n") {
			t.Errorf("ParseSMTPURL(%q): error %q shows the password or spans lines", raw, msg)
		}
	}
}

func TestSMTPConfig_NeverShowsThePassword(t *testing.T) {
	cfg, err := ParseSMTPURL("smtp://relay:s3cret@mail.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.String(); got != "smtp://relay:xxxxx@mail.example.com:587" {
		t.Errorf("String() = %q", got)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("smtp", "config", cfg)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("smtp", "config", cfg)
	if strings.Contains(buf.String(), "s3cret") {
		t.Errorf("the log shows the password: %s", buf.String())
	}
}

func TestSMTPSender_DeliversTextAndHTMLWithHeaders(t *testing.T) {
	srv := mailtest.StartSMTP(t)
	tm := testTemplates(t, nil)
	e := compose(t, tm, "ada@example.org", "tok-123")
	e.CreatedAt = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	if err := smtpSender(t, srv).Send(context.Background(), e); err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := srv.WaitFor(t, 1, 5*time.Second)[0]
	if m.From != "no-reply@equipe.example.test" || len(m.To) != 1 || m.To[0] != "ada@example.org" {
		t.Errorf("envelope from %q to %q", m.From, m.To)
	}
	if m.MessageID != e.MessageID {
		t.Errorf("Message-ID %q, want %q", m.MessageID, e.MessageID)
	}
	if got := m.Header.Get("Message-Id"); got != "<"+e.MessageID+">" {
		t.Errorf("Message-ID header %q, want angle brackets", got)
	}
	if m.Subject != e.Subject {
		t.Errorf("subject %q, want %q", m.Subject, e.Subject)
	}
	if got := m.Header.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted %q", got)
	}
	if d, err := m.Header.Date(); err != nil || !d.Equal(e.CreatedAt) {
		t.Errorf("Date %v (%v), want %v", d, err, e.CreatedAt)
	}
	from, err := mail.ParseAddress(m.Header.Get("From"))
	if err != nil || from.Name != "equipe" || from.Address != "no-reply@equipe.example.test" {
		t.Errorf("From %q", m.Header.Get("From"))
	}
	if got := m.Header.Get("To"); !strings.Contains(got, "ada@example.org") {
		t.Errorf("To %q", got)
	}
	if ct := m.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type %q", ct)
	}
	link := testPublicURL + "/password-reset/tok-123"
	if !strings.Contains(m.Text, link) || !strings.Contains(m.HTML, link) || !strings.Contains(m.HTML, "<!DOCTYPE html>") {
		t.Errorf("bodies lack the link or the HTML:\ntext: %s\nhtml: %.200s", m.Text, m.HTML)
	}
	if m.Header.Get("User-Agent") != "" || m.Header.Get("X-Mailer") != "" {
		t.Error("the message advertises its mailer")
	}
}

func TestSMTPSender_LineBreaksInANameAddNoHeaderNorRecipient(t *testing.T) {
	srv := mailtest.StartSMTP(t)
	sender := smtpSender(t, srv)
	tm := testTemplates(t, nil)
	e, err := tm.Compose(TemplateInviterConfirmation, "en", "grace@example.org", Data{
		RecipientID: equipe.NewID(), RecipientName: "Eve\r\nBcc: x@evil.test",
		InviterName: "Grace\r\nCc: y@evil.test",
		AccountName: "Acme",
	})
	if err != nil {
		t.Fatal(err)
	}
	// An email built by other means, with the break in its subject, must
	// fare no better.
	raw := e
	raw.MessageID = "raw-" + e.MessageID
	raw.Subject = "Hello\r\nBcc: z@evil.test\r\n\r\nbody"
	if err := sender.Send(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if err := sender.Send(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	for _, m := range srv.WaitFor(t, 2, 5*time.Second) {
		if len(m.To) != 1 || m.To[0] != "grace@example.org" {
			t.Errorf("recipients %q, want only grace@example.org", m.To)
		}
		for _, h := range []string{"Bcc", "Cc"} {
			if v := m.Header.Get(h); v != "" {
				t.Errorf("message has a %s header: %q", h, v)
			}
		}
		head, _, _ := bytes.Cut(m.Data, []byte("\r\n\r\n"))
		for _, line := range strings.Split(string(head), "\r\n") {
			if l := strings.ToLower(line); strings.HasPrefix(l, "bcc:") || strings.HasPrefix(l, "cc:") {
				t.Errorf("header line %q", line)
			}
		}
		if strings.ContainsAny(m.Subject, "\r\n") {
			t.Errorf("subject %q spans lines", m.Subject)
		}
	}
	if got := srv.Messages()[0].Subject; got != "Eve Bcc: x@evil.test joined Acme" {
		t.Errorf("subject %q", got)
	}
}

func TestSMTPSender_STARTTLSWithSelfSignedCertificateAndAuth(t *testing.T) {
	srv := mailtest.StartSMTP(t, mailtest.STARTTLS(), mailtest.Auth("relay", "relay-pass"))
	if !strings.HasPrefix(srv.URL(), "smtp://relay:relay-pass@127.0.0.1:") || strings.Contains(srv.URL(), "tls=") {
		t.Fatalf("URL %q should ask for mandatory STARTTLS", srv.URL())
	}
	e := compose(t, testTemplates(t, nil), "ada@example.org", "tok")
	if err := smtpSender(t, srv).Send(context.Background(), e); err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := srv.WaitFor(t, 1, 5*time.Second)[0]
	if !m.TLS || m.User != "relay" || m.MessageID != e.MessageID {
		t.Errorf("TLS %v, user %q, Message-ID %q", m.TLS, m.User, m.MessageID)
	}
}

func TestSMTPSender_ImplicitTLS(t *testing.T) {
	srv := mailtest.StartSMTP(t, mailtest.ImplicitTLS())
	e := compose(t, testTemplates(t, nil), "ada@example.org", "tok")
	if err := smtpSender(t, srv).Send(context.Background(), e); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if m := srv.WaitFor(t, 1, 5*time.Second)[0]; !m.TLS {
		t.Error("the message did not travel over TLS")
	}
}

func TestSMTPSender_RefusesWhatIsNotSafe(t *testing.T) {
	e := compose(t, testTemplates(t, nil), "ada@example.org", "tok")
	send := func(raw string, adjust func(*SMTPConfig)) error {
		cfg, err := ParseSMTPURL(raw)
		if err != nil {
			t.Fatal(err)
		}
		if adjust != nil {
			adjust(&cfg)
		}
		s, err := NewSMTPSender(cfg, "no-reply@equipe.example.test")
		if err != nil {
			t.Fatal(err)
		}
		return s.Send(context.Background(), e)
	}

	t.Run("mandatory STARTTLS against a server without it", func(t *testing.T) {
		srv := mailtest.StartSMTP(t)
		err := send(strings.TrimSuffix(srv.URL(), "?tls=none"), nil)
		if err == nil || Permanent(err) || len(srv.Messages()) != 0 {
			t.Errorf("err %v (permanent %v), %d messages", err, Permanent(err), len(srv.Messages()))
		}
		// Opportunistic TLS accepts the same server in clear.
		if err := send(strings.Replace(srv.URL(), "tls=none", "tls=opportunistic", 1), nil); err != nil {
			t.Errorf("opportunistic: %v", err)
		}
	})
	t.Run("an untrusted certificate", func(t *testing.T) {
		srv := mailtest.StartSMTP(t, mailtest.STARTTLS())
		err := send(srv.URL(), nil)
		if err == nil || Permanent(err) || len(srv.Messages()) != 0 {
			t.Errorf("err %v, %d messages", err, len(srv.Messages()))
		}
	})
	t.Run("a wrong password", func(t *testing.T) {
		srv := mailtest.StartSMTP(t, mailtest.STARTTLS(), mailtest.Auth("relay", "relay-pass"))
		err := send(strings.Replace(srv.URL(), "relay-pass", "wrong-pass-123", 1), func(c *SMTPConfig) {
			c.TLSConfig = &tls.Config{RootCAs: srv.RootCAs()}
		})
		if err == nil || len(srv.Messages()) != 0 {
			t.Fatalf("err %v, %d messages", err, len(srv.Messages()))
		}
		if Permanent(err) {
			t.Error("an authentication failure is a fault of the settings, not of the email: it must not abandon it")
		}
		if strings.Contains(err.Error(), "wrong-pass-123") {
			t.Errorf("error shows the password: %v", err)
		}
	})
}

func TestSMTPSender_ClassifiesFailures(t *testing.T) {
	srv := mailtest.StartSMTP(t)
	sender := smtpSender(t, srv)
	e := compose(t, testTemplates(t, nil), "ada@example.org", "tok")
	ctx := context.Background()

	srv.FailNext(1, 550)
	if err := sender.Send(ctx, e); err == nil || !Permanent(err) {
		t.Errorf("550: err %v, want a permanent error", err)
	}
	srv.FailNext(1, 451)
	if err := sender.Send(ctx, e); err == nil || Permanent(err) {
		t.Errorf("451: err %v, want a temporary error", err)
	}
	srv.Stop()
	if err := sender.Send(ctx, e); err == nil || Permanent(err) {
		t.Errorf("server down: err %v, want a temporary error", err)
	}
	srv.Start()
	bad := e
	bad.To = "not an address"
	if err := sender.Send(ctx, bad); err == nil || !Permanent(err) {
		t.Errorf("bad address: err %v, want a permanent error", err)
	}
	if err := sender.Send(ctx, e); err != nil {
		t.Errorf("after the failures: %v", err)
	}
	if n := len(srv.WaitFor(t, 1, 5*time.Second)); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

// hangingServer accepts connections and never says a word. It returns its
// address and a count of the connections it accepted.
func hangingServer(t *testing.T) (string, func() int) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String(), func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(conns)
	}
}

// hangingSender sends to a hanging server with a short timeout.
func hangingSender(t *testing.T, addr string) *SMTPSender {
	cfg, err := ParseSMTPURL("smtp://" + addr + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 200 * time.Millisecond
	s, err := NewSMTPSender(cfg, "no-reply@equipe.example.test")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSMTPSender_HangingServerTimesOut(t *testing.T) {
	addr, _ := hangingServer(t)
	start := time.Now()
	err := hangingSender(t, addr).Send(context.Background(), compose(t, testTemplates(t, nil), "ada@example.org", "tok"))
	if err == nil || Permanent(err) || !unavailable(err) {
		t.Errorf("err %v, want a temporary error saying the server is unavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Send took %v against a hanging server", d)
	}
}

func TestNewSMTPSender_RefusesBadSettings(t *testing.T) {
	if _, err := NewSMTPSender(SMTPConfig{Host: "mail.example.com", Port: 587}, "not an address"); err == nil {
		t.Error("a bad sender address was accepted")
	}
	if _, err := NewSMTPSender(SMTPConfig{Port: 587}, "no-reply@example.com"); err == nil {
		t.Error("a missing host was accepted")
	}
	if _, err := NewSMTPSender(SMTPConfig{Host: "h", Port: 587, TLS: "sometimes"}, "no-reply@example.com"); err == nil {
		t.Error("an unknown TLS mode was accepted")
	}
}
