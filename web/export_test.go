package web_test

import (
	"encoding/csv"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/team"
)

var exportLink = regexp.MustCompile(`href="([^"]*export\.csv[^"]*)"`)

// csvRows reads a downloaded CSV file back.
func csvRows(t *testing.T, p page) [][]string {
	t.Helper()
	if p.Status != 200 || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/csv") || !strings.HasPrefix(p.Body, "\ufeff") {
		t.Fatalf("download: %d %v %.200s", p.Status, p.Header, p.Body)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(p.Body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestTeamAndAuditPages_ExportTheFilteredListAsCSV(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	o.added(t, team.NewMember{Email: "zoe@example.com", FirstName: "=Zoé", LastName: "Martin", Role: "manager"})
	o.added(t, team.NewMember{Email: "hugo@example.com", FirstName: "Hugo", LastName: "Petit"})

	// The team page's button downloads what its filters select.
	p := get(t, o.c, env.URL+o.path("/members")+"?role=manager")
	m := exportLink.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no export button on the team page")
	}
	href := html.UnescapeString(m[1])
	if !strings.Contains(href, "role=manager") || !strings.HasPrefix(href, o.path("/members/export.csv")) {
		t.Fatalf("the export does not keep the filter: %s", href)
	}
	rows := csvRows(t, get(t, o.c, env.URL+href))
	if len(rows) != 2 || rows[0][0] != "E-mail" || rows[1][0] != "zoe@example.com" || rows[1][1] != "'=Zoé" {
		t.Fatalf("members export: %q", rows)
	}
	if all := csvRows(t, get(t, o.c, env.URL+o.path("/members/export.csv"))); len(all) != 4 {
		t.Fatalf("unfiltered export: %q", all)
	}

	// The audit page's button.
	p = get(t, o.c, env.URL+o.path("/audit")+"?action=member.added")
	m = exportLink.FindStringSubmatch(p.Body)
	if m == nil || !strings.Contains(html.UnescapeString(m[1]), "action=member.added") {
		t.Fatalf("audit export button: %v", m)
	}
	rows = csvRows(t, get(t, o.c, env.URL+html.UnescapeString(m[1])))
	if len(rows) != 4 || rows[0][0] != "Date (UTC)" || rows[1][1] != "member.added" {
		t.Fatalf("audit export: %q", rows)
	}

	// Without members.export there is no button, and the address refuses;
	// without audit.view the log's export refuses too.
	collab := as(env, env.AddMember(t, o.account, "collab@example.com", "collaborator", equipe.MemberActive))
	if p := get(t, collab, env.URL+o.path("/members")); p.Status != 200 || exportLink.MatchString(p.Body) {
		t.Fatalf("a collaborator is offered the export: %d", p.Status)
	}
	for _, path := range []string{"/members/export.csv", "/audit/export.csv"} {
		if p := get(t, collab, env.URL+o.path(path)); p.Status != 403 || strings.Contains(p.Body, "zoe@example.com") {
			t.Errorf("collaborator %s: %d", path, p.Status)
		}
	}
	// Another account's owner reaches nothing.
	other := signUpOwner(t, env, "grace@example.org")
	for _, path := range []string{"/members/export.csv", "/audit/export.csv"} {
		if p := get(t, other.c, env.URL+o.path(path)); p.Status != 404 || strings.Contains(p.Body, "zoe@example.com") {
			t.Errorf("another tenant %s: %d", path, p.Status)
		}
	}
}
