package team_test

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
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
)

// The tests of this file call the team use cases directly, on SQLite and
// PostgreSQL, and read what they leave in the store: the members, the
// outbox, the one-time links, and the typed events as the audit log reads
// them back. Each row of a table builds its own state on an account of its
// own (a scene), so that rows neither see nor depend on one another.

// password is the password of the people who join in these tests.
const password = "lovelace rode the number engine"

// origin is where the people of these tests act from.
var origin = equipe.Origin{IP: "192.0.2.1"}

// bench is the use cases on a fresh database of one engine, shared by the
// rows of a table: assembling them takes tens of milliseconds, an account a
// few.
type bench struct {
	st  *servicetest.Stack
	raw *sql.DB // the tables as stored, to count and read them
	// instance is an instance administrator: they read every account's log,
	// and are one of the readers of the rules.
	instance team.Actor
}

// eachBench runs fn on a bench of each engine.
func eachBench(t *testing.T, fn func(t *testing.T, b *bench)) {
	t.Helper()
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		st := servicetest.New(t, db, identity.Params{})
		u, err := st.Identity.CreateAdmin(ctx, identity.NewAdmin{Email: "support@vendor.example", FirstName: "Vendor",
			LastName: "Support", Locale: "en", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		fn(t, &bench{st: st, raw: storetest.Raw(t, cfg), instance: team.Actor{User: &u, IP: "192.0.2.9"}})
	})
}

// instanceKey makes an instance key, by the instance administrator, and
// returns it as an actor.
func (b *bench) instanceKey(t *testing.T) team.Actor {
	t.Helper()
	k, _, err := b.st.Team.CreateKey(ctx, b.instance, nil, team.NewKey{Name: "Vendor sync"})
	if err != nil {
		t.Fatal(err)
	}
	return team.Actor{Key: &k, IP: "192.0.2.8"}
}

// scene is the state one row builds: a fresh account (a world) whose
// founding administrator, "admin", is active.
type scene struct {
	*world
	b *bench
}

// scene makes a fresh account with its founding administrator.
func (b *bench) scene(t *testing.T) *scene {
	t.Helper()
	s := &scene{world: worldOn(t, b.st, freshDomain()), b: b}
	s.add("admin", "admin", equipe.MemberActive)
	return s
}

// admin is the founding administrator, as an actor.
func (s *scene) admin() team.Actor { return s.actor("admin") }

// product is the account's first product: the catalogue requires every
// member to hold one of the account's products.
func (s *scene) product() []equipe.ID { return []equipe.ID{s.res[2].ID} }

// added adds name through AddMember, by the founding administrator, with
// role and the first product, under the names the administrator types
// (name Added); invite sends the invitation as well.
func (s *scene) added(name, role string, invite bool) *equipe.User {
	s.t.Helper()
	return s.addedAt(s.email(name), name, role, invite)
}

// addedAt is added for the address email, which may have an identity.
func (s *scene) addedAt(email, name, role string, invite bool) *equipe.User {
	s.t.Helper()
	a, err := s.s.AddMember(ctx, s.admin(), s.account, team.NewMember{Email: email, FirstName: name,
		LastName: "Added", Role: role, Resources: s.product(), SendInvitation: invite})
	if err != nil {
		s.t.Fatalf("add %s: %v", name, err)
	}
	s.users[name] = &a.User
	return &a.User
}

// joined adds name with an invitation, and name joins with the emailed
// link, choosing a password.
func (s *scene) joined(name, role string) *equipe.User {
	s.t.Helper()
	return s.joinedAt(s.email(name), name, role)
}

// joinedAt is joined for the address email, of an identity with no
// password yet or of none.
func (s *scene) joinedAt(email, name, role string) *equipe.User {
	s.t.Helper()
	u := s.addedAt(email, name, role, true)
	auth, _, err := s.b.st.Identity.AcceptInvitation(ctx, s.secret(u.Email, "/invitations/"),
		identity.Accept{Password: password, AcceptPrivacyPolicy: true}, nil, origin)
	if err != nil {
		s.t.Fatalf("%s joins: %v", name, err)
	}
	s.users[name] = &auth.User
	return &auth.User
}

// suspended is joined, then suspended by the founding administrator.
func (s *scene) suspended(name, role string) *equipe.User { return s.suspend(s.joined(name, role)) }

// suspend has the founding administrator suspend u, and returns u.
func (s *scene) suspend(u *equipe.User) *equipe.User {
	s.t.Helper()
	if _, err := s.s.Suspend(ctx, s.admin(), s.account, u.ID); err != nil {
		s.t.Fatalf("suspend %s: %v", u.Email, err)
	}
	return u
}

// key makes an API key of the account with role, by the founding
// administrator, and returns it as an actor.
func (s *scene) key(name, role string) team.Actor {
	s.t.Helper()
	k, _, err := s.s.CreateKey(ctx, s.admin(), &s.account, team.NewKey{Name: name, Role: role})
	if err != nil {
		s.t.Fatalf("key %s: %v", name, err)
	}
	return team.Actor{Key: &k, IP: "192.0.2.7"}
}

// templates returns the templates of the emails queued to `to`, oldest first.
func (s *scene) templates(to string) []string { return servicetest.Templates(s.t, s.b.raw, to) }

// secret returns the secret of the link under path in the newest email to
// `to` that has one.
func (s *scene) secret(to, under string) string { return servicetest.Secret(s.t, s.b.raw, to, under) }

// tokens returns how many one-time links of kind the user has, and how many
// are still usable.
func (s *scene) tokens(user equipe.ID, kind equipe.TokenKind) (all, usable int) {
	return servicetest.Tokens(s.t, s.b.raw, user, kind)
}

// events returns the change events of account, oldest first, as the audit
// log reads them back.
func (s *scene) events(account equipe.ID) []event.Event {
	s.t.Helper()
	es, _, err := s.s.AuditPage(ctx, s.b.instance, account, team.AuditFilter{Page: equipe.Page{Limit: equipe.MaxPage}})
	if err != nil {
		s.t.Fatal(err)
	}
	slices.Reverse(es)
	return es
}

// member reads the user's membership of the account as stored.
func (s *scene) member(user equipe.ID) equipe.Member {
	s.t.Helper()
	m, err := s.db.Member(ctx, s.account, user)
	if err != nil {
		s.t.Fatal(err)
	}
	return m
}

// snapshot is what an action might change: the rows of every table, the
// account's log, and its members as stored.
type snapshot struct {
	counts  map[string]int
	events  int
	members []equipe.Member
}

func (s *scene) snapshot() snapshot {
	s.t.Helper()
	ms, err := s.db.Members(ctx, s.account)
	if err != nil {
		s.t.Fatal(err)
	}
	return snapshot{counts: storetest.Counts(s.t, s.b.raw), events: len(s.events(s.account)), members: ms}
}

// refused fails the test unless err is the refusal want (as key spells
// it) and nothing changed since before: as many rows in every table (no
// event, no email, no link, no throttle count), the same members.
func (s *scene) refused(t *testing.T, err error, want string, before snapshot) {
	t.Helper()
	if got := key(err); got != want {
		t.Fatalf("answered %q, want the refusal %q", got, want)
	}
	after := s.snapshot()
	if !reflect.DeepEqual(before.counts, after.counts) {
		t.Errorf("a refusal changed the rows: %v → %v", before.counts, after.counts)
	}
	if !reflect.DeepEqual(before.members, after.members) {
		t.Errorf("a refusal changed the members:\n%+v\n→\n%+v", before.members, after.members)
	}
}

// done takes the action do and reports whether it was done. With a
// refusal, it must answer that refusal and change nothing; without, it must
// succeed. before is the state it found.
func (s *scene) done(t *testing.T, refusal string, do func() error) (before snapshot, ok bool) {
	t.Helper()
	before = s.snapshot()
	err := do()
	if refusal != "" {
		s.refused(t, err, refusal, before)
		return before, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return before, true
}

// wrote returns the events of the account written since before, failing
// the test unless their types are want, in order.
func (s *scene) wrote(t *testing.T, before snapshot, want ...event.Type) []event.Event {
	t.Helper()
	es := s.events(s.account)[before.events:]
	var got []event.Type
	for _, e := range es {
		got = append(got, e.Type)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events written: %v, want %v", got, want)
	}
	return es
}

// key is servicetest.Key: the code a use case answered.
var key = servicetest.Key

// answer is key for an action's answer.
func answer(a team.Allowed) string {
	if a.OK() {
		return ""
	}
	return key(a.Err)
}

// wantEvent fails the test unless e is by actor about subject.
func wantEvent(t *testing.T, e event.Event, actor event.Actor, subject event.Subject) {
	t.Helper()
	if e.Actor.Kind != actor.Kind || !reflect.DeepEqual(e.Actor.ID, actor.ID) || e.Actor.Name != actor.Name {
		t.Errorf("%s by %+v, want %+v", e.Type, e.Actor, actor)
	}
	if e.Subject != subject {
		t.Errorf("%s about %+v, want %+v", e.Type, e.Subject, subject)
	}
}

// aboutUser is the subject of an event about the user.
func aboutUser(u *equipe.User) event.Subject {
	return event.Subject{Kind: event.SubjectUser, ID: u.ID.String()}
}

// recorded is the actor as events record it.
func recorded(a team.Actor) event.Actor {
	if a.Key != nil {
		return event.ByKey(a.Key)
	}
	return event.ByUser(a.User.ID)
}

// memberState is the state events give of a member with role and status,
// holding the first product.
func (s *scene) memberState(role string, status equipe.MemberStatus, title string) event.Member {
	return event.Member{Role: role, Status: status, Title: title, Overrides: []equipe.Override{}, Resources: s.product()}
}

// wantStates fails the test unless the event's states are before and after.
func wantStates(t *testing.T, e event.Event, before, after event.State) {
	t.Helper()
	if !reflect.DeepEqual(e.Before, before) {
		t.Errorf("%s before: %#v, want %#v", e.Type, e.Before, before)
	}
	if !reflect.DeepEqual(e.After, after) {
		t.Errorf("%s after: %#v, want %#v", e.Type, e.After, after)
	}
}

// accept uses an invitation link's secret as a newcomer who chooses a
// password.
func (s *scene) accept(secret string) error {
	_, _, err := s.b.st.Identity.AcceptInvitation(ctx, secret, identity.Accept{Password: password, AcceptPrivacyPolicy: true}, nil, origin)
	return err
}

func TestChangeMember_OneChangeIsOneTypedEventAndRefusalsChangeNothing(t *testing.T) {
	tests := []struct {
		name   string
		by     func(s *scene) team.Actor
		target string // a joined collaborator, "m", unless "admin"
		ch     team.MemberChange
		// Either the refusal, or the event and the member's state after.
		refusal string
		kind    event.Type
		after   func(s *scene) event.Member
	}{
		{name: "an administrator changes the role and the job title", by: (*scene).admin, target: "m",
			ch: team.MemberChange{Role: ptr("guest"), Title: ptr("Comptable")}, kind: event.MemberChanged.Type,
			after: func(s *scene) event.Member { return s.memberState("guest", equipe.MemberActive, "Comptable") }},
		{name: "a key's change is recorded as the key's, under its name", by: func(s *scene) team.Actor { return s.key("CRM sync", "admin") },
			target: "m", ch: team.MemberChange{Title: ptr("Caisse")}, kind: event.MemberChanged.Type,
			after: func(s *scene) event.Member { return s.memberState("collaborator", equipe.MemberActive, "Caisse") }},
		{name: "a status of suspended is recorded as a suspension", by: (*scene).admin, target: "m",
			ch: team.MemberChange{Status: ptr(equipe.MemberSuspended)}, kind: event.MemberSuspended.Type,
			after: func(s *scene) event.Member { return s.memberState("collaborator", equipe.MemberSuspended, "") }},
		{name: "resources are replaced", by: (*scene).admin, target: "m", ch: team.MemberChange{Resources: &[]equipe.ID{}},
			kind: event.MemberChanged.Type,
			after: func(s *scene) event.Member {
				st := s.memberState("collaborator", equipe.MemberActive, "")
				st.Resources = []equipe.ID{s.res[3].ID}
				return st
			}},
		{name: "a manager cannot make an administrator", by: func(s *scene) team.Actor { return s.actor("manager") }, target: "m",
			ch: team.MemberChange{Role: ptr("admin")}, refusal: "role.admin_only"},
		{name: "a manager cannot change an administrator", by: func(s *scene) team.Actor { return s.actor("manager") }, target: "admin",
			ch: team.MemberChange{Title: ptr("Patron")}, refusal: "member.outranks"},
		{name: "the only active administrator cannot step down", by: (*scene).admin, target: "admin",
			ch: team.MemberChange{Role: ptr("manager")}, refusal: "member.last_admin"},
		{name: "an administrator holds no overrides", by: (*scene).admin, target: "m",
			ch:      team.MemberChange{Role: ptr("admin"), Overrides: &[]equipe.Override{{Permission: "records.edit", Allow: true, Scope: "owned"}}},
			refusal: "error.fields overrides=member.admin_overrides"},
		{name: "a guest changes nobody", by: func(s *scene) team.Actor { return s.actor("guest") }, target: "m",
			ch: team.MemberChange{Title: ptr("Chef")}, refusal: "access.permission_required"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				s.add("manager", "manager", equipe.MemberActive)
				s.add("guest", "guest", equipe.MemberActive)
				s.joined("m", "collaborator")
				target := s.users[tt.target]
				by := tt.by(s)
				ch := tt.ch
				if ch.Resources != nil {
					// The second product for the first: a product stays assigned.
					ch.Resources = &[]equipe.ID{s.res[3].ID}
				}
				before, ok := s.done(t, tt.refusal, func() (err error) {
					_, err = s.s.ChangeMember(ctx, by, s.account, target.ID, ch)
					return err
				})
				if !ok {
					return
				}
				e := s.wrote(t, before, tt.kind)[0]
				wantEvent(t, e, recorded(by), aboutUser(target))
				wantStates(t, e, s.memberState("collaborator", equipe.MemberActive, ""), tt.after(s))
				if got := s.member(target.ID); got.Role != tt.after(s).Role || got.Status != tt.after(s).Status || got.Title != tt.after(s).Title {
					t.Errorf("stored: %s %s %q", got.Role, got.Status, got.Title)
				}
			})
		}
	})
}

func TestSuspendAndReactivate_StatusFollowsWhereTheMemberStood(t *testing.T) {
	tests := []struct {
		name   string
		target func(s *scene) *equipe.User
		by     func(s *scene) team.Actor
		do     func(s *team.Service, ctx context.Context, a team.Actor, account, user equipe.ID) (equipe.Member, error)
		// Either the refusal, or the event and the status before and after.
		refusal        string
		kind           event.Type
		before, status equipe.MemberStatus
	}{
		{name: "an active member is suspended", target: func(s *scene) *equipe.User { return s.joined("m", "manager") },
			by: (*scene).admin, do: (*team.Service).Suspend,
			kind: event.MemberSuspended.Type, before: equipe.MemberActive, status: equipe.MemberSuspended},
		{name: "a member who never joined is suspended", target: func(s *scene) *equipe.User { return s.added("m", "manager", true) },
			by: (*scene).admin, do: (*team.Service).Suspend,
			kind: event.MemberSuspended.Type, before: equipe.MemberInvited, status: equipe.MemberSuspended},
		{name: "a member already suspended is refused", target: func(s *scene) *equipe.User { return s.suspended("m", "manager") },
			by: (*scene).admin, do: (*team.Service).Suspend, refusal: "member.already_suspended"},
		{name: "the only active administrator is not suspended", target: func(s *scene) *equipe.User { return s.users["admin"] },
			by: func(s *scene) team.Actor { return s.b.instance }, do: (*team.Service).Suspend, refusal: "member.last_admin"},
		{name: "nobody suspends themselves", target: func(s *scene) *equipe.User { return s.users["manager"] },
			by: func(s *scene) team.Actor { return s.actor("manager") }, do: (*team.Service).Suspend, refusal: "member.self"},
		{name: "a manager does not suspend an administrator", target: func(s *scene) *equipe.User { return s.joined("a2", "admin") },
			by: func(s *scene) team.Actor { return s.actor("manager") }, do: (*team.Service).Suspend, refusal: "member.outranks"},
		{name: "a member who had joined is active again", target: func(s *scene) *equipe.User { return s.suspended("m", "manager") },
			by: (*scene).admin, do: (*team.Service).Reactivate,
			kind: event.MemberReactivated.Type, before: equipe.MemberSuspended, status: equipe.MemberActive},
		{name: "a member whose invitation is pending is invited again",
			target: func(s *scene) *equipe.User { return s.suspend(s.added("m", "manager", true)) },
			by:     (*scene).admin, do: (*team.Service).Reactivate,
			kind: event.MemberReactivated.Type, before: equipe.MemberSuspended, status: equipe.MemberInvited},
		{name: "a member never invited is created again",
			target: func(s *scene) *equipe.User { return s.suspend(s.added("m", "manager", false)) },
			by:     (*scene).admin, do: (*team.Service).Reactivate,
			kind: event.MemberReactivated.Type, before: equipe.MemberSuspended, status: equipe.MemberCreated},
		{name: "a member who is not suspended is refused", target: func(s *scene) *equipe.User { return s.joined("m", "manager") },
			by: (*scene).admin, do: (*team.Service).Reactivate, refusal: "member.not_suspended"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				s.add("manager", "manager", equipe.MemberActive)
				target := tt.target(s)
				by := tt.by(s)
				var m equipe.Member
				before, ok := s.done(t, tt.refusal, func() (err error) {
					m, err = tt.do(s.s, ctx, by, s.account, target.ID)
					return err
				})
				if !ok {
					return
				}
				if m.Status != tt.status || s.member(target.ID).Status != tt.status {
					t.Errorf("status %s (stored %s), want %s", m.Status, s.member(target.ID).Status, tt.status)
				}
				e := s.wrote(t, before, tt.kind)[0]
				wantEvent(t, e, recorded(by), aboutUser(target))
				wantStates(t, e, s.memberState("manager", tt.before, ""), s.memberState("manager", tt.status, ""))
			})
		}
	})
}

