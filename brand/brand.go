package brand

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image/png"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// DefaultName is the product's name when the vendor gives none.
const DefaultName = "equipe"

// Default colours: the ones the stylesheet was designed with.
const (
	DefaultPrimary = "#2f5bd3"
	DefaultAccent  = "#24459f"
)

// MaxImageBytes is the largest logo or favicon accepted: they are kept in
// memory and sent with every first page view.
const MaxImageBytes = 256 << 10

// MaxImageSide is the most pixels a PNG logo or favicon may have on a
// side. Every page and email makes the browser or mail client decode the
// image whole: a few hundred KiB of PNG may hold gigabytes of pixels.
const MaxImageSide = 4096

// MinContrast is the contrast WCAG 2 level AA asks of normal text.
const MinContrast = 4.5

// Ink is the colour of text on the primary and accent colours (buttons,
// badges), and of the card those colours are written on as links.
const Ink = "#ffffff"

// Page is the pages' background outside their white cards (style.css's
// --bg), on which links are written too: the footer, the tables' headers
// (their sort links), the filter bars.
const Page = "#f6f7fa"

// Brand is the instance's look. The zero value is not usable: start from
// Default.
type Brand struct {
	// Name is the product's name, in every page title, header and email.
	Name string
	// Logo replaces the name in the pages' header (the name stays its
	// text alternative); nil: the name is written.
	Logo *Image
	// Favicon replaces the built-in icon; nil: the built-in one.
	Favicon *Image
	// Primary colours buttons and links; Accent the marks of what is
	// current or needs attention (focus ring, current tab, banners). Both
	// are #rrggbb and carry white text at 4.5:1 or more.
	Primary, Accent string
	// SupportEmail and SupportURL tell customers where to get help; each
	// may be empty.
	SupportEmail, SupportURL string
	// TermsURL and ImprintURL are the vendor's legal pages, linked from
	// every page's footer and every email; each may be empty. The privacy
	// policy is the instance's own setting.
	TermsURL, ImprintURL string
	// Stylesheet is the vendor's own CSS, served after the pages' own
	// stylesheet and the colours; nil: none.
	Stylesheet []byte
	// KeyPrefix starts the secrets of the API keys made from now on
	// ("acme_"): 1 to 15 lowercase letters or digits and "_"; empty: the
	// one KeyPrefixFor derives from Name. Keys made under an earlier
	// prefix stay valid.
	KeyPrefix string
}

// Default returns the brand of an instance the vendor left as it is.
func Default() Brand {
	return Brand{Name: DefaultName, Primary: DefaultPrimary, Accent: DefaultAccent, KeyPrefix: DefaultName + "_"}
}

// KeyPrefixFor is the API keys' prefix of a product named name: its ASCII
// letters and digits in lower case, the first 12 of them, and "_" ("Acme
// Cloud" gives "acmecloud_", the default name "equipe_"); "key_" when the
// name has none.
func KeyPrefixFor(name string) string {
	out := make([]byte, 0, 13)
	for _, r := range strings.ToLower(name) {
		if len(out) == 12 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			out = append(out, byte(r))
		}
	}
	if len(out) == 0 {
		return "key_"
	}
	return string(append(out, '_'))
}

