//go:build !unix

package store_test

import "time"

// processCPU is 0: the CPU time is not known here.
func processCPU() time.Duration { return 0 }
