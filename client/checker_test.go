package client_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/client"
	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// TestChecker_DecidesAsTheCheckAPI compares the Checker's answers with POST
// /api/v1/check over every permission of the catalogue (and one that is
// none) and a table of members and questions: built-in and custom roles,
// allowing and denying overrides, scopes against owners, resources in use,
// archived and unknown, a restricted role with and without the resource, a
// suspended member, the owner not yet joined, a user of another account, a
// user and an account that do not exist.
func TestChecker_DecidesAsTheCheckAPI(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		ctx := t.Context()
		a := newAccount(t, env, "acme")
		b := newAccount(t, env, "other")
		key := apiKey(t, env, nil, "")
		aKey := apiKey(t, env, &a.ID, "admin")
		c := newClient(t, env, key)
		send(t, env, aKey, "POST", "/api/v1/accounts/"+a.ID.String()+"/roles", map[string]any{"key": "kiosk",
			"label_fr": "Borne", "label_en": "Kiosk", "permissions": map[string]any{"records.view": "owned", "records.edit": "owned_or_unassigned"}})
		inUse, _, err := env.App.DB.ResourceIDs(ctx, a.ID)
		if err != nil || len(inUse) != 1 {
			t.Fatalf("resources: %v %v", inUse, err)
		}
		second := send(t, env, aKey, "POST", "/api/v1/accounts/"+a.ID.String()+"/resources", map[string]any{"type": "location", "name": "Annexe"})
		archived := send(t, env, aKey, "POST", "/api/v1/accounts/"+a.ID.String()+"/resources", map[string]any{"type": "location", "name": "Old"})
		send(t, env, aKey, "POST", "/api/v1/accounts/"+a.ID.String()+"/resources/"+archived["id"].(string)+"/archive", nil)
		secondID, archivedID := equipe.MustParse(second["id"].(string)), equipe.MustParse(archived["id"].(string))

		users := map[string]equipe.ID{}
		for _, m := range []struct{ name, role string }{{"admin", "admin"}, {"manager", "manager"}, {"collab", "collaborator"},
			{"guest", "guest"}, {"kiosk", "kiosk"}, {"overridden", "collaborator"}} {
			users[m.name] = env.AddMember(t, a.ID, m.name+"@acme.example", m.role, equipe.MemberActive).User.ID
		}
		users["suspended"] = env.AddMember(t, a.ID, "suspended@acme.example", "manager", equipe.MemberSuspended).User.ID
		users["invited"] = env.AddMember(t, a.ID, "invited@acme.example", "admin", equipe.MemberInvited).User.ID
		users["elsewhere"] = env.AddMember(t, b.ID, "elsewhere@other.example", "admin", equipe.MemberActive).User.ID
		users["nobody"] = equipe.NewID()
		ac := newClient(t, env, aKey)
		for _, name := range []string{"guest", "collab"} {
			if _, err := ac.UpdateMember(ctx, a.ID, users[name], client.MemberChange{Resources: &[]equipe.ID{inUse[0]}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := ac.UpdateMember(ctx, a.ID, users["overridden"], client.MemberChange{Overrides: &map[string]client.Override{
			"records.view": {Allow: true, Scope: "owned"}, "members.view": {Allow: false}, "billing.access": {Allow: true}}}); err != nil {
			t.Fatal(err)
		}

		k, err := c.NewChecker(ctx, client.CheckerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer k.Close()
		cat, err := c.Catalogue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		perms := []string{"no.such"}
		for _, p := range cat.Permissions {
			perms = append(perms, p.Key)
		}
		queries := []access.Query{{}, {Resource: inUse[0], HasResource: true}, {Resource: secondID, HasResource: true},
			{Resource: archivedID, HasResource: true}, {Resource: equipe.NewID(), HasResource: true},
			{Unowned: true}, {Owner: users["collab"], OwnerKnown: true}, {Owner: users["kiosk"], OwnerKnown: true}}
		names := make([]string, 0, len(users))
		for n := range users {
			names = append(names, n)
		}
		sort.Strings(names)
		var reqs []client.CheckRequest
		for _, acct := range []equipe.ID{a.ID, equipe.NewID()} {
			for _, n := range names {
				for _, p := range perms {
					for _, q := range queries {
						reqs = append(reqs, client.CheckRequest{Account: acct, User: users[n], Permission: p, Query: q})
					}
				}
			}
		}
		reasons := map[access.Reason]int{}
		for start := 0; start < len(reqs); start += 1000 {
			batch := reqs[start:min(start+1000, len(reqs))]
			want, err := c.CheckBatch(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range batch {
				got, err := k.Check(ctx, r.Account, r.User, r.Permission, r.Query)
				if err != nil {
					t.Fatal(err)
				}
				if got != want[i] {
					t.Errorf("%s %s %+v: Checker %+v, API %+v", r.User, r.Permission, r.Query, got, want[i])
				}
				reasons[got.Reason]++
			}
		}
		// The table reaches every kind of answer it is meant to.
		for _, r := range []access.Reason{access.Allowed, access.AllowedScopeAll, access.AllowedScopeOwned, access.DeniedScope,
			access.DeniedByOverride, access.DeniedNotGranted, access.DeniedMemberSuspended, access.DeniedMemberNotActive,
			access.DeniedNotMember, access.DeniedUnknownAccount, access.DeniedUnknownPermission, access.DeniedUnknownResource,
			access.DeniedResourceArchived, access.DeniedResourceNotAssigned} {
			if reasons[r] == 0 {
				t.Errorf("no check answered %s (%v)", r, reasons)
			}
		}
		t.Logf("%d checks, the same answers: %v", len(reqs), reasons)
	})
}

// awaitDecision waits until the Checker answers want, from start, waking
// at each event it applies; it returns how long that took, or fails past
// budget.
func awaitDecision(t *testing.T, k *client.Checker, start time.Time, budget time.Duration, account, user equipe.ID, perm string, want bool) time.Duration {
	t.Helper()
	deadline := time.NewTimer(time.Until(start.Add(budget)))
	defer deadline.Stop()
	for {
		applied := k.Applied()
		d, err := k.Check(t.Context(), account, user, perm, access.Query{})
		if err == nil && d.Allowed == want {
			return time.Since(start)
		}
		select {
		case <-applied:
		case <-deadline.C:
			d, err := k.Check(t.Context(), account, user, perm, access.Query{})
			t.Fatalf("the Checker answers %+v (%v) %v after the change, want allowed=%v", d, err, time.Since(start), want)
		}
	}
}

// managerHeld starts a Checker on c, closed with the test, adds a manager
// to the account and checks that the Checker allows them to view members
// (and so holds them).
func managerHeld(t *testing.T, env *apptest.Env, c *client.Client, account equipe.ID) (*client.Checker, equipe.ID) {
	t.Helper()
	k, err := c.NewChecker(t.Context(), client.CheckerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	user := env.AddMember(t, account, "m@acme.example", "manager", equipe.MemberActive).User.ID
	if d, err := k.Check(t.Context(), account, user, "members.view", access.Query{}); err != nil || !d.Allowed {
		t.Fatalf("before: %+v %v", d, err)
	}
	return k, user
}

// TestChecker_SeesAChangeMadeAnywhereWithin100ms follows changes made
// through the API, and on PostgreSQL through another process of the
// deployment sharing the database: each is reflected by the Checker within
// 100 ms of the change's answer, or the test fails. It logs the median
// and the longest delay.
func TestChecker_SeesAChangeMadeAnywhereWithin100ms(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		ctx := t.Context()
		a := newAccount(t, env, "acme")
		key := apiKey(t, env, &a.ID, "admin")
		maker := env // where changes are made
		if env.Engine == "postgres" {
			maker = apptest.Start(t, env.Engine, apptest.Options{Share: env})
		}
		c, changer := newClient(t, env, key), newClient(t, maker, key)
		k, user := managerHeld(t, env, c, a.ID)
		var delays []time.Duration
		for i := range 20 {
			var err error
			if i%2 == 0 {
				_, err = changer.SuspendMember(ctx, a.ID, user)
			} else {
				_, err = changer.ReactivateMember(ctx, a.ID, user)
			}
			if err != nil {
				t.Fatal(err)
			}
			delays = append(delays, awaitDecision(t, k, time.Now(), 100*time.Millisecond, a.ID, user, "members.view", i%2 == 1))
		}
		slices.Sort(delays)
		t.Logf("change → Checker (%d changes): median %v, max %v", len(delays), delays[len(delays)/2], delays[len(delays)-1])
	})
}

// TestChecker_SeesAnIdentityDisabledByTheInstance: a person's identity
// disabled by the instance is an event of no account; a Checker of an
// account holding that person denies them within 100 ms of the change
// (denied_user_disabled), and allows them again once it is enabled.
func TestChecker_SeesAnIdentityDisabledByTheInstance(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		ctx := t.Context()
		a := newAccount(t, env, "acme")
		c := newClient(t, env, apiKey(t, env, &a.ID, "admin"))
		k, user := managerHeld(t, env, c, a.ID)
		instance := team.Actor{Key: &equipe.APIKey{ID: equipe.NewID()}}
		for _, disabled := range []bool{true, false} {
			if _, err := env.App.Team.ChangeUser(ctx, instance, user, team.UserChange{Disabled: &disabled}); err != nil {
				t.Fatal(err)
			}
			awaitDecision(t, k, time.Now(), 100*time.Millisecond, a.ID, user, "members.view", !disabled)
		}
		if d, _ := k.Check(ctx, a.ID, user, "members.view", access.Query{}); !d.Allowed {
			t.Fatalf("enabled again: %+v", d)
		}
	})
}