func TestInvite_SendsALinkRecordsItAndIsThrottled(t *testing.T) {
	ttl := time.Duration(equipe.DefaultInvitationTTLHours) * time.Hour
	tests := []struct {
		name   string
		target func(s *scene) *equipe.User
		// Either the refusal, or the email, the event and its state after.
		refusal  string
		template string
		kind     event.Type
		after    event.Invitation
		then     func(t *testing.T, s *scene, u *equipe.User, previous string)
	}{
		{name: "the first invitation", target: func(s *scene) *equipe.User { return s.added("m", "collaborator", false) },
			template: mail.TemplateInvitation, kind: event.InvitationSent.Type,
			after: event.Invitation{Status: equipe.MemberInvited, Template: event.TemplateInvitation, InvitationsSent: 1}},
		{name: "again: a reminder, and the previous link stops working", target: func(s *scene) *equipe.User { return s.added("m", "collaborator", true) },
			template: mail.TemplateReinvitation, kind: event.InvitationResent.Type,
			after: event.Invitation{Status: equipe.MemberInvited, Template: event.TemplateReinvitation, InvitationsSent: 2},
			then: func(t *testing.T, s *scene, u *equipe.User, previous string) {
				if all, usable := s.tokens(u.ID, equipe.TokenInvitation); all != 2 || usable != 1 {
					t.Errorf("invitation links: %d, %d usable; want 2, 1 usable", all, usable)
				}
				if err := s.accept(previous); key(err) != "link.used" {
					t.Errorf("the previous link: %q, want link.used", key(err))
				}
				if err := s.accept(s.secret(u.Email, "/invitations/")); err != nil {
					t.Errorf("the new link: %v", err)
				}
			}},
		{name: "someone who has a password is told they were given access",
			target: func(s *scene) *equipe.User {
				return s.addedAt(s.b.scene(s.t).joined("grace", "collaborator").Email, "grace", "collaborator", false)
			},
			template: mail.TemplateAccessGranted, kind: event.InvitationSent.Type,
			after: event.Invitation{Status: equipe.MemberInvited, Template: event.TemplateInvitation, InvitationsSent: 1}},
		{name: "an account that activates its members sends the activation email",
			target: func(s *scene) *equipe.User {
				if _, err := s.s.UpdateAccount(ctx, s.admin(), s.account, team.AccountChange{RequiresActivation: ptr(true)}); err != nil {
					s.t.Fatal(err)
				}
				return s.added("m", "collaborator", false)
			},
			template: mail.TemplateActivation, kind: event.InvitationSent.Type,
			after: event.Invitation{Status: equipe.MemberInvited, Template: event.TemplateActivation, InvitationsSent: 1}},
		{name: "a fourth email to a member within the hour waits",
			target: func(s *scene) *equipe.User {
				u := s.added("m", "collaborator", true)
				for range 2 {
					if _, err := s.s.Invite(ctx, s.admin(), s.account, u.ID); err != nil {
						s.t.Fatal(err)
					}
				}
				return u
			},
			refusal: "invite.throttled",
			then: func(t *testing.T, s *scene, u *equipe.User, _ string) {
				s.b.st.Clock.Advance(time.Hour)
				if _, err := s.s.Invite(ctx, s.admin(), s.account, u.ID); err != nil {
					t.Errorf("an hour later: %v", err)
				}
			}},
		{name: "a member who joined is refused", target: func(s *scene) *equipe.User { return s.joined("m", "collaborator") },
			refusal: "invitation.already_joined"},
		{name: "a suspended member is refused", target: func(s *scene) *equipe.User { return s.suspended("m", "collaborator") },
			refusal: "invitation.member_suspended"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				target := tt.target(s)
				previous := ""
				if _, usable := s.tokens(target.ID, equipe.TokenInvitation); usable > 0 {
					previous = s.secret(target.Email, "/invitations/")
				}
				sent := s.templates(target.Email)
				var m equipe.Member
				before, ok := s.done(t, tt.refusal, func() (err error) {
					m, err = s.s.Invite(ctx, s.admin(), s.account, target.ID)
					return err
				})
				if ok {
					if got := s.templates(target.Email); !slices.Equal(got, append(sent, tt.template)) {
						t.Errorf("emails to the member: %v, want %v then %s", got, sent, tt.template)
					}
					stored := s.member(target.ID)
					if m.Status != tt.after.Status || stored.Status != tt.after.Status || stored.InvitationsSent != tt.after.InvitationsSent {
						t.Errorf("member: %s, stored %s with %d sent", m.Status, stored.Status, stored.InvitationsSent)
					}
					e := s.wrote(t, before, tt.kind)[0]
					wantEvent(t, e, recorded(s.admin()), aboutUser(target))
					want := tt.after
					want.ExpiresAt = s.b.st.Clock.Now().Add(ttl)
					got, _ := e.After.(event.Invitation)
					if got.Status != want.Status || got.Template != want.Template || got.InvitationsSent != want.InvitationsSent ||
						!got.ExpiresAt.Equal(want.ExpiresAt) {
						t.Errorf("after: %+v, want %+v", e.After, want)
					}
				}
				if tt.then != nil {
					tt.then(t, s, target, previous)
				}
			})
		}
	})
}

// TestTogether_AReactivationWhoseInvitationIsRefusedChangesNothing
// reactivates a member added suspended and sends them their invitation in
// one unit of work, as a directory's activation does: while the account's
// invitations are throttled the invitation's refusal undoes the
// reactivation (no row, no event, no email); once the limit lifts, both
// commit.
func TestTogether_AReactivationWhoseInvitationIsRefusedChangesNothing(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		s.added("first", "collaborator", true) // the account's invitation counter exists
		a, err := s.s.AddMember(ctx, s.admin(), s.account, team.NewMember{Email: s.email("later"), Role: "collaborator",
			Resources: s.product(), Suspended: true})
		if err != nil {
			t.Fatal(err)
		}
		target := a.User
		setCount := func(n int) {
			t.Helper()
			res, err := b.raw.Exec(`UPDATE throttles SET count = $1 WHERE key = $2`, n, "invite:account:"+s.account.String())
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatal("no invitation counter for the account")
			}
		}
		activate := func() error {
			return s.s.Together(ctx, s.admin(), func(ctx context.Context) error {
				m, err := s.s.ChangeMember(ctx, s.admin(), s.account, target.ID, team.MemberChange{Status: ptr(equipe.MemberActive)})
				if err != nil {
					return err
				}
				if m.Status != equipe.MemberCreated || m.InvitationsSent != 0 {
					t.Fatalf("reactivated: %s, %d invitations", m.Status, m.InvitationsSent)
				}
				_, err = s.s.Invite(ctx, s.admin(), s.account, target.ID)
				return err
			})
		}
		setCount(200) // the account's hourly limit: the next invitation is refused
		s.done(t, "invite.throttled", activate)
		if got := s.templates(target.Email); len(got) != 0 {
			t.Errorf("emails after the refusal: %v", got)
		}
		setCount(0)
		before, _ := s.done(t, "", activate)
		s.wrote(t, before, event.MemberReactivated.Type, event.InvitationSent.Type)
		if m := s.member(target.ID); m.Status != equipe.MemberInvited || m.InvitationsSent != 1 {
			t.Errorf("member: %s, %d invitations", m.Status, m.InvitationsSent)
		}
		if got := s.templates(target.Email); !slices.Equal(got, []string{mail.TemplateInvitation}) {
			t.Errorf("emails: %v", got)
		}
	})
}

func TestRevokeInvitation_ThePendingLinkStopsWorking(t *testing.T) {
	tests := []struct {
		name    string
		target  func(s *scene) *equipe.User
		refusal string
	}{
		{name: "a pending invitation is revoked and the member is back to created",
			target: func(s *scene) *equipe.User { return s.added("m", "collaborator", true) }},
		{name: "a member never invited has nothing to revoke",
			target:  func(s *scene) *equipe.User { return s.added("m", "collaborator", false) },
			refusal: "invitation.none_pending"},
		{name: "a member who joined has nothing to revoke",
			target:  func(s *scene) *equipe.User { return s.joined("m", "collaborator") },
			refusal: "invitation.none_pending"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				target := tt.target(s)
				before, ok := s.done(t, tt.refusal, func() (err error) {
					err = s.s.RevokeInvitation(ctx, s.admin(), s.account, target.ID)
					return err
				})
				if !ok {
					return
				}
				if st := s.member(target.ID).Status; st != equipe.MemberCreated {
					t.Errorf("status %s, want created", st)
				}
				if _, usable := s.tokens(target.ID, equipe.TokenInvitation); usable != 0 {
					t.Errorf("%d invitation links still usable", usable)
				}
				e := s.wrote(t, before, event.InvitationRevoked.Type)[0]
				wantEvent(t, e, recorded(s.admin()), aboutUser(target))
				wantStates(t, e, s.memberState("collaborator", equipe.MemberInvited, ""), s.memberState("collaborator", equipe.MemberCreated, ""))
				if err := s.accept(s.secret(target.Email, "/invitations/")); key(err) != "link.used" {
					t.Errorf("the revoked link: %q, want link.used", key(err))
				}
			})
		}
	})
}

func TestAdminReset_AJoinedMemberGetsAResetLinkOthersTheirInvitation(t *testing.T) {
	tests := []struct {
		name    string
		target  func(s *scene) *equipe.User
		refusal string
		// What went out: the email, the events, whether it was the invitation.
		template   string
		kinds      []event.Type
		invitation bool
	}{
		{name: "a joined member gets a reset link at their login email", target: func(s *scene) *equipe.User { return s.joined("m", "collaborator") },
			template: mail.TemplateAdminReset, kinds: []event.Type{event.MemberPasswordResetSent.Type}},
		{name: "a member whose invitation is pending gets it again", target: func(s *scene) *equipe.User { return s.added("m", "collaborator", true) },
			template: mail.TemplateReinvitation, kinds: []event.Type{event.InvitationResent.Type}, invitation: true},
		{name: "a member never invited gets their first invitation", target: func(s *scene) *equipe.User { return s.added("m", "collaborator", false) },
			template: mail.TemplateInvitation, kinds: []event.Type{event.InvitationSent.Type}, invitation: true},
		{name: "a suspended member is refused", target: func(s *scene) *equipe.User { return s.suspended("m", "collaborator") },
			refusal: "member.suspended"},
		{name: "someone who administers another account is sent no link from this one",
			target: func(s *scene) *equipe.User {
				return s.joinedAt(s.b.scene(s.t).users["admin"].Email, "m", "collaborator")
			},
			refusal: "member.reset_admin_elsewhere"},
		{name: "a joined member whose identity the instance disabled is sent no link, which would not work",
			target: func(s *scene) *equipe.User {
				u := s.joined("m", "collaborator")
				yes := true
				if _, err := s.s.ChangeUser(ctx, team.Actor{Key: &equipe.APIKey{ID: equipe.NewID()}}, u.ID,
					team.UserChange{Disabled: &yes}); err != nil {
					s.t.Fatal(err)
				}
				v, err := s.s.ViewMember(ctx, s.admin(), s.account, u.ID)
				if err != nil || answer(v.Actions.Get(team.MemberReset)) != "member.identity_disabled" {
					s.t.Fatalf("the reset is offered: %q (%v)", answer(v.Actions.Get(team.MemberReset)), err)
				}
				return u
			},
			refusal: "member.identity_disabled"},
		{name: "a fourth reset within the hour waits",
			target: func(s *scene) *equipe.User {
				u := s.joined("m", "collaborator")
				for range 3 {
					if _, err := s.s.AdminReset(ctx, s.admin(), s.account, u.ID); err != nil {
						s.t.Fatal(err)
					}
				}
				return u
			},
			refusal: "reset.throttled"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				target := tt.target(s)
				sent := s.templates(target.Email)
				resets, _ := s.tokens(target.ID, equipe.TokenReset)
				var res team.Reset
				before, ok := s.done(t, tt.refusal, func() (err error) {
					res, err = s.s.AdminReset(ctx, s.admin(), s.account, target.ID)
					return err
				})
				if !ok {
					return
				}
				if res.Invited != tt.invitation {
					t.Errorf("Invited %v, want %v", res.Invited, tt.invitation)
				}
				if got := s.templates(target.Email); !slices.Equal(got, append(sent, tt.template)) {
					t.Errorf("emails to the member: %v, want %v then %s", got, sent, tt.template)
				}
				es := s.events(s.account)[before.events:]
				if len(es) != len(tt.kinds) || es[0].Type != tt.kinds[0] {
					t.Fatalf("events %v, want %v", es, tt.kinds)
				}
				wantEvent(t, es[0], recorded(s.admin()), aboutUser(target))
				now, _ := s.tokens(target.ID, equipe.TokenReset)
				if tt.invitation {
					if now != resets {
						t.Errorf("%d reset links made for a member who never joined", now-resets)
					}
					return
				}
				if es[0].Before != nil || es[0].After != nil {
					t.Errorf("states %v → %v, want none", es[0].Before, es[0].After)
				}
				if now != resets+1 {
					t.Fatalf("%d reset links, want %d", now, resets+1)
				}
				// The link sets a new password: the administrator never sees it.
				if _, err := s.b.st.Identity.ConfirmReset(ctx, s.secret(target.Email, "/password-reset/"), "a brand new sentence for m", origin); err != nil {
					t.Fatal(err)
				}
				if _, _, err := s.b.st.Identity.LogIn(ctx, target.Email, "a brand new sentence for m", origin); err != nil {
					t.Errorf("log in with the new password: %v", err)
				}
			})
		}
	})
}

