// Package i18n holds the French and English message catalogues shared by the
// web UI, the JSON API and the emails' surroundings, and picks a reader's
// language. Messages are looked up by stable keys (for example
// "email.invalid"); the API returns the same keys as error codes.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/text/language"

	"github.com/equipe-dev/equipe"
)

//go:embed messages
var files embed.FS

// Catalog holds the messages of every supported locale.
type Catalog struct {
	messages map[string]map[string]string
}

// Load reads the embedded catalogues. Every key must exist in every locale.
func Load() (*Catalog, error) {
	c := &Catalog{messages: map[string]map[string]string{}}
	for _, l := range equipe.Locales {
		b, err := files.ReadFile("messages/" + l + ".json")
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("i18n: %s.json: %w", l, err)
		}
		c.messages[l] = m
	}
	if missing := c.Missing(); len(missing) > 0 {
		return nil, fmt.Errorf("i18n: keys missing from a locale: %s", strings.Join(missing, ", "))
	}
	return c, nil
}

// MustLoad is Load for package-level use; the catalogues are embedded, so a
// failure is a build defect.
func MustLoad() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// Missing returns "locale:key" for each key that one locale has and another lacks.
func (c *Catalog) Missing() []string {
	var out []string
	for _, l := range equipe.Locales {
		for _, other := range equipe.Locales {
			for k := range c.messages[other] {
				if _, ok := c.messages[l][k]; !ok {
					out = append(out, l+":"+k)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// Has reports whether key exists.
func (c *Catalog) Has(key string) bool {
	_, ok := c.messages[equipe.LocaleFR][key]
	return ok
}

// T returns the message key in locale, with {name} placeholders replaced by
// args. An unknown locale falls back to French; an unknown key returns the
// key itself, so that a missing message shows as such rather than as nothing.
func (c *Catalog) T(locale, key string, args map[string]any) string {
	m, ok := c.messages[locale]
	if !ok {
		m = c.messages[equipe.LocaleFR]
	}
	s, ok := m[key]
	if !ok {
		return key
	}
	if len(args) == 0 || !strings.Contains(s, "{") {
		return s
	}
	pairs := make([]string, 0, 2*len(args))
	for k, v := range args {
		pairs = append(pairs, "{"+k+"}", fmt.Sprint(v))
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

var matcher = language.NewMatcher([]language.Tag{language.French, language.English})

// Negotiate returns the supported locale that best fits an Accept-Language
// header, French when nothing fits.
func Negotiate(acceptLanguage string) string {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return equipe.LocaleFR
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return equipe.LocaleFR
	}
	return equipe.Locales[i]
}
