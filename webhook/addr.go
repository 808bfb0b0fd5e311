package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Rules say where endpoints may point. The zero value allows https to
// public addresses only.
type Rules struct {
	// AllowHTTPLoopback allows http:// URLs, and connections, to loopback
	// addresses (EQUIPE_WEBHOOKS_ALLOW_HTTP_LOOPBACK): for a receiver on the
	// same machine, tests and benchmarks. Never for a shared instance.
	AllowHTTPLoopback bool
}

var (
	cgnat       = netip.MustParsePrefix("100.64.0.0/10")
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	reserved    = netip.MustParsePrefix("240.0.0.0/4") // with the broadcast address
	benchmark   = netip.MustParsePrefix("198.18.0.0/15")
	ietf        = netip.MustParsePrefix("192.0.0.0/24")
	nat64       = netip.MustParsePrefix("64:ff9b::/96")
	siteLocal   = netip.MustParsePrefix("fec0::/10")
	v4compat    = netip.MustParsePrefix("::/96")     // IPv4-compatible (deprecated): ::a.b.c.d
	sixToFour   = netip.MustParsePrefix("2002::/16") // 6to4: 2002:aabb:ccdd::
	teredo      = netip.MustParsePrefix("2001::/32") // Teredo: the address within is obscured
	// documentation are the ranges kept for examples (RFC 5737, RFC 3849):
	// routed nowhere, so a URL to one is a mistake or a probe.
	documentation = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32")}
)

// Refused reports why a connection to a may not be made, or "" when it may:
// private (RFC 1918, and IPv6 unique-local fc00::/7), loopback (unless
// allowed), link-local (169.254.0.0/16, where cloud metadata services
// answer, and fe80::/10), unspecified, multicast, CGNAT (100.64.0.0/10) and
// other reserved ranges (documentation's among them). An IPv4 address written as IPv6 (::ffff:a.b.c.d,
// ::a.b.c.d, through NAT64 or 6to4) is judged as the IPv4 address; a
// Teredo address, whose IPv4 address within is obscured, is refused.
func (r Rules) Refused(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64.Contains(a), v4compat.Contains(a) && !a.IsLoopback() && !a.IsUnspecified():
			a = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		case sixToFour.Contains(a):
			a = netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
		case teredo.Contains(a):
			return "reserved"
		}
	}
	switch {
	case a.IsLoopback():
		if r.AllowHTTPLoopback {
			return ""
		}
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local"
	case a.IsUnspecified(), thisNetwork.Contains(a):
		return "unspecified"
	case a.IsMulticast(), a.IsInterfaceLocalMulticast():
		return "multicast"
	case cgnat.Contains(a):
		return "CGNAT"
	case reserved.Contains(a), benchmark.Contains(a), ietf.Contains(a), siteLocal.Contains(a), !a.IsValid():
		return "reserved"
	}
	for _, p := range documentation {
		if p.Contains(a) {
			return "documentation"
		}
	}
	return ""
}

// Problems of a URL, as message keys.
const (
	URLInvalid   = "webhook.url_invalid"
	URLTooLong   = "webhook.url_too_long"
	URLNotHTTPS  = "webhook.url_https"
	URLForbidden = "webhook.url_forbidden"
	// URLNumericHost is a host of digits that is not an IPv4 address in
	// its usual form (2130706433, 0x7f000001, 127.1, 017700000001):
	// resolvers and browsers read such hosts as addresses, each its own
	// way, so one could not be judged here as it would be connected to.
	URLNumericHost = "webhook.url_numeric_host"
)

// MaxURL is the longest URL an endpoint may have.
const MaxURL = 2000

// CheckURL returns the URL to store, or the key of what is wrong with raw:
// longer than MaxURL, not an absolute URL with a host, not https (http
// only to a loopback address when allowed), credentials in it, a host of
// digits not written as a usual IPv4 address, or a host that is an address
// the rules refuse (or names this machine). Names are resolved when the
// request is made, and checked then (see Client).
func (r Rules) CheckURL(raw string) (string, string) {
	raw = strings.TrimSpace(raw)
	if len(raw) > MaxURL {
		return "", URLTooLong
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" || u.User != nil || u.Fragment != "" {
		return "", URLInvalid
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", URLInvalid
		}
	}
	// A name's final dot (localhost.) names the same host: it is judged
	// without.
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	a, aerr := netip.ParseAddr(strings.Trim(host, "[]"))
	isAddr := aerr == nil
	if !isAddr && numericHost(host) {
		return "", URLNumericHost
	}
	loopbackName := host == "localhost" || strings.HasSuffix(host, ".localhost")
	switch u.Scheme {
	case "https":
	case "http":
		if !r.AllowHTTPLoopback || !(loopbackName || (isAddr && a.Unmap().IsLoopback())) {
			return "", URLNotHTTPS
		}
	default:
		return "", URLNotHTTPS
	}
	if isAddr && r.Refused(a) != "" {
		return "", URLForbidden
	}
	if loopbackName && !r.AllowHTTPLoopback {
		return "", URLForbidden
	}
	return u.String(), ""
}

// numericHost reports whether host's last label is a number (decimal, or
// hexadecimal after 0x), which makes the whole host an IPv4 address to URL
// parsers (WHATWG), however it is written: no top-level domain is numeric.
func numericHost(host string) bool {
	last := host[strings.LastIndex(host, ".")+1:]
	if hex, ok := strings.CutPrefix(last, "0x"); ok {
		return strings.Trim(hex, "0123456789abcdef") == ""
	}
	return last != "" && strings.Trim(last, "0123456789") == ""
}

// errRefused is the error of a connection to an address the rules refuse.
var errRefused = errors.New("webhook: address refused")

// errNoAddress is the error of a name that resolves to no address.
var errNoAddress = errors.New("webhook")

// control is the dialer's Control: it runs for the very address being
// connected to, after resolution, so that no name resolved twice (DNS
// rebinding) can lead elsewhere than what was checked.
func (r Rules) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", errRefused, address)
	}
	if why := r.Refused(ap.Addr()); why != "" {
		return fmt.Errorf("%w: %s is a %s address", errRefused, ap.Addr(), why)
	}
	return nil
}

// Lookup resolves a host name to its addresses.
type Lookup func(ctx context.Context, host string) ([]netip.Addr, error)

// Client returns the HTTP client of webhook requests: each request gives
// up after timeout; redirects are never followed (a 3xx is the answer, a
// failed attempt); no proxy from the environment is used (it would connect
// in our place, past the checks); and every connection goes through the
// rules' check of the address actually dialled. lookup, when not nil,
// resolves names instead of the system's resolver (a test's own DNS).
func (r Rules) Client(timeout time.Duration, lookup Lookup) *http.Client {
	if lookup == nil {
		lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	d := &net.Dialer{Control: r.control, Timeout: timeout}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dial(d, lookup),
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// dial resolves the host with lookup and dials its addresses in turn with
// d, whose Control refuses those the rules refuse: the check applies to the
// address connected to, whatever the name said before.
func dial(d *net.Dialer, lookup Lookup) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if _, err := netip.ParseAddr(host); err == nil {
			return d.DialContext(ctx, network, addr)
		}
		addrs, err := lookup(ctx, host)
		if err != nil {
			return nil, err
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("%w: %s has no address", errNoAddress, host)
		}
		var errs []error
		for _, a := range addrs {
			c, err := d.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
			if err == nil {
				return c, nil
			}
			errs = append(errs, err)
		}
		return nil, errors.Join(errs...)
	}
}
