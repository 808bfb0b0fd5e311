package team

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/brand"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// The instance's brand: the configuration gives it at start, and its
// administrators override any setting on a page or through the API. The
// stored settings win over the configured ones; every process sharing the
// database puts a change in force as soon as it commits (store.BrandKey),
// so that the very next page and email bear it.

// brandState is what the service keeps of the brand: the configured one,
// and the holder every page and email reads.
type brandState struct {
	configured brand.Brand
	live       *brand.Live
	// reload serialises reading the stored settings and putting them in
	// force, so that a read that began before a change never puts back
	// what the change replaced after a later read put the change in force.
	reload sync.Mutex
}

// BrandInput is a change of the brand settings: each nil setting is left
// as it is. A text that is "" (a support address, a link, the stylesheet)
// means none, even where the configuration gives one.
type BrandInput struct {
	Name                                           *string
	Logo, Favicon                                  []byte // an SVG or PNG file; nil: unchanged
	Primary, Accent                                *string
	SupportEmail, SupportURL, TermsURL, ImprintURL *string
	Stylesheet                                     *string
	KeyPrefix                                      *string
	// Reset lists settings (brand.Fields) to restore to their configured
	// value; a setting both given and reset is reset.
	Reset []string
}

// StartBrand puts in live, which pages, emails and keys read, the
// configured brand with the settings stored over it, and keeps it there
// as they change, in this process or in another sharing the database.
// Returns an error if the stored settings cannot be read.
func (s *Service) StartBrand(ctx context.Context, configured brand.Brand, live *brand.Live) error {
	if configured.Name == "" {
		configured = brand.Default()
	}
	if configured.KeyPrefix == "" {
		configured.KeyPrefix = brand.KeyPrefixFor(configured.Name)
	}
	o, err := s.DB.BrandSettings(ctx)
	if err != nil {
		return err
	}
	live.Store(o.Apply(configured))
	s.brand = &brandState{configured: configured, live: live}
	s.DB.OnChange(func(keys []string) {
		if slices.Contains(keys, store.BrandKey()) || slices.Contains(keys, store.AllKey()) {
			s.reloadBrand()
		}
	})
	return nil
}

// reloadBrand reads the stored settings again and puts them in force; on
// failure the brand in force stays.
func (s *Service) reloadBrand() {
	st := s.brand
	st.reload.Lock()
	defer st.reload.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	o, err := s.DB.BrandSettings(ctx)
	if err != nil {
		s.Log.Error("cannot read the stored brand settings; the brand in force stays", "err", err)
		return
	}
	st.live.Store(o.Apply(st.configured))
}

// mayManageBrand is the rule of who sets the brand: an instance
// administrator, an instance key, or the operator.
func mayManageBrand(actor Actor) error {
	if !actor.instance() {
		return forbidden("brand.instance_admin_only", nil)
	}
	return nil
}

// BrandSettings returns the brand as configured, the settings stored over
// it and the brand in force. Returns EFORBIDDEN for anyone but an instance
// administrator, an instance key or the operator.
func (s *Service) BrandSettings(ctx context.Context, actor Actor) (brand.Settings, error) {
	if err := mayManageBrand(actor); err != nil {
		return brand.Settings{}, err
	}
	o, err := s.DB.BrandSettings(ctx)
	if err != nil {
		return brand.Settings{}, err
	}
	configured := s.configuredBrand()
	return brand.Settings{Configured: configured, Stored: o, Effective: o.Apply(configured)}, nil
}

// UpdateBrand stores the settings in, over the configured ones, and
// returns the brand settings after the change; every page and email made
// after it returns bears the new brand. Returns EFORBIDDEN for anyone but
// an instance administrator, an instance key or the operator, and EINVALID
// naming each bad setting (a colour white text cannot be read on, an image
// that is no SVG or PNG or is too large, a bad address or link, a key
// prefix keys cannot start with): then nothing changes. The change is
// recorded as instance.brand_changed.
func (s *Service) UpdateBrand(ctx context.Context, actor Actor, in BrandInput) (brand.Settings, error) {
	if err := mayManageBrand(actor); err != nil {
		return brand.Settings{}, err
	}
	change, err := checkBrandInput(in)
	if err != nil {
		return brand.Settings{}, err
	}
	var after brand.Overrides
	err = s.do(ctx, actor, func(u *work.Unit) error {
		before, err := u.BrandSettings(ctx)
		if err != nil {
			return err
		}
		after = change(before)
		var changed []string
		for _, f := range brand.Fields {
			if before.Describe(f) != after.Describe(f) {
				changed = append(changed, f)
			}
		}
		if len(changed) == 0 {
			return nil
		}
		after.UpdatedAt = u.Now()
		if err := u.SetBrandSettings(ctx, after, u.Now()); err != nil {
			return err
		}
		b, a := brandEventState(before), brandEventState(after)
		a.Changed = changed
		return u.Record(ctx, event.InstanceBrandChanged.New(nil, "brand", &b, &a))
	})
	if err != nil {
		return brand.Settings{}, err
	}
	configured := s.configuredBrand()
	return brand.Settings{Configured: configured, Stored: after, Effective: after.Apply(configured)}, nil
}

