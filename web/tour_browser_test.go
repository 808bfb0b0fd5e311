package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/internal/browsertest"
	"github.com/equipe-dev/equipe/team"

	"github.com/equipe-dev/equipe/app/apptest"
)

// pageFit is how a page sits in the window: how far it scrolls sideways,
// and the first element that sticks out of the window, if any.
type pageFit struct {
	Overflow float64 `json:"overflow"`
	Culprit  string  `json:"culprit"`
}

// measurePage reports the page's sideways scroll and, when there is one,
// the first visible element whose right edge passes the window's (an
// element inside a frame that scrolls on its own, such as a wide table's,
// does not count: the page itself does not move).
const measurePage = `(() => {
  const w = window.innerWidth;
  const overflow = document.documentElement.scrollWidth - w;
  let culprit = '';
  if (overflow > 0) {
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > w + 0.5 && !el.closest('.table-scroll')) {
        culprit = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + String(el.className).split(' ').join('.') : '') +
          ' "' + (el.textContent || '').trim().slice(0, 40) + '" in ' + (el.parentElement ? el.parentElement.className : '');
        break;
      }
    }
  }
  return {overflow, culprit};
})()`

// TestBrowser_EveryPageOfAFirmFitsALaptopAndAPhone walks the pages an
// accounting firm's administrator uses — the team list, adding a member,
// resources, a bulk action's confirmation, roles, settings and the page
// that refuses the firm's deletion while it has clients, the audit log
// and a client's team page with the firm's staff — in French and English, at
// 1280 and 390 px wide, and checks that none scrolls sideways. With
// EQUIPE_SCREENSHOTS set to a directory, it saves each view there: the
// pictures of docs/ui.md come from this test.
func TestBrowser_EveryPageOfAFirmFitsALaptopAndAPhone(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	f := newFirm(t, env)
	lyon := addResource(t, env, f.account, "location", "Siège de Lyon")
	annecy := addResource(t, env, f.account, "location", "Agence d'Annecy")
	paie := addResource(t, env, f.account, "theme", "Paie et ressources humaines")
	fiscal := addResource(t, env, f.account, "theme", "Fiscalité")
	f.added(t, team.NewMember{Email: "elodie.martin-dupont@cabinet-fontaine.example", FirstName: "Élodie", LastName: "Martin-Dupont",
		Title: "Responsable de la paie", Resources: []equipe.ID{lyon.ID, paie.ID}, SendInvitation: true})
	f.added(t, team.NewMember{Email: "hugo.bernard@cabinet-fontaine.example", FirstName: "Hugo", LastName: "Bernard",
		Title: "Comptable", Resources: []equipe.ID{annecy.ID, fiscal.ID},
		Overrides: []equipe.Override{{Permission: "records.export", Allow: true}, {Permission: "records.import", Allow: true}}})
	f.added(t, team.NewMember{Email: "nadia@cabinet-fontaine.example", Role: "guest", Resources: []equipe.ID{annecy.ID}, SendInvitation: true})
	suspended := env.AddMember(t, f.account, "zoe.leroy@cabinet-fontaine.example", "manager", equipe.MemberSuspended)
	if _, err := env.App.Team.ArchiveResource(t.Context(), f.actor(), f.account, fiscal.ID); err != nil {
		t.Fatal(err)
	}

	b := &browser{t: t, ctx: ctx, env: env}
	b.logIn("claire@cabinet.example", ownerPassword)
	b.at("/")

	// The bulk confirmation is a POST: two members are checked on the team
	// page and the suspension asked for, once per language.
	bulk := func(lang string) {
		b.do("ask to suspend two members ("+lang+")", chromedp.EmulateViewport(1280, 900),
			chromedp.Navigate(env.URL+f.path("/members?lang="+lang)), chromedp.WaitVisible(chromedp.CSS("form#bulk")),
			chromedp.Click(chromedp.CSS(`input[form="bulk"][value="`+f.staff[0].User.ID.String()+`"]`)),
			chromedp.Click(chromedp.CSS(`input[form="bulk"][value="`+suspended.User.ID.String()+`"]`)),
			chromedp.Click(chromedp.CSS(`form#bulk button[value="suspend"]`)))
		b.at(f.path("/members/bulk"))
		b.do("see the confirmation ("+lang+")", chromedp.WaitVisible(chromedp.CSS(`form[action$="/members/bulk/apply"]`)))
	}
	views := []struct {
		name string
		path string // "" for the bulk confirmation
	}{
		{"team", f.path("/members")},
		{"add-member", f.path("/members/new")},
		{"resources", f.path("/resources")},
		{"bulk-confirm", ""},
		{"roles", f.path("/roles")},
		{"role-form", f.path("/roles/new")},
		{"settings", f.path("/settings")},
		{"account-delete", f.path("/delete")},
		{"audit", f.path("/audit")},
		{"client-team", "/accounts/" + f.clients[0].String() + "/members"},
		{"profile", "/me"},
		{"password", "/me/password"},
	}
	for _, lang := range []string{"fr", "en"} {
		for _, v := range views {
			for _, width := range []int{1280, 390} {
				view := fmt.Sprintf("%s %s at %d px", v.name, lang, width)
				if v.path == "" {
					bulk(lang)
					b.do(view, chromedp.EmulateViewport(int64(width), 900))
				} else {
					sep := "?"
					if strings.Contains(v.path, "?") {
						sep = "&"
					}
					b.do(view, chromedp.EmulateViewport(int64(width), 900),
						chromedp.Navigate(env.URL+v.path+sep+"lang="+lang), chromedp.WaitVisible(chromedp.CSS("main h1")))
				}
				fit, err := chromedp.Run(ctx, chromedp.Evaluate[pageFit](measurePage))
				if err != nil {
					t.Fatal(err)
				}
				if fit.Overflow > 0 {
					t.Errorf("%s scrolls sideways by %.0f px (%s)", view, fit.Overflow, fit.Culprit)
				}
				browsertest.Screenshot(t, ctx, fmt.Sprintf("%s-%s-%d", v.name, lang, width))
			}
		}
	}
}
