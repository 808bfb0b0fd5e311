package identity_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
	"github.com/equipe-dev/equipe/work"
)

// The tests of this file call the identity use cases directly, on SQLite and
// PostgreSQL, and read what they leave in the store: users, sessions, links,
// the outbox and the typed events. Each row builds its own people, with
// addresses and client addresses of their own, on one database per engine.

var ctx = context.Background()

// goodPassword is the password of the people of these tests.
const goodPassword = "lovelace rode the number engine"

// stage is the use cases on a fresh database of one engine, shared by the
// rows of a table.
type stage struct {
	t   *testing.T
	st  *servicetest.Stack
	raw *sql.DB // the tables as stored
}

// eachStage runs fn on a stage of each engine.
func eachStage(t *testing.T, fn func(t *testing.T, g *stage)) {
	t.Helper()
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		fn(t, &stage{t: t, st: servicetest.New(t, db, identity.Params{}), raw: storetest.Raw(t, cfg)})
	})
}

// row returns the stage for a row of a table, failing the row's test.
func (g *stage) row(t *testing.T) *stage { return &stage{t: t, st: g.st, raw: g.raw} }

// people numbers the addresses and client addresses of the rows.
var people atomic.Int64

// address returns an address no other row uses.
func address(name string) string { return fmt.Sprintf("%s.%d@example.com", name, people.Add(1)) }

// from returns a client address no other row uses: throttles count by it.
func from() equipe.Origin {
	n := people.Add(1)
	return equipe.Origin{IP: fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255), UserAgent: "test"}
}

// signedUp signs a person up at email, with an account of their own.
func (g *stage) signedUp(email string) identity.SignUpResult {
	g.t.Helper()
	res, err := g.st.Identity.SignUp(ctx, identity.SignUp{Email: email, Password: goodPassword, FirstName: "Ada",
		LastName: "Byron", AccountName: "Analytical Engines", Locale: "en"}, from(), false)
	if err != nil {
		g.t.Fatalf("sign up %s: %v", email, err)
	}
	return res
}

// verified signs a person up and verifies their address with the emailed
// link.
func (g *stage) verified(email string) equipe.User {
	g.t.Helper()
	res := g.signedUp(email)
	u, err := g.st.Identity.VerifyEmail(ctx, g.secret(email, "/verify-email/"), from())
	if err != nil {
		g.t.Fatal(err)
	}
	res.User.EmailVerifiedAt = u.EmailVerifiedAt
	return res.User
}

// invite has the account's administrator add email as a collaborator and,
// when send, invite them.
func (g *stage) invite(admin equipe.User, account equipe.ID, email string, send bool) equipe.User {
	g.t.Helper()
	a, err := g.st.Team.AddMember(ctx, team.Actor{User: &admin}, account, team.NewMember{Email: email, FirstName: "Grace",
		LastName: "Hopper", Role: "collaborator", SendInvitation: send})
	if err != nil {
		g.t.Fatalf("add %s: %v", email, err)
	}
	return a.User
}

func (g *stage) templates(to string) []string { return servicetest.Templates(g.t, g.raw, to) }

func (g *stage) secret(to, under string) string { return servicetest.Secret(g.t, g.raw, to, under) }

func (g *stage) tokens(user equipe.ID, kind equipe.TokenKind) (all, usable int) {
	return servicetest.Tokens(g.t, g.raw, user, kind)
}

// counts returns the number of rows of every table.
func (g *stage) counts() map[string]int { return storetest.Counts(g.t, g.raw) }

// unchanged fails the test unless every table holds as many rows as before,
// but for the tables named in except.
func (g *stage) unchanged(t *testing.T, before map[string]int, except ...string) {
	t.Helper()
	after := g.counts()
	for table, n := range before {
		if after[table] != n && !slices.Contains(except, table) {
			t.Errorf("%s: %d rows before, %d after", table, n, after[table])
		}
	}
}

// events returns the events f selects, oldest first, read back typed.
func (g *stage) events(f store.AuditFilter) []event.Event {
	g.t.Helper()
	f.Limit = 500
	rows, err := g.st.DB.AuditEvents(ctx, f)
	if err != nil {
		g.t.Fatal(err)
	}
	out := make([]event.Event, 0, len(rows))
	for i := len(rows) - 1; i >= 0; i-- {
		out = append(out, event.Decode(rows[i]))
	}
	return out
}

// about returns the events about subject, oldest first.
func (g *stage) about(subject string) []event.Event {
	return g.events(store.AuditFilter{TargetID: subject})
}

// types returns the types of events.
func types(es []event.Event) []event.Type {
	var out []event.Type
	for _, e := range es {
		out = append(out, e.Type)
	}
	return out
}

// wantRefusal fails the test unless err answers want.
func wantRefusal(t *testing.T, err error, want string) {
	t.Helper()
	if got := servicetest.Key(err); got != want {
		t.Fatalf("answered %q, want %q", got, want)
	}
}

// wantBy fails the test unless e is by actor, with the state after.
func wantBy(t *testing.T, e event.Event, actor event.Actor, after event.State) {
	t.Helper()
	if e.Actor.Kind != actor.Kind || !reflect.DeepEqual(e.Actor.ID, actor.ID) {
		t.Errorf("%s by %+v, want %+v", e.Type, e.Actor, actor)
	}
	if !reflect.DeepEqual(e.After, after) {
		t.Errorf("%s after: %#v, want %#v", e.Type, e.After, after)
	}
}

