package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
)

// TestAdminUserFactors_RemovedAfterTheProcedureAndAReason: an instance
// administrator reaches the removal from the person's page, reads the
// procedure, must give a reason, and the person's factors and sessions go;
// to an account's owner the page does not exist.
func TestAdminUserFactors_RemovedAfterTheProcedureAndAReason(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	colin := env.AddMember(t, o.account, "colin@example.com", "collaborator", equipe.MemberActive)
	enrolled(t, env, colin.User.ID)
	userPage := env.URL + "/admin/users/" + colin.User.ID.String()
	form := url.Values{"reason": {"Lost phone; called back on the number on file."}}

	for _, p := range []page{get(t, o.c, userPage+"/second-factors"), post(t, o.c, userPage+"/second-factors", form)} {
		if p.Status != 404 {
			t.Errorf("an account owner on the removal page: %d", p.Status)
		}
	}
	c, _ := supportLogsIn(t, env)

	wantIn(t, get(t, c, userPage), `href="/admin/users/`+colin.User.ID.String()+`/second-factors" class="danger-link">Retirer les seconds facteurs</a>`)
	p := get(t, c, userPage+"/second-factors")
	wantIn(t, p, "Retirer les seconds facteurs de Test colin ?", "Application d’authentification",
		"Avant de le faire : assurez-vous que c&#39;est bien elle", `<textarea id="f-reason" name="reason"`)

	// Without a reason: said beside the field, nothing removed.
	p = post(t, c, userPage+"/second-factors", url.Values{"reason": {"  "}})
	if p.Status != 422 {
		t.Fatalf("no reason: %d", p.Status)
	}
	wantIn(t, p, `<p class="error" id="e-reason">Indiquez la raison, et comment vous avez vérifié qui demande.</p>`)
	if f, _ := env.App.DB.Factors(t.Context(), colin.User.ID); !f.TOTP {
		t.Fatal("a refused removal removed the factor")
	}

	done := post(t, c, userPage+"/second-factors", form)
	if done.Status != 303 || done.Header.Get("Location") != "/admin/users/"+colin.User.ID.String()+"?done=factors_removed" {
		t.Fatalf("remove: %d %s", done.Status, done.Header.Get("Location"))
	}
	wantIn(t, get(t, c, env.URL+done.Header.Get("Location")), "Les seconds facteurs de cette personne ont été retirés",
		`id="user-factors">Aucun<`, `id="user-sessions">0 session<`)
	if p := get(t, as(env, colin), env.URL+"/"); p.Status != 303 || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
		t.Errorf("colin's session after the removal: %d %s", p.Status, p.Header.Get("Location"))
	}
	m := env.Mail(t, "colin@example.com", "second_factors_removed")
	if !strings.Contains(m.Text, "called back on the number on file") {
		t.Errorf("the email: %s", m.Text)
	}
	// Nothing left: said on the form.
	p = post(t, c, userPage+"/second-factors", form)
	if p.Status != 409 || !strings.Contains(p.Body, "aucun second facteur à retirer") {
		t.Errorf("again: %d %s", p.Status, text(p.Body))
	}
}
