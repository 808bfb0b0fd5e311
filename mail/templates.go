package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"github.com/equipe-dev/equipe/store"
	htmltemplate "html/template"
	"io/fs"
	"net/url"
	"slices"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
	"unicode"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/brand"
)

//go:embed templates/*.tmpl
var embedded embed.FS

// Template names: the stable keys of the emails equipe sends, stored in the
// outbox and used as file names ({name}.{locale}.tmpl).
const (
	TemplateVerifyEmail          = "verify_email"
	TemplatePasswordReset        = "password_reset"
	TemplatePasswordChanged      = "password_changed"
	TemplateSignupAttempt        = "signup_attempt"
	TemplateSignupConfirm        = "signup_confirm"
	TemplateInvitation           = "invitation"
	TemplateAccessGranted        = "access_granted"
	TemplateActivation           = "activation"
	TemplateReinvitation         = "reinvitation"
	TemplateWelcome              = "welcome"
	TemplateInviterConfirmation  = "inviter_confirmation"
	TemplateAdderConfirmation    = "adder_confirmation"
	TemplateAdminReset           = "admin_reset"
	TemplateAccountCreatedForYou = "account_created_for_you"
	TemplateNewBrowser           = "new_browser_login"
	// TemplateNotificationEmail goes to a notification address a person
	// chose, with the link that confirms it.
	TemplateNotificationEmail    = "notification_email"
	TemplateEmailChangeRequested = "email_change_requested"
	TemplateEmailChangeNotice    = "email_change_notice"
	TemplateEmailChanged         = "email_changed"
	TemplateEmailChangeAttempt   = "email_change_attempt"
	// TemplateSecondFactorsRemoved tells a person that an instance
	// administrator removed their second factors; Message holds the reason
	// the administrator gave.
	TemplateSecondFactorsRemoved = "second_factors_removed"
	// TemplateIdentityDeleted tells a person their identity was erased. Its
	// recipient is forgotten once it is delivered (store.MarkEmailSent).
	TemplateIdentityDeleted = store.ErasedRecipientTemplate

	// A person's second factors (Factor names which: totp or passkey).
	TemplateSecondFactorAdded        = "second_factor_added"
	TemplateSecondFactorRemoved      = "second_factor_removed"
	TemplateRecoveryCodeUsed         = "recovery_code_used"
	TemplateRecoveryCodesRegenerated = "recovery_codes_regenerated"

	// TemplateWebhookDisabled tells the owners of a webhook endpoint (an
	// account's administrators, or the instance's) that the service
	// disabled it: Message holds its URL, Link its page, AccountName the
	// account (empty for the instance's).
	TemplateWebhookDisabled = "webhook_disabled"

	// TemplateFirmAccessEnded tells a firm's administrators that a client
	// account ended the firm's access to it: AccountName is the client,
	// InviterName the person of the client who did, Link the firm's clients.
	TemplateFirmAccessEnded = "firm_access_ended"
)

const (
	layoutFile          = "layout.tmpl"
	commonFilePrefix    = "common."
	fileSuffix          = ".tmpl"
	templateNamePattern = "{name}.{locale}.tmpl"
	maxSubjectRunes     = 250
)