func TestSignUp_MakesAnAccountOrTellsTheAddressOwner(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, g *stage)
	}{
		{"a new address makes the person, their account and a verification email", func(t *testing.T, g *stage) {
			email := address("ada")
			res := g.signedUp(email)
			if got := g.templates(email); !slices.Equal(got, []string{mail.TemplateVerifyEmail}) {
				t.Errorf("emails: %v", got)
			}
			if _, usable := g.tokens(res.User.ID, equipe.TokenVerify); usable != 1 {
				t.Errorf("%d usable verification links", usable)
			}
			m, err := g.st.DB.Member(ctx, res.Account.ID, res.User.ID)
			if err != nil || m.Role != equipe.RoleAdmin || m.Status != equipe.MemberActive {
				t.Errorf("membership: %+v %v", m, err)
			}
			log, _, err := g.st.Team.AuditPage(ctx, team.Actor{User: &res.User}, res.Account.ID, team.AuditFilter{Page: equipe.Page{Limit: 10}})
			if err != nil {
				t.Fatal(err)
			}
			slices.Reverse(log)
			if got := types(log); !slices.Equal(got, []event.Type{event.AccountCreated.Type, event.MemberAdded.Type}) {
				t.Fatalf("the account's log: %v", got)
			}
			for _, e := range log {
				wantBy(t, e, event.ByUser(res.User.ID), e.After)
			}
			if a, _ := log[1].After.(event.Added); a.Email != email || a.Role != equipe.RoleAdmin || a.Status != equipe.MemberActive {
				t.Errorf("added: %+v", log[1].After)
			}
		}},
		{"an address already used is refused, and its owner told once an hour", func(t *testing.T, g *stage) {
			email := address("ada")
			g.signedUp(email)
			before := g.counts()
			other := identity.SignUp{Email: " " + strings.ToUpper(email), Password: "someone else's sentence here", FirstName: "Eve",
				LastName: "Mallory", AccountName: "Other Business", Locale: "fr"}
			_, err := g.st.Identity.SignUp(ctx, other, from(), false)
			wantRefusal(t, err, "signup.email_unavailable email=signup.email_unavailable")
			if got := g.templates(email); !slices.Equal(got, []string{mail.TemplateVerifyEmail, mail.TemplateSignupAttempt}) {
				t.Errorf("emails to the owner: %v", got)
			}
			// Only the notice and its throttle count were written: no user,
			// account, link, session or event.
			g.unchanged(t, before, "outbox", "throttles")
			_, err = g.st.Identity.SignUp(ctx, other, from(), false)
			wantRefusal(t, err, "signup.email_unavailable email=signup.email_unavailable")
			if got := g.templates(email); len(got) != 2 {
				t.Errorf("after a second attempt within the hour, emails to the owner: %v", got)
			}
		}},
		{"a password too short is refused and writes nothing", func(t *testing.T, g *stage) {
			before := g.counts()
			_, err := g.st.Identity.SignUp(ctx, identity.SignUp{Email: address("ada"), Password: "short", FirstName: "Ada",
				LastName: "Byron", AccountName: "Engines", Locale: "en"}, from(), false)
			wantRefusal(t, err, "error.fields password=password.too_short")
			g.unchanged(t, before)
		}},
		{"a client address that signed up twenty times in the hour waits, and is told where it stands", func(t *testing.T, g *stage) {
			o := from()
			// told is where the sign-up stands against the per-address
			// limit, as the RateLimit headers tell it.
			told := func(t *testing.T, us *work.Usages, left int) {
				t.Helper()
				got := us.List()
				if len(got) != 1 || got[0].Policy != "signup:ip" || got[0].Quota != 20 || got[0].Window != time.Hour ||
					got[0].Remaining != left || got[0].Reset <= 0 || got[0].Reset > time.Hour {
					t.Errorf("usages %+v, want signup:ip 20 an hour with %d left", got, left)
				}
			}
			for i := range 20 {
				uctx, us := work.WithUsages(ctx)
				if _, err := g.st.Identity.SignUp(uctx, identity.SignUp{Email: address("many"), Password: goodPassword,
					FirstName: "Ada", LastName: "Byron", AccountName: "Engines", Locale: "en"}, o, false); err != nil {
					t.Fatalf("sign-up %d: %v", i+1, err)
				}
				told(t, us, 19-i)
			}
			before := g.counts()
			uctx, us := work.WithUsages(ctx)
			_, err := g.st.Identity.SignUp(uctx, identity.SignUp{Email: address("more"), Password: goodPassword,
				FirstName: "Ada", LastName: "Byron", AccountName: "Engines", Locale: "en"}, o, false)
			wantRefusal(t, err, "error.rate_limited")
			told(t, us, 0)
			g.unchanged(t, before, "throttles")
		}},
	}
	eachStage(t, func(t *testing.T, g *stage) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { tt.run(t, g.row(t)) })
		}
	})
}

