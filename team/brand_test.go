package team_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"slices"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/brand"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/team"
)

// acmeConfigured is the brand a vendor configured at start.
func acmeConfigured() brand.Brand {
	b := brand.Default()
	b.Name, b.Primary, b.SupportURL, b.KeyPrefix = "Acme Cloud", "#0b6e4f", "https://help.acme.example/", "acme_"
	return b
}

// startBrand puts the configured Acme brand in force on the bench's
// service, and returns its holder.
func (b *bench) startBrand(t *testing.T) *brand.Live {
	t.Helper()
	live := brand.NewLive(brand.Default())
	if err := b.st.Team.StartBrand(ctx, acmeConfigured(), live); err != nil {
		t.Fatal(err)
	}
	return live
}

func str(s string) *string { return &s }

// onePixel is a PNG file of one pixel.
const onePixel = "\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0b\x49\x44\x41\x54\x78\x9c\x63\x60\x00\x02\x00\x00\x05\x00\x01\x7a\x5e\xab\x3f\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82"

// pngHeader is the start of a PNG file of w × h pixels: its signature and
// header, all a reader of its size reads.
func pngHeader(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32([]byte("IHDR"), w)
	ihdr = append(binary.BigEndian.AppendUint32(ihdr, h), 8, 6, 0, 0, 0)
	b := append(binary.BigEndian.AppendUint32([]byte("\x89PNG\r\n\x1a\n"), 13), ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}

// pngImage is a PNG file of one pixel padded to n bytes.
func pngImage(n int) []byte {
	return append([]byte(onePixel), make([]byte, max(0, n-len(onePixel)))...)
}

func TestUpdateBrand_OnlyTheInstanceSetsItAndItIsInForceAtOnce(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		live := b.startBrand(t)
		if got := live.Load(); got.Name != "Acme Cloud" || got.Primary != "#0b6e4f" {
			t.Fatalf("in force at start: %+v", got)
		}
		s := b.scene(t)
		member := s.joined("Ana", "collaborator")
		for _, by := range []struct {
			name  string
			actor team.Actor
		}{{"an account's administrator", s.admin()}, {"a member", team.Actor{User: member}}, {"no one", team.Actor{}}} {
			_, err := b.st.Team.UpdateBrand(ctx, by.actor, team.BrandInput{Name: str("Stolen")})
			if equipe.AsError(err).Code != equipe.EFORBIDDEN {
				t.Errorf("%s changes the brand: %v", by.name, err)
			}
			if _, err := b.st.Team.BrandSettings(ctx, by.actor); equipe.AsError(err).Code != equipe.EFORBIDDEN {
				t.Errorf("%s reads the brand settings: %v", by.name, err)
			}
		}
		if got := live.Load().Name; got != "Acme Cloud" {
			t.Fatalf("after refusals the name is %q", got)
		}
		var rows int
		if err := b.raw.QueryRow(`SELECT count(*) FROM brand_settings`).Scan(&rows); err != nil || rows != 0 {
			t.Fatalf("refusals stored %d rows (%v)", rows, err)
		}

		logo := []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>`)
		got, err := b.st.Team.UpdateBrand(ctx, b.instance, team.BrandInput{Name: str("  Bright Apps "), Primary: str("#7A1FA2"),
			Logo: logo, TermsURL: str("https://bright.example/terms"), SupportURL: str("")})
		if err != nil {
			t.Fatal(err)
		}
		// In force before UpdateBrand returns: the very next page or
		// email reads it.
		now := live.Load()
		if now.Name != "Bright Apps" || now.Primary != "#7a1fa2" || now.Logo == nil || !bytes.Equal(now.Logo.Data, logo) ||
			now.TermsURL != "https://bright.example/terms" || now.SupportURL != "" || now.KeyPrefix != "acme_" {
			t.Errorf("in force after the change: %+v", now)
		}
		if got.Effective.Name != now.Name || got.Configured.Name != "Acme Cloud" {
			t.Errorf("settings returned: %+v", got)
		}
		for _, f := range []string{brand.FieldName, brand.FieldPrimary, brand.FieldLogo, brand.FieldTermsURL, brand.FieldSupportURL} {
			if !got.Stored.Has(f) {
				t.Errorf("%s is not stored", f)
			}
		}
		if got.Stored.Has(brand.FieldAccent) || got.Stored.Has(brand.FieldKeyPrefix) {
			t.Error("a setting not given is stored")
		}
		read, err := b.st.Team.BrandSettings(ctx, b.instance)
		if err != nil || read.Effective.Name != "Bright Apps" || read.Stored.Logo == nil || read.Stored.UpdatedAt.IsZero() {
			t.Fatalf("read back: %+v, %v", read, err)
		}

		es := b.about(t, "brand")
		if len(es) != 1 || es[0].Type != event.InstanceBrandChanged.Type || es[0].Account != nil ||
			es[0].Subject != (event.Subject{Kind: event.SubjectInstance, ID: "brand"}) {
			t.Fatalf("events %v", eventTypes(es))
		}
		after := es[0].After.(event.Brand)
		if want := []string{"name", "logo", "primary", "support_url", "terms_url"}; !slices.Equal(after.Changed, want) {
			t.Errorf("changed %v, want %v", after.Changed, want)
		}
		if after.Name != "Bright Apps" || !strings.HasPrefix(after.Logo, "image/svg+xml, 1 KiB, ") || strings.Contains(after.Logo, "<svg") ||
			after.SupportURL != "(none)" {
			t.Errorf("recorded %+v", after)
		}

		// An instance key sets it too; the same values again change
		// nothing and record nothing.
		key := b.instanceKey(t)
		if _, err := b.st.Team.UpdateBrand(ctx, key, team.BrandInput{Accent: str("#24459f")}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.st.Team.UpdateBrand(ctx, key, team.BrandInput{Accent: str("#24459F"), Name: str("Bright Apps")}); err != nil {
			t.Fatal(err)
		}
		if es := b.about(t, "brand"); len(es) != 2 {
			t.Errorf("%d events, want 2 (the same values change nothing)", len(es))
		}
	})
}

func TestUpdateBrand_EachBadSettingIsRefusedByNameAndNothingChanges(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		live := b.startBrand(t)
		if _, err := b.st.Team.UpdateBrand(ctx, b.instance, team.BrandInput{Name: str("Bright"), Accent: str("#7a1fa2")}); err != nil {
			t.Fatal(err)
		}
		before, _ := b.st.Team.BrandSettings(ctx, b.instance)
		events := len(b.about(t, "brand"))
		for _, c := range []struct {
			name  string
			in    team.BrandInput
			field string
			key   string
		}{
			{"a pale primary colour", team.BrandInput{Primary: str("#a0c4ff")}, "primary", "brand.contrast_low"},
			{"a pale accent colour", team.BrandInput{Accent: str("#ffcc00")}, "accent", "brand.contrast_low"},
			{"a colour in words", team.BrandInput{Primary: str("blue")}, "primary", "brand.colour_invalid"},
			{"an empty name", team.BrandInput{Name: str("  ")}, "name", "brand.name_invalid"},
			{"a name of two lines", team.BrandInput{Name: str("Acme\nCloud")}, "name", "brand.name_invalid"},
			{"a logo that is no image", team.BrandInput{Logo: []byte("GIF89a…")}, "logo", "brand.image_kind"},
			{"a logo too large", team.BrandInput{Logo: pngImage(brand.MaxImageBytes + 1)}, "logo", "brand.image_too_big"},
			{"a logo of too many pixels", team.BrandInput{Logo: pngHeader(20000, 20000)}, "logo", "brand.image_dimensions"},
			{"a logo that only starts as a PNG", team.BrandInput{Logo: []byte("\x89PNG\r\n\x1a\n not one")}, "logo", "brand.image_kind"},
			{"an empty favicon", team.BrandInput{Favicon: []byte{}}, "favicon", "brand.image_empty"},
			{"a favicon with a script", team.BrandInput{Favicon: []byte(`<svg><script>alert(1)</script></svg>`)}, "favicon", "brand.image_unsafe"},
			{"a logo with a script in a namespace", team.BrandInput{Logo: []byte(`<svg xmlns:s="http://www.w3.org/2000/svg"><s:script>alert(1)</s:script></svg>`)}, "logo", "brand.image_unsafe"},
			{"a logo that loads an image from elsewhere", team.BrandInput{Logo: []byte(`<svg><image href="https://tracker.example/p.png"/></svg>`)}, "logo", "brand.image_external"},
			{"a support address that is none", team.BrandInput{SupportEmail: str("help at acme")}, "support_email", "brand.email_invalid"},
			{"a support page that is no web address", team.BrandInput{SupportURL: str("ftp://acme.example/")}, "support_url", "brand.url_invalid"},
			{"a relative terms link", team.BrandInput{TermsURL: str("/terms")}, "terms_url", "brand.url_invalid"},
			{"an imprint with credentials", team.BrandInput{ImprintURL: str("https://u:p@acme.example/")}, "imprint_url", "brand.url_invalid"},
			{"a stylesheet too large", team.BrandInput{Stylesheet: str(strings.Repeat("a", brand.MaxStylesheetBytes+1))}, "stylesheet", "brand.stylesheet_too_big"},
			{"a key prefix in capitals", team.BrandInput{KeyPrefix: str("ACME_")}, "key_prefix", "brand.key_prefix_invalid"},
			{"a reset of no setting", team.BrandInput{Reset: []string{"colour"}}, "reset", "brand.field_unknown"},
			{"a good name beside a bad colour", team.BrandInput{Name: str("Fine"), Primary: str("#eeeeee")}, "primary", "brand.contrast_low"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := b.st.Team.UpdateBrand(ctx, b.instance, c.in)
				e := equipe.AsError(err)
				if e.Code != equipe.EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != c.field || e.Fields[0].Key != c.key {
					t.Fatalf("got %v (%+v), want %s refused with %s", err, e.Fields, c.field, c.key)
				}
				after, _ := b.st.Team.BrandSettings(ctx, b.instance)
				for _, f := range brand.Fields {
					if after.Stored.Describe(f) != before.Stored.Describe(f) {
						t.Errorf("%s changed: %q → %q", f, before.Stored.Describe(f), after.Stored.Describe(f))
					}
				}
				if got := live.Load(); got.Name != "Bright" || got.Accent != "#7a1fa2" || got.Primary != "#0b6e4f" {
					t.Errorf("in force: %+v", got)
				}
				if n := len(b.about(t, "brand")); n != events {
					t.Errorf("%d events, want %d", n, events)
				}
			})
		}
		// The contrast's message is the configuration's, with its figures.
		_, err := b.st.Team.UpdateBrand(ctx, b.instance, team.BrandInput{Primary: str("#a0c4ff")})
		if args := equipe.AsError(err).Fields[0].Args; args["ratio"] != 1.77 || args["colour"] != "#a0c4ff" {
			t.Errorf("contrast arguments %v", args)
		}
	})
}

func TestResetBrandField_RestoresTheConfiguredValue(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		live := b.startBrand(t)
		if _, err := b.st.Team.UpdateBrand(ctx, b.instance, team.BrandInput{Name: str("Bright"), Primary: str("#7a1fa2"),
			Favicon: pngImage(100), SupportURL: str(""), KeyPrefix: str("bright_")}); err != nil {
			t.Fatal(err)
		}
		got, err := b.st.Team.ResetBrandField(ctx, b.instance, "primary")
		if err != nil {
			t.Fatal(err)
		}
		if got.Stored.Has("primary") || got.Effective.Primary != "#0b6e4f" || live.Load().Primary != "#0b6e4f" {
			t.Errorf("primary after its reset: stored %v, in force %s", got.Stored.Has("primary"), live.Load().Primary)
		}
		if live.Load().Name != "Bright" || live.Load().Favicon == nil || live.Load().KeyPrefix != "bright_" {
			t.Errorf("the other settings moved: %+v", live.Load())
		}
		got, err = b.st.Team.UpdateBrand(ctx, b.instance, team.BrandInput{Reset: []string{"support_url", "favicon", "key_prefix", "name"}})
		if err != nil {
			t.Fatal(err)
		}
		now := live.Load()
		if now.SupportURL != "https://help.acme.example/" || now.Favicon != nil || now.KeyPrefix != "acme_" || now.Name != "Acme Cloud" {
			t.Errorf("in force after the resets: %+v", now)
		}
		for _, f := range brand.Fields {
			if got.Stored.Has(f) {
				t.Errorf("%s still stored", f)
			}
		}
		es := b.about(t, "brand")
		if len(es) != 3 {
			t.Fatalf("%d events, want 3", len(es))
		}
		last := es[2]
		if want := []string{"name", "favicon", "support_url", "key_prefix"}; !slices.Equal(last.After.(event.Brand).Changed, want) {
			t.Errorf("changed %v, want %v", last.After.(event.Brand).Changed, want)
		}
		if before := last.Before.(event.Brand); before.KeyPrefix != "bright_" || before.Name != "Bright" {
			t.Errorf("before %+v", before)
		}
		if _, err := b.st.Team.ResetBrandField(ctx, b.instance, "nothing"); equipe.AsError(err).Code != equipe.EINVALID {
			t.Errorf("reset of no setting: %v", err)
		}
	})
}
