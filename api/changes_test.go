package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
)

// changesOf reads the whole change stream after cursor with token, page by
// page of limit, checking that cursors only grow; it returns the events
// and the cursor at the end.
func changesOf(t *testing.T, env *apptest.Env, token, after, query string, limit int) ([]map[string]any, string) {
	t.Helper()
	var out []map[string]any
	for {
		url := env.URL + "/api/v1/changes?after=" + after + "&limit=" + strconv.Itoa(limit) + query
		r := call(t, env.Client(), "GET", url, nil, bearer(token)...)
		if r.Status != 200 {
			t.Fatalf("changes: %d %s", r.Status, r.Raw)
		}
		next := r.JSON["next_cursor"].(string)
		if n, _ := strconv.Atoi(next); n < func() int { a, _ := strconv.Atoi(after); return a }() {
			t.Fatalf("the cursor went back from %s to %s", after, next)
		}
		data := r.JSON["data"].([]any)
		for _, d := range data {
			out = append(out, d.(map[string]any))
		}
		if len(data) < limit {
			return out, next
		}
		after = next
	}
}

func addMemberAPI(t *testing.T, env *apptest.Env, tn tenant, token, email string) string {
	t.Helper()
	r := call(t, env.Client(), "POST", tn.url("/members"), map[string]any{"email": email, "first_name": "New",
		"last_name": "Member", "role": "collaborator"}, bearer(token)...)
	if r.Status != 201 {
		t.Fatalf("add %s: %d %s", email, r.Status, r.Raw)
	}
	return r.JSON["user_id"].(string)
}

