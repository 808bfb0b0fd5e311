package web_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestOutage_PagesShowThe503PageAndKeepTheSession cuts the database off a
// running service. A logged-in reader's pages, and their form posts, answer
// 503 with a page saying so in their language: no redirect to the login
// page, and the session cookie stays. Logging in answers 503 too. On
// PostgreSQL the database comes back and the same session goes on.
func TestOutage_PagesShowThe503PageAndKeepTheSession(t *testing.T) {
	messages := i18n.MustLoad()
	session := httpauth.Cookies{}.Name()
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			env := apptest.Start(t, e, apptest.Options{CuttableDatabase: true})
			o := signUpOwner(t, env, "ada@outage.example")

			env.CutDatabase(t)

			tests := []struct {
				name   string
				send   func() page
				locale string
			}{
				{"the home page", func() page { return get(t, o.c, env.URL+"/", "Accept-Language", "en") }, "en"},
				{"the team page", func() page { return get(t, o.c, o.url("/members"), "Accept-Language", "fr") }, "fr"},
				{"a page open to anyone", func() page { return get(t, o.c, env.URL+"/privacy", "Accept-Language", "en") }, "en"},
				{"a form post", func() page {
					return post(t, o.c, o.url("/settings"), url.Values{"name": {"Renamed"}}, "Accept-Language", "fr")
				}, "fr"},
				{"a login", func() page {
					return post(t, env.Client(), env.URL+"/login", url.Values{"email": {"ada@outage.example"},
						"password": {"lovelace rode the number engine"}}, "Accept-Language", "en")
				}, "en"},
			}
			for _, tt := range tests {
				p := tt.send()
				if p.Status != 503 || p.Header.Get("Location") != "" || p.Header.Get("Retry-After") == "" {
					t.Errorf("%s: %d, Location %q, Retry-After %q; want 503 with Retry-After and no redirect",
						tt.name, p.Status, p.Header.Get("Location"), p.Header.Get("Retry-After"))
				}
				if want := messages.T(tt.locale, "service.unavailable", nil); !strings.Contains(p.Body, want) {
					t.Errorf("%s: the page does not say %q:\n%s", tt.name, want, p.Body)
				}
				for _, c := range p.Header.Values("Set-Cookie") {
					if strings.HasPrefix(c, session+"=") {
						t.Errorf("%s: the session cookie is touched: %s", tt.name, c)
					}
				}
			}
			if e == store.SQLite {
				return
			}

			env.RestoreDatabase(t)
			// The pool's connections come back as requests need them:
			// nothing in the process says when, so look at the pages.
			testenv.Await(t, 20*time.Second, testenv.Every(50*time.Millisecond), "the pages answering once the database came back", func() bool {
				p := get(t, o.c, o.url("/settings"))
				if p.Status == 200 && strings.Contains(p.Body, "Renamed") {
					t.Error("the settings posted during the outage were saved")
				}
				if p.Status != 200 && p.Status != 503 {
					t.Fatalf("while the service reconnects: %d %s", p.Status, p.Header.Get("Location"))
				}
				return p.Status == 200
			})
		})
	}
}
