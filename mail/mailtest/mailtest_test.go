package mailtest

import (
	"net/smtp"
	"net/url"
	"strings"
	"testing"
	"time"
)

const message = "From: a@example.org\r\nTo: b@example.org\r\nSubject: =?UTF-8?q?Caf=C3=A9?=\r\n" +
	"Message-ID: <m1@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n\r\nBonjour =C3=A0 vous\r\n"

func TestServer_RecordsMessagesAndRestartsOnTheSamePort(t *testing.T) {
	s := StartSMTP(t)
	u, err := url.Parse(s.URL())
	if err != nil || u.Query().Get("tls") != "none" || u.Host != s.Addr() {
		t.Fatalf("URL %q", s.URL())
	}
	if err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.org", "c@example.org"}, []byte(message)); err != nil {
		t.Fatal(err)
	}
	m := s.WaitFor(t, 1, 5*time.Second)[0]
	if m.From != "a@example.org" || strings.Join(m.To, ",") != "b@example.org,c@example.org" ||
		m.MessageID != "m1@example.org" || m.Subject != "Café" || m.Text != "Bonjour à vous\n" || m.TLS {
		t.Errorf("recorded %+v", m)
	}

	addr := s.Addr()
	s.Stop()
	if err := smtp.SendMail(addr, nil, "a@example.org", []string{"b@example.org"}, []byte(message)); err == nil {
		t.Error("a stopped server accepted a message")
	}
	s.Start()
	if s.Addr() != addr {
		t.Errorf("restarted on %s, want %s", s.Addr(), addr)
	}
	s.FailNext(1, 452)
	err = smtp.SendMail(addr, nil, "a@example.org", []string{"b@example.org"}, []byte(message))
	if err == nil || !strings.HasPrefix(err.Error(), "452") {
		t.Errorf("FailNext: err %v, want a 452 reply", err)
	}
	if err := smtp.SendMail(addr, nil, "a@example.org", []string{"b@example.org"}, []byte(message)); err != nil {
		t.Fatal(err)
	}
	if n := len(s.WaitFor(t, 2, 5*time.Second)); n != 2 {
		t.Errorf("%d messages, want 2", n)
	}
}
