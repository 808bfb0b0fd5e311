//go:build !unix

package testenv

import "time"

// ProcessCPU cannot tell outside Unix: 0.
func ProcessCPU() time.Duration { return 0 }
