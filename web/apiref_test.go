package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe/api"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/browsertest"
)

// TestAPIReference_ShowsEveryOperationFromTheServedDocument: /docs/api,
// open to anyone, renders each route of the API with its answers, and each
// schema, in the chrome of the reader's language, with no script.
func TestAPIReference_ShowsEveryOperationFromTheServedDocument(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	c := env.Client()
	for lang, title := range map[string]string{"en": "API reference", "fr": "Référence de l&#39;API"} {
		p := get(t, c, env.URL+"/docs/api", "Accept-Language", lang)
		if p.Status != 200 || !strings.Contains(p.Body, "<h1>"+title+"</h1>") {
			t.Fatalf("%s: %d %.300s", lang, p.Status, p.Body)
		}
		if strings.Contains(p.Body, "<script") {
			t.Errorf("%s: the reference holds a script", lang)
		}
		for _, rt := range api.Routes() {
			op := fmt.Sprintf(`>%s</span> <code>%s</code>`, rt.Method, rt.Path)
			if !strings.Contains(p.Body, op) {
				t.Errorf("%s: %s %s is not shown", lang, rt.Method, rt.Path)
			}
		}
		for _, want := range []string{`id="schema-Member"`, `href="#schema-Member"`, `href="/api/openapi.json"`,
			`<code title="Seconds to wait before trying again.">Retry-After</code>`} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("%s: no %s", lang, want)
			}
		}
	}
}

// TestBrowser_APIReferenceIsLinkedFromEveryPage: the footer leads to the
// reference, whose table of contents and schema links work in the browser
// under the pages' Content-Security-Policy.
func TestBrowser_APIReferenceIsLinkedFromEveryPage(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	b := &browser{t: t, ctx: ctx, env: env}
	b.do("open the login page", chromedp.Navigate(env.URL+"/login?lang=en"), chromedp.WaitVisible(chromedp.CSS("footer")))
	// The reference is one long page: its first operation shows before
	// the last is parsed; b.at waits for the whole document.
	b.do("follow the footer's link", chromedp.Click(chromedp.CSS(`footer a[href="/docs/api"]`)),
		chromedp.WaitVisible(chromedp.CSS("article.api-op")))
	b.at("/docs/api")
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('article.api-op').length`))
	if err != nil {
		t.Fatal(err)
	}
	if n != len(api.Routes()) {
		t.Errorf("%d operations shown, want %d", n, len(api.Routes()))
	}
	b.do("follow a link to a schema", chromedp.Click(chromedp.CSS(`#op-logIn a[href="#schema-Session"]`)),
		chromedp.WaitVisible(chromedp.CSS("#schema-Session")))
	b.at("/docs/api#schema-Session")
	browsertest.Screenshot(t, ctx, "api-reference")
}
