//go:build !linux

package app

import "log/slog"

// ReleaseStartPages does nothing outside Linux.
func ReleaseStartPages(log *slog.Logger) {}