// TestChanges_KeysSeeWhatTheirReachHoldsInCommitOrder checks who sees what:
// an account key its account's log and its clients', never another
// account's; an instance key everything, the events of people's own
// identities included; a session nothing. Events carry their public form
// (no address), pages follow one another without a gap, and the kinds
// filter selects.
func TestChanges_KeysSeeWhatTheirReachHoldsInCommitOrder(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		b := newTenant(t, env, "owner@b.example")
		aKey, bKey := a.key(t, "admin"), b.key(t, "admin")
		client := call(t, env.Client(), "POST", a.url("/clients"), map[string]any{"name": "Client of A", "locale": "fr",
			"first_resource": map[string]any{"type": "company", "name": "Client of A"}}, bearer(a.admin)...)
		if client.Status != 201 {
			t.Fatalf("client: %d %s", client.Status, client.Raw)
		}
		clientID := client.JSON["id"].(string)
		start := call(t, env.Client(), "GET", env.URL+"/api/v1/changes?after=now", nil, bearer(aKey)...)
		if start.Status != 200 || len(start.JSON["data"].([]any)) != 0 {
			t.Fatalf("after=now: %d %s", start.Status, start.Raw)
		}
		from := start.JSON["next_cursor"].(string)
		for i := range 3 {
			addMemberAPI(t, env, a, aKey, "m"+strconv.Itoa(i)+"@a.example")
			addMemberAPI(t, env, b, bKey, "m"+strconv.Itoa(i)+"@b.example")
		}
		clientTenant := tenant{env: env, account: equipe.MustParse(clientID), admin: a.admin}
		addMemberAPI(t, env, clientTenant, a.admin, "m@client.example")

		all, end := changesOf(t, env, aKey, from, "", 200)
		paged, pagedEnd := changesOf(t, env, aKey, from, "", 2)
		if len(all) != 4 || len(paged) != 4 || end != pagedEnd {
			t.Fatalf("A's key: %d events, %d by pages of 2 (cursors %s, %s)", len(all), len(paged), end, pagedEnd)
		}
		for i, e := range all {
			if e["id"] != paged[i]["id"] {
				t.Errorf("event %d differs between a page of 200 and pages of 2", i)
			}
			if e["type"] != "member.added" || (e["account_id"] != a.account.String() && e["account_id"] != clientID) {
				t.Errorf("A's key sees %v", e)
			}
			if _, ok := e["ip"]; ok {
				t.Errorf("the stream carries the address: %v", e)
			}
			for _, f := range []string{"id", "type", "account_id", "actor", "subject", "before", "after", "at"} {
				if _, ok := e[f]; !ok {
					t.Errorf("an event without %s: %v", f, e)
				}
			}
		}
		if all[3]["account_id"] != clientID {
			t.Errorf("the client's event is not last: %v", all[3])
		}
		bSees, _ := changesOf(t, env, bKey, from, "", 200)
		if len(bSees) != 3 {
			t.Errorf("B's key sees %d events, want its 3", len(bSees))
		}
		for _, e := range bSees {
			if e["account_id"] != b.account.String() {
				t.Errorf("B's key sees %v", e)
			}
		}

		// An instance key sees both accounts, and a person's own events.
		admin := instanceActor(t, env)
		_, instKey, err := env.App.Team.CreateKey(t.Context(), admin, nil, teamNewKey("stream"))
		if err != nil {
			t.Fatal(err)
		}
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "owner@b.example",
			"password": "wrong password here"}); r.Status != 401 && r.Status != 422 {
			t.Fatalf("failed login: %d %s", r.Status, r.Raw)
		}
		env.App.DB.WaitDetached() // the failure is recorded after its answer
		every, _ := changesOf(t, env, instKey, from, "", 200)
		kinds := map[string]int{}
		for _, e := range every {
			kinds[e["type"].(string)]++
		}
		if kinds["member.added"] != 7 || kinds["user.login_failed"] != 1 {
			t.Errorf("the instance key sees %v", kinds)
		}
		only, _ := changesOf(t, env, instKey, from, "&types=user.login_failed,api_key.created", 200)
		if len(only) != 2 {
			t.Errorf("types filter: %d events", len(only))
		}

		// Refusals.
		for _, c := range []struct {
			token, query string
			status       int
			code, field  string
		}{
			{a.admin, "", 403, "changes.key_required", ""},
			{aKey, "?after=x", 422, "error.fields", "after"},
			{aKey, "?after=%2B1", 422, "error.fields", "after"},
			{aKey, "?after=01", 422, "error.fields", "after"},
			{aKey, "?after=99999999", 410, "changes.cursor_expired", ""},
			{aKey, "?limit=0", 422, "error.fields", "limit"},
			{aKey, "?limit=201", 422, "error.fields", "limit"},
			{aKey, "?types=member.added,member.nope", 422, "error.fields", "types"},
			{a.key(t, "guest"), "", 403, "access.permission_required", ""},
		} {
			r := call(t, env.Client(), "GET", env.URL+"/api/v1/changes"+c.query, nil, bearer(c.token)...)
			if r.Status != c.status || r.code() != c.code || (c.field != "" && r.fieldCodes()[c.field] == "") {
				t.Errorf("%s: %d %s", c.query, r.Status, r.Raw)
			}
		}
		// A key's refusal is in English unless Accept-Language asks
		// otherwise: a machine seldom says.
		for lang, want := range map[string]string{"": "This cursor", "fr-FR": "Ce curseur", "en": "This cursor"} {
			h := bearer(aKey)
			if lang != "" {
				h = append(h, "Accept-Language", lang)
			}
			r := call(t, env.Client(), "GET", env.URL+"/api/v1/changes?after=99999999", nil, h...)
			if d, _ := r.JSON["detail"].(string); r.Status != 410 || !strings.HasPrefix(d, want) {
				t.Errorf("Accept-Language %q: %d %s", lang, r.Status, r.Raw)
			}
		}
	})
}

// sseEvent is one event of a Server-Sent Events stream.
type sseEvent struct{ id, typ, data string }

// askStream asks for the change stream as Server-Sent Events with token,
// from the Last-Event-ID lastID unless it is empty, and returns the answer
// as it starts.
func askStream(t *testing.T, ctx context.Context, env *apptest.Env, token, query, lastID string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", env.URL+"/api/v1/changes"+query, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := (&http.Client{Transport: env.Transport(nil)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// openStream opens the change stream as Server-Sent Events and delivers its
// events on the channel until the test ends; comments are delivered with
// typ ":".
func openStream(t *testing.T, env *apptest.Env, token, query, lastID string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	res := askStream(t, ctx, env, token, query, lastID)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 100)
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e != (sseEvent{}) {
					out <- e
				}
				e = sseEvent{}
			case strings.HasPrefix(line, ":"):
				e.typ = ":"
			case strings.HasPrefix(line, "id: "):
				e.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				e.typ = line[7:]
			case strings.HasPrefix(line, "data: "):
				e.data = line[6:]
			}
		}
		close(out)
	}()
	return out
}

func nextEvent(t *testing.T, events <-chan sseEvent) sseEvent {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatal("the stream ended")
			}
			if e.typ == ":" || e.id == "" {
				continue
			}
			return e
		case <-timeout:
			t.Fatal("no event within 15 s")
		}
	}
}

