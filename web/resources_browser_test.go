package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/browsertest"
	"github.com/equipe-dev/equipe/team"
)

// TestBrowser_AdministratorCreatesALocationAssignsItAndArchivesIt plays an
// administrator in a real browser, in French: open the Resources page from
// the account's navigation, add a location, assign it to a member in the
// member form, archive it after confirming, and find it archived in the
// list and in the member's form, still assigned.
func TestBrowser_AdministratorCreatesALocationAssignsItAndArchivesIt(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	b := &browser{t: t, ctx: ctx, env: env}
	o := signUpOwner(t, env, "ada@example.com")
	confirmEmail(t, env, "ada@example.com")
	camille := addPerson(t, env, o.account, "Camille", "Martin", "camille.martin@example.com", "collaborator", equipe.MemberActive)

	b.do("log in", chromedp.Navigate(env.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#f-email")),
		b.fill(map[string]string{"email": "ada@example.com", "password": "lovelace rode the number engine"}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/")
	b.do("open the account", chromedp.WaitVisible(chromedp.CSS("a.account-name")), chromedp.Click(chromedp.CSS("a.account-name")))
	b.at(o.path("/members"))
	b.do("open the resources", chromedp.WaitVisible(chromedp.CSS(`.subnav a[href$="/resources"]`)),
		chromedp.Click(chromedp.CSS(`.subnav a[href$="/resources"]`)))
	b.at(o.path("/resources"))
	if h := b.text("h1"); h != "Ressources" {
		t.Fatalf("resources page title %q", h)
	}

	b.do("open the new resource form", chromedp.Click(chromedp.CSS(`.page-head a.button`)), chromedp.WaitVisible(chromedp.CSS("#f-name")))
	b.do("add a location", chromedp.SetValue(chromedp.CSS(`select[name="type"]`), "location"),
		b.fill(map[string]string{"name": "Boutique du port"}), chromedp.Click(chromedp.CSS(`.form-actions button.primary`)))
	b.at(o.path("/resources?done=created"))
	b.do("see the new location", chromedp.WaitVisible(chromedp.CSS(".notice")))
	if n := b.text(".notice"); n != "Ressource « Boutique du port » ajoutée." {
		t.Fatalf("notice %q", n)
	}
	list, _, err := env.App.Team.ResourceList(t.Context(), o.actor(), o.account, team.ResourceFilter{}, equipe.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var port string
	for _, r := range list {
		if r.Name == "Boutique du port" && r.Type == "location" {
			port = r.ID.String()
		}
	}
	if port == "" {
		t.Fatalf("no stored location: %+v", list)
	}

	b.do("assign it to Camille", chromedp.Navigate(o.url("/members/"+camille.String()+"/edit")),
		chromedp.WaitVisible(chromedp.CSS("#f-resources")),
		chromedp.Click(chromedp.CSS(`input[name=resources][value="`+port+`"]`)),
		chromedp.Click(chromedp.CSS(`form .form-actions button[type=submit]`)))
	b.at(o.path("/members?done=changed"))

	b.do("back to the resources", chromedp.Navigate(o.url("/resources")), chromedp.WaitVisible(chromedp.CSS("#resource-"+port)))
	if row := b.text("#resource-" + port); !strings.Contains(row, "Camille Martin") || !strings.Contains(row, "1 membre") {
		t.Fatalf("the location's row %q", row)
	}
	b.do("ask to archive it", chromedp.Click(chromedp.CSS("#resource-"+port+" details.menu summary")),
		chromedp.Click(chromedp.CSS("#resource-"+port+` a[href$="/archive"]`)))
	b.at(o.path("/resources/" + port + "/archive"))
	if h := b.text("h1"); h != "Archiver la ressource « Boutique du port » ?" {
		t.Fatalf("confirmation title %q", h)
	}
	b.do("confirm", chromedp.Click(chromedp.CSS(`button.danger`)))
	b.at(o.path("/resources?done=archived"))
	b.do("see it archived", chromedp.WaitVisible(chromedp.CSS("#archived-title")))
	if archived := b.text(".resource-kind.archived"); !strings.Contains(archived, "Boutique du port") ||
		!strings.Contains(archived, "Ressource archivée") || !strings.Contains(archived, "Camille Martin") {
		t.Fatalf("archived resources %q", archived)
	}
	browsertest.Screenshot(t, ctx, "resources")

	b.do("open Camille's form", chromedp.Navigate(o.url("/members/"+camille.String()+"/edit")),
		chromedp.WaitVisible(chromedp.CSS("#f-resources")))
	if label := b.text(`label[for="f-resource-` + port + `"]`); label != "Boutique du port Ressource archivée" {
		t.Fatalf("the archived location in the member form %q", label)
	}
	checked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("f-resource-`+port+`").checked`))
	if err != nil || !checked {
		t.Fatalf("the archived location is not ticked: %v %v", checked, err)
	}
}
