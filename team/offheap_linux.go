//go:build linux

package team

import "syscall"

// mapRegion maps n bytes of anonymous memory (zeroed), or reports false.
func mapRegion(n int) ([]byte, bool) {
	mem, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	return mem, err == nil
}

func unmapRegion(mem []byte) {
	if err := syscall.Munmap(mem); err != nil {
		panic("team: unmapping the cache's memory: " + err.Error())
	}
}
