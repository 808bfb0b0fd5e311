package app

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/equipe-dev/equipe/identity"
)

// SecretKeyFile is the file of the data directory that holds the secret
// key generated on first start when none is configured.
const SecretKeyFile = "secret.key"

// parseSecretKey reads a secret key as configured: 32 bytes written as 64
// hexadecimal digits (openssl rand -hex 32) or in base64.
func parseSecretKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == identity.KeySize {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == identity.KeySize {
			return b, nil
		}
	}
	return nil, errors.New("must be 32 bytes written as 64 hexadecimal digits (make one with: openssl rand -hex 32) or in base64")
}

// parseSecretKeys reads the current key and the comma-separated previous
// keys; an empty current key is none (nil).
func parseSecretKeys(current, previous string) (cur []byte, prev [][]byte, err error) {
	if current != "" {
		if cur, err = parseSecretKey(current); err != nil {
			return nil, nil, &SettingError{"EQUIPE_SECRET_KEY", "secret-key", err.Error()}
		}
	}
	for _, p := range strings.Split(previous, ",") {
		if strings.TrimSpace(p) == "" {
			continue
		}
		k, err := parseSecretKey(p)
		if err != nil {
			return nil, nil, &SettingError{"EQUIPE_SECRET_KEY_PREVIOUS", "secret-key-previous", err.Error()}
		}
		prev = append(prev, k)
	}
	if cur == nil && len(prev) > 0 {
		return nil, nil, &SettingError{"EQUIPE_SECRET_KEY_PREVIOUS", "secret-key-previous", "is for a rotation: set the new key in EQUIPE_SECRET_KEY too"}
	}
	return cur, prev, nil
}

// dataDirKey returns the secret key kept in the data directory, making it
// on first start (mode 0600). Several processes starting together on one
// data directory get the same key: the file appears whole or not at all.
func dataDirKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, SecretKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		return parseSecretKey(string(b))
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	key := make([]byte, identity.KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, ".secret.key-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, err
	}
	if _, err := tmp.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	// A link fails if the name exists: of two processes, one makes the
	// file and the other reads it.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, err
			}
			return parseSecretKey(string(b))
		}
		return nil, err
	}
	return key, nil
}

// keyring builds the instance's keyring: the configured key and previous
// keys, or the data directory's key when none is configured (generated
// reports that case).
func keyring(cfg Config) (k *identity.Keyring, fromDataDir bool, err error) {
	cur := cfg.SecretKey
	if cur == nil {
		if cur, err = dataDirKey(cfg.DataDir); err != nil {
			return nil, false, fmt.Errorf("secret key in %s: %w (or set EQUIPE_SECRET_KEY)", filepath.Join(cfg.DataDir, SecretKeyFile), err)
		}
		fromDataDir = true
	}
	k, err = identity.NewKeyring(cur, cfg.PreviousSecretKeys...)
	return k, fromDataDir, err
}
