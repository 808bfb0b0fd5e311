package mail

import (
	"github.com/equipe-dev/equipe/brand"

	"context"
	_ "embed"
	"encoding/json"
	"html"
	"html/template"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/equipe-dev/equipe"
)

// DefaultDevMailboxSize is how many messages a DevMailbox keeps.
const DefaultDevMailboxSize = 500

// DevMailbox is the Sender used when no SMTP server is configured: it keeps
// the last messages in memory and shows them to developers on /dev/mail.
// The zero value is ready to use.
type DevMailbox struct {
	// Max bounds the messages kept; the oldest go first (default 500).
	Max int
	// Now stamps received messages (default time.Now).
	Now func() time.Time
	// Product is the product's name the page bears (default
	// brand.DefaultName).
	Product string
	// Brand, when set, names the page by the brand in force instead.
	Brand *brand.Live

	mu   sync.Mutex
	msgs []DevMessage // oldest first
}

// DevMessage is one message received by a DevMailbox.
type DevMessage struct {
	ID        string    `json:"id"` // the outbox email's ID
	MessageID string    `json:"message_id"`
	Template  string    `json:"template"`
	To        []string  `json:"to"`
	Subject   string    `json:"subject"`
	Text      string    `json:"text"`
	HTML      string    `json:"html"`
	Links     []string  `json:"links"` // the http(s) URLs in Text then HTML, de-duplicated, in order
	CreatedAt time.Time `json:"created_at"`
}

// Send keeps e. It never fails.
func (m *DevMailbox) Send(_ context.Context, e equipe.Email) error {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	msg := DevMessage{
		ID:        e.ID.String(),
		MessageID: e.MessageID,
		Template:  e.Template,
		To:        []string{e.To},
		Subject:   e.Subject,
		Text:      e.Text,
		HTML:      e.HTML,
		Links:     Links(e.Text, e.HTML),
		CreatedAt: now().UTC(),
	}
	limit := m.max()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	if over := len(m.msgs) - limit; over > 0 {
		m.msgs = append(m.msgs[:0], m.msgs[over:]...)
	}
	return nil
}

func (m *DevMailbox) max() int {
	if m.Max <= 0 {
		return DefaultDevMailboxSize
	}
	return m.Max
}

// Messages returns the messages kept, newest first.
func (m *DevMailbox) Messages() []DevMessage {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]DevMessage, len(m.msgs))
	for i, msg := range m.msgs {
		out[len(m.msgs)-1-i] = msg
	}
	return out
}

// linkPattern matches http(s) URLs up to a space, a quote or a bracket.
var linkPattern = regexp.MustCompile(`https?://[^\s<>"'` + "`" + `]+`)

// Links returns the http(s) URLs found in a text body and then an HTML
// body, de-duplicated, in order of appearance, with HTML entities decoded
// (&amp; in an href is & in the link).
func Links(text, htmlBody string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, s := range []string{text, html.UnescapeString(htmlBody)} {
		for _, l := range linkPattern.FindAllString(s, -1) {
			// A sentence may end right after a link: its full stop or
			// closing parenthesis is not part of it.
			l = strings.TrimRight(l, ".,;:!?)]}»”’")
			if !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	return out
}

//go:embed devmailbox.html
var devMailboxPage string

var devMailboxTemplate = template.Must(template.New("devmailbox").Funcs(template.FuncMap{
	"stamp": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}).Parse(devMailboxPage))

// Handler serves the mailbox to loopback clients only: GET /dev/mail (a
// page listing the messages), GET /dev/mail/{id} (a message's HTML body,
// sandboxed) and GET /dev/mail.json. Any other client gets 404, as if the
// pages did not exist: the messages hold live one-time links. The client is
// judged by the connection's address, never by X-Forwarded-For, which
// anyone can send; and a request that came through a proxy (it carries any
// header a proxy adds, see proxied) is refused too, since a proxy on the
// same machine connects from loopback on behalf of anyone.
func (m *DevMailbox) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dev/mail", m.servePage)
	mux.HandleFunc("GET /dev/mail.json", m.serveJSON)
	mux.HandleFunc("GET /dev/mail/{id}", m.serveHTML)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopback(r.RemoteAddr) || proxied(r) {
			http.NotFound(w, r)
			return
		}
		// The pages carry one-time links: keep them out of caches and out of
		// the Referer header of the pages they lead to.
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		mux.ServeHTTP(w, r)
	})
}

// proxied reports whether a request carries any of the headers by which a
// reverse proxy, a load balancer or a CDN passes on the client's address or
// the original request, whatever its value (even empty).
func proxied(r *http.Request) bool {
	for name := range r.Header {
		// Go's server canonicalizes the names it reads (X-Real-IP arrives
		// as X-Real-Ip); a request built otherwise may spell them as sent.
		name = http.CanonicalHeaderKey(name)
		if slices.Contains(proxyHeaders, name) || strings.HasPrefix(name, "X-Forwarded-") ||
			strings.HasPrefix(name, "X-Original-") {
			return true
		}
	}
	return false
}

// proxyHeaders are, in canonical form, the headers that proxies and CDNs
// add to name the client, besides every X-Forwarded-* and X-Original-*
// header (X-Original-Forwarded-For, X-Original-Host…). The list cannot be
// complete: the mailbox is served at all only when the public URL is this
// machine, and the proxy examples block /dev/.
var proxyHeaders = []string{
	"Forwarded",                 // RFC 7239
	"Forwarded-For",             // before RFC 7239
	"X-Forwarded",               // before RFC 7239
	"Via",                       // RFC 9110, added by proxies and CDNs
	"X-Real-Ip",                 // nginx, Traefik
	"X-Client-Ip",               // various load balancers
	"True-Client-Ip",            // Akamai, Cloudflare Enterprise
	"Cf-Connecting-Ip",          // Cloudflare
	"Cf-Connecting-Ipv6",        // Cloudflare
	"Cf-Pseudo-Ipv4",            // Cloudflare
	"X-Cluster-Client-Ip",       // Rackspace, Riverbed
	"Fastly-Client-Ip",          // Fastly
	"Fly-Client-Ip",             // Fly.io
	"Cloudfront-Viewer-Address", // Amazon CloudFront
	"X-Azure-Clientip",          // Azure Front Door
	"X-Azure-Socketip",          // Azure Front Door
	"X-Envoy-External-Address",  // Envoy
}

func loopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

func (m *DevMailbox) servePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	product := m.Product
	if m.Brand != nil {
		product = m.Brand.Load().Name
	}
	if product == "" {
		product = brand.DefaultName
	}
	page := struct {
		Max      int
		Messages []DevMessage
		Product  string
	}{m.max(), m.Messages(), product}
	if err := devMailboxTemplate.Execute(w, page); err != nil {
		http.Error(w, "cannot render the mailbox", http.StatusInternalServerError)
	}
}

func (m *DevMailbox) serveJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(m.Messages())
}

// serveHTML serves a message's HTML body alone. The sandbox policy keeps
// whatever the body holds (a name with a script, say) from running or
// loading anything, while its inline styles still apply.
func (m *DevMailbox) serveHTML(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	for _, msg := range m.Messages() {
		if msg.ID == id {
			w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(msg.HTML))
			return
		}
	}
	http.NotFound(w, r)
}
