package api_test

import (
	"fmt"
	"os"
	"testing"
)

// TestMain runs the tests, or, when the latency benchmarks start the test
// binary again with loadGenEnv set, the load generator (loadgen_test.go)
// alone.
func TestMain(m *testing.M) {
	if spec := os.Getenv(loadGenEnv); spec != "" {
		if err := loadGenerator(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
