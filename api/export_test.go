package api_test

import (
	"encoding/csv"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
)

// readCSV opens an export back with encoding/csv, after checking that it
// is a CSV file in UTF-8 with a byte order mark.
func readCSV(t *testing.T, r response) [][]string {
	t.Helper()
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v %s", r.Status, r.Header, r.Raw)
	}
	body := string(r.Raw)
	if !strings.HasPrefix(body, "\ufeff") {
		t.Fatalf("no byte order mark: %q", body[:min(len(body), 20)])
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatalf("not RFC 4180: %v\n%s", err, body)
	}
	return rows
}

// column returns the cells of the column headed header.
func column(t *testing.T, rows [][]string, header string) []string {
	t.Helper()
	i := slices.Index(rows[0], header)
	if i < 0 {
		t.Fatalf("no column %q in %q", header, rows[0])
	}
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[i])
	}
	return out
}

func TestExport_MembersAsCSV(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		for _, b := range []map[string]any{
			newMemberBody("grace@b.example", "first_name", "=HYPERLINK(\"http://evil.example\",\"x\")", "title", "@SUM(A1)"),
			newMemberBody("alan@b.example", "first_name", "Alan", "last_name", "-2+3", "role", "manager", "send_invitation", false),
			newMemberBody("ada@b.example", "first_name", "+33 Ada", "last_name", "Byron, \"Countess\""),
		} {
			if r := addMember(t, a, a.admin, b); r.Status != 201 {
				t.Fatalf("add: %d %s", r.Status, r.Raw)
			}
		}
		get := func(query string, headers ...string) response {
			return call(t, env.Client(), "GET", a.url("/members")+query, nil, append(bearer(a.admin), headers...)...)
		}
		rows := readCSV(t, get("?format=csv"))
		if len(rows) != 5 || rows[0][0] != "Email" {
			t.Fatalf("rows: %q", rows)
		}
		emails := column(t, rows, "Email")
		firsts, lasts, titles := column(t, rows, "First name"), column(t, rows, "Last name"), column(t, rows, "Job title")
		i := slices.Index(emails, "grace@b.example")
		if firsts[i] != `'=HYPERLINK("http://evil.example","x")` || titles[i] != "'@SUM(A1)" {
			t.Errorf("formula cells not neutralised: %q %q", firsts[i], titles[i])
		}
		if i := slices.Index(emails, "alan@b.example"); lasts[i] != "'-2+3" {
			t.Errorf("last name %q", lasts[i])
		}
		if i := slices.Index(emails, "ada@b.example"); firsts[i] != "'+33 Ada" || lasts[i] != `Byron, "Countess"` {
			t.Errorf("ada: %q %q", firsts[i], lasts[i])
		}
		// The order and the filters of the list: the same query parameters.
		if got := column(t, readCSV(t, get("?format=csv&role=manager")), "Email"); !slices.Equal(got, []string{"alan@b.example"}) {
			t.Errorf("role filter: %q", got)
		}
		if got := column(t, readCSV(t, get("?format=csv&status=invited&sort=-name")), "Email"); len(got) != 2 || got[0] != "grace@b.example" {
			t.Errorf("status filter, reversed: %q", got)
		}
		if got := column(t, readCSV(t, get("?q=countess", "Accept", "text/csv")), "Email"); !slices.Equal(got, []string{"ada@b.example"}) {
			t.Errorf("search through Accept: text/csv: %q", got)
		}
		list := get("?role=manager")
		if list.Status != 200 || !strings.HasPrefix(list.Header.Get("Content-Type"), "application/json") {
			t.Errorf("without format the list stays JSON: %d %v", list.Status, list.Header)
		}
		if r := get("?format=xlsx"); r.Status != 400 || r.code() != "request.format_invalid" {
			t.Errorf("unknown format: %d %s", r.Status, r.Raw)
		}
		if r := get("?format=csv&status=gone"); r.Status != 422 {
			t.Errorf("bad filter: %d %s", r.Status, r.Raw)
		}
		// Headers in the reader's language: an API key has none, so
		// Accept-Language decides.
		key := a.key(t, "admin")
		fr := readCSV(t, call(t, env.Client(), "GET", a.url("/members")+"?format=csv", nil, append(bearer(key), "Accept-Language", "fr")...))
		if fr[0][0] != "E-mail" || fr[0][1] != "Prénom" || len(fr) != 5 {
			t.Errorf("French headers: %q", fr[0])
		}

		// members.export is needed: a collaborator may view but not export.
		collab := env.AddMember(t, a.account, "collab@a.example", "collaborator", equipe.MemberActive)
		if r := call(t, env.Client(), "GET", a.url("/members")+"?format=csv", nil, bearer(collab.Token)...); r.Status != 403 ||
			r.code() != "access.permission_required" || strings.Contains(string(r.Raw), "grace@b.example") {
			t.Errorf("collaborator: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", a.url("/members"), nil, bearer(collab.Token)...); r.Status != 200 {
			t.Errorf("the collaborator still lists: %d", r.Status)
		}
		// Another account's administrator and key reach nothing.
		b := newTenant(t, env, "owner@c.example")
		for _, token := range []string{b.admin, b.key(t, "admin")} {
			if r := call(t, env.Client(), "GET", a.url("/members")+"?format=csv", nil, bearer(token)...); r.Status != 404 ||
				strings.Contains(string(r.Raw), "grace@b.example") {
				t.Errorf("another tenant: %d %s", r.Status, r.Raw)
			}
		}
	})
}

