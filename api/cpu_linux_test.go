package api_test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuMark is a moment's count of CPU time: the machine's, busy, and this
// process's.
type cpuMark struct {
	machine, self time.Duration
	ok            bool
}

func markCPU() cpuMark {
	var m cpuMark
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return m
	}
	m.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return m
	}
	// cpu  user nice system idle iowait irq softirq steal ..., in 1/100 s
	f := strings.Fields(strings.SplitN(string(raw), "\n", 2)[0])
	if len(f) < 9 || f[0] != "cpu" {
		return m
	}
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		m.machine += time.Duration(n) * 10 * time.Millisecond
	}
	m.ok = true
	return m
}

// foreignCPU returns the CPU time that the machine spent since before on
// anything but this process and the finished command cmd (the kernel's
// interrupt work included), and whether it could tell.
func foreignCPU(before cpuMark, cmd *exec.Cmd) (time.Duration, bool) {
	after := markCPU()
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !before.ok || !after.ok || !ok {
		return 0, false
	}
	child := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return max(0, after.machine-before.machine-(after.self-before.self)-child), true
}

// cpuTime is this process's CPU time so far.
type cpuTime struct{ d time.Duration }

func (c *cpuTime) read() {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		c.d = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
}

func (c cpuTime) total() time.Duration { return c.d }
