package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
)

// productOf returns the name of the account's first product, which every
// member must hold.
func productOf(t *testing.T, tn tenant) string {
	t.Helper()
	r := call(t, tn.env.Client(), "GET", tn.url("/resources"), nil, bearer(tn.admin)...)
	for _, it := range r.JSON["items"].([]any) {
		m := it.(map[string]any)
		if m["type"] == "location" {
			return m["name"].(string)
		}
	}
	t.Fatalf("no resource: %s", r.Raw)
	return ""
}

func TestImport_DryRunThenImportThroughTheAPI(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		post := func(token, query, file string, headers ...string) response {
			h := append(bearer(token), "Content-Type", "text/csv")
			return call(t, env.Client(), "POST", a.url("/member-imports")+query, file, append(h, headers...)...)
		}
		bad := "email;prénom;rôle\nada@b.example;Ada;collaborator\nnot-an-email;Bob;collaborator\nzoe@b.example;=1+2;wizard\n"
		// A key has no language of its own: Accept-Language says it.
		r := post(a.key(t, "admin"), "?dry_run=true", bad, "Accept-Language", "fr")
		if r.Status != 200 || r.JSON["rows"] != float64(3) {
			t.Fatalf("dry run: %d %s", r.Status, r.Raw)
		}
		problems := r.JSON["problems"].([]any)
		var got []string
		for _, p := range problems {
			m := p.(map[string]any)
			got = append(got, fmt.Sprintf("%v:%v:%v", m["line"], m["column"], m["code"]))
			if m["message"] == "" {
				t.Errorf("no message: %v", m)
			}
		}
		if strings.Join(got, " ") != "3:email:email.invalid 4:first_name:import.formula 4:role:role.unknown" {
			t.Fatalf("problems: %v", got)
		}
		if !strings.Contains(string(r.Raw), "formule") {
			t.Errorf("the dry run is not in French: %s", r.Raw)
		}
		if r := post(a.admin, "", bad); r.Status != 422 || len(r.JSON["problems"].([]any)) != 3 {
			t.Fatalf("import with problems: %d %s", r.Status, r.Raw)
		}
		if membersWithEmail(t, env, "ada@b.example") != 0 {
			t.Fatal("a refused import added a member")
		}

		res := productOf(t, a)
		var file strings.Builder
		file.WriteString("\ufeffEmail,First name,Last name,Role,Resources,Send invitation\r\n")
		for i := range 30 {
			fmt.Fprintf(&file, "m%d@b.example,Ana,Martin,collaborator,%s,yes\r\n", i, res)
		}
		r = post(a.admin, "", file.String(), "Idempotency-Key", "import-1")
		if r.Status != 202 || r.Header.Get("Location") == "" {
			t.Fatalf("import: %d %s", r.Status, r.Raw)
		}
		// The import runs in the background: its page says how far.
		var status response
		env.AwaitWork(t, "the import done", func() bool {
			status = call(t, env.Client(), "GET", env.URL+r.Header.Get("Location"), nil, bearer(a.admin)...)
			return status.JSON["status"] == "done"
		})
		if status.JSON["status"] != "done" || status.JSON["added"] != float64(30) || status.JSON["processed"] != float64(30) {
			t.Fatalf("import: %d %s", status.Status, status.Raw)
		}
		// A retry of the same request is the first answer, not a second import.
		if again := post(a.admin, "", file.String(), "Idempotency-Key", "import-1"); again.Status != 202 ||
			again.Header.Get("Location") != r.Header.Get("Location") {
			t.Fatalf("retry: %d %s", again.Status, again.Raw)
		}
		if n := membersWithEmail(t, env, "m7@b.example"); n != 1 {
			t.Fatalf("%d memberships", n)
		}
		env.Delivered(t)
		if got := env.Outbox(t, "invitation"); len(got) != 30 {
			t.Fatalf("%d invitations queued", len(got))
		}

		// members.manage is needed; another account reaches nothing.
		collab := env.AddMember(t, a.account, "collab@a.example", "collaborator", equipe.MemberActive)
		if r := post(collab.Token, "?dry_run=true", "email\nx@b.example\n"); r.Status != 403 {
			t.Errorf("collaborator: %d %s", r.Status, r.Raw)
		}
		b := newTenant(t, env, "owner@c.example")
		if r := call(t, env.Client(), "GET", env.URL+r.Header.Get("Location"), nil, bearer(b.admin)...); r.Status != 404 {
			t.Errorf("another tenant reads the import: %d %s", r.Status, r.Raw)
		}
		other := strings.Replace(r.Header.Get("Location"), a.account.String(), b.account.String(), 1)
		if r := call(t, env.Client(), "GET", env.URL+other, nil, bearer(b.admin)...); r.Status != 404 {
			t.Errorf("another tenant's path to the import: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "POST", a.url("/member-imports"), map[string]any{"email": "x"}, bearer(a.admin)...); r.Status != 415 {
			t.Errorf("JSON body: %d", r.Status)
		}
	})
}

// TestImport_AFileThatIsNotUTF8IsOneProblemAndNothingIsWritten: a file
// saved by Excel as "CSV (semicolon delimited)" (Windows-1252) is answered
// with one problem saying to save it as UTF-8, in a dry run (200) as in an
// import (422, nothing written).
func TestImport_AFileThatIsNotUTF8IsOneProblemAndNothingIsWritten(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		file := "email;first_name;last_name;role;resources\r\nres1@x.example;Marc;Dubois;collaborator;Si\xe8ge\r\n"
		for _, c := range []struct {
			query  string
			status int
		}{{"?dry_run=true", 200}, {"", 422}} {
			r := call(t, env.Client(), "POST", a.url("/member-imports")+c.query, file, append(bearer(a.admin), "Content-Type", "text/csv")...)
			problems, _ := r.JSON["problems"].([]any)
			if r.Status != c.status || len(problems) != 1 {
				t.Fatalf("%q: %d %s", c.query, r.Status, r.Raw)
			}
			p := problems[0].(map[string]any)
			if p["line"] != float64(2) || p["column"] != "resources" || p["code"] != "import.not_utf8" ||
				!strings.Contains(p["message"].(string), "UTF-8") {
				t.Fatalf("%q: %s", c.query, r.Raw)
			}
		}
		if membersWithEmail(t, env, "res1@x.example") != 0 {
			t.Fatal("a file that is not UTF-8 added a member")
		}
	})
}
