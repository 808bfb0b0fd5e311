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

// keyOf returns the API key named name as the keys list shows it.
func keyOf(t *testing.T, tn tenant, name string) map[string]any {
	t.Helper()
	r := call(t, tn.env.Client(), "GET", tn.url("/api-keys"), nil, bearer(tn.admin)...)
	if r.Status != 200 {
		t.Fatalf("keys: %d %s", r.Status, r.Raw)
	}
	for _, it := range r.JSON["items"].([]any) {
		if k := it.(map[string]any); k["name"] == name {
			return k
		}
	}
	t.Fatalf("no key %q in %s", name, r.Raw)
	return nil
}

// setStatus suspends or reactivates the member through the API, as the
// tenant's administrator.
func setStatus(t *testing.T, tn tenant, user equipe.ID, action string) {
	t.Helper()
	if r := call(t, tn.env.Client(), "POST", tn.url("/members/"+user.String()+"/"+action), nil, bearer(tn.admin)...); r.Status != 200 {
		t.Fatalf("%s: %d %s", action, r.Status, r.Raw)
	}
}

func TestKeys_ActWithAtMostTheirCreatorsCurrentRights(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		ada := env.AddMember(t, a.account, "ada@a.example", "admin", equipe.MemberActive)
		r := call(t, env.Client(), "POST", a.url("/api-keys"), map[string]any{"name": "sync", "role": "admin"}, bearer(ada.Token)...)
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		key := r.JSON["secret"].(string)
		addAdmin := func(email string) response {
			return call(t, env.Client(), "POST", a.url("/members"), map[string]any{"email": email, "first_name": "New",
				"last_name": "Admin", "role": "admin", "send_invitation": false}, bearer(key)...)
		}
		if r := addAdmin("first@a.example"); r.Status != 201 {
			t.Fatalf("the key of an administrator adds an administrator: %d %s", r.Status, r.Raw)
		}
		if k := keyOf(t, a, "sync"); k["status"] != "active" || k["narrowed"] != false {
			t.Fatalf("key: %v", k)
		}

		// Demoted, its creator narrows the key at once.
		if r := call(t, env.Client(), "PATCH", a.url("/members/"+ada.User.ID.String()), map[string]any{"role": "manager"},
			bearer(a.admin)...); r.Status != 200 {
			t.Fatalf("demote: %d %s", r.Status, r.Raw)
		}
		if r := addAdmin("second@a.example"); r.Status != 403 || r.code() != "role.admin_only" {
			t.Fatalf("the key of a demoted creator adds an administrator: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", a.url("/members?limit=5"), nil, bearer(key)...); r.Status != 200 {
			t.Fatalf("what the creator still may do: %d %s", r.Status, r.Raw)
		}
		if k := keyOf(t, a, "sync"); k["status"] != "active" || k["narrowed"] != true {
			t.Fatalf("a narrowed key: %v", k)
		}

		// Suspended, its creator stops the key; reactivated, the key works.
		setStatus(t, a, ada.User.ID, "suspend")
		if r := call(t, env.Client(), "GET", a.url(""), nil, bearer(key)...); r.Status != 401 || r.code() != "api_key.creator_suspended" {
			t.Fatalf("the key of a suspended creator: %d %s", r.Status, r.Raw)
		}
		if k := keyOf(t, a, "sync"); k["status"] != "inactive" || k["inactive_reason"] != "api_key.creator_suspended" {
			t.Fatalf("the keys list: %v", k)
		}
		setStatus(t, a, ada.User.ID, "reactivate")
		if r := call(t, env.Client(), "GET", a.url(""), nil, bearer(key)...); r.Status != 200 {
			t.Fatalf("the key of a reactivated creator: %d %s", r.Status, r.Raw)
		}

		// Removed, its creator takes the key with them, for good.
		if r := call(t, env.Client(), "DELETE", a.url("/members/"+ada.User.ID.String()), nil, bearer(a.admin)...); r.Status != 204 {
			t.Fatalf("remove: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", a.url(""), nil, bearer(key)...); r.Status != 401 || r.code() != "api_key.invalid" {
			t.Fatalf("the key of a removed creator: %d %s", r.Status, r.Raw)
		}
		if k := keyOf(t, a, "sync"); k["status"] != "revoked" || k["revoked_reason"] != "creator.removed" {
			t.Fatalf("the keys list: %v", k)
		}
		ev := call(t, env.Client(), "GET", a.url("/audit?type=api_key.revoked"), nil, bearer(a.admin)...)
		items, _ := ev.JSON["items"].([]any)
		if len(items) != 1 || !strings.Contains(string(ev.Raw), `"reason":"creator.removed"`) {
			t.Fatalf("the revocation's event: %s", ev.Raw)
		}
		// Back in the account, the creator does not bring the key back.
		if err := env.App.DB.Write(t.Context(), func(tx *store.Tx) error {
			now := time.Now()
			return tx.CreateMember(t.Context(), &equipe.Member{AccountID: a.account, UserID: ada.User.ID, Role: "admin",
				Status: equipe.MemberActive, CreatedAt: now, JoinedAt: now})
		}); err != nil {
			t.Fatal(err)
		}
		if r := call(t, env.Client(), "GET", a.url(""), nil, bearer(key)...); r.Status != 401 {
			t.Fatalf("the key of a creator who came back: %d %s", r.Status, r.Raw)
		}
	})
}

