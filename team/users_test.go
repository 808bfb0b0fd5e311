package team_test

import (
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// TestUsers_OnlyTheInstanceFindsPeopleSeesThemAndEndsTheirSessions: an
// instance administrator or an instance key searches the people, sees one
// with their memberships and open sessions, and ends every session of
// theirs (audited); an account's administrator or key is answered as if
// nothing existed, and ends nothing.
func TestUsers_OnlyTheInstanceFindsPeopleSeesThemAndEndsTheirSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		zoe := w.add("zoe", "admin", equipe.MemberActive)
		adam := w.add("adam", "collaborator", equipe.MemberActive)
		now := w.st.Clock.Now()
		for range 2 {
			if err := db.Write(ctx, func(tx *store.Tx) error {
				return tx.CreateSession(ctx, &equipe.Session{ID: equipe.NewID(), Hash: []byte(equipe.NewID().String()), UserID: adam.ID,
					CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)})
			}); err != nil {
				t.Fatal(err)
			}
		}
		admin := *zoe
		admin.InstanceAdmin = true
		instance := []team.Actor{{User: &admin}, {Key: &equipe.APIKey{ID: equipe.NewID()}}}
		outside := []team.Actor{w.actor("zoe"), {Key: &equipe.APIKey{ID: equipe.NewID(), AccountID: &w.account}}}

		for _, a := range instance {
			users, next, err := w.s.Users(ctx, a, "ADAM", equipe.Page{Limit: 10})
			if err != nil || len(users) != 1 || users[0].ID != adam.ID || next != "" {
				t.Fatalf("search: %v %q %v", users, next, err)
			}
			v, err := w.s.User(ctx, a, adam.ID, time.Hour)
			if err != nil || v.Sessions != 2 || len(v.Memberships) != 1 || v.Memberships[0].Account.ID != w.account {
				t.Fatalf("a person: %+v %v", v, err)
			}
		}
		if _, _, err := w.s.Users(ctx, instance[0], "", equipe.Page{Limit: equipe.MaxPage + 1}); code(err) != "bad_request error.fields" {
			t.Fatalf("a page too long: %s", code(err))
		}
		for _, a := range outside {
			if _, _, err := w.s.Users(ctx, a, "", equipe.Page{Limit: 10}); code(err) != "not_found error.not_found" {
				t.Fatalf("the people to an account: %s", code(err))
			}
			if _, err := w.s.User(ctx, a, adam.ID, time.Hour); code(err) != "not_found error.not_found" {
				t.Fatalf("a person to an account: %s", code(err))
			}
			if _, err := w.s.EndUserSessions(ctx, a, adam.ID); code(err) != "not_found error.not_found" {
				t.Fatalf("ending sessions from an account: %s", code(err))
			}
		}
		if n, err := w.s.EndUserSessions(ctx, instance[1], adam.ID); err != nil || n != 2 {
			t.Fatalf("end the sessions: %d %v", n, err)
		}
		if v, _ := w.s.User(ctx, instance[0], adam.ID, time.Hour); v.Sessions != 0 {
			t.Fatalf("sessions left: %d", v.Sessions)
		}
		events, err := db.AuditEvents(ctx, store.AuditFilter{Action: "user.sessions_ended", TargetID: adam.ID.String()})
		if err != nil || len(events) != 1 || events[0].ActorType != "instance_key" {
			t.Fatalf("the audit: %+v %v", events, err)
		}
		if _, err := w.s.EndUserSessions(ctx, instance[0], equipe.NewID()); code(err) != "not_found error.not_found" {
			t.Fatalf("an unknown person: %s", code(err))
		}
	})
}