// TestChecker_ForgetsADeletedAccount: an account's deletion is an event of
// the instance's log, about the account; a Checker of the instance holding
// one of its members denies them within 100 ms (the account unknown).
func TestChecker_ForgetsADeletedAccount(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newAccount(t, env, "acme")
		c := newClient(t, env, apiKey(t, env, nil, "admin"))
		k, user := managerHeld(t, env, c, a.ID)
		if err := env.App.Team.DeleteAccount(t.Context(), instanceAdmin(t, env), a.ID); err != nil {
			t.Fatal(err)
		}
		awaitDecision(t, k, time.Now(), 100*time.Millisecond, a.ID, user, "members.view", false)
		if d, _ := k.Check(t.Context(), a.ID, user, "members.view", access.Query{}); d.Reason != access.DeniedUnknownAccount {
			t.Errorf("after the deletion: %+v", d)
		}
	})
}

// TestChecker_WhenTheStreamIsDownFallsBackOrFailsClosed cuts the stream's
// connection (and keeps it cut) while the API stays reachable: past
// StaleAfter, a Checker asks the service over HTTP and sees a change the
// stream could not tell it; one with FailClosed denies everything; neither
// ever allows from what it held. When the stream comes back, they answer
// from memory again, current.
func TestChecker_WhenTheStreamIsDownFallsBackOrFailsClosed(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		ctx := t.Context()
		a := newAccount(t, env, "acme")
		key := apiKey(t, env, &a.ID, "admin")
		proxy := storetest.NewProxy(t, env.URL)
		// The stream goes through the proxy; other requests do not.
		hc := &http.Client{Transport: env.Transport(streamVia{proxy: proxy})}
		c := newClient(t, env, key, client.WithHTTPClient(hc))
		const stale = 300 * time.Millisecond
		open, err := c.NewChecker(ctx, client.CheckerOptions{StaleAfter: stale})
		if err != nil {
			t.Fatal(err)
		}
		defer open.Close()
		closed, err := c.NewChecker(ctx, client.CheckerOptions{StaleAfter: stale, FailClosed: true})
		if err != nil {
			t.Fatal(err)
		}
		defer closed.Close()
		user := env.AddMember(t, a.ID, "m@acme.example", "manager", equipe.MemberActive).User.ID
		for _, k := range []*client.Checker{open, closed} {
			if d, err := k.Check(ctx, a.ID, user, "members.view", access.Query{}); err != nil || !d.Allowed {
				t.Fatalf("before: %+v %v", d, err)
			}
		}
		proxy.Cut()
		if _, err := c.SuspendMember(ctx, a.ID, user); err != nil {
			t.Fatal(err)
		}
		// Until StaleAfter the Checkers may answer from what they hold;
		// then they must not.
		for _, k := range []*client.Checker{open, closed} {
			testenvAwait(t, 10*time.Second, func() bool { return k.Stale() })
		}
		if d, err := open.Check(ctx, a.ID, user, "members.view", access.Query{}); err != nil || d.Allowed || d.Reason != access.DeniedMemberSuspended {
			t.Errorf("falling back to the API: %+v %v", d, err)
		}
		if d, err := closed.Check(ctx, a.ID, user, "members.view", access.Query{}); err != client.ErrStale || d.Allowed || d.Reason != client.ReasonStale {
			t.Errorf("failing closed: %+v %v", d, err)
		}
		// The stream comes back: both see the suspension from memory.
		proxy.Restore(t)
		for _, k := range []*client.Checker{open, closed} {
			testenvAwait(t, 10*time.Second, func() bool { return !k.Stale() })
			if d, err := k.Check(ctx, a.ID, user, "members.view", access.Query{}); err != nil || d.Reason != access.DeniedMemberSuspended {
				t.Errorf("after the stream came back: %+v %v", d, err)
			}
		}
	})
}