func TestRemoveMember_TheMemberGoesTheirIdentityStays(t *testing.T) {
	tests := []struct {
		name    string
		target  func(s *scene) *equipe.User
		by      func(s *scene) team.Actor
		refusal string
		state   event.Member
		// madeKey: the member made an API key of the account, which ends
		// with their membership.
		madeKey bool
	}{
		{name: "a member whose invitation is pending is removed and the link stops working",
			target: func(s *scene) *equipe.User { return s.added("m", "manager", true) }, by: (*scene).admin,
			state: event.Member{Role: "manager", Status: equipe.MemberInvited}},
		{name: "a joined member is removed", target: func(s *scene) *equipe.User { return s.joined("m", "manager") },
			by: func(s *scene) team.Actor { return s.key("CRM sync", "manager") }, state: event.Member{Role: "manager", Status: equipe.MemberActive}},
		{name: "an administrator who made a key is removed, and the key is revoked", target: func(s *scene) *equipe.User { return s.joined("a2", "admin") },
			by: (*scene).admin, state: event.Member{Role: "admin", Status: equipe.MemberActive}, madeKey: true},
		{name: "the only active administrator stays", target: func(s *scene) *equipe.User { return s.users["admin"] },
			by: func(s *scene) team.Actor { return s.b.instance }, refusal: "member.last_admin"},
		{name: "nobody removes themselves", target: func(s *scene) *equipe.User { return s.joined("m", "manager") },
			by: func(s *scene) team.Actor { return s.actor("m") }, refusal: "member.self"},
		{name: "a manager does not remove an administrator", target: func(s *scene) *equipe.User { return s.joined("a2", "admin") },
			by: func(s *scene) team.Actor { return s.key("CRM sync", "manager") }, refusal: "member.outranks"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				target := tt.target(s)
				by := tt.by(s)
				var made equipe.APIKey
				if tt.madeKey {
					var err error
					if made, _, err = s.s.CreateKey(ctx, s.actor("a2"), &s.account, team.NewKey{Name: "Robot", Role: "guest"}); err != nil {
						t.Fatal(err)
					}
				}
				before, ok := s.done(t, tt.refusal, func() (err error) {
					err = s.s.RemoveMember(ctx, by, s.account, target.ID)
					return err
				})
				if !ok {
					return
				}
				if _, err := s.db.Member(ctx, s.account, target.ID); equipe.ErrorCode(err) != equipe.ENOTFOUND {
					t.Errorf("the membership after removal: %v", err)
				}
				if _, err := s.db.UserByID(ctx, target.ID); err != nil {
					t.Errorf("the identity after removal: %v", err)
				}
				if _, usable := s.tokens(target.ID, equipe.TokenInvitation); usable != 0 {
					t.Errorf("%d invitation links still usable", usable)
				}
				kinds := []event.Type{event.MemberRemoved.Type}
				if tt.madeKey {
					kinds = []event.Type{event.KeyRevoked.Type, event.MemberRemoved.Type}
				}
				es := s.wrote(t, before, kinds...)
				if tt.madeKey {
					wantEvent(t, es[0], recorded(by), event.Subject{Kind: event.SubjectKey, ID: made.ID.String()})
					wantStates(t, es[0], nil, event.Revocation{Reason: event.ReasonCreatorRemoved})
				}
				e := es[len(es)-1]
				wantEvent(t, e, recorded(by), aboutUser(target))
				want := s.memberState(tt.state.Role, tt.state.Status, "")
				wantStates(t, e, want, nil)
				if tt.state.Status == equipe.MemberInvited {
					if err := s.accept(s.secret(target.Email, "/invitations/")); key(err) != "link.used" {
						t.Errorf("the link of a removed member: %q, want link.used", key(err))
					}
				}
			})
		}
	})
}

func TestAddMember_TheNamesTypedStayOnTheMembership(t *testing.T) {
	tests := []struct {
		name string
		// email returns the address to add, in the scene.
		email   func(s *scene) string
		by      func(s *scene) team.Actor
		in      team.NewMember
		refusal string
		// For an address that has an identity: its names, untouched.
		existing bool
		// noProduct: the member is given no resource (else the first product).
		noProduct bool
	}{
		{name: "a new address is a new identity that holds only the address", email: func(s *scene) string { return s.email("grace") },
			by: (*scene).admin, in: team.NewMember{FirstName: "Grace", LastName: "Hopper", Role: "collaborator", SendInvitation: true}},
		{name: "an address that has an identity is added with it, its names untouched",
			email: func(s *scene) string { return s.b.scene(s.t).joined("grace", "guest").Email },
			by:    (*scene).admin, in: team.NewMember{FirstName: "G.", LastName: "Hopper", Role: "collaborator", SendInvitation: true}, existing: true},
		{name: "someone already a member is refused", email: func(s *scene) string { return s.email("admin") }, by: (*scene).admin,
			in: team.NewMember{FirstName: "Ada", LastName: "Again", Role: "collaborator"}, refusal: "member.exists"},
		{name: "a manager adds no administrator", email: func(s *scene) string { return s.email("grace") },
			by: func(s *scene) team.Actor { return s.actor("manager") },
			in: team.NewMember{FirstName: "Grace", LastName: "Hopper", Role: "admin"}, refusal: "role.admin_only"},
		{name: "a member holds one of the account's products", email: func(s *scene) string { return s.email("grace") }, by: (*scene).admin,
			in: team.NewMember{FirstName: "Grace", LastName: "Hopper", Role: "collaborator"}, noProduct: true, refusal: "member.required_resource"},
		{name: "a malformed address is refused", email: func(s *scene) string { return "grace@" }, by: (*scene).admin,
			in: team.NewMember{FirstName: "Grace", LastName: "Hopper", Role: "collaborator"}, refusal: "error.fields email=email.invalid"},
		{name: "the email alone is enough: the person gives their names when they accept", email: func(s *scene) string { return s.email("grace") },
			by: (*scene).admin, in: team.NewMember{Role: "collaborator", SendInvitation: true}},
		{name: "a name given is checked all the same", email: func(s *scene) string { return s.email("grace") }, by: (*scene).admin,
			in: team.NewMember{FirstName: "<b>", Role: "collaborator"}, refusal: "error.fields first_name=name.markup"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				s.add("manager", "manager", equipe.MemberActive)
				in := tt.in
				in.Email = tt.email(s)
				if !tt.noProduct {
					in.Resources = s.product()
				}
				var identityBefore equipe.User
				if tt.existing {
					var err error
					if identityBefore, err = s.db.UserByEmailKey(ctx, in.Email); err != nil {
						t.Fatal(err)
					}
				}
				var added team.Added
				before, ok := s.done(t, tt.refusal, func() (err error) {
					added, err = s.s.AddMember(ctx, tt.by(s), s.account, in)
					return err
				})
				if !ok {
					return
				}
				after := storetest.Counts(t, s.b.raw)
				newUsers := 1
				if tt.existing {
					newUsers = 0
				}
				if after["users"] != before.counts["users"]+newUsers || after["members"] != before.counts["members"]+1 {
					t.Errorf("users %d → %d, members %d → %d", before.counts["users"], after["users"], before.counts["members"], after["members"])
				}
				m := s.member(added.User.ID)
				if m.FirstName != in.FirstName || m.LastName != in.LastName || m.Status != equipe.MemberInvited {
					t.Errorf("membership: %q %q %s", m.FirstName, m.LastName, m.Status)
				}
				u, err := s.db.UserByID(ctx, added.User.ID)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case tt.existing && (u.FirstName != identityBefore.FirstName || u.LastName != identityBefore.LastName || u.PasswordHash != identityBefore.PasswordHash):
					t.Errorf("the identity changed: %q %q", u.FirstName, u.LastName)
				case !tt.existing && (u.FirstName != "" || u.LastName != "" || u.PasswordHash != ""):
					t.Errorf("the new identity holds more than the address: %q %q", u.FirstName, u.LastName)
				}
				// The account shows them under the names typed until they join.
				v, err := s.s.ViewMember(ctx, s.admin(), s.account, u.ID)
				if err != nil || v.User.FirstName != in.FirstName || v.User.LastName != in.LastName {
					t.Errorf("the account sees %q %q (%v)", v.User.FirstName, v.User.LastName, err)
				}
				template := mail.TemplateInvitation
				if tt.existing {
					template = mail.TemplateAccessGranted
				}
				if got := s.templates(u.Email); !slices.Contains(got, template) {
					t.Errorf("emails to them: %v, want %s", got, template)
				}
				es := s.wrote(t, before, event.MemberAdded.Type, event.InvitationSent.Type)
				wantEvent(t, es[0], recorded(s.admin()), aboutUser(&u))
				wantStates(t, es[0], nil, event.Added{Email: u.Email, Role: "collaborator", Status: equipe.MemberCreated,
					Resources: s.product()})
				if tt.existing {
					return
				}
				// Joining, they choose their own names: the typed ones were the account's.
				if _, _, err := s.b.st.Identity.AcceptInvitation(ctx, s.secret(u.Email, "/invitations/"), identity.Accept{
					Password: password, FirstName: "Grace Brewster", LastName: "Murray", AcceptPrivacyPolicy: true}, nil, origin); err != nil {
					t.Fatal(err)
				}
				if u, _ := s.db.UserByID(ctx, u.ID); u.FirstName != "Grace Brewster" || u.LastName != "Murray" {
					t.Errorf("after joining, the identity's names: %q %q", u.FirstName, u.LastName)
				}
			})
		}
	})
}

func TestRoles_CustomRolesAreCreatedChangedAndDeletedWithTheirMembersMoved(t *testing.T) {
	kiosk := team.RoleInput{Key: "kiosk", LabelFR: "Borne", LabelEN: "Kiosk", Grants: []equipe.Grant{{Permission: "records.view", Scope: "owned"}}}
	state := func(in team.RoleInput) event.Role {
		return event.Role{LabelFR: in.LabelFR, LabelEN: in.LabelEN, Grants: in.Grants, Restricted: in.Restricted}
	}
	wider := kiosk
	wider.LabelEN, wider.Grants = "Front desk", []equipe.Grant{{Permission: "records.view", Scope: "all"}}
	tests := []struct {
		name string
		// holders: how many members hold the kiosk role, made first.
		holders int
		do      func(s *scene, by team.Actor) error
		by      func(s *scene) team.Actor
		refusal string
		kind    event.Type
		before  event.State
		after   event.State
		subject string
	}{
		{name: "a role is created", by: (*scene).admin,
			do: func(s *scene, by team.Actor) error {
				in := kiosk
				in.Key = "cashier"
				_, err := s.s.CreateRole(ctx, by, s.account, in)
				return err
			},
			kind: event.RoleCreated.Type, subject: "cashier", after: state(kiosk)},
		{name: "a role is changed", by: (*scene).admin, holders: 1,
			do: func(s *scene, by team.Actor) error {
				_, err := s.s.UpdateRole(ctx, by, s.account, "kiosk", wider)
				return err
			},
			kind: event.RoleChanged.Type, subject: "kiosk", before: state(kiosk), after: state(wider)},
		{name: "a role nobody holds is deleted", by: (*scene).admin,
			do:   func(s *scene, by team.Actor) error { return s.s.DeleteRole(ctx, by, s.account, "kiosk", "") },
			kind: event.RoleDeleted.Type, subject: "kiosk", before: state(kiosk), after: event.RoleRemoval{}},
		{name: "a role held is deleted, its members moved to the replacement", by: (*scene).admin, holders: 2,
			do:   func(s *scene, by team.Actor) error { return s.s.DeleteRole(ctx, by, s.account, "kiosk", "guest") },
			kind: event.RoleDeleted.Type, subject: "kiosk", before: state(kiosk), after: event.RoleRemoval{Replacement: "guest", MembersMoved: 2}},
		{name: "a role held is not deleted without a replacement", by: (*scene).admin, holders: 1,
			do:      func(s *scene, by team.Actor) error { return s.s.DeleteRole(ctx, by, s.account, "kiosk", "") },
			refusal: "role.in_use"},
		{name: "a key that exists is not created again", by: (*scene).admin,
			do: func(s *scene, by team.Actor) error {
				_, err := s.s.CreateRole(ctx, by, s.account, kiosk)
				return err
			},
			refusal: "error.fields key=role.exists"},
		{name: "a built-in role is not changed", by: (*scene).admin,
			do: func(s *scene, by team.Actor) error {
				_, err := s.s.UpdateRole(ctx, by, s.account, "manager", wider)
				return err
			},
			refusal: "role.builtin_readonly"},
		{name: "a manager does not manage roles", by: func(s *scene) team.Actor { return s.actor("manager") },
			do: func(s *scene, by team.Actor) error { return s.s.DeleteRole(ctx, by, s.account, "kiosk", "guest") }, refusal: "access.permission_required"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				s.add("manager", "manager", equipe.MemberActive)
				if _, err := s.s.CreateRole(ctx, s.admin(), s.account, kiosk); err != nil {
					t.Fatal(err)
				}
				var holders []*equipe.User
				for i := range tt.holders {
					holders = append(holders, s.added(string(rune('p'+i)), "kiosk", false))
				}
				by := tt.by(s)
				before, ok := s.done(t, tt.refusal, func() (err error) {
					err = tt.do(s, by)
					return err
				})
				if !ok {
					return
				}
				e := s.wrote(t, before, tt.kind)[0]
				wantEvent(t, e, recorded(by), event.Subject{Kind: event.SubjectRole, ID: tt.subject})
				wantStates(t, e, tt.before, tt.after)
				if removal, ok := tt.after.(event.RoleRemoval); ok {
					for _, h := range holders {
						if r := s.member(h.ID).Role; r != removal.Replacement {
							t.Errorf("a member of the deleted role now holds %q, want %q", r, removal.Replacement)
						}
					}
				}
			})
		}
	})
}

func TestContacts_ChangesAreRecordedAndRefusalsChangeNothing(t *testing.T) {
	billing := team.ContactInput{FirstName: "Paul", LastName: "Compta", Email: "compta@client.example", Kinds: []string{"billing"}}
	state := func(in team.ContactInput) event.Contact {
		return event.Contact{FirstName: in.FirstName, LastName: in.LastName, Email: in.Email, Phone: in.Phone, Kinds: in.Kinds}
	}
	phoned := billing
	phoned.Phone, phoned.Kinds = "+33 1 23 45 67 89", []string{"billing", "technical"}
	tests := []struct {
		name    string
		by      func(s *scene) team.Actor
		do      func(s *scene, by team.Actor, id equipe.ID) (equipe.ID, error)
		refusal string
		kind    event.Type
		before  event.State
		after   event.State
	}{
		{name: "a contact is created", by: (*scene).admin,
			do: func(s *scene, by team.Actor, _ equipe.ID) (equipe.ID, error) {
				c, err := s.s.CreateContact(ctx, by, s.account, billing)
				return c.ID, err
			},
			kind: event.ContactCreated.Type, after: state(billing)},
		{name: "a contact is changed", by: (*scene).admin,
			do: func(s *scene, by team.Actor, id equipe.ID) (equipe.ID, error) {
				_, err := s.s.UpdateContact(ctx, by, s.account, id, team.ContactChange{Phone: &phoned.Phone, Kinds: &phoned.Kinds})
				return id, err
			},
			kind: event.ContactChanged.Type, before: state(billing), after: state(phoned)},
		{name: "a contact is deleted", by: func(s *scene) team.Actor { return s.actor("manager") },
			do: func(s *scene, by team.Actor, id equipe.ID) (equipe.ID, error) {
				return id, s.s.DeleteContact(ctx, by, s.account, id)
			},
			kind: event.ContactDeleted.Type, before: state(billing)},
		{name: "a contact no one can reach is refused", by: (*scene).admin,
			do: func(s *scene, by team.Actor, _ equipe.ID) (equipe.ID, error) {
				_, err := s.s.CreateContact(ctx, by, s.account, team.ContactInput{LastName: "Nobody", Kinds: []string{"other"}})
				return equipe.ID{}, err
			},
			refusal: "error.fields email=contact.reachable"},
		{name: "a guest does not manage contacts", by: func(s *scene) team.Actor { return s.actor("guest") },
			do: func(s *scene, by team.Actor, id equipe.ID) (equipe.ID, error) {
				return id, s.s.DeleteContact(ctx, by, s.account, id)
			},
			refusal: "access.permission_required"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				s.add("manager", "manager", equipe.MemberActive)
				s.add("guest", "guest", equipe.MemberActive)
				existing, err := s.s.CreateContact(ctx, s.admin(), s.account, billing)
				if err != nil {
					t.Fatal(err)
				}
				by := tt.by(s)
				var id equipe.ID
				before, ok := s.done(t, tt.refusal, func() (err error) {
					id, err = tt.do(s, by, existing.ID)
					return err
				})
				if !ok {
					return
				}
				e := s.wrote(t, before, tt.kind)[0]
				wantEvent(t, e, recorded(by), event.Subject{Kind: event.SubjectContact, ID: id.String()})
				wantStates(t, e, tt.before, tt.after)
			})
		}
	})
}

