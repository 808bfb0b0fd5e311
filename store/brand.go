package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/equipe-dev/equipe/brand"
)

// BrandKey says that the stored brand changed: every process reads it
// again. It names no access.
func BrandKey() string { return "b" }

const brandColumns = `name, logo, logo_type, favicon, favicon_type, primary_colour, accent_colour,
	support_email, support_url, terms_url, imprint_url, stylesheet, key_prefix, updated_at`

// BrandSettings returns the brand settings stored for the instance; none
// stored: zero Overrides (the configuration in force throughout).
func (q Queries) BrandSettings(ctx context.Context) (brand.Overrides, error) {
	var o brand.Overrides
	var name, logoType, favType, primary, accent, email, support, terms, imprint, css, prefix sql.NullString
	var logo, fav []byte
	err := q.q.QueryRowContext(ctx, `SELECT `+brandColumns+` FROM brand_settings WHERE one = 1`).Scan(
		&name, &logo, &logoType, &fav, &favType, &primary, &accent, &email, &support, &terms, &imprint, &css, &prefix,
		ts(&o.UpdatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return brand.Overrides{}, nil
	}
	if err != nil {
		return o, wrap(err)
	}
	str := func(v sql.NullString) *string {
		if !v.Valid {
			return nil
		}
		return &v.String
	}
	o.Name, o.Primary, o.Accent = str(name), str(primary), str(accent)
	o.SupportEmail, o.SupportURL, o.TermsURL, o.ImprintURL = str(email), str(support), str(terms), str(imprint)
	o.Stylesheet, o.KeyPrefix = str(css), str(prefix)
	if logo != nil && logoType.Valid {
		o.Logo = &brand.Image{Type: logoType.String, Data: logo}
	}
	if fav != nil && favType.Valid {
		o.Favicon = &brand.Image{Type: favType.String, Data: fav}
	}
	return o, nil
}

// SetBrandSettings stores o as the instance's brand settings (every column:
// a nil setting stores NULL) at at. Every process reads them again once the
// transaction commits (BrandKey).
func (w Writes) SetBrandSettings(ctx context.Context, o brand.Overrides, at time.Time) error {
	w.x.touch(BrandKey())
	str := func(v *string) any {
		if v == nil {
			return nil
		}
		return *v
	}
	img := func(i *brand.Image) (data, typ any) {
		if i == nil {
			return nil, nil
		}
		return i.Data, i.Type
	}
	logo, logoType := img(o.Logo)
	fav, favType := img(o.Favicon)
	_, err := w.exec(ctx, `INSERT INTO brand_settings (one, `+brandColumns+`)
		VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (one) DO UPDATE SET name = $1, logo = $2, logo_type = $3, favicon = $4, favicon_type = $5,
			primary_colour = $6, accent_colour = $7, support_email = $8, support_url = $9, terms_url = $10,
			imprint_url = $11, stylesheet = $12, key_prefix = $13, updated_at = $14`,
		str(o.Name), logo, logoType, fav, favType, str(o.Primary), str(o.Accent), str(o.SupportEmail), str(o.SupportURL),
		str(o.TermsURL), str(o.ImprintURL), str(o.Stylesheet), str(o.KeyPrefix), micros(at))
	return err
}