func TestLogIn_RightPasswordStartsASessionFailuresAreCountedAndWait(t *testing.T) {
	tests := []struct {
		name     string
		password string
		unknown  bool // an address nobody has
		failures int  // failed attempts first
		refusal  string
		// The events about the person the attempt writes.
		kinds []event.Type
	}{
		{name: "the right password starts a session", password: goodPassword},
		{name: "a wrong password is refused and recorded", password: "not the right sentence", refusal: "login.failed",
			kinds: []event.Type{event.UserLoginFailed.Type}},
		{name: "an unknown address is refused the same way", password: goodPassword, unknown: true, refusal: "login.failed"},
		{name: "after five failures the address waits, even with the right password", password: goodPassword, failures: 5,
			refusal: "error.rate_limited"},
	}
	eachStage(t, func(t *testing.T, g *stage) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := g.row(t)
				email := address("ada")
				u := g.signedUp(email).User
				if tt.unknown {
					email = address("nobody")
				}
				for range tt.failures {
					g.st.Identity.LogIn(ctx, email, "not the right sentence", from())
				}
				// A failure is recorded after its answer.
				g.st.DB.WaitDetached()
				failed := len(g.about(u.ID.String()))
				sessions, err := g.st.DB.Sessions(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				auth, secret, err := g.st.Identity.LogIn(ctx, email, tt.password, from())
				g.st.DB.WaitDetached()
				after, _ := g.st.DB.Sessions(ctx, u.ID)
				if tt.refusal != "" {
					wantRefusal(t, err, tt.refusal)
					if len(after) != len(sessions) {
						t.Errorf("a refused login made a session")
					}
					if got := types(g.about(u.ID.String())[failed:]); !slices.Equal(got, tt.kinds) {
						t.Errorf("events about the person: %v, want %v", got, tt.kinds)
					}
					if len(tt.kinds) > 0 {
						wantBy(t, g.about(u.ID.String())[failed], event.System, nil)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if secret == "" || len(after) != len(sessions)+1 || auth.User.ID != u.ID {
					t.Fatalf("sessions %d → %d", len(sessions), len(after))
				}
				if got, err := g.st.Identity.Authenticate(ctx, secret); err != nil || got.Session.ID != auth.Session.ID {
					t.Errorf("the session's secret: %v", err)
				}
				es := g.about(auth.Session.ID.String())
				if got := types(es); !slices.Equal(got, []event.Type{event.UserLoggedIn.Type}) {
					t.Fatalf("events about the session: %v", got)
				}
				wantBy(t, es[0], event.ByUser(u.ID), nil)
			})
		}
	})
}

func TestVerifyEmail_TheLinkVerifiesTheLoginEmailOnce(t *testing.T) {
	tests := []struct {
		name string
		// secret returns the secret to use, of the link sent to email.
		secret  func(g *stage, email string) string
		refusal string
	}{
		{name: "the link verifies the login email", secret: func(g *stage, email string) string { return g.secret(email, "/verify-email/") }},
		{name: "a link used once is used", refusal: "link.used",
			secret: func(g *stage, email string) string {
				s := g.secret(email, "/verify-email/")
				if _, err := g.st.Identity.VerifyEmail(ctx, s, from()); err != nil {
					g.t.Fatal(err)
				}
				return s
			}},
		{name: "a link replaced by a newer one is used", refusal: "link.used",
			secret: func(g *stage, email string) string {
				s := g.secret(email, "/verify-email/")
				u, err := g.st.DB.UserByEmailKey(ctx, email)
				if err != nil {
					g.t.Fatal(err)
				}
				if err := g.st.Identity.ResendVerification(ctx, u, from()); err != nil {
					g.t.Fatal(err)
				}
				return s
			}},
		{name: "an expired link", refusal: "link.expired",
			secret: func(g *stage, email string) string {
				s := g.secret(email, "/verify-email/")
				g.st.Clock.Advance(49 * time.Hour)
				return s
			}},
	}
	eachStage(t, func(t *testing.T, g *stage) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := g.row(t)
				email := address("ada")
				id := g.signedUp(email).User.ID
				secret := tt.secret(g, email)
				events := len(g.about(id.String()))
				before := g.counts()
				u, err := g.st.Identity.VerifyEmail(ctx, secret, from())
				if tt.refusal != "" {
					wantRefusal(t, err, tt.refusal)
					g.unchanged(t, before)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				stored, _ := g.st.DB.UserByID(ctx, id)
				if u.EmailVerifiedAt.IsZero() || !stored.EmailVerifiedAt.Equal(g.st.Clock.Now()) {
					t.Errorf("verified at %v, stored %v", u.EmailVerifiedAt, stored.EmailVerifiedAt)
				}
				if _, usable := g.tokens(id, equipe.TokenVerify); usable != 0 {
					t.Errorf("%d verification links still usable", usable)
				}
				es := g.about(id.String())[events:]
				if got := types(es); !slices.Equal(got, []event.Type{event.UserEmailVerified.Type}) {
					t.Fatalf("events: %v", got)
				}
				wantBy(t, es[0], event.ByUser(id), event.Address{Email: email})
			})
		}
	})
}