// TestContacts_APhoneIsPlausible: a phone number in any of the usual
// national and international forms is taken; punctuation with too few digits
// to call is refused beside the phone, on creation as on a change, and so a
// contact with nothing else to reach them by is not taken.
func TestContacts_APhoneIsPlausible(t *testing.T) {
	tests := []struct {
		phone   string
		refusal string
	}{
		{phone: "+33 1 23 45 67 89"},
		{phone: "06 00 00 00 00"},
		{phone: "+1 (555) 123-4567"},
		{phone: "+44 20.7946.0958"},
		{phone: "0800/123 456"},
		{phone: "4002"},
		{phone: "---", refusal: "error.fields phone=contact.phone_digits"},
		{phone: "()", refusal: "error.fields phone=contact.phone_digits"},
		{phone: "+", refusal: "error.fields phone=contact.phone_digits"},
		{phone: "+33", refusal: "error.fields phone=contact.phone_digits"},
		{phone: "(1) 2-3", refusal: "error.fields phone=contact.phone_digits"},
		{phone: "call me maybe", refusal: "error.fields phone=contact.phone_invalid"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		reachable, err := s.s.CreateContact(ctx, s.admin(), s.account, team.ContactInput{LastName: "Compta", Phone: "+33 1 23 45 67 89",
			Kinds: []string{"billing"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			t.Run(tt.phone, func(t *testing.T) {
				_, err := s.s.CreateContact(ctx, s.admin(), s.account, team.ContactInput{LastName: "Standard", Phone: tt.phone,
					Kinds: []string{"other"}})
				if got := key(err); got != tt.refusal {
					t.Errorf("created: %q, want %q", got, tt.refusal)
				}
				phone := tt.phone
				_, err = s.s.UpdateContact(ctx, s.admin(), s.account, reachable.ID, team.ContactChange{Phone: &phone})
				if got := key(err); got != tt.refusal {
					t.Errorf("changed: %q, want %q", got, tt.refusal)
				}
			})
		}
	})
}

// TestNoChange_WritesNothingAndAnswersWhatIsThere: a change to a contact,
// the account's settings or a role that leaves it as it was (nothing given,
// the same values, lists in another order) succeeds, answers it as it was,
// updated time included, and writes nothing: no row, no event.
func TestNoChange_WritesNothingAndAnswersWhatIsThere(t *testing.T) {
	billing := team.ContactInput{FirstName: "Paul", LastName: "Compta", Email: "compta@client.example", Phone: "+33 1 23 45 67 89",
		Kinds: []string{"billing", "technical"}}
	kiosk := team.RoleInput{Key: "kiosk", LabelFR: "Borne", LabelEN: "Kiosk", Grants: []equipe.Grant{
		{Permission: "records.view", Scope: "owned"}, {Permission: "members.view"}}}
	same := func(v string) *string { return &v }
	contact := func(ch team.ContactChange) func(s *scene, c equipe.Contact) (any, any, error) {
		return func(s *scene, c equipe.Contact) (any, any, error) {
			was, err := s.db.Contact(ctx, s.account, c.ID)
			if err != nil {
				return nil, nil, err
			}
			got, err := s.s.UpdateContact(ctx, s.admin(), s.account, c.ID, ch)
			return was, got, err
		}
	}
	tests := []struct {
		name string
		// do makes the change; it returns the thing as it was, and as the
		// change answers it.
		do func(s *scene, c equipe.Contact) (before, after any, err error)
	}{
		{"a contact, nothing given", contact(team.ContactChange{})},
		{"a contact, its own first name", contact(team.ContactChange{FirstName: same("Paul")})},
		{"a contact, its own email spaced out", contact(team.ContactChange{Email: same("  compta@client.example ")})},
		{"a contact, its kinds in another order", contact(team.ContactChange{Kinds: &[]string{"technical", "billing"}})},
		{"a contact, its form saved as it was", contact(billing.Replace())},
		{"the account, its own name and language", func(s *scene, _ equipe.Contact) (any, any, error) {
			a, err := s.s.Account(ctx, s.admin(), s.account)
			if err != nil {
				return nil, nil, err
			}
			got, err := s.s.UpdateAccount(ctx, s.admin(), s.account, team.AccountChange{Name: same(" " + a.Name), Locale: &a.Locale,
				TimeZone: same(""), SCIMEnabled: &a.SCIMEnabled})
			return a, got, err
		}},
		{"a role, its own labels and grants in another order", func(s *scene, _ equipe.Contact) (any, any, error) {
			cur, err := s.db.Role(ctx, s.account, "kiosk")
			if err != nil {
				return nil, nil, err
			}
			in := kiosk
			in.Key, in.Grants = "", []equipe.Grant{kiosk.Grants[1], kiosk.Grants[0]}
			got, err := s.s.UpdateRole(ctx, s.admin(), s.account, "kiosk", in)
			return cur, got, err
		}},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				c, err := s.s.CreateContact(ctx, s.admin(), s.account, billing)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.s.CreateRole(ctx, s.admin(), s.account, kiosk); err != nil {
					t.Fatal(err)
				}
				b.st.Clock.Advance(time.Minute)
				var was, got any
				before, _ := s.done(t, "", func() (err error) {
					was, got, err = tt.do(s, c)
					return err
				})
				s.wrote(t, before)
				if after := s.snapshot(); !reflect.DeepEqual(before.counts, after.counts) {
					t.Errorf("the rows changed: %v → %v", before.counts, after.counts)
				}
				if !reflect.DeepEqual(got, was) {
					t.Errorf("answered\n%+v\nwant it as it was\n%+v", got, was)
				}
			})
		}
	})
}

func TestClients_StaffAndDetachmentAreRecordedInTheFirmsLog(t *testing.T) {
	// client makes a client account of the firm; an owner, when named,
	// is invited as its administrator, and joins when asked.
	client := func(s *scene, owner string, joins bool) equipe.ID {
		s.t.Helper()
		in := team.NewAccount{Name: "Boulangerie Martin", Locale: "fr"}
		if owner != "" {
			in.OwnerEmail, in.OwnerFirstName, in.OwnerLastName = s.email(owner), "Marie", "Martin"
		}
		c, err := s.s.CreateClient(ctx, s.admin(), s.account, in)
		if err != nil {
			s.t.Fatal(err)
		}
		if joins {
			if err := s.accept(s.secret(s.email(owner), "/invitations/")); err != nil {
				s.t.Fatal(err)
			}
		}
		return c.ID
	}
	tests := []struct {
		name string
		// do acts on the client c about staff: the firm's member "m", or
		// someone outside the firm when outsider is set.
		do       func(s *scene, c, staff equipe.ID) error
		owner    string
		joins    bool
		assigned bool // "m" is assigned to the client first
		outsider bool
		refusal  string
		then     func(t *testing.T, s *scene, c equipe.ID, before snapshot)
	}{
		{name: "a client created under the firm has its creation in its own log and the firm's",
			do: func(s *scene, _, _ equipe.ID) error { return nil },
			then: func(t *testing.T, s *scene, c equipe.ID, _ snapshot) {
				a, err := s.db.AccountByID(ctx, c)
				if err != nil || a.ParentID == nil || *a.ParentID != s.account {
					t.Fatalf("the client's firm: %v %v", a.ParentID, err)
				}
				var inFirm []event.Event
				for _, e := range s.events(s.account) {
					if e.Type == event.AccountCreated.Type && e.Subject.ID == c.String() {
						inFirm = append(inFirm, e)
					}
				}
				es := s.events(c)
				if len(es) == 0 || es[0].Type != event.AccountCreated.Type || len(inFirm) != 1 {
					t.Fatalf("the client's log: %v; the firm's creations of it: %v", es, inFirm)
				}
				for _, e := range []event.Event{es[0], inFirm[0]} {
					wantEvent(t, e, recorded(s.admin()), event.Subject{Kind: event.SubjectAccount, ID: c.String()})
					if na, _ := e.After.(event.NewAccount); na.Name != "Boulangerie Martin" || na.ParentID == nil || *na.ParentID != s.account {
						t.Errorf("the new account: %+v", e.After)
					}
				}
			}},
		{name: "a firm member is assigned to the client and reaches it",
			do: func(s *scene, c, staff equipe.ID) error { return s.s.AssignStaff(ctx, s.admin(), s.account, c, staff) },
			then: func(t *testing.T, s *scene, c equipe.ID, before snapshot) {
				e := s.wrote(t, before, event.ClientStaffAssigned.Type)[0]
				wantEvent(t, e, recorded(s.admin()), event.Subject{Kind: event.SubjectAccount, ID: c.String()})
				wantStates(t, e, nil, event.Staff{UserID: s.users["m"].ID})
				if _, err := s.s.Account(ctx, s.actor("m"), c); err != nil {
					t.Errorf("the assigned member reaches the client: %v", err)
				}
			}},
		{name: "a firm member is unassigned and reaches it no more", assigned: true,
			do: func(s *scene, c, staff equipe.ID) error {
				return s.s.UnassignStaff(ctx, s.admin(), s.account, c, staff)
			},
			then: func(t *testing.T, s *scene, c equipe.ID, before snapshot) {
				e := s.wrote(t, before, event.ClientStaffUnassigned.Type)[0]
				wantStates(t, e, event.Staff{UserID: s.users["m"].ID}, nil)
				if _, err := s.s.Account(ctx, s.actor("m"), c); key(err) != "error.not_found" {
					t.Errorf("the unassigned member and the client: %q", key(err))
				}
			}},
		{name: "a firm member assigned again stays assigned, and nothing is recorded", assigned: true,
			do: func(s *scene, c, staff equipe.ID) error { return s.s.AssignStaff(ctx, s.admin(), s.account, c, staff) },
			then: func(t *testing.T, s *scene, c equipe.ID, before snapshot) {
				s.wrote(t, before)
				if after := s.snapshot(); !reflect.DeepEqual(before.counts, after.counts) {
					t.Errorf("assigning again changed the rows: %v → %v", before.counts, after.counts)
				}
				if ok, err := s.db.IsClientStaff(ctx, c, s.users["m"].ID); !ok || err != nil {
					t.Errorf("the member is no longer assigned: %v %v", ok, err)
				}
			}},
		{name: "someone outside the firm is not assigned", outsider: true,
			do:      func(s *scene, c, staff equipe.ID) error { return s.s.AssignStaff(ctx, s.admin(), s.account, c, staff) },
			refusal: "error.fields user_id=client.staff_not_member"},
		{name: "a client with an administrator of its own is detached, and the firm's keys there end", owner: "marie", joins: true, assigned: true,
			do: func(s *scene, c, _ equipe.ID) error { return s.s.DetachClient(ctx, s.admin(), s.account, c) },
			then: func(t *testing.T, s *scene, c equipe.ID, before snapshot) {
				e := s.wrote(t, before, event.ClientDetached.Type)[0]
				wantEvent(t, e, recorded(s.admin()), event.Subject{Kind: event.SubjectAccount, ID: c.String()})
				wantStates(t, e, event.Detachment{ParentID: s.account}, nil)
				var own []event.Type
				for _, e := range s.events(c) {
					own = append(own, e.Type)
				}
				if n := len(own); n < 2 || own[n-2] != event.KeyRevoked.Type || own[n-1] != event.ClientDetached.Type {
					t.Errorf("the client's log ends with %v, want the key's revocation and the detachment", own)
				}
				if a, _ := s.db.AccountByID(ctx, c); a.ParentID != nil {
					t.Errorf("still a client of %v", a.ParentID)
				}
				for _, who := range []string{"admin", "m"} {
					if _, err := s.s.Account(ctx, s.actor(who), c); key(err) != "error.not_found" {
						t.Errorf("the firm's %s and the detached client: %q", who, key(err))
					}
				}
			}},
		{name: "a client whose owner has not joined stays", owner: "marie",
			do: func(s *scene, c, _ equipe.ID) error { return s.s.DetachClient(ctx, s.admin(), s.account, c) }, refusal: "client.owner_pending"},
		{name: "a client with no administrator of its own stays",
			do: func(s *scene, c, _ equipe.ID) error { return s.s.DetachClient(ctx, s.admin(), s.account, c) }, refusal: "client.no_admin"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				staff := s.joined("m", "collaborator").ID
				c := client(s, tt.owner, tt.joins)
				if tt.assigned {
					if err := s.s.AssignStaff(ctx, s.admin(), s.account, c, staff); err != nil {
						t.Fatal(err)
					}
				}
				if tt.outsider {
					staff = b.scene(t).users["admin"].ID
				}
				// A key the firm's administrator makes in the client.
				if _, _, err := s.s.CreateKey(ctx, s.admin(), &c, team.NewKey{Name: "Caisse", Role: "manager"}); err != nil {
					t.Fatal(err)
				}
				before, ok := s.done(t, tt.refusal, func() (err error) {
					err = tt.do(s, c, staff)
					return err
				})
				if !ok {
					return
				}
				tt.then(t, s, c, before)
			})
		}
	})
}

// TestClients_AssignmentsAnotherChangeMakesOrEndsAreRecorded: a firm's
// member who creates a client and is assigned to it, a member who leaves the
// firm and a person whose identity is erased each change who reaches which
// client: each assignment made or ended is its own event in the firm's log,
// written with the change, saying why when nobody chose it.
func TestClients_AssignmentsAnotherChangeMakesOrEndsAreRecorded(t *testing.T) {
	portfolio := team.RoleInput{Key: "portfolio", LabelFR: "Portefeuille", LabelEN: "Portfolio",
		Grants: []equipe.Grant{{Permission: "subaccounts.manage"}, {Permission: "members.view"}}}
	// firm makes the firm: "m" holds the portfolio role, which manages
	// clients without administering the firm; "m" is assigned to the two
	// clients it returns, and to one of another firm.
	firm := func(t *testing.T, b *bench) (s *scene, m equipe.ID, clients []equipe.ID) {
		s = b.scene(t)
		if _, err := s.s.CreateRole(ctx, s.admin(), s.account, portfolio); err != nil {
			t.Fatal(err)
		}
		m = s.joined("m", "portfolio").ID
		for _, name := range []string{"Boulangerie Martin", "Garage Durand"} {
			c, err := s.s.CreateClient(ctx, s.admin(), s.account, team.NewAccount{Name: name, Locale: "fr"})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.s.AssignStaff(ctx, s.admin(), s.account, c.ID, m); err != nil {
				t.Fatal(err)
			}
			clients = append(clients, c.ID)
		}
		return s, m, clients
	}
	// unassigned returns the client.staff_unassigned events of the
	// firm's log written since before, by client.
	unassigned := func(t *testing.T, s *scene, before snapshot) map[string]event.Event {
		out := map[string]event.Event{}
		for _, e := range s.events(s.account)[before.events:] {
			if e.Type == event.ClientStaffUnassigned.Type {
				out[e.Subject.ID] = e
			}
		}
		return out
	}
	eachBench(t, func(t *testing.T, b *bench) {
		t.Run("a member who is no administrator creates a client and is assigned to it", func(t *testing.T) {
			s, m, _ := firm(t, b)
			before := s.snapshot()
			c, err := s.s.CreateClient(ctx, s.actor("m"), s.account, team.NewAccount{Name: "Fleuriste Rose", Locale: "fr"})
			if err != nil {
				t.Fatal(err)
			}
			es := s.wrote(t, before, event.AccountCreated.Type, event.ClientStaffAssigned.Type)
			for _, e := range es {
				wantEvent(t, e, recorded(s.actor("m")), event.Subject{Kind: event.SubjectAccount, ID: c.ID.String()})
			}
			wantStates(t, es[1], nil, event.Staff{UserID: m})
			if ok, err := s.db.IsClientStaff(ctx, c.ID, m); !ok || err != nil {
				t.Errorf("the creator is assigned: %v %v", ok, err)
			}
		})
		t.Run("a member who leaves the firm leaves each client, on the record", func(t *testing.T) {
			s, m, clients := firm(t, b)
			other, _, elsewhere := firm(t, b)
			if _, err := other.s.AddMember(ctx, other.admin(), other.account, team.NewMember{Email: s.email("m"), Role: "portfolio",
				Resources: other.product()}); err != nil {
				t.Fatal(err)
			}
			if err := other.s.AssignStaff(ctx, other.admin(), other.account, elsewhere[0], m); err != nil {
				t.Fatal(err)
			}
			before := s.snapshot()
			if err := s.s.RemoveMember(ctx, s.admin(), s.account, m); err != nil {
				t.Fatal(err)
			}
			es := s.wrote(t, before, event.ClientStaffUnassigned.Type, event.ClientStaffUnassigned.Type, event.MemberRemoved.Type)
			got := unassigned(t, s, before)
			for _, c := range clients {
				e, ok := got[c.String()]
				if !ok {
					t.Errorf("no unassignment from %v among %v", c, es)
					continue
				}
				wantEvent(t, e, recorded(s.admin()), event.Subject{Kind: event.SubjectAccount, ID: c.String()})
				wantStates(t, e, event.Staff{UserID: m, Reason: event.ReasonStaffRemoved}, nil)
				if ok, err := s.db.IsClientStaff(ctx, c, m); ok || err != nil {
					t.Errorf("still assigned to %v: %v", c, err)
				}
			}
			// The other firm's client is none of this firm's business.
			if ok, err := s.db.IsClientStaff(ctx, elsewhere[0], m); !ok || err != nil {
				t.Errorf("the assignment in the other firm ended: %v", err)
			}
		})
		t.Run("a person whose identity is erased leaves each client, on the record", func(t *testing.T) {
			s, m, clients := firm(t, b)
			before := s.snapshot()
			d, err := b.st.Identity.DeleteUser(ctx, *b.instance.User, m, "", origin)
			if err != nil {
				t.Fatal(err)
			}
			s.wrote(t, before, event.ClientStaffUnassigned.Type, event.ClientStaffUnassigned.Type, event.MemberRemoved.Type)
			got := unassigned(t, s, before)
			for _, c := range clients {
				e, ok := got[c.String()]
				if !ok {
					t.Errorf("no unassignment from %v", c)
					continue
				}
				wantEvent(t, e, recorded(b.instance), event.Subject{Kind: event.SubjectAccount, ID: c.String()})
				// Named by the pseudonym, as every event about them.
				wantStates(t, e, event.Staff{UserID: d.Pseudonym, Reason: event.ReasonStaffDeleted}, nil)
			}
		})
	})
}

