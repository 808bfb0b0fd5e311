package app

import "time"

// SetShutdownGrace sets how long Serve lets requests finish at shutdown,
// until the test ends.
func SetShutdownGrace(t interface{ Cleanup(func()) }, d time.Duration) {
	old := shutdownGrace
	shutdownGrace = d
	t.Cleanup(func() { shutdownGrace = old })
}
