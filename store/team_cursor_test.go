package store_test

import (
	"fmt"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestListMembers_ACursorIsReadOnlyUnderTheSortAndFiltersThatMadeIt: a
// cursor holds a position in one order of one selection; under another
// sort, direction or filter that position means nothing, and reading it
// gave an arbitrary slice of the list. It is refused as another list's
// cursor is; the same order and selection, however written, read it.
func TestListMembers_ACursorIsReadOnlyUnderTheSortAndFiltersThatMadeIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		account := equipe.NewID()
		res := equipe.Resource{ID: equipe.NewID(), AccountID: account, Type: "location", Name: "Paris", CreatedAt: t0}
		write(t, db, func(tx *store.Tx) error {
			if err := tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "A", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}); err != nil {
				return err
			}
			if err := tx.CreateResource(ctx, &res); err != nil {
				return err
			}
			for i := range 12 {
				email := fmt.Sprintf("u%02d@example.com", i)
				u := &equipe.User{ID: equipe.NewID(), Email: email, EmailKey: email, FirstName: "Ana", LastName: fmt.Sprintf("Martin %02d", i),
					Locale: "fr", CreatedAt: t0}
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				m := &equipe.Member{AccountID: account, UserID: u.ID, Role: []string{"admin", "collaborator"}[i%2],
					Status: []equipe.MemberStatus{equipe.MemberActive, equipe.MemberInvited}[i%2], CreatedAt: t0}
				if m.Status == equipe.MemberActive {
					m.JoinedAt = t0
				} else {
					// Added under the names they will choose.
					m.FirstName, m.LastName = u.FirstName, u.LastName
				}
				if err := tx.CreateMember(ctx, m); err != nil {
					return err
				}
				if err := tx.AssignResource(ctx, account, u.ID, res.ID); err != nil {
					return err
				}
			}
			return nil
		})
		made := store.MemberFilter{Account: account, Search: "ana", Limit: 3}
		_, next, err := db.ListMembers(ctx, made)
		if err != nil || next == "" {
			t.Fatalf("first page: %q %v", next, err)
		}
		for name, f := range map[string]store.MemberFilter{
			"by role":       {Sort: store.SortRole},
			"by status":     {Sort: store.SortStatus},
			"by last login": {Sort: store.SortLastLogin},
			"reversed":      {Desc: true},
			"a status":      {Status: equipe.MemberActive},
			"a role":        {Role: "admin"},
			"a resource":    {Resource: &res.ID},
			"no search":     {Search: "-"},
			"other words":   {Search: "martin"},
		} {
			f.Account, f.Limit, f.After = account, 3, next
			if f.Search == "" {
				f.Search = made.Search
			} else if f.Search == "-" {
				f.Search = ""
			}
			if _, _, err := db.ListMembers(ctx, f); equipe.ErrorCode(err) != equipe.EBADREQUEST {
				t.Errorf("%s: %v, want the cursor refused", name, err)
			}
		}
		// The same list: the name order said or not, the search's words in
		// another case and spacing, another page size.
		for _, f := range []store.MemberFilter{made, {Sort: store.SortName, Search: "ana"}, {Search: "  ANA "}} {
			f.Account, f.Limit, f.After = account, 5, next
			rows, _, err := db.ListMembers(ctx, f)
			if err != nil || len(rows) != 5 || rows[0].LastName != "Martin 03" {
				t.Errorf("%+v: %d rows %v", f, len(rows), err)
			}
		}
	})
}
