package work_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/work"
)

var at = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

// runner returns a unit-of-work runner on db whose clock stands at at, and
// the count of times it told that email was queued.
func runner(t *testing.T, db *store.DB) (*work.Runner, *atomic.Int32) {
	t.Helper()
	pu, _ := url.Parse("https://equipe.example.com/")
	tmpl, err := mail.NewTemplates(pu, nil)
	if err != nil {
		t.Fatal(err)
	}
	var queued atomic.Int32
	return &work.Runner{DB: db, Mail: tmpl, PublicURL: pu, Clock: func() time.Time { return at }, Rand: rand.Reader,
		EmailQueued: func() { queued.Add(1) }}, &queued
}

func newUser(t *testing.T, db *store.DB) equipe.User {
	t.Helper()
	u := equipe.User{ID: equipe.NewUserID(), Email: "ada@example.com", EmailKey: "ada@example.com", FirstName: "Ada",
		LastName: "Lovelace", Locale: "en", CreatedAt: at}
	if err := db.Write(context.Background(), func(tx *store.Tx) error { return tx.CreateUser(context.Background(), &u) }); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestDo_EventsEmailsAndTokensCommitTogetherOrNotAtAll(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		ctx := context.Background()
		r, queued := runner(t, db)
		u := newUser(t, db)
		raw := storetest.Raw(t, cfg)
		before := storetest.Counts(t, raw)
		origin := equipe.Origin{IP: "192.0.2.7"}
		unit := func(fail error) func(u2 *work.Unit) error {
			return func(w *work.Unit) error {
				if err := w.Record(ctx, event.UserPasswordResetRequested.New(nil, u.ID.String(), nil, nil)); err != nil {
					return err
				}
				link, expires, err := w.NewToken(ctx, equipe.TokenReset, &u, nil, time.Hour, "/reset/")
				if err != nil {
					return err
				}
				if err := w.Mail(ctx, "password_reset", "en", u.Email, mail.Data{RecipientID: equipe.NewID(), RecipientName: "Ada", Link: link, Expires: expires}); err != nil {
					return err
				}
				return fail
			}
		}

		refusal := errors.New("refused after the writes")
		if err := r.Do(ctx, event.ByUser(u.ID), origin, unit(refusal)); err != refusal {
			t.Fatalf("Do = %v, want the unit's own error", err)
		}
		if after := storetest.Counts(t, raw); !equalCounts(before, after) {
			t.Fatalf("a failed unit left rows: before %v, after %v", before, after)
		}
		if queued.Load() != 0 {
			t.Fatal("a failed unit told that email was queued")
		}

		if err := r.Do(ctx, event.ByUser(u.ID), origin, unit(nil)); err != nil {
			t.Fatal(err)
		}
		after := storetest.Counts(t, raw)
		for _, table := range []string{"audit_events", "tokens", "outbox"} {
			if after[table] != before[table]+1 {
				t.Errorf("%s: %d rows, want %d", table, after[table], before[table]+1)
			}
		}
		if queued.Load() != 1 {
			t.Errorf("told %d times that email was queued, want 1", queued.Load())
		}
		evs, err := db.AuditEvents(ctx, store.AuditFilter{Action: string(event.UserPasswordResetRequested.Type)})
		if err != nil || len(evs) != 1 {
			t.Fatalf("events %v, %v", evs, err)
		}
		e := event.Decode(evs[0])
		if e.Actor.Kind != event.ActorUser || *e.Actor.ID != u.ID || e.IP != "192.0.2.7" || !e.At.Equal(at) ||
			e.Subject.ID != u.ID.String() || e.Account != nil {
			t.Errorf("recorded %+v", e)
		}
		emails, err := db.Emails(ctx, equipe.EmailQueued, 10)
		if err != nil || len(emails) != 1 {
			t.Fatalf("outbox %v, %v", emails, err)
		}
		if !strings.Contains(emails[0].Text, "https://equipe.example.com/reset/") || !emails[0].CreatedAt.Equal(at) {
			t.Errorf("email created at %v with\n%s", emails[0].CreatedAt, emails[0].Text)
		}
	})
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestRecord_RefusesAnEventOfAnUnknownKindOrAboutTheWrongThing(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		ctx := context.Background()
		r, _ := runner(t, db)
		raw := storetest.Raw(t, cfg)
		before := storetest.Counts(t, raw)
		account := equipe.NewID()
		role := event.Role{LabelEN: "Cashier"}
		for name, e := range map[string]event.Event{
			"unknown kind":       {Type: "member.teleported", Subject: event.Subject{Kind: event.SubjectUser, ID: "u"}},
			"a role as its user": {Type: event.MemberChanged.Type, Account: &account, Subject: event.Subject{Kind: event.SubjectRole, ID: "cashier"}, After: role},
		} {
			err := r.Do(ctx, event.System, equipe.Origin{}, func(u *work.Unit) error { return u.Record(ctx, e) })
			if err == nil {
				t.Errorf("%s: recorded", name)
			}
		}
		if after := storetest.Counts(t, raw); !equalCounts(before, after) {
			t.Fatalf("refused events left rows: before %v, after %v", before, after)
		}
	})
}

