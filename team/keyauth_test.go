package team_test

import (
	"testing"

	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/team"
)

// cachedKey is the use cases on a fresh SQLite database and the secret of
// an instance key, used once: in the cache.
func cachedKey(tb testing.TB) (*servicetest.Stack, string) {
	tb.Helper()
	st := servicetest.New(tb, storetest.Open(tb, store.SQLite), identity.Params{})
	u, err := st.Identity.CreateAdmin(ctx, identity.NewAdmin{Email: "support@vendor.example", FirstName: "Vendor",
		LastName: "Support", Locale: "en", Password: password})
	if err != nil {
		tb.Fatal(err)
	}
	_, secret, err := st.Team.CreateKey(ctx, team.Actor{User: &u, IP: "192.0.2.9"}, nil, team.NewKey{Name: "Vendor sync"})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := st.Team.AuthenticateKey(ctx, secret); err != nil {
		tb.Fatal(err)
	}
	return st, secret
}

// TestAuthenticateKey_AllocatesNothing: a known key, once cached, is
// checked without a single allocation, on every request that carries it.
func TestAuthenticateKey_AllocatesNothing(t *testing.T) {
	st, secret := cachedKey(t)
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := st.Team.AuthenticateKey(ctx, secret); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("AuthenticateKey allocates %v times", n)
	}
}

// BenchmarkAuthenticateKey checks a cached key: the part of every API
// request made with a key that finds it.
func BenchmarkAuthenticateKey(b *testing.B) {
	st, secret := cachedKey(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Team.AuthenticateKey(ctx, secret); err != nil {
			b.Fatal(err)
		}
	}
}