func TestKeys_CreatedRevokedOnceAndNeverShown(t *testing.T) {
	tests := []struct {
		name string
		by   func(s *scene) team.Actor
		// revoked: the account's key is revoked first.
		revoked bool
		// do acts on the account's key k; a new key comes back with its secret.
		do      func(s *scene, by team.Actor, k equipe.APIKey) (equipe.APIKey, string, error)
		refusal string
		kind    event.Type
		after   event.State
	}{
		{name: "a key is created, its secret returned once", by: (*scene).admin,
			do: func(s *scene, by team.Actor, _ equipe.APIKey) (equipe.APIKey, string, error) {
				return s.s.CreateKey(ctx, by, &s.account, team.NewKey{Name: "Caisse", Role: "guest"})
			},
			kind: event.KeyCreated.Type, after: event.Key{Name: "Caisse", Role: "guest"}},
		{name: "a key is revoked and opens nothing", by: (*scene).admin,
			do: func(s *scene, by team.Actor, k equipe.APIKey) (equipe.APIKey, string, error) {
				return k, "", s.s.RevokeKey(ctx, by, &s.account, k.ID)
			},
			kind: event.KeyRevoked.Type, after: event.Revocation{}},
		{name: "a key revoked twice answers that it is revoked already", by: (*scene).admin, revoked: true,
			do: func(s *scene, by team.Actor, k equipe.APIKey) (equipe.APIKey, string, error) {
				return k, "", s.s.RevokeKey(ctx, by, &s.account, k.ID)
			},
			refusal: "api_key.already_revoked"},
		{name: "a key makes no keys", by: func(s *scene) team.Actor { return s.key("Robot", "admin") },
			do: func(s *scene, by team.Actor, _ equipe.APIKey) (equipe.APIKey, string, error) {
				return s.s.CreateKey(ctx, by, &s.account, team.NewKey{Name: "Child", Role: "guest"})
			},
			refusal: "api_key.keys_cannot_create_keys"},
		{name: "a key needs a person behind it: the operator makes none, it would never work",
			by: func(*scene) team.Actor { return team.Actor{Operator: true} },
			do: func(s *scene, by team.Actor, _ equipe.APIKey) (equipe.APIKey, string, error) {
				return s.s.CreateKey(ctx, by, nil, team.NewKey{Name: "Robot"})
			},
			refusal: "api_key.needs_person"},
		{name: "a manager does not manage keys", by: func(s *scene) team.Actor { return s.actor("manager") },
			do: func(s *scene, by team.Actor, k equipe.APIKey) (equipe.APIKey, string, error) {
				return k, "", s.s.RevokeKey(ctx, by, &s.account, k.ID)
			},
			refusal: "access.permission_required"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				s.add("manager", "manager", equipe.MemberActive)
				existing, secret, err := s.s.CreateKey(ctx, s.admin(), &s.account, team.NewKey{Name: "CRM sync", Role: "manager"})
				if err != nil {
					t.Fatal(err)
				}
				if tt.revoked {
					if err := s.s.RevokeKey(ctx, s.admin(), &s.account, existing.ID); err != nil {
						t.Fatal(err)
					}
				}
				by := tt.by(s)
				var k equipe.APIKey
				var made string
				before, ok := s.done(t, tt.refusal, func() (err error) {
					k, made, err = tt.do(s, by, existing)
					return err
				})
				if !ok {
					return
				}
				e := s.wrote(t, before, tt.kind)[0]
				wantEvent(t, e, recorded(by), event.Subject{Kind: event.SubjectKey, ID: k.ID.String()})
				want := tt.after
				if made != "" {
					secret = made
					if !strings.HasPrefix(secret, k.Prefix) || len(k.Prefix) >= len(secret) {
						t.Errorf("prefix %q of the secret", k.Prefix)
					}
					kv := want.(event.Key)
					kv.Prefix = k.Prefix
					want = kv
				}
				wantStates(t, e, nil, want)
				// Nothing stored holds the secret: not the key, not its event.
				if strings.Contains(storetest.Dump(t, s.b.raw), secret) {
					t.Error("the secret is stored")
				}
				_, err = s.s.AuthenticateKey(ctx, secret)
				if want := map[event.Type]string{event.KeyCreated.Type: "", event.KeyRevoked.Type: "api_key.invalid"}[tt.kind]; key(err) != want {
					t.Errorf("the key authenticates with %q, want %q", key(err), want)
				}
			})
		}
	})
}

// TestChanges_AKeyReadsNoPageOnceItMayNoLongerAct reads a page of the
// change stream with a key, changes where the key stands, then reads the
// next page with the key as it was when the stream began, as a stream does:
// the key is authenticated again for each page, so that it is refused with
// the code its next request would get, and reads nothing more.
func TestChanges_AKeyReadsNoPageOnceItMayNoLongerAct(t *testing.T) {
	write := func(t *testing.T, s *scene, fn func(tx *store.Tx) error) {
		t.Helper()
		if err := s.db.Write(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		// instance: an instance key, made by an instance administrator of
		// the row's own; else a key of the account with audit.view, made by
		// its administrator "ada".
		instance bool
		// stop changes where the key k, made by creator, stands.
		stop    func(t *testing.T, s *scene, creator *equipe.User, k equipe.APIKey)
		refusal string
	}{
		{name: "an account key revoked",
			stop: func(t *testing.T, s *scene, _ *equipe.User, k equipe.APIKey) {
				if err := s.s.RevokeKey(ctx, s.admin(), &s.account, k.ID); err != nil {
					t.Fatal(err)
				}
			},
			refusal: "api_key.invalid"},
		{name: "an account key whose creator is suspended",
			stop:    func(t *testing.T, s *scene, creator *equipe.User, _ equipe.APIKey) { s.suspend(creator) },
			refusal: "api_key.creator_suspended"},
		{name: "an instance key revoked", instance: true,
			stop: func(t *testing.T, s *scene, creator *equipe.User, k equipe.APIKey) {
				if err := s.s.RevokeKey(ctx, team.Actor{User: creator}, nil, k.ID); err != nil {
					t.Fatal(err)
				}
			},
			refusal: "api_key.invalid"},
		{name: "an instance key whose creator no longer administers the instance", instance: true,
			stop: func(t *testing.T, s *scene, creator *equipe.User, _ equipe.APIKey) {
				write(t, s, func(tx *store.Tx) error { return tx.SetInstanceAdmin(ctx, creator.ID, false) })
			},
			refusal: "api_key.creator_not_instance_admin"},
		{name: "an instance key whose creator is disabled", instance: true,
			stop: func(t *testing.T, s *scene, creator *equipe.User, _ equipe.APIKey) {
				write(t, s, func(tx *store.Tx) error { return tx.SetUserDisabled(ctx, creator.ID, time.Now()) })
			},
			refusal: "api_key.creator_disabled"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				var creator *equipe.User
				var account *equipe.ID
				var role string
				if tt.instance {
					u, err := b.st.Identity.CreateAdmin(ctx, identity.NewAdmin{Email: "support@" + s.domain, FirstName: "Vendor",
						LastName: "Support", Locale: "en", Password: password})
					if err != nil {
						t.Fatal(err)
					}
					creator = &u
				} else {
					creator, account, role = s.add("ada", "admin", equipe.MemberActive), &s.account, "admin"
				}
				k, _, err := s.s.CreateKey(ctx, team.Actor{User: creator}, account, team.NewKey{Name: "Stream", Role: role})
				if err != nil {
					t.Fatal(err)
				}
				stream := team.Actor{Key: &k}
				q := team.ChangesQuery{After: team.CursorNow, Limit: team.MaxChangesPage}
				_, next, err := s.s.Changes(ctx, stream, q)
				if err != nil {
					t.Fatalf("the first page: %v", err)
				}
				tt.stop(t, s, creator, k)
				s.added("late", "collaborator", false)
				q.After = next
				page, _, err := s.s.Changes(ctx, stream, q)
				if key(err) != tt.refusal || len(page) != 0 {
					t.Errorf("the next page: %d events, %q; want the refusal %q", len(page), key(err), tt.refusal)
				}
			})
		}
	})
}

// memberAction is a use case that takes an action on a member.
type memberAction = func(s *team.Service, ctx context.Context, a team.Actor, account, user equipe.ID) error

// errOnly is the use case f answering only its error.
func errOnly[R any](f func(*team.Service, context.Context, team.Actor, equipe.ID, equipe.ID) (R, error)) memberAction {
	return func(s *team.Service, ctx context.Context, a team.Actor, account, user equipe.ID) error {
		_, err := f(s, ctx, a, account, user)
		return err
	}
}

// doMember takes each action on a member through the use case that does it,
// with an input that decides nothing by itself: a new job title to edit.
var doMember = map[string]memberAction{
	team.MemberEdit: func(s *team.Service, ctx context.Context, a team.Actor, account, user equipe.ID) error {
		_, err := s.ChangeMember(ctx, a, account, user, team.MemberChange{Title: ptr("Responsable")})
		return err
	},
	team.MemberInvite:     errOnly((*team.Service).Invite),
	team.MemberReset:      errOnly((*team.Service).AdminReset),
	team.MemberRevoke:     (*team.Service).RevokeInvitation,
	team.MemberReactivate: errOnly((*team.Service).Reactivate),
	team.MemberSuspend:    errOnly((*team.Service).Suspend),
	team.MemberRemove:     (*team.Service).RemoveMember,
}

// memberStates are the states of the member the rule table acts on; the
// members who are not administrators are managers, whom a manager covers.
var memberStates = []struct {
	name string
	make func(s *scene) *equipe.User
}{
	{"created", func(s *scene) *equipe.User { return s.added("target", "manager", false) }},
	{"invited", func(s *scene) *equipe.User { return s.added("target", "manager", true) }},
	{"active", func(s *scene) *equipe.User { return s.joined("target", "manager") }},
	{"suspended", func(s *scene) *equipe.User { return s.suspended("target", "manager") }},
	{"an active administrator", func(s *scene) *equipe.User { return s.joined("target", "admin") }},
	{"the only active administrator", func(s *scene) *equipe.User { return s.users["admin"] }},
}

// memberReaders are the readers of the rule table, given the member read.
var memberReaders = []struct {
	name string
	as   func(s *scene, target *equipe.User) team.Actor
}{
	{"administrator", func(s *scene, _ *equipe.User) team.Actor { return s.admin() }},
	{"manager", func(s *scene, _ *equipe.User) team.Actor {
		s.add("manager", "manager", equipe.MemberActive)
		return s.actor("manager")
	}},
	{"guest", func(s *scene, _ *equipe.User) team.Actor {
		s.add("guest", "guest", equipe.MemberActive)
		return s.actor("guest")
	}},
	{"the member themself", func(s *scene, target *equipe.User) team.Actor { return team.Actor{User: target, IP: "192.0.2.3"} }},
	{"an instance administrator", func(s *scene, _ *equipe.User) team.Actor { return s.b.instance }},
	{"an administrator key", func(s *scene, _ *equipe.User) team.Actor { return s.key("Admin sync", "admin") }},
	{"a manager key", func(s *scene, _ *equipe.User) team.Actor { return s.key("Manager sync", "manager") }},
}

// TestMemberRule_WhatIsOfferedIsWhatIsDone holds memberRule to its promise:
// for every reader, every state of the member and every action, the answer
// ViewMember gives is what taking the action answers — allowed when it
// succeeds, refused with the very code it is refused with. Each row builds
// its state afresh: the action changes it.
func TestMemberRule_WhatIsOfferedIsWhatIsDone(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		for _, r := range memberReaders {
			for _, st := range memberStates {
				if r.name == "administrator" && st.name == "the only active administrator" {
					// An administrator reading another administrator is the
					// state before: the reader makes two.
					continue
				}
				for _, action := range team.MemberActionNames {
					t.Run(r.name+"/"+st.name+"/"+action, func(t *testing.T) {
						// Rows are accounts of their own: they run side by
						// side, so that the database's commits overlap.
						t.Parallel()
						s := b.scene(t)
						target := st.make(s)
						reader := r.as(s, target)
						want := ""
						v, err := s.s.ViewMember(ctx, reader, s.account, target.ID)
						if err != nil {
							// Out of the reader's reach, every action is.
							want = key(err)
						} else {
							var names []string
							for _, a := range v.Actions {
								names = append(names, a.Name)
							}
							if !slices.Equal(names, team.MemberActionNames) {
								t.Fatalf("actions %v, want %v", names, team.MemberActionNames)
							}
							want = answer(v.Actions.Get(action))
						}
						if got := key(doMember[action](s.s, ctx, reader, s.account, target.ID)); got != want {
							t.Errorf("ViewMember answers %q, taking the action answers %q", want, got)
						}
					})
				}
			}
		}
	})
}

// TestMemberRule_AnAccountKeepsAnActiveAdministratorWhateverTheRace races
// the last-administrator rule across a change and a removal, many times on
// each engine: of two active administrators, one is demoted (or suspended)
// while the other is removed, at the same moment.
//
// When the two administrators act on each other, the one who acts second has
// lost their own rights to the first — demoted, suspended or removed — and
// is refused for that (access.changed under the lock, error.not_found when
// the loss is seen before, member.outranks once a manager): the rule about
// the account's last administrator never has to speak. When two others act
// on them (the instance, in person and with an instance key, whose rights
// no change to the members touches), the second is refused
// member.last_admin.
func TestMemberRule_AnAccountKeepsAnActiveAdministratorWhateverTheRace(t *testing.T) {
	const rounds = 50
	// change demotes the administrator, or suspends them.
	change := func(suspend bool) memberAction {
		ch := team.MemberChange{Role: ptr("manager")}
		if suspend {
			ch = team.MemberChange{Status: ptr(equipe.MemberSuspended)}
		}
		return func(s *team.Service, ctx context.Context, a team.Actor, account, user equipe.ID) error {
			_, err := s.ChangeMember(ctx, a, account, user, ch)
			return err
		}
	}
	tests := []struct {
		name string
		// by returns who changes a and who removes b.
		by      func(s *scene, a, b *equipe.User) (changer, remover team.Actor)
		refusal []string
	}{
		{name: "the administrators act on each other",
			by: func(s *scene, a, b *equipe.User) (team.Actor, team.Actor) {
				return team.Actor{User: b}, team.Actor{User: a}
			},
			refusal: []string{"access.changed", "error.not_found", "member.outranks"}},
		// An account's key would act within its creator's rights, which
		// the race may change: the instance acts, in person and by key.
		{name: "two others act on the administrators",
			by: func(s *scene, a, b *equipe.User) (team.Actor, team.Actor) {
				return s.b.instance, s.b.instanceKey(s.t)
			},
			refusal: []string{"member.last_admin"}},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				for round := range rounds {
					s := b.scene(t)
					first, second := s.users["admin"], s.add("second", "admin", equipe.MemberActive)
					changer, remover := tt.by(s, first, second)
					do := change(round%2 == 1)
					var wg sync.WaitGroup
					var changed, removed error
					wg.Go(func() { changed = do(s.s, ctx, changer, s.account, first.ID) })
					wg.Go(func() { removed = s.s.RemoveMember(ctx, remover, s.account, second.ID) })
					wg.Wait()
					n, err := s.db.CountActiveAdmins(ctx, s.account)
					if err != nil {
						t.Fatal(err)
					}
					if n < 1 {
						t.Fatalf("round %d: no active administrator left (change %v, removal %v)", round, changed, removed)
					}
					if (changed == nil) == (removed == nil) {
						t.Fatalf("round %d: change %v, removal %v: want one to succeed", round, changed, removed)
					}
					for _, err := range []error{changed, removed} {
						if err != nil && !slices.Contains(tt.refusal, key(err)) {
							t.Fatalf("round %d: refused with %q, want one of %v", round, key(err), tt.refusal)
						}
					}
				}
			})
		}
	})
}

