//go:build !unix

package store

// checkWritable is only known on unix; elsewhere SQLite's own refusal says
// so (see DB.readOnly).
func checkWritable(string) error { return nil }
