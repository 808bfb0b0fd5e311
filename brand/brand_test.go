package brand

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"math"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
)

func TestContrast_MatchesWCAGFigures(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#ffffff", "#ffffff", 1},
		{"#767676", "#ffffff", 4.54},
		{"#777777", "#ffffff", 4.48},
		{"#ff0000", "#ffffff", 4.00},
		{"#0000ff", "#ffffff", 8.59},
		{"#ffffff", "#0000ff", 8.59},
	} {
		a, _ := ParseColour(c.a)
		b, _ := ParseColour(c.b)
		if got := Contrast(a, b); math.Abs(got-c.want) > 0.005 {
			t.Errorf("Contrast(%s, %s) = %.3f, want %.2f", c.a, c.b, got, c.want)
		}
	}
}

func TestCheckColour_RefusesWhatWhiteTextCannotBeReadOn(t *testing.T) {
	for _, c := range []struct {
		in, want, problem string
	}{
		{in: "#2f5bd3", want: "#2f5bd3"},
		{in: "#24459F", want: "#24459f"},
		{in: "#000", want: "#000000"},
		{in: "#767676", want: "#767676"},                    // 4.54:1, just above
		{in: "#777777", problem: "contrast of 4.47:1"},      // 4.48:1 rounded down
		{in: "#a0c4ff", problem: "below the 4.5:1 WCAG AA"}, // a pale primary
		{in: "#ffcc00", problem: "choose a darker colour"},
		{in: "#ffffff", problem: "contrast of 1:1"},
		{in: "blue", problem: "not a colour written #rrggbb"},
		{in: "#12345", problem: "not a colour"},
		{in: "#gggggg", problem: "not a colour"},
		{in: "", problem: "not a colour"},
	} {
		got, err := CheckColour(c.in)
		switch {
		case c.problem == "" && err != nil:
			t.Errorf("CheckColour(%q): %v", c.in, err)
		case c.problem == "" && got != c.want:
			t.Errorf("CheckColour(%q) = %q, want %q", c.in, got, c.want)
		case c.problem != "" && (err == nil || !strings.Contains(err.Error(), c.problem)):
			t.Errorf("CheckColour(%q) = %q, %v; want an error saying %q", c.in, got, err, c.problem)
		}
	}
}