// doAccount takes each action on an account through a use case that needs
// exactly its permission, with an input that decides nothing by itself.
var doAccount = map[string]func(s *scene, a team.Actor, account equipe.ID) error{
	team.AccountViewMembers: func(s *scene, a team.Actor, account equipe.ID) error {
		_, err := s.s.Members(ctx, a, account)
		return err
	},
	team.AccountExportMembers: func(s *scene, a team.Actor, account equipe.ID) error {
		_, err := s.s.ExportMembers(ctx, a, team.MemberFilter{Account: account})
		return err
	},
	team.AccountAddMember: func(s *scene, a team.Actor, account equipe.ID) error {
		var products []equipe.ID
		rs, err := s.db.Resources(ctx, account)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Type == "product" {
				products = append(products, r.ID)
			}
		}
		_, err = s.s.AddMember(ctx, a, account, team.NewMember{Email: s.email("newcomer"), FirstName: "New", LastName: "Comer",
			Role: "guest", Resources: products})
		return err
	},
	team.AccountManageRoles: func(s *scene, a team.Actor, account equipe.ID) error {
		_, err := s.s.CreateRole(ctx, a, account, team.RoleInput{Key: "kiosk", LabelFR: "Borne", LabelEN: "Kiosk",
			Grants: []equipe.Grant{{Permission: "records.view", Scope: "owned"}}})
		return err
	},
	team.AccountManageContacts: func(s *scene, a team.Actor, account equipe.ID) error {
		_, err := s.s.CreateContact(ctx, a, account, team.ContactInput{LastName: "Compta", Email: "compta@client.example",
			Kinds: []string{"billing"}})
		return err
	},
	team.AccountManageResources: func(s *scene, a team.Actor, account equipe.ID) error {
		_, err := s.s.CreateResource(ctx, a, account, "location", "Lyon", "")
		return err
	},
	team.AccountManageClients: func(s *scene, a team.Actor, account equipe.ID) error {
		_, err := s.s.CreateClient(ctx, a, account, team.NewAccount{Name: "Fleuriste", Locale: "fr"})
		return err
	},
	team.AccountViewAudit: func(s *scene, a team.Actor, account equipe.ID) error {
		_, _, err := s.s.AuditPage(ctx, a, account, team.AuditFilter{Page: equipe.Page{Limit: 10}})
		return err
	},
	team.AccountChangeSettings: func(s *scene, a team.Actor, account equipe.ID) error {
		_, err := s.s.UpdateAccount(ctx, a, account, team.AccountChange{Name: ptr("Acme SA")})
		return err
	},
	// Managing keys is listing and revoking them (a key makes no keys: see
	// TestKeys_CreatedRevokedOnceAndNeverShown): revoke one the instance made.
	team.AccountManageKeys: func(s *scene, a team.Actor, account equipe.ID) error {
		k, _, err := s.s.CreateKey(ctx, s.b.instance, &account, team.NewKey{Name: "Old", Role: "guest"})
		if err != nil {
			s.t.Fatal(err)
		}
		return s.s.RevokeKey(ctx, a, &account, k.ID)
	},
	team.AccountCreateKey: func(s *scene, a team.Actor, account equipe.ID) error {
		_, _, err := s.s.CreateKey(ctx, a, &account, team.NewKey{Name: "New", Role: "guest"})
		return err
	},
	team.AccountManageWebhooks: func(s *scene, a team.Actor, account equipe.ID) error {
		_, _, err := s.s.Webhooks(ctx, a, &account, equipe.Page{})
		return err
	},
	team.AccountCreateWebhook: func(s *scene, a team.Actor, account equipe.ID) error {
		_, _, err := s.s.CreateWebhook(ctx, a, &account, team.WebhookInput{URL: "https://hooks.example.com/", Types: []string{"*"}})
		return err
	},
	team.AccountEndFirmAccess: func(s *scene, a team.Actor, account equipe.ID) error {
		return s.s.EndFirmAccess(ctx, a, account)
	},
	team.AccountDelete: func(s *scene, a team.Actor, account equipe.ID) error {
		return s.s.DeleteAccount(ctx, a, account)
	},
}

// TestAccountActions_AnswerWhatTheUseCasesDo: for each reader and each
// action on an account, AccountActions answers what taking the action
// answers.
func TestAccountActions_AnswerWhatTheUseCasesDo(t *testing.T) {
	names := []string{team.AccountViewMembers, team.AccountAddMember, team.AccountExportMembers, team.AccountManageRoles, team.AccountManageContacts,
		team.AccountManageResources, team.AccountManageClients, team.AccountViewAudit, team.AccountChangeSettings, team.AccountManageKeys,
		team.AccountCreateKey, team.AccountManageWebhooks, team.AccountCreateWebhook, team.AccountEndFirmAccess, team.AccountDelete}
	readers := []struct {
		name string
		// as returns the reader and the account they read.
		as func(s *scene) (team.Actor, equipe.ID)
	}{
		{"administrator", func(s *scene) (team.Actor, equipe.ID) { return s.admin(), s.account }},
		{"manager", func(s *scene) (team.Actor, equipe.ID) {
			s.add("manager", "manager", equipe.MemberActive)
			return s.actor("manager"), s.account
		}},
		{"collaborator", func(s *scene) (team.Actor, equipe.ID) {
			s.add("collab", "collaborator", equipe.MemberActive)
			return s.actor("collab"), s.account
		}},
		{"guest", func(s *scene) (team.Actor, equipe.ID) {
			s.add("guest", "guest", equipe.MemberActive)
			return s.actor("guest"), s.account
		}},
		{"administrator whose address is not confirmed", func(s *scene) (team.Actor, equipe.ID) {
			s.add("unconfirmed", "admin", equipe.MemberActive)
			a := s.actor("unconfirmed")
			u := *a.User
			u.EmailVerifiedAt = time.Time{}
			a.User = &u
			return a, s.account
		}},
		{"administrator key", func(s *scene) (team.Actor, equipe.ID) { return s.key("Admin sync", "admin"), s.account }},
		{"manager key", func(s *scene) (team.Actor, equipe.ID) { return s.key("Manager sync", "manager"), s.account }},
		{"instance administrator", func(s *scene) (team.Actor, equipe.ID) { return s.b.instance, s.account }},
		{"the firm's administrator in a client account", func(s *scene) (team.Actor, equipe.ID) {
			c, err := s.s.CreateClient(ctx, s.admin(), s.account, team.NewAccount{Name: "Boulangerie", Locale: "fr"})
			if err != nil {
				s.t.Fatal(err)
			}
			return s.admin(), c.ID
		}},
		{"another account's administrator", func(s *scene) (team.Actor, equipe.ID) { return s.b.scene(s.t).admin(), s.account }},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, r := range readers {
			for _, name := range names {
				t.Run(r.name+"/"+name, func(t *testing.T) {
					s := b.scene(t)
					reader, account := r.as(s)
					want := ""
					as, err := s.s.AccountActions(ctx, reader, account)
					if err != nil {
						want = key(err)
					} else {
						var got []string
						for _, a := range as {
							got = append(got, a.Name)
						}
						if !slices.Equal(got, names) {
							t.Fatalf("actions %v, want %v", got, names)
						}
						want = answer(as.Get(name))
					}
					if got := key(doAccount[name](s, reader, account)); got != want {
						t.Errorf("AccountActions answers %q, taking the action answers %q", want, got)
					}
				})
			}
		}
	})
}

// TestNotifyAdder_TheAdderIsToldAsTheAccountChooses plays seed 002's "you
// will also receive an automatic email confirming that your colleague's
// account was created": whoever adds a member is told when the access is
// created, when the member joins, both (the default) or never, as the
// account's setting says; an API key is nobody to tell.
func TestNotifyAdder_TheAdderIsToldAsTheAccountChooses(t *testing.T) {
	tests := []struct {
		name    string
		setting equipe.NotifyAdder // empty: the default
		byKey   bool
		// The adder's emails about the member: after adding, after joining.
		added, joined []string
	}{
		{name: "by default the adder is told both times", added: []string{mail.TemplateAdderConfirmation},
			joined: []string{mail.TemplateAdderConfirmation, mail.TemplateInviterConfirmation}},
		{name: "on creation only", setting: equipe.NotifyOnCreation, added: []string{mail.TemplateAdderConfirmation},
			joined: []string{mail.TemplateAdderConfirmation}},
		{name: "on joining only", setting: equipe.NotifyOnJoin, added: nil, joined: []string{mail.TemplateInviterConfirmation}},
		{name: "never", setting: equipe.NotifyNever},
		{name: "an API key is told nothing", byKey: true},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				if acct, _ := s.db.AccountByID(ctx, s.account); acct.NotifyAdder != equipe.DefaultNotifyAdder {
					t.Fatalf("a new account's setting: %q", acct.NotifyAdder)
				}
				if tt.setting != "" {
					n := tt.setting
					if _, err := s.s.UpdateAccount(ctx, s.admin(), s.account, team.AccountChange{NotifyAdder: &n}); err != nil {
						t.Fatal(err)
					}
				}
				by := s.admin()
				if tt.byKey {
					by = s.key("CRM sync", "admin")
				}
				adminEmail := s.admin().User.Email
				before := s.templates(adminEmail)
				a, err := s.s.AddMember(ctx, by, s.account, team.NewMember{Email: s.email("grace"), Role: "collaborator",
					Resources: s.product(), SendInvitation: true})
				if err != nil {
					t.Fatal(err)
				}
				about := func() []string { return s.templates(adminEmail)[len(before):] }
				if got := about(); !slices.Equal(got, tt.added) {
					t.Errorf("after adding: %v, want %v", got, tt.added)
				}
				if err := s.accept(s.secret(a.User.Email, "/invitations/")); err == nil {
					t.Fatal("joined without names")
				}
				if _, _, err := s.b.st.Identity.AcceptInvitation(ctx, s.secret(a.User.Email, "/invitations/"), identity.Accept{
					Password: password, FirstName: "Grace", LastName: "Hopper"}, nil, origin); err != nil {
					t.Fatal(err)
				}
				if got := about(); !slices.Equal(got, tt.joined) {
					t.Errorf("after joining: %v, want %v", got, tt.joined)
				}
			})
		}
		t.Run("the setting is one of four, and its change is recorded", func(t *testing.T) {
			s := b.scene(t)
			bad := equipe.NotifyAdder("sometimes")
			s.done(t, "error.fields notify_adder=account.notify_adder_invalid", func() error {
				_, err := s.s.UpdateAccount(ctx, s.admin(), s.account, team.AccountChange{NotifyAdder: &bad})
				return err
			})
			before := s.snapshot()
			never := equipe.NotifyNever
			if _, err := s.s.UpdateAccount(ctx, s.admin(), s.account, team.AccountChange{NotifyAdder: &never}); err != nil {
				t.Fatal(err)
			}
			es := s.wrote(t, before, event.AccountChanged.Type)
			b, a := es[0].Before.(event.Settings), es[0].After.(event.Settings)
			if b.NotifyAdder != string(equipe.NotifyBoth) || a.NotifyAdder != string(equipe.NotifyNever) {
				t.Errorf("settings event: %q → %q", b.NotifyAdder, a.NotifyAdder)
			}
		})
	})
}

