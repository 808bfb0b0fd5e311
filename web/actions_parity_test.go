package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/problem"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// The team page, the API and the use cases answer the same question — what
// may this reader do with this member — from one rule. The test of this file
// holds them to it through the running service: what the page offers on the
// member's row, what the API lists under the member's actions, and what the
// API does when asked.

// person is someone with a session: its secret serves as the page's cookie
// and as the API's bearer token.
type person struct {
	user  equipe.User
	token string
}

// parityPeople numbers the people of the parity test: an address receives
// at most a few team emails an hour, and a client address signs up at most
// a few times.
var parityPeople atomic.Int64

// signedUp signs a person up through the use case, with an account of their
// own and a session, and accepts the privacy policy for them.
func signedUp(t *testing.T, env *apptest.Env, name string) (person, equipe.ID) {
	t.Helper()
	ctx := context.Background()
	n := parityPeople.Add(1)
	o := equipe.Origin{IP: fmt.Sprintf("10.9.%d.%d", n>>8&255, n&255)}
	res, err := env.App.Identity.SignUp(ctx, identity.SignUp{Email: fmt.Sprintf("%s.%d@parity.example", name, n),
		Password: apptest.TestPassword, FirstName: name, LastName: "Parity", AccountName: "Business " + name, Locale: "en"}, o, true)
	if err != nil {
		t.Fatalf("sign up %s: %v", name, err)
	}
	p, err := env.App.Identity.CurrentPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.App.Identity.AcceptPolicy(ctx, res.User.ID, p.Version, o); err != nil {
		t.Fatal(err)
	}
	return person{res.User, res.Token}, res.Account.ID
}

// guestElsewhere returns someone who is a guest of an account of their own
// making, with a session: an identity that administers nothing.
func guestElsewhere(t *testing.T, env *apptest.Env) person {
	t.Helper()
	n := parityPeople.Add(1)
	home := equipe.Account{ID: equipe.NewID(), Name: fmt.Sprintf("Elsewhere %d", n), Locale: "en",
		InvitationTTLHours: equipe.DefaultInvitationTTLHours, CreatedAt: time.Now()}
	if err := env.App.DB.Write(context.Background(), func(tx *store.Tx) error { return tx.CreateAccount(context.Background(), &home) }); err != nil {
		t.Fatal(err)
	}
	m := env.AddMember(t, home.ID, fmt.Sprintf("target.%d@parity.example", n), "guest", equipe.MemberActive)
	return person{m.User, m.Token}
}

// paritySetting is one row's state: an account, the member read and who
// reads them.
type paritySetting struct {
	account equipe.ID
	target  person
	reader  person
}

// paritySetup builds state on a fresh account signed up by its first
// administrator, read by reader. The member read already has an identity,
// a guest elsewhere, so that even one who has not joined can read as
// themself (and, administering nothing, may be sent a password reset).
func paritySetup(t *testing.T, env *apptest.Env, reader, state string) paritySetting {
	t.Helper()
	ctx := context.Background()
	founder, account := signedUp(t, env, "founder")
	admin := team.Actor{User: &founder.user}
	s := paritySetting{account: account, target: founder}
	if state != "the only active administrator" {
		who := guestElsewhere(t, env)
		role := "manager"
		if state == "an active administrator" {
			role = "admin"
		}
		if _, err := env.App.Team.AddMember(ctx, admin, account, team.NewMember{Email: who.user.Email, FirstName: "Tess",
			LastName: "Target", Role: role, SendInvitation: state != "created"}); err != nil {
			t.Fatal(err)
		}
		if state != "created" && state != "invited" {
			auth, err := env.App.Identity.Authenticate(ctx, who.token)
			if err != nil {
				t.Fatal(err)
			}
			secret := apptest.Secret(apptest.Link(t, env.Mail(t, who.user.Email, "access_granted"), "/invitations/"))
			if _, _, err := env.App.Identity.AcceptInvitation(ctx, secret, identity.Accept{}, &auth, equipe.Origin{IP: "127.0.0.1"}); err != nil {
				t.Fatalf("join: %v", err)
			}
		}
		if state == "suspended" {
			if _, err := env.App.Team.Suspend(ctx, admin, account, who.user.ID); err != nil {
				t.Fatal(err)
			}
		}
		s.target = who
	}
	switch reader {
	case "administrator":
		s.reader = founder
	case "the member themself":
		s.reader = s.target
	default:
		m := env.AddMember(t, account, fmt.Sprintf("%s.%d@parity.example", reader, parityPeople.Add(1)), reader, equipe.MemberActive)
		s.reader = person{m.User, m.Token}
	}
	return s
}

