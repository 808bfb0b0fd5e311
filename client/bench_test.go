package client_test

import (
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/client"
	"github.com/equipe-dev/equipe/store"
)

// warmChecker starts a service (SQLite), an account with a member and a
// Checker that has loaded them.
func warmChecker(tb testing.TB) (*client.Checker, *client.Client, equipe.ID, equipe.ID, func()) {
	env := apptest.Start(tb, store.SQLite, apptest.Options{})
	a := newAccount(tb, env, "acme")
	user := env.AddMember(tb, a.ID, "m@acme.example", "manager", equipe.MemberActive).User.ID
	c := newClient(tb, env, apiKey(tb, env, &a.ID, "admin"))
	k, err := c.NewChecker(tb.Context(), client.CheckerOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	if d, err := k.Check(tb.Context(), a.ID, user, "records.view", access.Query{Owner: user, OwnerKnown: true}); err != nil || !d.Allowed {
		tb.Fatalf("warm: %+v %v", d, err)
	}
	return k, c, a.ID, user, k.Close
}

// TestChecker_CheckDoesNotAllocate holds the Checker's hot path to no
// allocation, for general questions, owners and resources alike.
func TestChecker_CheckDoesNotAllocate(t *testing.T) {
	k, _, account, user, stop := warmChecker(t)
	defer stop()
	ctx := t.Context()
	q := access.Query{Owner: user, OwnerKnown: true}
	if n := testing.AllocsPerRun(1000, func() { k.Check(ctx, account, user, "records.view", q) }); n != 0 {
		t.Errorf("Check allocates %v times", n)
	}
	if n := testing.AllocsPerRun(1000, func() { k.Check(ctx, account, user, "members.manage", access.Query{}) }); n != 0 {
		t.Errorf("a denied Check allocates %v times", n)
	}
}

// BenchmarkChecker compares, in one run, a check of a loaded member by the
// Checker with the same check by package access alone (the floor: a
// compiled member and account in hand) and with POST /api/v1/check over
// loopback HTTP.
func BenchmarkChecker(b *testing.B) {
	k, c, account, user, stop := warmChecker(b)
	defer stop()
	ctx := b.Context()
	q := access.Query{Owner: user, OwnerKnown: true}
	b.Run("checker", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			k.Check(ctx, account, user, "records.view", q)
		}
	})
	b.Run("checker-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				k.Check(ctx, account, user, "records.view", q)
			}
		})
	})
	b.Run("access", func(b *testing.B) {
		cat := access.Default()
		manager, _ := cat.Role("manager")
		m := cat.Compile(access.Input{UserID: user, AccountID: account, Role: manager, Status: access.MemberActive})
		a := access.CompileAccount(account, nil, nil)
		b.ReportAllocs()
		for b.Loop() {
			cat.Check(m, a, "records.view", q)
		}
	})
	b.Run("http", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Check(ctx, client.CheckRequest{Account: account, User: user, Permission: "records.view", Query: q}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
