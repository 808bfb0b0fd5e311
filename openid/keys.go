package openid

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// Keys are the provider's signing keys: ECDSA P-256 (ES256), whose
// signature costs tens of microseconds where RSA's costs a millisecond,
// kept sealed under the instance's secret key.
//
// Rotation: a new key is published in the key set PublishLead before it
// signs, so that relying parties that cache the key set know it by then;
// the key it replaces stays published TokenLifetime (plus a minute of
// clock skew) after the new one starts signing, until no token it signed
// is valid. A key is replaced when it has signed for Lifetime, or at once
// by Rotate.
type Keys struct {
	Work    *work.Runner
	Secrets *identity.Keyring
	// PublishLead is how long a key is published before it signs (default
	// 24 h).
	PublishLead time.Duration
	// Lifetime is how long a key signs before the next one replaces it
	// (default 30 days).
	Lifetime time.Duration
	// TokenLifetime is the longest validity of a token a key signs (the
	// ID and access tokens': default 1 h).
	TokenLifetime time.Duration

	mu       sync.Mutex
	loaded   []loadedKey // not expired, the newest first
	loadedAt time.Time
}

// keysFresh is how long the keys read from the store serve before they are
// read again: the key set changes at most once a day, and reading it on
// every token would cost a query per token.
const keysFresh = time.Minute

// skew is the clock difference allowed between the provider and relying
// parties.
const skew = time.Minute

type loadedKey struct {
	store.SigningKey
	private *ecdsa.PrivateKey
}

func (k *Keys) defaults() {
	if k.PublishLead == 0 {
		k.PublishLead = 24 * time.Hour
	}
	if k.Lifetime == 0 {
		k.Lifetime = 30 * 24 * time.Hour
	}
	if k.TokenLifetime == 0 {
		k.TokenLifetime = time.Hour
	}
}

// sealLabel binds a sealed private key to its key's ID.
func sealLabel(id string) string { return "oidc-signing-key:" + id }

// load returns the keys that have not expired, reading them again when
// those read are older than keysFresh or force is set.
func (k *Keys) load(ctx context.Context, force bool) ([]loadedKey, error) {
	now := k.Work.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	if !force && k.loaded != nil && now.Sub(k.loadedAt) < keysFresh && now.After(k.loadedAt) {
		return k.loaded, nil
	}
	rows, err := k.Work.DB.SigningKeys(ctx, now)
	if err != nil {
		return nil, err
	}
	out := make([]loadedKey, 0, len(rows))
	for _, r := range rows {
		lk := loadedKey{SigningKey: r}
		for _, old := range k.loaded {
			if old.ID == r.ID && old.SealKeyID == r.SealKeyID {
				lk.private = old.private
			}
		}
		if lk.private == nil {
			plain, _, err := k.Secrets.Open(r.Sealed, r.SealKeyID, sealLabel(r.ID))
			if err != nil {
				return nil, fmt.Errorf("openid: signing key %s does not open (EQUIPE_SECRET_KEY changed?): %w", r.ID, err)
			}
			pk, err := x509.ParsePKCS8PrivateKey(plain)
			if err != nil {
				return nil, fmt.Errorf("openid: signing key %s: %w", r.ID, err)
			}
			ec, ok := pk.(*ecdsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("openid: signing key %s is a %T", r.ID, pk)
			}
			lk.private = ec
		}
		out = append(out, lk)
	}
	k.loaded, k.loadedAt = out, now
	return out, nil
}

// current returns the key that signs at now: the newest whose time has
// come. With none, or when it has signed for Lifetime and no successor is
// published, it makes one (the first key signs at once).
func (k *Keys) current(ctx context.Context) (loadedKey, error) {
	k.defaults()
	keys, err := k.load(ctx, false)
	if err != nil {
		return loadedKey{}, err
	}
	now := k.Work.Now()
	signing, pending := -1, false
	for i, key := range keys {
		if key.SignsFrom.After(now) {
			pending = true
			continue
		}
		if signing < 0 {
			signing = i
		}
	}
	if signing < 0 {
		if err := k.create(ctx, now); err != nil {
			return loadedKey{}, err
		}
		return k.current(ctx)
	}
	if !pending && now.Sub(keys[signing].SignsFrom) >= k.Lifetime {
		if err := k.create(ctx, now.Add(k.PublishLead)); err != nil {
			return loadedKey{}, err
		}
	}
	return keys[signing], nil
}

