package web

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/brand"
	"github.com/equipe-dev/equipe/team"
)

// brandUpload bounds the body of the brand page's form: a logo and a
// favicon of at most brand.MaxImageBytes each, a stylesheet of at most
// brand.MaxStylesheetBytes and the other fields. A larger body is refused
// as it arrives, before any of it is kept.
const brandUpload = 2*brand.MaxImageBytes + brand.MaxStylesheetBytes + 64<<10

// The brand page's form routes, whose bodies may reach brandUpload.
const (
	brandSave  = "POST /admin/brand"
	brandReset = "POST /admin/brand/reset"
)

// brandPage is the brand page's data: each setting with its value in
// force and where that comes from.
type brandPage struct {
	Settings []brandSetting
	Product  string // the brand's name, the logo's text alternative
}

// brandSetting is one setting on the page.
type brandSetting struct {
	Name   string // the field's name (brand.Fields)
	Label  string // message key
	Hint   string // message key, or ""
	Kind   string // text, email, url, colour, image, stylesheet
	Stored bool   // set on the page (else from the configuration)
	Image  *brand.Image
}

// brandFieldLabels name the settings, for the page and its problems.
var brandFieldLabels = map[string]string{
	brand.FieldName: "brand.name", brand.FieldLogo: "brand.logo", brand.FieldFavicon: "brand.favicon",
	brand.FieldPrimary: "brand.primary", brand.FieldAccent: "brand.accent", brand.FieldSupportEmail: "brand.support_email",
	brand.FieldSupportURL: "brand.support_url", brand.FieldTermsURL: "brand.terms", brand.FieldImprintURL: "brand.imprint",
	brand.FieldStylesheet: "brand.stylesheet", brand.FieldKeyPrefix: "brand.key_prefix",
}

// brandFieldKinds say how each setting is entered.
var brandFieldKinds = map[string]string{
	brand.FieldName: "text", brand.FieldLogo: "image", brand.FieldFavicon: "image", brand.FieldPrimary: "colour",
	brand.FieldAccent: "colour", brand.FieldSupportEmail: "email", brand.FieldSupportURL: "url", brand.FieldTermsURL: "url",
	brand.FieldImprintURL: "url", brand.FieldStylesheet: "stylesheet", brand.FieldKeyPrefix: "text",
}

// brandFieldHints explain the settings that need it.
var brandFieldHints = map[string]string{
	brand.FieldLogo: "brand.hint_image", brand.FieldFavicon: "brand.hint_image", brand.FieldPrimary: "brand.hint_colour",
	brand.FieldAccent: "brand.hint_colour", brand.FieldSupportEmail: "brand.hint_none", brand.FieldSupportURL: "brand.hint_none",
	brand.FieldTermsURL: "brand.hint_none", brand.FieldImprintURL: "brand.hint_none",
	brand.FieldStylesheet: "brand.hint_stylesheet", brand.FieldKeyPrefix: "brand.hint_key_prefix",
}

// brandValues are the texts of the settings in force, as the form shows
// them.
func brandValues(b brand.Brand) map[string]string {
	return map[string]string{brand.FieldName: b.Name, brand.FieldPrimary: b.Primary, brand.FieldAccent: b.Accent,
		brand.FieldSupportEmail: b.SupportEmail, brand.FieldSupportURL: b.SupportURL, brand.FieldTermsURL: b.TermsURL,
		brand.FieldImprintURL: b.ImprintURL, brand.FieldStylesheet: string(b.Stylesheet), brand.FieldKeyPrefix: b.KeyPrefix}
}

// brandNotices are the notices after a change.
var brandNotices = map[string]string{"saved": "brand.saved", "restored": "brand.restored"}

// brandSettings shows the brand page: every setting, its value in force,
// whether it comes from the configuration or this page.
func (w *Web) brandSettings(rw http.ResponseWriter, r *http.Request) error {
	return w.showBrand(rw, r, nil, http.StatusOK)
}

func (w *Web) showBrand(rw http.ResponseWriter, r *http.Request, f *form, status int) error {
	s, err := w.Team.BrandSettings(r.Context(), actor(r))
	if err != nil {
		return w.refuse(rw, r, err)
	}
	p := w.page(r, "page.brand")
	p.Notice = brandNotices[r.URL.Query().Get("done")]
	if f != nil {
		p.Form = f
	}
	if len(p.Form.Values) == 0 {
		// The values in force: on the first view, and after a body too
		// large to read, whose values are not known.
		for k, v := range brandValues(s.Effective) {
			p.Form.Values[k] = v
		}
	}
	labelBrandForm(p.Form)
	d := brandPage{Product: s.Effective.Name}
	for _, name := range brand.Fields {
		st := brandSetting{Name: name, Label: brandFieldLabels[name], Hint: brandFieldHints[name], Kind: brandFieldKinds[name],
			Stored: s.Stored.Has(name)}
		switch name {
		case brand.FieldLogo:
			st.Image = s.Effective.Logo
		case brand.FieldFavicon:
			st.Image = s.Effective.Favicon
		}
		d.Settings = append(d.Settings, st)
	}
	p.Data = d
	return w.render(rw, r, status, "brand", p)
}

