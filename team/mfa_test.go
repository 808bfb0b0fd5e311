package team_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
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

// enrol gives the user a second factor as the store keeps it: a confirmed
// authenticator app, or a passkey.
func (s *scene) enrol(t *testing.T, u *equipe.User, kind string) {
	t.Helper()
	now := s.b.st.Clock.Now().UnixMicro()
	var err error
	switch kind {
	case "totp":
		_, err = s.b.raw.Exec(`INSERT INTO totp_factors (user_id, secret, key_id, created_at, confirmed_at) VALUES ($1, $2, 'k', $3, $3)`,
			u.ID.String(), []byte("sealed"), now)
	case "unconfirmed totp":
		_, err = s.b.raw.Exec(`INSERT INTO totp_factors (user_id, secret, key_id, created_at) VALUES ($1, $2, 'k', $3)`,
			u.ID.String(), []byte("sealed"), now)
	case "passkey":
		_, err = s.b.raw.Exec(`INSERT INTO passkeys (id, user_id, credential_id, name, credential, created_at) VALUES ($1, $2, $3, 'Laptop', '{}', $4)`,
			equipe.NewID().String(), u.ID.String(), []byte(u.ID.String()), now)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// require sets the account's second-factor requirement with grace hours.
func (s *scene) require(t *testing.T, on bool, grace int) equipe.Account {
	t.Helper()
	a, err := s.s.UpdateAccount(ctx, s.admin(), s.account, team.AccountChange{MFARequired: &on, MFAGraceHours: &grace})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (s *scene) rule(t *testing.T, u *equipe.User) team.SecondFactorRule {
	t.Helper()
	r, err := s.s.SecondFactorRule(ctx, s.account, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSecondFactorRule_GraceCountsFromTheRequirementOrJoiningAndEnrolledMembersPass(t *testing.T) {
	hour := time.Hour
	tests := []struct {
		name string
		// run builds the row's state on s and returns the member asked
		// about and the deadline expected (zero: the rule holds nothing).
		run func(t *testing.T, s *scene) (*equipe.User, time.Time)
		due bool
	}{
		{name: "an account without the requirement holds nobody back", run: func(t *testing.T, s *scene) (*equipe.User, time.Time) {
			return s.joined("ana", "collaborator"), time.Time{}
		}},
		{name: "no grace: due at once", due: true, run: func(t *testing.T, s *scene) (*equipe.User, time.Time) {
			u := s.joined("ana", "collaborator")
			s.rule(t, u) // cached before the requirement: the change must reach the cache
			a := s.require(t, true, 0)
			return u, a.MFARequiredAt
		}},
		{name: "within the grace: told the deadline", run: func(t *testing.T, s *scene) (*equipe.User, time.Time) {
			u := s.joined("ana", "collaborator")
			a := s.require(t, true, 48)
			s.b.st.Clock.Advance(47 * hour)
			return u, a.MFARequiredAt.Add(48 * hour)
		}},
		{name: "once the grace is over: due", due: true, run: func(t *testing.T, s *scene) (*equipe.User, time.Time) {
			u := s.joined("ana", "collaborator")
			a := s.require(t, true, 48)
			s.b.st.Clock.Advance(48 * hour)
			return u, a.MFARequiredAt.Add(48 * hour)
		}},
		{name: "a member who joins later gets the whole grace from joining", run: func(t *testing.T, s *scene) (*equipe.User, time.Time) {
			s.require(t, true, 24)
			s.b.st.Clock.Advance(30 * hour)
			u := s.joined("ana", "collaborator")
			s.b.st.Clock.Advance(23 * hour)
			return u, s.member(u.ID).JoinedAt.Add(24 * hour)
		}},
		{name: "a longer grace set later moves the deadline", run: func(t *testing.T, s *scene) (*equipe.User, time.Time) {
			u := s.joined("ana", "collaborator")
			a := s.require(t, true, 0)
			s.require(t, true, 72) // required again: the start stays
			return u, a.MFARequiredAt.Add(72 * hour)
		}},
		{name: "an authenticator app passes", run: func(t *testing.T, s *scene) (*equipe.User, time.Time) {
			u := s.joined("ana", "collaborator")
			s.require(t, true, 0)
			s.enrol(t, u, "totp")
			return u, time.Time{}
		}},
		{name: "a passkey passes", run: func(t *testing.T, s *scene) (*equipe.User, time.Time) {
			u := s.joined("ana", "collaborator")
			s.require(t, true, 0)
			s.enrol(t, u, "passkey")
			return u, time.Time{}
		}},
		{name: "an authenticator app not confirmed is none", due: true, run: func(t *testing.T, s *scene) (*equipe.User, time.Time) {
			u := s.joined("ana", "collaborator")
			a := s.require(t, true, 0)
			s.enrol(t, u, "unconfirmed totp")
			return u, a.MFARequiredAt
		}},
		{name: "turned off, it holds nobody back", run: func(t *testing.T, s *scene) (*equipe.User, time.Time) {
			u := s.joined("ana", "collaborator")
			s.require(t, true, 0)
			s.require(t, false, 0)
			return u, time.Time{}
		}},
		{name: "a suspended member is told they are suspended, not to enrol", run: func(t *testing.T, s *scene) (*equipe.User, time.Time) {
			u := s.suspended("ana", "collaborator")
			s.require(t, true, 0)
			return u, time.Time{}
		}},
		{name: "someone who is no member is not held back here", run: func(t *testing.T, s *scene) (*equipe.User, time.Time) {
			other := s.b.scene(t)
			u := other.joined("ana", "collaborator")
			s.require(t, true, 0)
			return u, time.Time{}
		}},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				u, deadline := tt.run(t, s)
				got := s.rule(t, u)
				want := team.SecondFactorRule{Enrol: !deadline.IsZero(), Deadline: deadline, Due: tt.due}
				if !got.Deadline.Equal(want.Deadline) || got.Enrol != want.Enrol || got.Due != want.Due {
					t.Errorf("rule %+v, want %+v", got, want)
				}
			})
		}
	})
}

func TestUpdateAccount_TheSecondFactorRequirementIsRecordedAndItsGraceBounded(t *testing.T) {
	tests := []struct {
		name     string
		actor    string
		required bool
		grace    int
		refusal  string
	}{
		{name: "required at once", actor: "admin", required: true, grace: 0},
		{name: "required within ninety days", actor: "admin", required: true, grace: 90 * 24},
		{name: "a negative grace", actor: "admin", required: true, grace: -1,
			refusal: "error.fields mfa_grace_hours=account.mfa_grace_invalid"},
		{name: "a grace beyond ninety days", actor: "admin", required: true, grace: 90*24 + 1,
			refusal: "error.fields mfa_grace_hours=account.mfa_grace_invalid"},
		{name: "a manager may not", actor: "manager", required: true, grace: 24, refusal: "access.permission_required"},
		{name: "a collaborator may not", actor: "collaborator", required: true, grace: 24, refusal: "access.permission_required"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				if tt.actor != "admin" {
					s.joined(tt.actor, tt.actor)
				}
				var got equipe.Account
				before, ok := s.done(t, tt.refusal, func() error {
					var err error
					got, err = s.s.UpdateAccount(ctx, s.actor(tt.actor), s.account,
						team.AccountChange{MFARequired: &tt.required, MFAGraceHours: &tt.grace})
					return err
				})
				if !ok {
					return
				}
				if !got.MFARequiredAt.Equal(b.st.Clock.Now()) || got.MFAGraceHours != tt.grace {
					t.Errorf("account: required at %v (now %v), grace %d", got.MFARequiredAt, b.st.Clock.Now(), got.MFAGraceHours)
				}
				es := s.wrote(t, before, event.AccountChanged.Type)
				var changed []string
				for _, c := range es[0].Changes() {
					changed = append(changed, c.Name)
				}
				want := []string{"mfa_required"}
				if tt.grace != 0 {
					want = append(want, "mfa_grace_hours")
				}
				if !slices.Equal(changed, want) {
					t.Errorf("the event changes %v, want %v", changed, want)
				}
				read, err := s.s.Account(ctx, s.admin(), s.account)
				if err != nil || !read.MFARequiredAt.Equal(got.MFARequiredAt) || read.MFAGraceHours != tt.grace {
					t.Errorf("read back: %v %d %v", read.MFARequiredAt, read.MFAGraceHours, err)
				}
			})
		}
	})
}