// rowLinks are the links of the team page's rows to the actions on a member.
var rowLinks = regexp.MustCompile(`href="/accounts/[0-9a-f-]{36}/members/([0-9a-f-]{36})/(edit|invite|password-reset|revoke-invitation|reactivate|suspend|remove)"`)

// pageActions are the actions of the links' last segments.
var pageActions = map[string]string{"edit": team.MemberEdit, "invite": team.MemberInvite, "password-reset": team.MemberReset,
	"revoke-invitation": team.MemberRevoke, "reactivate": team.MemberReactivate, "suspend": team.MemberSuspend, "remove": team.MemberRemove}

// offered returns the actions the team page offers the reader on the
// member's row; none when the reader cannot open the page.
func (s paritySetting) offered(t *testing.T, env *apptest.Env) map[string]bool {
	t.Helper()
	p := get(t, as(env, apptest.Member{User: s.reader.user, Token: s.reader.token}), env.URL+"/accounts/"+s.account.String()+"/members")
	out := map[string]bool{}
	if p.Status != http.StatusOK {
		return out
	}
	i := strings.Index(p.Body, "/members/"+s.target.user.ID.String()+"/permissions\"")
	if i < 0 {
		t.Fatalf("the team page has no row for the member")
	}
	row := p.Body[strings.LastIndex(p.Body[:i], "<tr>"):]
	row = row[:strings.Index(row, "</tr>")]
	for _, m := range rowLinks.FindAllStringSubmatch(row, -1) {
		if m[1] != s.target.user.ID.String() {
			t.Errorf("the member's row links to another member's action: %s", m[0])
		}
		out[pageActions[m[2]]] = true
	}
	return out
}

// apiRoutes are the API's route for each action on a member, under the
// member's path, with a body that decides nothing by itself.
var apiRoutes = map[string]struct {
	method, path string
	body         any
}{
	team.MemberEdit:       {"PATCH", "", map[string]any{"title": "Responsable"}},
	team.MemberInvite:     {"POST", "/invitation", nil},
	team.MemberReset:      {"POST", "/password-reset", nil},
	team.MemberRevoke:     {"DELETE", "/invitation", nil},
	team.MemberReactivate: {"POST", "/reactivate", nil},
	team.MemberSuspend:    {"POST", "/suspend", nil},
	team.MemberRemove:     {"DELETE", "", nil},
}

// api sends a request to the member's path plus sub as the reader, with a
// bearer token, and returns the status and the JSON answer.
func (s paritySetting) api(t *testing.T, env *apptest.Env, method, sub string, body any) (int, map[string]any) {
	t.Helper()
	var rd bytes.Buffer
	if body != nil {
		json.NewEncoder(&rd).Encode(body)
	}
	req, err := http.NewRequest(method, env.URL+"/api/v1/accounts/"+s.account.String()+"/members/"+s.target.user.ID.String()+sub, &rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.reader.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	p := do(t, env.Client(), req)
	var out map[string]any
	if strings.HasPrefix(p.Body, "{") {
		if err := json.Unmarshal([]byte(p.Body), &out); err != nil {
			t.Fatalf("%s %s: %v", method, sub, err)
		}
	}
	return p.Status, out
}

// listed is what the API lists for an action: whether it is allowed, and
// if not, its code.
type listed struct {
	Allowed bool   `json:"allowed"`
	Code    string `json:"code"`
}

// TestActionsParity_ThePageOffersWhatTheAPIListsAndDoes: for each reader and
// each state of the member read, the team page offers exactly the actions
// the API lists as allowed — but for the member who has not joined, to
// whom the page offers the invitation rather than a password reset (both
// send the invitation) — the API lists what the use case answers, and each
// action, taken through the API on a fresh copy of the state, succeeds when
// allowed and is otherwise refused with the listed code and the status
// problem.Status gives it.
func TestActionsParity_ThePageOffersWhatTheAPIListsAndDoes(t *testing.T) {
	readers := []string{"administrator", "manager", "guest", "the member themself"}
	states := []string{"created", "invited", "active", "suspended", "an active administrator", "the only active administrator"}
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{})
			for _, reader := range readers {
				for _, state := range states {
					if reader == "administrator" && state == "the only active administrator" {
						continue // the reader would make two
					}
					t.Run(reader+"/"+state, func(t *testing.T) {
						// Each row has accounts and people of its own: rows
						// run side by side, so that their commits overlap.
						t.Parallel()
						parityRow(t, env, reader, state)
					})
				}
			}
		})
	}
}

