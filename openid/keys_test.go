package openid_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/openid"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/work"
)

var ctx = context.Background()

// clock is a time the test moves.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) advance(d time.Duration) { c.now = c.now.Add(d) }

func keyIDs(t *testing.T, k *openid.Keys) []string {
	t.Helper()
	set, err := k.KeySet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, key := range set {
		if key.Algorithm() != jose.ES256 || key.Use() != "sig" {
			t.Errorf("key %s: %s for %s", key.ID(), key.Algorithm(), key.Use())
		}
		ids = append(ids, key.ID())
	}
	slices.Sort(ids)
	return ids
}

func signer(t *testing.T, k *openid.Keys) string {
	t.Helper()
	s, err := k.SigningKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return s.ID()
}

func TestKeys_ANewKeyIsPublishedBeforeItSignsAndTheOldOneStaysUntilItsTokensExpire(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		c := &clock{now: time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)}
		secrets := identity.NewRandomKeyring()
		k := &openid.Keys{Work: &work.Runner{DB: db, Clock: c.Now, Rand: rand.Reader}, Secrets: secrets,
			PublishLead: 24 * time.Hour, Lifetime: 30 * 24 * time.Hour, TokenLifetime: time.Hour}

		// The first key signs at once.
		first := signer(t, k)
		if ids := keyIDs(t, k); !slices.Equal(ids, []string{first}) {
			t.Fatalf("key set %v, want %s", ids, first)
		}
		// Sealed at rest: what is stored is no private key.
		var sealed []byte
		if err := storetest.Raw(t, cfg).QueryRow(`SELECT private_key FROM oidc_signing_keys`).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if _, err := x509.ParsePKCS8PrivateKey(sealed); err == nil {
			t.Error("the private key is stored in clear")
		}

		// A rotation publishes the next key a day before it signs.
		if err := k.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		ids := keyIDs(t, k)
		if len(ids) != 2 || signer(t, k) != first {
			t.Fatalf("after the rotation: set %v, signer %s (first %s)", ids, signer(t, k), first)
		}
		next := ids[0]
		if next == first {
			next = ids[1]
		}
		c.advance(24*time.Hour + time.Second)
		if got := signer(t, k); got != next {
			t.Fatalf("a day later %s signs, want %s", got, next)
		}
		// The old key stays published while tokens it signed are valid.
		if ids := keyIDs(t, k); len(ids) != 2 {
			t.Errorf("the old key left the set while its tokens are valid: %v", ids)
		}
		c.advance(time.Hour + time.Minute)
		if ids := keyIDs(t, k); !slices.Equal(ids, []string{next}) {
			t.Errorf("an hour later the set is %v, want %s alone", ids, next)
		}

		// A key that has signed for its lifetime gets a successor, published
		// ahead.
		c.advance(30 * 24 * time.Hour)
		if got := signer(t, k); got != next {
			t.Fatalf("the signer changed without notice: %s", got)
		}
		if ids := keyIDs(t, k); len(ids) != 2 {
			t.Errorf("no successor published after the key's lifetime: %v", ids)
		}

		// Another process, with the same secret key, reads the same keys.
		other := &openid.Keys{Work: &work.Runner{DB: db, Clock: c.Now, Rand: rand.Reader}, Secrets: secrets}
		if got := signer(t, other); got != next {
			t.Errorf("another process signs with %s, want %s", got, next)
		}
	})
}

func TestKeys_ResealMovesThePrivateKeysUnderTheNewSecretKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		oldKey, newKey := make([]byte, identity.KeySize), make([]byte, identity.KeySize)
		rand.Read(oldKey)
		rand.Read(newKey)
		before, _ := identity.NewKeyring(oldKey)
		r := &work.Runner{DB: db, Clock: time.Now, Rand: rand.Reader}
		first := signer(t, &openid.Keys{Work: r, Secrets: before})
		after, _ := identity.NewKeyring(newKey, oldKey)
		k := &openid.Keys{Work: r, Secrets: after}
		moved, left, err := k.Reseal(ctx)
		if err != nil || moved != 1 || left != 0 {
			t.Fatalf("reseal: %d moved, %d left, %v", moved, left, err)
		}
		only, _ := identity.NewKeyring(newKey)
		if got := signer(t, &openid.Keys{Work: r, Secrets: only}); got != first {
			t.Errorf("under the new key alone %s signs, want %s", got, first)
		}
	})
}