// BenchmarkSecondFactorRule measures what the rule adds to every request
// in an account: an account without the requirement (the cache alone), one
// that requires it of a member without a factor, and of one with a factor.
func BenchmarkSecondFactorRule(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			db, cfg := storetest.OpenConfig(b, e)
			st := servicetest.New(b, db, identity.Params{})
			raw := storetest.Raw(b, cfg)
			now := time.Now()
			free, required := equipe.NewID(), equipe.NewID()
			users := map[string]equipe.ID{"none": equipe.NewID(), "enrolled": equipe.NewID()}
			err := db.Write(ctx, func(tx *store.Tx) error {
				for _, a := range []equipe.Account{{ID: free, Name: "Free", Locale: "fr", InvitationTTLHours: 168, CreatedAt: now},
					{ID: required, Name: "Required", Locale: "fr", InvitationTTLHours: 168, CreatedAt: now, MFARequiredAt: now, MFAGraceHours: 24}} {
					if err := tx.CreateAccount(ctx, &a); err != nil {
						return err
					}
				}
				for name, id := range users {
					u := equipe.User{ID: id, Email: name + "@bench.example", EmailKey: name + "@bench.example", FirstName: name,
						LastName: "Bench", Locale: "fr", CreatedAt: now}
					if err := tx.CreateUser(ctx, &u); err != nil {
						return err
					}
					for _, a := range []equipe.ID{free, required} {
						if err := tx.CreateMember(ctx, &equipe.Member{AccountID: a, UserID: id, Role: "collaborator",
							Status: equipe.MemberActive, CreatedAt: now, JoinedAt: now}); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := raw.Exec(`INSERT INTO totp_factors (user_id, secret, key_id, created_at, confirmed_at) VALUES ($1, $2, 'k', 1, 1)`,
				users["enrolled"].String(), []byte("sealed")); err != nil {
				b.Fatal(err)
			}
			for _, c := range []struct {
				name          string
				account, user equipe.ID
				enrol         bool
			}{
				{"not required", free, users["none"], false},
				{"required, no factor", required, users["none"], true},
				{"required, enrolled", required, users["enrolled"], false},
			} {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						r, err := st.Team.SecondFactorRule(ctx, c.account, c.user)
						if err != nil || r.Enrol != c.enrol {
							b.Fatalf("%+v %v", r, err)
						}
					}
				})
			}
		})
	}
}

