package api_test

import (
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store/storetest"
)

// BenchmarkTeamHTTP measures the team page and GET .../members of an account
// of 100,000 members through the whole service on loopback (every
// middleware, the session, the permission check, the query, the JSON or
// HTML): the first page, a page after 80,000 members, a one-word and a
// two-word search. Each op is one request for a page of 50; its time is the
// round trip seen by the client, an upper bound of the server's time.
//
//	go test -run '^$' -bench TeamHTTP -benchtime 200x ./api/
func BenchmarkTeamHTTP(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			env := apptest.Start(b, e, apptest.Options{})
			token := signUp(b, env, "ada@example.com")
			r := call(b, env.Client(), "GET", env.URL+"/api/v1/me/accounts", nil, bearer(token)...)
			account := equipe.MustParse(r.JSON["items"].([]any)[0].(map[string]any)["id"].(string))
			storetest.SeedMembers(b, env.DB, account, 100_000)
			api := env.URL + "/api/v1/accounts/" + account.String() + "/members"
			page := env.URL + "/accounts/" + account.String() + "/members"

			// The cursor after 80,000 members, walked 200 at a time.
			deep := ""
			for range 400 {
				u := api + "?limit=200"
				if deep != "" {
					u += "&cursor=" + url.QueryEscape(deep)
				}
				r := call(b, env.Client(), "GET", u, nil, bearer(token)...)
				if r.Status != 200 {
					b.Fatalf("walk: %d %s", r.Status, r.Raw)
				}
				deep, _ = r.JSON["next_cursor"].(string)
				if deep == "" {
					b.Fatalf("the walk ended early: %s", r.Raw[:min(len(r.Raw), 300)])
				}
			}
			c := &http.Client{}
			for _, tt := range []struct{ name, url string }{
				{"api/first-page", api},
				{"api/deep-page", api + "?cursor=" + url.QueryEscape(deep)},
				{"api/search", api + "?q=chlo"},
				{"api/search-two-words", api + "?q=" + url.QueryEscape("hugo mar")},
				{"page/first-page", page},
				{"page/deep-page", page + "?cursor=" + url.QueryEscape(deep)},
				{"page/search", page + "?q=chlo"},
				{"api/sort-last-login", api + "?sort=-last_login"},
				{"api/search-domain", api + "?q=" + url.QueryEscape("@cabinet-expert")},
				{"page/sort-role", page + "?sort=role"},
				{"page/search-short", page + "?q=qx"},
			} {
				b.Run(tt.name, func(b *testing.B) {
					req, _ := http.NewRequest("GET", tt.url, nil)
					req.AddCookie(&http.Cookie{Name: "equipe_session", Value: token})
					for b.Loop() {
						res, err := c.Do(req)
						if err != nil {
							b.Fatal(err)
						}
						n, _ := io.Copy(io.Discard, res.Body)
						res.Body.Close()
						if res.StatusCode != 200 || n < 1000 {
							b.Fatalf("%s: %d, %d bytes", tt.url, res.StatusCode, n)
						}
					}
				})
			}
		})
	}
}
