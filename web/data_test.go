package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/identity"
)

// adminBrowser logs in a new instance administrator and returns their
// client, the policy accepted.
func adminBrowser(t *testing.T, env *apptest.Env) (*http.Client, equipe.User) {
	t.Helper()
	u, err := env.App.Identity.CreateAdmin(t.Context(), identity.NewAdmin{Email: "support@vendor.example",
		FirstName: "Vendor", LastName: "Support", Locale: "en", Password: apptest.TestPassword})
	if err != nil {
		t.Fatal(err)
	}
	c := env.Client()
	if p := post(t, c, env.URL+"/login", url.Values{"email": {u.Email}, "password": {apptest.TestPassword}}); p.Status != 303 {
		t.Fatalf("admin login: %d", p.Status)
	}
	if p := post(t, c, env.URL+"/consent", url.Values{"version": {"2026-11"}, "next": {"/"}, "accept": {"yes"}}); p.Status != 303 {
		t.Fatalf("admin consent: %d", p.Status)
	}
	return c, u
}

func TestAdminUserData_AnInstanceAdministratorDownloadsAndDeletes(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpNamed(t, env, "augusta@example.com", "Augusta", "Byronique", "Moteurs Analytiques")
	grace := env.AddMember(t, o.account, "grace@example.com", "member", equipe.MemberActive)
	base := env.URL + "/admin/users/" + grace.User.ID.String()

	// The business's administrator is no instance administrator.
	if p := get(t, o.c, base+"/export"); p.Status != 404 {
		t.Fatalf("a member's look at another's data: %d", p.Status)
	}
	if p := post(t, o.c, base+"/delete", url.Values{}); p.Status != 404 {
		t.Fatalf("a member's deletion of another: %d", p.Status)
	}

	c, _ := adminBrowser(t, env)
	// The user's page offers both actions.
	if p := get(t, c, base); p.Status != 200 || !strings.Contains(p.Body, `href="/admin/users/`+grace.User.ID.String()+`/export"`) ||
		!strings.Contains(p.Body, `href="/admin/users/`+grace.User.ID.String()+`/delete"`) {
		t.Fatalf("the user's page: %d", p.Status)
	}
	p := get(t, c, base+"/export")
	if p.Status != 200 || !strings.Contains(p.Body, "grace@example.com") || !strings.Contains(p.Body, `action="/admin/users/`+grace.User.ID.String()+`/export"`) {
		t.Fatalf("admin data page: %d %s %s", p.Status, p.Body, env.Logs())
	}
	p = post(t, c, base+"/export", url.Values{})
	if p.Status != 200 || !strings.HasPrefix(p.Header.Get("Content-Disposition"), `attachment; filename="equipe-data-`) {
		t.Fatalf("download: %d %v", p.Status, p.Header)
	}
	var x identity.Export
	if err := json.Unmarshal([]byte(p.Body), &x); err != nil || x.User.Email != "grace@example.com" || len(x.Memberships) != 1 {
		t.Fatalf("downloaded %+v %v", x.User, err)
	}

	// The only administrator of a business is not deleted: the page says where to hand it over.
	p = get(t, c, env.URL+"/admin/users/"+o.user.ID.String()+"/delete")
	if p.Status != 200 || !strings.Contains(p.Body, `href="/accounts/`+o.account.String()+`/members"`) || strings.Contains(p.Body, `class="danger"`) {
		t.Fatalf("deletion of the only administrator: %d", p.Status)
	}
	p = post(t, c, base+"/delete", url.Values{})
	if p.Status != 303 || p.Header.Get("Location") != "/?done=user_deleted" {
		t.Fatalf("deletion: %d %s", p.Status, p.Header.Get("Location"))
	}
	env.Mail(t, "grace@example.com", "identity_deleted")
	if p := get(t, c, base+"/export"); p.Status != 404 {
		t.Fatalf("after deletion: %d", p.Status)
	}
}