func TestRemoveSecondFactors_AnInstanceAdministratorRemovesThemWithAReason(t *testing.T) {
	reason := "Lost phone; called back on the number on file, confirmed by her manager."
	tests := []struct {
		name    string
		factors []string // what the user has
		by      func(s *scene) team.Actor
		reason  string
		refusal string
		want    store.FactorSummary
	}{
		{name: "an instance administrator, an app and a passkey", factors: []string{"totp", "passkey"},
			by: func(s *scene) team.Actor { return s.b.instance }, reason: reason, want: store.FactorSummary{TOTP: true, Passkeys: 1}},
		{name: "an instance key, a passkey", factors: []string{"passkey"},
			by: func(s *scene) team.Actor { return s.b.instanceKey(s.t) }, reason: reason, want: store.FactorSummary{Passkeys: 1}},
		{name: "an app not confirmed yet goes too", factors: []string{"unconfirmed totp"},
			by: func(s *scene) team.Actor { return s.b.instance }, reason: reason, want: store.FactorSummary{TOTP: true}},
		{name: "the account's administrator may not", factors: []string{"totp"},
			by: (*scene).admin, reason: reason, refusal: "error.not_found"},
		{name: "the user may not", factors: []string{"totp"},
			by: func(s *scene) team.Actor { return s.actor("ana") }, reason: reason, refusal: "error.not_found"},
		{name: "no reason", factors: []string{"totp"}, by: func(s *scene) team.Actor { return s.b.instance }, reason: "  ",
			refusal: "error.fields reason=second_factors.reason_required"},
		{name: "a reason too long", factors: []string{"totp"}, by: func(s *scene) team.Actor { return s.b.instance },
			reason: strings.Repeat("é", 501), refusal: "error.fields reason=second_factors.reason_invalid"},
		{name: "nothing to remove", by: func(s *scene) team.Actor { return s.b.instance }, reason: reason,
			refusal: "second_factors.none"},
		// Their own security page asks for their password; a stolen session
		// must not strip them here.
		{name: "an instance administrator, their own", factors: []string{"totp"}, reason: reason,
			by: func(s *scene) team.Actor {
				u := *s.users["ana"]
				u.InstanceAdmin = true
				return team.Actor{User: &u, IP: "192.0.2.1"}
			},
			refusal: "second_factors.self"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				ana := s.joined("ana", "collaborator")
				// A session from before the factors (a login now would
				// need its second step).
				if _, _, err := b.st.Identity.LogIn(ctx, ana.Email, password, origin); err != nil {
					t.Fatal(err)
				}
				for _, f := range tt.factors {
					s.enrol(t, ana, f)
				}
				// A login waiting for its second step (with an app).
				_, _, pending := b.st.Identity.LogIn(ctx, ana.Email, password, origin)
				b.st.DB.WaitDetached()
				challenges := func() int {
					var n int
					if err := b.raw.QueryRow(`SELECT COUNT(*) FROM login_challenges WHERE user_id = $1 AND used_at = 0`, ana.ID.String()).Scan(&n); err != nil {
						t.Fatal(err)
					}
					return n
				}
				if slices.Contains(tt.factors, "totp") && challenges() == 0 {
					t.Fatal("no login waits for its second step")
				}
				var sessions int
				if err := b.raw.QueryRow(`SELECT COUNT(*) FROM sessions WHERE user_id = $1`, ana.ID.String()).Scan(&sessions); err != nil {
					t.Fatal(err)
				}
				by := tt.by(s)
				var had store.FactorSummary
				before := s.snapshot()
				mails := len(s.templates(ana.Email))
				_, ok := s.done(t, tt.refusal, func() error {
					var err error
					had, err = s.s.RemoveSecondFactors(ctx, by, ana.ID, tt.reason)
					return err
				})
				if !ok {
					return
				}
				if had != tt.want {
					t.Errorf("had %+v, want %+v", had, tt.want)
				}
				after := s.snapshot().counts
				for table, gone := range map[string]int{"sessions": sessions, "totp_factors": boolInt(tt.want.TOTP), "passkeys": tt.want.Passkeys} {
					if after[table] != before.counts[table]-gone {
						t.Errorf("%s: %d → %d", table, before.counts[table], after[table])
					}
				}
				if n := challenges(); n != 0 {
					t.Errorf("%d logins still wait for a second step", n)
				}
				var step *identity.SecondFactorRequired
				if errors.As(pending, &step) {
					if _, _, err := b.st.Identity.LogInSecondFactor(ctx, step.Challenge, "123456", origin); servicetest.Key(err) != "login.challenge_invalid" {
						t.Errorf("the waiting login's second step: %v, want login.challenge_invalid", err)
					}
				}
				if f, err := b.st.DB.Factors(ctx, ana.ID); err != nil || f != (store.FactorSummary{}) {
					t.Errorf("factors left: %+v %v", f, err)
				}
				if got := s.templates(ana.Email); len(got) != mails+1 || got[len(got)-1] != mail.TemplateSecondFactorsRemoved {
					t.Errorf("emails to ana: %v", got)
				}
				es, err := b.st.DB.AuditEvents(ctx, store.AuditFilter{Action: string(event.UserSecondFactorsRemoved.Type)})
				if err != nil {
					t.Fatal(err)
				}
				var mine []event.Event
				for _, row := range es {
					if row.TargetID == ana.ID.String() {
						mine = append(mine, event.Decode(row))
					}
				}
				if len(mine) != 1 {
					t.Fatalf("events about ana: %d", len(mine))
				}
				wantStates(t, mine[0], event.Factors{TOTP: tt.want.TOTP, Passkeys: tt.want.Passkeys},
					event.FactorRemoval{Justification: reason, Ended: sessions})
				if !reflect.DeepEqual(mine[0].Actor, recorded(by)) {
					t.Errorf("recorded actor %+v, want %+v", mine[0].Actor, recorded(by))
				}
			})
		}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// The person's page offers what RemoveSecondFactors would do: not on
// oneself, nor when there is nothing to remove.
func TestUser_RemovingSecondFactorsIsOfferedAsTheUseCaseAnswers(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		ana := s.joined("ana", "collaborator")
		self := *ana
		self.InstanceAdmin = true
		me := team.Actor{User: &self, IP: "192.0.2.1"}
		offered := func(by team.Actor) string {
			v, err := s.s.User(ctx, by, ana.ID, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return v.Actions.Get(team.UserRemoveFactors).Code()
		}
		if got := offered(b.instance); got != "second_factors.none" {
			t.Errorf("nothing to remove: %q", got)
		}
		s.enrol(t, ana, "totp")
		if got := offered(b.instance); got != "" {
			t.Errorf("another's: %q", got)
		}
		if got := offered(me); got != "second_factors.self" {
			t.Errorf("one's own: %q", got)
		}
	})
}
