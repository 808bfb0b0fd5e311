package web_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/identity"
)

// TestPoliciesPage_AVersionYetToTakeEffectIsWithdrawnFromItsLine: the
// versions' page offers to withdraw only a version whose date has not come;
// withdrawing it removes its line and says so; one that took effect
// meanwhile is said on the page, and stays.
func TestPoliciesPage_AVersionYetToTakeEffectIsWithdrawnFromItsLine(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	admin, err := env.App.Identity.CreateAdmin(t.Context(), identityAdmin())
	if err != nil {
		t.Fatal(err)
	}
	c := env.Client()
	post(t, c, env.URL+"/login", url.Values{"email": {"support@vendor.example"}, "password": {apptest.TestPassword}})
	post(t, c, env.URL+"/consent", url.Values{"version": {"2026-11"}, "next": {"/"}, "accept": {"yes"}})
	next, err := env.App.Identity.PublishPolicyAs(t.Context(), admin, identity.NewPolicy{Version: "2099-01", Label: "Next edition",
		Texts: map[string]string{"en": "Next."}, EffectiveAt: time.Now().Add(24 * time.Hour)}, equipe.Origin{IP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	p := get(t, c, env.URL+"/admin/privacy-policy")
	if n := strings.Count(p.Body, `/withdraw"`); p.Status != 200 || n != 1 ||
		!strings.Contains(p.Body, `action="/admin/privacy-policy/2099-01/withdraw"`) ||
		!strings.Contains(p.Body, `aria-label="Retirer « Next edition » avant son entrée en vigueur"`) {
		t.Fatalf("the page offers %d withdrawals: %d\n%s", n, p.Status, p.Body)
	}
	// The version in effect has no such action, and refuses it.
	if p := post(t, c, env.URL+"/admin/privacy-policy/2026-11/withdraw", nil); p.Status != 409 ||
		!strings.Contains(p.Body, "Cette version est entrée en vigueur") {
		t.Fatalf("the version in effect: %d\n%s", p.Status, text(p.Body))
	}
	if p := post(t, c, env.URL+"/admin/privacy-policy/"+next.Version+"/withdraw", nil); p.Status != 303 {
		t.Fatalf("withdraw: %d\n%s", p.Status, text(p.Body))
	}
	p = get(t, c, env.URL+"/admin/privacy-policy?done=withdrawn")
	if p.Status != 200 || !strings.Contains(p.Body, "La version est retirée") || strings.Contains(p.Body, "2099-01") {
		t.Fatalf("withdrawn: %d\n%s", p.Status, text(p.Body))
	}
}
