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

// phoneCards is how the team list sits in a phone's window: how far the
// page scrolls sideways, how many rows are cards, how many show the five
// fields (name, email, role, status, last login) inside the window, and how
// many have their actions inside it.
type phoneCards struct {
	Page     float64 `json:"page"`
	Cards    int     `json:"cards"`
	Block    int     `json:"block"`
	Complete int     `json:"complete"`
	Actions  int     `json:"actions"`
	Sorts    int     `json:"sorts"` // the sort links inside the window
}

const measureCards = `(() => {
  const inside = el => { if (!el) return false; const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.left >= -0.5 && r.right <= window.innerWidth + 0.5; };
  const rows = [...document.querySelectorAll('table.team tbody tr')];
  return {
    page: document.documentElement.scrollWidth - window.innerWidth,
    cards: rows.length,
    block: rows.filter(tr => getComputedStyle(tr).display === 'block').length,
    complete: rows.filter(tr => ['.member-name', '.email', 'td.role-cell', '.status', 'td.last-login']
      .every(s => inside(tr.querySelector(s)))).length,
    actions: rows.filter(tr => [...tr.querySelectorAll('td.row-actions a.quick, td.row-actions summary')].every(inside)).length,
    sorts: [...document.querySelectorAll('table.team thead a.sort')].filter(inside).length,
  };
})()`

// TestBrowser_TeamListIsACardPerMemberOnAPhone: at 390 px wide, the team
// list shows each member as a card with their name, email, role, status and
// last login, its actions and the sort links within the window, nothing
// scrolls sideways, and the form to add a member fits too; at 1280 px the
// headers sort the list and a member's changes to their role open from the
// keyboard.
func TestBrowser_TeamListIsACardPerMemberOnAPhone(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	f := newFirm(t, env)
	shop := addResource(t, env, f.account, "location", "Boutique du port de plaisance")
	changed := f.added(t, team.NewMember{Email: "elodie.martin-dupont@cabinet-fontaine.example", FirstName: "Élodie", LastName: "Martin-Dupont",
		Title: "Responsable de la paie", Resources: []equipe.ID{shop.ID},
		Overrides: []equipe.Override{{Permission: "records.export", Allow: true}, {Permission: "contacts.manage", Allow: true}}})
	f.added(t, team.NewMember{Email: "emile@example.com", FirstName: "Emile", LastName: "Durand", Role: "guest", SendInvitation: true})
	env.AddMember(t, f.account, "zoe@example.com", "manager", equipe.MemberSuspended)

	b := &browser{t: t, ctx: ctx, env: env}
	b.logIn("claire@cabinet.example", ownerPassword)
	b.at("/")
	for _, lang := range []string{"fr", "en"} {
		b.do("open the team page at 390 px ("+lang+")", chromedp.EmulateViewport(390, 844),
			chromedp.Navigate(env.URL+f.path("/members?lang="+lang)), chromedp.WaitVisible(chromedp.CSS("table.team")))
		fit, err := chromedp.Run(ctx, chromedp.Evaluate[phoneCards](measureCards))
		if err != nil {
			t.Fatal(err)
		}
		if fit.Page > 0 || fit.Cards != 6 || fit.Block != 6 || fit.Complete != 6 || fit.Actions != 6 || fit.Sorts != 4 {
			t.Errorf("%s: the team list at 390 px: %+v", lang, fit)
		}
		browsertest.Screenshot(t, ctx, "team-390-"+lang)
		b.do("open a card's menu", chromedp.Click(chromedp.CSS(rowOf(f.owner, changed)+" details.menu > summary")),
			chromedp.WaitVisible(chromedp.CSS(rowOf(f.owner, changed)+" details.menu[open] ul")))
		if fit, err = chromedp.Run(ctx, chromedp.Evaluate[phoneCards](measureCards)); err != nil {
			t.Fatal(err)
		}
		if fit.Page > 0 {
			t.Errorf("%s: with a menu open, the page scrolls sideways at 390 px: %+v", lang, fit)
		}
	}
	b.do("open the add-member form at 390 px", chromedp.Navigate(env.URL+f.path("/members/new?lang=fr")),
		chromedp.WaitVisible(chromedp.CSS("form.member-form")))
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.scrollWidth - window.innerWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if wide > 0 {
		t.Errorf("the add-member form scrolls sideways at 390 px by %v px", wide)
	}
	browsertest.Screenshot(t, ctx, "member-form-390")

	// At 1280 px: the role header sorts by role, then reverses the order
	// (the role's column follows the member's, after the bulk checkboxes).
	role := `thead th:has(a.sort[href*="sort=role"], a.sort[href*="sort=-role"])`
	b.do("sort by role", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(env.URL+f.path("/members?lang=fr")),
		chromedp.WaitVisible(chromedp.CSS(`th[aria-sort="ascending"] a.sort`)),
		chromedp.Click(chromedp.CSS(role+` a.sort`)),
		chromedp.WaitVisible(chromedp.CSS(role+`[aria-sort="ascending"]`)))
	b.do("reverse it", chromedp.Click(chromedp.CSS(role+` a.sort`)),
		chromedp.WaitVisible(chromedp.CSS(role+`[aria-sort="descending"]`)))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(loc, "sort=-role") {
		t.Errorf("the order is not in the address: %s %v", loc, err)
	}
	// The changes to the role open from the keyboard.
	sel := rowOf(f.owner, changed) + " details.changes"
	b.do("open the changes with the keyboard", chromedp.Focus(chromedp.CSS(sel+" > summary")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(sel+"[open] li")))
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil || !strings.Contains(text, "2 modifications") || !strings.Contains(text, "+ Exporter des enregistrements") {
		t.Errorf("the changes: %q %v", text, err)
	}
}
