package equipe

import (
	"strings"
	"testing"
)

func TestCheckKeyPrefix(t *testing.T) {
	for _, p := range []string{"equipe_", "acme_", "a_", "x1_", "abcdefghijklmno_"} {
		if err := CheckKeyPrefix(p); err != nil {
			t.Errorf("%q refused: %v", p, err)
		}
	}
	for _, p := range []string{"", "_", "acme", "Acme_", "acme-cloud_", "acme__", "ac_me_", "abcdefghijklmnop_", "été_", "acme_ "} {
		if err := CheckKeyPrefix(p); err == nil {
			t.Errorf("%q accepted", p)
		}
	}
}

// TestIsKeySecret: a key's secret under any prefix keys accept has the
// form, and a session's secret (43 characters) never does.
func TestIsKeySecret(t *testing.T) {
	random := strings.Repeat("aB3-_", 8) + "xyz" // 43 characters
	for _, p := range []string{"equipe_", "acme_", "a_", "abcdefghijklmno_"} {
		if !IsKeySecret(p + random) {
			t.Errorf("%s… is not taken for a key", p)
		}
	}
	for _, s := range []string{random, "", "_" + random, "Acme_" + random, "acme-" + random, "acme_" + random[1:],
		"acme_" + random + "x", "abcdefghijklmnop_" + random} {
		if IsKeySecret(s) {
			t.Errorf("%q is taken for a key", s)
		}
	}
}
