//go:build !linux

package api_test

import (
	"os/exec"
	"time"
)

// cpuMark knows nothing outside Linux: self stays 0 (unknown).
type cpuMark struct{ self time.Duration }

func markCPU() cpuMark { return cpuMark{} }

// foreignCPU cannot tell outside Linux.
func foreignCPU(cpuMark, *exec.Cmd) (time.Duration, bool) { return 0, false }

// cpuTime is this process's CPU time so far: unknown outside Linux (0).
type cpuTime struct{}

func (*cpuTime) read()               {}
func (cpuTime) total() time.Duration { return 0 }