// TestKeys_ARemovedAdministratorCannotAddHerselfBack: an administrator made
// a key, was removed, and tries to use it to make herself an administrator
// again.
func TestKeys_ARemovedAdministratorCannotAddHerselfBack(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		eve := env.AddMember(t, a.account, "eve@a.example", "admin", equipe.MemberActive)
		r := call(t, env.Client(), "POST", a.url("/api-keys"), map[string]any{"name": "spare", "role": "admin"}, bearer(eve.Token)...)
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		key := r.JSON["secret"].(string)
		if r := call(t, env.Client(), "DELETE", a.url("/members/"+eve.User.ID.String()), nil, bearer(a.admin)...); r.Status != 204 {
			t.Fatalf("remove: %d %s", r.Status, r.Raw)
		}
		before := storetest_dump(t, env)
		r = call(t, env.Client(), "POST", a.url("/members"), map[string]any{"email": "eve@a.example", "first_name": "Eve",
			"last_name": "Back", "role": "admin", "send_invitation": false}, bearer(key)...)
		if r.Status != 401 {
			t.Fatalf("adding herself back: %d %s", r.Status, r.Raw)
		}
		if storetest_dump(t, env) != before {
			t.Fatal("a refused key changed something")
		}
	})
}

func TestKeys_NeedAConfirmedAddress(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		token := signUp(t, env, "unconfirmed@a.example")
		accounts := call(t, env.Client(), "GET", env.URL+"/api/v1/me/accounts", nil, bearer(token)...)
		account := accounts.JSON["items"].([]any)[0].(map[string]any)["id"].(string)
		url := env.URL + "/api/v1/accounts/" + account + "/api-keys"
		r := call(t, env.Client(), "POST", url, map[string]any{"name": "early", "role": "admin"}, bearer(token)...)
		if r.Status != 403 || r.code() != "api_key.email_unverified" || !strings.Contains(string(r.Raw), "unconfirmed@a.example") {
			t.Fatalf("a key before the address is confirmed: %d %s", r.Status, r.Raw)
		}
		if keys := call(t, env.Client(), "GET", url, nil, bearer(token)...); len(keys.JSON["items"].([]any)) != 0 {
			t.Fatalf("a refused key was made: %s", keys.Raw)
		}
		// Confirmed with the emailed link.
		secret := apptest.Secret(apptest.Link(t, env.Mail(t, "unconfirmed@a.example", "verify_email"), "/verify-email/"))
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/verify-email", map[string]any{"token": secret}); r.Status != 204 {
			t.Fatalf("confirm: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "POST", url, map[string]any{"name": "later", "role": "admin"}, bearer(token)...); r.Status != 201 {
			t.Fatalf("a key once the address is confirmed: %d %s", r.Status, r.Raw)
		}
	})
}

