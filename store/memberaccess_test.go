package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestMemberAccess_TellsAMemberAnIdentityAndADisabledOneApart reads what
// deciding access takes for each kind of person a check may name: a member
// with resources and a custom role, a member without, a member whose
// identity is disabled, an identity that is no member, and no identity at
// all; alone (MemberAccess) and with the whole account
// (AccountMembersAccess). Whether an identity is disabled is read from an
// index of its own, so restoring it must be seen as well as disabling it.
func TestMemberAccess_TellsAMemberAnIdentityAndADisabledOneApart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		account, other := equipe.NewID(), equipe.NewID()
		person := func(name string) *equipe.User {
			return &equipe.User{ID: equipe.NewID(), Email: name + "@example.com", EmailKey: name + "@example.com",
				FirstName: name, LastName: "Test", Locale: "en", CreatedAt: t0}
		}
		ana, bob, cyd, dan := person("ana"), person("bob"), person("cyd"), person("dan")
		north := equipe.Resource{ID: equipe.NewID(), AccountID: account, Type: "location", Name: "North", CreatedAt: t0}
		south := equipe.Resource{ID: equipe.NewID(), AccountID: account, Type: "location", Name: "South", CreatedAt: t0}
		joined := t0.Add(time.Hour)
		write(t, db, func(tx *store.Tx) error {
			for _, id := range []equipe.ID{account, other} {
				if err := tx.CreateAccount(ctx, &equipe.Account{ID: id, Name: "A", Locale: "en", InvitationTTLHours: 168, CreatedAt: t0}); err != nil {
					return err
				}
			}
			for _, u := range []*equipe.User{ana, bob, cyd, dan} {
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
			}
			for _, r := range []*equipe.Resource{&north, &south} {
				if err := tx.CreateResource(ctx, r); err != nil {
					return err
				}
			}
			if err := tx.CreateRole(ctx, &equipe.CustomRole{AccountID: account, Key: "auditor", LabelFR: "Auditrice", LabelEN: "Auditor",
				Grants: []equipe.Grant{{Permission: "members.view"}}, CreatedAt: t0, UpdatedAt: t0}); err != nil {
				return err
			}
			for _, m := range []equipe.Member{
				{AccountID: account, UserID: ana.ID, Role: "auditor", Status: equipe.MemberActive, JoinedAt: joined, CreatedAt: t0},
				{AccountID: account, UserID: bob.ID, Role: "collaborator", Status: equipe.MemberSuspended, CreatedAt: t0},
				{AccountID: account, UserID: cyd.ID, Role: "admin", Status: equipe.MemberActive, JoinedAt: joined, CreatedAt: t0},
				{AccountID: other, UserID: dan.ID, Role: "admin", Status: equipe.MemberActive, JoinedAt: joined, CreatedAt: t0},
			} {
				if err := tx.CreateMember(ctx, &m); err != nil {
					return err
				}
			}
			for _, r := range []equipe.ID{south.ID, north.ID} {
				if err := tx.AssignResource(ctx, account, ana.ID, r); err != nil {
					return err
				}
			}
			return tx.SetUserDisabled(ctx, cyd.ID, t0)
		})
		resources := []equipe.ID{north.ID, south.ID}
		slices.SortFunc(resources, func(a, b equipe.ID) int { return strings.Compare(a.String(), b.String()) })

		type want struct {
			user, member, disabled bool
			role                   string
			status                 equipe.MemberStatus
			custom                 bool
			resources              []equipe.ID
		}
		check := func(t *testing.T, name string, u equipe.ID, w want) {
			t.Helper()
			ma, user, member, err := db.MemberAccess(ctx, account, u)
			if err != nil || user != w.user || member != w.member || ma.UserDisabled != w.disabled || ma.Role != w.role ||
				ma.Status != w.status || (ma.CustomRole != nil) != w.custom || !slices.Equal(ma.Resources, w.resources) {
				t.Errorf("%s: user %v member %v %+v, %v; want %+v", name, user, member, ma, err, w)
			}
			if w.member && (ma.UserID != u || (w.status == equipe.MemberActive && !ma.JoinedAt.Equal(joined))) {
				t.Errorf("%s: %+v", name, ma)
			}
			if w.custom && (ma.CustomRole.LabelEN != "Auditor" || len(ma.CustomRole.Grants) != 1) {
				t.Errorf("%s: custom role %+v", name, ma.CustomRole)
			}
		}
		check(t, "a member with a custom role and two resources", ana.ID,
			want{user: true, member: true, role: "auditor", status: equipe.MemberActive, custom: true, resources: resources})
		check(t, "a suspended member without resources", bob.ID,
			want{user: true, member: true, role: "collaborator", status: equipe.MemberSuspended})
		check(t, "a member whose identity is disabled", cyd.ID,
			want{user: true, member: true, disabled: true, role: "admin", status: equipe.MemberActive})
		check(t, "an identity that is a member elsewhere", dan.ID, want{user: true})
		check(t, "no identity", equipe.NewID(), want{})

		write(t, db, func(tx *store.Tx) error { return tx.SetUserDisabled(ctx, dan.ID, t0) })
		check(t, "a disabled identity that is no member", dan.ID, want{user: true, disabled: true})

		ms, complete, err := db.AccountMembersAccess(ctx, account, 10)
		if err != nil || !complete || len(ms) != 3 {
			t.Fatalf("the account's members: %+v, %v, %v", ms, complete, err)
		}
		byUser := map[equipe.ID]store.MemberAccess{}
		for _, m := range ms {
			byUser[m.UserID] = m
		}
		if a := byUser[ana.ID]; a.UserDisabled || a.CustomRole == nil || !slices.Equal(a.Resources, resources) {
			t.Errorf("ana in the account's list: %+v", a)
		}
		if b := byUser[bob.ID]; b.UserDisabled || b.Status != equipe.MemberSuspended || len(b.Resources) != 0 {
			t.Errorf("bob in the account's list: %+v", b)
		}
		if c := byUser[cyd.ID]; !c.UserDisabled || c.Role != "admin" {
			t.Errorf("cyd in the account's list: %+v", c)
		}
		if _, complete, err := db.AccountMembersAccess(ctx, account, 2); complete || err != nil {
			t.Errorf("an account with more members than asked: complete %v, %v", complete, err)
		}

		// Restored, the identity is no longer found among the disabled.
		write(t, db, func(tx *store.Tx) error { return tx.SetUserDisabled(ctx, cyd.ID, time.Time{}) })
		check(t, "a member whose identity was restored", cyd.ID,
			want{user: true, member: true, role: "admin", status: equipe.MemberActive})
	})
}
