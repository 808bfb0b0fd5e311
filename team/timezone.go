package team

import (
	"time"

	"github.com/equipe-dev/equipe"
)

// TimeZones returns the IANA names of the time zones an account may choose
// (equipe.TimeZones).
func TimeZones() []string { return equipe.TimeZones() }

// ValidTimeZone reports whether name is a time zone an account may choose.
func ValidTimeZone(name string) bool { return equipe.ValidTimeZone(name) }

// Location returns the time zone the account's pages show times in: its
// own, else the instance's (TimeZone), else UTC.
func (s *Service) Location(a equipe.Account) *time.Location {
	for _, name := range []string{a.TimeZone, s.TimeZone} {
		if name == "" {
			continue
		}
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
	}
	return time.UTC
}

// TimeZoneOf returns the IANA name of the zone the account's pages show
// times in (Location's).
func (s *Service) TimeZoneOf(a equipe.Account) string { return s.Location(a).String() }