func TestKeys_InstanceKeysFollowTheirInstanceAdministrator(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		ctx := t.Context()
		admin := instanceActor(t, env)
		_, key, err := env.App.Team.CreateKey(ctx, admin, nil, team.NewKey{Name: "vendor backend"})
		if err != nil {
			t.Fatal(err)
		}
		ask := func() response { return call(t, env.Client(), "GET", env.URL+"/api/v1/api-keys", nil, bearer(key)...) }
		if r := ask(); r.Status != 200 {
			t.Fatalf("an instance key: %d %s", r.Status, r.Raw)
		}
		write := func(fn func(tx *store.Tx) error) {
			t.Helper()
			if err := env.App.DB.Write(ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		write(func(tx *store.Tx) error { return tx.SetInstanceAdmin(ctx, admin.User.ID, false) })
		if r := ask(); r.Status != 401 || r.code() != "api_key.creator_not_instance_admin" {
			t.Fatalf("once its creator no longer administers the instance: %d %s", r.Status, r.Raw)
		}
		write(func(tx *store.Tx) error { return tx.SetInstanceAdmin(ctx, admin.User.ID, true) })
		if r := ask(); r.Status != 200 {
			t.Fatalf("once its creator administers the instance again: %d %s", r.Status, r.Raw)
		}
		write(func(tx *store.Tx) error { return tx.SetUserDisabled(ctx, admin.User.ID, time.Now()) })
		if r := ask(); r.Status != 401 || r.code() != "api_key.creator_disabled" {
			t.Fatalf("once its creator is disabled: %d %s", r.Status, r.Raw)
		}
	})
}

func TestKeys_StopInEveryProcessWhenTheirCreatorIsSuspended(t *testing.T) {
	first := apptest.Start(t, store.Postgres, apptest.Options{})
	second := apptest.Start(t, store.Postgres, apptest.Options{Share: first})
	a := newTenant(t, first, "owner@a.example")
	ada := first.AddMember(t, a.account, "ada@a.example", "admin", equipe.MemberActive)
	r := call(t, first.Client(), "POST", a.url("/api-keys"), map[string]any{"name": "sync", "role": "admin"}, bearer(ada.Token)...)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	key := r.JSON["secret"].(string)
	url := second.URL + "/api/v1/accounts/" + a.account.String()
	if r := call(t, second.Client(), "GET", url, nil, bearer(key)...); r.Status != 200 {
		t.Fatalf("the second process before the change: %d %s", r.Status, r.Raw)
	}
	member := store.MemberKey(a.account, ada.User.ID)
	heard := second.Heard(member)
	setStatus(t, a, ada.User.ID, "suspend")
	start := time.Now()
	second.AwaitHeard(t, member, heard)
	t.Logf("the second process heard of the suspension %v after it committed", time.Since(start))
	if r := call(t, second.Client(), "GET", url, nil, bearer(key)...); r.Status != 401 || r.code() != "api_key.creator_suspended" {
		t.Fatalf("the second process, once it heard of the suspension: %d %s", r.Status, r.Raw)
	}
}

