package app

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// TestReleaseStartPages_LeavesLessOfTheProgramResident: the test binary's
// start touched much of its code and read-only data; once released, less
// of them is resident, and what runs afterwards (this test) comes back.
func TestReleaseStartPages_LeavesLessOfTheProgramResident(t *testing.T) {
	before, err := programResidentKiB()
	if err != nil {
		t.Fatal(err)
	}
	if before == 0 {
		t.Fatal("no page of the program is resident before")
	}
	if err := releaseProgramPages(); errors.Is(err, unix.EINVAL) {
		t.Skip("this kernel does not page out on request (MADV_PAGEOUT, Linux 5.4 and later)")
	} else if err != nil {
		t.Fatal(err)
	}
	after, err := programResidentKiB()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the program's code and read-only data resident: %d KiB before, %d KiB after", before, after)
	if after >= before/2 {
		t.Errorf("%d KiB of the program resident after its pages were released, of %d before", after, before)
	}
}