// Realm is the WWW-Authenticate challenge of the product named name,
// followed by what, if any ("SCIM"): Bearer realm="Acme Cloud". Programs
// do not parse the realm; people read it.
func Realm(name, what string) string {
	if name == "" {
		name = DefaultName
	}
	if what != "" {
		name += " " + what
	}
	return `Bearer realm="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
}

// Image is a logo or favicon: its content and media type (image/svg+xml or
// image/png).
type Image struct {
	Type string
	Data []byte
}

// Version is a short digest of the image, put in its URL so that a new
// image is fetched at once while the old one may be cached for long.
func (i *Image) Version() string {
	sum := sha256.Sum256(i.Data)
	return hex.EncodeToString(sum[:6])
}

// ParseImage checks a logo or favicon: an SVG or PNG file (by content, not
// name) of at most MaxImageBytes. An SVG that could run or load anything
// (a script, an event attribute, a foreign object, a link elsewhere: see
// checkSVG) is refused: the file is served from the instance's own origin,
// where it must not be able to run anything.
func ParseImage(data []byte) (*Image, error) {
	switch {
	case len(data) == 0:
		return nil, problem("brand.image_empty", nil, "the file is empty")
	case len(data) > MaxImageBytes:
		size, limit := (len(data)+1023)/1024, MaxImageBytes>>10
		return nil, problem("brand.image_too_big", map[string]any{"size": size, "max": limit},
			"the file is %d KiB, more than the %d KiB allowed", size, limit)
	}
	if http.DetectContentType(data) == "image/png" {
		if err := checkPNG(data); err != nil {
			return nil, err
		}
		return &Image{Type: "image/png", Data: data}, nil
	}
	if err := checkSVG(data); err != nil {
		return nil, err
	}
	return &Image{Type: "image/svg+xml", Data: data}, nil
}

// checkPNG refuses a file that only starts as a PNG does, and one larger
// than MaxImageSide on a side.
func checkPNG(data []byte) error {
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return problem("brand.image_kind", nil, "the file is neither an SVG nor a PNG image")
	}
	if cfg.Width > MaxImageSide || cfg.Height > MaxImageSide {
		return problem("brand.image_dimensions", map[string]any{"width": cfg.Width, "height": cfg.Height, "max": MaxImageSide},
			"the image is %d × %d pixels, more than the %d allowed on a side", cfg.Width, cfg.Height, MaxImageSide)
	}
	return nil
}

// RGB is a colour in the sRGB space, 0–255 a channel.
type RGB struct{ R, G, B uint8 }

// ParseColour reads a colour written #rrggbb or #rgb.
func ParseColour(s string) (RGB, error) {
	h, ok := strings.CutPrefix(strings.TrimSpace(s), "#")
	if ok && len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if !ok || len(h) != 6 || err != nil {
		return RGB{}, problem("brand.colour_invalid", map[string]any{"value": s},
			"%q is not a colour written #rrggbb (for example #2f5bd3)", s)
	}
	return RGB{uint8(v >> 16), uint8(v >> 8), uint8(v)}, nil
}

// String writes the colour #rrggbb.
func (c RGB) String() string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// Luminance is the colour's relative luminance as WCAG 2 defines it: each
// channel linearised from sRGB, then weighted by how bright the eye sees
// it.
func (c RGB) Luminance() float64 {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
}

// Contrast is the WCAG 2 contrast ratio of two colours, from 1 (none) to 21
// (black on white); the order does not matter.
func Contrast(a, b RGB) float64 {
	la, lb := a.Luminance(), b.Luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// CheckColour reads a brand colour and refuses it when text in Ink on it
// (or it as text on an Ink background) falls below MinContrast. It returns
// the colour written #rrggbb.
func CheckColour(s string) (string, error) {
	c, err := ParseColour(s)
	if err != nil {
		return "", err
	}
	ink, _ := ParseColour(Ink)
	// The ratio is rounded down to one decimal in the message, so that a
	// refused 4.48 never reads "4.5".
	if r := Contrast(c, ink); r < MinContrast {
		ratio := math.Floor(r*100) / 100
		return "", problem("brand.contrast_low", map[string]any{"colour": c.String(), "ratio": ratio, "min": MinContrast},
			"white text on %s has a contrast of %v:1, below the %v:1 WCAG AA asks for: choose a darker colour", c, ratio, MinContrast)
	}
	return c.String(), nil
}

// OnPage is the colour as links are written in it: itself when text in it
// keeps MinContrast on Page as on white, else darkened (each channel by the
// same ratio, in steps of 1 %) just enough to keep it there. A colour
// CheckColour takes keeps 4.5:1 on white, not always on the grey around the
// cards (a colour at 4.5:1 on white is at 4.2:1 on Page).
func OnPage(c RGB) RGB {
	page, _ := ParseColour(Page)
	for p := 100; p >= 0; p-- {
		f := float64(p) / 100
		d := RGB{uint8(float64(c.R) * f), uint8(float64(c.G) * f), uint8(float64(c.B) * f)}
		if Contrast(d, page) >= MinContrast {
			return d
		}
	}
	return RGB{}
}

// CSS is the stylesheet that sets the brand's colours as the variables the
// pages' stylesheet uses, followed by the vendor's own stylesheet.
// --primary-on-bg is the primary colour as links are written in it
// (OnPage).
func (b Brand) CSS() []byte {
	link := b.Primary
	if c, err := ParseColour(b.Primary); err == nil {
		link = OnPage(c).String()
	}
	css := fmt.Appendf(nil, ":root {\n  --primary: %s;\n  --primary-on-bg: %s;\n  --primary-ink: %s;\n  --accent: %s;\n  --accent-ink: %s;\n}\n",
		b.Primary, link, Ink, b.Accent, Ink)
	return append(css, b.Stylesheet...)
}

// CSSVersion is a short digest of CSS, for its URL.
func (b Brand) CSSVersion() string {
	sum := sha256.Sum256(b.CSS())
	return hex.EncodeToString(sum[:6])
}

// Custom reports whether the vendor renamed the product.
func (b Brand) Custom() bool { return b.Name != DefaultName }

// FileName is the brand's name as the start of a downloaded file's name:
// ASCII letters and digits in lower case, anything else one hyphen
// ("Acme Cloud" gives "acme-cloud"); "data" when nothing is left.
func (b Brand) FileName() string {
	var out []byte
	for _, r := range strings.ToLower(b.Name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			out = append(out, byte(r))
		case len(out) > 0 && out[len(out)-1] != '-':
			out = append(out, '-')
		}
	}
	if s := strings.TrimSuffix(string(out), "-"); s != "" {
		return s
	}
	return "data"
}
