package mail

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/mail/mailtest"
	"github.com/equipe-dev/equipe/store"
)

// TestMain fails the run when a goroutine of the worker, the SMTP client or
// the test SMTP server outlives the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaks := leakedGoroutines(5 * time.Second); leaks != "" {
			fmt.Fprintf(os.Stderr, "goroutines leaked by the tests:\n\n%s\n", leaks)
			code = 1
		}
	}
	os.Exit(code)
}

// leakedGoroutines returns the stacks of the goroutines of the mail code
// still running once wait has passed, or "" as soon as there are none.
func leakedGoroutines(wait time.Duration) string {
	var leaks []string
	testenv.Within(wait, testenv.Every(50*time.Millisecond), func() bool {
		buf := make([]byte, 4<<20)
		buf = buf[:runtime.Stack(buf, true)]
		leaks = nil
		// The first stack is this goroutine's own.
		for _, g := range strings.Split(string(buf), "\n\n")[1:] {
			if strings.Contains(g, "equipe/mail") || strings.Contains(g, "emersion/go-smtp") ||
				strings.Contains(g, "wneessen/go-mail") {
				leaks = append(leaks, g)
			}
		}
		return len(leaks) == 0
	})
	return strings.Join(leaks, "\n\n")
}

const testPublicURL = "https://equipe.example.test"

// testClock is a clock that moves only when told.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock { return &testClock{t: time.Now().UTC().Truncate(time.Microsecond)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func testTemplates(t testing.TB, now func() time.Time) *Templates {
	t.Helper()
	u, err := url.Parse(testPublicURL)
	if err != nil {
		t.Fatal(err)
	}
	tm, err := NewTemplates(u, nil)
	if err != nil {
		t.Fatalf("NewTemplates: %v", err)
	}
	if now != nil {
		tm.Now = now
	}
	return tm
}

// compose renders a password reset for to, with a link holding token.
func compose(t testing.TB, tm *Templates, to, token string) equipe.Email {
	t.Helper()
	e, err := tm.Compose(TemplatePasswordReset, "en", to, Data{
		RecipientID: equipe.NewID(), RecipientName: "Ada Lovelace",
		Link:    testPublicURL + "/password-reset/" + token,
		Expires: tm.Now().Add(time.Hour),
	})
	if err != nil {
		t.Fatalf("Compose: %v", err)
	}
	return e
}

// enqueue commits emails to the outbox, created at now, as a use case would.
func enqueue(t testing.TB, db *store.DB, now time.Time, emails ...equipe.Email) {
	t.Helper()
	err := db.Write(context.Background(), func(tx *store.Tx) error {
		for i := range emails {
			emails[i].CreatedAt = now
			if err := tx.EnqueueEmail(context.Background(), &emails[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
}

// smtpSender returns a sender to srv, trusting its certificate if it has one.
func smtpSender(t testing.TB, srv *mailtest.Server) *SMTPSender {
	t.Helper()
	cfg, err := ParseSMTPURL(srv.URL())
	if err != nil {
		t.Fatalf("ParseSMTPURL(%s): %v", srv.URL(), err)
	}
	if pool := srv.RootCAs(); pool != nil {
		cfg.TLSConfig = &tls.Config{RootCAs: pool}
	}
	s, err := NewSMTPSender(cfg, "equipe <no-reply@equipe.example.test>")
	if err != nil {
		t.Fatalf("NewSMTPSender: %v", err)
	}
	return s
}

func emailByID(t testing.TB, db *store.DB, id equipe.ID) equipe.Email {
	t.Helper()
	e, err := db.EmailByID(context.Background(), id)
	if err != nil {
		t.Fatalf("EmailByID: %v", err)
	}
	return e
}
