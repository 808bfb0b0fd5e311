package team_test

import (
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// TestAddMember_AnExternalIDGivenMustBeOne: a member added with an
// external ID that is empty, too long or not printable is refused with
// external_id.invalid (external_id.too_long) on the field external_id, as a
// change to one is, and nobody is added; one added with none (nil) has none.
func TestAddMember_AnExternalIDGivenMustBeOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.add("zoe", "admin", equipe.MemberActive)
		add := func(name string, ext *string) (team.Added, error) {
			return w.s.AddMember(ctx, w.actor("zoe"), w.account, team.NewMember{Email: w.email(name), Role: "collaborator",
				Resources: []equipe.ID{w.res[2].ID}, ExternalID: ext})
		}
		for bad, want := range map[string]string{"": "external_id.invalid", "tab\there": "external_id.invalid",
			strings.Repeat("x", team.MaxPersonExternalID+1): "external_id.too_long"} {
			_, err := add("eve", &bad)
			if e := equipe.AsError(err); e.Code != equipe.EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != "external_id" ||
				e.Fields[0].Key != want {
				t.Errorf("%q: %v, want %s on external_id", bad, err, want)
			}
		}
		if ms, err := db.Members(ctx, w.account); err != nil || len(ms) != 1 {
			t.Fatalf("members after the refusals: %d %v", len(ms), err)
		}
		if a, err := add("eve", nil); err != nil || a.Member.ExternalID != "" {
			t.Fatalf("added with none: %+v %v", a.Member, err)
		}
	})
}

