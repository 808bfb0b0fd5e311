package identity

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestCheckPassword(t *testing.T) {
	ctx := []string{"ada.lovelace@example.com", "Ada", "Lovelace", "Analytical Engines"}
	tests := []struct {
		pw, problem string
	}{
		{"", "password.required"},
		{"short", "password.too_short"},
		{"sevench", "password.too_short"},
		{"elevenchars", "password.too_short"},
		{"twelve chars", ""},
		{"fourteen chars", ""},
		{strings.Repeat("é", 11), "password.too_short"}, // 22 bytes, 11 code points
		{strings.Repeat("ab1", 86), "password.too_long"},
		{strings.Repeat("ab1", 85), ""}, // 255 code points
		{"correct horse battery staple", "password.common"},
		{"Correct Horse Battery Staple", "password.common"},
		{"password12345678", "password.common"},
		{"Password2024!!", "password.common"},
		{"P@ssw0rd2024!", "password.common"},
		{"motdepasse2026", "password.common"},
		{"azertyuiop123", "password.common"},
		{"123456789012", "password.common"},
		{"aaaaaaaaaaaaaaa", "password.common"},
		{"abcdefghijklm", "password.common"},
		{"Ada Lovelace 1815!", "password.context"},
		{"lovelace-ada-2026", "password.context"},
		{"analyticalengines", "password.context"},
		{"equipe-equipe-2026", "password.context"},
		{"lovelace rode the number engine", ""},
		{"Ünïcödé pässphrase 🔑", ""},
		{"пароль для входа в систему", ""},
	}
	for _, tt := range tests {
		if got := CheckPassword(tt.pw, ctx...); got != tt.problem {
			t.Errorf("CheckPassword(%q) = %q, want %q", tt.pw, got, tt.problem)
		}
	}
}

var fastParams = Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

func TestHasher_VerifiesNormalisedPasswordsWithoutTruncation(t *testing.T) {
	h := NewHasher(fastParams)
	long := strings.Repeat("x", 79) + "a" + strings.Repeat("y", 20)
	other := strings.Repeat("x", 79) + "b" + strings.Repeat("y", 20)
	hash := h.Hash(long)
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not PHC argon2id", hash)
	}
	if ok, _ := h.Verify(hash, long); !ok {
		t.Fatal("the password does not verify")
	}
	if ok, _ := h.Verify(hash, other); ok {
		t.Fatal("a password differing at character 80 verifies")
	}
	// "é" composed (U+00E9) and decomposed (e + U+0301) are the same password.
	composed := "caf\u00e9 au lait du matin"
	decomposed := "cafe\u0301 au lait du matin"
	if ok, _ := h.Verify(h.Hash(composed), decomposed); !ok {
		t.Fatal("the decomposed form does not verify against the composed one")
	}
	if h.Hash(long) == hash {
		t.Fatal("two hashes of one password are equal: no salt")
	}
}

func TestHasher_RehashesOldParametersAndRejectsGarbage(t *testing.T) {
	old := NewHasher(Params{Memory: 32, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16})
	h := NewHasher(fastParams)
	hash := old.Hash("lovelace rode the engine")
	ok, rehash := h.Verify(hash, "lovelace rode the engine")
	if !ok || !rehash {
		t.Fatalf("old parameters: ok=%v rehash=%v, want both", ok, rehash)
	}
	if _, rehash := h.Verify(h.Hash("x"), "x"); rehash {
		t.Fatal("current parameters asked for a rehash")
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", "$argon2id$v=19$m=0,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5"} {
		if ok, _ := h.Verify(bad, ""); ok {
			t.Errorf("Verify(%q) matched", bad)
		}
	}
	before := h.Verifications()
	h.Verify("", "x")
	if h.Verifications() != before+1 {
		t.Fatal("verifications are not counted")
	}
}

// An unknown user's password is checked against a dummy hash at the full
// cost of a verification, and the dummy costs nothing to make: a start does
// not spend a hash's time and memory on it.
func TestHasher_UnknownUsersCostAVerificationAndTheDummyNone(t *testing.T) {
	h := NewHasher(fastParams)
	if h.Spent() != 0 {
		t.Fatalf("a new Hasher spent %v deriving keys", h.Spent())
	}
	if ok, _ := h.Verify("", "anything"); ok {
		t.Fatal("the dummy hash matched")
	}
	unknown := h.Spent()
	if unknown == 0 {
		t.Fatal("verifying an unknown user's password derived no key")
	}
	p, _, key, err := parsePHC(h.dummy)
	if err != nil || p != fastParams || len(key) != int(fastParams.KeyLen) {
		t.Fatalf("dummy %q: params %+v, key %d bytes, %v; want the Hasher's", h.dummy, p, len(key), err)
	}
}

// The service says when hashing memory has gone back to the system, at
// debug level, so that a measure of the idle process can wait for it.
func TestHasher_LogsWhenItReturnsMemory(t *testing.T) {
	h := NewHasher(fastParams)
	h.returnMemory() // no log set: nothing to tell, and no panic
	var out bytes.Buffer
	h.SetLog(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})))
	h.returnMemory()
	if out.Len() != 0 {
		t.Errorf("logged above debug level: %s", out.String())
	}
	h.SetLog(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})))
	h.returnMemory()
	if got := out.String(); !strings.Contains(got, "level=DEBUG") || !strings.Contains(got, "hashing memory returned to the operating system") {
		t.Errorf("log = %q, want the return at debug level", got)
	}
}
