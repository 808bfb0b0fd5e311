package equipe

import (
	_ "embed"
	"slices"
	"strings"
	"time"
)

// timeZoneList is the tz database's zone.tab (a zone per country and
// region), sorted, with UTC first.
//
//go:embed timezones.txt
var timeZoneList string

var timeZones = strings.Fields(timeZoneList)

// TimeZones returns the IANA names of the time zones an account or a person
// may choose: UTC, then the tz database's zones of every country, sorted.
func TimeZones() []string { return slices.Clone(timeZones) }

// ValidTimeZone reports whether name is a time zone an account or a person
// may choose.
func ValidTimeZone(name string) bool {
	if !slices.Contains(timeZones, name) {
		return false
	}
	_, err := time.LoadLocation(name)
	return err == nil
}
