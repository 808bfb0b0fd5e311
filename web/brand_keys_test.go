package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/brand"
	"github.com/equipe-dev/equipe/team"
)

// TestBrand_KeysTakeTheBrandsPrefixAndEarlierKeysStillWork follows an
// instance whose vendor brands it twice: first under the default brand
// (keys equipe_…), then as Acme with the prefix acme_, then as Acme Cloud
// with the prefix derived from that name (acmecloud_). Each keeps making
// keys with its prefix; the last one still accepts every key handed out
// before, and refuses one it never made whatever its prefix, with its
// brand in the challenge.
func TestBrand_KeysTakeTheBrandsPrefixAndEarlierKeysStillWork(t *testing.T) {
	first := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, first, "ada@example.com")
	confirmEmail(t, first, "ada@example.com")
	u, err := first.App.DB.UserByID(t.Context(), o.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	ada := team.Actor{User: &u}
	rebrand := func(b brand.Brand) *apptest.Env {
		return apptest.Start(t, "sqlite", apptest.Options{Share: first, Configure: func(c *app.Config) { c.Brand = b }})
	}
	acme := brand.Default()
	acme.Name, acme.KeyPrefix = "Acme", "acme_"
	second := rebrand(acme)
	cloud := brand.Default()
	cloud.Name, cloud.KeyPrefix = "Acme Cloud", ""
	third := rebrand(cloud)

	var secrets []string
	for _, c := range []struct {
		env    *apptest.Env
		prefix string
	}{{first, equipe.DefaultKeyPrefix}, {second, "acme_"}, {third, "acmecloud_"}} {
		k, secret, err := c.env.App.Team.CreateKey(t.Context(), ada, &o.account, team.NewKey{Name: "Sync " + c.prefix, Role: "manager"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, c.prefix) || len(secret) != len(c.prefix)+43 || k.Prefix != secret[:len(c.prefix)+6] {
			t.Errorf("a key made under %s: %s, shown as %s", c.prefix, secret, k.Prefix)
		}
		secrets = append(secrets, secret)
	}
	call := func(secret string) page {
		t.Helper()
		r, _ := http.NewRequest("GET", third.URL+"/api/v1/accounts/"+o.account.String()+"/roles", nil)
		r.Header.Set("Authorization", "Bearer "+secret)
		return do(t, third.Client(), r)
	}
	for _, secret := range secrets {
		if p := call(secret); p.Status != 200 {
			t.Errorf("the key %s… at the instance branded Acme Cloud: %d %s", secret[:12], p.Status, p.Body)
		}
	}
	// A key it never made, under its prefix or another, is refused as a
	// key, and the challenge names the brand.
	for _, secret := range []string{"acmecloud_" + strings.Repeat("A", 43), "other_" + strings.Repeat("A", 43),
		"equipe_" + secrets[0][len("equipe_"):len(secrets[0])-1] + "B"} {
		p := call(secret)
		if p.Status != 401 || !strings.Contains(p.Body, "api_key.invalid") {
			t.Errorf("an unknown key %s…: %d %s", secret[:12], p.Status, p.Body)
		}
		if got := p.Header.Get("WWW-Authenticate"); got != `Bearer realm="Acme Cloud"` {
			t.Errorf("WWW-Authenticate %q", got)
		}
	}
	// The default brand's challenge is unchanged.
	r, _ := http.NewRequest("GET", first.URL+"/api/v1/me", nil)
	r.Header.Set("Authorization", "Bearer "+secrets[1][:len(secrets[1])-1]+"x")
	if p := do(t, first.Client(), r); p.Status != 401 || p.Header.Get("WWW-Authenticate") != `Bearer realm="equipe"` {
		t.Errorf("the default brand's refusal: %d, WWW-Authenticate %q", p.Status, p.Header.Get("WWW-Authenticate"))
	}
}