// TestExternalIDs_MembersCarryTheVendorsIDInTheirAccountOnly: a member's
// external ID is set on adding and changing, unique in the account (409
// member.external_id_taken) but free in another, cleared with "", recorded
// in member.added and member.changed; it names the member in checks and
// member lookups of its account only, never in another.
func TestExternalIDs_MembersCarryTheVendorsIDInTheirAccountOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.add("zoe", "admin", equipe.MemberActive)
		adam := w.add("adam", "collaborator", equipe.MemberActive)
		other := worldOn(t, w.st, freshDomain())
		other.add("olga", "admin", equipe.MemberActive)

		added, err := w.s.AddMember(ctx, w.actor("zoe"), w.account, team.NewMember{Email: w.email("eve"), Role: "collaborator",
			Resources: []equipe.ID{w.res[2].ID}, ExternalID: ptr("crm-42")})
		if err != nil || added.Member.ExternalID != "crm-42" {
			t.Fatalf("add with an external ID: %+v %v", added.Member, err)
		}
		if m, _ := db.Member(ctx, w.account, added.User.ID); m.ExternalID != "crm-42" {
			t.Fatalf("stored: %q", m.ExternalID)
		}
		// Taken in the account, by adding or by changing; case counts.
		if _, err := w.s.AddMember(ctx, w.actor("zoe"), w.account, team.NewMember{Email: w.email("bob"), Role: "collaborator",
			Resources: []equipe.ID{w.res[2].ID}, ExternalID: ptr("crm-42")}); code(err) != "conflict member.external_id_taken" {
			t.Fatalf("a second member with the ID: %s", code(err))
		}
		taken := "crm-42"
		if _, err := w.s.ChangeMember(ctx, w.actor("zoe"), w.account, adam.ID, team.MemberChange{ExternalID: &taken}); code(err) != "conflict member.external_id_taken" {
			t.Fatalf("changing to a taken ID: %s", code(err))
		}
		upper := "CRM-42"
		if m, err := w.s.ChangeMember(ctx, w.actor("zoe"), w.account, adam.ID, team.MemberChange{ExternalID: &upper}); err != nil || m.ExternalID != upper {
			t.Fatalf("another case is another ID: %+v %v", m, err)
		}
		// Free in another account.
		if _, err := other.s.AddMember(ctx, other.actor("olga"), other.account, team.NewMember{Email: other.email("eve"),
			Role: "collaborator", Resources: []equipe.ID{other.res[2].ID}, ExternalID: ptr("crm-42")}); err != nil {
			t.Fatalf("the same ID in another account: %v", err)
		}
		// Bad identifiers change nothing.
		for _, bad := range []string{strings.Repeat("x", team.MaxPersonExternalID+1), "tab\there", "\x00"} {
			b := bad
			if _, err := w.s.ChangeMember(ctx, w.actor("zoe"), w.account, adam.ID, team.MemberChange{ExternalID: &b}); code(err) != "invalid error.fields" {
				t.Fatalf("%q: %s", bad, code(err))
			}
		}
		if m, _ := db.Member(ctx, w.account, adam.ID); m.ExternalID != upper {
			t.Fatalf("after refusals: %q", m.ExternalID)
		}

		// Lookups and checks by external ID, in the account only.
		if id, err := w.s.MemberByExternalID(ctx, w.actor("zoe"), w.account, "crm-42"); err != nil || id != added.User.ID {
			t.Fatalf("lookup: %v %v", id, err)
		}
		if _, err := w.s.MemberByExternalID(ctx, other.actor("olga"), other.account, upper); code(err) != "not_found error.not_found" {
			t.Fatalf("another account's ID: %s", code(err))
		}
		if _, err := w.s.MemberByExternalID(ctx, other.actor("olga"), w.account, "crm-42"); code(err) != "not_found error.not_found" {
			t.Fatalf("an account out of reach: %s", code(err))
		}
		key := team.Actor{Key: &equipe.APIKey{ID: equipe.NewID()}}
		ext := func(s string) *team.UserRef { return &team.UserRef{Kind: team.RefExternal, Text: s} }
		checks := []struct {
			name    string
			q       team.CheckQuery
			allowed bool
			reason  access.Reason
		}{
			{"by external ID", team.CheckQuery{Account: w.account, UserRef: ext(upper), Permission: "records.view"}, true, access.AllowedScopeOwnedOrUnassigned},
			{"the same as by ID", team.CheckQuery{Account: w.account, User: adam.ID, Permission: "records.view"}, true, access.AllowedScopeOwnedOrUnassigned},
			{"by email", team.CheckQuery{Account: w.account, UserRef: &team.UserRef{Kind: team.RefEmail, Text: strings.ToUpper(adam.Email)}, Permission: "members.manage"}, false, access.DeniedNotGranted},
			{"an unknown ID", team.CheckQuery{Account: w.account, UserRef: ext("nobody"), Permission: "records.view"}, false, access.DeniedNotMember},
			{"case counts", team.CheckQuery{Account: w.account, UserRef: ext("crm-42 "), Permission: "records.view"}, false, access.DeniedNotMember},
			{"another account's member's ID", team.CheckQuery{Account: other.account, UserRef: ext(upper), Permission: "records.view"}, false, access.DeniedNotMember},
			{"an owner by external ID: own record", team.CheckQuery{Account: w.account, User: adam.ID, OwnerRef: ext(upper), Permission: "records.view"}, true, access.Allowed},
			{"an owner by external ID: another's", team.CheckQuery{Account: w.account, User: adam.ID, OwnerRef: ext("crm-42"), Permission: "records.view"}, false, access.DeniedScope},
			{"an owner nobody here is", team.CheckQuery{Account: w.account, User: adam.ID, OwnerRef: ext("nobody"), Permission: "records.view"}, false, access.DeniedScope},
		}
		for _, c := range checks {
			d, err := w.s.Check(ctx, key, c.q)
			if err != nil || d.Allowed != c.allowed || d.Reason != c.reason {
				t.Errorf("%s: %+v %v", c.name, d, err)
			}
		}

		// Cleared with "": the ID names no one, and is free again.
		none := ""
		if m, err := w.s.ChangeMember(ctx, w.actor("zoe"), w.account, adam.ID, team.MemberChange{ExternalID: &none}); err != nil || m.ExternalID != "" {
			t.Fatalf("clear: %+v %v", m, err)
		}
		if _, err := w.s.MemberByExternalID(ctx, w.actor("zoe"), w.account, upper); code(err) != "not_found error.not_found" {
			t.Fatalf("a cleared ID: %s", code(err))
		}
		events, err := db.AuditEvents(ctx, store.AuditFilter{AccountID: &w.account, Action: "member.changed", TargetID: adam.ID.String()})
		if err != nil || len(events) != 2 {
			t.Fatalf("member.changed: %d %v", len(events), err)
		}
		var seen []string
		for _, e := range events {
			seen = append(seen, string(e.Before)+" → "+string(e.After))
		}
		all := strings.Join(seen, "\n")
		if !strings.Contains(all, `"external_id":"CRM-42"`) {
			t.Fatalf("the events do not record the ID: %s", all)
		}
		addedEvents, _ := db.AuditEvents(ctx, store.AuditFilter{AccountID: &w.account, Action: "member.added", TargetID: added.User.ID.String()})
		if len(addedEvents) != 1 || !strings.Contains(string(addedEvents[0].After), `"external_id":"crm-42"`) {
			t.Fatalf("member.added: %+v", addedEvents)
		}
	})
}

