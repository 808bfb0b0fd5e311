package api_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/team"
)

// BenchmarkCheckFreshAcrossProcesses measures, again and again, the window
// that TestCheck_FreshInEveryProcessAfterAChange measures once: two
// services share one PostgreSQL database, as two serve processes of one
// deployment would; a member is suspended or restored through the first,
// and the second is asked over HTTP, without pause, until it answers
// accordingly. The window runs from the moment the change is committed
// (ChangeMember returns) to the second's first fresh answer; it is
// reported as p50 and max in ms.
func BenchmarkCheckFreshAcrossProcesses(b *testing.B) {
	first := apptest.Start(b, store.Postgres, apptest.Options{})
	second := apptest.Start(b, store.Postgres, apptest.Options{Share: first})
	ctx := context.Background()
	now := time.Now()
	account := equipe.NewID()
	admin := equipe.User{ID: equipe.NewID(), Email: "admin@fresh.example", EmailKey: "admin@fresh.example",
		FirstName: "Ada", LastName: "Admin", Locale: "en", EmailVerifiedAt: now, CreatedAt: now}
	target := equipe.User{ID: equipe.NewID(), Email: "m@fresh.example", EmailKey: "m@fresh.example",
		FirstName: "Max", LastName: "Manager", Locale: "en", CreatedAt: now}
	err := first.App.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "Fresh", Locale: "en",
			InvitationTTLHours: equipe.DefaultInvitationTTLHours, CreatedAt: now}); err != nil {
			return err
		}
		for _, m := range []struct {
			u    *equipe.User
			role string
		}{{&admin, "admin"}, {&target, "manager"}} {
			if err := tx.CreateUser(ctx, m.u); err != nil {
				return err
			}
			if err := tx.CreateMember(ctx, &equipe.Member{AccountID: account, UserID: m.u.ID, Role: m.role,
				Status: equipe.MemberActive, CreatedAt: now, JoinedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	actor := team.Actor{User: &admin}
	_, key, err := first.App.Team.CreateKey(ctx, actor, &account, team.NewKey{Name: "fresh", Role: "admin"})
	if err != nil {
		b.Fatal(err)
	}
	c := second.Client()
	q := map[string]any{"user_id": target.ID.String(), "account_id": account.String(), "permission": "members.manage"}
	ask := func() string {
		r := call(b, c, "POST", second.URL+"/api/v1/check", q, bearer(key)...)
		reason, _ := r.JSON["reason"].(string)
		if r.Status != 200 || reason == "" {
			b.Fatalf("check: %d %s", r.Status, r.Raw)
		}
		return reason
	}
	if got := ask(); got != "allowed" {
		b.Fatalf("before any change: %s", got)
	}
	var windows []time.Duration
	suspended := false
	for b.Loop() {
		suspended = !suspended
		st, want := equipe.MemberActive, "allowed"
		if suspended {
			st, want = equipe.MemberSuspended, "denied_member_suspended"
		}
		if _, err := first.App.Team.ChangeMember(ctx, actor, account, target.ID, team.MemberChange{Status: &st}); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for ask() != want {
			if time.Since(start) > 5*time.Second {
				b.Fatalf("the second process does not answer %s after 5 s", want)
			}
		}
		windows = append(windows, time.Since(start))
	}
	slices.Sort(windows)
	b.ReportMetric(ms(windows[len(windows)/2]), "p50-ms")
	b.ReportMetric(ms(windows[len(windows)*9/10]), "p90-ms")
	b.ReportMetric(ms(windows[len(windows)-1]), "max-ms")
	if strings.Contains(first.Logs(), `"level":"ERROR"`) || strings.Contains(second.Logs(), `"level":"ERROR"`) {
		b.Errorf("errors logged:\n%s\n%s", first.Logs(), second.Logs())
	}
}
