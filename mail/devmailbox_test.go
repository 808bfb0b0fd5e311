package mail

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
)

// get serves a request to h as if from remoteAddr.
func get(h http.Handler, path, remoteAddr string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.RemoteAddr = remoteAddr
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// fillMailbox sends three emails a minute apart and returns them, oldest
// first.
func fillMailbox(t *testing.T, box *DevMailbox) []equipe.Email {
	t.Helper()
	clk := newClock()
	box.Now = clk.Now
	tm := testTemplates(t, clk.Now)
	var out []equipe.Email
	for i, name := range []string{TemplatePasswordReset, TemplateInvitation, TemplateWelcome} {
		e, err := tm.Compose(name, "en", fmt.Sprintf("user%d@example.org", i), Data{
			RecipientID: equipe.NewID(), RecipientName: "Ada <b>Lovelace</b>",
			AccountName: "Acme",
			Link:        fmt.Sprintf("%s/invitations/tok%d?a=1&b=2", testPublicURL, i),
			Expires:     clk.Now().Add(time.Hour),
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := box.Send(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
		clk.Add(time.Minute)
	}
	return out
}

func TestDevMailbox_JSONListsMessagesNewestFirst(t *testing.T) {
	box := &DevMailbox{}
	sent := fillMailbox(t, box)
	res := get(box.Handler(), "/dev/mail.json", "127.0.0.1:40000")
	if res.Code != http.StatusOK || res.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, type %q", res.Code, res.Header().Get("Content-Type"))
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(res.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, m := range raw {
		for _, k := range []string{"id", "to", "subject", "text", "html", "links", "created_at"} {
			if _, ok := m[k]; !ok {
				t.Errorf("a message lacks %q", k)
			}
		}
	}
	var got []struct {
		ID        string    `json:"id"`
		To        []string  `json:"to"`
		Subject   string    `json:"subject"`
		Text      string    `json:"text"`
		HTML      string    `json:"html"`
		Links     []string  `json:"links"`
		CreatedAt time.Time `json:"created_at"`
	}
	if err := json.Unmarshal(res.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d messages, want 3", len(got))
	}
	for i, m := range got {
		e := sent[len(sent)-1-i]
		if m.ID != e.ID.String() || !slices.Equal(m.To, []string{e.To}) || m.Subject != e.Subject || m.Text != e.Text || m.HTML != e.HTML {
			t.Errorf("message %d is %s %q, want %s %q", i, m.ID, m.Subject, e.ID, e.Subject)
		}
		if i > 0 && !m.CreatedAt.Before(got[i-1].CreatedAt) {
			t.Errorf("message %d is not older than the one before", i)
		}
		// The HTML writes the link's & as &amp;; links are decoded.
		link := fmt.Sprintf("%s/invitations/tok%d?a=1&b=2", testPublicURL, len(sent)-1-i)
		if e.Template == TemplateWelcome {
			link = testPublicURL + "/login"
		}
		if !slices.Contains(m.Links, link) {
			t.Errorf("links %q lack %s", m.Links, link)
		}
	}

	empty := get((&DevMailbox{}).Handler(), "/dev/mail.json", "127.0.0.1:40000")
	if strings.TrimSpace(empty.Body.String()) != "[]" {
		t.Errorf("an empty mailbox answers %q, want []", empty.Body.String())
	}
}

func TestLinks_AreDeduplicatedInOrderAndDecoded(t *testing.T) {
	text := "Open https://a.test/x.\nOr (https://b.test/y?z=1), then https://a.test/x again; ftp://c.test is not one."
	html := `<a href="https://a.test/x">a</a> <a href="https://d.test/p?u=1&amp;v=2">https://d.test/p?u=1&amp;v=2</a> <img src="http://e.test/i.png">`
	got := Links(text, html)
	want := []string{"https://a.test/x", "https://b.test/y?z=1", "https://d.test/p?u=1&v=2", "http://e.test/i.png"}
	if !slices.Equal(got, want) {
		t.Errorf("Links = %q, want %q", got, want)
	}
	if got := Links("", ""); got == nil || len(got) != 0 {
		t.Errorf("Links of nothing = %#v, want an empty list", got)
	}
}

func TestDevMailbox_AnswersOnlyLoopbackClients(t *testing.T) {
	box := &DevMailbox{}
	sent := fillMailbox(t, box)
	h := box.Handler()
	paths := []string{"/dev/mail", "/dev/mail.json", "/dev/mail/" + sent[0].ID.String()}
	for _, path := range paths {
		for _, addr := range []string{"192.0.2.1:1234", "10.0.0.1:80", "[2001:db8::1]:443", "garbage"} {
			r := httptest.NewRequest(http.MethodGet, path, nil)
			r.RemoteAddr = addr
			r.Header.Set("X-Forwarded-For", "127.0.0.1")
			r.Header.Set("Forwarded", "for=127.0.0.1")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), sent[0].Subject) {
				t.Errorf("GET %s from %s: status %d, want 404", path, addr, w.Code)
			}
		}
		for _, addr := range []string{"127.0.0.1:5555", "[::1]:5555", "127.0.0.2:1", "[::ffff:127.0.0.1]:80"} {
			if w := get(h, path, addr); w.Code != http.StatusOK {
				t.Errorf("GET %s from %s: status %d, want 200", path, addr, w.Code)
			}
		}
	}
	for _, path := range []string{"/dev/mail/", "/dev/mail/" + equipe.NewID().String(), "/dev/mail/x/y", "/dev/mailbox", "/"} {
		if w := get(h, path, "127.0.0.1:5555"); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, w.Code)
		}
	}
}

func TestDevMailbox_ServesTheHTMLBodySandboxed(t *testing.T) {
	box := &DevMailbox{}
	sent := fillMailbox(t, box)
	w := get(box.Handler(), "/dev/mail/"+sent[1].ID.String(), "127.0.0.1:5555")
	if w.Code != http.StatusOK || w.Body.String() != sent[1].HTML {
		t.Fatalf("status %d, body is not the email's HTML", w.Code)
	}
	if got := w.Header().Get("Content-Security-Policy"); got != "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:" {
		t.Errorf("Content-Security-Policy %q", got)
	}
	if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers %v", w.Header())
	}
}