// needs says what a template cannot do without: an email about a link is
// useless without the link, and a team email without the account's name
// (or a "joined" notice without who joined) reads as nonsense. Compose
// refuses such data, which catches a wiring mistake in tests rather than in
// a customer's mailbox.
var needs = map[string]struct{ link, account, recipient, newEmail bool }{
	TemplateVerifyEmail:          {link: true},
	TemplatePasswordReset:        {link: true},
	TemplatePasswordChanged:      {},
	TemplateSignupAttempt:        {},
	TemplateSignupConfirm:        {link: true, account: true},
	TemplateInvitation:           {link: true, account: true},
	TemplateAccessGranted:        {account: true},
	TemplateActivation:           {link: true, account: true},
	TemplateReinvitation:         {link: true, account: true},
	TemplateWelcome:              {account: true},
	TemplateInviterConfirmation:  {account: true, recipient: true},
	TemplateAdderConfirmation:    {account: true, recipient: true},
	TemplateAdminReset:           {link: true, account: true},
	TemplateAccountCreatedForYou: {link: true, account: true},
	TemplateNewBrowser:           {link: true},
	TemplateNotificationEmail:    {link: true},
	TemplateEmailChangeRequested: {link: true, newEmail: true},
	TemplateEmailChangeNotice:    {link: true, newEmail: true},
	TemplateEmailChanged:         {link: true, newEmail: true},
	TemplateEmailChangeAttempt:   {},
	TemplateSecondFactorsRemoved: {},
	TemplateIdentityDeleted:      {},

	// A person's second factors.
	TemplateSecondFactorAdded:        {},
	TemplateSecondFactorRemoved:      {},
	TemplateRecoveryCodeUsed:         {},
	TemplateRecoveryCodesRegenerated: {},

	TemplateWebhookDisabled: {link: true},
	TemplateFirmAccessEnded: {link: true, account: true},
}

// Data is what every template may use. Vendors who override templates rely
// on these names: they are stable.
//
// For inviter_confirmation the email goes to the inviter: InviterName greets
// them and RecipientName names the person who joined; adder_confirmation
// likewise, RecipientName naming the person whose access was created.
type Data struct {
	RecipientName string    // "Ada Lovelace"
	AccountName   string    // may be empty, except in the team emails
	InviterName   string    // may be empty
	Link          string    // the action link: an absolute URL on the public URL's scheme and host
	Expires       time.Time // when the link stops working (zero: the email says nothing of it)
	Message       string    // a personal message from a person (may be empty, multi-line)
	HasPassword   bool      // the recipient already has a password: they log in rather than choose one
	// WithInvitation: in the welcome email, an invitation is sent with it
	// (to someone without a password, it is where they choose one).
	WithInvitation bool
	LoginURL       string // {public_url}/login; Compose fills it when empty
	ResetURL       string // {public_url}/forgot-password; Compose fills it when empty
	// NewEmail is the login email an email change is for, in the emails
	// about that change.
	NewEmail string
	// Keys are the API keys the recipient made that still act, for the
	// email that confirms a password change: whoever changed it may also
	// have made keys, which a new password does not end.
	Keys []KeyNotice
	// Factor is the second factor an email is about: "totp" (an
	// authenticator app) or "passkey"; FactorName is a passkey's name.
	Factor     string
	FactorName string
	// RecoveryCodesLeft is how many recovery codes remain unused.
	RecoveryCodesLeft int
	// Login is the login a new_browser_login email is about (Link is the
	// recipient's sessions page).
	Login LoginNotice
	// RecipientID is the identity RecipientName names, and InviterID the
	// one InviterName names when a person does (zero otherwise). They are
	// never shown: they go with the email to the outbox, so that erasing
	// either person deletes it (see equipe.Email.PersonID).
	RecipientID equipe.ID
	InviterID   equipe.ID
}

// LoginNotice is a login an email tells of: when (written in the email's
// language), the browser and system its User-Agent names (either may be
// empty), the client's address, and the page where the password changes.
type LoginNotice struct {
	When        string
	Browser     string
	System      string
	IP          string
	PasswordURL string
}

// KeyNotice is an API key an email lists: its name, the start of its secret,
// where it acts (an account's name; empty for an instance key) and the page
// where it can be revoked (on the public URL).
type KeyNotice struct {
	Name    string
	Prefix  string
	Account string
	Link    string
}

// View is what a template receives: Data, plus what Compose works out.
// Templates read Data's fields directly ({{.Link}}) and these as well.
type View struct {
	Data
	To        string // the recipient's address
	Lang      string // the locale: "fr" or "en"
	ValidFor  string // how long the link stays valid, in words ("1 heure", "7 days"); empty without Expires
	Subject   string // the rendered subject (for the HTML <title>); empty while the subject renders
	PublicURL string // the service's public URL
	// Brand is the vendor's look: Brand.Name, Brand.Primary,
	// Brand.SupportEmail, Brand.TermsURL…
	Brand brand.Brand
	// LogoURL is the absolute URL of the brand's logo when it is a PNG
	// (many mail clients show no SVG); empty otherwise.
	LogoURL string
}