func TestExport_AuditAsCSV(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		// A key whose name a spreadsheet would run, acting: its name is a
		// cell of the log.
		k := call(t, env.Client(), "POST", a.url("/api-keys"), map[string]any{"name": "=cmd|' /C calc'!A0", "role": "admin"}, bearer(a.admin)...)
		if k.Status != 201 {
			t.Fatalf("key: %d %s", k.Status, k.Raw)
		}
		key := k.JSON["secret"].(string)
		for _, e := range []string{"grace@b.example", "alan@b.example"} {
			if r := addMember(t, a, key, newMemberBody(e)); r.Status != 201 {
				t.Fatalf("add: %d %s", r.Status, r.Raw)
			}
		}
		get := func(token, query string) response {
			return call(t, env.Client(), "GET", a.url("/audit")+query, nil, bearer(token)...)
		}
		json := get(a.admin, "?limit=200")
		rows := readCSV(t, get(a.admin, "?format=csv"))
		if len(rows)-1 != len(json.JSON["items"].([]any)) || rows[0][0] != "Date (UTC)" {
			t.Fatalf("%d rows for %d events: %q", len(rows)-1, len(json.JSON["items"].([]any)), rows[0])
		}
		added := readCSV(t, get(a.admin, "?format=csv&type=member.added"))
		if len(added) != 4 { // the owner's, and the two the key added
			t.Fatalf("type filter: %q", added)
		}
		for _, typ := range column(t, added, "Type") {
			if typ != "member.added" {
				t.Errorf("type %q", typ)
			}
		}
		names := column(t, added, "Actor name")
		if names[0] != "'=cmd|' /C calc'!A0" || names[1] != names[0] {
			t.Errorf("the key's name as an actor: %q", names)
		}
		user := addMember(t, a, a.admin, newMemberBody("ada@b.example")).JSON["user_id"].(string)
		about := readCSV(t, get(a.admin, "?format=csv&target="+url.QueryEscape(user)))
		if len(about) != 3 || column(t, about, "Subject ID")[0] != user || column(t, about, "Subject ID")[1] != user { // added, invited
			t.Errorf("target filter: %q", about)
		}
		// audit.view is needed; other tenants reach nothing.
		collab := env.AddMember(t, a.account, "collab@a.example", "collaborator", equipe.MemberActive)
		if r := get(collab.Token, "?format=csv"); r.Status != 403 {
			t.Errorf("collaborator: %d %s", r.Status, r.Raw)
		}
		b := newTenant(t, env, "owner@c.example")
		if r := get(b.admin, "?format=csv"); r.Status != 404 || strings.Contains(string(r.Raw), "grace") {
			t.Errorf("another tenant: %d %s", r.Status, r.Raw)
		}
	})
}
