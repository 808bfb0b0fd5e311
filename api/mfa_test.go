package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// clockedNow starts services on a clock stopped at the present, which the
// test moves: members made by apptest.AddMember join at the present.
func clockedNow(clock **apptest.Clock) func() apptest.Options {
	return func() apptest.Options {
		*clock = apptest.NewClock(time.Now().UTC().Truncate(time.Microsecond))
		return apptest.Options{Now: (*clock).Now}
	}
}

// giveSecondFactor gives the user a confirmed authenticator app, as the
// store keeps it.
func giveSecondFactor(t *testing.T, env *apptest.Env, user equipe.ID) {
	t.Helper()
	raw := storetest.Raw(t, env.DB)
	if _, err := raw.Exec(`INSERT INTO totp_factors (user_id, secret, key_id, created_at, confirmed_at) VALUES ($1, $2, 'k', 1, 1)`,
		user.String(), []byte("sealed")); err != nil {
		t.Fatal(err)
	}
}

func TestMFAPolicy_SessionsAreSentToEnrolAfterTheGraceAndKeysAreNot(t *testing.T) {
	var clock *apptest.Clock
	eachWith(t, clockedNow(&clock), func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		a := newTenant(t, env, "owner@a.example")
		key := a.key(t, "admin")
		ana := env.AddMember(t, a.account, "ana@a.example", "collaborator", equipe.MemberActive)
		acct := a.url("")

		// The setting is the administrator's: a collaborator may not.
		if r := call(t, c, "PATCH", acct, map[string]any{"mfa_required": true}, bearer(ana.Token)...); r.Status != 403 {
			t.Fatalf("a collaborator sets the requirement: %d %s", r.Status, r.Raw)
		}
		for _, bad := range []int{-1, 90*24 + 1} {
			r := call(t, c, "PATCH", acct, map[string]any{"mfa_required": true, "mfa_grace_hours": bad}, bearer(a.admin)...)
			if r.Status != 422 || fieldCode(r, "mfa_grace_hours") != "account.mfa_grace_invalid" {
				t.Errorf("grace %d: %d %s", bad, r.Status, r.Raw)
			}
		}
		if r := call(t, c, "GET", acct, nil, bearer(a.admin)...); r.JSON["mfa_required"] != false || r.JSON["mfa_required_at"] != nil {
			t.Fatalf("a refused change changed something, or a new account requires a second factor: %s", r.Raw)
		}
		// An hour's grace: sessions end after an hour without a request.
		r := call(t, c, "PATCH", acct, map[string]any{"mfa_required": true, "mfa_grace_hours": 1}, bearer(a.admin)...)
		if r.Status != 200 || r.JSON["mfa_required"] != true || r.JSON["mfa_grace_hours"] != float64(1) ||
			r.JSON["mfa_required_at"] != clock.Now().Format(time.RFC3339Nano) {
			t.Fatalf("require with an hour's grace: %d %s", r.Status, r.Raw)
		}
		audit := call(t, c, "GET", a.url("/audit?action=account.changed"), nil, bearer(a.admin)...)
		if items, _ := audit.JSON["items"].([]any); len(items) != 1 {
			t.Errorf("the change's event: %s", audit.Raw)
		}

		// During the grace, everyone works.
		clock.Advance(40 * time.Minute)
		for _, token := range []string{ana.Token, a.admin} {
			if r := call(t, c, "GET", a.url("/members"), nil, bearer(token)...); r.Status != 200 {
				t.Fatalf("within the grace: %d %s", r.Status, r.Raw)
			}
		}
		clock.Advance(21 * time.Minute)
		for name, token := range map[string]string{"the collaborator": ana.Token, "the administrator": a.admin} {
			r := call(t, c, "GET", a.url("/members"), nil, bearer(token)...)
			if r.Status != 403 || r.code() != "mfa.enrolment_required" || r.JSON["type"] != "urn:equipe:problem:forbidden" {
				t.Errorf("%s after the grace: %d %s", name, r.Status, r.Raw)
			}
			// Their own space stays open.
			if r := call(t, c, "GET", env.URL+"/api/v1/me", nil, bearer(token)...); r.Status != 200 {
				t.Errorf("%s's own space: %d %s", name, r.Status, r.Raw)
			}
		}
		// An API key is no person.
		list := call(t, c, "GET", a.url("/members"), nil, bearer(key)...)
		if list.Status != 200 {
			t.Fatalf("the key after the grace: %d %s", list.Status, list.Raw)
		}

		// Enrolled, the member passes; the team shows who has a second factor.
		giveSecondFactor(t, env, ana.User.ID)
		if r := call(t, c, "GET", a.url("/members"), nil, bearer(ana.Token)...); r.Status != 200 {
			t.Fatalf("enrolled: %d %s", r.Status, r.Raw)
		}
		list = call(t, c, "GET", a.url("/members"), nil, bearer(key)...)
		got := map[string]any{}
		for _, it := range list.JSON["items"].([]any) {
			m := it.(map[string]any)
			got[m["email"].(string)] = m["second_factor"]
		}
		if got["ana@a.example"] != true || got["owner@a.example"] != false {
			t.Errorf("second_factor in the list: %v", got)
		}
		one := call(t, c, "GET", a.url("/members/"+ana.User.ID.String()), nil, bearer(key)...)
		if one.JSON["second_factor"] != true {
			t.Errorf("second_factor of a member: %s", one.Raw)
		}

		// Turned off, the administrator is back.
		if r := call(t, c, "PATCH", acct, map[string]any{"mfa_required": false}, bearer(key)...); r.Status != 200 || r.JSON["mfa_required_at"] != nil {
			t.Fatalf("turn off: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", a.url("/members"), nil, bearer(a.admin)...); r.Status != 200 {
			t.Errorf("the administrator once turned off: %d %s", r.Status, r.Raw)
		}
	})
}