// Action is a button's target and label, made by the templates' action
// function: {{template "button" (action .Link "Label")}}.
type Action struct {
	URL   string
	Label string
}

// Templates renders the emails. When a vendor overrides templates, every
// template is parsed, and rendered once with sample data, at start, so that
// a broken one stops the service then rather than when the first email of
// that kind is due; the built-in ones are checked in the same way by this
// package's tests (TestTemplates_BuiltInOnesPassTheStartCheck). Parsed, the 27 emails in two languages
// (each in two engines, with its copy of the layout) take some 5 MB, most
// of them never sent by a given service: only their text stays, and an
// email is parsed again when it is composed, the parsedKept most recently
// composed kept parsed.
type Templates struct {
	// Now is the clock that turns Data.Expires into "valid for 1 hour"
	// (default time.Now).
	Now func() time.Time

	public *url.URL
	host   string
	// brand is the brand in force, read when each email is composed, so
	// that a brand an administrator changes is in the very next email.
	brand   *brand.Live
	sources map[setKey]setSource

	mu     sync.Mutex
	parsed []parsedSet // most recently used first, at most parsedKept
}

type setKey struct{ name, locale string }

// setSource is the text of one email in one locale: the files its set is
// parsed from.
type setSource struct{ layout, common, file, body string }

type parsedSet struct {
	key setKey
	set *templateSet
}

// parsedKept is how many emails stay parsed: the few a service sends
// often (the new-browser alert, the invitation, the reset, in a language
// or two), each about 90 KB.
const parsedKept = 8

// set returns the parsed set of the email in the locale, parsing it if it
// is not among the last ones composed.
func (t *Templates) set(k setKey) (*templateSet, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, p := range t.parsed {
		if p.key == k {
			copy(t.parsed[1:i+1], t.parsed[:i])
			t.parsed[0] = p
			return p.set, nil
		}
	}
	src, ok := t.sources[k]
	if !ok {
		return nil, fmt.Errorf("mail: no template %s.%s", k.name, k.locale)
	}
	set, err := parseSet(t.funcs(), src.layout, src.common, src.file, src.body, k.locale)
	if err != nil {
		return nil, err
	}
	if len(t.parsed) < parsedKept {
		t.parsed = append(t.parsed, parsedSet{})
	}
	copy(t.parsed[1:], t.parsed[:len(t.parsed)-1])
	t.parsed[0] = parsedSet{k, set}
	return set, nil
}

// templateSet holds one email in one locale. Each email's file defines the
// same block names (subject, text, html), so each gets a set of its own.
type templateSet struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// logoURL is the absolute URL of b's logo when it is a PNG, "" otherwise.
func (t *Templates) logoURL(b brand.Brand) string {
	if b.Logo == nil || b.Logo.Type != "image/png" {
		return ""
	}
	u := t.public.JoinPath("static", "brand", "logo")
	u.RawQuery = "v=" + b.Logo.Version()
	return u.String()
}

// funcs are the template functions. Both engines parse every file (the text
// engine ignores the HTML blocks and the other way round), so both need the
// same names. product and primary give the brand's name and colour where
// the data at hand is not a View (a button's Action, {{template "product"}}).
func (t *Templates) funcs() map[string]any {
	return map[string]any{
		"action":  func(url, label string) Action { return Action{URL: url, Label: label} },
		"lines":   lines,
		"quote":   quote,
		"product": func() string { return t.brand.Load().Name },
		"primary": func() string { return t.brand.Load().Primary },
	}
}

// NewTemplates parses the email templates. publicURL is the service's
// public address: it makes LoginURL, ResetURL and the Message-ID's domain,
// and every Link must use its scheme and host. override, which may be nil, holds
// files with the names of the embedded ones (layout.tmpl, common.fr.tmpl,
// invitation.en.tmpl…) that replace them; an override file with any other
// .tmpl name is an error, as it would otherwise be silently ignored.
func NewTemplates(publicURL *url.URL, override fs.FS) (*Templates, error) {
	return NewBrandedTemplates(publicURL, override, brand.Default())
}

