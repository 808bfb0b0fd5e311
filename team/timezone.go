package team

import (
	_ "embed"
	"slices"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
)

// timeZoneList is the tz database's zone.tab (a zone per country and
// region), sorted, with UTC first.
//
//go:embed timezones.txt
var timeZoneList string

var timeZones = strings.Fields(timeZoneList)

// TimeZones returns the IANA names of the time zones an account may choose:
// UTC, then the tz database's zones of every country, sorted.
func TimeZones() []string { return slices.Clone(timeZones) }

// ValidTimeZone reports whether name is a time zone an account may choose.
func ValidTimeZone(name string) bool {
	if !slices.Contains(timeZones, name) {
		return false
	}
	_, err := time.LoadLocation(name)
	return err == nil
}

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
