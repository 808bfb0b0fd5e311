//go:build !unix

package webhook_test

import "time"

// processCPU cannot tell outside Unix: 0.
func processCPU() time.Duration { return 0 }