// streamVia sends the change stream's requests to the proxy, and the
// others straight to the service.
type streamVia struct{ proxy *storetest.Proxy }

func (s streamVia) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Accept") == "text/event-stream" {
		r = r.Clone(r.Context())
		u := *r.URL
		u.Host = hostOf(s.proxy.URL(r.URL.String()))
		r.URL, r.Host = &u, u.Host
	}
	return http.DefaultTransport.RoundTrip(r)
}

func hostOf(raw string) string {
	u, _ := url.Parse(raw)
	return u.Host
}

// testenvAwait waits for cond, looking every 5 ms: the Checker's staleness
// is a timer of its own, which nothing of the test signals.
func testenvAwait(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	testenv.Await(t, timeout, testenv.Every(5*time.Millisecond), "the Checker's state", cond)
}

// TestChecker_HoldsAtMostMaxMembersForgettingTheLeastRecentlyAsked asks a
// Checker bounded to 5 members about 12 members of an account in turn, and
// about one of them between each: it never holds more than 5, the one
// asked all along is never loaded again, and a member it forgot is loaded
// again when next asked, never answered from what it held: with the stream
// cut, so that the Checker cannot hear of it, a suspension made after the
// member was forgotten is seen at once.
func TestChecker_HoldsAtMostMaxMembersForgettingTheLeastRecentlyAsked(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		ctx := t.Context()
		a := newAccount(t, env, "acme")
		key := apiKey(t, env, &a.ID, "admin")
		proxy := storetest.NewProxy(t, env.URL)
		loads := &countLoads{next: streamVia{proxy: proxy}}
		c := newClient(t, env, key, client.WithHTTPClient(&http.Client{Transport: env.Transport(loads)}))
		var users []equipe.ID
		for i := range 12 {
			users = append(users, env.AddMember(t, a.ID, fmt.Sprintf("m%d@acme.example", i), "manager", equipe.MemberActive).User.ID)
		}
		hot := env.AddMember(t, a.ID, "hot@acme.example", "manager", equipe.MemberActive).User.ID
		late := env.AddMember(t, a.ID, "late@acme.example", "manager", equipe.MemberActive).User.ID
		// From the first check on nothing changes in the account until the
		// suspension below: whatever the Checker forgets, it forgets for its
		// bound.
		const bound = 5
		k, err := c.NewChecker(ctx, client.CheckerOptions{MaxMembers: bound, StaleAfter: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		defer k.Close()
		// Once connected, the stream forgets what was loaded before: wait
		// for it, by an event applied before the first check.
		applied := k.Applied()
		if _, err := c.SuspendMember(ctx, a.ID, late); err != nil {
			t.Fatal(err)
		}
		select {
		case <-applied:
		case <-time.After(10 * time.Second):
			t.Fatal("the Checker applied no event")
		}
		allowed := func(user equipe.ID) bool {
			t.Helper()
			d, err := k.Check(ctx, a.ID, user, "members.view", access.Query{})
			if err != nil {
				t.Fatal(err)
			}
			if k.Held() > bound {
				t.Fatalf("the Checker holds %d members, past its bound of %d", k.Held(), bound)
			}
			return d.Allowed
		}
		if !allowed(hot) {
			t.Fatal("the hot member is denied")
		}
		for i, u := range users {
			before := loads.n.Load()
			if !allowed(u) {
				t.Fatalf("member %d is denied", i)
			}
			if loads.n.Load() != before+1 {
				t.Fatalf("member %d, asked for the first time, was loaded %d times", i, loads.n.Load()-before)
			}
			before = loads.n.Load()
			allowed(hot)
			if loads.n.Load() != before {
				t.Fatalf("after member %d, the member asked all along was loaded again: it was forgotten", i)
			}
		}
		if k.Held() != bound {
			t.Errorf("holds %d members, want the bound, %d", k.Held(), bound)
		}

		// users[0] was forgotten long ago. Without the stream, the
		// Checker learns of its suspension only by loading it.
		proxy.Cut()
		if _, err := c.SuspendMember(ctx, a.ID, users[0]); err != nil {
			t.Fatal(err)
		}
		before := loads.n.Load()
		if allowed(users[0]) {
			t.Error("a forgotten member was answered from what the Checker held before: allowed after its suspension")
		}
		if loads.n.Load() != before+1 {
			t.Errorf("a forgotten member was loaded %d times when asked again, want 1", loads.n.Load()-before)
		}
	})
}

