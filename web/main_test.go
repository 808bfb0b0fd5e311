package web_test

import (
	"os"
	"testing"

	"github.com/equipe-dev/equipe/internal/browsertest"
)

// TestMain closes the browser the browser tests share (browsertest.New).
func TestMain(m *testing.M) {
	code := m.Run()
	browsertest.Close()
	os.Exit(code)
}