// ResetBrandField restores the setting field (one of brand.Fields) to its
// configured value, as UpdateBrand does with Reset.
func (s *Service) ResetBrandField(ctx context.Context, actor Actor, field string) (brand.Settings, error) {
	return s.UpdateBrand(ctx, actor, BrandInput{Reset: []string{field}})
}

// configuredBrand is the brand the configuration gives (the default one
// before StartBrand).
func (s *Service) configuredBrand() brand.Brand {
	if s.brand == nil {
		return brand.Default()
	}
	return s.brand.configured
}

// checkBrandInput checks every setting in gives and returns the change it
// makes to stored settings, or the field errors.
func checkBrandInput(in BrandInput) (func(brand.Overrides) brand.Overrides, error) {
	var v equipe.Invalid
	bad := func(field string, err error) {
		var p *brand.Problem
		if errors.As(err, &p) {
			v.AddArgs(field, p.Key, p.Args)
		} else {
			v.Add(field, "error.invalid")
		}
	}
	var next brand.Overrides
	if in.Name != nil {
		if n, err := brand.CheckName(*in.Name); err != nil {
			bad(brand.FieldName, err)
		} else {
			next.Name = &n
		}
	}
	for _, img := range []struct {
		field string
		data  []byte
		into  **brand.Image
	}{{brand.FieldLogo, in.Logo, &next.Logo}, {brand.FieldFavicon, in.Favicon, &next.Favicon}} {
		if img.data == nil {
			continue
		}
		i, err := brand.ParseImage(img.data)
		if err != nil {
			bad(img.field, err)
			continue
		}
		*img.into = i
	}
	for _, c := range []struct {
		field string
		value *string
		into  **string
	}{{brand.FieldPrimary, in.Primary, &next.Primary}, {brand.FieldAccent, in.Accent, &next.Accent}} {
		if c.value == nil {
			continue
		}
		colour, err := brand.CheckColour(*c.value)
		if err != nil {
			bad(c.field, err)
			continue
		}
		*c.into = &colour
	}
	if in.SupportEmail != nil {
		a := ""
		var err error
		if *in.SupportEmail != "" {
			a, err = brand.CheckSupportEmail(*in.SupportEmail)
		}
		if err != nil {
			bad(brand.FieldSupportEmail, err)
		} else {
			next.SupportEmail = &a
		}
	}
	for _, l := range []struct {
		field string
		value *string
		into  **string
	}{{brand.FieldSupportURL, in.SupportURL, &next.SupportURL}, {brand.FieldTermsURL, in.TermsURL, &next.TermsURL},
		{brand.FieldImprintURL, in.ImprintURL, &next.ImprintURL}} {
		if l.value == nil {
			continue
		}
		u := ""
		var err error
		if *l.value != "" {
			u, err = brand.CheckURL(*l.value)
		}
		if err != nil {
			bad(l.field, err)
			continue
		}
		*l.into = &u
	}
	if in.Stylesheet != nil {
		if err := brand.CheckStylesheet([]byte(*in.Stylesheet)); err != nil {
			bad(brand.FieldStylesheet, err)
		} else {
			css := *in.Stylesheet
			next.Stylesheet = &css
		}
	}
	if in.KeyPrefix != nil {
		if err := brand.CheckKeyPrefix(*in.KeyPrefix); err != nil {
			bad(brand.FieldKeyPrefix, err)
		} else {
			p := *in.KeyPrefix
			next.KeyPrefix = &p
		}
	}
	for _, f := range in.Reset {
		if !slices.Contains(brand.Fields, f) {
			v.AddArgs("reset", "brand.field_unknown", map[string]any{"field": f})
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return func(o brand.Overrides) brand.Overrides {
		for _, f := range brand.Fields {
			if next.Has(f) {
				o.Take(next, f)
			}
		}
		for _, f := range in.Reset {
			o.Clear(f)
		}
		return o
	}, nil
}

// brandEventState is the stored settings as the audit log records them.
func brandEventState(o brand.Overrides) event.Brand {
	return event.Brand{Name: o.Describe(brand.FieldName), Logo: o.Describe(brand.FieldLogo),
		Favicon: o.Describe(brand.FieldFavicon), Primary: o.Describe(brand.FieldPrimary), Accent: o.Describe(brand.FieldAccent),
		SupportEmail: o.Describe(brand.FieldSupportEmail), SupportURL: o.Describe(brand.FieldSupportURL),
		TermsURL: o.Describe(brand.FieldTermsURL), ImprintURL: o.Describe(brand.FieldImprintURL),
		Stylesheet: o.Describe(brand.FieldStylesheet), KeyPrefix: o.Describe(brand.FieldKeyPrefix)}
}