// countLoads counts the requests for an account's access state.
type countLoads struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *countLoads) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/access-state") {
		c.n.Add(1)
	}
	return c.next.RoundTrip(r)
}

// TestChecker_ALoadUnderWayWhenAnEventMakesItOutOfDateIsNotKept holds a
// member's load between its answer and its return while an event that
// changes the member's checks arrives, and is applied, in the stream: a
// person's identity disabled (an event of no account), and, for one of a
// firm's staff in a client account, their assignment ended (an event of the
// firm's log). The load's answer was read before the event, so the Checker
// must not keep it: the next check loads again and denies. Kept, the
// Checker would allow until some other event of the account came.
func TestChecker_ALoadUnderWayWhenAnEventMakesItOutOfDateIsNotKept(t *testing.T) {
	type scene struct {
		key           string
		account, user equipe.ID
		change        func() // the change the load misses
		denied        access.Reason
	}
	scenes := map[string]func(t *testing.T, env *apptest.Env) scene{
		"an identity disabled": func(t *testing.T, env *apptest.Env) scene {
			a := newAccount(t, env, "acme")
			user := env.AddMember(t, a.ID, "m@acme.example", "manager", equipe.MemberActive).User.ID
			return scene{key: apiKey(t, env, &a.ID, "admin"), account: a.ID, user: user, denied: access.DeniedUserDisabled,
				change: func() {
					disabled := true
					instance := team.Actor{Key: &equipe.APIKey{ID: equipe.NewID()}}
					if _, err := env.App.Team.ChangeUser(t.Context(), instance, user, team.UserChange{Disabled: &disabled}); err != nil {
						t.Fatal(err)
					}
				}}
		},
		"a firm's staff unassigned from the client": func(t *testing.T, env *apptest.Env) scene {
			firm := newAccount(t, env, "cabinet")
			root := instanceAdmin(t, env)
			c, err := env.App.Team.CreateClient(t.Context(), root, firm.ID, team.NewAccount{Name: "boulangerie", Locale: "fr"})
			if err != nil {
				t.Fatal(err)
			}
			staff := env.AddMember(t, firm.ID, "staff@cabinet.example", "manager", equipe.MemberActive).User.ID
			if err := env.App.Team.AssignStaff(t.Context(), root, firm.ID, c.ID, staff); err != nil {
				t.Fatal(err)
			}
			return scene{key: apiKey(t, env, &firm.ID, "admin"), account: c.ID, user: staff, denied: access.DeniedNotMember,
				change: func() {
					if err := env.App.Team.UnassignStaff(t.Context(), root, firm.ID, c.ID, staff); err != nil {
						t.Fatal(err)
					}
				}}
		},
	}
	each(t, func(t *testing.T, env *apptest.Env) {
		for name, setUp := range scenes {
			t.Run(name, func(t *testing.T) {
				ctx := t.Context()
				s := setUp(t, env)
				hold := &holdLoad{next: http.DefaultTransport, fetched: make(chan struct{}), release: make(chan struct{})}
				c := newClient(t, env, s.key, client.WithHTTPClient(&http.Client{Transport: env.Transport(hold)}))
				k, err := c.NewChecker(ctx, client.CheckerOptions{StaleAfter: time.Minute})
				if err != nil {
					t.Fatal(err)
				}
				defer k.Close()
				// Once connected, the stream forgets what was loaded before:
				// wait for it, by an event applied before the load.
				applied := k.Applied()
				other := env.AddMember(t, s.account, "other-"+equipe.NewID().String()[24:]+"@acme.example", "manager", equipe.MemberActive).User.ID
				if _, err := env.App.Team.Suspend(ctx, instanceAdmin(t, env), s.account, other); err != nil {
					t.Fatal(err)
				}
				select {
				case <-applied:
				case <-time.After(10 * time.Second):
					t.Fatal("the Checker applied no event")
				}
				caughtUp := func() bool {
					p, err := c.Changes(ctx, k.Cursor(), 0)
					return err == nil && len(p.Data) == 0
				}
				testenvAwait(t, 10*time.Second, caughtUp)

				hold.armed.Store(true)
				first := make(chan error, 1)
				go func() {
					_, err := k.Check(ctx, s.account, s.user, "members.view", access.Query{})
					first <- err
				}()
				select {
				case <-hold.fetched:
				case <-time.After(10 * time.Second):
					t.Fatal("the check loaded nothing")
				}
				s.change()
				testenvAwait(t, 10*time.Second, caughtUp)
				close(hold.release)
				if err := <-first; err != nil {
					t.Fatal(err)
				}
				if d, err := k.Check(ctx, s.account, s.user, "members.view", access.Query{}); err != nil || d.Allowed || d.Reason != s.denied {
					t.Errorf("after the change, the check answers %+v %v, want %s", d, err, s.denied)
				}
			})
		}
	})
}

