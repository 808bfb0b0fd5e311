package api_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
)

// membersWithEmail counts the memberships of the person whose login email
// is email, in every account.
func membersWithEmail(t *testing.T, env *apptest.Env, email string) int {
	t.Helper()
	var n int
	err := storetest.Raw(t, env.DB).QueryRow(`SELECT COUNT(*) FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = $1`, email).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestIdempotency_ARetryGetsTheFirstAnswerAndChangesNothing(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		key := []string{"Idempotency-Key", "8e03978e-40d5-43e8-bc93-6894a57f9324"}
		add := func(body map[string]any, headers ...string) response {
			return call(t, env.Client(), "POST", a.url("/members"), body, append(bearer(a.admin), headers...)...)
		}
		first := add(newMemberBody("grace@b.example"), key...)
		if first.Status != 201 || first.Header.Get("Location") == "" || first.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("first: %d %v %s", first.Status, first.Header, first.Raw)
		}
		again := add(newMemberBody("grace@b.example"), key...)
		if again.Status != 201 || !bytes.Equal(again.Raw, first.Raw) || again.Header.Get("Location") != first.Header.Get("Location") ||
			again.Header.Get("Content-Type") != first.Header.Get("Content-Type") || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry: %d %v %s, want the first answer %s", again.Status, again.Header, again.Raw, first.Raw)
		}
		if n := membersWithEmail(t, env, "grace@b.example"); n != 1 {
			t.Fatalf("%d memberships after a retry, want 1", n)
		}
		env.Delivered(t)
		if got := env.Outbox(t, "invitation"); len(got) != 1 {
			t.Fatalf("invitations queued: %v, want one", got)
		}

		// The same key with another body, or at another address: refused,
		// and nothing is made.
		if r := add(newMemberBody("alan@b.example"), key...); r.Status != 422 || r.code() != "idempotency.key_reused" {
			t.Fatalf("another body: %d %s", r.Status, r.Raw)
		}
		if n := membersWithEmail(t, env, "alan@b.example"); n != 0 {
			t.Fatalf("a reused key added a member")
		}
		other := call(t, env.Client(), "POST", a.url("/contacts"), map[string]any{"name": "Support", "email": "s@b.example", "kinds": []string{"billing"}},
			append(bearer(a.admin), key...)...)
		if other.Status != 422 || other.code() != "idempotency.key_reused" {
			t.Fatalf("another route: %d %s", other.Status, other.Raw)
		}

		// Keys belong to their caller: another person's same key is theirs.
		b := newTenant(t, env, "owner@c.example")
		r := call(t, env.Client(), "POST", b.url("/members"), newMemberBody("grace@b.example"), append(bearer(b.admin), key...)...)
		if r.Status != 201 || membersWithEmail(t, env, "grace@b.example") != 2 {
			t.Fatalf("another caller's key: %d %s", r.Status, r.Raw)
		}
		// An API key's keys are its own, apart from its creator's.
		apiKey := a.key(t, "admin")
		r = call(t, env.Client(), "POST", a.url("/members"), newMemberBody("grace@b.example"), append(bearer(apiKey), key...)...)
		if r.Status != 409 || r.code() == "idempotency.key_reused" || r.code() == "idempotency.in_progress" {
			t.Fatalf("an API key with its creator's key: %d %s, want the use case's own conflict", r.Status, r.Raw)
		}

		// A refusal is an answer too: kept and replayed.
		bad := newMemberBody("not-an-email")
		k2 := []string{"Idempotency-Key", `"refused-1"`}
		r1, r2 := add(bad, k2...), add(bad, k2...)
		if r1.Status != 422 || r2.Status != 422 || !bytes.Equal(r1.Raw, r2.Raw) || r2.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("refusal: %d %s then %d %s", r1.Status, r1.Raw, r2.Status, r2.Raw)
		}
	})
}