func TestAcceptPolicy_TheCurrentVersionIsRecordedOnce(t *testing.T) {
	tests := []struct {
		name    string
		older   bool // a newer version is published after the one accepted
		twice   bool // accepted before already
		refusal string
	}{
		{name: "the current version is recorded with its event"},
		{name: "accepting it again records nothing more", twice: true},
		{name: "a version no longer current is refused", older: true, refusal: "consent.outdated"},
	}
	eachStage(t, func(t *testing.T, g *stage) {
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := g.row(t)
				version := fmt.Sprintf("2026-%02d", i+1)
				u := g.signedUp(address("ada")).User
				publish := func(v string) {
					if err := g.st.Identity.PublishPolicy(ctx, equipe.PrivacyPolicy{Version: v, URL: "https://example.com/privacy/" + v}); err != nil {
						t.Fatal(err)
					}
				}
				publish(version)
				if tt.older {
					publish(version + "b")
				}
				if tt.twice {
					if err := g.st.Identity.AcceptPolicy(ctx, u.ID, version, from()); err != nil {
						t.Fatal(err)
					}
				}
				before := g.counts()
				err := g.st.Identity.AcceptPolicy(ctx, u.ID, version, from())
				if tt.refusal != "" || tt.twice {
					wantRefusal(t, err, tt.refusal)
					g.unchanged(t, before)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if _, needed, err := g.st.Identity.ConsentNeeded(ctx, u.ID); err != nil || needed {
					t.Errorf("consent still needed: %v %v", needed, err)
				}
				es := g.about(version)
				if got := types(es); !slices.Equal(got, []event.Type{event.PolicyPublished.Type, event.UserPolicyAccepted.Type}) {
					t.Fatalf("events about the policy: %v", got)
				}
				wantBy(t, es[1], event.ByUser(u.ID), event.Policy{Version: version})
			})
		}
	})
}

// inviting is an account whose administrator invites someone: a newcomer,
// or a person who already has an identity.
type inviting struct {
	admin   equipe.User
	account equipe.ID
	invitee equipe.User
	secret  string // the invitation link's
}

// inviteSomeone signs up an account and has its administrator invite a
// newcomer, or, when existing, someone who signed up elsewhere and verified
// their address.
func (g *stage) inviteSomeone(existing bool) inviting {
	return g.inviteNamed(existing, true)
}

// inviteNamed is inviteSomeone, the administrator typing the invitee's
// names or (named false) only their email.
func (g *stage) inviteNamed(existing, named bool) inviting {
	g.t.Helper()
	owner := g.signedUp(address("ada"))
	email := address("grace")
	if existing {
		g.verified(email)
	}
	nm := team.NewMember{Email: email, FirstName: "Grace", LastName: "Hopper", Role: "collaborator", SendInvitation: true}
	if !named {
		nm.FirstName, nm.LastName = "", ""
	}
	a, err := g.st.Team.AddMember(ctx, team.Actor{User: &owner.User}, owner.Account.ID, nm)
	if err != nil {
		g.t.Fatalf("add %s: %v", email, err)
	}
	u := a.User
	return inviting{admin: owner.User, account: owner.Account.ID, invitee: u, secret: g.secret(email, "/invitations/")}
}

// suspend has the administrator suspend the invitee.
func (g *stage) suspend(in inviting) {
	g.t.Helper()
	if _, err := g.st.Team.Suspend(ctx, team.Actor{User: &in.admin}, in.account, in.invitee.ID); err != nil {
		g.t.Fatal(err)
	}
}