// TestChanges_ServerSentEventsPushChangesAsTheyCommitAndResume opens the
// stream, makes changes, reads them as they come, then resumes from the
// last event's id on a new connection.
func TestChanges_ServerSentEventsPushChangesAsTheyCommitAndResume(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		key := a.key(t, "admin")
		events := openStream(t, env, key, "?after=now", "")
		first := addMemberAPI(t, env, a, key, "first@a.example")
		e := nextEvent(t, events)
		var data map[string]any
		if err := json.Unmarshal([]byte(e.data), &data); err != nil {
			t.Fatalf("data %q: %v", e.data, err)
		}
		if e.typ != "member.added" || data["type"] != "member.added" || data["subject"].(map[string]any)["id"] != first {
			t.Fatalf("first event: %+v", e)
		}
		second := addMemberAPI(t, env, a, key, "second@a.example")
		e2 := nextEvent(t, events)
		if n1, _ := strconv.Atoi(e.id); !strings.Contains(e2.data, second) || func() int { n, _ := strconv.Atoi(e2.id); return n }() <= n1 {
			t.Fatalf("second event: %+v after %+v", e2, e)
		}
		// A new connection resumes after the first event.
		resumed := openStream(t, env, key, "", e.id)
		if e3 := nextEvent(t, resumed); !strings.Contains(e3.data, second) {
			t.Fatalf("resumed with Last-Event-ID %s: %+v", e.id, e3)
		}
		// Refusals come before the stream, as problems.
		res := askStream(t, t.Context(), env, key, "?after=99999999", "")
		res.Body.Close()
		if res.StatusCode != 410 || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("expired cursor on the stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
	})
}

// streamEnd waits for the stream to end and returns the events (not the
// comments) it delivered before it did.
func streamEnd(t *testing.T, events <-chan sseEvent) []sseEvent {
	t.Helper()
	var got []sseEvent
	timeout := time.After(15 * time.Second)
	for {
		select {
		case e, ok := <-events:
			if !ok {
				return got
			}
			if e.typ != ":" && e.id != "" {
				got = append(got, e)
			}
		case <-timeout:
			t.Fatalf("the stream is still open after 15 s, having delivered %+v", got)
		}
	}
}

// TestChanges_AStreamEndsOnceItsKeyMayNoLongerAct keeps a stream open while
// its key is revoked, or its creator stops administering the instance: the
// stream ends at the next commit (the revocation's own), without delivering
// it or anything after, and reconnecting answers 401 with the reason, as any
// request with the key does.
func TestChanges_AStreamEndsOnceItsKeyMayNoLongerAct(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		ctx := t.Context()
		a := newTenant(t, env, "owner@a.example")
		admin := instanceActor(t, env)
		for _, c := range []struct {
			name string
			// open makes a key and returns its secret, and stop, which ends
			// the key's standing.
			open    func(t *testing.T) (secret string, stop func())
			refusal string
		}{
			{name: "an account key revoked", refusal: "api_key.invalid", open: func(t *testing.T) (string, func()) {
				k := call(t, env.Client(), "POST", a.url("/api-keys"), map[string]any{"name": "sync", "role": "admin"}, bearer(a.admin)...)
				if k.Status != 201 {
					t.Fatalf("key: %d %s", k.Status, k.Raw)
				}
				return k.JSON["secret"].(string), func() {
					if r := call(t, env.Client(), "DELETE", a.url("/api-keys/"+k.JSON["id"].(string)), nil, bearer(a.admin)...); r.Status != 204 {
						t.Fatalf("revoke: %d %s", r.Status, r.Raw)
					}
				}
			}},
			{name: "an instance key revoked", refusal: "api_key.invalid", open: func(t *testing.T) (string, func()) {
				k, secret, err := env.App.Team.CreateKey(ctx, admin, nil, teamNewKey("vendor backend"))
				if err != nil {
					t.Fatal(err)
				}
				return secret, func() {
					if err := env.App.Team.RevokeKey(ctx, admin, nil, k.ID); err != nil {
						t.Fatal(err)
					}
				}
			}},
			{name: "an instance key whose creator no longer administers the instance", refusal: "api_key.creator_not_instance_admin",
				open: func(t *testing.T) (string, func()) {
					creator := instanceActor(t, env)
					_, secret, err := env.App.Team.CreateKey(ctx, creator, nil, teamNewKey("vendor backend"))
					if err != nil {
						t.Fatal(err)
					}
					return secret, func() {
						// Withdrawn in the database (no use case does it):
						// no event, so the stream hears of it at the next
						// commit, which it does not deliver.
						if err := env.App.DB.Write(ctx, func(tx *store.Tx) error {
							return tx.SetInstanceAdmin(ctx, creator.User.ID, false)
						}); err != nil {
							t.Fatal(err)
						}
						addMemberAPI(t, env, a, a.admin, "late@a.example")
					}
				}},
		} {
			t.Run(c.name, func(t *testing.T) {
				secret, stop := c.open(t)
				events := openStream(t, env, secret, "?after=now", "")
				stop()
				if got := streamEnd(t, events); len(got) != 0 {
					t.Errorf("the stream delivered %+v after the key stopped", got)
				}
				r := call(t, env.Client(), "GET", env.URL+"/api/v1/changes?after=now", nil, bearer(secret)...)
				if r.Status != 401 || r.code() != c.refusal {
					t.Errorf("reconnecting: %d %s", r.Status, r.Raw)
				}
			})
		}
		// A session opens no stream, so its end (a logout, a new
		// password) has none to end.
		res := askStream(t, t.Context(), env, a.admin, "?after=now", "")
		res.Body.Close()
		if res.StatusCode != 403 || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("a session asks for the stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
	})
}

