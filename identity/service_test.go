package identity_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

var testParams = identity.Params{Memory: 256, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

func newService(t testing.TB, db *store.DB, p identity.Params) *identity.Service {
	t.Helper()
	return servicetest.New(t, db, p).Identity
}

func signUp(t testing.TB, s *identity.Service, email string) {
	t.Helper()
	_, err := s.SignUp(context.Background(), identity.SignUp{Email: email, Password: "lovelace rode the number engine",
		FirstName: "Ada", LastName: "Lovelace", AccountName: "Analytical Engines", Locale: "en"},
		equipe.Origin{IP: "192.0.2.10"}, false)
	if err != nil {
		t.Fatal(err)
	}
}

func TestLogIn_HundredConsecutiveFailuresLockUntilReset(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	s := newService(t, db, testParams)
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	s.Work.Clock = func() time.Time { return now }
	signUp(t, s, "ada@example.com")
	failures := 0
	// An attacker tries as fast as the throttle lets them, from many addresses.
	for day := 0; failures < 100; day++ {
		o := equipe.Origin{IP: fmt.Sprintf("203.0.113.%d", failures%250)}
		_, _, err := s.LogIn(context.Background(), "ada@example.com", "wrong password!", o)
		switch equipe.ErrorCode(err) {
		case equipe.EUNAUTHORIZED:
			failures++
		case equipe.ERATELIMITED:
			now = now.Add(equipe.AsError(err).RetryAfter)
		default:
			t.Fatal(err)
		}
	}
	// From the hundredth failure, one attempt a day, whatever the quiet.
	_, _, err := s.LogIn(context.Background(), "ada@example.com", "lovelace rode the number engine", equipe.Origin{IP: "198.51.100.1"})
	if e := equipe.AsError(err); e.Code != equipe.ERATELIMITED || e.RetryAfter != 24*time.Hour {
		t.Fatalf("after 100 failures: %v", err)
	}
	now = now.Add(25 * time.Hour)
	s.LogIn(context.Background(), "ada@example.com", "wrong again", equipe.Origin{IP: "198.51.100.1"})
	_, _, err = s.LogIn(context.Background(), "ada@example.com", "lovelace rode the number engine", equipe.Origin{IP: "198.51.100.1"})
	if e := equipe.AsError(err); e.Code != equipe.ERATELIMITED || e.RetryAfter != 24*time.Hour {
		t.Fatalf("a day later, after one more failure: %v", err)
	}
	// A password reset lifts the lock.
	if err := s.RequestReset(context.Background(), "ada@example.com", equipe.Origin{IP: "198.51.100.1"}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.ProcessResets(context.Background()); n != 1 || err != nil {
		t.Fatalf("reset requests handled: %d %v", n, err)
	}
	emails, err := db.Emails(context.Background(), equipe.EmailQueued, 1)
	if err != nil || len(emails) != 1 || emails[0].Template != "password_reset" {
		t.Fatalf("reset email: %v %v", emails, err)
	}
	links := mail.Links(emails[0].Text, "")
	secret := links[0][strings.LastIndexByte(links[0], '/')+1:]
	if _, err := s.ConfirmReset(context.Background(), secret, "a new sentence after the attack", equipe.Origin{IP: "198.51.100.1"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.LogIn(context.Background(), "ada@example.com", "a new sentence after the attack", equipe.Origin{IP: "198.51.100.1"}); err != nil {
		t.Fatalf("after the reset: %v", err)
	}
}

func TestLogIn_SuccessfulLoginsFromOneAddressAreNeverThrottled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newService(t, db, testParams)
		signUp(t, s, "ada@example.com")
		o := equipe.Origin{IP: "203.0.113.7"}
		for i := range 100 {
			if _, _, err := s.LogIn(context.Background(), "ada@example.com", "lovelace rode the number engine", o); err != nil {
				t.Fatalf("login %d from one address: %v", i+1, err)
			}
		}
		// Failures from that address still count: thirty, each for another
		// email (so the per-email limit is never reached), then it is blocked.
		for i := range 30 {
			_, _, err := s.LogIn(context.Background(), fmt.Sprintf("nobody%d@example.com", i), "wrong password here", o)
			if equipe.ErrorCode(err) != equipe.EUNAUTHORIZED {
				t.Fatalf("failure %d from one address: %v", i+1, err)
			}
		}
		_, _, err := s.LogIn(context.Background(), "ada@example.com", "lovelace rode the number engine", o)
		if equipe.ErrorCode(err) != equipe.ERATELIMITED {
			t.Fatalf("after 30 failures from one address: %v", err)
		}
		// Another address is not affected.
		if _, _, err := s.LogIn(context.Background(), "ada@example.com", "lovelace rode the number engine", equipe.Origin{IP: "198.51.100.9"}); err != nil {
			t.Fatalf("from another address: %v", err)
		}
	})
}

func TestLogIn_LockoutIsTemporaryAndProgressive(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	s := newService(t, db, testParams)
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	s.Work.Clock = func() time.Time { return now }
	signUp(t, s, "ada@example.com")
	o := equipe.Origin{IP: "203.0.113.7"}
	try := func(pw string) error {
		_, _, err := s.LogIn(context.Background(), "ada@example.com", pw, o)
		return err
	}
	for range 5 {
		if err := try("wrong password!"); equipe.ErrorCode(err) != equipe.EUNAUTHORIZED {
			t.Fatalf("free attempt: %v", err)
		}
	}
	// Blocked for 30 s, then 60 s after the next failure: the delay doubles.
	err := try("lovelace rode the number engine")
	if e := equipe.AsError(err); e.Code != equipe.ERATELIMITED || e.RetryAfter != 30*time.Second {
		t.Fatalf("right password during the block: %v", err)
	}
	now = now.Add(31 * time.Second)
	try("wrong password!")
	if e := equipe.AsError(try("wrong password!")); e.Code != equipe.ERATELIMITED || e.RetryAfter != 60*time.Second {
		t.Fatalf("second block: %v", e)
	}
	now = now.Add(61 * time.Second)
	if err := try("lovelace rode the number engine"); err != nil {
		t.Fatalf("after the block: %v", err)
	}
	// A success forgets the failures.
	for range 4 {
		try("wrong password!")
	}
	if err := try("lovelace rode the number engine"); err != nil {
		t.Fatalf("after a success, the count restarted: %v", err)
	}
}

// percentile returns the q-quantile of d, in milliseconds.
func percentile(d []time.Duration, q float64) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[int(float64(len(s)-1)*q)].Microseconds()) / 1000
}

