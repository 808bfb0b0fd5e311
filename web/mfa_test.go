package web_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store/storetest"
)

// enrolled gives the user a confirmed authenticator app, as the store keeps
// it.
func enrolled(t *testing.T, env *apptest.Env, user equipe.ID) {
	t.Helper()
	if _, err := storetest.Raw(t, env.DB).Exec(`INSERT INTO totp_factors (user_id, secret, key_id, created_at, confirmed_at)
		VALUES ($1, $2, 'k', 1, 1)`, user.String(), []byte("sealed")); err != nil {
		t.Fatal(err)
	}
}

func TestMFAPolicy_TheSettingTheBannerThenEnrolmentFirst(t *testing.T) {
	clock := apptest.NewClock(time.Now().UTC().Truncate(time.Microsecond))
	env := apptest.Start(t, "sqlite", apptest.Options{Now: clock.Now})
	o := signUpOwner(t, env, "ada@example.com")
	ana := env.AddMember(t, o.account, "ana@example.com", "collaborator", equipe.MemberActive)
	anaC := as(env, ana)
	// The requirement comes after ana joined (by the clock of the test).
	clock.Advance(time.Minute)
	settings := url.Values{"name": {"Analytical Engines"}, "locale": {"fr"}, "invitation_ttl": {"7"}, "invitation_ttl_unit": {"days"},
		"notify_adder": {"both"}, "mfa_required": {"yes"}}

	p := get(t, o.c, o.url("/settings"))
	wantIn(t, p, "Les membres doivent utiliser la double authentification", `name="mfa_grace" type="number" inputmode="numeric" min="0" max="2160" value="0"`)
	if strings.Contains(p.Body, `name="mfa_required" type="checkbox" value="yes" checked`) {
		t.Error("the requirement is on by default")
	}
	// A grace out of bounds is said beside its field, and changes nothing.
	for _, g := range [][2]string{{"91", "days"}, {"-1", "hours"}, {"deux", "days"}} {
		f := url.Values{}
		for k, v := range settings {
			f[k] = v
		}
		f.Set("mfa_grace", g[0])
		f.Set("mfa_grace_unit", g[1])
		p := post(t, o.c, o.url("/settings"), f)
		if p.Status != 422 {
			t.Fatalf("grace %v: %d", g, p.Status)
		}
		wantIn(t, p, `<p class="error" id="e-mfa_grace">Indiquez une durée entre 0 et 90 jours.</p>`)
	}
	if a, _ := env.App.Team.Account(t.Context(), o.actor(), o.account); !a.MFARequiredAt.IsZero() {
		t.Fatalf("a refused grace set the requirement: %+v", a)
	}
	// An hour's grace (sessions end after an hour without a request).
	settings.Set("mfa_grace", "1")
	settings.Set("mfa_grace_unit", "hours")
	if p := post(t, o.c, o.url("/settings"), settings); p.Status != 303 {
		t.Fatalf("require: %d %s", p.Status, text(p.Body))
	}
	a, err := env.App.Team.Account(t.Context(), o.actor(), o.account)
	if err != nil || !a.MFARequiredAt.Equal(clock.Now()) || a.MFAGraceHours != 1 {
		t.Fatalf("account: %+v %v", a, err)
	}
	wantIn(t, get(t, o.c, o.url("/settings")), `name="mfa_required" type="checkbox" value="yes" checked`, `value="1"`,
		`<option value="hours" selected>heures</option>`)

	// During the grace: a banner with the deadline, in ana's time zone,
	// and the way to enrol.
	zone := "Asia/Kolkata"
	if _, err := env.App.Identity.UpdateProfile(t.Context(), ana.User.ID, identity.ProfileChange{TimeZone: &zone}, equipe.Origin{IP: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	kolkata, _ := time.LoadLocation(zone)
	team := o.url("/members")
	p = get(t, anaC, team)
	deadline := a.MFARequiredAt.Add(time.Hour)
	if p.Status != 200 {
		t.Fatalf("team page within the grace: %d", p.Status)
	}
	wantIn(t, p, `id="enrol-banner"`, "before "+deadline.In(kolkata).Format("Jan 2, 2006, 3:04 PM")+" (UTC&#43;05:30)",
		`href="/me/security?next=`+url.QueryEscape(o.path("/members"))+`"`)
	if strings.Contains(get(t, anaC, o.env.URL+"/").Body, `id="enrol-banner"`) {
		t.Error("the home page, in no account, shows the banner")
	}

	// After it: every page of the account sends them to enrol first, and
	// comes back after; their own space and logging out stay open.
	clock.Advance(40 * time.Minute)
	if p := get(t, anaC, team); p.Status != 200 {
		t.Fatalf("team page within the grace: %d", p.Status)
	}
	clock.Advance(20 * time.Minute)
	for _, c := range []struct {
		method, path string
	}{{"GET", "/members"}, {"GET", "/settings"}, {"POST", "/members/new"}} {
		var p page
		if c.method == "GET" {
			p = get(t, anaC, o.url(c.path))
		} else {
			p = post(t, anaC, o.url(c.path), url.Values{"email": {"x@example.com"}})
		}
		want := "/me/security?next=" + url.QueryEscape(o.path(c.path))
		if c.method == "POST" {
			want = "/me/security?next=%2F"
		}
		if p.Status != 303 || p.Header.Get("Location") != want {
			t.Errorf("%s %s after the grace: %d %s", c.method, c.path, p.Status, p.Header.Get("Location"))
		}
	}
	if p := get(t, anaC, o.env.URL+"/"); p.Status != 200 {
		t.Errorf("home after the grace: %d", p.Status)
	}

	// Enrolled, the member is back; the team page marks who has a second
	// factor.
	enrolled(t, env, ana.User.ID)
	p = get(t, anaC, team)
	if p.Status != 200 || strings.Contains(p.Body, `id="enrol-banner"`) {
		t.Fatalf("enrolled: %d", p.Status)
	}
	if cells := tableRow(t, p.Body, "Test ana"); !strings.Contains(cells, ">2FA</abbr>") {
		t.Errorf("ana's row lacks the 2FA mark: %s", cells)
	}
	if cells := tableRow(t, p.Body, "Ada Lovelace"); strings.Contains(cells, "2FA") {
		t.Errorf("ada's row has the 2FA mark: %s", cells)
	}
}
