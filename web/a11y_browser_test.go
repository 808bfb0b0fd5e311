package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/browsertest"
)

// weakBorders lists the visible text fields, lists and text areas whose
// border contrasts less than 3:1 with what lies behind them, the least that
// lets a person with low vision see where a field is (WCAG 1.4.11).
const weakBorders = `(() => {
  const channels = c => c.match(/[\d.]+/g).map(Number);
  const lum = c => { const [r, g, b] = channels(c).slice(0, 3).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const behind = el => { for (let e = el.parentElement; e; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor; const ch = channels(c); if (ch.length < 4 || ch[3] > 0) return c; } return 'rgb(255, 255, 255)'; };
  const weak = [];
  for (const el of document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=color]):not([type=file]), select, textarea')) {
    if (!el.offsetParent) continue;
    const s = getComputedStyle(el), a = lum(s.borderTopColor), b = lum(behind(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (parseFloat(s.borderTopWidth) === 0 || ratio < 3) weak.push((el.id || el.name) + ' ' + ratio.toFixed(2) + ':1');
  }
  return weak;
})()`

// TestBrowser_FormFieldsStandOutFromWhatSurroundsThem: on the pages with
// filters (the team page, the resources, the clients, the audit log) and
// on forms with each kind of field, every field's border stands out
// from the page or the filter bar behind it by 3:1 at least.
func TestBrowser_FormFieldsStandOutFromWhatSurroundsThem(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	f := newFirm(t, env)
	b := &browser{t: t, ctx: ctx, env: env}
	b.logIn("claire@cabinet.example", ownerPassword)
	b.at("/")
	for _, path := range []string{f.path("/members"), f.path("/resources"), f.path("/clients"), f.path("/audit"),
		f.path("/members/new"), f.path("/contacts/new"), f.path("/settings"), "/accounts/new", "/me"} {
		b.do("open "+path, chromedp.Navigate(env.URL+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
		weak, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](weakBorders))
		if err != nil {
			t.Fatal(err)
		}
		if len(weak) > 0 {
			t.Errorf("%s: fields hard to make out: %v", path, weak)
		}
	}
}
