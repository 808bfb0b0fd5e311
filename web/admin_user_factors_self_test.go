package web_test

import (
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
)

// An instance administrator's own second factors are removed from their
// security page, which asks for their password: their person page does not
// offer the removal, and its confirmation page is not shown.
func TestAdminUserFactors_NotOfferedOnOneself(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	c, u := supportLogsIn(t, env)
	enrolled(t, env, u.ID)
	userPage := env.URL + "/admin/users/" + u.ID.String()
	p := get(t, c, userPage)
	if p.Status != 200 || strings.Contains(p.Body, "/second-factors\"") {
		t.Fatalf("one's own page: %d, offers the removal: %v", p.Status, strings.Contains(p.Body, "/second-factors\""))
	}
	if p := get(t, c, userPage+"/second-factors"); p.Status != 409 {
		t.Errorf("the removal's page on oneself: %d", p.Status)
	}
}
