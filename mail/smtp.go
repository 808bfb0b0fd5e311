package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/equipe-dev/equipe"
)

// Sender delivers one rendered email. Send returns nil once the email is
// accepted for delivery; an error that Permanent reports as permanent means
// no retry can succeed, any other error is worth a retry later.
type Sender interface {
	Send(ctx context.Context, e equipe.Email) error
}

// TLSMode says how the SMTP connection is protected.
type TLSMode string

// TLS modes. The default of an smtp:// URL is TLSStartTLS: the connection
// is refused rather than sent in clear when the server does not offer
// STARTTLS, since emails carry one-time links and the relay's password.
const (
	TLSStartTLS      TLSMode = "starttls"      // STARTTLS, mandatory
	TLSImplicit      TLSMode = "implicit"      // TLS from the first byte (smtps://)
	TLSOpportunistic TLSMode = "opportunistic" // STARTTLS when offered, clear otherwise
	TLSNone          TLSMode = "none"          // clear text: a local relay or a test server
)

// Default SMTP timeouts: a server that hangs delays the worker by this much,
// never forever.
const (
	DefaultSMTPDialTimeout = 15 * time.Second
	DefaultSMTPTimeout     = 30 * time.Second
)

// SMTPConfig says how to reach the SMTP server. Its String and LogValue
// methods never show the password.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string
	Password string `json:"-"`
	TLS      TLSMode
	// TLSConfig replaces the default TLS settings (system roots, server name
	// Host, TLS 1.2 at least); tests use it to trust a self-signed
	// certificate.
	TLSConfig *tls.Config `json:"-"`
	// DialTimeout bounds connecting, and for implicit TLS the handshake
	// (default DefaultSMTPDialTimeout).
	DialTimeout time.Duration
	// Timeout bounds each stage of the conversation once connected: the
	// greeting, STARTTLS and AUTH, then the sending of the message (default
	// DefaultSMTPTimeout). With the defaults a send that hangs gives up
	// within about 75 s.
	Timeout time.Duration
}

// ParseSMTPURL parses an SMTP URL: smtp://user:pass@host:587 (STARTTLS,
// mandatory), smtps://user:pass@host:465 (implicit TLS), and on smtp:// a
// query tls=opportunistic or tls=none. The ports default to 587 and 465.
// The user name and password are percent-decoded. Errors say in one line
// what is wrong, without the password; the caller prefixes the setting's
// name.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	if strings.TrimSpace(raw) == "" {
		return SMTPConfig{}, errors.New("is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the whole URL, password included: keep only its
		// cause, and not even that for a bad escape, which quotes
		// characters of the password.
		var ue *url.Error
		var ee url.EscapeError
		switch {
		case errors.As(err, &ee):
			return SMTPConfig{}, errors.New("is not a valid URL: a %-escape is malformed (percent-encode special characters of the user and password)")
		case errors.As(err, &ue):
			return SMTPConfig{}, fmt.Errorf("is not a valid URL: %s", ue.Err.Error())
		}
		return SMTPConfig{}, errors.New("is not a valid URL")
	}
	var cfg SMTPConfig
	switch u.Scheme {
	case "smtp":
		cfg.TLS, cfg.Port = TLSStartTLS, 587
	case "smtps":
		cfg.TLS, cfg.Port = TLSImplicit, 465
	case "":
		return SMTPConfig{}, errors.New("has no scheme: write smtp://host:587 (STARTTLS) or smtps://host:465 (implicit TLS)")
	default:
		return SMTPConfig{}, fmt.Errorf("has scheme %q: use smtp:// (STARTTLS) or smtps:// (implicit TLS)", u.Scheme)
	}
	if u.Opaque != "" {
		return SMTPConfig{}, fmt.Errorf("must look like %s://host:port", u.Scheme)
	}
	cfg.Host = u.Hostname()
	if cfg.Host == "" {
		return SMTPConfig{}, errors.New("has no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTPConfig{}, fmt.Errorf("has port %q: want a number from 1 to 65535", p)
		}
		cfg.Port = n
	}
	if u.Path != "" && u.Path != "/" {
		return SMTPConfig{}, fmt.Errorf("has a path (%s): an SMTP URL names only a server", u.EscapedPath())
	}
	if u.Fragment != "" {
		return SMTPConfig{}, errors.New("has a #fragment: an SMTP URL names only a server")
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
		switch {
		case cfg.Username == "" && cfg.Password != "":
			return SMTPConfig{}, errors.New("has a password but no user name")
		case cfg.Username != "" && cfg.Password == "":
			return SMTPConfig{}, fmt.Errorf("has user %q but no password", cfg.Username)
		}
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return SMTPConfig{}, errors.New("has a malformed query")
	}
	for k, vs := range q {
		if k != "tls" {
			return SMTPConfig{}, fmt.Errorf("has unknown parameter %q (only tls is accepted)", k)
		}
		if len(vs) != 1 {
			return SMTPConfig{}, errors.New("gives tls more than once")
		}
		if u.Scheme == "smtps" {
			return SMTPConfig{}, fmt.Errorf("has tls=%s, but smtps:// always uses implicit TLS; use smtp:// to choose", vs[0])
		}
		switch v := TLSMode(vs[0]); v {
		case TLSStartTLS, TLSOpportunistic, TLSNone:
			cfg.TLS = v
		default:
			return SMTPConfig{}, fmt.Errorf("has tls=%q: want starttls (the default), opportunistic or none", vs[0])
		}
	}
	return cfg, nil
}

