package identity

import (
	"strconv"
	"strings"

	"github.com/mileusna/useragent"
)

// Device is what a User-Agent header says of a browser: its name and major
// version ("Firefox 133"), and the system it runs on ("Windows"). A client
// the parser does not know as a browser (a program: curl, a library) is
// named by the first word of its header ("curl/8.5.0"); Browser is empty
// only for an empty header, System whenever the header does not say.
type Device struct {
	Browser string
	System  string
}

// DeviceOf reads the User-Agent header ua. The parser keeps no tables in
// memory: it reads the header's tokens as it goes.
func DeviceOf(ua string) Device {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return Device{}
	}
	r := useragent.Parse(ua)
	d := Device{System: r.OS}
	if r.Name == "" || !(r.Desktop || r.Mobile || r.Tablet) {
		d.Browser, _, _ = strings.Cut(ua, " ")
		if len(d.Browser) > 40 {
			d.Browser = strings.ToValidUTF8(d.Browser[:40], "")
		}
		return d
	}
	d.Browser = r.Name
	if r.VersionNo.Major > 0 {
		d.Browser += " " + strconv.Itoa(r.VersionNo.Major)
	}
	return d
}