// pngSized is the start of a PNG file of w × h pixels: its signature and
// header, which is what a reader of its size reads.
func pngSized(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32([]byte("IHDR"), w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	b := binary.BigEndian.AppendUint32([]byte("\x89PNG\r\n\x1a\n"), 13)
	b = append(b, ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}

func TestParseImage_TakesSVGAndPNGAndRefusesTheRest(t *testing.T) {
	var real bytes.Buffer
	if err := png.Encode(&real, image.NewRGBA(image.Rect(0, 0, 120, 40))); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		data     []byte
		wantType string
		problem  string
	}{
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1" fill="#123"/></svg>`), "image/svg+xml", ""},
		{"svg with XML declaration", []byte(`<?xml version="1.0"?>` + "\n" + `<svg viewBox="0 0 1 1"></svg>`), "image/svg+xml", ""},
		{"svg naming a font", []byte(`<svg font-family="Montserrat"><text>Acme</text></svg>`), "image/svg+xml", ""},
		{"png", real.Bytes(), "image/png", ""},
		{"a png as large as a logo can be", pngSized(MaxImageSide, MaxImageSide), "image/png", ""},
		// What a browser or a mail client would have to decode to show it:
		// 20,000 × 20,000 pixels are 1.6 GB, however well they compress.
		{"a png too large to show", pngSized(20000, 20000), "", "20000 × 20000 pixels"},
		{"a png too wide", pngSized(MaxImageSide+1, 10), "", "pixels"},
		{"only the signature of a png", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 32)...), "", "neither an SVG nor a PNG"},
		{"empty", nil, "", "empty"},
		{"too large", bytes.Repeat([]byte("<svg>"), MaxImageBytes), "", "KiB allowed"},
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), "", "neither an SVG nor a PNG"},
		{"script", []byte(`<svg><script>alert(1)</script></svg>`), "", "script"},
		{"event attribute", []byte(`<svg onload="alert(1)"></svg>`), "", "event attribute"},
		{"event attribute after a line break", []byte("<svg\n  onclick = 'x'></svg>"), "", "event attribute"},
		{"foreign object", []byte(`<svg><foreignObject></foreignObject></svg>`), "", "foreignobject"},
		{"javascript link", []byte(`<svg><a href="javascript:x()"></a></svg>`), "", "javascript:"},
		{"an old Illustrator file", []byte(`<?xml version="1.0" encoding="iso-8859-1"?>` + "\n" +
			`<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [` + "\n" +
			`  <!ENTITY ns_svg "http://www.w3.org/2000/svg">` + "\n" + `  <!-- a comment -->` + "\n" + `]>` + "\n" +
			`<svg xmlns="&ns_svg;" xmlns:xlink="http://www.w3.org/1999/xlink"><defs><path id="p" d="M0 0h1v1z"/></defs>` +
			`<use xlink:href="#p"/><image href="data:image/png;base64,iVBORw0KGgo="/><style>.a{fill:#123}</style></svg>`),
			"image/svg+xml", ""},
		// What the browser reads as a script, however it is written.
		{"script in a namespace", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><svg:script xmlns:svg="http://www.w3.org/2000/svg">alert(1)</svg:script></svg>`), "", "script"},
		{"javascript link with an entity", []byte(`<svg><a href="javascript&#58;x()"><text>x</text></a></svg>`), "", "javascript:"},
		{"javascript link with spaces", []byte(`<svg><a xlink:href=" JavaScript&#x09;:x()" xmlns:xlink="http://www.w3.org/1999/xlink"></a></svg>`), "", "javascript:"},
		{"javascript link from an entity", []byte(`<!DOCTYPE svg [<!ENTITY j "javascript:x()">]><svg><a href="&j;"></a></svg>`), "", "javascript:"},
		{"an entity holding markup", []byte(`<!DOCTYPE svg [<!ENTITY s "&#60;script&#62;x()&#60;/script&#62;">]><svg>&s;</svg>`), "", "ENTITY"},
		{"an external entity", []byte(`<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg><text>&x;</text></svg>`), "", "ENTITY"},
		{"an event set by an animation", []byte(`<svg><set attributeName="onmouseover" to="alert(1)"/></svg>`), "", "onmouseover"},
		{"a link set by an animation", []byte(`<svg><a><animate attributeName="href" values="javascript:alert(1)"/></a></svg>`), "", "href"},
		{"event attribute in a namespace", []byte(`<svg xmlns:x="http://example.com/x" x:onload="alert(1)"></svg>`), "", "event attribute"},
		{"an image from elsewhere", []byte(`<svg><image href="https://tracker.example/pixel.png"/></svg>`), "", "tracker.example"},
		{"a stylesheet from elsewhere", []byte(`<?xml-stylesheet href="https://x.example/a.css"?><svg></svg>`), "", "xml-stylesheet"},
		{"text that mentions an svg", []byte(`hello <svg`), "", "neither an SVG nor a PNG"},
		{"an html page with an svg", []byte(`<html><body><svg></svg><script>alert(1)</script></body></html>`), "", "neither an SVG nor a PNG"},
		{"two roots", []byte(`<svg></svg><html:script xmlns:html="http://www.w3.org/1999/xhtml">alert(1)</html:script>`), "", "neither an SVG nor a PNG"},
	} {
		img, err := ParseImage(c.data)
		if c.problem == "" {
			if err != nil || img.Type != c.wantType {
				t.Errorf("%s: ParseImage = %+v, %v; want type %s", c.name, img, err, c.wantType)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.problem) {
			t.Errorf("%s: ParseImage error %v, want one saying %q", c.name, err, c.problem)
		}
	}
}

func TestCSS_SetsTheColourVariables(t *testing.T) {
	b := Default()
	b.Primary, b.Accent = "#0b6e4f", "#7a1fa2"
	css := string(b.CSS())
	for _, want := range []string{"--primary: #0b6e4f;", "--accent: #7a1fa2;", "--primary-ink: #ffffff;"} {
		if !strings.Contains(css, want) {
			t.Errorf("CSS lacks %q:\n%s", want, css)
		}
	}
	if b.CSSVersion() == Default().CSSVersion() {
		t.Error("the stylesheet's version does not change with its colours")
	}
}

// TestOnPage_LinksKeepTheirContrastOnTheGreyAroundTheCards: a primary
// colour CheckColour takes keeps 4.5:1 on white but may fall under it on
// the pages' grey, where links are written too (the footer, the tables'
// sort links): links are written in it darkened just enough, and a colour
// that keeps 4.5:1 there is itself. The stylesheet says so.
func TestOnPage_LinksKeepTheirContrastOnTheGreyAroundTheCards(t *testing.T) {
	page, _ := ParseColour(Page)
	white, _ := ParseColour(Ink)
	for _, c := range []struct {
		in      string
		changed bool
	}{
		{"#2f5bd3", false}, // the default: 5.5:1 on the grey
		{"#0b6e4f", false},
		{"#6a6ad5", true}, // 4.53:1 on white, 4.23:1 on the grey
		{"#767676", true}, // 4.54:1 on white
		{"#000000", false},
	} {
		in, err := CheckColour(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		col, _ := ParseColour(in)
		got := OnPage(col)
		if r := Contrast(got, page); r < MinContrast {
			t.Errorf("OnPage(%s) = %s: %.2f:1 on the grey", c.in, got, r)
		}
		if (got != col) != c.changed {
			t.Errorf("OnPage(%s) = %s, changed %v, want %v", c.in, got, got != col, c.changed)
		}
		if c.changed {
			// Just enough: a step less dark falls under.
			lighter := RGB{uint8(min(255, float64(got.R)/0.99)), uint8(min(255, float64(got.G)/0.99)), uint8(min(255, float64(got.B)/0.99))}
			if Contrast(lighter, page) >= MinContrast+0.05 {
				t.Errorf("OnPage(%s) = %s is darker than it needs (%s keeps %.2f:1)", c.in, got, lighter, Contrast(lighter, page))
			}
			if Contrast(got, white) < MinContrast {
				t.Errorf("OnPage(%s) = %s: under 4.5:1 on white", c.in, got)
			}
		}
	}
	b := Default()
	b.Primary = "#6a6ad5"
	if css := string(b.CSS()); !strings.Contains(css, "--primary: #6a6ad5;") || !strings.Contains(css, "--primary-on-bg: "+OnPage(RGB{0x6a, 0x6a, 0xd5}).String()+";") {
		t.Errorf("CSS:\n%s", css)
	}
}

func TestFileName_KeepsLettersAndDigits(t *testing.T) {
	for name, want := range map[string]string{"equipe": "equipe", "Acme Cloud": "acme-cloud", " Über  Team 2 ": "ber-team-2", "日本": "data"} {
		if got := (Brand{Name: name}).FileName(); got != want {
			t.Errorf("%q: %q, want %q", name, got, want)
		}
	}
}

func TestKeyPrefixFor_DerivesAPrefixKeysAccept(t *testing.T) {
	for name, want := range map[string]string{
		"equipe": "equipe_", "Acme Cloud": "acmecloud_", "ACME 2000": "acme2000_",
		"Très Grande Entreprise": "trsgrandeent_", "日本": "key_", "": "key_",
	} {
		got := KeyPrefixFor(name)
		if got != want {
			t.Errorf("KeyPrefixFor(%q) = %q, want %q", name, got, want)
		}
		if err := equipe.CheckKeyPrefix(got); err != nil {
			t.Errorf("KeyPrefixFor(%q): %v", name, err)
		}
	}
}

func TestRealm_QuotesTheName(t *testing.T) {
	for _, c := range []struct{ name, what, want string }{
		{"", "", `Bearer realm="equipe"`},
		{"Acme Cloud", "", `Bearer realm="Acme Cloud"`},
		{"Acme Cloud", "SCIM", `Bearer realm="Acme Cloud SCIM"`},
		{`Acme "Cloud" \o/`, "", `Bearer realm="Acme \"Cloud\" \\o/"`},
	} {
		if got := Realm(c.name, c.what); got != c.want {
			t.Errorf("Realm(%q, %q) = %s, want %s", c.name, c.what, got, c.want)
		}
	}
}
