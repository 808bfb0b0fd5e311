package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/brand"
)

//go:embed messages
var files embed.FS

// Catalog holds the messages of every supported locale.
type Catalog struct {
	// Product is the product's name that fills the {product} placeholder
	// of every message: the vendor's brand (Load sets brand.DefaultName).
	Product string
	// Brand, when set, gives the product's name instead: the brand in
	// force, which an administrator may change while the service runs.
	Brand *brand.Live

	messages map[string]map[string]string
}

// Load reads the embedded catalogues. Every key must exist in every locale.
func Load() (*Catalog, error) {
	c := &Catalog{Product: brand.DefaultName, messages: map[string]map[string]string{}}
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

// Wait says how long to wait, d, in whole minutes rounded up, or in
// seconds (at least one) under a minute: "5 minutes", "1 seconde".
func (c *Catalog) Wait(locale string, d time.Duration) string {
	if d < time.Minute {
		return c.T(locale, "error.seconds", map[string]any{"n": max(1, int(d.Seconds()+0.5))})
	}
	return c.T(locale, "error.minutes", map[string]any{"n": int((d + time.Minute - 1) / time.Minute)})
}

// T returns the message key in locale, with {name} placeholders replaced by
// args. An unknown locale falls back to French; an unknown key returns the
// key itself, so that a missing message shows as such rather than as nothing.
//
// A message whose count (the argument "count") is singular in locale is
// read from key#one when the catalogue has it: "1 member holds", "0 membre
// a". In French, "de" before a value that begins with a vowel is elided:
// "Autorisations de {name}" gives "Autorisations d'Alice".
func (c *Catalog) T(locale, key string, args map[string]any) string {
	m, ok := c.messages[locale]
	if !ok {
		locale = equipe.LocaleFR
		m = c.messages[locale]
	}
	if one, ok := m[key+"#one"]; ok && singular(locale, args["count"]) {
		return fill(locale, one, c.withProduct(one, args))
	}
	s, ok := m[key]
	if !ok {
		return key
	}
	return fill(locale, s, c.withProduct(s, args))
}

// withProduct adds the product's name to args when s names it and args
// does not already.
func (c *Catalog) withProduct(s string, args map[string]any) map[string]any {
	if !strings.Contains(s, "{product}") {
		return args
	}
	product := c.ProductName()
	if product == "" {
		return args
	}
	if _, ok := args["product"]; ok {
		return args
	}
	out := make(map[string]any, len(args)+1)
	for k, v := range args {
		out[k] = v
	}
	out["product"] = product
	return out
}

// ProductName is the product's name: the brand in force's (Brand), else
// Product.
func (c *Catalog) ProductName() string {
	if c.Brand != nil {
		return c.Brand.Load().Name
	}
	return c.Product
}

// fill replaces the {name} placeholders of s by args, eliding French "de"
// before a value that begins with a vowel.
func fill(locale, s string, args map[string]any) string {
	if len(args) == 0 || !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		v, ok := args[s[i+1:i+j]]
		if !ok {
			b.WriteString(s[:i+j+1])
			s = s[i+j+1:]
			continue
		}
		before, value := s[:i], format(locale, v)
		if locale == equipe.LocaleFR && elides(value) {
			before = elideDe(before)
		}
		b.WriteString(before)
		b.WriteString(value)
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return b.String()
}

// format writes a value as people of locale read it: a decimal number
// with a comma in French (« 4,5:1 »), a point in English.
func format(locale string, v any) string {
	f, ok := v.(float64)
	if !ok {
		return fmt.Sprint(v)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if locale == equipe.LocaleFR {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// elideDe turns a text that ends with the word "de " into one that ends
// with "d'", the form French takes before a vowel.
func elideDe(s string) string {
	for _, de := range []string{"de ", "De "} {
		rest, ok := strings.CutSuffix(s, de)
		if !ok {
			continue
		}
		if last, _ := utf8.DecodeLastRuneInString(rest); rest == "" || unicode.IsSpace(last) || unicode.IsPunct(last) {
			return rest + de[:1] + "'"
		}
	}
	return s
}

// elides reports whether a French word elides before s: s begins with a
// vowel, or with a y before a consonant (d'Yves, but de Yasmine). A mute h
// (d'Hélène) cannot be told from an aspirated one (de Hugues) by spelling:
// it keeps "de".
func elides(s string) bool {
	r, size := utf8.DecodeRuneInString(s)
	switch unicode.ToLower(baseLetter(r)) {
	case 'a', 'e', 'i', 'o', 'u':
		return true
	case 'y':
		next, _ := utf8.DecodeRuneInString(s[size:])
		return unicode.IsLetter(next) && !strings.ContainsRune("aeiouy", unicode.ToLower(baseLetter(next)))
	}
	return false
}

// baseLetter returns the letter r writes with an accent (é → e), or r.
func baseLetter(r rune) rune {
	if b, ok := accented[r]; ok {
		return b
	}
	return r
}

var accented = map[rune]rune{
	'à': 'a', 'â': 'a', 'ä': 'a', 'À': 'a', 'Â': 'a', 'Ä': 'a',
	'é': 'e', 'è': 'e', 'ê': 'e', 'ë': 'e', 'É': 'e', 'È': 'e', 'Ê': 'e', 'Ë': 'e',
	'î': 'i', 'ï': 'i', 'Î': 'i', 'Ï': 'i',
	'ô': 'o', 'ö': 'o', 'Ô': 'o', 'Ö': 'o',
	'ù': 'u', 'û': 'u', 'ü': 'u', 'Ù': 'u', 'Û': 'u', 'Ü': 'u',
	'ÿ': 'y', 'Ÿ': 'y',
}

// singular reports whether the count n takes the singular in locale: in
// French, 0 and 1 do (« 0 membre »); in English, 1 only.
func singular(locale string, n any) bool {
	var i int64
	switch v := n.(type) {
	case int:
		i = int64(v)
	case int64:
		i = v
	default:
		return false
	}
	if locale == equipe.LocaleFR {
		return i == 0 || i == 1
	}
	return i == 1
}

var matcher = language.NewMatcher([]language.Tag{language.French, language.English})

// Negotiate returns the supported locale that best fits an Accept-Language
// header, French when nothing fits.
func Negotiate(acceptLanguage string) string { return negotiate(acceptLanguage, equipe.LocaleFR) }

// NegotiateMachine is Negotiate for the protocols that machines call (SCIM,
// AuthZEN, the API with a key, the change stream): English when nothing
// fits. A directory or a policy point seldom sends Accept-Language, and
// its messages end up in logs that its integrators read, in the language
// of the protocol's own words; a client that asks for French gets it.
func NegotiateMachine(acceptLanguage string) string {
	return negotiate(acceptLanguage, equipe.LocaleEN)
}

// negotiate returns the supported locale that best fits acceptLanguage,
// fallback when nothing fits.
func negotiate(acceptLanguage, fallback string) string {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return fallback
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return fallback
	}
	return equipe.Locales[i]
}

// frMonths are the months' names in French.
var frMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
	"octobre", "novembre", "décembre"}

// PolicyLabel names a version of the privacy policy as people read it in
// locale: the label it was published with, else its publication date
// ("Version du 2 décembre 2026", "Version of 2 December 2026"). Its
// version, a digest of its content, is for machines only.
func (c *Catalog) PolicyLabel(locale string, p equipe.PrivacyPolicy) string {
	if p.Label != "" {
		return p.Label
	}
	d := p.PublishedAt.UTC()
	date := d.Format("2 January 2006")
	if locale == equipe.LocaleFR {
		date = fmt.Sprintf("%d %s %d", d.Day(), frMonths[d.Month()-1], d.Year())
	}
	return c.T(locale, "consent.version_of", map[string]any{"date": date})
}