// BenchmarkKeyFreshAcrossProcesses measures how soon a second process,
// sharing the PostgreSQL database, refuses (and accepts again) an API key
// whose creator is suspended (reactivated) through the first: from the
// commit of the change to the second's first answer that reflects it,
// reported as p50, p90 and max in ms.
func BenchmarkKeyFreshAcrossProcesses(b *testing.B) {
	first := apptest.Start(b, store.Postgres, apptest.Options{})
	second := apptest.Start(b, store.Postgres, apptest.Options{Share: first})
	ctx := context.Background()
	account := equipe.NewID()
	now := time.Now()
	admin := equipe.User{ID: equipe.NewID(), Email: "admin@fresh.example", EmailKey: "admin@fresh.example",
		FirstName: "Ada", LastName: "Admin", Locale: "en", EmailVerifiedAt: now, CreatedAt: now}
	creator := equipe.User{ID: equipe.NewID(), Email: "c@fresh.example", EmailKey: "c@fresh.example",
		FirstName: "Cy", LastName: "Creator", Locale: "en", EmailVerifiedAt: now, CreatedAt: now}
	err := first.App.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "Fresh", Locale: "en",
			InvitationTTLHours: equipe.DefaultInvitationTTLHours, CreatedAt: now}); err != nil {
			return err
		}
		for _, u := range []*equipe.User{&admin, &creator} {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := tx.CreateMember(ctx, &equipe.Member{AccountID: account, UserID: u.ID, Role: "admin",
				Status: equipe.MemberActive, CreatedAt: now, JoinedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	_, key, err := first.App.Team.CreateKey(ctx, team.Actor{User: &creator}, &account, team.NewKey{Name: "fresh", Role: "manager"})
	if err != nil {
		b.Fatal(err)
	}
	actor := team.Actor{User: &admin}
	c := second.Client()
	url := second.URL + "/api/v1/accounts/" + account.String()
	var windows []time.Duration
	suspended := false
	for b.Loop() {
		suspended = !suspended
		want := 200
		if suspended {
			want = 401
			if _, err := first.App.Team.Suspend(ctx, actor, account, creator.ID); err != nil {
				b.Fatal(err)
			}
		} else if _, err := first.App.Team.Reactivate(ctx, actor, account, creator.ID); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for call(b, c, "GET", url, nil, bearer(key)...).Status != want {
			if time.Since(start) > 5*time.Second {
				b.Fatalf("the second process does not answer %d after 5 s", want)
			}
		}
		windows = append(windows, time.Since(start))
	}
	slices.Sort(windows)
	b.ReportMetric(ms(windows[len(windows)/2]), "p50-ms")
	b.ReportMetric(ms(windows[len(windows)*9/10]), "p90-ms")
	b.ReportMetric(ms(windows[len(windows)-1]), "max-ms")
}

func TestPasswordChangedEmail_ListsTheKeysTheirCreatorMadeThatStillAct(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		for _, name := range []string{"CRM sync", "old"} {
			if r := call(t, env.Client(), "POST", a.url("/api-keys"), map[string]any{"name": name, "role": "manager"},
				bearer(a.admin)...); r.Status != 201 {
				t.Fatalf("create %s: %d %s", name, r.Status, r.Raw)
			}
		}
		old := keyOf(t, a, "old")["id"].(string)
		if r := call(t, env.Client(), "DELETE", a.url("/api-keys/"+old), nil, bearer(a.admin)...); r.Status != 204 {
			t.Fatalf("revoke: %d %s", r.Status, r.Raw)
		}
		sync := keyOf(t, a, "CRM sync")["id"].(string)
		requestReset(t, env, "owner@a.example")
		env.ResetsHandled(t)
		secret := apptest.Secret(apptest.Link(t, env.Mail(t, "owner@a.example", "password_reset"), "/password-reset/"))
		if r := confirm(t, env, secret, "a brand new sentence to remember"); r.Status != 204 {
			t.Fatalf("reset: %d %s", r.Status, r.Raw)
		}
		m := env.Mail(t, "owner@a.example", "password_changed")
		revoke := env.URL + "/accounts/" + a.account.String() + "/api-keys/" + sync + "/revoke"
		if !strings.Contains(m.Text, "CRM sync") || !slices.Contains(m.Links, revoke) || strings.Contains(m.Text, "old") {
			t.Fatalf("the email lists %v:\n%s", m.Links, m.Text)
		}
	})
}
