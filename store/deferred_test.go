package store_test

import (
	"strconv"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestDefer_WritesWhatEachWriteWouldHave writes a batch of new members the
// way an import does, deferred and merged, and reads back what writing
// them one by one leaves: users, members, their resources, an invitation
// recorded on a member not written yet and on one written before, tokens
// (the older link superseded), an email queued, events and their webhook
// deliveries.
func TestDefer_WritesWhatEachWriteWouldHave(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := &equipe.Account{ID: equipe.NewID(), Name: "Boulangerie", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}
		ra := &equipe.Resource{ID: equipe.NewID(), AccountID: a.ID, Type: "location", Name: "Paris", CreatedAt: t0}
		rb := &equipe.Resource{ID: equipe.NewID(), AccountID: a.ID, Type: "location", Name: "Lyon", CreatedAt: t0}
		old := newUser("old@example.com")
		oldToken := &equipe.Token{ID: equipe.NewID(), Kind: equipe.TokenInvitation, Hash: []byte("old-hash"), UserID: old.ID,
			AccountID: &a.ID, Email: old.Email, CreatedAt: t0, ExpiresAt: t0.Add(48 * 3600e9)}
		hook := &equipe.WebhookEndpoint{ID: equipe.NewID(), AccountID: &a.ID, URL: "https://hooks.example/in",
			Types: []string{"member.added"}, Enabled: true, Secret: []byte("s"), CreatedAt: t0, UpdatedAt: t0}
		write(t, db, func(tx *store.Tx) error {
			for _, f := range []func() error{
				func() error { return tx.CreateAccount(ctx, a) },
				func() error { return tx.CreateResource(ctx, ra) },
				func() error { return tx.CreateResource(ctx, rb) },
				func() error { return tx.CreateUser(ctx, old) },
				func() error {
					return tx.CreateMember(ctx, &equipe.Member{AccountID: a.ID, UserID: old.ID, Role: "collaborator",
						Status: equipe.MemberCreated, CreatedAt: t0})
				},
				func() error { return tx.CreateToken(ctx, oldToken) },
				func() error { return tx.CreateWebhookEndpoint(ctx, hook) },
			} {
				if err := f(); err != nil {
					return err
				}
			}
			return nil
		})
		at := t0.Add(3600e9)
		users := []*equipe.User{newUser("ana@example.com"), newUser("bo@example.com"), newUser("cy@example.com")}
		var events []equipe.ID
		write(t, db, func(tx *store.Tx) error {
			tx.DeferAlwaysForTest()
			for i, u := range users {
				u.CreatedAt = at
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				m := &equipe.Member{AccountID: a.ID, UserID: u.ID, Role: "collaborator", Status: equipe.MemberCreated,
					FirstName: "Ana", LastName: "Martin", CreatedAt: at}
				if err := tx.CreateMemberOf(ctx, m, *u); err != nil {
					return err
				}
				if err := tx.AssignNewMember(ctx, a.ID, u.ID, []equipe.ID{ra.ID, rb.ID, ra.ID}[:i+1]); err != nil {
					return err
				}
				e := &equipe.AuditEvent{ID: equipe.NewID(), AccountID: &a.ID, ActorType: "system", Action: "member.added",
					TargetType: "user", TargetID: u.ID.String(), At: at}
				if err := tx.RecordAudit(ctx, e); err != nil {
					return err
				}
				events = append(events, e.ID)
			}
			// The first is invited while its row waits; the member written
			// before is invited too.
			for _, u := range []*equipe.User{users[0], old} {
				tok := &equipe.Token{ID: equipe.NewID(), Kind: equipe.TokenInvitation, Hash: []byte("hash-" + u.Email),
					UserID: u.ID, AccountID: &a.ID, Email: u.Email, CreatedAt: at, ExpiresAt: at.Add(48 * 3600e9)}
				if err := tx.CreateToken(ctx, tok); err != nil {
					return err
				}
				if err := tx.EnqueueEmail(ctx, &equipe.Email{ID: equipe.NewID(), MessageID: equipe.NewID().String(),
					To: u.Email, Template: "invitation", Locale: "fr", Subject: "Invitation", Text: "t", HTML: "h",
					CreatedAt: at}); err != nil {
					return err
				}
				if err := tx.RecordInvitation(ctx, a.ID, u.ID, at, nil); err != nil {
					return err
				}
			}
			// A read sees the writes deferred before it.
			m, err := tx.Member(ctx, a.ID, users[2].ID)
			if err != nil || m.Status != equipe.MemberCreated {
				t.Errorf("member read in the unit: %+v %v", m, err)
			}
			return nil
		})
		for i, u := range append(users, old) {
			m, err := db.Member(ctx, a.ID, u.ID)
			if err != nil {
				t.Fatalf("member %s: %v", u.Email, err)
			}
			want, sent := equipe.MemberCreated, 0
			if i == 0 || u == old {
				want, sent = equipe.MemberInvited, 1
			}
			if m.Status != want || m.InvitationsSent != sent || (sent == 1 && !m.LastInvitedAt.Equal(at)) {
				t.Errorf("member %s: status %s, invitations %d, last %v", u.Email, m.Status, m.InvitationsSent, m.LastInvitedAt)
			}
			if u == old {
				continue
			}
			if got, _ := db.UserByEmailKey(ctx, u.EmailKey); got.ID != u.ID || !got.CreatedAt.Equal(at) {
				t.Errorf("user %s: %+v", u.Email, got)
			}
			ids, err := db.MemberResources(ctx, a.ID, u.ID)
			if want := min(i+1, 2); err != nil || len(ids) != want {
				t.Errorf("resources of %s: %v %v, want %d", u.Email, ids, err, want)
			}
		}
		if tok, err := db.TokenByHash(ctx, oldToken.Hash); err != nil || tok.SupersededAt.IsZero() {
			t.Errorf("the older link: %+v %v, want superseded", tok, err)
		}
		for _, u := range []*equipe.User{users[0], old} {
			if tok, err := db.TokenByHash(ctx, []byte("hash-"+u.Email)); err != nil || !tok.SupersededAt.IsZero() {
				t.Errorf("the new link of %s: %+v %v, want usable", u.Email, tok, err)
			}
		}
		var n int
		if err := db.QueryRowForTest(ctx, `SELECT COUNT(*) FROM outbox WHERE created_at = `+strconv.FormatInt(at.UnixMicro(), 10), &n); err != nil || n != 2 {
			t.Errorf("emails queued: %d %v", n, err)
		}
		if err := db.QueryRowForTest(ctx, `SELECT COUNT(*) FROM audit_events WHERE action = 'member.added'`, &n); err != nil || n != 3 {
			t.Errorf("events: %d %v", n, err)
		}
		if err := db.QueryRowForTest(ctx, `SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = '`+hook.ID.String()+`'`, &n); err != nil || n != 3 {
			t.Errorf("deliveries: %d %v", n, err)
		}
	})
}

