package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/equipe-dev/equipe/internal/testenv"
)

// Message is one message the server accepted.
type Message struct {
	From      string      // the envelope sender (MAIL FROM)
	To        []string    // the envelope recipients (RCPT TO)
	Data      []byte      // the message as received
	Header    mail.Header // its parsed header
	MessageID string      // its Message-ID, without angle brackets
	Subject   string      // its decoded subject
	Text      string      // the decoded text/plain part
	HTML      string      // the decoded text/html part
	TLS       bool        // whether the connection was encrypted
	User      string      // the authenticated user, if any
}

// Option configures a Server.
type Option func(*Server)

// STARTTLS makes the server offer STARTTLS with a self-signed certificate
// for 127.0.0.1; clients trust it through RootCAs.
func STARTTLS() Option { return func(s *Server) { s.tlsMode = "starttls" } }

// ImplicitTLS makes the server speak TLS from the first byte (smtps://),
// with the same self-signed certificate as STARTTLS.
func ImplicitTLS() Option { return func(s *Server) { s.tlsMode = "implicit" } }

// Auth makes the server require AUTH PLAIN with this user and password
// (offered only over TLS, as real servers do).
func Auth(user, password string) Option {
	return func(s *Server) { s.user, s.password = user, password }
}

// Server is an SMTP server for tests.
type Server struct {
	t        testing.TB
	tlsMode  string // "", "starttls" or "implicit"
	user     string
	password string
	tlsConf  *tls.Config
	roots    *x509.CertPool

	mu       sync.Mutex
	addr     string // fixed after the first start, so a restart keeps the port
	srv      *smtp.Server
	listener net.Listener
	done     chan struct{} // closed when Serve returns
	msgs     []Message
	failN    int
	failCode int
	changed  chan struct{} // closed and replaced whenever a message arrives
}

// StartSMTP starts a server on 127.0.0.1 on a free port; it is stopped when
// the test ends.
func StartSMTP(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, addr: "127.0.0.1:0", changed: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	if s.tlsMode != "" {
		s.tlsConf, s.roots = selfSigned(t)
	}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Start starts the server, on the same port as before when it is a restart.
// It fails the test when the port cannot be had.
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return
	}
	var l net.Listener
	var err error
	// Right after a stop the port may linger for a moment in the kernel;
	// try again until it is free.
	free := testenv.Within(time.Second, testenv.Every(20*time.Millisecond), func() bool {
		l, err = net.Listen("tcp", s.addr)
		return err == nil
	})
	if !free {
		s.t.Fatalf("mailtest: listen on %s: %v", s.addr, err)
	}
	s.addr = l.Addr().String()
	if s.tlsMode == "implicit" {
		l = tls.NewListener(l, s.tlsConf)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, conn: c}, nil
	}))
	srv.Domain = "mailtest.localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if s.tlsMode == "starttls" {
		srv.TLSConfig = s.tlsConf
	}
	done := make(chan struct{})
	s.srv, s.listener, s.done = srv, l, done
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
}

// Stop stops the server and closes its connections; clients get
// "connection refused" until Start.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, l, done := s.srv, s.listener, s.done
	s.srv, s.listener = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	srv.Close()
	// Close only closes the listeners Serve has registered; one that has not
	// started yet would otherwise accept forever.
	l.Close()
	<-done
}

// Addr returns the server's host:port.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URL returns an SMTP URL for the server: smtp://127.0.0.1:port?tls=none
// for a plain server, smtp://127.0.0.1:port (mandatory STARTTLS) with
// STARTTLS, smtps://127.0.0.1:port with ImplicitTLS; with the user and
// password given to Auth.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr()}
	switch s.tlsMode {
	case "":
		u.RawQuery = "tls=none"
	case "implicit":
		u.Scheme = "smtps"
	}
	if s.user != "" {
		u.User = url.UserPassword(s.user, s.password)
	}
	return u.String()
}

// RootCAs returns the pool that trusts the server's certificate (nil
// without TLS).
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// FailNext makes the server refuse the next n messages with the reply code
// (a 4xx code for a passing failure, 5xx for a permanent one), after
// reading them.
func (s *Server) FailNext(n, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failCode = n, code
}

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// WaitFor waits until the server has accepted at least n messages and
// returns them; it fails the test after timeout.
func (s *Server) WaitFor(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, changed := len(s.msgs), s.changed
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("mailtest: %d messages received after %v, want %d", got, timeout, n)
			return nil
		}
	}
}

func (s *Server) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

// failure returns the reply that refuses the message at hand, if any.
func (s *Server) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failN <= 0 {
		return nil
	}
	s.failN--
	return &smtp.SMTPError{Code: s.failCode, EnhancedCode: smtp.EnhancedCodeNotSet,
		Message: fmt.Sprintf("refused by the test server (code %d)", s.failCode)}
}

type session struct {
	s    *Server
	conn *smtp.Conn
	user string
	from string
	to   []string
}

func (se *session) AuthMechanisms() []string {
	if se.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (se *session) Auth(mech string) (sasl.Server, error) {
	if se.s.user == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, user, password string) error {
		if user != se.s.user || password != se.s.password {
			return smtp.ErrAuthFailed
		}
		se.user = user
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.s.user != "" && se.user == "" {
		return smtp.ErrAuthRequired
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := se.s.failure(); err != nil {
		return err
	}
	m := Message{From: se.from, To: append([]string(nil), se.to...), Data: data, User: se.user}
	_, m.TLS = se.conn.TLSConnectionState()
	if parsed, err := mail.ReadMessage(bytes.NewReader(data)); err == nil {
		m.Header = parsed.Header
		m.MessageID = strings.Trim(strings.TrimSpace(parsed.Header.Get("Message-Id")), "<>")
		dec := mime.WordDecoder{}
		if subj, err := dec.DecodeHeader(parsed.Header.Get("Subject")); err == nil {
			m.Subject = subj
		}
		m.Text, m.HTML = bodies(parsed.Header.Get("Content-Type"), parsed.Header.Get("Content-Transfer-Encoding"), parsed.Body)
	}
	se.s.record(m)
	return nil
}

func (se *session) Reset() { se.from, se.to = "", nil }

func (se *session) Logout() error { return nil }

// bodies returns the text/plain and text/html parts of a message, decoded.
func bodies(contentType, encoding string, body io.Reader) (text, html string) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return text, html
			}
			// NextPart has already decoded a quoted-printable part and
			// removed its Content-Transfer-Encoding header.
			t, h := bodies(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			if text == "" {
				text = t
			}
			if html == "" {
				html = h
			}
		}
	}
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, newlineStripper{body})
	}
	b, _ := io.ReadAll(r)
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch mediaType {
	case "text/plain":
		return s, ""
	case "text/html":
		return "", s
	}
	return "", ""
}

// newlineStripper drops line breaks, which base64 bodies carry every 76
// characters and the decoder refuses.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// selfSigned makes a certificate for 127.0.0.1, ::1 and localhost, valid
// for a day, and the pool that trusts it.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("mailtest: key: %v", err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("mailtest: certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("mailtest: certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion:   tls.VersionTLS12,
	}, pool
}
