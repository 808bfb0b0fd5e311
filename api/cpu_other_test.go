//go:build !linux

package api_test

import (
	"os/exec"
	"time"
)

type cpuMark struct{}

func markCPU() cpuMark { return cpuMark{} }

// foreignCPU cannot tell outside Linux.
func foreignCPU(cpuMark, *exec.Cmd) (time.Duration, bool) { return 0, false }

// cpuTime is this process's CPU time so far: unknown outside Linux (0).
type cpuTime struct{}

func (*cpuTime) read()               {}
func (cpuTime) total() time.Duration { return 0 }
