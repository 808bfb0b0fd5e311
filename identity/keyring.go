package identity

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
)

// Keyring seals the secrets the service must read back (authenticator
// seeds) with AES-256-GCM under the instance's secret key. A sealed value
// names its key by an identifier derived from the key (never the key), so
// that after a rotation values sealed under the previous key still open and
// are sealed again under the current one.
type Keyring struct {
	current  sealKey
	previous []sealKey
}

type sealKey struct {
	id   string
	aead cipher.AEAD
}

// KeySize is the length of a secret key, in bytes.
const KeySize = 32

// NewKeyring returns a keyring sealing under current and opening under
// current or any of previous. Each key is 32 bytes.
func NewKeyring(current []byte, previous ...[]byte) (*Keyring, error) {
	c, err := newSealKey(current)
	if err != nil {
		return nil, err
	}
	k := &Keyring{current: c}
	for _, p := range previous {
		pk, err := newSealKey(p)
		if err != nil {
			return nil, err
		}
		if pk.id != c.id {
			k.previous = append(k.previous, pk)
		}
	}
	return k, nil
}

// NewRandomKeyring returns a keyring under a random key that lives as long
// as the process: for tests, never for a service whose seeds must outlive
// it.
func NewRandomKeyring() *Keyring {
	b := make([]byte, KeySize)
	rand.Read(b)
	k, _ := NewKeyring(b)
	return k
}

func newSealKey(key []byte) (sealKey, error) {
	if len(key) != KeySize {
		return sealKey{}, fmt.Errorf("a secret key has %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return sealKey{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sealKey{}, err
	}
	// The identifier is a hash of the key under a label of its own: it
	// tells keys apart and reveals nothing of them.
	sum := sha256.Sum256(append([]byte("equipe key id\x00"), key...))
	return sealKey{id: hex.EncodeToString(sum[:8]), aead: aead}, nil
}

// KeyID returns the identifier of the current key.
func (k *Keyring) KeyID() string { return k.current.id }

// Seal encrypts plain under the current key; label binds the sealed value
// to its use (a user's ID), so that one person's sealed seed copied to
// another's row does not open. It returns the sealed value (nonce first)
// and the key's identifier.
func (k *Keyring) Seal(plain []byte, label string) ([]byte, string) {
	nonce := make([]byte, k.current.aead.NonceSize())
	rand.Read(nonce)
	return k.current.aead.Seal(nonce, nonce, plain, []byte(label)), k.current.id
}

// errUnsealed is the error of a value that does not open.
var errUnsealed = errors.New("identity: a sealed secret does not open with the configured keys (EQUIPE_SECRET_KEY, EQUIPE_SECRET_KEY_PREVIOUS)")

// Open decrypts a value sealed under the key keyID, and reports whether
// that key is the current one (if not, the value should be sealed again).
func (k *Keyring) Open(sealed []byte, keyID, label string) (plain []byte, current bool, err error) {
	for i, sk := range append([]sealKey{k.current}, k.previous...) {
		if sk.id != keyID {
			continue
		}
		n := sk.aead.NonceSize()
		if len(sealed) < n {
			return nil, false, errUnsealed
		}
		plain, err := sk.aead.Open(nil, sealed[:n], sealed[n:], []byte(label))
		if err != nil {
			return nil, false, errUnsealed
		}
		return plain, i == 0, nil
	}
	return nil, false, errUnsealed
}

// ResealSecrets seals again under the current key every authenticator seed
// sealed under another key the keyring can open (after a rotation), a batch
// at a time. It returns how many it moved, and how many remain under keys
// it cannot open (a key missing from EQUIPE_SECRET_KEY_PREVIOUS).
func (s *Service) ResealSecrets(ctx context.Context) (moved, left int, err error) {
	const batch = 500
	skip := map[equipe.ID]bool{}
	for {
		seeds, err := s.DB.SealedTOTPSeeds(ctx, s.Keys.KeyID(), batch+len(skip))
		if err != nil {
			return moved, 0, err
		}
		progressed := false
		for _, f := range seeds {
			if skip[f.UserID] {
				continue
			}
			seed, _, err := s.Keys.Open(f.Secret, f.KeyID, totpLabel(f.UserID))
			if err != nil {
				skip[f.UserID] = true
				continue
			}
			sealed, keyID := s.Keys.Seal(seed, totpLabel(f.UserID))
			err = s.DB.Write(ctx, func(tx *store.Tx) error { return tx.ResealTOTPSeed(ctx, f.UserID, f.KeyID, sealed, keyID) })
			if err != nil && equipe.ErrorCode(err) != equipe.ENOTFOUND {
				return moved, 0, err
			}
			if err == nil {
				moved++
			}
			progressed = true
		}
		if !progressed {
			return moved, len(skip), nil
		}
	}
}
