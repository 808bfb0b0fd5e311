package web_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/brand"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/team"
)

// brandForm posts the brand page's form as a browser does: multipart, with
// the values given and the files named.
func brandForm(t *testing.T, c *http.Client, u string, values url.Values, files map[string][]byte) page {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range values {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for name, data := range files {
		w, err := mw.CreateFormFile(name, name+".png")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", u, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return do(t, c, req)
}

// shownBrand is the form as the page shows it for the Acme Cloud
// instance: every setting's value in force.
func shownBrand() url.Values {
	return url.Values{"name": {"Acme Cloud"}, "primary": {"#0b6e4f"}, "primary_picker": {"#0b6e4f"}, "accent": {"#7a1fa2"},
		"accent_picker": {"#7a1fa2"}, "support_email": {"help@acme.test"}, "support_url": {"https://acme.test/help"},
		"terms_url": {"https://acme.test/terms"}, "imprint_url": {"https://acme.test/imprint"},
		"stylesheet": {".brand img { max-height: 3rem; }\n"}, "key_prefix": {"acmecloud_"}}
}

// onePixel is a PNG file of one pixel.
const onePixel = "\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0b\x49\x44\x41\x54\x78\x9c\x63\x60\x00\x02\x00\x00\x05\x00\x01\x7a\x5e\xab\x3f\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82"

// pngOf is a PNG file of one pixel padded to n bytes.
func pngOf(n int) []byte { return append([]byte(onePixel), make([]byte, n-len(onePixel))...) }

// TestBrandPage_SavedNameIsOnTheVeryNextPageAndEmail: an instance
// administrator renames the product on the brand page; the very next page
// and email bear the new name, no restart; restoring the configured value
// brings the old one back. Nobody else reaches the page.
func TestBrandPage_SavedNameIsOnTheVeryNextPageAndEmail(t *testing.T) {
	env := startBranded(t)
	owner := signUpOwner(t, env, "ada@example.com")
	if p := get(t, owner.c, env.URL+"/admin/brand"); p.Status != 403 {
		t.Errorf("an account's administrator sees the brand page: %d", p.Status)
	}
	shown := shownBrand()
	shown.Set("name", "Stolen")
	if p := brandForm(t, owner.c, env.URL+"/admin/brand", shown, nil); p.Status != 403 {
		t.Errorf("an account's administrator saves the brand: %d", p.Status)
	}

	c, _ := adminBrowser(t, env)
	if p := get(t, c, env.URL+"/"); !strings.Contains(p.Body, `href="/admin/brand"`) {
		t.Error("the home page has no link to the brand page")
	}
	p := get(t, c, env.URL+"/admin/brand")
	for _, want := range []string{`value="Acme Cloud"`, `type="color" value="#0b6e4f"`, "From the configuration.",
		`src="/static/brand/logo?v=`, `enctype="multipart/form-data"`, `name="stylesheet"`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the brand page lacks %s", want)
		}
	}
	if strings.Contains(p.Body, "Set on this page.") {
		t.Error("a configured setting reads as set on the page")
	}

	shown = shownBrand()
	shown.Set("name", "Bright Apps")
	shown.Set("accent_picker", "#5a1f82") // chosen with the picker, the text left as it was
	p = brandForm(t, c, env.URL+"/admin/brand", shown, nil)
	if p.Status != 303 || p.Header.Get("Location") != "/admin/brand?done=saved" {
		t.Fatalf("save: %d %s %s", p.Status, p.Header.Get("Location"), text(p.Body))
	}
	login := get(t, env.Client(), env.URL+"/login")
	if !strings.Contains(login.Body, "· Bright Apps</title>") || strings.Contains(login.Body, "Acme Cloud") {
		t.Errorf("the next page: %s", text(login.Body))
	}
	css := get(t, env.Client(), env.URL+"/static/brand.css")
	if !strings.Contains(css.Body, "--accent: #5a1f82;") || !strings.Contains(css.Body, "--primary: #0b6e4f;") {
		t.Errorf("brand.css: %s", css.Body)
	}
	if p := post(t, env.Client(), env.URL+"/signup", signupForm("grace@example.com")); p.Status != 303 {
		t.Fatalf("sign-up: %d", p.Status)
	}
	m := env.Mail(t, "grace@example.com", "verify_email")
	if !strings.Contains(m.Text, "Bright Apps") || !strings.Contains(m.HTML, "Bright Apps") || strings.Contains(m.Text, "Acme Cloud") {
		t.Errorf("the next email:\n%s", m.Text)
	}
	s, err := env.App.Team.BrandSettings(t.Context(), team.Actor{Operator: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range brand.Fields {
		if want := f == "name" || f == "accent"; s.Stored.Has(f) != want {
			t.Errorf("%s stored: %v, want %v (only what changed is stored)", f, s.Stored.Has(f), want)
		}
	}

	page := get(t, c, env.URL+"/admin/brand?done=saved")
	if !strings.Contains(page.Body, "The brand is saved") || !strings.Contains(page.Body, "Set on this page.") ||
		!strings.Contains(page.Body, `form="reset-name"`) {
		t.Errorf("the page after saving: %s", text(page.Body))
	}
	p = post(t, c, env.URL+"/admin/brand/reset", url.Values{"field": {"name"}})
	if p.Status != 303 || p.Header.Get("Location") != "/admin/brand?done=restored" {
		t.Fatalf("restore: %d %s", p.Status, p.Header.Get("Location"))
	}
	if login := get(t, env.Client(), env.URL+"/login"); !strings.Contains(login.Body, "· Acme Cloud</title>") {
		t.Errorf("after restoring the configured name: %s", text(login.Body))
	}
	if p := post(t, c, env.URL+"/admin/brand/reset", url.Values{"field": {"colour"}}); p.Status != 404 {
		t.Errorf("restoring no setting: %d", p.Status)
	}
}

// TestBrandPage_APaleColourIsRefusedBesideItsFieldAndNothingChanges: a
// colour white text cannot be read on is refused with the contrast beside
// the colour's field, in the reader's language, and the name typed with it
// is not saved either.
func TestBrandPage_APaleColourIsRefusedBesideItsFieldAndNothingChanges(t *testing.T) {
	env := startBranded(t)
	c, _ := adminBrowser(t, env)
	shown := shownBrand()
	shown.Set("name", "Pale Apps")
	shown.Set("primary", "#a0c4ff")
	p := brandForm(t, c, env.URL+"/admin/brand", shown, nil)
	if p.Status != 422 {
		t.Fatalf("a pale colour: %d", p.Status)
	}
	for _, want := range []string{
		`<p class="error" id="e-primary">White text on #a0c4ff has a contrast of 1.77:1, below the 4.5:1 WCAG AA asks for: choose a darker colour.</p>`,
		`id="f-primary" name="primary" type="text" value="#a0c4ff"`, `aria-describedby="src-primary h-primary e-primary" aria-invalid="true" autofocus`,
		`<a href="#f-primary">Primary colour: white text on #a0c4ff`, `value="Pale Apps"`,
	} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the refusal lacks %s\n%s", want, p.Body)
		}
	}
	if login := get(t, env.Client(), env.URL+"/login"); !strings.Contains(login.Body, "· Acme Cloud</title>") {
		t.Errorf("a refused form changed the name: %s", text(login.Body))
	}
	shownFr := shownBrand()
	shownFr.Set("accent", "#ffcc00")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range shownFr {
		mw.WriteField(k, vs[0])
	}
	mw.Close()
	req, _ := http.NewRequest("POST", env.URL+"/admin/brand", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Cookie", "equipe_lang=fr")
	if p := do(t, c, req); p.Status != 422 || !strings.Contains(p.Body,
		`<p class="error" id="e-accent">Un texte blanc sur #ffcc00 a un contraste de 1,51:1, sous les 4,5:1 que demande le niveau AA des WCAG : choisissez une couleur plus foncée.</p>`) {
		t.Errorf("in French: %d %s", p.Status, text(p.Body))
	}
}

// TestBrandPage_AnOversizeLogoIsRefused: a logo past 256 KiB is refused
// beside its field, naming its size; a body past what the form may hold is
// refused before it is read whole. Neither changes the logo.
func TestBrandPage_AnOversizeLogoIsRefused(t *testing.T) {
	env := startBranded(t)
	c, _ := adminBrowser(t, env)
	before := env.App.Brand.Load().Logo.Version()
	p := brandForm(t, c, env.URL+"/admin/brand", shownBrand(), map[string][]byte{"logo": pngOf(brand.MaxImageBytes + 1)})
	if p.Status != 422 || !strings.Contains(p.Body, `<p class="error" id="e-logo">The file is 257 KiB, more than the 256 KiB allowed.</p>`) {
		t.Errorf("a logo of 257 KiB: %d %s", p.Status, text(p.Body))
	}
	p = brandForm(t, c, env.URL+"/admin/brand", shownBrand(), map[string][]byte{"logo": pngOf(2 << 20)})
	if p.Status != 413 || !strings.Contains(p.Body, "What was sent is too large") || !strings.Contains(p.Body, `value="Acme Cloud"`) {
		t.Errorf("a body of 2 MiB: %d %s", p.Status, text(p.Body))
	}
	if got := env.App.Brand.Load().Logo.Version(); got != before {
		t.Error("a refused logo replaced the logo")
	}
	// A good one is taken, and served at once.
	p = brandForm(t, c, env.URL+"/admin/brand", shownBrand(), map[string][]byte{"logo": pngOf(2000)})
	if p.Status != 303 {
		t.Fatalf("a logo of 2000 bytes: %d %s", p.Status, text(p.Body))
	}
	logo := get(t, env.Client(), env.URL+"/static/brand/logo")
	if logo.Status != 200 || logo.Header.Get("Content-Type") != "image/png" || len(logo.Body) != 2000 {
		t.Errorf("the new logo: %d %s %d bytes", logo.Status, logo.Header.Get("Content-Type"), len(logo.Body))
	}
}

// TestBrandAPI_ChangesTheBrandAndNamesTheBadField: the API reads and
// changes the brand for an instance key; a bad setting is a problem naming
// the field; an account's key is refused.
func TestBrandAPI_ChangesTheBrandAndNamesTheBadField(t *testing.T) {
	env := startBranded(t)
	_, admin := adminBrowser(t, env)
	_, secret, err := env.App.Team.CreateKey(t.Context(), team.Actor{User: &admin}, nil, team.NewKey{Name: "Brand sync"})
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, body, key string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, env.URL+"/api/v1/instance/brand", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		p := do(t, env.Client(), req)
		var out map[string]any
		json.Unmarshal([]byte(p.Body), &out)
		return p.Status, out
	}
	status, got := call("GET", "", secret)
	if status != 200 || got["name"] != "Acme Cloud" || got["primary"] != "#0b6e4f" || len(got["stored"].([]any)) != 0 {
		t.Fatalf("GET: %d %v", status, got)
	}
	status, got = call("PATCH", `{"name": "Api Apps", "primary": "#a0c4ff"}`, secret)
	errs, _ := got["errors"].([]any)
	if status != 422 || len(errs) != 1 || errs[0].(map[string]any)["field"] != "primary" ||
		errs[0].(map[string]any)["code"] != "brand.contrast_low" {
		t.Fatalf("a pale colour: %d %v", status, got)
	}
	logo := base64.StdEncoding.EncodeToString(pngOf(300))
	status, got = call("PATCH", `{"name": "Api Apps", "logo": "`+logo+`", "reset": ["support_url"]}`, secret)
	if status != 200 || got["name"] != "Api Apps" || got["logo"].(map[string]any)["type"] != "image/png" {
		t.Fatalf("PATCH: %d %v", status, got)
	}
	if stored := got["stored"].([]any); len(stored) != 2 || stored[0] != "name" || stored[1] != "logo" {
		t.Errorf("stored %v", stored)
	}
	if login := get(t, env.Client(), env.URL+"/login"); !strings.Contains(login.Body, "· Api Apps</title>") {
		t.Errorf("the next page: %s", text(login.Body))
	}
	if doc := get(t, env.Client(), env.URL+"/api/openapi.json"); !strings.Contains(doc.Body, `"title": "Api Apps API"`) {
		t.Errorf("the API document keeps the old name: %.200s", doc.Body)
	}

	o := signUpOwner(t, env, "ada@example.com")
	confirmEmail(t, env, "ada@example.com")
	u, _ := env.App.DB.UserByID(t.Context(), o.user.ID)
	_, accountKey, err := env.App.Team.CreateKey(t.Context(), team.Actor{User: &u}, &o.account, team.NewKey{Name: "Sync", Role: "manager"})
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := call("PATCH", `{"name": "Stolen"}`, accountKey); status != 403 {
		t.Errorf("an account's key changes the brand: %d", status)
	}
}

// TestBrand_ASecondProcessPutsTheChangeInForce: two processes on one
// PostgreSQL database; the brand an administrator saves through one is in
// force in the other as soon as its listener hears of it.
func TestBrand_ASecondProcessPutsTheChangeInForce(t *testing.T) {
	first := apptest.Start(t, store.Postgres, apptest.Options{})
	second := apptest.Start(t, store.Postgres, apptest.Options{Share: first})
	c, _ := adminBrowser(t, first)
	heard := second.Heard(store.BrandKey())
	form := url.Values{"name": {"Shared Apps"}, "primary": {brand.DefaultPrimary}, "accent": {brand.DefaultAccent}}
	if p := brandForm(t, c, first.URL+"/admin/brand", form, nil); p.Status != 303 {
		t.Fatalf("save: %d %s", p.Status, text(p.Body))
	}
	second.AwaitHeard(t, store.BrandKey(), heard)
	if login := get(t, second.Client(), second.URL+"/login"); !strings.Contains(login.Body, "· Shared Apps</title>") {
		t.Errorf("the other process's next page: %s", text(login.Body))
	}
	if p := post(t, second.Client(), second.URL+"/signup", signupForm("grace@example.com")); p.Status != 303 {
		t.Fatalf("sign-up: %d", p.Status)
	}
	// The email was composed by the second process, which queued it,
	// whichever process sent it.
	if m := second.MailFromAny(t, "grace@example.com", "verify_email", first); !strings.Contains(m.Text, "Shared Apps") {
		t.Errorf("the other process's next email:\n%s", m.Text)
	}
}
