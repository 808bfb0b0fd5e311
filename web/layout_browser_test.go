package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/browsertest"
	"github.com/equipe-dev/equipe/team"
)

// tableFit is how a page's table sits in a window: how far it scrolls
// sideways, and how many row-action cells stick out of its frame.
type tableFit struct {
	Overflow float64 `json:"overflow"` // the table's scroll width beyond its frame
	Page     float64 `json:"page"`     // the page's scroll width beyond the window
	Outside  int     `json:"outside"`  // row-action cells past the frame's right edge
	Cells    int     `json:"cells"`
}

const measureTable = `(() => {
  const s = document.querySelector('.table-scroll');
  const r = s.getBoundingClientRect();
  const cells = [...document.querySelectorAll('td.row-actions')];
  return {
    overflow: s.scrollWidth - s.clientWidth,
    page: document.documentElement.scrollWidth - window.innerWidth,
    outside: cells.filter(c => c.getBoundingClientRect().right > r.right + 0.5).length,
    cells: cells.length,
  };
})()`

// TestBrowser_TeamTableFitsALaptopScreen: on a 1280 px wide window, the
// team table of a firm, with its companies column and members in every
// status, shows each row's actions without scrolling sideways, in both
// languages, with a row's menu open too.
func TestBrowser_TeamTableFitsALaptopScreen(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	f := newFirm(t, env)
	shop := addResource(t, env, f.account, "location", "Boutique du port de plaisance")
	paie := addResource(t, env, f.account, "theme", "Paie et ressources humaines")
	f.added(t, team.NewMember{Email: "elodie.martin-dupont@cabinet-fontaine.example", FirstName: "Élodie", LastName: "Martin-Dupont",
		Title: "Responsable de la paie", Resources: []equipe.ID{shop.ID, paie.ID}})
	invited := f.added(t, team.NewMember{Email: "emile@example.com", FirstName: "Emile", LastName: "Durand", Role: "guest",
		SendInvitation: true, Resources: []equipe.ID{shop.ID}})
	env.AddMember(t, f.account, "zoe@example.com", "manager", equipe.MemberSuspended)

	b := &browser{t: t, ctx: ctx, env: env}
	b.logIn("claire@cabinet.example", ownerPassword)
	b.at("/")
	for _, lang := range []string{"fr", "en"} {
		b.do("open the team page at 1280 px ("+lang+")", chromedp.EmulateViewport(1280, 900),
			chromedp.Navigate(env.URL+f.path("/members?lang="+lang)), chromedp.WaitVisible(chromedp.CSS("table.team")))
		fit, err := chromedp.Run(ctx, chromedp.Evaluate[tableFit](measureTable))
		if err != nil {
			t.Fatal(err)
		}
		if fit.Overflow > 0 || fit.Page > 0 || fit.Outside > 0 || fit.Cells != 6 {
			t.Errorf("%s: the team table does not fit 1280 px: %+v", lang, fit)
		}
		browsertest.Screenshot(t, ctx, "team-1280-"+lang)
		// A row's menu opens in place, within the frame.
		b.do("open a row's menu", chromedp.Click(chromedp.CSS(rowOf(f.owner, invited)+" details.menu > summary")),
			chromedp.WaitVisible(chromedp.CSS(rowOf(f.owner, invited)+" details.menu[open] ul")))
		if fit, err = chromedp.Run(ctx, chromedp.Evaluate[tableFit](measureTable)); err != nil {
			t.Fatal(err)
		}
		if fit.Overflow > 0 || fit.Page > 0 || fit.Outside > 0 {
			t.Errorf("%s: with a menu open, the team table does not fit 1280 px: %+v", lang, fit)
		}
		browsertest.Screenshot(t, ctx, "team-1280-menu-"+lang)
	}
}
