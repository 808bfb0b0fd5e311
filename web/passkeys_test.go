package web_test

import (
	"bytes"
	"encoding/json"
	"github.com/equipe-dev/equipe"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/internal/passkeytest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// postJSON posts body as JSON, as the passkey script does.
func postJSON(t *testing.T, c *http.Client, u string, body []byte) page {
	t.Helper()
	req, _ := http.NewRequest("POST", u, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return do(t, c, req)
}

// addPasskey registers a passkey named name for the owner through the
// page's JSON steps, answered by the software authenticator dev.
func addPasskey(t *testing.T, o owner, base string, dev *passkeytest.Authenticator, name string) page {
	t.Helper()
	return addPasskeyConfirmed(t, o, base, dev, name, "")
}

// addPasskeyConfirmed is addPasskey with the password typed on the page
// (none: "").
func addPasskeyConfirmed(t *testing.T, o owner, base string, dev *passkeytest.Authenticator, name, password string) page {
	t.Helper()
	in := map[string]string{"name": name}
	if password != "" {
		in["password"] = password
	}
	body, _ := json.Marshal(in)
	opts := postJSON(t, o.c, o.env.URL+"/me/passkeys/options", body)
	if opts.Status != 200 {
		return opts
	}
	answer, err := dev.Create([]byte(opts.Body))
	if err != nil {
		t.Fatal(err)
	}
	return postJSON(t, o.c, o.env.URL+"/me/passkeys/register", answer)
}

func TestPasskeysPage_AddRenameRemoveAndAnotherPersonsIsNotFound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		env, base := startOnLocalhost(t, db.Engine())
		ada, grace := signUpOwner(t, env, "ada@example.com"), signUpOwner(t, env, "grace@example.com")
		dev := passkeytest.New(base)

		// Without JavaScript the form says that passkeys need it.
		p := post(t, ada.c, env.URL+"/me/passkeys", url.Values{"name": {"Phone"}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(text(p.Body), "demande JavaScript") {
			t.Fatalf("the form posted without the script: %d %s", p.Status, text(p.Body))
		}
		p = get(t, ada.c, env.URL+"/me/passkeys")
		if !strings.Contains(p.Body, "<noscript>") || !strings.Contains(text(p.Body), "pas encore de clé d'accès") ||
			!strings.Contains(p.Body, `src="/static/passkeys.js"`) || !strings.Contains(p.Body, `href="/me/passkeys" aria-current="page"`) {
			t.Fatalf("the empty passkeys page: %s", text(p.Body))
		}

		// A bad name is refused in JSON, beside its field.
		p = addPasskey(t, ada, base, dev, "")
		var problem struct {
			Message string
			Fields  map[string]string
		}
		if err := json.Unmarshal([]byte(p.Body), &problem); err != nil || p.Status != 422 || problem.Fields["name"] == "" {
			t.Fatalf("an empty name: %d %s", p.Status, p.Body)
		}
		if p = addPasskey(t, ada, base, dev, "Phone"); p.Status != http.StatusCreated || !strings.Contains(p.Body, `"/me/passkeys?done=added"`) {
			t.Fatalf("add: %d %s", p.Status, p.Body)
		}
		mine, _, _ := env.App.Identity.Passkeys(t.Context(), ada.user.ID, equipe.Page{})
		theirs := addPasskey(t, grace, base, passkeytest.New(base), "Grace's")
		if len(mine) != 1 || theirs.Status != http.StatusCreated {
			t.Fatalf("passkeys %+v, grace's: %d", mine, theirs.Status)
		}
		graceKeys, _, _ := env.App.Identity.Passkeys(t.Context(), grace.user.ID, equipe.Page{})
		id := mine[0].ID.String()

		// Another person's passkey is not found, whatever the page.
		for _, path := range []string{"/rename", "/remove"} {
			if p := get(t, ada.c, env.URL+"/me/passkeys/"+graceKeys[0].ID.String()+path); p.Status != 404 {
				t.Errorf("grace's passkey%s: %d", path, p.Status)
			}
		}
		if p := post(t, ada.c, env.URL+"/me/passkeys/"+graceKeys[0].ID.String()+"/remove",
			url.Values{"password": {"lovelace rode the number engine"}}); p.Status != 404 {
			t.Errorf("removing grace's passkey: %d", p.Status)
		}

		p = post(t, ada.c, env.URL+"/me/passkeys/"+id+"/rename", url.Values{"name": {"<b>"}})
		if p.Status != 422 || !strings.Contains(p.Body, `id="e-name"`) {
			t.Fatalf("rename with markup: %d %s", p.Status, text(p.Body))
		}
		if p = post(t, ada.c, env.URL+"/me/passkeys/"+id+"/rename", url.Values{"name": {"Téléphone"}}); p.Status != 303 {
			t.Fatalf("rename: %d", p.Status)
		}
		if p = get(t, ada.c, env.URL+"/me/passkeys?done=renamed"); !strings.Contains(text(p.Body), "Téléphone") ||
			!strings.Contains(text(p.Body), "La clé d'accès est renommée.") {
			t.Fatalf("after the rename: %s", text(p.Body))
		}

		p = post(t, ada.c, env.URL+"/me/passkeys/"+id+"/remove", url.Values{"password": {"not my password at all"}})
		if p.Status != 422 || !strings.Contains(text(p.Body), "Ce n'est pas votre mot de passe.") {
			t.Fatalf("remove with a wrong password: %d %s", p.Status, text(p.Body))
		}
		if keys, _, _ := env.App.Identity.Passkeys(t.Context(), ada.user.ID, equipe.Page{}); len(keys) != 1 {
			t.Fatal("a wrong password removed the passkey")
		}
		if p = post(t, ada.c, env.URL+"/me/passkeys/"+id+"/remove", url.Values{"password": {"lovelace rode the number engine"}}); p.Status != 303 {
			t.Fatalf("remove: %d %s", p.Status, text(p.Body))
		}
		if keys, _, _ := env.App.Identity.Passkeys(t.Context(), ada.user.ID, equipe.Page{}); len(keys) != 0 {
			t.Fatalf("%d passkeys after removal", len(keys))
		}
		if keys, _, _ := env.App.Identity.Passkeys(t.Context(), grace.user.ID, equipe.Page{}); len(keys) != 1 {
			t.Fatalf("grace has %d passkeys", len(keys))
		}
	})
}

func TestPasskeyLogin_TheLoginPageLogsInWithAPasskeyAlone(t *testing.T) {
	env, base := startOnLocalhost(t, store.SQLite)
	ada := signUpOwner(t, env, "ada@example.com")
	dev := passkeytest.New(base)
	if p := addPasskey(t, ada, base, dev, "Phone"); p.Status != http.StatusCreated {
		t.Fatalf("add: %d %s", p.Status, p.Body)
	}
	c := env.Client()
	if p := get(t, c, env.URL+"/login"); !strings.Contains(p.Body, `id="passkey-login"`) {
		t.Fatal("the login page has no passkey button")
	}
	opts := postJSON(t, c, env.URL+"/login/passkey/options", []byte(`{}`))
	answer, err := dev.Get([]byte(opts.Body))
	if err != nil {
		t.Fatal(err)
	}
	p := postJSON(t, c, env.URL+"/login/passkey?next="+url.QueryEscape("//evil.example"), answer)
	if p.Status != 200 || !strings.Contains(p.Body, `"next":"/"`) {
		t.Fatalf("log in: %d %s", p.Status, p.Body)
	}
	if p := get(t, c, env.URL+"/me/passkeys"); p.Status != 200 || !strings.Contains(text(p.Body), "Phone") {
		t.Fatalf("the session does not open the passkeys page: %d", p.Status)
	}
	// The same answer again is refused.
	p = postJSON(t, env.Client(), env.URL+"/login/passkey", answer)
	if p.Status != 401 || !strings.Contains(p.Body, "clé d'accès n'a pas abouti") {
		t.Fatalf("the answer replayed: %d %s", p.Status, p.Body)
	}
}

func TestPasskeys_OnAnIPAddressThePagesSaySoAndTheLoginPageHasNoButton(t *testing.T) {
	env := apptest.Start(t, store.SQLite, apptest.Options{})
	ada := signUpOwner(t, env, "ada@example.com")
	p := get(t, ada.c, env.URL+"/me/passkeys")
	if !strings.Contains(text(p.Body), "https://") || strings.Contains(p.Body, "passkeys.js") {
		t.Fatalf("the passkeys page on an IP address: %s", text(p.Body))
	}
	if p := get(t, env.Client(), env.URL+"/login"); strings.Contains(p.Body, "passkey") {
		t.Fatal("the login page offers passkeys on an IP address")
	}
	if p := postJSON(t, env.Client(), env.URL+"/login/passkey/options", []byte(`{}`)); p.Status != 409 {
		t.Fatalf("login options on an IP address: %d %s", p.Status, p.Body)
	}
}

func TestPasskeySecondStep_ThePageAsksForAPasskeyAfterThePassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		env, base := startOnLocalhost(t, db.Engine())
		ada := signUpOwner(t, env, "ada@example.com")
		dev := passkeytest.New(base)
		if p := addPasskey(t, ada, base, dev, "Phone"); p.Status != http.StatusCreated {
			t.Fatalf("add: %d %s", p.Status, p.Body)
		}
		c := env.Client()
		p := post(t, c, env.URL+"/login", url.Values{"email": {"ada@example.com"}, "password": {"lovelace rode the number engine"},
			"next": {"/me/passkeys"}})
		if p.Status != 303 || !strings.HasPrefix(p.Header.Get("Location"), "/login/second-factor") {
			t.Fatalf("the password alone: %d %s", p.Status, p.Header.Get("Location"))
		}
		p = get(t, c, env.URL+p.Header.Get("Location"))
		if p.Status != 200 || !strings.Contains(p.Body, `id="passkey-second-factor"`) || !strings.Contains(p.Body, `data-next="/me/passkeys"`) ||
			!strings.Contains(p.Body, "<noscript>") {
			t.Fatalf("the second step: %d %s", p.Status, p.Body)
		}
		if p := get(t, c, env.URL+"/me/passkeys"); p.Status != 303 {
			t.Fatalf("a session before the second step: %d", p.Status)
		}
		opts := postJSON(t, c, env.URL+"/login/second-factor/passkey/options", []byte(`{}`))
		answer, err := dev.Get([]byte(opts.Body))
		if err != nil {
			t.Fatalf("%v (options %d %s)", err, opts.Status, opts.Body)
		}
		p = postJSON(t, c, env.URL+"/login/second-factor/passkey?next="+url.QueryEscape("/me/passkeys"), answer)
		if p.Status != 200 || !strings.Contains(p.Body, `"next":"/me/passkeys"`) {
			t.Fatalf("the passkey: %d %s", p.Status, p.Body)
		}
		if p := get(t, c, env.URL+"/me/passkeys"); p.Status != 200 {
			t.Fatalf("no session after the second step: %d", p.Status)
		}
		// Another browser without the login's challenge gets nothing.
		if p := postJSON(t, env.Client(), env.URL+"/login/second-factor/passkey/options", []byte(`{}`)); p.Status != 401 {
			t.Fatalf("options without a pending login: %d %s", p.Status, p.Body)
		}
	})
}