// String returns the configuration as a URL with the password redacted.
func (c SMTPConfig) String() string {
	u := url.URL{Scheme: "smtp", Host: c.Host + ":" + strconv.Itoa(c.Port)}
	switch c.TLS {
	case TLSImplicit:
		u.Scheme = "smtps"
	case TLSOpportunistic, TLSNone:
		u.RawQuery = "tls=" + string(c.TLS)
	}
	if c.Username != "" {
		u.User = url.UserPassword(c.Username, c.Password)
	}
	return u.Redacted()
}

// LogValue logs the configuration as its redacted URL, whatever the
// handler (the JSON handler would otherwise print every field).
func (c SMTPConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

// SMTPSender sends emails through an SMTP server, one connection per
// email: the worker sends few emails, and a fresh connection cannot be
// left broken by the previous one.
type SMTPSender struct {
	cfg  SMTPConfig
	from *netmail.Address
	opts []gomail.Option
}

// NewSMTPSender returns a Sender that relays through the server cfg names,
// with from ("equipe <no-reply@example.com>") as the sender. It checks the
// configuration but does not connect.
func NewSMTPSender(cfg SMTPConfig, from string) (*SMTPSender, error) {
	if cfg.Host == "" || cfg.Port < 1 || cfg.Port > 65535 {
		return nil, errors.New("mail: SMTP host and port are required")
	}
	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: sender address %q: %w", from, err)
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultSMTPDialTimeout
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	tc := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = cfg.Host
		}
	}
	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		// go-mail's timeout bounds the dial and then each exchange with the
		// server; Send bounds the dial further with DialTimeout.
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSConfig(tc),
	}
	switch cfg.TLS {
	case TLSStartTLS, "":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		return nil, fmt.Errorf("mail: unknown TLS mode %q", cfg.TLS)
	}
	if cfg.Username != "" {
		// Auto-discovery picks the strongest mechanism the server offers and
		// never sends the password in clear over an unencrypted connection.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	if _, err := gomail.NewClient(cfg.Host, opts...); err != nil {
		return nil, fmt.Errorf("mail: SMTP settings: %w", err)
	}
	return &SMTPSender{cfg: cfg, from: addr, opts: opts}, nil
}

// Send delivers e as a multipart/alternative message (text and HTML) with
// the Message-ID e.MessageID, so that a copy sent again after a crash is
// recognisable as the same message. ctx bounds the connection attempt; once
// connected, the configured Timeout bounds each exchange. A 5xx reply to the
// message (RCPT TO, DATA) is permanent; any other failure, including a 5xx
// during the greeting, STARTTLS or AUTH, or to MAIL FROM (a fault of the
// server or of our settings, not of this email), is temporary.
func (s *SMTPSender) Send(ctx context.Context, e equipe.Email) error {
	m, err := s.message(e)
	if err != nil {
		return &permanentError{err: err}
	}
	c, err := gomail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	dctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	defer cancel()
	err = c.DialAndSendWithContext(dctx, m)
	if err != nil && m.IsDelivered() {
		// The server accepted the message; what failed came after (RSET or
		// QUIT). Reporting a failure would only send it twice.
		return nil
	}
	if err != nil {
		return classify(err)
	}
	return nil
}

func (s *SMTPSender) message(e equipe.Email) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	m.FromMailAddress(s.from)
	if err := m.To(e.To); err != nil {
		return nil, fmt.Errorf("recipient address: %w", err)
	}
	if e.MessageID == "" || strings.ContainsAny(e.MessageID, "<>\r\n\t ") {
		return nil, errors.New("the email has no usable Message-ID")
	}
	// The subject was made one line by Compose; this holds for any other
	// Email as well, since a line break in a header would start a new one.
	m.Subject(subject(e.Subject))
	date := e.CreatedAt
	if date.IsZero() {
		date = time.Now()
	}
	m.SetDateWithValue(date)
	m.SetMessageIDWithValue(e.MessageID)
	// RFC 3834: tells autoresponders (out-of-office replies) not to answer.
	m.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	m.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	m.SetBodyString(gomail.TypeTextPlain, e.Text)
	if e.HTML != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, e.HTML)
	}
	return m, nil
}

// permanentError marks a failure that no retry can fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent reports whether err is a permanent delivery failure: the server
// refused the message with a 5xx reply, or the email cannot be sent at all
// (an unparsable address). Retrying such an email only delays the report.
func Permanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// unavailableError marks a failure to reach the server or to open a
// session with it (connection, greeting, STARTTLS, AUTH): no message was
// handed over, and the next email would fail the same way.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }

// unavailable reports whether err says the server could not be used at all,
// rather than that it refused one message.
func unavailable(err error) bool {
	var u *unavailableError
	return errors.As(err, &u)
}

// classify marks 5xx replies to the message itself as permanent, and
// failures before any message was handed over as the server's. A refused
// MAIL FROM is the server's too: it names only our sender, the same for
// every email (a relay that wants a login the settings lack, or a sender
// address it does not accept), so no email is to blame and none should be
// abandoned for it.
func classify(err error) error {
	var se *gomail.SendError
	switch {
	case !errors.As(err, &se), se.Reason == gomail.ErrConnCheck, se.Reason == gomail.ErrSMTPMailFrom:
		return &unavailableError{err: err}
	case se.ErrorCode() >= 500 && se.ErrorCode() < 600:
		return &permanentError{err: err}
	}
	return err
}
