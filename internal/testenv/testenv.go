package testenv

import (
	"os"
	"strings"
	"testing"
)

// Required reports whether EQUIPE_TEST_REQUIRE names the component.
func Required(component string) bool {
	for _, c := range strings.Split(os.Getenv("EQUIPE_TEST_REQUIRE"), ",") {
		if strings.TrimSpace(c) == component {
			return true
		}
	}
	return false
}

// SkipOrFail skips the test with a one-line notice when the component is
// optional, and fails it when EQUIPE_TEST_REQUIRE makes it mandatory.
func SkipOrFail(t testing.TB, component, why string) {
	t.Helper()
	if Required(component) {
		t.Fatalf("%s is required (EQUIPE_TEST_REQUIRE) but unavailable: %s", component, why)
	}
	t.Skipf("skipping: %s unavailable: %s", component, why)
}
