//go:build !linux

package store

// networkFilesystem is only known on Linux.
func networkFilesystem(dir string) (string, bool) { return "", false }
