package team_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/team"
	"github.com/equipe-dev/equipe/webhook"
)

// hooks is a webhook receiver on 127.0.0.1 that keeps the events it is
// sent, in their public form.
type hooks struct {
	*httptest.Server
	mu  sync.Mutex
	got []event.Public
}

func newHooks(t *testing.T) *hooks {
	h := &hooks{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m struct {
			Data struct {
				ID    equipe.ID   `json:"id"`
				Type  event.Type  `json:"type"`
				Actor event.Actor `json:"actor"`
				After struct {
					UserID *equipe.ID `json:"user_id"`
				} `json:"after"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("a message that is no event: %s", b)
		}
		e := event.Public{ID: m.Data.ID, Type: m.Data.Type, Actor: m.Data.Actor}
		if m.Data.After.UserID != nil {
			e.After = event.Staff{UserID: *m.Data.After.UserID}
		}
		h.mu.Lock()
		h.got = append(h.got, e)
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.Close)
	return h
}

// actors returns the actors of the events of type typ received, in the
// order of their IDs: deliveries arrive in any order.
func (h *hooks) actors(typ event.Type) []event.Actor {
	h.mu.Lock()
	defer h.mu.Unlock()
	var es []event.Public
	for _, e := range h.got {
		if e.Type == typ {
			es = append(es, e)
		}
	}
	slices.SortFunc(es, func(a, b event.Public) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	var out []event.Actor
	for _, e := range es {
		out = append(out, e.Actor)
	}
	return out
}

// streamActors returns the actors of the events of type typ that the key
// reads in the change stream, in order.
func streamActors(t *testing.T, s *scene, key team.Actor, typ event.Type) []event.Actor {
	t.Helper()
	page, _, err := s.s.Changes(ctx, key, team.ChangesQuery{Types: []event.Type{typ}, Limit: team.MaxChangesPage})
	if err != nil {
		t.Fatal(err)
	}
	var out []event.Actor
	for _, c := range page {
		out = append(out, c.Event.Actor)
	}
	return out
}

// TestFirmStaff_AClientsEndpointsAndStreamLearnWhatTheyDidNotWho: the
// client's own webhook endpoint and the client's own key reading the change
// stream get what the client's audit log tells its own readers: that
// someone of the firm, or the instance's support, acted, not who. The
// firm's key reads its staff by their ID, the instance by everyone's; the
// firm's own endpoint hears of its staff as before. An instance
// administrator is named to the instance only, in an account's log and in
// what an account hears of its members.
func TestFirmStaff_AClientsEndpointsAndStreamLearnWhatTheyDidNotWho(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		s.s.WebhookRules = webhook.Rules{AllowHTTPLoopback: true}
		alice, root := s.users["admin"].ID, b.instance.User.ID
		bob := s.joined("bob", "collaborator")
		c, err := s.s.CreateClient(ctx, s.admin(), s.account, team.NewAccount{Name: "Boulangerie Martin", Locale: "fr"})
		if err != nil {
			t.Fatal(err)
		}
		clientHooks, instanceHooks, firmHooks := newHooks(t), newHooks(t), newHooks(t)
		for _, ep := range []struct {
			by      team.Actor
			account *equipe.ID
			url     string
		}{{s.admin(), &c.ID, clientHooks.URL}, {b.instance, nil, instanceHooks.URL}, {s.admin(), &s.account, firmHooks.URL}} {
			if _, _, err := s.s.CreateWebhook(ctx, ep.by, ep.account, team.WebhookInput{URL: ep.url, Types: []string{"*"},
				Enabled: true}); err != nil {
				t.Fatal(err)
			}
		}
		keyOf := func(account equipe.ID) team.Actor {
			k, _, err := s.s.CreateKey(ctx, s.admin(), &account, team.NewKey{Name: "Sync", Role: "admin"})
			if err != nil {
				t.Fatal(err)
			}
			return team.Actor{Key: &k}
		}
		clientKey, firmKey, instanceKey := keyOf(c.ID), keyOf(s.account), b.instanceKey(t)

		// The firm's administrator, then the instance's, then an instance
		// key, act in the client (the firm's keys only ask about it); the
		// firm assigns bob to it, in its own log.
		for _, by := range []team.Actor{s.admin(), b.instance, instanceKey} {
			if _, err := s.s.CreateContact(ctx, by, c.ID, team.ContactInput{FirstName: "Jeanne", Email: "jeanne@compta.example",
				Kinds: []string{"billing"}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.s.AssignStaff(ctx, s.admin(), s.account, c.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		// The instance's administrator disables bob's identity, which the
		// firm hears of about its member.
		disabled := true
		if _, err := s.s.ChangeUser(ctx, b.instance, bob.ID, team.UserChange{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		w := &webhook.Worker{DB: b.st.DB, Keys: s.s.Secrets, Client: s.s.WebhookRules.Client(5*time.Second, nil),
			Now: b.st.Clock.Now, Viewer: s.s.WebhookViewer}
		for {
			n, err := w.RunOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}

		staff := event.Actor{Kind: event.ActorUser, Via: event.ViaFirm}
		support := event.Actor{Kind: event.ActorUser, Via: event.ViaInstance}
		named := func(a event.Actor, id equipe.ID) event.Actor { a.ID = &id; return a }
		// An instance key goes by its ID and the name a person gave it to
		// the instance only.
		instancesKey := event.Actor{Kind: event.ActorInstanceKey, Via: event.ViaInstance}
		keyNamed := func(a event.Actor, k team.Actor) event.Actor { a.ID, a.Name = &k.Key.ID, k.Key.Name; return a }
		typ := event.ContactCreated.Type
		unnamed := []event.Actor{staff, support, instancesKey}
		all := []event.Actor{named(staff, alice), named(support, root), keyNamed(instancesKey, instanceKey)}
		for _, tc := range []struct {
			name      string
			got, want []event.Actor
		}{
			{"the client's endpoint", clientHooks.actors(typ), unnamed},
			{"the client's key", streamActors(t, s, clientKey, typ), unnamed},
			{"the firm's key", streamActors(t, s, firmKey, typ), []event.Actor{named(staff, alice), support, instancesKey}},
			{"the instance's endpoint", instanceHooks.actors(typ), all},
			{"the instance's key", streamActors(t, s, instanceKey, typ), all},
			{"the firm's endpoint, of its member disabled", firmHooks.actors(event.UserDisabled.Type), []event.Actor{support}},
			{"the firm's key, of its member disabled", streamActors(t, s, firmKey, event.UserDisabled.Type), []event.Actor{support}},
			// In no account, nobody reaches an account through anything.
			{"the instance's endpoint, of bob disabled", instanceHooks.actors(event.UserDisabled.Type),
				[]event.Actor{named(event.Actor{Kind: event.ActorUser}, root)}},
		} {
			if !sameActors(tc.got, tc.want) {
				t.Errorf("%s receives %s, want %s", tc.name, actors(tc.got), actors(tc.want))
			}
		}

		// The firm's endpoint hears who of its staff it assigned, and who
		// did.
		firmHooks.mu.Lock()
		defer firmHooks.mu.Unlock()
		var assigned []event.Public
		for _, e := range firmHooks.got {
			if e.Type == event.ClientStaffAssigned.Type {
				assigned = append(assigned, e)
			}
		}
		if len(assigned) != 1 || !sameActors([]event.Actor{assigned[0].Actor}, []event.Actor{{Kind: event.ActorUser, ID: &alice}}) ||
			assigned[0].After != (event.Staff{UserID: bob.ID}) {
			t.Errorf("the firm's endpoint receives %+v", assigned)
		}
	})
}