// Rotate publishes a new key, which signs PublishLead from now; the keys
// before it leave the key set TokenLifetime after that.
func (k *Keys) Rotate(ctx context.Context) error {
	k.defaults()
	return k.create(ctx, k.Work.Now().Add(k.PublishLead))
}

// create makes a key that signs from signsFrom, and ends the others
// TokenLifetime after it signs. Two processes may race to create one: the
// loser's key is ended by the winner's, or the other way round, and
// either way a published key signs.
func (k *Keys) create(ctx context.Context, signsFrom time.Time) error {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	var idb [12]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return err
	}
	now := k.Work.Now()
	sk := store.SigningKey{ID: base64.RawURLEncoding.EncodeToString(idb[:]), CreatedAt: now, SignsFrom: signsFrom}
	sk.Sealed, sk.SealKeyID = k.Secrets.Seal(der, sealLabel(sk.ID))
	err = k.Work.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteExpiredSigningKeys(ctx, now); err != nil {
			return err
		}
		if err := tx.CreateSigningKey(ctx, &sk); err != nil {
			return err
		}
		return tx.ExpireSigningKeys(ctx, sk.ID, signsFrom.Add(k.TokenLifetime+skew))
	})
	if err != nil {
		return err
	}
	_, err = k.load(ctx, true)
	return err
}

// SigningKey returns the key that signs now (op.AuthStorage).
func (k *Keys) SigningKey(ctx context.Context) (op.SigningKey, error) {
	key, err := k.current(ctx)
	if err != nil {
		return nil, err
	}
	return signingKey{id: key.ID, key: key.private}, nil
}

// SignatureAlgorithms returns ES256 (op.AuthStorage).
func (k *Keys) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256}, nil
}

// KeySet returns the public keys of the key set: every key not expired,
// those about to sign included (op.AuthStorage, op.KeyProvider).
func (k *Keys) KeySet(ctx context.Context) ([]op.Key, error) {
	if _, err := k.current(ctx); err != nil {
		return nil, err
	}
	keys, err := k.load(ctx, false)
	if err != nil {
		return nil, err
	}
	now := k.Work.Now()
	out := make([]op.Key, 0, len(keys))
	for _, key := range keys {
		if key.ExpiresAt.IsZero() || key.ExpiresAt.After(now) {
			out = append(out, publicKey{id: key.ID, key: &key.private.PublicKey})
		}
	}
	return out, nil
}

// Reseal seals again under the current secret key the private keys sealed
// under a previous one (equipe reseal-secrets). It returns how many it
// moved, and how many are sealed under keys it was not given.
func (k *Keys) Reseal(ctx context.Context) (moved, left int, err error) {
	rows, err := k.Work.DB.SigningKeys(ctx, time.Time{})
	if err != nil {
		return 0, 0, err
	}
	for _, r := range rows {
		if r.SealKeyID == k.Secrets.KeyID() {
			continue
		}
		plain, _, err := k.Secrets.Open(r.Sealed, r.SealKeyID, sealLabel(r.ID))
		if err != nil {
			left++
			continue
		}
		r.Sealed, r.SealKeyID = k.Secrets.Seal(plain, sealLabel(r.ID))
		err = k.Work.DB.Write(ctx, func(tx *store.Tx) error { return tx.ResealSigningKey(ctx, &r) })
		if err != nil && !errors.Is(err, context.Canceled) {
			return moved, left, err
		}
		moved++
	}
	return moved, left, nil
}

type signingKey struct {
	id  string
	key *ecdsa.PrivateKey
}

func (s signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (s signingKey) Key() any                                    { return s.key }
func (s signingKey) ID() string                                  { return s.id }

type publicKey struct {
	id  string
	key *ecdsa.PublicKey
}

func (p publicKey) ID() string                         { return p.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.key }