func TestIdempotency_BadKeysAndRoutesThatTakeNoneAreRefused(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		for name, k := range map[string]string{
			"empty":       "",
			"too long":    strings.Repeat("k", 256),
			"not ASCII":   "clé",
			"bad escape":  `"a\b"`,
			"inner quote": `"a"b"`,
		} {
			r := call(t, env.Client(), "POST", a.url("/members"), newMemberBody("grace@b.example"),
				append(bearer(a.admin), "Idempotency-Key", k)...)
			if r.Status != 400 || r.code() != "idempotency.key_invalid" {
				t.Errorf("%s key: %d %s", name, r.Status, r.Raw)
			}
		}
		if r := call(t, env.Client(), "POST", a.url("/members"), newMemberBody("grace@b.example"),
			append(bearer(a.admin), "Idempotency-Key", strings.Repeat("k", 255))...); r.Status != 201 {
			t.Errorf("a 255-character key: %d %s", r.Status, r.Raw)
		}
		if n := membersWithEmail(t, env, "grace@b.example"); n != 1 {
			t.Fatalf("%d memberships, want 1 (refused keys add nothing)", n)
		}
		refusals := []struct {
			path string
			body any
			code string
		}{
			{"/api/v1/session", map[string]any{"email": "owner@a.example", "password": goodPassword}, "idempotency.public_route"},
			{"/api/v1/signup", signupBody("new@d.example"), "idempotency.public_route"},
			{"/api/v1/check", map[string]any{"account_id": a.account, "user_id": a.adminID, "permission": "members.view"}, "idempotency.check"},
			{"/api/v1/me/recovery-codes", map[string]any{"password": goodPassword}, "idempotency.secret_answer"},
			{"/api/v1/accounts/" + a.account.String() + "/api-keys", map[string]any{"name": "k", "role": "administrator"}, "idempotency.secret_answer"},
			{"/api/v1/me/password", map[string]any{"current_password": goodPassword, "new_password": "another long passphrase here"}, "idempotency.password_request"},
		}
		for _, c := range refusals {
			r := call(t, env.Client(), "POST", env.URL+c.path, c.body, append(bearer(a.admin), "Idempotency-Key", "k1")...)
			if r.Status != 400 || r.code() != c.code {
				t.Errorf("%s: %d %s, want 400 %s", c.path, r.Status, r.Raw, c.code)
			}
		}
		if n := membersWithEmail(t, env, "new@d.example"); n != 0 {
			t.Fatal("a refused sign-up made an account")
		}
	})
}

func TestIdempotency_ConcurrentRetriesAddOneMember(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		const n = 20
		answers := make([]response, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				answers[i] = call(t, env.Client(), "POST", a.url("/members"), newMemberBody("grace@b.example"),
					append(bearer(a.admin), "Idempotency-Key", "parallel-1")...)
			})
		}
		close(start)
		wg.Wait()
		var created []byte
		ok, busy := 0, 0
		for _, r := range answers {
			switch {
			case r.Status == 201:
				if created != nil && !bytes.Equal(r.Raw, created) {
					t.Fatalf("two different answers:\n%s\n%s", created, r.Raw)
				}
				created = r.Raw
				ok++
			case r.Status == 409 && r.code() == "idempotency.in_progress" && r.Header.Get("Retry-After") != "":
				busy++
			default:
				t.Fatalf("unexpected answer: %d %s", r.Status, r.Raw)
			}
		}
		if ok == 0 {
			t.Fatal("no request was answered with the member")
		}
		if m := membersWithEmail(t, env, "grace@b.example"); m != 1 {
			t.Fatalf("%d memberships after %d parallel retries, want 1", m, n)
		}
		if got := env.Outbox(t, "invitation"); len(got) != 1 {
			t.Fatalf("invitations queued: %v, want one", got)
		}
		// Once it is done, every retry gets the one answer.
		r := call(t, env.Client(), "POST", a.url("/members"), newMemberBody("grace@b.example"),
			append(bearer(a.admin), "Idempotency-Key", "parallel-1")...)
		if r.Status != 201 || !bytes.Equal(r.Raw, created) {
			t.Fatalf("after: %d %s", r.Status, r.Raw)
		}
		t.Logf("%d answered with the member, %d told it was in progress", ok, busy)
	})
}
