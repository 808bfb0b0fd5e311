package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/browsertest"
	"github.com/equipe-dev/equipe/store"
)

// addPerson makes a user with a name a member of the account, directly in
// the store (the team pages that add members come later).
func addPerson(t *testing.T, env *apptest.Env, account equipe.ID, first, last, email, role string, status equipe.MemberStatus, resources ...equipe.ID) equipe.ID {
	t.Helper()
	ctx := t.Context()
	u := equipe.User{ID: equipe.NewID(), Email: email, EmailKey: email, FirstName: first, LastName: last, Locale: "fr", CreatedAt: time.Now()}
	err := env.App.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		if err := tx.CreateMember(ctx, &equipe.Member{AccountID: account, UserID: u.ID, Role: role, Status: status,
			CreatedAt: time.Now(), JoinedAt: time.Now()}); err != nil {
			return err
		}
		for _, id := range resources {
			if err := tx.AssignResource(ctx, account, u.ID, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// TestBrowser_AdministratorCreatesACustomRoleAndReadsAMembersPermissions
// plays an administrator in a real browser, in French: open the Roles page
// from the home page, create a custom role by picking permissions and a
// scope, find it in the matrix, open a member's effective permissions, and
// create an API key whose secret is shown once.
func TestBrowser_AdministratorCreatesACustomRoleAndReadsAMembersPermissions(t *testing.T) {
	ctx := browsertest.New(t)
	env := apptest.Start(t, "sqlite", apptest.Options{})
	b := &browser{t: t, ctx: ctx, env: env}
	o := signUpOwner(t, env, "ada@example.com")
	confirmEmail(t, env, "ada@example.com")
	shop := equipe.Resource{ID: equipe.NewID(), AccountID: o.account, Type: "location", Name: "Boutique du centre", CreatedAt: time.Now()}
	if err := env.App.DB.Write(t.Context(), func(tx *store.Tx) error { return tx.CreateResource(t.Context(), &shop) }); err != nil {
		t.Fatal(err)
	}
	camille := addPerson(t, env, o.account, "Camille", "Martin", "camille.martin@example.com", "collaborator", equipe.MemberActive, shop.ID)
	addPerson(t, env, o.account, "Louis", "Bernard", "louis.bernard@example.com", "manager", equipe.MemberActive)
	addPerson(t, env, o.account, "Inès", "Petit", "ines.petit@example.com", "guest", equipe.MemberInvited)

	b.do("log in", chromedp.Navigate(env.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#f-email")),
		b.fill(map[string]string{"email": "ada@example.com", "password": "lovelace rode the number engine"}),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)))
	b.at("/")
	b.do("open the account", chromedp.WaitVisible(chromedp.CSS("a.account-name")), chromedp.Click(chromedp.CSS("a.account-name")))
	b.at(o.path("/members"))
	b.do("open the roles", chromedp.WaitVisible(chromedp.CSS(`.subnav a[href$="/roles"]`)), chromedp.Click(chromedp.CSS(`.subnav a[href$="/roles"]`)))
	b.at(o.path("/roles"))
	b.do("see the matrix", chromedp.WaitVisible(chromedp.CSS("table.matrix")))
	if h := b.text("h1"); h != "Rôles et autorisations" {
		t.Fatalf("roles page title %q", h)
	}
	if head := b.text("table.matrix thead"); !strings.Contains(head, "Administrateur") || !strings.Contains(head, "Collaborateur") {
		t.Fatalf("matrix columns %q", head)
	}
	browsertest.Screenshot(t, ctx, "roles")

	b.do("open the new role form", chromedp.Click(chromedp.CSS(`.page-head a.button`)), chromedp.WaitVisible(chromedp.CSS("#f-key")))
	b.do("pick the role's permissions",
		// The names first, one after the other: the key follows the French
		// one as it is typed (the fields' order matters to that script).
		b.fill(map[string]string{"label_fr": "Comptable"}), b.fill(map[string]string{"label_en": "Accountant"}),
		chromedp.Click(chromedp.CSS(`input[name=permissions][value="billing.access"]`)),
		chromedp.Click(chromedp.CSS(`input[name=permissions][value="records.view"]`)),
		chromedp.SetValue(chromedp.CSS(`select[name="scope.records.view"]`), "owned_or_unassigned"),
		chromedp.Click(chromedp.CSS(`input[name=permissions][value="records.export"]`)))
	if k := b.value("#f-key"); k != "comptable" {
		t.Fatalf("the key filled from the name: %q", k)
	}
	browsertest.Screenshot(t, ctx, "role-form")
	b.do("save the role", chromedp.Click(chromedp.CSS(`.form-actions button.primary`)))
	b.at(o.path("/roles?done=created"))
	b.do("see the new role", chromedp.WaitVisible(chromedp.CSS(".notice")))
	if n := b.text(".notice"); n != "Rôle créé" {
		t.Fatalf("notice %q", n)
	}
	if head := b.text("table.matrix thead"); !strings.Contains(head, "Comptable") {
		t.Fatalf("the matrix lacks the new role: %q", head)
	}
	ro, err := env.App.Team.Role(t.Context(), o.actor(), o.account, "comptable")
	if err != nil || len(ro.Role.Grants) != 3 || ro.Role.Grants[1].Permission != "records.view" || ro.Role.Grants[1].Scope.String() != "owned_or_unassigned" {
		t.Fatalf("stored role %+v %v", ro.Role, err)
	}

	b.do("open Camille's permissions", chromedp.Click(chromedp.CSS(`a[href$="/members/`+camille.String()+`/permissions"]`)),
		chromedp.WaitVisible(chromedp.CSS("dl.facts")))
	if h := b.text("h1"); h != "Autorisations de Camille Martin" {
		t.Fatalf("permissions page title %q", h)
	}
	if res := b.text(".resource-groups"); !strings.Contains(res, "Boutique du centre") {
		t.Fatalf("resources %q", res)
	}
	browsertest.Screenshot(t, ctx, "effective-permissions")

	b.do("open the API keys", chromedp.Click(chromedp.CSS(`.subnav a[href$="/api-keys"]`)), chromedp.WaitVisible(chromedp.CSS("#f-name")))
	b.do("create a key", b.fill(map[string]string{"name": "Synchronisation CRM"}),
		chromedp.SetValue(chromedp.CSS(`select[name="role"]`), "manager"),
		chromedp.Click(chromedp.CSS(`button[type=submit].primary`)), chromedp.WaitVisible(chromedp.CSS("input.secret")))
	secret, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("input.secret")))
	if err != nil || !secretPattern.MatchString(secret) {
		t.Fatalf("secret %q %v", secret, err)
	}
	b.do("back to the list", chromedp.Click(chromedp.CSS(`a.button`)), chromedp.WaitVisible(chromedp.CSS("table.list")))
	if list := b.text("table.list"); !strings.Contains(list, "Synchronisation CRM") || strings.Contains(list, secret) {
		t.Fatalf("keys list %q", list)
	}
	browsertest.Screenshot(t, ctx, "api-keys")
}