// TestPasskeysPage_KeepsWhereThePersonWasGoing: sent to set up a second
// factor by an account's requirement (?next=), a person who picks a passkey
// goes on from /me/security to /me/passkeys and, once the passkey is
// added, to where they were going; a next that is not a local path is
// dropped.
func TestPasskeysPage_KeepsWhereThePersonWasGoing(t *testing.T) {
	env, base := startOnLocalhost(t, "sqlite")
	ada := signUpOwner(t, env, "ada@example.com")
	next := ada.path("/members")
	q := "?next=" + url.QueryEscape(next)
	wantIn(t, get(t, ada.c, env.URL+"/me/security"+q), `href="/me/passkeys?next=`+url.QueryEscape(next)+`"`)
	p := get(t, ada.c, env.URL+"/me/passkeys"+q)
	wantIn(t, p, `data-finish="/me/passkeys/register?next=`+url.QueryEscape(next)+`"`, `<input type="hidden" name="next" value="`+next+`">`)

	body, _ := json.Marshal(map[string]string{"name": "Phone"})
	opts := postJSON(t, ada.c, env.URL+"/me/passkeys/options", body)
	answer, err := passkeytest.New(base).Create([]byte(opts.Body))
	if err != nil {
		t.Fatal(err)
	}
	done := postJSON(t, ada.c, env.URL+"/me/passkeys/register"+q, answer)
	var out struct{ Next string }
	if err := json.Unmarshal([]byte(done.Body), &out); err != nil || done.Status != http.StatusCreated || out.Next != next {
		t.Fatalf("added: %d %s", done.Status, done.Body)
	}

	// Another site is no place to go.
	evil := "?next=" + url.QueryEscape("https://evil.example/")
	if p := get(t, ada.c, env.URL+"/me/passkeys"+evil); !strings.Contains(p.Body, `data-finish="/me/passkeys/register"`) ||
		strings.Contains(p.Body, `name="next"`) {
		t.Fatal("the page keeps a next that is not a local path")
	}
	opts = postJSON(t, ada.c, env.URL+"/me/passkeys/options", []byte(`{"name":"Laptop"}`))
	answer, err = passkeytest.New(base).Create([]byte(opts.Body))
	if err != nil {
		t.Fatal(err)
	}
	done = postJSON(t, ada.c, env.URL+"/me/passkeys/register"+evil, answer)
	if err := json.Unmarshal([]byte(done.Body), &out); err != nil || out.Next != "/me/passkeys?done=added" {
		t.Fatalf("added with another site as next: %d %s", done.Status, done.Body)
	}
}