// TestMemberForms_FirmStaffAreAssignedToClientsWithTheirChange plays seed
// 001's "Ajouter un collaborateur … lui affecter les entreprises de votre
// choix": the client companies are assigned in the same unit as the member's
// addition or change, each one event of the firm's log, under the rule of
// AssignStaff; and a client's firm staff are listed with their firm role.
func TestMemberForms_FirmStaffAreAssignedToClientsWithTheirChange(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		var clients []equipe.ID
		for _, name := range []string{"Boulangerie Martin", "Garage Dupont", "Fleurs Leroy"} {
			c, err := s.s.CreateClient(ctx, s.admin(), s.account, team.NewAccount{Name: name, Locale: "fr"})
			if err != nil {
				t.Fatal(err)
			}
			clients = append(clients, c.ID)
		}
		bakery, garage, florist := clients[0], clients[1], clients[2]

		// Added with two companies: one unit, three events.
		before := s.snapshot()
		a, err := s.s.AddMember(ctx, s.admin(), s.account, team.NewMember{Email: s.email("claire"), FirstName: "Claire",
			LastName: "Comptable", Role: "collaborator", Resources: s.product(), Clients: []equipe.ID{bakery, garage, bakery}})
		if err != nil {
			t.Fatal(err)
		}
		es := s.wrote(t, before, event.MemberAdded.Type, event.ClientStaffAssigned.Type, event.ClientStaffAssigned.Type)
		wantStates(t, es[1], nil, event.Staff{UserID: a.User.ID})
		claire := a.User.ID
		got, err := s.s.StaffClients(ctx, s.admin(), s.account, claire)
		if err != nil || len(got) != 2 || !slices.Contains(got, bakery) || !slices.Contains(got, garage) {
			t.Fatalf("assigned: %v %v", got, err)
		}

		// A client that is not the firm's is refused, and nothing is written.
		other := b.scene(t)
		before = s.snapshot()
		_, err = s.s.AddMember(ctx, s.admin(), s.account, team.NewMember{Email: s.email("noe"), Role: "collaborator",
			Resources: s.product(), Clients: []equipe.ID{other.account}})
		s.refused(t, err, "error.fields clients=client.unknown", before)

		// Changed: the garage goes, the florist comes; the member's own state
		// is unchanged, so only the assignments are events.
		before = s.snapshot()
		cs := []equipe.ID{bakery, florist}
		if _, err := s.s.ChangeMember(ctx, s.admin(), s.account, claire, team.MemberChange{Clients: &cs}); err != nil {
			t.Fatal(err)
		}
		s.wrote(t, before, event.ClientStaffAssigned.Type, event.ClientStaffUnassigned.Type)
		if got, _ := s.s.StaffClients(ctx, s.admin(), s.account, claire); len(got) != 2 || slices.Contains(got, garage) {
			t.Fatalf("assigned after the change: %v", got)
		}

		// The client's firm staff: the firm's administrator everywhere, Claire
		// where she is assigned once she joined, with her firm role.
		if staff, _, _ := s.s.FirmStaff(ctx, s.admin(), bakery, equipe.Page{}); len(staff) != 1 {
			t.Errorf("firm staff before Claire joins: %+v", staff)
		}
		if _, err := s.s.Invite(ctx, s.admin(), s.account, claire); err != nil {
			t.Fatal(err)
		}
		if err := s.accept(s.secret(s.email("claire"), "/invitations/")); err != nil {
			t.Fatal(err)
		}
		staff, _, err := s.s.FirmStaff(ctx, s.admin(), bakery, equipe.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, f := range staff {
			lines = append(lines, f.Name+"/"+f.Role.Key+"/"+map[bool]string{true: "assigned", false: "all"}[f.Assigned])
		}
		want := []string{"Claire Comptable/collaborator/assigned", s.users["admin"].Name() + "/admin/all"}
		slices.Sort(want)
		if !slices.Equal(lines, want) {
			t.Errorf("firm staff of the bakery: %v, want %v", lines, want)
		}
		// To the bakery's own administrator, the roles but not the people.
		k, _, err := s.s.CreateKey(ctx, s.admin(), &bakery, team.NewKey{Name: "Bakery sync", Role: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		anon, _, err := s.s.FirmStaff(ctx, team.Actor{Key: &k}, bakery, equipe.Page{})
		if err != nil || len(anon) != 2 || anon[0].Name != "" || anon[0].UserID != (equipe.ID{}) || anon[1].Name != "" {
			t.Errorf("firm staff to the bakery's own key: %+v %v", anon, err)
		}
		if staff, _, _ := s.s.FirmStaff(ctx, s.admin(), garage, equipe.Page{}); len(staff) != 1 {
			t.Errorf("firm staff of the garage: %+v", staff)
		}
		if staff, _, err := s.s.FirmStaff(ctx, s.admin(), s.account, equipe.Page{}); err != nil || len(staff) != 0 {
			t.Errorf("firm staff of a firm: %+v %v", staff, err)
		}
	})
}

// TestMemberActions_AThrottledEmailSaysWhenItCanBeSentAgain: once a
// member's re-invitations or resets reach their limit for the hour, the
// member's answers (their view and their row of the team page) refuse
// them with the throttle's refusal and the time the window ends; taking the
// action is refused the same way, and at that time it is offered again.
func TestMemberActions_AThrottledEmailSaysWhenItCanBeSentAgain(t *testing.T) {
	tests := []struct {
		name    string
		action  string
		refusal string
		target  func(s *scene) *equipe.User // leaves the action throttled
		take    func(s *scene, u *equipe.User) error
	}{
		{name: "re-invitations", action: team.MemberInvite, refusal: "invite.throttled",
			target: func(s *scene) *equipe.User {
				u := s.added("m", "collaborator", true)
				for range 2 {
					s.b.st.Clock.Advance(time.Minute)
					if _, err := s.s.Invite(ctx, s.admin(), s.account, u.ID); err != nil {
						s.t.Fatal(err)
					}
				}
				return u
			},
			take: func(s *scene, u *equipe.User) error {
				_, err := s.s.Invite(ctx, s.admin(), s.account, u.ID)
				return err
			}},
		{name: "resets sent by an administrator", action: team.MemberReset, refusal: "reset.throttled",
			target: func(s *scene) *equipe.User {
				u := s.joined("m", "collaborator")
				for i := range 3 {
					if i > 0 {
						s.b.st.Clock.Advance(time.Minute)
					}
					if _, err := s.s.AdminReset(ctx, s.admin(), s.account, u.ID); err != nil {
						s.t.Fatal(err)
					}
				}
				return u
			},
			take: func(s *scene, u *equipe.User) error {
				_, err := s.s.AdminReset(ctx, s.admin(), s.account, u.ID)
				return err
			}},
		{name: "a reset for someone who never joined counts as an invitation", action: team.MemberReset, refusal: "invite.throttled",
			target: func(s *scene) *equipe.User {
				u := s.added("m", "collaborator", true)
				for range 2 {
					s.b.st.Clock.Advance(time.Minute)
					if _, err := s.s.Invite(ctx, s.admin(), s.account, u.ID); err != nil {
						s.t.Fatal(err)
					}
				}
				return u
			},
			take: func(s *scene, u *equipe.User) error {
				_, err := s.s.AdminReset(ctx, s.admin(), s.account, u.ID)
				return err
			}},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				u := tt.target(s)
				// The window began with the first email, two minutes ago.
				until := s.b.st.Clock.Now().Add(time.Hour - 2*time.Minute)
				v, err := s.s.ViewMember(ctx, s.admin(), s.account, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				a := v.Actions.Get(tt.action)
				if answer(a) != tt.refusal || !a.Until().Equal(until) || a.Err.RetryAfter != until.Sub(s.b.st.Clock.Now()) {
					t.Fatalf("answer %q until %v (in %v), want %q until %v", answer(a), a.Until(), a.Err.RetryAfter, tt.refusal, until)
				}
				rows, _, err := s.s.TeamPage(ctx, s.admin(), team.MemberFilter{Account: s.account, Limit: 50})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					if r.Member.UserID == u.ID {
						if got := r.Actions.Get(tt.action); answer(got) != tt.refusal || !got.Until().Equal(until) {
							t.Errorf("team page: %q until %v", answer(got), got.Until())
						}
					}
				}
				// Reading the answers counted nothing: taking the action is
				// refused the same way.
				before := s.snapshot()
				err = tt.take(s, u)
				s.refused(t, err, tt.refusal, before)
				if e := equipe.AsError(err); !e.Until.Equal(until) {
					t.Errorf("taken: until %v, want %v", e.Until, until)
				}
				s.b.st.Clock.Set(until)
				v, err = s.s.ViewMember(ctx, s.admin(), s.account, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if a := v.Actions.Get(tt.action); !a.OK() || !a.Until().IsZero() {
					t.Fatalf("at %v: %q", until, answer(a))
				}
				if err := tt.take(s, u); err != nil {
					t.Fatalf("at %v: %v", until, err)
				}
			})
		}
	})
}

// TestTeamPage_SortsSearchesAndCountsForThoseWhoMayViewMembers: the team
// page's use cases sort each way, find any part of a name or address
// (accents and case ignored), count by status, and refuse an unknown order,
// an unknown status, and a reader who may not view the members.
func TestTeamPage_SortsSearchesAndCountsForThoseWhoMayViewMembers(t *testing.T) {
	tests := []struct {
		name   string
		by     func(s *scene) team.Actor
		filter team.MemberFilter
		want   []string // first names, in order; nil for a refusal
		// refusal is the refused page's code, with "field=key" for a field.
		refusal string
	}{
		// Last names: Arnaud (Zoé), Bernard (Éloïse), Durand (émile), X (admin), Zola (Ana).
		{name: "by name", by: (*scene).admin, want: []string{"Zoé", "Éloïse", "émile", "admin", "Ana"}},
		{name: "by name, reversed", by: (*scene).admin, filter: team.MemberFilter{Sort: team.SortName, Desc: true},
			want: []string{"Ana", "admin", "émile", "Éloïse", "Zoé"}},
		{name: "by role, then name", by: (*scene).admin, filter: team.MemberFilter{Sort: team.SortRole},
			want: []string{"admin", "Zoé", "Éloïse", "émile", "Ana"}},
		{name: "by status, reversed", by: (*scene).admin, filter: team.MemberFilter{Sort: team.SortStatus, Desc: true},
			want: []string{"Ana", "émile", "Éloïse", "admin", "Zoé"}},
		{name: "by last login, the most recent first", by: (*scene).admin, filter: team.MemberFilter{Sort: team.SortLastLogin, Desc: true},
			want: []string{"Zoé", "admin", "Ana", "émile", "Éloïse"}},
		{name: "part of a first name, accents and case ignored", by: (*scene).admin, filter: team.MemberFilter{Search: "ELO"},
			want: []string{"Éloïse"}},
		{name: "part of a last name", by: (*scene).admin, filter: team.MemberFilter{Search: "urand"}, want: []string{"émile"}},
		{name: "a domain", by: (*scene).admin, filter: team.MemberFilter{Search: "@CABINET-expert"}, want: []string{"Éloïse", "émile"}},
		{name: "two words", by: (*scene).admin, filter: team.MemberFilter{Search: "emi cab"}, want: []string{"émile"}},
		{name: "a short word", by: (*scene).admin, filter: team.MemberFilter{Search: "oï"}, want: []string{"Éloïse"}},
		{name: "no match", by: (*scene).admin, filter: team.MemberFilter{Search: "xylophone"}, want: []string{}},
		{name: "an unknown order", by: (*scene).admin, filter: team.MemberFilter{Sort: "email"}, refusal: "error.fields sort=request.sort_invalid"},
		{name: "an unknown status", by: (*scene).admin, filter: team.MemberFilter{Status: "gone"},
			refusal: "error.fields status=member.status_filter_invalid"},
		{name: "a suspended member reads nothing", by: func(s *scene) team.Actor { return s.actor("Ana") },
			refusal: "error.not_found"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				// Two added (one invited), two with identities of their own
				// (one suspended); the addresses are this scene's alone.
				for _, a := range []struct{ first, last, email, role string }{
					{"Éloïse", "Bernard", "eloise@cabinet-expert." + s.domain, "collaborator"},
					{"émile", "Durand", "emile@cabinet-expert." + s.domain, "guest"},
				} {
					added, err := s.s.AddMember(ctx, s.admin(), s.account, team.NewMember{Email: a.email, FirstName: a.first,
						LastName: a.last, Role: a.role, Resources: s.product(), SendInvitation: a.first == "émile"})
					if err != nil {
						t.Fatal(err)
					}
					s.users[a.first] = &added.User
				}
				s.add("Zoé", "collaborator", equipe.MemberActive)
				s.add("Ana", "guest", equipe.MemberSuspended)
				if err := s.db.Write(ctx, func(tx *store.Tx) error {
					if err := tx.SetUserNames(ctx, s.users["Zoé"].ID, "Zoé", "Arnaud", time.Now()); err != nil {
						return err
					}
					return tx.SetUserNames(ctx, s.users["Ana"].ID, "Ana", "Zola", time.Now())
				}); err != nil {
					t.Fatal(err)
				}
				// Logins to the account: Ana, then the admin, then Zoé.
				for i, name := range []string{"Ana", "admin", "Zoé"} {
					if err := s.db.Write(ctx, func(tx *store.Tx) error {
						return tx.SetMemberLogin(ctx, s.account, s.users[name].ID, time.Now().Add(time.Duration(i)*time.Minute))
					}); err != nil {
						t.Fatal(err)
					}
				}
				f := tt.filter
				f.Account, f.Limit = s.account, 2
				var got []string
				for {
					rows, next, err := s.s.TeamPage(ctx, tt.by(s), f)
					if tt.refusal != "" {
						if code := key(err); code != tt.refusal {
							t.Fatalf("refusal %q, want %q", code, tt.refusal)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range rows {
						got = append(got, r.FirstName)
					}
					if next == "" {
						break
					}
					f.After = next
				}
				if got == nil {
					got = []string{}
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("got %q, want %q", got, tt.want)
				}
				c, err := s.s.CountMembers(ctx, s.admin(), s.account)
				want := map[equipe.MemberStatus]int{equipe.MemberActive: 2, equipe.MemberCreated: 1, equipe.MemberInvited: 1, equipe.MemberSuspended: 1}
				if err != nil || c.Total != 5 || !reflect.DeepEqual(c.ByStatus, want) {
					t.Errorf("counts: %+v, %v", c, err)
				}
			})
		}
	})
}

func TestUpdateAccount_TheTimeZoneIsOneOfTheListAndItsChangeRecorded(t *testing.T) {
	tests := []struct {
		name    string
		zone    string
		refusal string
	}{
		{name: "a zone of the list", zone: "Europe/Paris"},
		{name: "UTC", zone: "UTC"},
		{name: "an unknown zone", zone: "Europe/Lutece", refusal: "error.fields time_zone=account.time_zone_invalid"},
		{name: "the process's own zone is no zone", zone: "Local", refusal: "error.fields time_zone=account.time_zone_invalid"},
		{name: "a zone in the wrong case", zone: "europe/paris", refusal: "error.fields time_zone=account.time_zone_invalid"},
		{name: "an offset is no zone", zone: "+01:00", refusal: "error.fields time_zone=account.time_zone_invalid"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				zone := tt.zone
				before, ok := s.done(t, tt.refusal, func() error {
					_, err := s.s.UpdateAccount(ctx, s.admin(), s.account, team.AccountChange{TimeZone: &zone})
					return err
				})
				if !ok {
					return
				}
				es := s.wrote(t, before, event.AccountChanged.Type)
				if got := es[0].After.(event.Settings).TimeZone; got != tt.zone {
					t.Errorf("the event's zone: %q", got)
				}
				if got := es[0].Before.(event.Settings).TimeZone; got != "" {
					t.Errorf("the event's zone before: %q", got)
				}
				a, err := s.s.Account(ctx, s.admin(), s.account)
				if err != nil || a.TimeZone != tt.zone || s.s.Location(a).String() != tt.zone {
					t.Errorf("account: %q, shown in %v, %v", a.TimeZone, s.s.Location(a), err)
				}
				// Back to the instance's zone.
				none := ""
				if a, err := s.s.UpdateAccount(ctx, s.admin(), s.account, team.AccountChange{TimeZone: &none}); err != nil ||
					s.s.Location(a) != time.UTC {
					t.Errorf("back to the instance's zone: %v %v", s.s.Location(a), err)
				}
			})
		}
	})
}

// TestLastLogin_IsTheLastLoginToTheAccount: logging in records the login to
// the one account a person is an active member of; someone with several
// records it in the account they switch to.
func TestLastLogin_IsTheLastLoginToTheAccount(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s, other := b.scene(t), b.scene(t)
		solo := s.joined("solo", "collaborator")
		both := s.joined("both", "collaborator")
		if err := s.db.Write(ctx, func(tx *store.Tx) error {
			return tx.CreateMember(ctx, &equipe.Member{AccountID: other.account, UserID: both.ID, Role: "collaborator",
				Status: equipe.MemberActive, JoinedAt: time.Now(), CreatedAt: time.Now()})
		}); err != nil {
			t.Fatal(err)
		}
		lastLogin := func(sc *scene, u *equipe.User) time.Time {
			t.Helper()
			rows, _, err := sc.s.TeamPage(ctx, sc.admin(), team.MemberFilter{Account: sc.account, Search: u.Email, Limit: 10})
			if err != nil || len(rows) != 1 {
				t.Fatalf("%s in the team: %d rows, %v", u.Email, len(rows), err)
			}
			return rows[0].LastLoginAt
		}
		// Joining logs in; read the times as they stand.
		soloJoined, bothHere := lastLogin(s, solo), lastLogin(s, both)
		if soloJoined.IsZero() || bothHere.IsZero() {
			t.Errorf("joining by the link logs in to the account: %v, %v", soloJoined, bothHere)
		}
		b.st.Clock.Advance(time.Minute)
		// A password login answers before it records the login to the
		// account, which follows at once.
		hold := make(chan struct{})
		b.st.DB.HoldDetachedForTest(hold)
		auth, _, err := b.st.Identity.LogIn(ctx, solo.Email, password, origin)
		b.st.DB.HoldDetachedForTest(nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := lastLogin(s, solo); !got.Equal(soloJoined) {
			t.Errorf("solo's login to their only account recorded before the answer: %v, was %v", got, soloJoined)
		}
		close(hold)
		b.st.DB.WaitDetached()
		if got := lastLogin(s, solo); !got.After(soloJoined) || !got.Equal(auth.User.LastLoginAt) {
			t.Errorf("solo's login to their only account: %v, was %v", got, soloJoined)
		}
		b.st.Clock.Advance(time.Minute)
		auth, _, err = b.st.Identity.LogIn(ctx, both.Email, password, origin)
		if err != nil {
			t.Fatal(err)
		}
		if got := lastLogin(s, both); !got.Equal(bothHere) {
			t.Errorf("a login of someone with two accounts counted in one they did not enter: %v, was %v", got, bothHere)
		}
		b.st.Clock.Advance(time.Minute)
		if err := b.st.Team.SwitchAccount(ctx, both.ID, auth.Session.ID, &other.account); err != nil {
			t.Fatal(err)
		}
		if got := lastLogin(other, both); !got.Equal(b.st.Clock.Now()) {
			t.Errorf("switching to the other account: %v, logged in at %v", got, auth.User.LastLoginAt)
		}
		if got := lastLogin(s, both); !got.Equal(bothHere) {
			t.Errorf("switching elsewhere changed this account's: %v, was %v", got, bothHere)
		}
	})
}

func TestAddMember_TheEventRecordsTheOverrides(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		ovs := []equipe.Override{{Permission: "records.export", Allow: true}, {Permission: "contacts.manage", Allow: true}}
		before := s.snapshot()
		if _, err := s.s.AddMember(ctx, s.admin(), s.account, team.NewMember{Email: s.email("grace"), FirstName: "Grace",
			LastName: "Hopper", Role: "collaborator", Resources: s.product(), Overrides: ovs}); err != nil {
			t.Fatal(err)
		}
		es := s.wrote(t, before, event.MemberAdded.Type)
		if got := es[0].After.(event.Added).Overrides; !reflect.DeepEqual(got, ovs) {
			t.Errorf("the event's overrides: %+v, want %+v", got, ovs)
		}
	})
}

