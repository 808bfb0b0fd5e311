package brand

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync/atomic"
	"time"
)

// The settings' names, as the page, the API and the audit log name them.
const (
	FieldName         = "name"
	FieldLogo         = "logo"
	FieldFavicon      = "favicon"
	FieldPrimary      = "primary"
	FieldAccent       = "accent"
	FieldSupportEmail = "support_email"
	FieldSupportURL   = "support_url"
	FieldTermsURL     = "terms_url"
	FieldImprintURL   = "imprint_url"
	FieldStylesheet   = "stylesheet"
	FieldKeyPrefix    = "key_prefix"
)

// Fields are the settings' names, in the order the page shows them.
var Fields = []string{FieldName, FieldLogo, FieldFavicon, FieldPrimary, FieldAccent, FieldSupportEmail,
	FieldSupportURL, FieldTermsURL, FieldImprintURL, FieldStylesheet, FieldKeyPrefix}

// Overrides are the settings an instance administrator stored, which win
// over the configuration: each nil keeps the configured value. A text
// that is "" (a support address, a link, the stylesheet) overrides a
// configured one with none.
type Overrides struct {
	Name                                           *string
	Logo, Favicon                                  *Image
	Primary, Accent                                *string
	SupportEmail, SupportURL, TermsURL, ImprintURL *string
	Stylesheet                                     *string
	KeyPrefix                                      *string
	// UpdatedAt is when they last changed; zero when none was ever stored.
	UpdatedAt time.Time
}

// Apply returns the configured brand b with the overrides in place.
func (o Overrides) Apply(b Brand) Brand {
	set := func(into *string, v *string) {
		if v != nil {
			*into = *v
		}
	}
	set(&b.Name, o.Name)
	set(&b.Primary, o.Primary)
	set(&b.Accent, o.Accent)
	set(&b.SupportEmail, o.SupportEmail)
	set(&b.SupportURL, o.SupportURL)
	set(&b.TermsURL, o.TermsURL)
	set(&b.ImprintURL, o.ImprintURL)
	set(&b.KeyPrefix, o.KeyPrefix)
	if o.Logo != nil {
		b.Logo = o.Logo
	}
	if o.Favicon != nil {
		b.Favicon = o.Favicon
	}
	if o.Stylesheet != nil {
		b.Stylesheet = []byte(*o.Stylesheet)
		if *o.Stylesheet == "" {
			b.Stylesheet = nil
		}
	}
	return b
}

// slot returns where o keeps the setting field: a text, or an image (nil,
// nil for no setting).
func (o *Overrides) slot(field string) (**string, **Image) {
	switch field {
	case FieldName:
		return &o.Name, nil
	case FieldLogo:
		return nil, &o.Logo
	case FieldFavicon:
		return nil, &o.Favicon
	case FieldPrimary:
		return &o.Primary, nil
	case FieldAccent:
		return &o.Accent, nil
	case FieldSupportEmail:
		return &o.SupportEmail, nil
	case FieldSupportURL:
		return &o.SupportURL, nil
	case FieldTermsURL:
		return &o.TermsURL, nil
	case FieldImprintURL:
		return &o.ImprintURL, nil
	case FieldStylesheet:
		return &o.Stylesheet, nil
	case FieldKeyPrefix:
		return &o.KeyPrefix, nil
	}
	return nil, nil
}

// Has reports whether the setting field is stored (overrides the
// configuration).
func (o Overrides) Has(field string) bool {
	text, img := o.slot(field)
	return text != nil && *text != nil || img != nil && *img != nil
}

// Clear forgets the stored setting field: the configured value is used
// again.
func (o *Overrides) Clear(field string) {
	text, img := o.slot(field)
	if text != nil {
		*text = nil
	}
	if img != nil {
		*img = nil
	}
}

// Take sets the setting field of o to from's.
func (o *Overrides) Take(from Overrides, field string) {
	text, img := o.slot(field)
	fromText, fromImg := from.slot(field)
	if text != nil {
		*text = *fromText
	}
	if img != nil {
		*img = *fromImg
	}
}

// Describe says what the setting field holds in words fit for an audit
// log: the text, or for an image or a stylesheet its kind, size and
// digest (never its content); "" when it is not stored, "(none)" for a
// text stored empty.
func (o Overrides) Describe(field string) string {
	text, img := o.slot(field)
	switch {
	case img != nil && *img != nil:
		return (*img).Type + ", " + kib(len((*img).Data)) + ", " + (*img).Version()
	case text == nil || *text == nil:
		return ""
	case **text == "":
		return "(none)"
	case field == FieldStylesheet:
		sum := sha256.Sum256([]byte(**text))
		return "text/css, " + kib(len(**text)) + ", " + hex.EncodeToString(sum[:6])
	}
	return **text
}

func kib(n int) string { return strconv.Itoa((n+1023)/1024) + " KiB" }

// Settings are the brand as an instance administrator sees it: what the
// configuration gives, what is stored, and the brand in force.
type Settings struct {
	Configured Brand
	Stored     Overrides
	Effective  Brand
}

// Live holds the brand in force and lets it change while the service
// runs: every page and email reads it when it is made. Its zero value (or
// nil) holds the default brand.
type Live struct {
	cur atomic.Pointer[snapshot]
}

// snapshot is a brand with what pages derive from it, worked out once per
// change rather than once per page.
type snapshot struct {
	b          Brand
	css        []byte
	cssVersion string
}

// NewLive returns a holder of b.
func NewLive(b Brand) *Live {
	l := &Live{}
	l.Store(b)
	return l
}

// Store puts b in force.
func (l *Live) Store(b Brand) {
	if b.Name == "" {
		b.Name = DefaultName
	}
	css := b.CSS()
	sum := sha256.Sum256(css)
	l.cur.Store(&snapshot{b: b, css: css, cssVersion: hex.EncodeToString(sum[:6])})
}

func (l *Live) load() *snapshot {
	if l == nil {
		return defaultSnapshot
	}
	if s := l.cur.Load(); s != nil {
		return s
	}
	return defaultSnapshot
}

var defaultSnapshot = func() *snapshot {
	var l Live
	l.Store(Default())
	return l.cur.Load()
}()

// Load returns the brand in force. Its images and stylesheet are shared:
// read them, never change them.
func (l *Live) Load() Brand { return l.load().b }

// CSS returns the brand in force's stylesheet (Brand.CSS) and its digest
// (Brand.CSSVersion).
func (l *Live) CSS() ([]byte, string) {
	s := l.load()
	return s.css, s.cssVersion
}