func TestAcceptInvitation_TheInviteeJoinsAsThemselves(t *testing.T) {
	newcomer := identity.Accept{Password: goodPassword, FirstName: "Grace Brewster", LastName: "Murray", AcceptPrivacyPolicy: true}
	tests := []struct {
		name     string
		existing bool
		nameless bool // added by email alone
		// prepare changes the invitation, and returns the person logged in
		// (nil for nobody).
		prepare func(g *stage, in *inviting) *identity.Auth
		accept  identity.Accept
		refusal string
		// policyNext: the privacy policy was not accepted with the
		// password; it is the person's next step.
		policyNext bool
	}{
		{name: "a newcomer chooses a password and their names, joins and is logged in", accept: newcomer},
		{name: "a newcomer who leaves the policy for its own step joins and is asked for it next",
			accept: identity.Accept{Password: goodPassword, FirstName: newcomer.FirstName, LastName: newcomer.LastName}, policyNext: true,
			prepare: func(g *stage, in *inviting) *identity.Auth {
				if err := g.st.Identity.PublishPolicy(ctx, equipe.PrivacyPolicy{Version: "2026-12-" + in.account.String(),
					Texts: map[string]string{"fr": "Politique.", "en": "Policy."}}); err != nil {
					g.t.Fatal(err)
				}
				return nil
			}},
		{name: "a newcomer added by email alone must give their names", nameless: true,
			accept: identity.Accept{Password: goodPassword}, refusal: "error.fields first_name=name.required last_name=name.required"},
		{name: "a newcomer added by email alone joins under the names they give", nameless: true, accept: newcomer},
		{name: "someone with an identity joins logged in as themselves, their password untouched", existing: true,
			prepare: func(g *stage, in *inviting) *identity.Auth {
				auth, _, err := g.st.Identity.LogIn(ctx, in.invitee.Email, goodPassword, from())
				if err != nil {
					g.t.Fatal(err)
				}
				return &auth
			}},
		{name: "someone with an identity must log in first", existing: true, refusal: "invitation.login_required"},
		{name: "someone logged in as another person is refused", existing: true, refusal: "invitation.other_user",
			prepare: func(g *stage, in *inviting) *identity.Auth {
				auth, _, err := g.st.Identity.LogIn(ctx, in.admin.Email, goodPassword, from())
				if err != nil {
					g.t.Fatal(err)
				}
				return &auth
			}},
		{name: "a suspension made since the invitation holds", accept: newcomer, refusal: "invitation.member_suspended",
			prepare: func(g *stage, in *inviting) *identity.Auth {
				g.suspend(*in)
				return nil
			}},
		{name: "an identity the instance disabled joins nothing", accept: newcomer, refusal: "invitation.identity_disabled",
			prepare: func(g *stage, in *inviting) *identity.Auth {
				yes := true
				if _, err := g.st.Team.ChangeUser(ctx, team.Actor{Key: &equipe.APIKey{ID: equipe.NewID()}}, in.invitee.ID,
					team.UserChange{Disabled: &yes}); err != nil {
					g.t.Fatal(err)
				}
				return nil
			}},
		{name: "a link replaced by a newer invitation is used", accept: newcomer, refusal: "link.used",
			prepare: func(g *stage, in *inviting) *identity.Auth {
				if _, err := g.st.Team.Invite(ctx, team.Actor{User: &in.admin}, in.account, in.invitee.ID); err != nil {
					g.t.Fatal(err)
				}
				return nil
			}},
		{name: "an expired link", accept: newcomer, refusal: "link.expired",
			prepare: func(g *stage, in *inviting) *identity.Auth {
				g.st.Clock.Advance(time.Duration(equipe.DefaultInvitationTTLHours+1) * time.Hour)
				return nil
			}},
	}
	eachStage(t, func(t *testing.T, g *stage) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := g.row(t)
				in := g.inviteNamed(tt.existing, !tt.nameless)
				var current *identity.Auth
				if tt.prepare != nil {
					current = tt.prepare(g, &in)
				}
				stored, _ := g.st.DB.UserByID(ctx, in.invitee.ID)
				member, _ := g.st.DB.Member(ctx, in.account, in.invitee.ID)
				before := g.counts()
				auth, session, err := g.st.Identity.AcceptInvitation(ctx, in.secret, tt.accept, current, from())
				if tt.refusal != "" {
					wantRefusal(t, err, tt.refusal)
					g.unchanged(t, before)
					if m, _ := g.st.DB.Member(ctx, in.account, in.invitee.ID); m.Status != member.Status {
						t.Errorf("the member went from %s to %s", member.Status, m.Status)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				m, err := g.st.DB.Member(ctx, in.account, in.invitee.ID)
				if err != nil || m.Status != equipe.MemberActive || m.JoinedAt.IsZero() {
					t.Fatalf("membership after joining: %+v %v", m, err)
				}
				u, _ := g.st.DB.UserByID(ctx, in.invitee.ID)
				if u.EmailVerifiedAt.IsZero() {
					t.Error("the address the link came to is not verified")
				}
				after := g.counts()
				if tt.existing {
					if u.PasswordHash != stored.PasswordHash || u.FirstName != stored.FirstName || session != "" || after["sessions"] != before["sessions"] {
						t.Errorf("an identity changed by joining: names %q %q, new session %v", u.FirstName, u.LastName, session != "")
					}
				} else {
					if u.FirstName != newcomer.FirstName || u.LastName != newcomer.LastName || session == "" || after["sessions"] != before["sessions"]+1 {
						t.Errorf("a newcomer after joining: names %q %q, session %v", u.FirstName, u.LastName, session != "")
					}
					if _, _, err := g.st.Identity.LogIn(ctx, u.Email, goodPassword, from()); err != nil {
						t.Errorf("the newcomer logs in with their password: %v", err)
					}
				}
				if auth.User.ID != u.ID {
					t.Errorf("joined as %v", auth.User.ID)
				}
				// (The policy is the instance's: rows publish one as they need.)
				if _, needed, err := g.st.Identity.ConsentNeeded(ctx, u.ID); !tt.existing && (err != nil || needed != tt.policyNext) {
					t.Errorf("policy still to accept: %v (%v), want %v", needed, err, tt.policyNext)
				}
				if _, usable := g.tokens(u.ID, equipe.TokenInvitation); usable != 0 {
					t.Errorf("%d invitation links still usable", usable)
				}
				if got := g.templates(in.admin.Email); !slices.Contains(got, mail.TemplateInviterConfirmation) {
					t.Errorf("emails to the inviter: %v", got)
				}
				es := g.events(store.AuditFilter{AccountID: &in.account, Action: string(event.MemberJoined.Type)})
				if len(es) != 1 {
					t.Fatalf("%d member.joined events", len(es))
				}
				wantBy(t, es[0], event.ByUser(u.ID), event.Join{From: event.JoinedByLink})
			})
		}
	})
}