// parityRow checks one reader and one state of the member (see
// TestActionsParity_ThePageOffersWhatTheAPIListsAndDoes).
func parityRow(t *testing.T, env *apptest.Env, reader, state string) {
	s := paritySetup(t, env, reader, state)
	// What the use case answers, with the error codes behind the keys.
	answers := map[string]*equipe.Error{}
	v, err := env.App.Team.ViewMember(context.Background(), team.Actor{User: &s.reader.user}, s.account, s.target.user.ID)
	for _, name := range team.MemberActionNames {
		switch {
		case err != nil:
			answers[name] = equipe.AsError(err)
		case !v.Actions.Get(name).OK():
			answers[name] = v.Actions.Get(name).Err
		}
	}
	// What the API lists.
	status, body := s.api(t, env, "GET", "", nil)
	lists := map[string]listed{}
	if status == http.StatusOK {
		b, _ := json.Marshal(body["actions"])
		if err := json.Unmarshal(b, &lists); err != nil {
			t.Fatal(err)
		}
		if names := slices.Sorted(maps.Keys(lists)); !slices.Equal(names, slices.Sorted(slices.Values(team.MemberActionNames))) {
			t.Fatalf("the API lists %v", names)
		}
	} else if err == nil || status != problem.StatusOf(err) || body["code"] != equipe.AsError(err).Key {
		t.Fatalf("the API answers %d %v about the member; the use case %v", status, body["code"], err)
	}
	for _, name := range team.MemberActionNames {
		if err != nil {
			break // out of the reader's reach, the API lists nothing
		}
		want := listed{Allowed: answers[name] == nil}
		if !want.Allowed {
			want.Code = answers[name].Key
		}
		if lists[name] != want {
			t.Errorf("%s: the API lists %+v, the use case answers %+v", name, lists[name], want)
		}
	}
	// What the page offers: what the API allows, but a password reset for
	// one who has not joined, who is offered the invitation.
	offered := s.offered(t, env)
	for _, name := range team.MemberActionNames {
		want := answers[name] == nil
		if name == team.MemberReset && (state == "created" || state == "invited") {
			want = false
		}
		if offered[name] != want {
			t.Errorf("%s: offered on the page %v, want %v (the use case answers %v)", name, offered[name], want, answers[name])
		}
	}
	// What the API does, each action on a copy of the state of its own.
	for _, name := range team.MemberActionNames {
		t.Run(name, func(t *testing.T) {
			s := paritySetup(t, env, reader, state)
			route := apiRoutes[name]
			status, body := s.api(t, env, route.method, route.path, route.body)
			if refusal := answers[name]; refusal == nil {
				if status < 200 || status > 299 {
					t.Errorf("allowed, answered %d %v", status, body)
				}
			} else if status != problem.Status(refusal.Code) || body["code"] != refusal.Key {
				t.Errorf("refused with %s, answered %d %v; want %d %s", refusal.Key, status, body["code"],
					problem.Status(refusal.Code), refusal.Key)
			}
		})
	}
}
