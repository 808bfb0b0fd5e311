package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/browsertest"
)

// TestBrowser_AnAdministratorSuspendsThreeMembersAtOnce: the administrator
// ticks three members of the team page, presses Suspend, reads on the
// confirmation page who will be affected, confirms, and reads the outcome;
// the team page then shows the three suspended and the fourth untouched.
func TestBrowser_AnAdministratorSuspendsThreeMembersAtOnce(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	admin := &browser{t: t, ctx: ctx, env: env}
	o := signUpNamed(t, env, "claire@cabinet.example", "Claire", "Fontaine", "Cabinet Fontaine")
	var picked []apptest.Member
	for _, e := range []string{"ann@cabinet.example", "bob@cabinet.example", "cy@cabinet.example"} {
		picked = append(picked, env.AddMember(t, o.account, e, "collaborator", equipe.MemberActive))
	}
	kept := env.AddMember(t, o.account, "dee@cabinet.example", "collaborator", equipe.MemberActive)

	admin.logIn("claire@cabinet.example", ownerPassword)
	admin.at("/")
	admin.do("open the team", chromedp.Navigate(env.URL+o.path("/members")), chromedp.WaitVisible(chromedp.CSS("#bulk")))
	for _, m := range picked {
		admin.do("tick "+m.User.Email, chromedp.Click(chromedp.CSS(rowOf(o, m.User.ID)+` input[type=checkbox][form=bulk]`)))
	}
	// The team page has an h1 too: wait for the confirmation's own button.
	admin.do("suspend the three", chromedp.Click(chromedp.CSS(`#bulk button[name=action][value=suspend]`)),
		chromedp.WaitVisible(chromedp.CSS(`.form-actions button.danger`)))
	admin.wantText("h1", "Suspendre des membres")
	admin.wantText("main", "Concernés : 3", "ann@cabinet.example", "bob@cabinet.example", "cy@cabinet.example")
	browsertest.Screenshot(t, ctx, "members-bulk-confirm")
	admin.do("confirm", chromedp.Click(chromedp.CSS(`.form-actions button.danger`)), chromedp.WaitVisible(chromedp.CSS(".notice")))
	admin.wantText(".notice", "Suspensions faites : 3 ; non traitées : 0.")
	admin.wantText("h1", "Suspensions")

	admin.do("back to the team", chromedp.Navigate(env.URL+o.path("/members")), chromedp.WaitVisible(chromedp.CSS("#bulk")))
	for _, m := range picked {
		admin.wantText(rowOf(o, m.User.ID), "Suspendu")
	}
	admin.wantText(rowOf(o, kept.User.ID), "Actif")
}