func TestDevMailbox_PageListsEveryMessageWithItsLinks(t *testing.T) {
	box := &DevMailbox{}
	sent := fillMailbox(t, box)
	w := get(box.Handler(), "/dev/mail", "127.0.0.1:5555")
	page := w.Body.String()
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, type %q", w.Code, w.Header().Get("Content-Type"))
	}
	for _, want := range []string{
		`<html lang="en">`,
		`<link rel="stylesheet" href="/static/style.css">`,
		`<a href="https://equipe.example.test/invitations/tok0?a=1&amp;b=2" rel="noreferrer">`,
		`<a href="/dev/mail/` + sent[2].ID.String() + `">`,
		`<pre class="devmail-text">`,
		"user1@example.org",
		"Ada &lt;b&gt;Lovelace&lt;/b&gt;",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	for _, bad := range []string{"<script", "<style", "style=", "<b>Lovelace"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
	if a, b := strings.Index(page, sent[2].ID.String()), strings.Index(page, sent[0].ID.String()); a > b {
		t.Error("the page does not list the newest message first")
	}
	empty := get((&DevMailbox{}).Handler(), "/dev/mail", "127.0.0.1:5555")
	if !strings.Contains(empty.Body.String(), "No email yet.") {
		t.Error("an empty mailbox does not say so")
	}
}

func TestDevMailbox_KeepsOnlyTheLastMessages(t *testing.T) {
	box := &DevMailbox{Max: 2}
	sent := fillMailbox(t, box)
	got := box.Messages()
	if len(got) != 2 || got[0].ID != sent[2].ID.String() || got[1].ID != sent[1].ID.String() {
		t.Errorf("kept %d messages", len(got))
	}
	if w := get(box.Handler(), "/dev/mail/"+sent[0].ID.String(), "127.0.0.1:5555"); w.Code != http.StatusNotFound {
		t.Errorf("a dropped message is still served: %d", w.Code)
	}
}

// TestDevMailbox_RefusesEveryRequestThatCameThroughAProxy sends, over
// loopback, a request with each header a proxy or CDN adds, spelt as they
// spell it, in lower and in upper case, and with an empty value: each is
// answered 404 without the messages. The same request without it is served.
func TestDevMailbox_RefusesEveryRequestThatCameThroughAProxy(t *testing.T) {
	box := &DevMailbox{}
	sent := fillMailbox(t, box)
	srv := httptest.NewServer(box.Handler())
	defer srv.Close()
	send := func(t *testing.T, path, name, value string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if name != "" {
			// Set directly, the name goes on the wire as written.
			req.Header[name] = []string{value}
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	paths := []string{"/dev/mail", "/dev/mail.json", "/dev/mail/" + sent[0].ID.String()}
	for _, path := range paths {
		if status, _ := send(t, path, "", ""); status != http.StatusOK {
			t.Fatalf("GET %s without proxy headers: %d", path, status)
		}
	}
	for _, h := range []struct{ name, value string }{
		{"X-Forwarded-For", "203.0.113.9"},
		{"X-Forwarded-Host", "equipe.example.com"},
		{"X-Forwarded-Proto", "https"},
		{"X-Forwarded-Port", "443"},
		{"X-Forwarded-Server", "proxy.example.com"},
		{"X-Forwarded-Prefix", "/equipe"},
		{"X-Forwarded", "for=203.0.113.9"},
		{"Forwarded", "for=203.0.113.9;proto=https"},
		{"Forwarded-For", "203.0.113.9"},
		{"X-Real-IP", "203.0.113.9"},
		{"X-Client-IP", "203.0.113.9"},
		{"True-Client-IP", "203.0.113.9"},
		{"CF-Connecting-IP", "203.0.113.9"},
		{"CF-Connecting-IPv6", "2001:db8::9"},
		{"CF-Pseudo-IPv4", "203.0.113.9"},
		{"X-Cluster-Client-IP", "203.0.113.9"},
		{"Fastly-Client-IP", "203.0.113.9"},
		{"Fly-Client-IP", "203.0.113.9"},
		{"CloudFront-Viewer-Address", "203.0.113.9:46532"},
		{"X-Azure-ClientIP", "203.0.113.9"},
		{"X-Azure-SocketIP", "203.0.113.9"},
		{"X-Envoy-External-Address", "203.0.113.9"},
		{"X-Original-Forwarded-For", "203.0.113.9"},
		{"Via", "1.1 proxy.example.com (nginx)"},
	} {
		t.Run(h.name, func(t *testing.T) {
			for _, name := range []string{h.name, strings.ToLower(h.name), strings.ToUpper(h.name)} {
				for _, value := range []string{h.value, ""} {
					for _, path := range paths {
						status, body := send(t, path, name, value)
						if status != http.StatusNotFound || strings.Contains(body, sent[0].Subject) {
							t.Errorf("GET %s with %s: %q: status %d, want 404", path, name, value, status)
						}
					}
				}
			}
		})
	}
}