func TestAcceptInvitation_TwoLinksUsedAtOnceSetOneFirstPassword(t *testing.T) {
	// A newcomer invited by two accounts opens both links and sets a
	// password with each at once: one password is set, and the other
	// acceptance is told to log in, rather than replace it unseen.
	eachStage(t, func(t *testing.T, g *stage) {
		email := address("grace")
		var secrets []string
		for range 2 {
			owner := g.signedUp(address("ada"))
			g.invite(owner.User, owner.Account.ID, email, true)
			secrets = append(secrets, g.secret(email, "/invitations/"))
		}
		passwords := []string{"the first sentence of the two", "the second sentence of the two"}
		start := make(chan struct{})
		errs := make([]error, len(secrets))
		var wg sync.WaitGroup
		for i := range secrets {
			wg.Go(func() {
				<-start
				_, _, errs[i] = g.st.Identity.AcceptInvitation(ctx, secrets[i], identity.Accept{Password: passwords[i],
					AcceptPrivacyPolicy: true}, nil, from())
			})
		}
		close(start)
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch key := keyOf(err); key {
			case "":
				if won >= 0 {
					t.Fatalf("both acceptances set a first password")
				}
				won = i
			case "invitation.login_required":
			default:
				t.Errorf("acceptance %d: %v (%s)", i, err, key)
			}
		}
		if won < 0 {
			t.Fatalf("no acceptance set a password: %v", errs)
		}
		if _, _, err := g.st.Identity.LogIn(ctx, email, passwords[won], from()); err != nil {
			t.Errorf("the password set does not log in: %v", err)
		}
	})
}

func TestFirstPassword_EndsTheResetLinksSentBefore(t *testing.T) {
	// Someone added to an account has an identity without a password: a
	// reset link may go to it (seed 000 sets a first password that way).
	// Whichever way the person then sets their first password, it is a
	// password change like any other: the reset links sent before stop
	// working.
	tests := []struct {
		name string
		set  func(g *stage, in inviting) error
	}{
		{name: "accepting the invitation", set: func(g *stage, in inviting) error {
			_, _, err := g.st.Identity.AcceptInvitation(ctx, in.secret, identity.Accept{Password: goodPassword, AcceptPrivacyPolicy: true},
				nil, from())
			return err
		}},
		{name: "confirming a sign-up with the address", set: func(g *stage, in inviting) error {
			res, err := g.st.Identity.SignUp(ctx, identity.SignUp{Email: in.invitee.Email, Password: goodPassword, FirstName: "Grace",
				LastName: "Hopper", AccountName: "Compilers", Locale: "en"}, from(), false)
			if err != nil || !res.Pending {
				return fmt.Errorf("sign up: pending %v, %w", res.Pending, err)
			}
			_, err = g.st.Identity.ConfirmSignUp(ctx, g.secret(in.invitee.Email, "/signup/confirm/"), from())
			return err
		}},
	}
	eachStage(t, func(t *testing.T, g *stage) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := g.row(t)
				in := g.inviteSomeone(false)
				if err := g.st.Identity.RequestReset(ctx, in.invitee.Email, from()); err != nil {
					t.Fatal(err)
				}
				if _, err := g.st.Identity.ProcessResets(ctx); err != nil {
					t.Fatal(err)
				}
				reset := g.secret(in.invitee.Email, "/password-reset/")
				if err := tt.set(g, in); err != nil {
					t.Fatal(err)
				}
				if _, usable := g.tokens(in.invitee.ID, equipe.TokenReset); usable != 0 {
					t.Errorf("%d reset links still usable after the first password was set", usable)
				}
				_, err := g.st.Identity.ConfirmReset(ctx, reset, "another sentence entirely, to remember", from())
				wantRefusal(t, err, "link.used")
				if _, _, err := g.st.Identity.LogIn(ctx, in.invitee.Email, goodPassword, from()); err != nil {
					t.Errorf("the password set first no longer logs in: %v", err)
				}
			})
		}
	})
}