// NewBrandedTemplates is NewTemplates for the vendor's brand b: its name,
// colour, logo, support and legal links in every email.
func NewBrandedTemplates(publicURL *url.URL, override fs.FS, b brand.Brand) (*Templates, error) {
	if b.Name == "" {
		b = brand.Default()
	}
	return NewLiveTemplates(publicURL, override, brand.NewLive(b))
}

// NewLiveTemplates is NewTemplates for the brand in force in live: each
// email bears the brand in force when it is composed.
func NewLiveTemplates(publicURL *url.URL, override fs.FS, live *brand.Live) (*Templates, error) {
	if publicURL == nil || (publicURL.Scheme != "http" && publicURL.Scheme != "https") || publicURL.Host == "" {
		return nil, errors.New("mail templates: the public URL must be an absolute http(s) URL")
	}
	t := &Templates{
		Now:     time.Now,
		public:  publicURL,
		host:    publicURL.Hostname(),
		brand:   live,
		sources: make(map[setKey]setSource),
	}
	if override != nil {
		if err := checkOverride(override); err != nil {
			return nil, err
		}
	}
	read := func(name string) (string, error) {
		if override != nil {
			b, err := fs.ReadFile(override, name)
			if err == nil {
				return string(b), nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("mail templates: override %s: %w", name, err)
			}
		}
		b, err := embedded.ReadFile("templates/" + name)
		if err != nil {
			return "", fmt.Errorf("mail templates: %s: %w", name, err)
		}
		return string(b), nil
	}
	layout, err := read(layoutFile)
	if err != nil {
		return nil, err
	}
	for _, locale := range equipe.Locales {
		common, err := read(commonFilePrefix + locale + fileSuffix)
		if err != nil {
			return nil, err
		}
		for _, name := range t.Names() {
			file := name + "." + locale + fileSuffix
			body, err := read(file)
			if err != nil {
				return nil, err
			}
			t.sources[setKey{name, locale}] = setSource{layout, common, file, body}
		}
	}
	// The built-in templates are checked by this package's tests; a start
	// checks them only when a directory overrides some of them.
	if override != nil {
		if err := t.check(); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// check parses every template set and composes it with sample data, as a
// start with overrides does: a template that does not parse, uses a
// variable that does not exist or drops its link is refused. What it
// parsed is not kept: the service starts with none.
func (t *Templates) check() error {
	defer func() {
		t.mu.Lock()
		t.parsed = nil
		t.mu.Unlock()
	}()
	for _, locale := range equipe.Locales {
		for _, name := range t.Names() {
			if _, err := t.set(setKey{name, locale}); err != nil {
				return err
			}
			if err := t.selfCheck(name, locale); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkOverride refuses .tmpl files that would replace nothing: most likely
// a misspelt name, which would otherwise leave the embedded email in use.
func checkOverride(override fs.FS) error {
	entries, err := fs.ReadDir(override, ".")
	if err != nil {
		return fmt.Errorf("mail templates: override folder: %w", err)
	}
	have := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), fileSuffix) {
			continue
		}
		if _, err := embedded.ReadFile("templates/" + e.Name()); err != nil {
			return fmt.Errorf("mail templates: override %s replaces no template (names are layout.tmpl, common.{locale}.tmpl and %s)", e.Name(), templateNamePattern)
		}
		have[e.Name()] = true
	}
	// An email overridden in one language only would reach half the
	// customers in the vendor's words and half in equipe's.
	for file := range have {
		base, _, ok := localeOf(file)
		if !ok {
			continue
		}
		for _, l := range equipe.Locales {
			if other := base + "." + l + fileSuffix; !have[other] {
				return fmt.Errorf("mail templates: override %s has no %s: give every language (%s)", file, other, strings.Join(equipe.Locales, ", "))
			}
		}
	}
	return nil
}

// localeOf splits a template file's name, invitation.fr.tmpl, into its
// name and locale; ok is false for a file of no language (layout.tmpl).
func localeOf(file string) (name, locale string, ok bool) {
	stem := strings.TrimSuffix(file, fileSuffix)
	i := strings.LastIndexByte(stem, '.')
	if i < 0 || !equipe.ValidLocale(stem[i+1:]) {
		return "", "", false
	}
	return stem[:i], stem[i+1:], true
}

func parseSet(funcs map[string]any, layout, common, file, body, locale string) (*templateSet, error) {
	tt := texttemplate.New(file).Funcs(texttemplate.FuncMap(funcs))
	ht := htmltemplate.New(file).Funcs(htmltemplate.FuncMap(funcs))
	for _, src := range []struct{ name, text string }{
		{layoutFile, layout},
		{commonFilePrefix + locale + fileSuffix, common},
		{file, body},
	} {
		var err error
		if tt, err = tt.New(src.name).Parse(src.text); err != nil {
			return nil, fmt.Errorf("mail templates: %w", err)
		}
		if ht, err = ht.New(src.name).Parse(src.text); err != nil {
			return nil, fmt.Errorf("mail templates: %w", err)
		}
	}
	for _, block := range []string{"subject", "text", "html", "layout.text", "layout.html"} {
		if tt.Lookup(block) == nil {
			return nil, fmt.Errorf("mail templates: %s: no %q block", file, block)
		}
	}
	for _, tmpl := range tt.Templates() {
		if err := checkFields(tmpl.Tree); err != nil {
			return nil, err
		}
	}
	return &templateSet{text: tt, html: ht}, nil
}

// selfCheck renders the email in the locale twice: with every field set
// and with the optional ones empty, so both branches of the template's
// conditions run once before any real email does.
func (t *Templates) selfCheck(name, locale string) error {
	full := t.Sample("self-check")
	bare := Data{AccountName: "Acme", Link: full.Link, Factor: "totp"}
	if needs[name].recipient {
		bare.RecipientName, bare.RecipientID = "Ada", sampleID
	}
	if needs[name].newEmail {
		bare.NewEmail = "ada@example.net"
	}
	for _, d := range []Data{full, bare} {
		e, err := t.Compose(name, locale, "self-check@example.com", d)
		if err != nil {
			return fmt.Errorf("mail templates: %s.%s: %w", name, locale, err)
		}
		// The link of an invitation, a reset or a confirmation is the
		// email's purpose: a template that drops it (an override, most
		// likely) sends an email nobody can act on.
		if needs[name].link && (!strings.Contains(e.Text, d.Link) || !strings.Contains(e.HTML, d.Link)) {
			return fmt.Errorf("mail templates: %s.%s%s: the email must show its link {{.Link}} in both its text and its HTML", name, locale, fileSuffix)
		}
	}
	return nil
}

// Sample returns data with every field set, its links under path on the
// public URL: what the start renders every email with, and what an
// instance administrator previews them with.
func (t *Templates) Sample(path string) Data {
	// The sample names nobody: a preview sent to someone is theirs
	// (team.Service.SendEmailPreview sets RecipientID).
	link := t.public.JoinPath(path).String()
	return Data{RecipientName: "Ada Lovelace", RecipientID: sampleID, AccountName: "Acme", InviterName: "Grace Hopper", Link: link,
		Expires: t.Now().Add(time.Hour), Message: "Hello\nWelcome", NewEmail: "ada@example.net",
		Keys:   []KeyNotice{{Name: "CRM sync", Prefix: "abc123", Account: "Acme", Link: link}, {Name: "Backend", Prefix: "def456", Link: link}},
		Factor: "passkey", FactorName: "YubiKey", RecoveryCodesLeft: 3,
		Login: LoginNotice{When: "3 Dec 2026 14:05 UTC", Browser: "Firefox", System: "Linux", IP: "203.0.113.7", PasswordURL: t.public.JoinPath("me", "password").String()}}
}

// sampleID is the identity of the sample's recipient, who is nobody.
var sampleID = equipe.ID{0xff}

// Names returns the template names, sorted.
func (t *Templates) Names() []string {
	names := make([]string, 0, len(needs))
	for n := range needs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Locale is the language an email is written in for a recipient whose
// language is locale: it, or French for none.
func Locale(locale string) string {
	if !equipe.ValidLocale(locale) {
		return equipe.LocaleFR
	}
	return locale
}

// Compose renders the email name in locale ("fr" or "en"; any other falls
// back to "fr", the instance default) for the address to. It returns an
// Email with ID, MessageID, To, Template, Locale, Subject, Text and HTML set;
// the caller sets CreatedAt and enqueues it in the transaction of the change
// that causes it.
//
// Names are made single-line and the subject never holds a line break, so
// that nothing a user types can add a header. Returns an error for an
// unknown template, a bad address, a missing or foreign link, or a template
// that fails to render.
func (t *Templates) Compose(name, locale, to string, d Data) (equipe.Email, error) {
	need, ok := needs[name]
	if !ok {
		return equipe.Email{}, fmt.Errorf("mail: unknown template %q", name)
	}
	locale = Locale(locale)
	set, err := t.set(setKey{name, locale})
	if err != nil {
		return equipe.Email{}, err
	}
	if to == "" || strings.ContainsFunc(to, isLineBreakOrControl) {
		return equipe.Email{}, errors.New("mail: the recipient address is empty or holds control characters")
	}
	d.RecipientName = oneLine(d.RecipientName)
	d.AccountName = oneLine(d.AccountName)
	d.InviterName = oneLine(d.InviterName)
	d.FactorName = oneLine(d.FactorName)
	d.NewEmail = oneLine(d.NewEmail)
	d.Message = strings.TrimSpace(strings.ReplaceAll(d.Message, "\r\n", "\n"))
	if need.account && d.AccountName == "" {
		return equipe.Email{}, fmt.Errorf("mail: template %s needs AccountName", name)
	}
	if need.recipient && d.RecipientName == "" {
		return equipe.Email{}, fmt.Errorf("mail: template %s needs RecipientName", name)
	}
	// The notice of an identity's erasure is the one email that must not
	// keep the identity it names.
	if d.RecipientName != "" && d.RecipientID == (equipe.ID{}) && name != TemplateIdentityDeleted {
		return equipe.Email{}, fmt.Errorf("mail: template %s names a recipient without their RecipientID", name)
	}
	if name == TemplateIdentityDeleted {
		d.RecipientID, d.InviterID = equipe.ID{}, equipe.ID{}
	}
	if need.link && d.Link == "" {
		return equipe.Email{}, fmt.Errorf("mail: template %s needs a Link", name)
	}
	if need.newEmail && d.NewEmail == "" {
		return equipe.Email{}, fmt.Errorf("mail: template %s needs NewEmail", name)
	}
	keys := make([]KeyNotice, 0, len(d.Keys))
	for _, k := range d.Keys {
		if err := t.checkLink(k.Link); err != nil {
			return equipe.Email{}, err
		}
		keys = append(keys, KeyNotice{Name: oneLine(k.Name), Prefix: oneLine(k.Prefix), Account: oneLine(k.Account), Link: k.Link})
	}
	d.Keys = keys
	if d.Link != "" {
		if err := t.checkLink(d.Link); err != nil {
			return equipe.Email{}, err
		}
	}
	if d.LoginURL == "" {
		d.LoginURL = t.public.JoinPath("login").String()
	}
	if d.ResetURL == "" {
		d.ResetURL = t.public.JoinPath("forgot-password").String()
	}
	bd := t.brand.Load()
	v := View{Data: d, To: to, Lang: locale, PublicURL: t.public.String(), Brand: bd, LogoURL: t.logoURL(bd)}
	if !d.Expires.IsZero() {
		now := time.Now
		if t.Now != nil {
			now = t.Now
		}
		v.ValidFor = humanDuration(locale, d.Expires.Sub(now()))
	}

	var b bytes.Buffer
	if err := set.text.ExecuteTemplate(&b, "subject", v); err != nil {
		return equipe.Email{}, fmt.Errorf("mail: render %s subject: %w", name, err)
	}
	v.Subject = subject(b.String())
	if v.Subject == "" {
		return equipe.Email{}, fmt.Errorf("mail: template %s rendered an empty subject", name)
	}
	b.Reset()
	if err := set.text.ExecuteTemplate(&b, "layout.text", v); err != nil {
		return equipe.Email{}, fmt.Errorf("mail: render %s text: %w", name, err)
	}
	text := tidyText(b.String())
	b.Reset()
	if err := set.html.ExecuteTemplate(&b, "layout.html", v); err != nil {
		return equipe.Email{}, fmt.Errorf("mail: render %s HTML: %w", name, err)
	}
	id := equipe.NewID()
	return equipe.Email{
		ID:        id,
		MessageID: id.String() + "@" + t.host,
		To:        to,
		Template:  name,
		Locale:    locale,
		Subject:   v.Subject,
		Text:      text,
		HTML:      b.String(),

		PersonID:      d.RecipientID,
		OtherPersonID: d.InviterID,
	}, nil
}

// checkLink requires links to point at the configured public URL: a link
// built from a request's Host or X-Forwarded-Host header would send a
// one-time token to whoever forged the header.
func (t *Templates) checkLink(link string) error {
	u, err := url.Parse(link)
	if err != nil || !u.IsAbs() {
		return errors.New("mail: Link is not an absolute URL")
	}
	if u.Scheme != t.public.Scheme || u.Host != t.public.Host {
		return fmt.Errorf("mail: Link does not point at the public URL %s", t.public.Redacted())
	}
	return nil
}

// humanDuration says d in words: minutes under an hour, hours under two
// days, days beyond. It rounds to the minute, then down, so an email never
// promises more time than the link has ("1 hour" for a link made a few
// milliseconds ago with a one-hour lifetime, "1 hour" for 90 minutes).
func humanDuration(locale string, d time.Duration) string {
	m := int((d + 30*time.Second) / time.Minute)
	n, unit := max(m, 1), "minute"
	switch {
	case m >= 48*60:
		n, unit = m/(24*60), "day"
	case m >= 60:
		n, unit = m/60, "hour"
	}
	words := map[string][2]string{
		"minute": {"minute", "minutes"},
		"hour":   {"hour", "hours"},
		"day":    {"day", "days"},
	}
	if locale == equipe.LocaleFR {
		words = map[string][2]string{
			"minute": {"minute", "minutes"},
			"hour":   {"heure", "heures"},
			"day":    {"jour", "jours"},
		}
	}
	w := words[unit][1]
	if n == 1 {
		w = words[unit][0]
	}
	return fmt.Sprintf("%d %s", n, w)
}

func isLineBreakOrControl(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\u0085'
}

// oneLine replaces line breaks and other control characters with spaces
// and collapses runs of spaces: names come from users, and a name holding
// "\r\nBcc: …" must stay a name.
func oneLine(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if isLineBreakOrControl(r) || r == ' ' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// subject makes a rendered subject one line of reasonable length.
func subject(s string) string {
	s = oneLine(s)
	if r := []rune(s); len(r) > maxSubjectRunes {
		s = string(r[:maxSubjectRunes-1]) + "…"
	}
	return s
}

// tidyText lets the text templates be written for readability: it trims
// trailing spaces (but keeps the "-- " signature separator) and leaves at
// most one blank line between paragraphs.
func tidyText(s string) string {
	var out []string
	blank := true // drops leading blank lines
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if line != "-- " {
			line = strings.TrimRight(line, " \t")
		}
		if line == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, line)
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n") + "\n"
}

// lines splits a personal message into its lines, for the HTML templates.
func lines(s string) []string {
	return strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
}

// quote prefixes each line of a personal message with "> ", the plain-text
// convention for quoted words.
func quote(s string) string {
	ls := lines(s)
	for i, l := range ls {
		ls[i] = strings.TrimRight("> "+l, " ")
	}
	return strings.Join(ls, "\n")
}
