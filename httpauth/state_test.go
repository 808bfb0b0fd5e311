package httpauth

import (
	"testing"
	"unsafe"
)

// The middleware allocates one state per request: at 64 bytes it stays in
// the allocator's 64-byte size class, and a field more would cost every
// request 16 bytes (80-byte class), the check API's included. A fact that
// needs more room goes in the context on its own, as the fault of
// Unavailable does.
func TestState_StaysInTheSixtyFourByteSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(state{}); n > 64 {
		t.Fatalf("state is %d bytes, more than 64", n)
	}
}