func labelBrandForm(f *form) {
	for name, key := range brandFieldLabels {
		f.label(name, key)
	}
}

// saveBrand stores the settings the form changes: a text that differs
// from the value in force, a colour chosen with either of its inputs, an
// image sent. A setting left as the page showed it stays where it comes
// from (the configuration, or this page).
func (w *Web) saveBrand(rw http.ResponseWriter, r *http.Request) error {
	if err := w.parseBrandForm(r); err != nil {
		return w.brandFormTooLarge(rw, r, err)
	}
	s, err := w.Team.BrandSettings(r.Context(), actor(r))
	if err != nil {
		return w.refuse(rw, r, err)
	}
	shown := brandValues(s.Effective)
	var in team.BrandInput
	changed := func(name string) *string {
		v, ok := r.PostForm[name]
		if !ok || len(v) == 0 {
			return nil
		}
		text := strings.ReplaceAll(v[0], "\r\n", "\n")
		if name != brand.FieldStylesheet {
			text = strings.TrimSpace(text)
		}
		if text == shown[name] {
			// The colour's picker is the other way to choose it.
			if pick := r.PostForm[name+"_picker"]; len(pick) > 0 && !strings.EqualFold(pick[0], shown[name]) {
				return &pick[0]
			}
			return nil
		}
		return &text
	}
	in.Name, in.Primary, in.Accent = changed(brand.FieldName), changed(brand.FieldPrimary), changed(brand.FieldAccent)
	in.SupportEmail, in.SupportURL = changed(brand.FieldSupportEmail), changed(brand.FieldSupportURL)
	in.TermsURL, in.ImprintURL = changed(brand.FieldTermsURL), changed(brand.FieldImprintURL)
	in.Stylesheet, in.KeyPrefix = changed(brand.FieldStylesheet), changed(brand.FieldKeyPrefix)
	if in.Logo, err = brandFile(r, brand.FieldLogo); err == nil {
		in.Favicon, err = brandFile(r, brand.FieldFavicon)
	}
	if err != nil {
		return err
	}
	if _, err := w.Team.UpdateBrand(r.Context(), actor(r), in); err != nil {
		f := newForm()
		if !f.absorb(err, nil) {
			return w.refuse(rw, r, err)
		}
		for _, name := range brand.Fields {
			if v, ok := r.PostForm[name]; ok && len(v) > 0 {
				f.Values[name] = v[0]
			}
		}
		f.arrange(brand.Fields...)
		return w.showBrand(rw, r, f, refusedStatus(err))
	}
	return redirect(rw, r, "/admin/brand?done=saved")
}

// resetBrand restores the setting the button names to its configured
// value.
func (w *Web) resetBrand(rw http.ResponseWriter, r *http.Request) error {
	if err := w.parseBrandForm(r); err != nil {
		return w.brandFormTooLarge(rw, r, err)
	}
	if _, err := w.Team.ResetBrandField(r.Context(), actor(r), r.PostFormValue("field")); err != nil {
		if equipe.AsError(err).Code == equipe.EINVALID {
			return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
		}
		return w.refuse(rw, r, err)
	}
	return redirect(rw, r, "/admin/brand?done=restored")
}

// parseBrandForm reads the form, sent as multipart/form-data (its files)
// or urlencoded; the route's body limit (brandUpload) holds either.
func (w *Web) parseBrandForm(r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		// Held in memory: the body is at most brandUpload.
		return r.ParseMultipartForm(brandUpload)
	}
	return r.ParseForm()
}

// brandFormTooLarge shows the page again saying that what was sent is too
// large, when it is; any other error is a malformed request.
func (w *Web) brandFormTooLarge(rw http.ResponseWriter, r *http.Request, err error) error {
	var tooLarge *http.MaxBytesError
	if !errors.As(err, &tooLarge) {
		return &equipe.Error{Code: equipe.EINVALID, Key: "request.malformed", Err: err}
	}
	f := newForm()
	f.Summary = "brand.upload_too_large"
	return w.showBrand(rw, r, f, http.StatusRequestEntityTooLarge)
}

// brandFile returns the content of the file sent as name, nil when none
// was chosen.
func brandFile(r *http.Request, name string) ([]byte, error) {
	if r.MultipartForm == nil || len(r.MultipartForm.File[name]) == 0 {
		return nil, nil
	}
	fh := r.MultipartForm.File[name][0]
	if fh.Size == 0 && fh.Filename == "" {
		return nil, nil
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The whole file, at most brandUpload: the use case refuses one past
	// brand.MaxImageBytes, naming its size.
	return io.ReadAll(f)
}
