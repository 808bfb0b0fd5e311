//go:build unix

package store

import (
	"errors"

	"golang.org/x/sys/unix"
)

// checkWritable returns a *ReadOnlyError when the process may not write the
// database file at path or the -wal and -shm files beside it, those that
// exist. access(2) answers for this process's user: root, who may write
// anything, passes, as SQLite would let it write.
func checkWritable(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		err := unix.Access(p, unix.W_OK)
		if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EROFS) || errors.Is(err, unix.EPERM) {
			return &ReadOnlyError{Path: p, Err: err}
		}
	}
	return nil
}