func TestJoinPending_JoinsFromTheAccountListOrSaysWhyNot(t *testing.T) {
	tests := []struct {
		name string
		// who returns the person who asks to join the account, after setting
		// things up.
		who     func(g *stage, admin equipe.User, account equipe.ID) equipe.User
		refusal string
	}{
		{name: "a verified person with a pending invitation joins",
			who: func(g *stage, admin equipe.User, account equipe.ID) equipe.User {
				u := g.verified(address("grace"))
				g.invite(admin, account, u.Email, true)
				return u
			}},
		{name: "someone who is not a member is not told of the account", refusal: "error.not_found",
			who: func(g *stage, _ equipe.User, _ equipe.ID) equipe.User { return g.verified(address("grace")) }},
		{name: "a member who joined already", refusal: "invitation.already_joined",
			who: func(g *stage, admin equipe.User, _ equipe.ID) equipe.User { return admin }},
		{name: "a suspended member", refusal: "invitation.member_suspended",
			who: func(g *stage, admin equipe.User, account equipe.ID) equipe.User {
				u := g.verified(address("grace"))
				g.invite(admin, account, u.Email, true)
				g.suspend(inviting{admin: admin, account: account, invitee: u})
				return u
			}},
		{name: "a member never invited", refusal: "invitation.none_pending",
			who: func(g *stage, admin equipe.User, account equipe.ID) equipe.User {
				u := g.verified(address("grace"))
				g.invite(admin, account, u.Email, false)
				return u
			}},
		{name: "a member whose invitation was revoked", refusal: "invitation.none_pending",
			who: func(g *stage, admin equipe.User, account equipe.ID) equipe.User {
				u := g.verified(address("grace"))
				g.invite(admin, account, u.Email, true)
				if err := g.st.Team.RevokeInvitation(ctx, team.Actor{User: &admin}, account, u.ID); err != nil {
					g.t.Fatal(err)
				}
				return u
			}},
		{name: "a newcomer, who has no password yet, joins only with the link", refusal: "invitation.none_pending",
			who: func(g *stage, admin equipe.User, account equipe.ID) equipe.User {
				return g.invite(admin, account, address("grace"), true)
			}},
		{name: "a person whose address is not verified", refusal: "invitation.email_unverified",
			who: func(g *stage, admin equipe.User, account equipe.ID) equipe.User {
				u := g.signedUp(address("grace")).User
				g.invite(admin, account, u.Email, true)
				return u
			}},
		{name: "a person whose invitations all expired", refusal: "link.expired",
			who: func(g *stage, admin equipe.User, account equipe.ID) equipe.User {
				u := g.verified(address("grace"))
				g.invite(admin, account, u.Email, true)
				g.st.Clock.Advance(time.Duration(equipe.DefaultInvitationTTLHours+1) * time.Hour)
				return u
			}},
	}
	eachStage(t, func(t *testing.T, g *stage) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := g.row(t)
				owner := g.signedUp(address("ada"))
				u := tt.who(g, owner.User, owner.Account.ID)
				before := g.counts()
				err := g.st.Identity.JoinPending(ctx, u, owner.Account.ID, from())
				if tt.refusal != "" {
					wantRefusal(t, err, tt.refusal)
					g.unchanged(t, before)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if m, err := g.st.DB.Member(ctx, owner.Account.ID, u.ID); err != nil || m.Status != equipe.MemberActive {
					t.Fatalf("membership after joining: %+v %v", m, err)
				}
				if _, usable := g.tokens(u.ID, equipe.TokenInvitation); usable != 0 {
					t.Errorf("%d invitation links still usable", usable)
				}
				if got := g.templates(owner.User.Email); !slices.Contains(got, mail.TemplateInviterConfirmation) {
					t.Errorf("emails to the inviter: %v", got)
				}
				es := g.events(store.AuditFilter{AccountID: &owner.Account.ID, Action: string(event.MemberJoined.Type)})
				if len(es) != 1 {
					t.Fatalf("%d member.joined events", len(es))
				}
				wantBy(t, es[0], event.ByUser(u.ID), event.Join{From: event.JoinedByAccountList})
			})
		}
	})
}

func TestJoin_AnIdentityWithoutNamesJoinsAndTheInviterIsToldItsAddress(t *testing.T) {
	// Seed 000: an account adds its owner by address alone, and the owner
	// sets a first password with a reset link, which asks no names. Logged
	// in, they join through the invitation link or from their account list;
	// the inviter's confirmation names them by their address, as the team
	// page does.
	tests := []struct {
		name string
		join func(g *stage, in inviting, auth identity.Auth) error
	}{
		{name: "through the link", join: func(g *stage, in inviting, auth identity.Auth) error {
			_, _, err := g.st.Identity.AcceptInvitation(ctx, in.secret, identity.Accept{}, &auth, from())
			return err
		}},
		{name: "from the account list", join: func(g *stage, in inviting, auth identity.Auth) error {
			return g.st.Identity.JoinPending(ctx, auth.User, in.account, from())
		}},
	}
	eachStage(t, func(t *testing.T, g *stage) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := g.row(t)
				in := g.inviteNamed(false, false)
				if err := g.resetPassword(in.invitee.Email); err != nil {
					t.Fatal(err)
				}
				auth, _, err := g.st.Identity.LogIn(ctx, in.invitee.Email, "a brand new sentence to remember", from())
				if err != nil {
					t.Fatal(err)
				}
				if err := tt.join(g, in, auth); err != nil {
					t.Fatalf("join: %v", err)
				}
				if m, err := g.st.DB.Member(ctx, in.account, in.invitee.ID); err != nil || m.Status != equipe.MemberActive {
					t.Fatalf("membership after joining: %+v %v", m, err)
				}
				var told bool
				for _, m := range servicetest.Mails(t, g.raw, in.admin.Email) {
					told = told || m.Template == mail.TemplateInviterConfirmation && strings.Contains(m.Text, in.invitee.Email)
				}
				if !told {
					t.Errorf("the inviter is not told, by address, that the person joined: %v", g.templates(in.admin.Email))
				}
			})
		}
	})
}

// languageChoice is an account's language and the one it chose for a
// person it adds (none: its own); French is the instance's default, so each
// has the person written to in English.
type languageChoice struct {
	name    string
	account string // the account's language
	locale  string // the language the account chose for the person's emails
}

var languageChoices = []languageChoice{
	{name: "the language the account chose for them", account: "fr", locale: "en"},
	{name: "else the account's", account: "en", locale: ""},
}

// addedWithoutLanguage signs Ada up, sets her account's language as lc says,
// and has her add Grace, a new identity without a language of its own, as
// a collaborator (with an invitation when invite): Ada's sign-up, Grace's
// address and the addition.
func (g *stage) addedWithoutLanguage(t *testing.T, lc languageChoice, invite bool) (identity.SignUpResult, string, team.Added) {
	t.Helper()
	owner := g.signedUp(address("ada"))
	if _, err := g.raw.Exec(`UPDATE accounts SET locale = $2 WHERE id = $1`, owner.Account.ID, lc.account); err != nil {
		t.Fatal(err)
	}
	email := address("grace")
	a, err := g.st.Team.AddMember(ctx, team.Actor{User: &owner.User}, owner.Account.ID, team.NewMember{Email: email,
		Role: "collaborator", Locale: lc.locale, SendInvitation: invite})
	if err != nil {
		t.Fatal(err)
	}
	return owner, email, a
}

