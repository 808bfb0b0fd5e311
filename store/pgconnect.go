package store

import (
	"context"
	"errors"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// connectError is a failure to connect to PostgreSQL, said in one line:
// the server's address and the cause, once. pgx reports each attempt (with
// sslmode=prefer, one with TLS and one without) on a line of its own, which
// a command's single error line would break up and repeat. The error
// pgx returned stays underneath, for errors.As.
type connectError struct {
	addr, cause string
	err         error
}

func (e *connectError) Error() string {
	if e.addr == "" {
		return "connect to PostgreSQL: " + e.cause
	}
	return "connect to PostgreSQL at " + e.addr + ": " + e.cause
}

func (e *connectError) Unwrap() error { return e.err }

// connectFailed describes err, returned when connecting to the database at
// rawURL, in one line that never holds the URL's password.
func connectFailed(rawURL string, err error) error {
	e := &connectError{err: err}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) && ce.Config != nil {
		e.addr = net.JoinHostPort(ce.Config.Host, strconv.Itoa(int(ce.Config.Port)))
	}
	var pe *pgconn.PgError
	var dns *net.DNSError
	var errno syscall.Errno
	switch {
	case errors.As(err, &pe):
		// The server answered: its own words.
		e.cause = pe.Severity + ": " + pe.Message + " (SQLSTATE " + pe.Code + ")"
	case errors.As(err, &dns):
		e.cause = "cannot resolve " + dns.Name + ": " + dns.Err
	case errors.As(err, &errno):
		e.cause = errno.Error()
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		e.cause = "no answer in time"
	default:
		// Each attempt's line, once each, without pgx's indentation.
		msg := err.Error()
		if ce != nil {
			if inner := errors.Unwrap(ce); inner != nil {
				msg = inner.Error()
			}
		}
		var parts []string
		for line := range strings.Lines(msg) {
			if line = strings.TrimSpace(line); line != "" && !slices.Contains(parts, line) {
				parts = append(parts, line)
			}
		}
		e.cause = strings.Join(parts, "; ")
	}
	if u, perr := url.Parse(rawURL); perr == nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			e.cause = strings.ReplaceAll(e.cause, pw, "…")
		}
	}
	return e
}
