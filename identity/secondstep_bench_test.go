package identity_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// BenchmarkLogInWithSecondFactor compares, in one run and on one database,
// a password login (BenchmarkLogIn's) with a login of someone who has an
// authenticator app: the password step (which answers with a challenge)
// then the second step with a code. For each it reports the median time
// beyond the password hash (Hasher.Spent, measured inside each login); for
// the two-step login also beyond the TOTP verification, which the benchmark
// times alone (opening the sealed seed and computing the codes of the
// three steps a code is checked against). The target: a login with a
// second factor costs no more than the hash plus 2 ms beyond that
// verification. It runs from a known browser (the common case: the cookie
// of the first login is sent) and from a new one (every login queues the
// new-browser email), and reports the commits of each kind of login, and
// of them those that waited for the disk, and its round trips to the
// database (on PostgreSQL: a read outside a transaction or a batch is one,
// a batch one, whatever its statements), all and those the login waited
// for.
// The database runs with the service's settings (storetest.OpenDurable):
// on PostgreSQL a commit that waits for the disk does, as it does not in
// the tests.
//
// The password step's record of its challenge runs detached, after its
// answer. A person reads the answer and types the code: by then it has
// committed, and the machine has been idle a while. The "typed" runs model
// that: between the two steps, out of the time measured, the loop waits
// for the record, then leaves the machine idle for think (not a wait for
// any state: a pause, after which the database's first answer costs what
// it costs after a pause, as the password step's first write after the
// hash does), so the figure is what the person waits for, the first step's
// answer then the second's. The
// "at-once" runs send the code the moment the challenge comes (a client
// with the seed), the record then running while the second step does, on
// the same two CPUs. Both wait for it after the login, out of the time
// measured, as they wait for each login's record of the person's entry
// into their account, written after the answer too.
func BenchmarkLogInWithSecondFactor(b *testing.B) {
	for _, e := range storetest.Engines() {
		for _, browser := range []string{"known-browser", "new-browser"} {
			for _, code := range []string{"typed", "at-once"} {
				b.Run(string(e)+"/"+browser+"/"+code, func(b *testing.B) {
					benchmarkLogInWithSecondFactor(b, e, browser == "known-browser", code == "typed")
				})
			}
		}
	}
}

// think is the pause of the "typed" runs between a login's two steps: as
// long as the password's hash, after which the machine's first round trip
// to the database is as slow as it gets here (a person's seconds add
// nothing to it).
const think = 25 * time.Millisecond

