package web_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/team"
)

var (
	idAttr       = regexp.MustCompile(`\sid="([^"]+)"`)
	labelFor     = regexp.MustCompile(`<label\b[^>]*\bfor="([^"]+)"`)
	formControl  = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	scrollingDiv = regexp.MustCompile(`<div class="table-scroll"[^>]*>`)
)

// attrOf returns the value of the attribute name of the tag, and whether
// the tag has it.
func attrOf(tag, name string) (string, bool) {
	m := regexp.MustCompile(`\s` + name + `="([^"]*)"`).FindStringSubmatch(tag)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// structureProblems lists what a page does wrong for a reader using the
// keyboard or a screen reader, of what its markup alone shows: an id used
// twice; a form control without a name (no label for it, around it, nor an
// aria-label or aria-labelledby); a table frame that scrolls sideways
// but cannot be reached with the keyboard (WCAG 2.1.1) or has no name to be
// announced by.
func structureProblems(body string) []string {
	var problems []string
	ids := map[string]int{}
	for _, m := range idAttr.FindAllStringSubmatch(body, -1) {
		ids[m[1]]++
	}
	for id, n := range ids {
		if n > 1 {
			problems = append(problems, fmt.Sprintf("id %s used %d times", id, n))
		}
	}
	labelled := map[string]bool{}
	for _, m := range labelFor.FindAllStringSubmatch(body, -1) {
		labelled[m[1]] = true
	}
	for _, loc := range formControl.FindAllStringIndex(body, -1) {
		tag := body[loc[0]:loc[1]]
		if typ, _ := attrOf(tag, "type"); typ == "hidden" || typ == "submit" || typ == "button" || typ == "image" || typ == "reset" {
			continue
		}
		if _, ok := attrOf(tag, "aria-label"); ok {
			continue
		}
		if _, ok := attrOf(tag, "aria-labelledby"); ok {
			continue
		}
		if id, ok := attrOf(tag, "id"); ok && labelled[id] {
			continue
		}
		before := body[:loc[0]]
		if open := strings.LastIndex(before, "<label"); open >= 0 && open > strings.LastIndex(before, "</label>") {
			continue
		}
		problems = append(problems, "no label for "+tag)
	}
	for _, tag := range scrollingDiv.FindAllString(body, -1) {
		role, _ := attrOf(tag, "role")
		tabindex, _ := attrOf(tag, "tabindex")
		names, _ := attrOf(tag, "aria-labelledby")
		if role != "region" || tabindex != "0" || names == "" {
			problems = append(problems, "scrolling frame not reachable or unnamed: "+tag)
			continue
		}
		for _, id := range strings.Fields(names) {
			if ids[id] == 0 {
				problems = append(problems, "scrolling frame named by a missing id "+id+": "+tag)
			}
		}
	}
	return problems
}

// TestPages_NameEveryControlAndLetTheKeyboardReachEveryScrollingTable walks
// the pages of an account's owner, the sign-in pages and the API reference,
// in French and English, and checks their markup: ids used once, every form
// control labelled, every table frame that scrolls on a narrow screen
// focusable and named.
func TestPages_NameEveryControlAndLetTheKeyboardReachEveryScrollingTable(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	o := signUpOwner(t, env, "ada@example.com")
	grace := o.added(t, team.NewMember{Email: "grace@example.com", FirstName: "Grace", LastName: "Hopper", Role: "collaborator"})
	env.AddMember(t, o.account, "alan@example.com", "manager", equipe.MemberActive)
	lyon := addResource(t, env, o.account, "location", "Lyon")

	anonymous := []string{"/login", "/signup", "/forgot-password", "/privacy", "/docs/api", "/password-reset/unknown"}
	owned := []string{"/", "/me", "/me/password", "/me/email", "/me/sessions", "/me/security", "/me/passkeys", "/me/data",
		"/accounts/new", "/docs/api",
		o.path("/members"), o.path("/members?q=gr&sort=name"), o.path("/members/new"), o.path("/members/" + grace.String() + "/edit"),
		o.path("/members/" + grace.String() + "/permissions"), o.path("/members/import"), o.path("/roles"), o.path("/roles/new"),
		o.path("/resources"), o.path("/resources/new"), o.path("/resources/" + lyon.ID.String() + "/edit"),
		o.path("/contacts"), o.path("/contacts/new"), o.path("/clients"), o.path("/clients/new"), o.path("/audit"),
		o.path("/settings"), o.path("/api-keys"), o.path("/webhooks")}
	for _, lang := range []string{"fr", "en"} {
		for _, c := range []struct {
			who   string
			paths []string
		}{{"nobody", anonymous}, {"the owner", owned}} {
			client := env.Client()
			if c.who != "nobody" {
				client = o.c
			}
			for _, path := range c.paths {
				sep := "?"
				if strings.Contains(path, "?") {
					sep = "&"
				}
				p := get(t, client, env.URL+path+sep+"lang="+lang)
				if p.Status == 303 { // the language is kept, then the page shown
					p = get(t, client, env.URL+p.Header.Get("Location"))
				}
				if p.Status != 200 && p.Status != 404 {
					t.Errorf("%s %s (%s): %d", c.who, path, lang, p.Status)
					continue
				}
				if !strings.Contains(p.Body, `<html lang="`+lang+`"`) {
					t.Errorf("%s %s (%s): not in that language: %.200s", c.who, path, lang, p.Body)
				}
				for _, problem := range structureProblems(p.Body) {
					t.Errorf("%s %s (%s): %s", c.who, path, lang, problem)
				}
			}
		}
	}
}

// TestStructureProblems_SeesWhatItLooksFor: the check above finds each
// problem it is meant to find, and passes the markup the pages use.
func TestStructureProblems_SeesWhatItLooksFor(t *testing.T) {
	for body, want := range map[string]int{
		`<label for="f-a">A</label><input id="f-a" name="a">`:                                        0,
		`<label>B <input type="checkbox" name="b"></label>`:                                          0,
		`<input type="hidden" name="csrf"><button type="submit">Go</button>`:                         0,
		`<input name="q" aria-label="Search"><select aria-labelledby="x" id="s"></select>`:           0,
		`<h2 id="t">T</h2><div class="table-scroll" role="region" aria-labelledby="t" tabindex="0">`: 0,
		`<input id="f-a" name="a">`:                                                                  1,
		`<label>B</label><textarea name="b"></textarea>`:                                             1,
		`<p id="x"></p><p id="x"></p>`:                                                               1,
		`<div class="table-scroll">`:                                                                 1,
		`<div class="table-scroll" role="region" aria-labelledby="none" tabindex="0">`:               1,
	} {
		if got := structureProblems(body); len(got) != want {
			t.Errorf("%s: %d problems %q, want %d", body, len(got), got, want)
		}
	}
}