// holdLoad holds the first load of an account's access state asked once
// armed between its answer and its return, until release is closed.
type holdLoad struct {
	next             http.RoundTripper
	armed            atomic.Bool
	fetched, release chan struct{}
}

func (h *holdLoad) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(r.URL.Path, "/access-state") || !h.armed.CompareAndSwap(true, false) {
		return h.next.RoundTrip(r)
	}
	res, err := h.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	close(h.fetched)
	<-h.release
	return res, nil
}

// TestChecker_OfAClientsOwnKeyAsksAgainAboutTheFirmsStaff: one of a firm's
// staff acts in a client through the firm, and what the firm changes about
// them (here, their assignment to the client ends) is in the firm's log,
// which a client's own key does not read in the stream. A Checker of that
// key answers them from the service at each check, and so denies them as
// soon as the assignment ends; a Checker of the firm's key, whose stream
// carries the firm's log, holds them (one load for two checks).
func TestChecker_OfAClientsOwnKeyAsksAgainAboutTheFirmsStaff(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		ctx := t.Context()
		firm := newAccount(t, env, "cabinet")
		root := instanceAdmin(t, env)
		c, err := env.App.Team.CreateClient(ctx, root, firm.ID, team.NewAccount{Name: "boulangerie", Locale: "fr"})
		if err != nil {
			t.Fatal(err)
		}
		staff := env.AddMember(t, firm.ID, "staff@cabinet.example", "manager", equipe.MemberActive).User.ID
		if err := env.App.Team.AssignStaff(ctx, root, firm.ID, c.ID, staff); err != nil {
			t.Fatal(err)
		}
		checker := func(key string) (*client.Checker, *countLoads) {
			loads := &countLoads{next: http.DefaultTransport}
			k, err := newClient(t, env, key, client.WithHTTPClient(&http.Client{Transport: env.Transport(loads)})).
				NewChecker(ctx, client.CheckerOptions{StaleAfter: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(k.Close)
			return k, loads
		}
		own, _ := checker(apiKey(t, env, &c.ID, "admin"))
		firmKey := apiKey(t, env, &firm.ID, "admin")
		firms, firmLoads := checker(firmKey)
		allowed := func(k *client.Checker) bool {
			t.Helper()
			d, err := k.Check(ctx, c.ID, staff, "members.view", access.Query{})
			if err != nil {
				t.Fatal(err)
			}
			return d.Allowed
		}
		for _, k := range []*client.Checker{own, firms} {
			if !allowed(k) {
				t.Fatal("the assigned staff member is denied")
			}
		}
		// What the set-up wrote after the firm's Checker started (writes
		// made after their answers) is applied before the two checks that
		// must load once: an event of the firm between them would rightly
		// make the second load again.
		env.App.DB.WaitDetached()
		caughtUp(t, firms, newClient(t, env, firmKey))
		allowed(firms)
		before := firmLoads.n.Load()
		if !allowed(firms) || firmLoads.n.Load() != before {
			t.Errorf("the firm's Checker loaded its staff member %d times more, want them held", firmLoads.n.Load()-before)
		}
		if err := env.App.Team.UnassignStaff(ctx, root, firm.ID, c.ID, staff); err != nil {
			t.Fatal(err)
		}
		if allowed(own) {
			t.Error("the client's Checker allows the staff member after the firm ended their assignment")
		}
	})
}

// caughtUp waits until the Checker k has applied every event its stream
// (read through c, of the same key) holds now.
func caughtUp(t *testing.T, k *client.Checker, c *client.Client) {
	t.Helper()
	end, err := c.Changes(t.Context(), "now", 0)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := strconv.Atoi(end.NextCursor)
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		applied := k.Applied()
		if at, _ := strconv.Atoi(k.Cursor()); at >= head {
			return
		}
		select {
		case <-applied:
		case <-deadline.C:
			t.Fatalf("the Checker is at %q, the stream at %q", k.Cursor(), end.NextCursor)
		}
	}
}