func TestJoinPending_AnIdentityWithoutALanguageTakesTheOneItsAccountChose(t *testing.T) {
	// Seed 000: the owner of an account made for them sets a first password
	// with a reset link, logs in and joins from their account list. Their
	// identity had no language: it takes the one the account chose for them,
	// else the account's, as joining through the link does, and their later
	// emails are written in it.
	eachStage(t, func(t *testing.T, g *stage) {
		for _, tt := range languageChoices {
			t.Run(tt.name, func(t *testing.T) {
				g := g.row(t)
				owner, email, a := g.addedWithoutLanguage(t, tt, true)
				if err := g.resetPassword(email); err != nil {
					t.Fatal(err)
				}
				u, err := g.st.DB.UserByID(ctx, a.User.ID)
				if err != nil {
					t.Fatal(err)
				}
				if err := g.st.Identity.JoinPending(ctx, u, owner.Account.ID, from()); err != nil {
					t.Fatal(err)
				}
				if u, err = g.st.DB.UserByID(ctx, u.ID); err != nil || u.Locale != "en" {
					t.Fatalf("language after joining: %q (%v), want en", u.Locale, err)
				}
			})
		}
	})
}

func TestRequestReset_AnIdentityWithoutALanguageIsWrittenToInTheOneItsAccountChose(t *testing.T) {
	// An identity an account added has no language of its own until its
	// owner joins; seed 000's owner sets a first password with a reset link.
	// Its reset and "password changed" emails are in the language the
	// account chose for the person's emails, else the account's, as the
	// invitation was: not in the instance's default.
	eachStage(t, func(t *testing.T, g *stage) {
		for _, tt := range languageChoices {
			t.Run(tt.name, func(t *testing.T) {
				g := g.row(t)
				_, email, _ := g.addedWithoutLanguage(t, tt, false)
				if err := g.st.Identity.RequestReset(ctx, email, from()); err != nil {
					t.Fatal(err)
				}
				if _, err := g.st.Identity.ProcessResets(ctx); err != nil {
					t.Fatal(err)
				}
				if _, err := g.st.Identity.ConfirmReset(ctx, g.secret(email, "/password-reset/"), goodPassword, from()); err != nil {
					t.Fatal(err)
				}
				// Logged in, they change it again before joining anything.
				auth, _, err := g.st.Identity.LogIn(ctx, email, goodPassword, from())
				if err != nil {
					t.Fatal(err)
				}
				if err := g.st.Identity.ChangePassword(ctx, auth, goodPassword, "a second sentence nobody guesses", from()); err != nil {
					t.Fatal(err)
				}
				for template, n := range map[string]int{mail.TemplatePasswordReset: 1, mail.TemplatePasswordChanged: 2} {
					rows, err := g.raw.Query(`SELECT locale FROM outbox WHERE recipient = $1 AND template = $2`, email, template)
					if err != nil {
						t.Fatal(err)
					}
					var locales []string
					for rows.Next() {
						var locale string
						if err := rows.Scan(&locale); err != nil {
							t.Fatal(err)
						}
						locales = append(locales, locale)
					}
					rows.Close()
					if len(locales) != n || slices.ContainsFunc(locales, func(l string) bool { return l != "en" }) {
						t.Errorf("%s written in %q, want %d in en", template, locales, n)
					}
				}
			})
		}
	})
}

// TestRequestReset_AMalformedAddressIsRefused: only the refusal of what is
// no address; what a request for a real one sends, and when, is another
// matter.
func TestRequestReset_AMalformedAddressIsRefused(t *testing.T) {
	tests := []struct{ name, email, refusal string }{
		{"no address", "  ", "error.fields email=email.required"},
		{"no domain", "ada@", "error.fields email=email.invalid"},
		{"no at sign", "ada.example.com", "error.fields email=email.invalid"},
	}
	eachStage(t, func(t *testing.T, g *stage) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := g.row(t)
				before := g.counts()
				wantRefusal(t, g.st.Identity.RequestReset(ctx, tt.email, from()), tt.refusal)
				g.unchanged(t, before)
			})
		}
	})
}

// TestResendVerification_NothingForAConfirmedAddress: a confirmed address
// is sent no new link, and the person is told why; an unconfirmed one is.
func TestResendVerification_NothingForAConfirmedAddress(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		email := address("ada")
		waiting := g.signedUp(email).User
		if err := g.st.Identity.ResendVerification(ctx, waiting, from()); err != nil {
			t.Fatalf("a new link while the address waits: %v", err)
		}
		if all, usable := g.tokens(waiting.ID, equipe.TokenVerify); all != 2 || usable != 1 {
			t.Fatalf("links after sending again: %d, %d usable", all, usable)
		}
		u := g.verified(address("grace"))
		before := g.counts()
		err := g.st.Identity.ResendVerification(ctx, u, from())
		if e := equipe.AsError(err); e.Code != equipe.ECONFLICT || e.Key != "verify.already_verified" {
			t.Fatalf("a new link for a confirmed address: %v", err)
		}
		if after := g.counts(); !maps.Equal(before, after) {
			t.Errorf("refusing changed the tables: %v, then %v", before, after)
		}
	})
}