// TestExternalIDs_OnlyTheInstanceSetsAUsersIDWhichNamesThemInTheirAccounts:
// the instance sets, changes and clears a user's external ID
// (user.external_id_changed), unique in the instance; an account's
// administrator or key is answered as if the user did not exist. The
// user's ID names them in every account they are a member of, and in no
// other; a member's own ID comes first.
func TestExternalIDs_OnlyTheInstanceSetsAUsersIDWhichNamesThemInTheirAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		zoe := w.add("zoe", "admin", equipe.MemberActive)
		adam := w.add("adam", "collaborator", equipe.MemberActive)
		other := worldOn(t, w.st, freshDomain())
		other.add("olga", "admin", equipe.MemberActive)
		admin := *zoe
		admin.InstanceAdmin = true
		instance := team.Actor{User: &admin}
		instanceKey := team.Actor{Key: &equipe.APIKey{ID: equipe.NewID()}}

		for _, a := range []team.Actor{w.actor("zoe"), {Key: &equipe.APIKey{ID: equipe.NewID(), AccountID: &w.account}}} {
			if _, err := w.s.SetUserExternalID(ctx, a, adam.ID, "u-1"); code(err) != "not_found error.not_found" {
				t.Fatalf("set from an account: %s", code(err))
			}
			if _, err := w.s.UserByExternalID(ctx, a, "u-1"); code(err) != "not_found error.not_found" {
				t.Fatalf("lookup from an account: %s", code(err))
			}
		}
		if u, err := w.s.SetUserExternalID(ctx, instanceKey, adam.ID, "u-1"); err != nil || u.ExternalID != "u-1" {
			t.Fatalf("set: %+v %v", u, err)
		}
		if _, err := w.s.SetUserExternalID(ctx, instance, zoe.ID, "u-1"); code(err) != "conflict user.external_id_taken" {
			t.Fatalf("a taken ID: %s", code(err))
		}
		if _, err := w.s.SetUserExternalID(ctx, instance, zoe.ID, strings.Repeat("é", 256)); code(err) != "invalid error.fields" {
			t.Fatalf("too long: %s", code(err))
		}
		if _, err := w.s.SetUserExternalID(ctx, instance, equipe.NewID(), "u-2"); code(err) != "not_found error.not_found" {
			t.Fatalf("an unknown user: %s", code(err))
		}
		if id, err := w.s.UserByExternalID(ctx, instance, "u-1"); err != nil || id != adam.ID {
			t.Fatalf("lookup: %v %v", id, err)
		}
		if u, _ := db.UserByID(ctx, adam.ID); u.ExternalID != "u-1" {
			t.Fatalf("stored: %q", u.ExternalID)
		}
		// In adam's account the user's ID names him; in another, no one.
		if id, err := w.s.MemberByExternalID(ctx, w.actor("zoe"), w.account, "u-1"); err != nil || id != adam.ID {
			t.Fatalf("the user's ID in their account: %v %v", id, err)
		}
		if _, err := other.s.MemberByExternalID(ctx, other.actor("olga"), other.account, "u-1"); code(err) != "not_found error.not_found" {
			t.Fatalf("the user's ID in another account: %s", code(err))
		}
		// A member's own ID comes before another's user's ID.
		mine := "u-1"
		if _, err := w.s.ChangeMember(ctx, w.actor("zoe"), w.account, zoe.ID, team.MemberChange{ExternalID: &mine}); err != nil {
			t.Fatal(err)
		}
		if id, _ := w.s.MemberByExternalID(ctx, w.actor("zoe"), w.account, "u-1"); id != zoe.ID {
			t.Fatalf("a member's own ID first: %v", id)
		}
		// Setting the same ID again records nothing; clearing does.
		if _, err := w.s.SetUserExternalID(ctx, instance, adam.ID, "u-1"); err != nil {
			t.Fatal(err)
		}
		if u, err := w.s.SetUserExternalID(ctx, instance, adam.ID, ""); err != nil || u.ExternalID != "" {
			t.Fatalf("clear: %+v %v", u, err)
		}
		events, err := db.AuditEvents(ctx, store.AuditFilter{Action: "user.external_id_changed", TargetID: adam.ID.String()})
		if err != nil || len(events) != 2 {
			t.Fatalf("events: %+v %v", events, err)
		}
		if _, err := w.s.UserByExternalID(ctx, instance, "u-1"); code(err) != "not_found error.not_found" {
			t.Fatalf("a cleared ID: %s", code(err))
		}
	})
}
