package web_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
)

// upload posts a file from the import form.
func upload(t *testing.T, c *http.Client, url, content string) page {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "members.csv")
	fw.Write([]byte(content))
	mw.Close()
	req, _ := http.NewRequest("POST", url, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return do(t, c, req)
}

var startForm = regexp.MustCompile(`<form method="post" action="(/accounts/[^"]+/start)"`)

func TestImportPages_CheckTheFileThenImportWithAPageThatRefreshes(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	addResource(t, env, o.account, "product", "Paie")
	team := get(t, o.c, env.URL+o.path("/members"))
	if !strings.Contains(team.Body, `href="`+o.path("/members/import")+`"`) {
		t.Fatal("the team page offers no import")
	}
	form := get(t, o.c, env.URL+o.path("/members/import"))
	if form.Status != 200 || !strings.Contains(form.Body, `enctype="multipart/form-data"`) {
		t.Fatalf("form: %d", form.Status)
	}
	// A file with problems: each said by line and column, nothing written.
	p := upload(t, o.c, env.URL+o.path("/members/import"), "email;prénom;rôle;ressources\nzoe@example.com;Zoé;wizard;Paie\nnope;=1+2;collaborator;Paie\n")
	if p.Status != 422 || !strings.Contains(p.Body, "<td>2</td><td>zoe@example.com</td><td>Rôle</td>") ||
		!strings.Contains(p.Body, "<td>3</td><td>nope</td><td>E-mail</td>") ||
		!strings.Contains(p.Body, "<td>3</td><td>nope</td><td>Prénom</td>") || startForm.MatchString(p.Body) {
		t.Fatalf("problems page: %d %s", p.Status, p.Body)
	}
	if !strings.Contains(p.Body, "formule") {
		t.Error("the problems are not said in French")
	}
	// A good file: the dry run offers the import, which runs and says so.
	var file strings.Builder
	file.WriteString("email,first_name,role,resources,send_invitation\n")
	for i := range 120 {
		fmt.Fprintf(&file, "m%d@example.com,Ana,collaborator,Paie,no\n", i)
	}
	p = upload(t, o.c, env.URL+o.path("/members/import"), file.String())
	m := startForm.FindStringSubmatch(p.Body)
	if p.Status != 200 || m == nil || !strings.Contains(p.Body, "120 lignes : 120 à ajouter") {
		t.Fatalf("dry run: %d %s", p.Status, p.Body)
	}
	started := post(t, o.c, env.URL+m[1], nil)
	if started.Status != 303 {
		t.Fatalf("start: %d", started.Status)
	}
	progress := started.Header.Get("Location")
	var last page
	env.AwaitWork(t, "the import done", func() bool {
		last = get(t, o.c, env.URL+progress)
		if strings.Contains(last.Body, "Import terminé") {
			return true
		}
		if !strings.Contains(last.Body, `<meta http-equiv="refresh" content="2">`) {
			t.Fatalf("a running import's page does not refresh: %s", last.Body)
		}
		return false
	})
	if !strings.Contains(last.Body, "Ajoutés : 120") || strings.Contains(last.Body, `http-equiv="refresh"`) {
		t.Fatalf("progress: %s", last.Body)
	}
	// Starting it again does nothing more.
	if again := post(t, o.c, env.URL+m[1], nil); again.Status != 404 {
		t.Errorf("started twice: %d", again.Status)
	}

	// Without members.manage, and from another account, nothing.
	collab := as(env, env.AddMember(t, o.account, "collab@example.com", "collaborator", equipe.MemberActive))
	if p := get(t, collab, env.URL+o.path("/members/import")); p.Status != 403 {
		t.Errorf("collaborator form: %d", p.Status)
	}
	if p := get(t, collab, env.URL+progress); p.Status != 403 {
		t.Errorf("collaborator progress: %d", p.Status)
	}
	other := signUpOwner(t, env, "grace@example.org")
	if p := get(t, other.c, env.URL+progress); p.Status != 404 {
		t.Errorf("another tenant's progress: %d", p.Status)
	}
	if p := upload(t, other.c, env.URL+o.path("/members/import"), file.String()); p.Status != 404 {
		t.Errorf("another tenant's upload: %d", p.Status)
	}
}

// TestImportPages_OneLineAndOneProblemAreSaidInTheSingular: a file of one
// line, or with one problem, is counted in the singular, in both
// languages; so is a French import of one member, once done.
func TestImportPages_OneLineAndOneProblemAreSaidInTheSingular(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	url := env.URL + o.path("/members/import")
	one, bad := "email,role,send_invitation\nzoe@example.com,collaborator,no\n", "email,role\nnope,collaborator\n"
	p := upload(t, o.c, url, one)
	wantIn(t, p, "1 ligne : 1 à ajouter")
	wantIn(t, upload(t, o.c, url, bad), "1 problème à corriger dans le fichier")
	m := startForm.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("dry run: %d %s", p.Status, p.Body)
	}
	progress := post(t, o.c, env.URL+m[1], nil).Header.Get("Location")
	var last page
	env.AwaitWork(t, "the import done", func() bool {
		last = get(t, o.c, env.URL+progress)
		return strings.Contains(last.Body, "Import terminé")
	})
	wantIn(t, last, "Ajoutés : 1 ;")
	english(t, env, o.c)
	wantIn(t, upload(t, o.c, url, strings.Replace(one, "zoe@", "yann@", 1)), "1 line: 1 to add")
	wantIn(t, upload(t, o.c, url, bad), "1 problem to correct in the file")
}

// TestImportPages_EachProblemNamesItsRowsAddressAndColumnAsTheFileHeadsIt:
// the problems table says which member a line is about (its address) and
// the column by its header in the reader's language, not by its key.
func TestImportPages_EachProblemNamesItsRowsAddressAndColumnAsTheFileHeadsIt(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	addResource(t, env, o.account, "product", "Paie")
	url := env.URL + o.path("/members/import")
	file := "E-mail;Prénom;Rôle;Ressources;Colonne\nzoe@example.com;Zoé;sorcier;Paie\nnope;=1+2;collaborator;Paie\n"
	p := upload(t, o.c, url, file)
	for _, want := range []string{
		`<th scope="col">Ligne</th><th scope="col">Adresse</th><th scope="col">Colonne</th>`,
		"<td>1</td><td></td><td>Colonne</td>",
		"<td>2</td><td>zoe@example.com</td><td>Rôle</td>",
		"<td>3</td><td>nope</td><td>E-mail</td>",
		"<td>3</td><td>nope</td><td>Prénom</td>",
	} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the problems lack %s:\n%s", want, p.Body)
		}
	}
	english(t, env, o.c)
	p = upload(t, o.c, url, file)
	for _, want := range []string{
		`<th scope="col">Line</th><th scope="col">Address</th><th scope="col">Column</th>`,
		"<td>2</td><td>zoe@example.com</td><td>Role</td>",
		"<td>3</td><td>nope</td><td>First name</td>",
	} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the problems lack %s:\n%s", want, p.Body)
		}
	}
}
