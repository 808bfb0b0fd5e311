package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestSecretKey_MadeOnceInTheDataDirectoryReadableByItsOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	// Processes started together on one data directory get one key.
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := dataDirKey(dir)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) || len(k) != 32 {
			t.Fatalf("keys differ or are not 32 bytes: %x, %x", k, keys[0])
		}
	}
	fi, err := os.Stat(filepath.Join(dir, SecretKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi.Mode(), err)
	}
	if again, err := dataDirKey(dir); err != nil || !bytes.Equal(again, keys[0]) {
		t.Fatalf("the key changed at the next start: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind in the data directory: %v", entries)
	}
}

func TestSecretKey_SettingsAreCheckedAndNamed(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	c, err := ParseConfig("serve", nil, env(map[string]string{"EQUIPE_SECRET_KEY": hex, "EQUIPE_SECRET_KEY_PREVIOUS": strings.Repeat("cd", 32) + "," + strings.Repeat("ef", 32)}))
	if err != nil || len(c.SecretKey) != 32 || len(c.PreviousSecretKeys) != 2 {
		t.Fatalf("config %v, %d previous: %v", c.SecretKey, len(c.PreviousSecretKeys), err)
	}
	file := filepath.Join(t.TempDir(), "key")
	os.WriteFile(file, []byte(hex+"\n"), 0o600)
	if c, err := ParseConfig("serve", nil, env(map[string]string{"EQUIPE_SECRET_KEY_FILE": file})); err != nil || c.SecretKey[0] != 0xab {
		t.Fatalf("key from a file: %v", err)
	}
	for name, vars := range map[string]map[string]string{
		"short":          {"EQUIPE_SECRET_KEY": "abcd"},
		"previous alone": {"EQUIPE_SECRET_KEY_PREVIOUS": hex},
		"bad previous":   {"EQUIPE_SECRET_KEY": hex, "EQUIPE_SECRET_KEY_PREVIOUS": "nope"},
	} {
		_, err := ParseConfig("serve", nil, env(vars))
		if err == nil || !strings.Contains(err.Error(), "EQUIPE_SECRET_KEY") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