func TestRemoveSecondFactors_AnInstanceAdministratorRemovesThemAuditedAndEmailed(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		a := newTenant(t, env, "owner@a.example")
		ana := env.AddMember(t, a.account, "ana@a.example", "collaborator", equipe.MemberActive)
		giveSecondFactor(t, env, ana.User.ID)
		adminID, admin := instanceAdminToken(t, env)
		path := env.URL + "/api/v1/users/" + ana.User.ID.String() + "/second-factors"
		reason := map[string]any{"reason": "Lost her phone; called back on the number on file."}

		// Nobody but the instance: 404, and nothing changes.
		for who, token := range map[string]string{"the account's administrator": a.admin, "the user": ana.Token} {
			if r := call(t, c, "DELETE", path, reason, bearer(token)...); r.Status != 404 {
				t.Fatalf("%s: %d %s", who, r.Status, r.Raw)
			}
		}
		for body, code := range map[string]string{`{"reason": ""}`: "second_factors.reason_required", `{}`: "second_factors.reason_required"} {
			if r := call(t, c, "DELETE", path, body, bearer(admin)...); r.Status != 422 || fieldCode(r, "reason") != code {
				t.Errorf("%s: %d %s", body, r.Status, r.Raw)
			}
		}
		if r := call(t, c, "GET", env.URL+"/api/v1/users/"+ana.User.ID.String(), nil, bearer(admin)...); r.Status != 200 ||
			r.JSON["second_factors"].(map[string]any)["totp"] != true || r.JSON["sessions"] != 1.0 {
			t.Fatalf("after the refusals: %d %s", r.Status, r.Raw)
		}

		r := call(t, c, "DELETE", path, reason, bearer(admin)...)
		if r.Status != 200 || r.JSON["removed"].(map[string]any)["totp"] != true {
			t.Fatalf("remove: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", env.URL+"/api/v1/me", nil, bearer(ana.Token)...); r.Status != 401 {
			t.Errorf("ana's session after the removal: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", env.URL+"/api/v1/users/"+ana.User.ID.String(), nil, bearer(admin)...); r.JSON["second_factors"].(map[string]any)["totp"] != false {
			t.Errorf("factors after the removal: %s", r.Raw)
		}
		m := env.Mail(t, "ana@a.example", "second_factors_removed")
		if !strings.Contains(m.Text, "called back on the number on file") {
			t.Errorf("the email does not quote the reason: %s", m.Text)
		}
		events, err := env.App.DB.AuditEvents(t.Context(), store.AuditFilter{Action: "user.second_factors_removed"})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].ActorID == nil || *events[0].ActorID != adminID || events[0].TargetID != ana.User.ID.String() ||
			!strings.Contains(events[0].After, "called back on the number on file") {
			t.Fatalf("the audit: %+v", events)
		}
		// Again: nothing left to remove.
		if r := call(t, c, "DELETE", path, reason, bearer(admin)...); r.Status != 409 || r.code() != "second_factors.none" {
			t.Errorf("again: %d %s", r.Status, r.Raw)
		}
	})
}

// An instance administrator removes their own second factors from their
// security page, which asks for their password: with a session alone,
// here, it is refused and nothing is removed.
func TestRemoveSecondFactors_AnInstanceAdministratorsOwnAreRefused(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		adminID, admin := instanceAdminToken(t, env)
		giveSecondFactor(t, env, adminID)
		path := env.URL + "/api/v1/users/" + adminID.String() + "/second-factors"
		r := call(t, env.Client(), "DELETE", path, map[string]any{"reason": "self"}, bearer(admin)...)
		if r.Status != 409 || r.code() != "second_factors.self" {
			t.Fatalf("remove one's own: %d %s", r.Status, r.Raw)
		}
		if f, err := env.App.DB.Factors(t.Context(), adminID); err != nil || !f.TOTP {
			t.Fatalf("after the refusal: %+v %v", f, err)
		}
	})
}