// TestAccessState_GivesWhatChecksAreCompiledFromWithinReach checks the
// access-state route: a member's input (role and grants, overrides,
// resources, status), null for a user who is no member, the account's
// resources and the stream's cursor; 422 without users; 404 for another
// account's key and for a session without the right to check.
func TestAccessState_GivesWhatChecksAreCompiledFromWithinReach(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		b := newTenant(t, env, "owner@b.example")
		aKey, bKey := a.key(t, "admin"), b.key(t, "admin")
		m := env.AddMember(t, a.account, "m@a.example", "manager", equipe.MemberSuspended)
		stranger := equipe.NewID()
		r := call(t, env.Client(), "GET", a.url("/access-state?user="+m.User.ID.String()+"&user="+stranger.String()), nil, bearer(aKey)...)
		if r.Status != 200 {
			t.Fatalf("access state: %d %s", r.Status, r.Raw)
		}
		members := r.JSON["members"].(map[string]any)
		in, _ := members[m.User.ID.String()].(map[string]any)
		if in == nil || in["status"] != "suspended" || in["role"].(map[string]any)["key"] != "manager" ||
			len(in["role"].(map[string]any)["grants"].([]any)) == 0 || in["via_firm"] != false {
			t.Errorf("member: %v", in)
		}
		if v, ok := members[stranger.String()]; !ok || v != nil {
			t.Errorf("a stranger: %v", v)
		}
		if len(r.JSON["resources"].([]any)) != 1 || r.JSON["cursor"] == "" || r.JSON["account_id"] != a.account.String() {
			t.Errorf("account: %s", r.Raw)
		}
		if r := call(t, env.Client(), "GET", a.url("/access-state"), nil, bearer(aKey)...); r.Status != 422 || r.fieldCodes()["user"] != "access.users_count" {
			t.Errorf("no user: %d %s", r.Status, r.Raw)
		}
		for name, token := range map[string]string{"B's key": bKey, "a manager's session": m.Token} {
			if r := call(t, env.Client(), "GET", a.url("/access-state?user="+m.User.ID.String()), nil, bearer(token)...); r.Status != 404 {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
	})
}

// TestChanges_StreamsEndWhenTheServerShutsDown keeps a stream open while the
// service shuts down: the stream ends and the service stops without waiting
// for it (apptest fails the test if serving ends in an error, as a
// shutdown cut short by its deadline does).
func TestChanges_StreamsEndWhenTheServerShutsDown(t *testing.T) {
	streamEnded := make(chan struct{})
	t.Cleanup(func() {
		// Runs after the service's own cleanup (cleanups run last first).
		select {
		case <-streamEnded:
		default:
			t.Error("the stream is still open after the service stopped")
		}
	})
	env := apptest.Start(t, "sqlite", apptest.Options{})
	a := newTenant(t, env, "owner@a.example")
	key := a.key(t, "admin")
	res := askStream(t, t.Context(), env, key, "?after=now", "")
	if res.StatusCode != 200 {
		t.Fatalf("stream: %d", res.StatusCode)
	}
	go func() {
		defer close(streamEnded)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
		}
	}()
}
