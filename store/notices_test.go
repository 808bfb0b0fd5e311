package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestListen_TheServiceHearsTheChangesOfACommandRunBesideIt opens one SQLite
// file twice, as the service and as a command run beside it (an import):
// the service hears the keys of each change the command commits, once, and
// neither a change the command rolls back nor its own changes a second
// time.
func TestListen_TheServiceHearsTheChangesOfACommandRunBesideIt(t *testing.T) {
	cfg := storetest.Config(t, store.SQLite)
	service, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { service.Close() })
	if _, err := service.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	besideCfg := cfg
	besideCfg.Beside = true
	beside, err := store.Open(ctx, besideCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { beside.Close() })

	var mu sync.Mutex
	var heard []string
	var heardMore testenv.Signal
	service.OnChange(func(keys []string) {
		mu.Lock()
		heard = append(heard, keys...)
		mu.Unlock()
		heardMore.Notify()
	})
	// times counts how often the service heard key.
	times := func(key string) (n int) {
		mu.Lock()
		defer mu.Unlock()
		for _, h := range heard {
			if h == key {
				n++
			}
		}
		return n
	}
	// The service listens before the command writes: what was written
	// before it listened is nothing its caches hold.
	listening := make(chan struct{})
	service.OnNoticesFromForTest(func(int64) { close(listening) })
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { service.Listen(lctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		t.Fatal("the service does not listen")
	}

	now := time.Now()
	account := equipe.Account{ID: equipe.NewID(), Name: "A", Locale: "fr", CreatedAt: now}
	ada := equipe.User{ID: equipe.NewUserID(), Email: "ada@example.com", EmailKey: "ada@example.com", CreatedAt: now}
	grace := equipe.User{ID: equipe.NewUserID(), Email: "grace@example.com", EmailKey: "grace@example.com", CreatedAt: now}
	// hears waits until the service heard key n times.
	hears := func(key string, n int) {
		t.Helper()
		testenv.Await(t, 10*time.Second, heardMore.Wait, fmt.Sprintf("the service hears %s %d times", key, n),
			func() bool { return times(key) >= n })
	}
	if err := beside.Write(ctx, func(tx *store.Tx) error {
		for _, u := range []*equipe.User{&ada, &grace} {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		if err := tx.CreateAccount(ctx, &account); err != nil {
			return err
		}
		return tx.CreateMember(ctx, &equipe.Member{AccountID: account.ID, UserID: ada.ID, Role: "admin", Status: equipe.MemberActive,
			JoinedAt: now, CreatedAt: now})
	}); err != nil {
		t.Fatal(err)
	}
	hears(store.MemberKey(account.ID, ada.ID), 1)
	// A change the command rolls back is not heard.
	if err := beside.Write(ctx, func(tx *store.Tx) error {
		if err := tx.SetUserDisabled(ctx, grace.ID, now); err != nil {
			return err
		}
		return equipe.Errorf(equipe.ECONFLICT, "test.rollback")
	}); equipe.ErrorCode(err) != equipe.ECONFLICT {
		t.Fatal(err)
	}
	// The service's own change is heard once, as it commits.
	if err := service.Write(ctx, func(tx *store.Tx) error { return tx.SetUserDisabled(ctx, ada.ID, now) }); err != nil {
		t.Fatal(err)
	}
	// The command's next change is heard, after the service's.
	if err := beside.Write(ctx, func(tx *store.Tx) error { return tx.SetUserDisabled(ctx, ada.ID, time.Time{}) }); err != nil {
		t.Fatal(err)
	}
	hears(store.UserKey(ada.ID), 2)
	mu.Lock()
	defer mu.Unlock()
	if slices.Contains(heard, store.UserKey(grace.ID)) || slices.Contains(heard, store.AllKey()) {
		t.Errorf("heard %v", heard)
	}
}
