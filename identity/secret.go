package identity

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
)

// A secret is 256 random bits, base64url-encoded for links and cookies. The
// database keeps only its SHA-256: a copy of the database opens nothing.

// newSecret returns a fresh secret and its hash.
func newSecret(rand io.Reader) (secret string, hash []byte, err error) {
	var b [32]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", nil, err
	}
	secret = base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashSecret(secret), nil
}

// HashSecret returns the SHA-256 of a secret, as stored.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// plausibleSecret reports whether s has the form of a secret (43 base64url
// characters), so that garbage is refused before any lookup.
func plausibleSecret(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}
