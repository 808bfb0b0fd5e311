package api_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/store"
)

// assertServiceUnavailable fails the test unless r is the answer to a
// request met by an unreachable database: 503 service.unavailable with
// Retry-After, never a refusal of the credentials.
func assertServiceUnavailable(t *testing.T, what string, r response) {
	t.Helper()
	if r.Status != 503 || r.code() != "service.unavailable" || r.Header.Get("Retry-After") == "" {
		t.Errorf("%s: %d %s (Retry-After %q), want 503 service.unavailable with Retry-After",
			what, r.Status, r.Raw, r.Header.Get("Retry-After"))
	}
}

// TestOutage_CallersGet503NeverA401AndChecksNeverAllowWrongly cuts the
// database off a running service. Sessions, API keys and logins answer 503
// service.unavailable, never 401. The check API answers from its cache
// what it held before the outage, exactly as before, or 503, and 503 for
// anything it did not hold:
//
//   - on SQLite, the cache stays: the pairs asked before are answered as
//     before (one process holds the database, so no change can have been
//     missed), the others 503;
//   - on PostgreSQL, the change listener loses its connection with the
//     rest and the cache is forgotten (changes made elsewhere may be
//     missed): once that happened every check answers 503; restored, the
//     service answers again, sessions and keys unchanged.
func TestOutage_CallersGet503NeverA401AndChecksNeverAllowWrongly(t *testing.T) {
	eachWith(t, func() apptest.Options { return apptest.Options{CuttableDatabase: true} }, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@outage.example")
		member := env.AddMember(t, a.account, "member@outage.example", "collaborator", equipe.MemberActive)
		suspended := env.AddMember(t, a.account, "suspended@outage.example", "manager", equipe.MemberSuspended)
		unasked := env.AddMember(t, a.account, "unasked@outage.example", "collaborator", equipe.MemberActive)
		// The first question about a member of a small account reads all
		// its members: a pair the cache cannot hold is one of a person who
		// is no member of the account.
		stranger := newTenant(t, env, "stranger@outage.example").adminID
		warm, cold := a.key(t, "admin"), a.key(t, "admin") // cold is used only once the database is gone
		q := func(user equipe.ID) map[string]any {
			return map[string]any{"user_id": user.String(), "account_id": a.account.String(), "permission": "records.view"}
		}
		// The pairs asked before the outage, with their answers: the cache
		// holds them.
		asked := []struct {
			who    string
			user   equipe.ID
			before response
		}{{who: "the member", user: member.User.ID}, {who: "the suspended member", user: suspended.User.ID}}
		for i := range asked {
			asked[i].before = checkAs(t, env, warm, q(asked[i].user))
		}
		if r := asked[0].before; r.Status != 200 || r.JSON["allowed"] != true {
			t.Fatalf("the member before the outage: %d %s", r.Status, r.Raw)
		}
		if r := asked[1].before; r.Status != 200 || r.JSON["allowed"] != false {
			t.Fatalf("the suspended member before the outage: %d %s", r.Status, r.Raw)
		}
		batch := map[string]any{"checks": []any{q(member.User.ID), q(suspended.User.ID)}}
		batchBefore := call(t, env.Client(), "POST", env.URL+"/api/v1/check/batch", batch, bearer(warm)...)
		if batchBefore.Status != 200 {
			t.Fatalf("batch before the outage: %d %s", batchBefore.Status, batchBefore.Raw)
		}
		// sameOr503 fails the test unless r is what was answered before the
		// outage or 503: a check never answers anything else.
		sameOr503 := func(what string, r, before response) {
			t.Helper()
			if r.Status == 503 {
				assertServiceUnavailable(t, what, r)
			} else if r.Status != 200 || !bytes.Equal(r.Raw, before.Raw) {
				t.Errorf("%s during the outage: %d %s, want %s or 503", what, r.Status, r.Raw, before.Raw)
			}
		}

		forgets := 0
		if env.Engine == store.Postgres {
			// The listener forgot everything once connected (apptest.Start
			// waited for it): from then on, a forgetting is the listener
			// noticing a loss.
			forgets = env.Heard(store.AllKey())
		}
		env.CutDatabase(t)

		if env.Engine == store.Postgres {
			// Until the listener notices that its connection is gone and
			// the cache is forgotten, the cache may still answer.
			for _, p := range asked {
				sameOr503(p.who+"'s check", checkAs(t, env, warm, q(p.user)), p.before)
			}
			env.AwaitHeard(t, store.AllKey(), forgets)
		}
		for _, p := range asked {
			r := checkAs(t, env, warm, q(p.user))
			if env.Engine == store.Postgres {
				assertServiceUnavailable(t, p.who+"'s check on PostgreSQL", r)
			} else if r.Status != 200 || !bytes.Equal(r.Raw, p.before.Raw) {
				t.Errorf("%s's check on SQLite: %d %s, want the answer of before the outage, %s", p.who, r.Status, r.Raw, p.before.Raw)
			}
		}
		r := call(t, env.Client(), "POST", env.URL+"/api/v1/check/batch", batch, bearer(warm)...)
		if env.Engine == store.Postgres {
			assertServiceUnavailable(t, "the batch on PostgreSQL", r)
		} else if r.Status != 200 || !bytes.Equal(r.Raw, batchBefore.Raw) {
			t.Errorf("the batch on SQLite: %d %s, want the answers of before the outage, %s", r.Status, r.Raw, batchBefore.Raw)
		}
		assertServiceUnavailable(t, "a check the cache does not hold", checkAs(t, env, warm, q(stranger)))
		assertServiceUnavailable(t, "a batch the cache holds in part", call(t, env.Client(), "POST", env.URL+"/api/v1/check/batch",
			map[string]any{"checks": []any{q(member.User.ID), q(stranger)}}, bearer(warm)...))
		// A member not asked about was read with the account's first
		// member on SQLite, and is answered as the database says, or 503.
		if r := checkAs(t, env, warm, q(unasked.User.ID)); r.Status == 503 {
			assertServiceUnavailable(t, "a member not asked about", r)
		} else if env.Engine == store.Postgres || r.Status != 200 || r.JSON["allowed"] != true {
			t.Errorf("a member not asked about during the outage: %d %s, want 503 or (SQLite) allowed", r.Status, r.Raw)
		}
		assertServiceUnavailable(t, "a check with a key not used before", checkAs(t, env, cold, q(member.User.ID)))
		assertServiceUnavailable(t, "a session", call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(a.admin)...))
		assertServiceUnavailable(t, "a session on an account route", call(t, env.Client(), "GET", a.url("/members"), nil, bearer(a.admin)...))
		assertServiceUnavailable(t, "a key used before", call(t, env.Client(), "GET", a.url("/members"), nil, bearer(warm)...))
		assertServiceUnavailable(t, "a key not used before", call(t, env.Client(), "GET", a.url("/members"), nil, bearer(cold)...))
		login := map[string]any{"email": "member@outage.example", "password": apptest.TestPassword}
		assertServiceUnavailable(t, "a login", call(t, env.Client(), "POST", env.URL+"/api/v1/session", login))
		if strings.Contains(env.Logs(), `"msg":"request failed"`) {
			t.Errorf("the outage was answered with an internal error somewhere:\n%s", env.Logs())
		}
		if env.Engine == store.SQLite {
			return
		}

		env.RestoreDatabase(t)
		// The pool's connections come back as requests need them: nothing
		// in the process says when, so look at the answers as they go.
		testenv.Await(t, 20*time.Second, testenv.Every(50*time.Millisecond), "the service answering once the database came back", func() bool {
			r := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(a.admin)...)
			if r.Status != 200 {
				assertServiceUnavailable(t, "a session while the service reconnects", r)
			}
			return r.Status == 200
		})
		for _, p := range asked {
			if r := checkAs(t, env, warm, q(p.user)); r.Status != 200 || !bytes.Equal(r.Raw, p.before.Raw) {
				t.Errorf("%s's check once back: %d %s, want %s", p.who, r.Status, r.Raw, p.before.Raw)
			}
		}
		if r := checkAs(t, env, cold, q(unasked.User.ID)); r.Status != 200 || r.JSON["allowed"] != true {
			t.Errorf("a new check with the other key once back: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/session", login); r.Status != 200 {
			t.Errorf("a login once back: %d %s", r.Status, r.Raw)
		}
	})
}
