package identity_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// addUsers writes n identities with a password straight to the store, as
// many as a benchmark needs without paying for sign-ups.
func addUsers(t testing.TB, db *store.DB, prefix string, n int) []string {
	t.Helper()
	ctx := context.Background()
	var emails []string
	err := db.Write(ctx, func(tx *store.Tx) error {
		for i := range n {
			email := fmt.Sprintf("%s%d@example.com", prefix, i)
			u := equipe.User{ID: equipe.NewUserID(), Email: email, EmailKey: email, FirstName: "Ada", LastName: "Lovelace",
				Locale: "en", PasswordHash: "x", CreatedAt: time.Now()}
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
			emails = append(emails, email)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return emails
}

// BenchmarkRequestReset_KnownAndUnknownAddressesTakeAlike answers 50
// reset requests for addresses with an identity and 50 for addresses
// without, in random order, each from an address of its own (so that no
// throttle changes the work), and reports the median answer of each kind
// and their ratio: the answer must not tell which addresses have an
// identity (docs/security.md). The lookup, the link and the email come
// after the answer (ProcessResets, outside the timing).
func BenchmarkRequestReset_KnownAndUnknownAddressesTakeAlike(b *testing.B) {
	for _, engine := range storetest.Engines() {
		b.Run(string(engine), func(b *testing.B) {
			db := storetest.Open(b, engine)
			st := servicetest.New(b, db, identity.Params{})
			ctx := context.Background()
			var known, unknown []time.Duration
			for n := range b.N {
				b.StopTimer()
				emails := addUsers(b, db, fmt.Sprintf("known%d-", n), 50)
				timeAsked(b, n, emails, &known, &unknown, func(email string, o equipe.Origin) {
					if err := st.Identity.RequestReset(ctx, email, o); err != nil {
						b.Fatal(err)
					}
				})
				b.StopTimer()
				if _, err := st.Identity.ProcessResets(ctx); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			k, u := median(known), median(unknown)
			b.ReportMetric(float64(k.Microseconds()), "known-µs")
			b.ReportMetric(float64(u.Microseconds()), "unknown-µs")
			b.ReportMetric(float64(k)/float64(u), "known/unknown")
		})
	}
}

// timeAsked times ask for each of the known emails and for as many
// addresses without an identity, shuffled, each from a client address of
// its own (round n's), adding each time to known or unknown. The timer
// runs from the first call to the last.
func timeAsked(b *testing.B, n int, emails []string, known, unknown *[]time.Duration, ask func(email string, o equipe.Origin)) {
	type req struct {
		email string
		known bool
	}
	var reqs []req
	for _, e := range emails {
		reqs = append(reqs, req{e, true})
	}
	for i := range emails {
		reqs = append(reqs, req{fmt.Sprintf("unknown%d-%d@example.com", n, i), false})
	}
	rand.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
	b.StartTimer()
	for i, r := range reqs {
		o := equipe.Origin{IP: fmt.Sprintf("198.51.%d.%d", n%250, i)}
		start := time.Now()
		ask(r.email, o)
		d := time.Since(start)
		if r.known {
			*known = append(*known, d)
		} else {
			*unknown = append(*unknown, d)
		}
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkLogIn_KnownAndUnknownAddressesFailAlike answers 50 wrong
// passwords for addresses with an identity (each with a real hash of the
// default parameters) and 50 logins to addresses without one, in random
// order, each from an address of its own (so that no throttle changes the
// work), on a database with the service's settings, and reports the
// median answer of each kind, their ratio and their difference: a failure
// must not tell which addresses have an identity (docs/security.md). The
// known person's failure event is written after the answer.
func BenchmarkLogIn_KnownAndUnknownAddressesFailAlike(b *testing.B) {
	for _, engine := range storetest.Engines() {
		b.Run(string(engine), func(b *testing.B) {
			db := storetest.OpenDurable(b, engine)
			st := servicetest.New(b, db, identity.DefaultParams)
			ctx := context.Background()
			hash := st.Identity.Hasher.Hash("the person's own password")
			var known, unknown []time.Duration
			for n := range b.N {
				b.StopTimer()
				emails := addUsers(b, db, fmt.Sprintf("known%d-", n), 50)
				if err := db.Write(ctx, func(tx *store.Tx) error {
					for _, e := range emails {
						u, err := tx.UserByEmailKey(ctx, e)
						if err != nil {
							return err
						}
						if err := tx.UpgradePasswordHash(ctx, u.ID, u.PasswordHash, hash); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
				timeAsked(b, n, emails, &known, &unknown, func(email string, o equipe.Origin) {
					if _, _, err := st.Identity.LogIn(ctx, email, "not the person's password", o); servicetest.Key(err) != "login.failed" {
						b.Fatalf("login to %s: %v", email, err)
					}
				})
				b.StopTimer()
				db.WaitDetached()
				b.StartTimer()
			}
			k, u := median(known), median(unknown)
			b.ReportMetric(float64(k.Microseconds())/1000, "known-p50-ms")
			b.ReportMetric(float64(u.Microseconds())/1000, "unknown-p50-ms")
			b.ReportMetric(float64(k-u)/float64(time.Millisecond), "known-minus-unknown-ms")
			b.ReportMetric(float64(k)/float64(u), "known/unknown")
		})
	}
}
