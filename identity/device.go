package identity

import (
	"strings"
	"sync"

	useragent "github.com/medama-io/go-useragent"
)

// uaParser reads User-Agent headers. Building it takes a tenth of a second
// and some memory: it is built the first time a session is described, not
// at start.
var uaParser = sync.OnceValue(useragent.NewParser)

// Device is what a User-Agent header says of a browser: its name and major
// version ("Firefox 133"), and the system it runs on ("Windows"). A client
// the parser does not know (a program: curl, a library) is named by the
// first word of its header ("curl/8.5.0"); Browser is empty only for an
// empty header, System whenever the header does not say.
type Device struct {
	Browser string
	System  string
}

// DeviceOf reads the User-Agent header ua.
func DeviceOf(ua string) Device {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return Device{}
	}
	r := uaParser().Parse(ua)
	d := Device{Browser: string(r.Browser()), System: string(r.OS())}
	if d.Browser == "" {
		d.Browser, _, _ = strings.Cut(ua, " ")
		if len(d.Browser) > 40 {
			d.Browser = strings.ToValidUTF8(d.Browser[:40], "")
		}
		return d
	}
	if v := r.BrowserVersionMajor(); v != "" {
		d.Browser += " " + v
	}
	return d
}
