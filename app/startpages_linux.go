package app

import (
	"bufio"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ReleaseStartPages gives back to the system the pages of the program's code
// and read-only data that the start touched: every package's
// initialisation, the migrations, the templates' parsing. The kernel maps a
// program's file in blocks of 16 pages around each one read, so a start that
// runs a little of nearly every package leaves most of the program resident
// (25 of its 33 MiB), though a serving process runs a fraction of it. Once
// released (madvise MADV_PAGEOUT, Linux 5.4 and later), the pages that
// serving uses come back as it runs them, and the others stay out. The
// pages are the program file's own, unchanged: nothing is lost, and the
// kernel would reclaim them under memory pressure anyway; this lowers the
// process's resident memory before any pressure (docs/performance.md,
// "Start-up and memory"). An error (an older kernel) is logged, and changes
// nothing.
func ReleaseStartPages(log *slog.Logger) {
	start := time.Now()
	before := residentKiB()
	if err := releaseProgramPages(); err != nil {
		log.Debug("start pages kept", "err", err)
		return
	}
	log.Info("released the program's pages touched at start", "rss_kib_before", before, "rss_kib_after", residentKiB(),
		"took_ms", time.Since(start).Milliseconds())
}

// releaseProgramPages pages out the mappings of the program's file that are
// not written to (its code and read-only data).
func releaseProgramPages() error {
	return eachProgramMapping(func(from, to uintptr, _ *bufio.Scanner) error {
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, from, to-from, unix.MADV_PAGEOUT); errno != 0 {
			return errno
		}
		return nil
	})
}

// eachProgramMapping calls fn with the bounds of each mapping of the
// program's file that is not written to, as /proc/self/smaps lists them,
// and the scanner of that file on the mapping's line.
func eachProgramMapping(fn func(from, to uintptr, sc *bufio.Scanner) error) error {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return err
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 00400000-0134b000 r-xp 00000000 fe:00 9986379 /path/to/equipe
		fs := strings.Fields(sc.Text())
		if len(fs) < 6 || fs[5] != exe || strings.Contains(fs[1], "w") {
			continue
		}
		lo, hi, ok := strings.Cut(fs[0], "-")
		if !ok {
			continue
		}
		from, err1 := strconv.ParseUint(lo, 16, 64)
		to, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || to <= from {
			continue
		}
		if err := fn(uintptr(from), uintptr(to), sc); err != nil {
			return err
		}
	}
	return sc.Err()
}

// programResidentKiB returns how much of the program's code and read-only
// data is resident, in KiB.
func programResidentKiB() (int64, error) {
	var total int64
	err := eachProgramMapping(func(_, _ uintptr, sc *bufio.Scanner) error {
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "Rss:"); ok {
				n, err := kib(v)
				total += n
				return err
			}
		}
		return sc.Err()
	})
	return total, err
}

// residentKiB returns the process's resident memory (VmRSS) in KiB, or 0.
func residentKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := kib(v)
			return n
		}
	}
	return 0
}

// kib reads a size of /proc ("  1234 kB") in KiB.
func kib(v string) (int64, error) {
	return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
}
