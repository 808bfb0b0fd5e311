package equipe

import "fmt"

// An API key's secret is a prefix, then 43 base64url characters (256
// random bits). The prefix is 1 to 15 lowercase ASCII letters or digits
// and "_": the brand's (acme_), or DefaultKeyPrefix. It makes a key
// recognisable in logs, configuration files and secret scanners; the
// store keeps the SHA-256 of the whole secret, so a key made under an
// earlier prefix stays valid whatever the prefix is now.
const (
	// DefaultKeyPrefix starts the keys of an instance with the default
	// brand, and every key made before the prefix followed the brand.
	DefaultKeyPrefix = "equipe_"
	// MaxKeyPrefixLen is the longest prefix, its "_" included.
	MaxKeyPrefixLen = 16
	// keyRandomLen is the length of the random part of a secret.
	keyRandomLen = 43
	// MaxKeySecretLen is the longest secret.
	MaxKeySecretLen = MaxKeyPrefixLen + keyRandomLen
)

// CheckKeyPrefix returns why p cannot start API keys' secrets, or nil.
func CheckKeyPrefix(p string) error {
	if len(p) < 2 || len(p) > MaxKeyPrefixLen || p[len(p)-1] != '_' || !keyPrefixLetters(p[:len(p)-1]) {
		return fmt.Errorf("%q is not a key prefix: give 1 to %d lowercase letters (a-z) or digits followed by _ (for example acme_)",
			p, MaxKeyPrefixLen-1)
	}
	return nil
}

// IsKeySecret reports whether s has the form of an API key's secret, with
// any prefix (the instance's, or one it used before): such a bearer token
// is looked up as a key, and any other as a session. A session's secret,
// 43 characters, never has this form.
func IsKeySecret(s string) bool {
	n := len(s) - keyRandomLen - 1 // the prefix's letters
	return n >= 1 && n < MaxKeyPrefixLen && s[n] == '_' && keyPrefixLetters(s[:n])
}

func keyPrefixLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}
