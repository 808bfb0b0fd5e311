package store

import (
	"context"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestOpen_APostgreSQLThatCannotBeReachedIsOneLineWithItsCause opens a
// PostgreSQL that refuses the connection, and one that refuses the
// database: the error is one line that names the server and the cause,
// once, and never the password.
func TestOpen_APostgreSQLThatCannotBeReachedIsOneLineWithItsCause(t *testing.T) {
	tests := []struct{ url, want string }{
		{"postgres://u:s3cr3t-pw@127.0.0.1:1/db", "connect to PostgreSQL at 127.0.0.1:1: connection refused"},
	}
	if base := os.Getenv("EQUIPE_TEST_DATABASE_URL"); base != "" {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/no_such_database"
		u.User = url.UserPassword(u.User.Username(), "s3cr3t-pw")
		tests = append(tests, struct{ url, want string }{u.String(),
			"connect to PostgreSQL at " + u.Host + `: FATAL: `})
	}
	for _, tt := range tests {
		_, err := Open(context.Background(), Config{URL: tt.url})
		if err == nil {
			t.Fatalf("%s opened", tt.url)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, tt.want) || strings.ContainsAny(msg, "\n\t") || strings.Contains(msg, "s3cr3t-pw") {
			t.Errorf("error %q, want one line starting %q without the password", msg, tt.want)
		}
		if !unreachable(err) || !errors.As(err, new(*pgconn.ConnectError)) {
			t.Errorf("%q no longer says the database is unreachable", msg)
		}
	}
}