// TestDefer_ABrokenConstraintFailsTheUnitWithItsError writes deferred a
// user whose address is taken, and a resource of another account: the
// unit fails with the error the write alone answers, and writes nothing.
func TestDefer_ABrokenConstraintFailsTheUnitWithItsError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := &equipe.Account{ID: equipe.NewID(), Name: "A", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}
		b := &equipe.Account{ID: equipe.NewID(), Name: "B", Locale: "fr", InvitationTTLHours: 168, CreatedAt: t0}
		rb := &equipe.Resource{ID: equipe.NewID(), AccountID: b.ID, Type: "location", Name: "Lyon", CreatedAt: t0}
		taken := newUser("taken@example.com")
		write(t, db, func(tx *store.Tx) error {
			for _, f := range []func() error{
				func() error { return tx.CreateAccount(ctx, a) },
				func() error { return tx.CreateAccount(ctx, b) },
				func() error { return tx.CreateResource(ctx, rb) },
				func() error { return tx.CreateUser(ctx, taken) },
			} {
				if err := f(); err != nil {
					return err
				}
			}
			return nil
		})
		fresh := newUser("fresh@example.com")
		err := db.Write(ctx, func(tx *store.Tx) error {
			tx.DeferAlwaysForTest()
			if err := tx.CreateUser(ctx, fresh); err != nil {
				return err
			}
			if err := tx.CreateUser(ctx, newUser(taken.Email)); err != nil {
				return err
			}
			return tx.Flush(ctx)
		})
		if e := equipe.AsError(err); e.Code != equipe.ECONFLICT || e.Key != "email.taken" {
			t.Fatalf("an address taken: %v", err)
		}
		if _, err := db.UserByEmailKey(ctx, fresh.EmailKey); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("the unit's other user: %v, want none", err)
		}
		err = db.Write(ctx, func(tx *store.Tx) error {
			tx.DeferAlwaysForTest()
			if err := tx.CreateUser(ctx, fresh); err != nil {
				return err
			}
			if err := tx.CreateMemberOf(ctx, &equipe.Member{AccountID: a.ID, UserID: fresh.ID, Role: "collaborator",
				Status: equipe.MemberCreated, CreatedAt: t0}, *fresh); err != nil {
				return err
			}
			return tx.AssignNewMember(ctx, a.ID, fresh.ID, []equipe.ID{rb.ID})
		})
		if e := equipe.AsError(err); e.Code != equipe.ENOTFOUND || e.Key != "resource.unknown" {
			t.Fatalf("another account's resource: %v", err)
		}
		if _, err := db.UserByEmailKey(ctx, fresh.EmailKey); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("the unit's user: %v, want none", err)
		}
	})
}
