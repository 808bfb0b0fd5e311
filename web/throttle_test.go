package web_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/team"
)

// TestTeamPage_AThrottledEmailActionIsDisabledAndSaysWhen: once a member's
// re-invitations (or an active member's resets) reach their limit for the
// hour, the team page shows the row's email action as a disabled button
// saying when it can be sent again, in both languages; its confirmation
// page, reached anyway, says the same and its button is disabled.
func TestTeamPage_AThrottledEmailActionIsDisabledAndSaysWhen(t *testing.T) {
	// Near the real time: the session cookie's expiry follows the clock.
	start := time.Now().UTC().Truncate(time.Minute)
	clock := apptest.NewClock(start)
	at := func(d time.Duration) string { return start.Add(d).Format("15:04") + " UTC" }
	env := apptest.Start(t, "sqlite", apptest.Options{Now: clock.Now})
	o := signUpOwner(t, env, "ada@example.com")
	grace := o.added(t, team.NewMember{Email: "grace@example.com", FirstName: "Grace", LastName: "Hopper", SendInvitation: true})
	alan := env.AddMember(t, o.account, "alan@example.com", "collaborator", equipe.MemberActive)

	// Not throttled yet: links.
	p := get(t, o.c, o.url("/members"))
	wantIn(t, p, `<a class="quick" href="`+o.path("/members/"+grace.String()+"/invite")+`">Relancer</a>`)
	wantNotIn(t, p, "Renvoi possible")

	for range 2 {
		clock.Advance(10 * time.Minute)
		if _, err := env.App.Team.Invite(t.Context(), o.actor(), o.account, grace); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, err := env.App.Team.AdminReset(t.Context(), o.actor(), o.account, alan.User.ID); err != nil {
			t.Fatal(err)
		}
	}
	// The first invitation went out at start, the resets 20 minutes later.
	p = get(t, o.c, o.url("/members"))
	wantIn(t, p, `<button type="button" class="quick" disabled>Relancer</button>`+"\n"+`<span class="meta available-at">Renvoi possible à `+at(time.Hour)+`</span>`,
		`<button type="button" class="quick" disabled><span aria-hidden="true">🔄</span> Réinitialiser le mot de passe</button>`+"\n"+`<span class="meta available-at">Renvoi possible à `+at(80*time.Minute)+`</span>`)
	wantNotIn(t, p, `href="`+o.path("/members/"+grace.String()+"/invite")+`"`, `href="`+o.path("/members/"+alan.User.ID.String()+"/password-reset")+`"`)

	// The confirmation page says the same.
	p = get(t, o.c, o.url("/members/"+grace.String()+"/invite"))
	if p.Status != 429 {
		t.Fatalf("confirmation of a throttled re-invitation: %d", p.Status)
	}
	wantIn(t, p, `disabled aria-describedby="available-at">`, `<p class="available-at" id="available-at">Renvoi possible à `+at(time.Hour)+`</p>`)
	// Posting anyway sends nothing.
	if p := post(t, o.c, o.url("/members/"+grace.String()+"/invite"), url.Values{}); p.Status != 429 {
		t.Fatalf("a throttled re-invitation posted: %d", p.Status)
	}

	english(t, env, o.c)
	p = get(t, o.c, o.url("/members"))
	wantIn(t, p, `<span class="meta available-at">Can be re-sent at `+at(time.Hour)+`</span>`, `Can be re-sent at `+at(80*time.Minute))

	// In an account with a time zone of its own, the time is said there,
	// with its offset (Kolkata keeps +05:30 all year; html/template writes
	// the plus sign as &#43;).
	zone := "Asia/Kolkata"
	if _, err := env.App.Team.UpdateAccount(t.Context(), o.actor(), o.account, team.AccountChange{TimeZone: &zone}); err != nil {
		t.Fatal(err)
	}
	kolkata, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	p = get(t, o.c, o.url("/members"))
	wantIn(t, p, `Can be re-sent at `+start.Add(time.Hour).In(kolkata).Format("15:04")+` (UTC&#43;05:30)`)
	p = get(t, o.c, o.url("/members/"+grace.String()+"/invite"))
	wantIn(t, p, `Can be re-sent at `+start.Add(time.Hour).In(kolkata).Format("15:04")+` (UTC&#43;05:30)`)

	// An hour after the first invitation, re-inviting is offered again.
	clock.Set(start.Add(time.Hour))
	p = get(t, o.c, o.url("/members"))
	wantIn(t, p, `<a class="quick" href="`+o.path("/members/"+grace.String()+"/invite")+`">Re-invite</a>`,
		`Can be re-sent at `+start.Add(80*time.Minute).In(kolkata).Format("15:04")+` (UTC&#43;05:30)`)
}

func wantNotIn(t *testing.T, p page, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(p.Body, u) {
			t.Errorf("the page has %q", u)
		}
	}
}