// BenchmarkLogIn measures a whole successful login with the default argon2id
// parameters (throttle bookkeeping, lookup, verification, session, known
// browser, audit event), and within each login the time the hasher spent
// deriving the key (Hasher.Spent): it reports the median of each and the
// median of their difference, what a login costs beyond the password hash,
// measured on the same login rather than against a separate hash. It logs
// in from a browser known to the person (the common case), and from a new
// one each time, which queues the new-browser email too. The database runs
// with the service's settings (storetest.OpenDurable): on PostgreSQL a
// commit that waits for the disk does, as it does not in the tests.
func BenchmarkLogIn(b *testing.B) {
	for _, e := range storetest.Engines() {
		for _, browser := range []string{"known-browser", "new-browser"} {
			b.Run(string(e)+"/"+browser, func(b *testing.B) {
				benchmarkLogIn(b, e, browser == "known-browser")
			})
		}
	}
}

func benchmarkLogIn(b *testing.B, e store.Engine, known bool) {
	db := storetest.OpenDurable(b, e)
	s := newService(b, db, identity.DefaultParams)
	signUp(b, s, "ada@example.com")
	o := equipe.Origin{IP: "203.0.113.7", UserAgent: "bench"}
	first, _, err := s.LogIn(context.Background(), "ada@example.com", "lovelace rode the number engine", o)
	if err != nil {
		b.Fatal(err)
	}
	if known {
		o.Browser = first.Browser
	}
	var login, hash, beyond []time.Duration
	for b.Loop() {
		spent := s.Hasher.Spent()
		start := time.Now()
		if _, _, err := s.LogIn(context.Background(), "ada@example.com", "lovelace rode the number engine", o); err != nil {
			b.Fatal(err)
		}
		l := time.Since(start)
		h := s.Hasher.Spent() - spent
		login, hash, beyond = append(login, l), append(hash, h), append(beyond, l-h)
	}
	b.ReportMetric(percentile(login, 0.5), "login-p50-ms")
	b.ReportMetric(percentile(hash, 0.5), "hash-p50-ms")
	b.ReportMetric(percentile(beyond, 0.5), "beyond-hash-p50-ms")
	b.ReportMetric(percentile(beyond, 0.9), "beyond-hash-p90-ms")
	b.ReportMetric(percentile(login, 0.9), "login-p90-ms")
}
