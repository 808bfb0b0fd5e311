package api

import (
	"net/http"
	"time"

	"github.com/equipe-dev/equipe/brand"
	"github.com/equipe-dev/equipe/team"
)

// The instance's brand, under /api/v1/instance/brand: the settings in
// force, which of them are stored (over the configuration), and changes to
// them.

// maxBrandBody bounds a change of the brand: a logo and a favicon in
// base64, a stylesheet (escaped in JSON, up to about twice its size) and
// the other settings.
const maxBrandBody = 4*(2*brand.MaxImageBytes)/3 + 2*brand.MaxStylesheetBytes + 64<<10

type brandImageView struct {
	Type string `json:"type"`
	Size int    `json:"size"`
	URL  string `json:"url"` // where the pages load it, on this service
}

type brandView struct {
	Name         string          `json:"name"`
	Logo         *brandImageView `json:"logo"`
	Favicon      *brandImageView `json:"favicon"`
	Primary      string          `json:"primary"`
	Accent       string          `json:"accent"`
	SupportEmail string          `json:"support_email"`
	SupportURL   string          `json:"support_url"`
	TermsURL     string          `json:"terms_url"`
	ImprintURL   string          `json:"imprint_url"`
	Stylesheet   string          `json:"stylesheet"`
	KeyPrefix    string          `json:"key_prefix"`
	// Stored lists the settings stored over the configuration; the others
	// are the configured ones.
	Stored    []string   `json:"stored"`
	UpdatedAt *time.Time `json:"updated_at"`
}

func viewBrand(s brand.Settings) brandView {
	b := s.Effective
	img := func(i *brand.Image, path string) *brandImageView {
		if i == nil {
			return nil
		}
		return &brandImageView{Type: i.Type, Size: len(i.Data), URL: path + "?v=" + i.Version()}
	}
	v := brandView{Name: b.Name, Logo: img(b.Logo, "/static/brand/logo"), Favicon: img(b.Favicon, "/static/brand/favicon"),
		Primary: b.Primary, Accent: b.Accent, SupportEmail: b.SupportEmail, SupportURL: b.SupportURL, TermsURL: b.TermsURL,
		ImprintURL: b.ImprintURL, Stylesheet: string(b.Stylesheet), KeyPrefix: b.KeyPrefix, Stored: []string{}}
	for _, f := range brand.Fields {
		if s.Stored.Has(f) {
			v.Stored = append(v.Stored, f)
		}
	}
	if !s.Stored.UpdatedAt.IsZero() {
		t := s.Stored.UpdatedAt
		v.UpdatedAt = &t
	}
	return v
}

// brandPatch is a change of the brand: each member absent (or null) is
// left as it is; logo and favicon are the files' content in base64.
type brandPatch struct {
	Name         *string  `json:"name"`
	Logo         []byte   `json:"logo"`
	Favicon      []byte   `json:"favicon"`
	Primary      *string  `json:"primary"`
	Accent       *string  `json:"accent"`
	SupportEmail *string  `json:"support_email"`
	SupportURL   *string  `json:"support_url"`
	TermsURL     *string  `json:"terms_url"`
	ImprintURL   *string  `json:"imprint_url"`
	Stylesheet   *string  `json:"stylesheet"`
	KeyPrefix    *string  `json:"key_prefix"`
	Reset        []string `json:"reset"`
}

func (a *API) brandSettings(w http.ResponseWriter, r *http.Request) error {
	s, err := a.Team.BrandSettings(r.Context(), actor(r))
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, viewBrand(s))
}

func (a *API) updateBrand(w http.ResponseWriter, r *http.Request) error {
	var in brandPatch
	if err := decodeMax(w, r, &in, maxBrandBody); err != nil {
		return err
	}
	s, err := a.Team.UpdateBrand(r.Context(), actor(r), team.BrandInput(in))
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, viewBrand(s))
}