func TestUnit_ActForMakesLaterEventsTheNewActors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r, _ := runner(t, db)
		u := newUser(t, db)
		err := r.Do(ctx, event.System, equipe.Origin{}, func(w *work.Unit) error {
			if err := w.Record(ctx, event.UserLoginFailed.New(nil, u.ID.String(), nil, nil)); err != nil {
				return err
			}
			w.ActFor(event.ByUser(u.ID))
			if w.Actor().UserID() == nil || *w.Actor().UserID() != u.ID {
				t.Errorf("actor %+v", w.Actor())
			}
			return w.Record(ctx, event.UserLoggedIn.New(nil, "session", nil, nil))
		})
		if err != nil {
			t.Fatal(err)
		}
		evs, err := db.AuditEvents(ctx, store.AuditFilter{})
		if err != nil || len(evs) != 2 {
			t.Fatalf("events %v, %v", evs, err)
		}
		for _, row := range evs {
			e := event.Decode(row)
			want := event.ActorUser
			if e.Type == event.UserLoginFailed.Type {
				want = event.ActorSystem
			}
			if e.Actor.Kind != want {
				t.Errorf("%s by %s, want %s", e.Type, e.Actor.Kind, want)
			}
		}
	})
}

func TestTokens_AreFoundByTheirSecretsHashAndUsedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r, _ := runner(t, db)
		u := newUser(t, db)
		var link string
		var tok equipe.Token
		err := r.Do(ctx, event.System, equipe.Origin{}, func(w *work.Unit) (err error) {
			link, tok, err = w.IssueToken(ctx, equipe.TokenReset, &u, nil, time.Hour, "/reset/")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		secret, ok := strings.CutPrefix(link, "https://equipe.example.com/reset/")
		if !ok || !work.PlausibleSecret(secret) {
			t.Fatalf("link %q", link)
		}
		stored, err := db.TokenByHash(ctx, work.HashSecret(secret))
		if err != nil || stored.ID != tok.ID || !stored.ExpiresAt.Equal(at.Add(time.Hour)) || stored.UserID != u.ID {
			t.Fatalf("stored %+v, %v", stored, err)
		}
		use := func() error {
			return r.Do(ctx, event.System, equipe.Origin{}, func(w *work.Unit) error { return w.Consume(ctx, &stored) })
		}
		if err := use(); err != nil {
			t.Fatal(err)
		}
		if err := use(); equipe.AsError(err).Key != work.LinkUsed {
			t.Fatalf("second use: %v, want %s", err, work.LinkUsed)
		}
	})
}

func TestLimit_AllowsTheFreeRequestsThenSaysHowLongToWait(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r, _ := runner(t, db)
		hit := func() error {
			return r.Do(ctx, event.System, equipe.Origin{}, func(w *work.Unit) error {
				return w.Limit(ctx, "test:limit", 3, time.Hour, "invite.throttled")
			})
		}
		for i := range 3 {
			if err := hit(); err != nil {
				t.Fatalf("request %d: %v", i+1, err)
			}
		}
		err := hit()
		var e *equipe.Error
		if !errors.As(err, &e) || e.Code != equipe.ERATELIMITED || e.Key != "invite.throttled" ||
			e.RetryAfter <= 0 || e.RetryAfter > time.Hour {
			t.Fatalf("fourth request: %#v", err)
		}
		if k := equipe.AsError(work.Throttled("", time.Second)).Key; k != "error.rate_limited" {
			t.Errorf("Throttled without a key: %s", k)
		}
	})
}

func TestSecrets_AreRandomHashedAndRecognisedByTheirForm(t *testing.T) {
	a, ha, err := work.NewSecret(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := work.NewSecret(rand.Reader)
	if a == b || len(a) != 43 || len(ha) != 32 || string(ha) != string(work.HashSecret(a)) {
		t.Fatalf("secrets %q %q, hash %x", a, b, ha)
	}
	if _, _, err := work.NewSecret(strings.NewReader("short")); err == nil {
		t.Error("a secret from 5 random bytes")
	}
	for s, want := range map[string]bool{
		a: true, a[:42]: false, a + "A": false, "": false,
		strings.Repeat("+", 43): false, strings.Repeat("-", 43): true,
	} {
		if got := work.PlausibleSecret(s); got != want {
			t.Errorf("PlausibleSecret(%q) = %v", s, got)
		}
	}
}
