package team_test

import (
	"github.com/equipe-dev/equipe"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/team"
)

// TestAuthenticateKey_RecordsUseOnceAMinuteWithoutWaitingForTheDatabase
// holds the key's row locked by another transaction while the key is used:
// the use answers all the same, and its time is written once the lock is
// gone. Uses within the next minute write nothing; the first one after
// writes again.
func TestAuthenticateKey_RecordsUseOnceAMinuteWithoutWaitingForTheDatabase(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		k, secret, err := s.s.CreateKey(ctx, s.admin(), &s.account, team.NewKey{Name: "Caisse", Role: "guest"})
		if err != nil {
			t.Fatal(err)
		}
		lastUsed := func() time.Time { t.Helper(); return keyLastUsed(t, s, k.ID) }
		// Another transaction holds the key's row (and, on SQLite, the
		// database's write lock) until it is rolled back.
		tx, err := b.raw.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`UPDATE api_keys SET name = name WHERE id = $1`, k.ID); err != nil {
			t.Fatal(err)
		}
		used := b.st.Clock.Now()
		answered := make(chan error, 1)
		go func() {
			_, err := s.s.AuthenticateKey(ctx, secret)
			answered <- err
		}()
		var aerr error
		select {
		case aerr = <-answered:
		case <-time.After(20 * time.Second):
			t.Fatal("the key's use waited for the database's lock")
		}
		if aerr != nil {
			t.Fatalf("the key: %v", aerr)
		}
		if got := lastUsed(); !got.IsZero() {
			t.Fatalf("last used at %v while the row was locked", got)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		s.s.WaitKeyUses()
		if got := lastUsed(); !got.Equal(used) {
			t.Fatalf("last used at %v once the lock is gone, want %v", got, used)
		}

		// Within the minute: nothing written.
		b.st.Clock.Advance(59 * time.Second)
		if _, err := s.s.AuthenticateKey(ctx, secret); err != nil {
			t.Fatal(err)
		}
		s.s.WaitKeyUses()
		if got := lastUsed(); !got.Equal(used) {
			t.Errorf("last used at %v after a use within the minute, want %v", got, used)
		}
		// A minute after the recorded use: written again.
		b.st.Clock.Advance(time.Second)
		if _, err := s.s.AuthenticateKey(ctx, secret); err != nil {
			t.Fatal(err)
		}
		s.s.WaitKeyUses()
		if got, want := lastUsed(), used.Add(time.Minute); !got.Equal(want) {
			t.Errorf("last used at %v, want %v", got, want)
		}
	})
}

// TestChanges_AStreamRecordsItsKeysUseAsItGoesOn: a change stream is one
// request that lasts; each page it reads records its key's use as a new
// request would (at most once a minute), so that the key's last use says
// it is still read from.
func TestChanges_AStreamRecordsItsKeysUseAsItGoesOn(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		k, _, err := s.s.CreateKey(ctx, s.admin(), &s.account, team.NewKey{Name: "Stream", Role: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		lastUsed := func() time.Time { t.Helper(); s.s.WaitKeyUses(); return keyLastUsed(t, s, k.ID) }
		stream := team.Actor{Key: &k}
		q := team.ChangesQuery{After: team.CursorNow, Limit: team.MaxChangesPage}
		page := func() {
			t.Helper()
			_, next, err := s.s.Changes(ctx, stream, q)
			if err != nil {
				t.Fatal(err)
			}
			q.After = next
		}
		first := b.st.Clock.Now()
		page()
		if got := lastUsed(); !got.Equal(first) {
			t.Fatalf("after the first page the key was last used at %v, want %v", got, first)
		}
		b.st.Clock.Advance(30 * time.Second)
		page()
		if got := lastUsed(); !got.Equal(first) {
			t.Errorf("a page within the minute moved the last use to %v", got)
		}
		b.st.Clock.Advance(45 * time.Second)
		later := b.st.Clock.Now()
		page()
		if got := lastUsed(); !got.Equal(later) {
			t.Errorf("a page a minute later: the key was last used at %v, want %v", got, later)
		}
	})
}

// keyLastUsed returns the last use of the account key id, as its list says.
func keyLastUsed(t *testing.T, s *scene, id equipe.ID) time.Time {
	t.Helper()
	keys, _, err := s.s.Keys(ctx, s.admin(), &s.account, equipe.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range keys {
		if kv.ID == id {
			return kv.LastUsedAt
		}
	}
	t.Fatal("the key is not listed")
	return time.Time{}
}