// TestMemberRules_ACustomRoleWithEveryPermissionActsOnNoAdministrator: a
// custom role may grant every permission of the catalogue, never the
// administrator role itself; who holds it manages the other members, and is
// refused every action on an administrator (demoting, suspending,
// removing), as the team page's actions say beforehand.
func TestMemberRules_ACustomRoleWithEveryPermissionActsOnNoAdministrator(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		var all []equipe.Grant
		for _, g := range s.s.Catalogue.GrantList(s.s.Catalogue.All()) {
			all = append(all, equipe.Grant{Permission: g.Permission, Scope: g.Scope.String()})
		}
		if _, err := s.s.CreateRole(ctx, s.admin(), s.account, team.RoleInput{Key: "deputy", LabelFR: "Adjoint",
			LabelEN: "Deputy", Grants: all}); err != nil {
			t.Fatalf("%v %+v", err, equipe.AsError(err).Fields)
		}
		s.add("deputy", "deputy", equipe.MemberActive)
		boss := s.add("boss", "admin", equipe.MemberActive)
		m := s.add("m", "collaborator", equipe.MemberActive)
		deputy := s.actor("deputy")
		for name, do := range map[string]func() error{
			"demote": func() error {
				_, err := s.s.ChangeMember(ctx, deputy, s.account, boss.ID, team.MemberChange{Role: ptr("manager")})
				return err
			},
			"retitle": func() error {
				_, err := s.s.ChangeMember(ctx, deputy, s.account, boss.ID, team.MemberChange{Title: ptr("Ancien patron")})
				return err
			},
			"suspend": func() error { _, err := s.s.Suspend(ctx, deputy, s.account, boss.ID); return err },
			"remove":  func() error { return s.s.RemoveMember(ctx, deputy, s.account, boss.ID) },
		} {
			t.Run(name, func(t *testing.T) { s.done(t, "member.outranks", do) })
		}
		rows, _, err := s.s.TeamPage(ctx, deputy, team.MemberFilter{Account: s.account, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			switch r.Member.UserID {
			case boss.ID:
				for _, a := range []string{team.MemberEdit, team.MemberSuspend, team.MemberRemove} {
					if r.Actions.May(a) {
						t.Errorf("the team page offers the deputy to %s an administrator", a)
					}
				}
			case m.ID:
				if !r.Actions.May(team.MemberEdit) || !r.Actions.May(team.MemberSuspend) {
					t.Errorf("the team page does not offer the deputy to manage a collaborator: %+v", r.Actions)
				}
			}
		}
		if _, err := s.s.ChangeMember(ctx, deputy, s.account, m.ID, team.MemberChange{Title: ptr("Caisse")}); err != nil {
			t.Errorf("the deputy changes a collaborator: %v", err)
		}
	})
}

// TestChanges_APageOfAChangeNotYetHeardIsNotSent plays two processes on one
// PostgreSQL database: the stream's, whose cache has not yet heard of a
// change (its listener has not delivered it, as in the moment between a
// commit and its notification), and another that revokes the key or ends
// its creator's standing. The stream's next page holds that change, and is
// refused as the key's next request would be: the key and its creator are
// read again from the database before a page goes out.
func TestChanges_APageOfAChangeNotYetHeardIsNotSent(t *testing.T) {
	yes := true
	suspended := equipe.MemberSuspended
	tests := []struct {
		name     string
		instance bool
		// stop, run by the other process other as the account's
		// administrator bea or the instance administrator root, ends the
		// standing of key k, made by creator.
		stop    func(t *testing.T, other *team.Service, w *world, root, creator *equipe.User, k equipe.APIKey) error
		refusal string
	}{
		{name: "an account key revoked", refusal: "api_key.invalid",
			stop: func(t *testing.T, other *team.Service, w *world, _, _ *equipe.User, k equipe.APIKey) error {
				return other.RevokeKey(ctx, w.actor("bea"), &w.account, k.ID)
			}},
		{name: "an account key whose creator is suspended", refusal: "api_key.creator_suspended",
			stop: func(t *testing.T, other *team.Service, w *world, _, creator *equipe.User, _ equipe.APIKey) error {
				_, err := other.ChangeMember(ctx, w.actor("bea"), w.account, creator.ID, team.MemberChange{Status: &suspended})
				return err
			}},
		{name: "an account key whose creator is disabled", refusal: "api_key.creator_disabled",
			stop: func(t *testing.T, other *team.Service, w *world, root, creator *equipe.User, _ equipe.APIKey) error {
				_, err := other.ChangeUser(ctx, team.Actor{User: root}, creator.ID, team.UserChange{Disabled: &yes})
				return err
			}},
		{name: "an instance key whose creator is disabled", instance: true, refusal: "api_key.creator_disabled",
			stop: func(t *testing.T, other *team.Service, w *world, root, creator *equipe.User, _ equipe.APIKey) error {
				_, err := other.ChangeUser(ctx, team.Actor{User: root}, creator.ID, team.UserChange{Disabled: &yes})
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, cfg := storetest.OpenConfig(t, store.Postgres)
			w := newWorld(t, db)
			ada, _ := w.add("ada", "admin", equipe.MemberActive), w.add("bea", "admin", equipe.MemberActive)
			var admins []*equipe.User
			for _, name := range []string{"root", "vendor"} {
				u, err := w.st.Identity.CreateAdmin(ctx, identity.NewAdmin{Email: name + "@vendor.example", FirstName: name,
					LastName: "Support", Locale: "en", Password: password})
				if err != nil {
					t.Fatal(err)
				}
				admins = append(admins, &u)
			}
			root, creator, account, role := admins[0], ada, &w.account, "admin"
			if tt.instance {
				creator, account, role = admins[1], nil, ""
			}
			k, _, err := w.s.CreateKey(ctx, team.Actor{User: creator}, account, team.NewKey{Name: "Stream", Role: role})
			if err != nil {
				t.Fatal(err)
			}
			stream := team.Actor{Key: &k}
			q := team.ChangesQuery{After: team.CursorNow, Limit: team.MaxChangesPage}
			_, next, err := w.s.Changes(ctx, stream, q)
			if err != nil {
				t.Fatalf("the first page: %v", err)
			}
			otherDB, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { otherDB.Close() })
			if err := tt.stop(t, servicetest.New(t, otherDB, identity.Params{}).Team, w, root, creator, k); err != nil {
				t.Fatalf("the other process: %v", err)
			}
			q.After = next
			page, _, err := w.s.Changes(ctx, stream, q)
			if key(err) != tt.refusal || len(page) != 0 {
				t.Errorf("the next page: %d events, %q; want the refusal %q", len(page), key(err), tt.refusal)
			}
		})
	}
}

// TestAddMember_AnAddressRevealsNothingOfItsIdentityToAnAccountItHasNotJoined:
// an administrator who adds, without names, an address that has an
// identity elsewhere learns nothing of it until the person joins — not its
// names (the member's view, the team page, its search, the email that
// confirms the addition), not whether it has a second factor, not whether
// the instance disabled it; one who already shares an account with the
// person sees the names they see there.
func TestAddMember_AnAddressRevealsNothingOfItsIdentityToAnAccountItHasNotJoined(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		for _, shares := range []bool{false, true} {
			t.Run(fmt.Sprintf("the adder shares an account with them: %v", shares), func(t *testing.T) {
				elsewhere := b.scene(t)
				grace := elsewhere.add("grace", "admin", equipe.MemberActive)
				s := b.scene(t)
				adder := s.users["admin"]
				if err := b.st.DB.Write(ctx, func(tx *store.Tx) error {
					if err := tx.SetUserNames(ctx, grace.ID, "Grace", "Hopper", time.Now()); err != nil {
						return err
					}
					if !shares {
						return nil
					}
					return tx.CreateMember(ctx, &equipe.Member{AccountID: elsewhere.account, UserID: adder.ID, Role: "guest",
						Status: equipe.MemberActive, JoinedAt: time.Now(), CreatedAt: time.Now()})
				}); err != nil {
					t.Fatal(err)
				}
				s.enrol(t, grace, "totp")
				if _, err := s.s.AddMember(ctx, s.admin(), s.account, team.NewMember{Email: grace.Email, Role: "collaborator",
					Resources: s.product()}); err != nil {
					t.Fatal(key(err))
				}
				if err := b.st.DB.Write(ctx, func(tx *store.Tx) error { return tx.SetUserDisabled(ctx, grace.ID, time.Now()) }); err != nil {
					t.Fatal(err)
				}
				wantFirst, wantLast := "", ""
				if shares {
					wantFirst, wantLast = "Grace", "Hopper"
				}
				v, err := s.s.ViewMember(ctx, s.admin(), s.account, grace.ID)
				if err != nil || v.User.FirstName != wantFirst || v.User.LastName != wantLast || v.SecondFactor || !v.User.DisabledAt.IsZero() {
					t.Errorf("the member's view: %q %q, second factor %v, disabled %v (%v)", v.User.FirstName, v.User.LastName,
						v.SecondFactor, v.User.DisabledAt, err)
				}
				rows, _, err := s.s.TeamPage(ctx, s.admin(), team.MemberFilter{Account: s.account, Limit: 50})
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, r := range rows {
					if r.Member.UserID == grace.ID {
						found = true
						if r.FirstName != wantFirst || r.LastName != wantLast || r.SecondFactor || r.UserDisabled {
							t.Errorf("the team page: %q %q, second factor %v, disabled %v", r.FirstName, r.LastName, r.SecondFactor, r.UserDisabled)
						}
					}
				}
				if !found {
					t.Fatal("not on the team page")
				}
				if rows, _, err := s.s.TeamPage(ctx, s.admin(), team.MemberFilter{Account: s.account, Search: "hopper", Limit: 50}); err != nil || (len(rows) == 1) != shares {
					t.Errorf("a search for their name finds %d (%v)", len(rows), err)
				}
				for _, m := range servicetest.Mails(t, b.raw, adder.Email) {
					if m.Template == mail.TemplateAdderConfirmation && strings.Contains(m.Text, "Hopper") != shares {
						t.Errorf("the confirmation to the adder: %s", m.Text)
					}
				}
			})
		}
	})
}

// TestAddMember_SomeoneWithAnIdentityIsWrittenToInTheirOwnLanguageByTheirOwnName:
// the language and names an administrator types for an address that has
// an identity are the account's: the emails to the person themselves (the
// access granted, the welcome) greet them by their own names in their own
// language.
func TestAddMember_SomeoneWithAnIdentityIsWrittenToInTheirOwnLanguageByTheirOwnName(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		elsewhere := b.scene(t)
		grace := elsewhere.add("grace", "admin", equipe.MemberActive) // French, named "grace X"
		if err := b.st.DB.Write(ctx, func(tx *store.Tx) error { return tx.SetUserNames(ctx, grace.ID, "Grace", "Hopper", time.Now()) }); err != nil {
			t.Fatal(err)
		}
		s := b.scene(t)
		if _, err := s.s.AddMember(ctx, s.admin(), s.account, team.NewMember{Email: grace.Email, FirstName: "Typed", LastName: "Name",
			Locale: "en", Role: "collaborator", Resources: s.product(), SendInvitation: true, SendWelcome: true}); err != nil {
			t.Fatal(err)
		}
		mails := servicetest.Mails(t, b.raw, grace.Email)
		if len(mails) != 2 {
			t.Fatalf("%d emails to them", len(mails))
		}
		for _, m := range mails {
			if !strings.Contains(m.Text, "Bonjour Grace Hopper") || strings.Contains(m.Text, "Typed") {
				t.Errorf("%s: %q", m.Template, m.Text)
			}
		}
	})
}

// TestAcceptInvitation_ThePersonKeepsTheLanguageTheyJoinedIn: someone with
// no language of their own who joins by an invitation keeps the language
// of the page they joined on, else the one the account chose for them,
// else the account's; one who has a language keeps it.
func TestAcceptInvitation_ThePersonKeepsTheLanguageTheyJoinedIn(t *testing.T) {
	tests := []struct {
		// switched: the language the person chose on the page; page: the
		// one it was shown in; chosen: the account's for their emails;
		// account: the account's own.
		name, switched, page, chosen, account, own, want string
	}{
		{name: "the language they switched the page to", switched: "en", page: "en", chosen: "fr", want: "en"},
		{name: "the account's choice over the page's", page: "fr", chosen: "en", want: "en"},
		{name: "the page's when the account chose none", page: "en", want: "en"},
		{name: "the account's when nobody said", account: "en", want: "en"},
		{name: "their own, whatever the page", switched: "en", page: "en", chosen: "en", own: "fr", want: "fr"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				email := s.email("grace")
				if tt.own != "" {
					elsewhere := b.scene(t)
					email = elsewhere.add("grace", "admin", equipe.MemberActive).Email
					if err := b.st.DB.Write(ctx, func(tx *store.Tx) error {
						u, err := tx.UserByEmailKey(ctx, email)
						if err != nil {
							return err
						}
						u.Locale = tt.own
						if err := tx.SetPassword(ctx, u.ID, b.st.Identity.Hasher.Hash(password), time.Now()); err != nil {
							return err
						}
						return tx.SetProfile(ctx, &u, time.Now())
					}); err != nil {
						t.Fatal(err)
					}
				}
				if tt.account != "" {
					if _, err := s.s.UpdateAccount(ctx, s.admin(), s.account, team.AccountChange{Locale: &tt.account}); err != nil {
						t.Fatal(err)
					}
				}
				a, err := s.s.AddMember(ctx, s.admin(), s.account, team.NewMember{Email: email, FirstName: "Grace", LastName: "Hopper",
					Locale: tt.chosen, Role: "collaborator", Resources: s.product(), SendInvitation: true})
				if err != nil {
					t.Fatal(err)
				}
				var current *identity.Auth
				in := identity.Accept{Password: password, AcceptPrivacyPolicy: true, Locale: tt.switched, PageLocale: tt.page}
				if tt.own != "" {
					u, err := s.db.UserByID(ctx, a.User.ID)
					if err != nil {
						t.Fatal(err)
					}
					current, in = &identity.Auth{User: u}, identity.Accept{Locale: tt.switched, PageLocale: tt.page}
				}
				if _, _, err := b.st.Identity.AcceptInvitation(ctx, s.secret(email, "/invitations/"), in, current, origin); err != nil {
					t.Fatal(err)
				}
				if u, err := s.db.UserByID(ctx, a.User.ID); err != nil || u.Locale != tt.want {
					t.Errorf("their language: %q, want %q (%v)", u.Locale, tt.want, err)
				}
			})
		}
	})
}

// TestAddMember_AWelcomeSaysHowThePersonLogsIn: the welcome email tells
// someone without a password where they choose one — the invitation sent
// with it, or one to come — and only someone with a password to log in.
func TestAddMember_AWelcomeSaysHowThePersonLogsIn(t *testing.T) {
	tests := []struct {
		name     string
		password bool
		invite   bool
		want     string
	}{
		{name: "a new person, the invitation sent with it", invite: true, want: "Choisissez d’abord votre mot de passe avec le lien de l’e-mail d’invitation envoyé avec celui-ci"},
		{name: "a new person, welcomed alone", want: "Vous recevrez une invitation à choisir votre mot de passe"},
		{name: "someone with a password", password: true, want: "Vous pouvez vous connecter à tout moment ici"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				email := s.email("grace")
				if tt.password {
					elsewhere := b.scene(t)
					u := elsewhere.add("grace", "admin", equipe.MemberActive)
					email = u.Email
					if err := b.st.DB.Write(ctx, func(tx *store.Tx) error {
						return tx.SetPassword(ctx, u.ID, b.st.Identity.Hasher.Hash(password), time.Now())
					}); err != nil {
						t.Fatal(err)
					}
				}
				added, err := s.s.AddMember(ctx, s.admin(), s.account, team.NewMember{Email: email, FirstName: "Grace", Role: "collaborator",
					Resources: s.product(), SendWelcome: true, SendInvitation: tt.invite})
				if err != nil {
					t.Fatal(err)
				}
				if !added.Welcomed || added.Invited != tt.invite {
					t.Errorf("welcomed %v, invited %v", added.Welcomed, added.Invited)
				}
				var welcome string
				for _, m := range servicetest.Mails(t, b.raw, email) {
					if m.Template == mail.TemplateWelcome {
						welcome = m.Text
					}
				}
				if !strings.Contains(welcome, tt.want) || strings.Contains(welcome, "que vous avez reçu") {
					t.Errorf("the welcome: %q", welcome)
				}
			})
		}
	})
}
