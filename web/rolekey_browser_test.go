package web_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/browsertest"
	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/team"
)

// TestBrowser_TheRoleKeyFillsAsTheNameIsTyped: on the new role form, the
// key follows the name being typed (accents removed, a suffix when the
// account has the key), until it is edited by hand; the role is saved
// under the key shown.
func TestBrowser_TheRoleKeyFillsAsTheNameIsTyped(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	b := &browser{t: t, ctx: ctx, env: env}
	o := signUpOwner(t, env, "ada@example.com")
	confirmEmail(t, env, "ada@example.com")
	if _, err := env.App.Team.CreateRole(t.Context(), o.actor(), o.account, team.RoleInput{Key: "comptable", LabelFR: "Comptable"}); err != nil {
		t.Fatal(err)
	}
	key := func(want string) {
		t.Helper()
		var got string
		if !testenv.Within(5*time.Second, testenv.Every(20*time.Millisecond), func() bool {
			got, _ = chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#f-key")))
			return got == want
		}) {
			t.Fatalf("key %q, want %q", got, want)
		}
	}

	b.do("log in", chromedp.Navigate(env.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#f-email")),
		b.fill(map[string]string{"email": "ada@example.com", "password": "lovelace rode the number engine"}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/")
	b.do("open the new role form", chromedp.Navigate(o.url("/roles/new")), chromedp.WaitVisible(chromedp.CSS("#f-label_fr")))
	b.do("type the French name", chromedp.SendKeys(chromedp.CSS("#f-label_fr"), "Comptabilité générale"))
	key("comptabilite_generale")
	b.do("start again with a name the account has", chromedp.Navigate(o.url("/roles/new")), chromedp.WaitVisible(chromedp.CSS("#f-label_fr")),
		chromedp.SendKeys(chromedp.CSS("#f-label_fr"), "Comptable"))
	key("comptable_2")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("f-key").value = ""; true`)); err != nil {
		t.Fatal(err)
	}
	b.do("edit the key by hand", chromedp.SendKeys(chromedp.CSS("#f-key"), "compta"))
	b.do("go on typing the name", chromedp.SendKeys(chromedp.CSS("#f-label_fr"), " principal"),
		chromedp.SendKeys(chromedp.CSS("#f-label_en"), "Main accountant"))
	key("compta")
	b.do("save the role", chromedp.Click(chromedp.CSS(`.form-actions button.primary`)))
	b.at(o.path("/roles?done=created"))
	if ro, err := env.App.Team.Role(t.Context(), o.actor(), o.account, "compta"); err != nil || ro.Role.Label.FR != "Comptable principal" {
		t.Fatalf("saved role %+v %v", ro.Role, err)
	}
}