func benchmarkLogInWithSecondFactor(b *testing.B, e store.Engine, known, typed bool) {
	ctx := context.Background()
	db := storetest.OpenDurable(b, e)
	st := servicetest.New(b, db, identity.DefaultParams)
	s, clock := st.Identity, st.Clock
	clock.Set(clock.Now().Truncate(30 * time.Second).Add(10 * time.Second))
	signUp(b, s, "ada@example.com")
	signUp(b, s, "grace@example.com")
	o := equipe.Origin{IP: "203.0.113.7", UserAgent: "bench"}
	u, err := s.DB.UserByEmailKey(ctx, identity.EmailKey("grace@example.com"))
	if err != nil {
		b.Fatal(err)
	}
	setup, err := s.StartTOTP(ctx, identity.Auth{User: u}, "lovelace rode the number engine", o)
	if err != nil {
		b.Fatal(err)
	}
	code := func() string {
		c, err := totp.GenerateCode(setup.Secret, clock.Now())
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	if _, err := s.ConfirmTOTP(ctx, identity.Auth{User: u}, code(), o); err != nil {
		b.Fatal(err)
	}
	sealed, _ := s.Keys.Seal([]byte(setup.Secret), "bench")
	// The first logins, from which a known browser keeps its cookie.
	ada, grace := o, o
	first, _, err := s.LogIn(ctx, "ada@example.com", "lovelace rode the number engine", o)
	if err != nil {
		b.Fatal(err)
	}
	clock.Advance(30 * time.Second)
	_, _, err = s.LogIn(ctx, "grace@example.com", "lovelace rode the number engine", o)
	var firstStep *identity.SecondFactorRequired
	if !errors.As(err, &firstStep) {
		b.Fatalf("no second step: %v", err)
	}
	second, _, err := s.LogInSecondFactor(ctx, firstStep.Challenge, code(), o)
	if err != nil {
		b.Fatal(err)
	}
	if known {
		ada.Browser, grace.Browser = first.Browser, second.Browser
	}
	var plain, twoStep, beyondTOTP, verify []time.Duration
	var plainCommits, twoStepCommits, plainDurable, twoStepDurable, plainTrips, twoStepTrips, plainDetached, twoStepDetached uint64
	durable := func() uint64 { return db.Commits() - db.RelaxedCommits() }
	// Every write of a login is a batch (one commit, one round trip), and
	// every read one statement on its own.
	trips := func() uint64 { return db.Commits() + db.Reads() }
	for b.Loop() {
		// A password login.
		spent, commits, waited, tripped := s.Hasher.Spent(), db.Commits(), durable(), trips()
		detached := db.DetachedBatches()
		start := time.Now()
		if _, _, err := s.LogIn(ctx, "ada@example.com", "lovelace rode the number engine", ada); err != nil {
			b.Fatal(err)
		}
		plain = append(plain, time.Since(start)-(s.Hasher.Spent()-spent))
		db.WaitDetached()
		plainDetached += db.DetachedBatches() - detached
		plainCommits += db.Commits() - commits
		plainDurable += durable() - waited
		plainTrips += trips() - tripped

		// A login with the app's code, at the next step (a code is
		// accepted once).
		clock.Advance(30 * time.Second)
		c := code()
		spent, commits, waited, tripped = s.Hasher.Spent(), db.Commits(), durable(), trips()
		detached = db.DetachedBatches()
		start = time.Now()
		_, _, err := s.LogIn(ctx, "grace@example.com", "lovelace rode the number engine", grace)
		var step *identity.SecondFactorRequired
		if !errors.As(err, &step) {
			b.Fatalf("no second step: %v", err)
		}
		first := time.Since(start)
		if typed {
			db.WaitDetached()
			time.Sleep(think)
		}
		start = time.Now()
		if _, _, err := s.LogInSecondFactor(ctx, step.Challenge, c, grace); err != nil {
			b.Fatal(err)
		}
		l := first + time.Since(start) - (s.Hasher.Spent() - spent)
		db.WaitDetached()
		twoStepDetached += db.DetachedBatches() - detached
		twoStepCommits += db.Commits() - commits
		twoStepDurable += durable() - waited
		twoStepTrips += trips() - tripped
		twoStep = append(twoStep, l)

		// The TOTP verification alone, as the second step does it.
		vs := time.Now()
		seed, _, err := s.Keys.Open(sealed, s.Keys.KeyID(), "bench")
		if err != nil {
			b.Fatal(err)
		}
		at := uint64(clock.Now().Unix() / 30)
		for n := at - 1; n <= at+1; n++ {
			if _, err := hotp.GenerateCodeCustom(string(seed), n, hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}); err != nil {
				b.Fatal(err)
			}
		}
		v := time.Since(vs)
		verify = append(verify, v)
		beyondTOTP = append(beyondTOTP, l-v)
	}
	b.ReportMetric(percentile(plain, 0.5), "password-beyond-hash-p50-ms")
	b.ReportMetric(percentile(twoStep, 0.5), "2fa-beyond-hash-p50-ms")
	b.ReportMetric(percentile(verify, 0.5), "totp-verify-p50-ms")
	b.ReportMetric(percentile(beyondTOTP, 0.5), "2fa-beyond-hash-and-totp-p50-ms")
	b.ReportMetric(percentile(beyondTOTP, 0.9), "2fa-beyond-hash-and-totp-p90-ms")
	b.ReportMetric(float64(plainCommits)/float64(len(plain)), "password-commits/login")
	b.ReportMetric(float64(twoStepCommits)/float64(len(twoStep)), "2fa-commits/login")
	b.ReportMetric(float64(plainDurable)/float64(len(plain)), "password-durable-commits/login")
	b.ReportMetric(float64(twoStepDurable)/float64(len(twoStep)), "2fa-durable-commits/login")
	b.ReportMetric(float64(plainTrips)/float64(len(plain)), "password-round-trips/login")
	b.ReportMetric(float64(twoStepTrips)/float64(len(twoStep)), "2fa-round-trips/login")
	b.ReportMetric(float64(plainTrips-plainDetached)/float64(len(plain)), "password-waited-round-trips/login")
	b.ReportMetric(float64(twoStepTrips-twoStepDetached)/float64(len(twoStep)), "2fa-waited-round-trips/login")
}
