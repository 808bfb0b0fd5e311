package app

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	// The time zones are in the binary: a static binary on a host without
	// the tz database still knows them.
	_ "time/tzdata"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/brand"
	equipemail "github.com/equipe-dev/equipe/mail"
)

// Config is the service's configuration, from flags and environment
// variables (flags win), checked before anything starts.
type Config struct {
	Addr        string
	DataDir     string
	DatabaseURL string
	PublicURL   *url.URL
	SMTP        *equipemail.SMTPConfig // nil: the development mailbox
	MailFrom    string
	Catalogue   string
	LogFormat   string // text or json
	LogLevel    slog.Level
	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// MetricsAddr is a separate address serving /metrics alone; "" serves
	// them on Addr, to MetricsNetworks only.
	MetricsAddr string
	// MetricsNetworks are the networks that may read /metrics on Addr.
	MetricsNetworks []netip.Prefix
	// Policy is the privacy policy to publish at start.
	Policy equipe.PrivacyPolicy
	// TimeZone is the IANA name of the zone of accounts that chose none.
	TimeZone string
	// SecretKey seals the secrets kept to be read back (authenticator
	// seeds); nil: the key of the data directory, made on first start.
	// PreviousSecretKeys still open what was sealed before a rotation.
	SecretKey          []byte
	PreviousSecretKeys [][]byte
	// WebhooksAllowHTTPLoopback lets webhook endpoints be http:// URLs on a
	// loopback address, and deliveries connect there: for a receiver on the
	// same machine (development, tests). Off by default.
	WebhooksAllowHTTPLoopback bool
	// Brand is the vendor's look: name, logo, colours, support and legal
	// links (brand.Default when none is configured).
	Brand brand.Brand
	// TemplatesDir is a folder of email templates replacing the built-in
	// ones of the same name; "" keeps the built-in ones.
	TemplatesDir string
	// CacheMB is the memory, in MiB, the permission cache may hold
	// (compiled members, accounts, API keys): past it, the entries least
	// used lately make room.
	CacheMB int
}

// The permission cache's memory (Config.CacheMB): the default suits a small
// machine; below the minimum a few hundred members would not fit, and the
// maximum keeps the figure a plausible size of memory.
const (
	DefaultCacheMB = 64
	MinCacheMB     = 1
	MaxCacheMB     = 1 << 20
)

// SettingError is a bad configuration value; its message names the setting
// in one line.
type SettingError struct {
	Env, Flag, Problem string
}

func (e *SettingError) Error() string {
	return fmt.Sprintf("%s (--%s): %s", e.Env, e.Flag, e.Problem)
}

// setting is one configuration value: a flag, its environment variable and
// its default. Secrets may also come from a file named by ENV_FILE.
type setting struct {
	flag, env, def, usage string
	secret                bool
	value                 *string
}

// ParseConfig reads the configuration of a subcommand from args and the
// environment (getenv, usually os.Getenv). Secrets may be given in a file
// named by the variable with _FILE appended (EQUIPE_SMTP_URL_FILE).
func ParseConfig(name string, args []string, getenv func(string) string) (Config, error) {
	var raw struct {
		addr, data, dbURL, publicURL, smtpURL, mailFrom, catalogue, logFormat, proxies string
		policyURL, policyFile, policyVersion, policyLabel, timeZone                    string
		secretKey, previousKeys, webhooksLoopback                                      string
		metricsAddr, metricsNetworks                                                   string
		brandName, brandLogo, brandFavicon, brandPrimary, brandAccent                  string
		supportEmail, supportURL, termsURL, imprintURL, templatesDir, brandCSS         string
		keyPrefix, logLevel                                                            string
		cacheMB                                                                        string
	}
	settings := []setting{
		{"addr", "EQUIPE_ADDR", "127.0.0.1:8080", "address to listen on (host:port)", false, &raw.addr},
		{"data", "EQUIPE_DATA", "./equipe-data", "directory of the SQLite database", false, &raw.data},
		{"database-url", "EQUIPE_DATABASE_URL", "", "postgres://… to use PostgreSQL instead of SQLite", true, &raw.dbURL},
		{"public-url", "EQUIPE_PUBLIC_URL", "", "base URL of every link in emails (default http://{addr})", false, &raw.publicURL},
		{"smtp-url", "EQUIPE_SMTP_URL", "", "smtp://user:pass@host:587 (STARTTLS) or smtps://… ; empty: development mailbox", true, &raw.smtpURL},
		{"mail-from", "EQUIPE_MAIL_FROM", "", "sender of every email (default equipe <no-reply@{public host}>)", false, &raw.mailFrom},
		{"catalogue", "EQUIPE_CATALOGUE", "", "permission catalogue file replacing the embedded default", false, &raw.catalogue},
		{"log-format", "EQUIPE_LOG_FORMAT", "", "text or json (default: text on a terminal, json otherwise)", false, &raw.logFormat},
		{"trusted-proxies", "EQUIPE_TRUSTED_PROXIES", "", "comma-separated networks whose X-Forwarded-For is believed", false, &raw.proxies},
		{"privacy-policy-url", "EQUIPE_PRIVACY_POLICY_URL", "", "URL of the privacy policy", false, &raw.policyURL},
		{"privacy-policy-file", "EQUIPE_PRIVACY_POLICY_FILE", "", "text file holding the privacy policy; {locale} in the name reads one file per language (fr, en)", false, &raw.policyFile},
		{"privacy-policy-version", "EQUIPE_PRIVACY_POLICY_VERSION", "", "version of the policy (default: derived from its content)", false, &raw.policyVersion},
		{"privacy-policy-label", "EQUIPE_PRIVACY_POLICY_LABEL", "", "name of the policy's version as people read it (default: its publication date)", false, &raw.policyLabel},
		{"secret-key", "EQUIPE_SECRET_KEY", "", "key sealing authenticator seeds: 64 hex digits (openssl rand -hex 32); default: made on first start in the data directory", true, &raw.secretKey},
		{"secret-key-previous", "EQUIPE_SECRET_KEY_PREVIOUS", "", "earlier secret keys (comma-separated), still read during a rotation", true, &raw.previousKeys},
		{"webhooks-allow-http-loopback", "EQUIPE_WEBHOOKS_ALLOW_HTTP_LOOPBACK", "false", "let webhook endpoints be http:// URLs on a loopback address (a receiver on this machine)", false, &raw.webhooksLoopback},
		{"time-zone", "EQUIPE_TIME_ZONE", "UTC", "IANA time zone of accounts that chose none (Europe/Paris)", false, &raw.timeZone},
		{"metrics-addr", "EQUIPE_METRICS_ADDR", "", "separate address (host:port) serving /metrics alone; empty: /metrics on the main address, to --metrics-networks only", false, &raw.metricsAddr},
		{"metrics-networks", "EQUIPE_METRICS_NETWORKS", "127.0.0.0/8,::1", "comma-separated networks that may read /metrics on the main address; none: nobody", false, &raw.metricsNetworks},
		{"brand-name", "EQUIPE_BRAND_NAME", brand.DefaultName, "the product's name in every page and email", false, &raw.brandName},
		{"brand-logo", "EQUIPE_BRAND_LOGO", "", "SVG or PNG file (at most 256 KiB) shown in the pages' header instead of the name", false, &raw.brandLogo},
		{"brand-favicon", "EQUIPE_BRAND_FAVICON", "", "SVG or PNG file (at most 256 KiB) replacing the built-in icon", false, &raw.brandFavicon},
		{"brand-primary", "EQUIPE_BRAND_PRIMARY", brand.DefaultPrimary, "colour of buttons and links (#rrggbb); white text on it must reach 4.5:1", false, &raw.brandPrimary},
		{"brand-accent", "EQUIPE_BRAND_ACCENT", brand.DefaultAccent, "colour of focus rings, current tabs and banners (#rrggbb); white text on it must reach 4.5:1", false, &raw.brandAccent},
		{"brand-stylesheet", "EQUIPE_BRAND_STYLESHEET", "", "CSS file (at most 256 KiB) served after the pages' own stylesheet", false, &raw.brandCSS},
		{"brand-key-prefix", "EQUIPE_BRAND_KEY_PREFIX", "", "start of new API keys' secrets: 1 to 15 lowercase letters or digits and _ (default: from the brand's name, acmecloud_); keys made under an earlier prefix stay valid", false, &raw.keyPrefix},
		{"support-email", "EQUIPE_SUPPORT_EMAIL", "", "address customers write to for help, in every page's footer and every email", false, &raw.supportEmail},
		{"support-url", "EQUIPE_SUPPORT_URL", "", "help page of the product, in every page's footer and every email", false, &raw.supportURL},
		{"terms-url", "EQUIPE_TERMS_URL", "", "terms of service, linked from every page's footer and every email", false, &raw.termsURL},
		{"imprint-url", "EQUIPE_IMPRINT_URL", "", "legal notice (imprint), linked from every page's footer and every email", false, &raw.imprintURL},
		{"templates-dir", "EQUIPE_TEMPLATES_DIR", "", "folder of email templates replacing the built-in ones ({name}.{locale}.tmpl, docs/branding.md)", false, &raw.templatesDir},
		{"cache-mb", "EQUIPE_CACHE_MB", strconv.Itoa(DefaultCacheMB), "memory of the permission cache, in MiB (least used entries make room past it)", false, &raw.cacheMB},
		{"log-level", "EQUIPE_LOG_LEVEL", "info", "least level logged: debug, info, warn or error", false, &raw.logLevel},
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	set := map[string]bool{}
	for _, s := range settings {
		fs.StringVar(s.value, s.flag, s.def, s.usage+" ["+s.env+"]")
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, s := range settings {
		if set[s.flag] {
			continue
		}
		if v := getenv(s.env); v != "" {
			*s.value = v
		} else if s.secret {
			if file := getenv(s.env + "_FILE"); file != "" {
				b, err := os.ReadFile(file)
				if err != nil {
					return Config{}, &SettingError{s.env + "_FILE", s.flag, "cannot read the file: " + errors.Unwrap(err).Error()}
				}
				*s.value = strings.TrimSpace(string(b))
			}
		}
	}

	var c Config
	bad := func(i int, problem string, args ...any) error {
		return &SettingError{settings[i].env, settings[i].flag, fmt.Sprintf(problem, args...)}
	}
	// at is the index of the setting of flag name.
	at := func(name string) int {
		for i, st := range settings {
			if st.flag == name {
				return i
			}
		}
		panic("no setting " + name)
	}
	host, port, err := net.SplitHostPort(raw.addr)
	if err != nil || port == "" {
		return c, bad(0, "%q is not a host:port address (for example 127.0.0.1:8080)", raw.addr)
	}
	if problem := checkPort(port, true); problem != "" {
		return c, bad(0, "%q: %s", raw.addr, problem)
	}
	c.Addr = raw.addr
	if raw.data == "" {
		return c, bad(1, "must not be empty")
	}
	c.DataDir = raw.data
	if raw.timeZone == "Local" || raw.timeZone == "" {
		return c, bad(at("time-zone"), "must be an IANA time zone name, such as Europe/Paris or UTC")
	}
	if _, err := time.LoadLocation(raw.timeZone); err != nil {
		return c, bad(at("time-zone"), "%q is not an IANA time zone name (such as Europe/Paris or UTC)", raw.timeZone)
	}
	c.TimeZone = raw.timeZone
	if c.CacheMB, err = strconv.Atoi(strings.TrimSpace(raw.cacheMB)); err != nil || c.CacheMB < MinCacheMB || c.CacheMB > MaxCacheMB {
		return c, bad(at("cache-mb"), "must be a whole number of MiB from %d to %d, not %q", MinCacheMB, MaxCacheMB, raw.cacheMB)
	}
	switch strings.ToLower(raw.webhooksLoopback) {
	case "", "false", "0", "no":
	case "true", "1", "yes":
		c.WebhooksAllowHTTPLoopback = true
	default:
		return c, bad(at("webhooks-allow-http-loopback"), "must be true or false, not %q", raw.webhooksLoopback)
	}
	if c.SecretKey, c.PreviousSecretKeys, err = parseSecretKeys(raw.secretKey, raw.previousKeys); err != nil {
		return c, err
	}
	if raw.dbURL != "" {
		u, err := url.Parse(raw.dbURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			return c, bad(2, "must be a postgres:// URL with a host (or be empty for SQLite)")
		}
		c.DatabaseURL = raw.dbURL
	}
	// The default public URL takes the address's port, checked above. It
	// may be 0 there (any free port, as tests listen), which only a public
	// URL that is given is refused for.
	defaultURL := raw.publicURL == ""
	if defaultURL {
		h := host
		if h == "" || h == "0.0.0.0" || h == "::" {
			h = "localhost"
		}
		raw.publicURL = "http://" + net.JoinHostPort(h, port)
	}
	pu, err := url.Parse(raw.publicURL)
	switch {
	case err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "":
		return c, bad(3, "%q must be an absolute http:// or https:// URL", raw.publicURL)
	case pu.User != nil || pu.RawQuery != "" || pu.Fragment != "":
		return c, bad(3, "must not hold credentials, a query or a fragment")
	case pu.Path != "" && pu.Path != "/":
		return c, bad(3, "must not have a path: equipe is served at the root of its host")
	}
	if p := pu.Port(); p != "" && !defaultURL {
		if problem := checkPort(p, false); problem != "" {
			return c, bad(3, "%q: %s", raw.publicURL, problem)
		}
	}
	pu.Path = ""
	c.PublicURL = pu
	if raw.smtpURL != "" {
		sc, err := equipemail.ParseSMTPURL(raw.smtpURL)
		if err != nil {
			return c, bad(4, "%v", err)
		}
		c.SMTP = &sc
	}
	if c.Brand, err = parseBrand(raw.brandName, raw.brandLogo, raw.brandFavicon, raw.brandPrimary, raw.brandAccent,
		raw.supportEmail, raw.supportURL, raw.termsURL, raw.imprintURL, raw.brandCSS, raw.keyPrefix); err != nil {
		return c, err
	}
	if raw.templatesDir != "" {
		if st, err := os.Stat(raw.templatesDir); err != nil || !st.IsDir() {
			return c, bad(at("templates-dir"), "%q is not a folder", raw.templatesDir)
		}
		c.TemplatesDir = raw.templatesDir
	}
	if raw.mailFrom == "" {
		raw.mailFrom = (&mail.Address{Name: c.Brand.Name, Address: "no-reply@" + mailDomain(pu.Hostname())}).String()
	}
	from, err := mail.ParseAddress(raw.mailFrom)
	if err != nil || strings.ContainsAny(raw.mailFrom, "\r\n") {
		return c, bad(5, "%q is not an email address (for example: equipe <no-reply@example.com>)", raw.mailFrom)
	}
	c.MailFrom = from.String()
	if raw.catalogue != "" {
		if _, err := access.Load(raw.catalogue); err != nil {
			return c, bad(6, "%v", err)
		}
		c.Catalogue = raw.catalogue
	}
	switch raw.logFormat {
	case "", "text", "json":
		c.LogFormat = raw.logFormat
	default:
		return c, bad(7, "must be text or json, not %q", raw.logFormat)
	}
	switch strings.ToLower(raw.logLevel) {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		return c, bad(at("log-level"), "must be debug, info, warn or error, not %q", raw.logLevel)
	}
	if c.TrustedProxies, err = networks(raw.proxies); err != nil {
		return c, bad(8, "%v", err)
	}
	if raw.metricsAddr != "" {
		_, port, err := net.SplitHostPort(raw.metricsAddr)
		if err != nil || port == "" {
			return c, bad(at("metrics-addr"), "%q is not a host:port address (for example 127.0.0.1:9090)", raw.metricsAddr)
		}
		if problem := checkPort(port, true); problem != "" {
			return c, bad(at("metrics-addr"), "%q: %s", raw.metricsAddr, problem)
		}
		c.MetricsAddr = raw.metricsAddr
	}
	if strings.TrimSpace(raw.metricsNetworks) != "none" {
		if c.MetricsNetworks, err = networks(raw.metricsNetworks); err != nil {
			return c, bad(at("metrics-networks"), "%v", err)
		}
	}
	c.Policy, err = policy(raw.policyURL, raw.policyFile, raw.policyVersion)
	if err == nil {
		if len(raw.policyLabel) > 100 || strings.ContainsFunc(raw.policyLabel, func(r rune) bool { return r < ' ' }) {
			return c, &SettingError{"EQUIPE_PRIVACY_POLICY_LABEL", "privacy-policy-label", "must be a short line of text"}
		}
		c.Policy.Label = strings.TrimSpace(raw.policyLabel)
	}
	return c, err
}

// parseBrand checks the brand settings: a short one-line name, logo and
// favicon files that are SVG or PNG images, colours white text can be read
// on, a support address, absolute http(s) URLs and a key prefix.
func parseBrand(name, logo, favicon, primary, accent, supportEmail, supportURL, termsURL, imprintURL, stylesheet, keyPrefix string) (brand.Brand, error) {
	b := brand.Default()
	var err error
	if b.Name, err = brand.CheckName(name); err != nil {
		return b, &SettingError{"EQUIPE_BRAND_NAME", "brand-name", err.Error()}
	}
	b.KeyPrefix = brand.KeyPrefixFor(b.Name)
	if keyPrefix != "" {
		if err := brand.CheckKeyPrefix(keyPrefix); err != nil {
			return b, &SettingError{"EQUIPE_BRAND_KEY_PREFIX", "brand-key-prefix", err.Error()}
		}
		b.KeyPrefix = keyPrefix
	}
	for _, img := range []struct {
		env, flag, file string
		into            **brand.Image
	}{
		{"EQUIPE_BRAND_LOGO", "brand-logo", logo, &b.Logo},
		{"EQUIPE_BRAND_FAVICON", "brand-favicon", favicon, &b.Favicon},
	} {
		if img.file == "" {
			continue
		}
		data, err := os.ReadFile(img.file)
		if err != nil {
			return b, &SettingError{img.env, img.flag, "cannot read " + img.file}
		}
		if *img.into, err = brand.ParseImage(data); err != nil {
			return b, &SettingError{img.env, img.flag, img.file + ": " + err.Error()}
		}
	}
	if stylesheet != "" {
		css, err := os.ReadFile(stylesheet)
		if err != nil {
			return b, &SettingError{"EQUIPE_BRAND_STYLESHEET", "brand-stylesheet", "cannot read " + stylesheet}
		}
		if err := brand.CheckStylesheet(css); err != nil {
			return b, &SettingError{"EQUIPE_BRAND_STYLESHEET", "brand-stylesheet", stylesheet + " " + err.Error()}
		}
		b.Stylesheet = css
	}
	if b.Primary, err = brand.CheckColour(primary); err != nil {
		return b, &SettingError{"EQUIPE_BRAND_PRIMARY", "brand-primary", err.Error()}
	}
	if b.Accent, err = brand.CheckColour(accent); err != nil {
		return b, &SettingError{"EQUIPE_BRAND_ACCENT", "brand-accent", err.Error()}
	}
	if supportEmail != "" {
		if b.SupportEmail, err = brand.CheckSupportEmail(supportEmail); err != nil {
			return b, &SettingError{"EQUIPE_SUPPORT_EMAIL", "support-email", err.Error()}
		}
	}
	for _, l := range []struct {
		env, flag, value string
		into             *string
	}{
		{"EQUIPE_SUPPORT_URL", "support-url", supportURL, &b.SupportURL},
		{"EQUIPE_TERMS_URL", "terms-url", termsURL, &b.TermsURL},
		{"EQUIPE_IMPRINT_URL", "imprint-url", imprintURL, &b.ImprintURL},
	} {
		if l.value == "" {
			continue
		}
		if *l.into, err = brand.CheckURL(l.value); err != nil {
			return b, &SettingError{l.env, l.flag, err.Error()}
		}
	}
	return b, nil
}

// checkPort returns what is wrong with port, a TCP port number written in
// digits from 1 to 65535, or "" when nothing is. An address to listen on
// may take 0 (any free port, which the "serving" line then names), as the
// tests do; a URL may not.
func checkPort(port string, listen bool) string {
	least := 1
	if listen {
		least = 0
	}
	n, err := strconv.Atoi(port)
	if err != nil || strings.Trim(port, "0123456789") != "" || n < least || n > 65535 {
		return fmt.Sprintf("the port must be a number from %d to 65535, not %q", least, port)
	}
	return ""
}

// networks parses a comma-separated list of networks or addresses.
func networks(raw string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range strings.Split(raw, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return nil, fmt.Errorf("%q is not an address or a network (for example 10.0.0.0/8)", p)
			}
			prefix = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, prefix.Masked())
	}
	return out, nil
}

// mailDomain returns a domain usable in the default sender address.
func mailDomain(host string) string {
	if _, err := netip.ParseAddr(host); err == nil || !strings.Contains(host, ".") {
		return "localhost.localdomain"
	}
	return host
}

// policy builds the privacy policy to publish. Without a URL or a file the
// built-in policy is used. Without an explicit version, the version is
// derived from the content, so that changing the text or URL asks everyone
// to accept it again.
func policy(rawURL, file, version string) (equipe.PrivacyPolicy, error) {
	p := equipe.PrivacyPolicy{URL: rawURL}
	if rawURL != "" {
		u, err := url.Parse(rawURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return p, &SettingError{"EQUIPE_PRIVACY_POLICY_URL", "privacy-policy-url", "must be an absolute http:// or https:// URL"}
		}
	}
	// content is what the derived version is computed from.
	var content string
	switch {
	case strings.Contains(file, "{locale}"):
		// One file per language; a language without its file falls back to
		// the other's text (equipe.PrivacyPolicy.TextIn).
		p.Texts = map[string]string{}
		for _, l := range []string{"fr", "en"} {
			name := strings.ReplaceAll(file, "{locale}", l)
			b, err := os.ReadFile(name)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			} else if err != nil {
				return p, &SettingError{"EQUIPE_PRIVACY_POLICY_FILE", "privacy-policy-file", "cannot read " + name}
			}
			if t := strings.TrimSpace(string(b)); t != "" {
				p.Texts[l] = t
				content += l + "\x00" + t + "\x00"
			}
		}
		if len(p.Texts) == 0 {
			return p, &SettingError{"EQUIPE_PRIVACY_POLICY_FILE", "privacy-policy-file", "no file " + file + " for fr or en, or all empty"}
		}
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return p, &SettingError{"EQUIPE_PRIVACY_POLICY_FILE", "privacy-policy-file", "cannot read " + file}
		}
		p.Text = strings.TrimSpace(string(b))
		if p.Text == "" {
			return p, &SettingError{"EQUIPE_PRIVACY_POLICY_FILE", "privacy-policy-file", file + " is empty"}
		}
		content = p.Text
	case rawURL == "":
		// The built-in policy, in each language: a French page never shows
		// the English text and the other way round. The version is derived
		// from the whole text, as when it was one text for both.
		whole := strings.TrimSpace(defaultPolicy)
		fr, en, _ := strings.Cut(whole, "\n—\n")
		p.Texts = map[string]string{"fr": strings.TrimSpace(fr), "en": strings.TrimSpace(en)}
		content = whole
	}
	if version == "" {
		sum := sha256.Sum256([]byte(p.URL + "\x00" + content))
		version = hex.EncodeToString(sum[:6])
	}
	if len(version) > 64 || strings.ContainsFunc(version, func(r rune) bool { return r < ' ' }) {
		return p, &SettingError{"EQUIPE_PRIVACY_POLICY_VERSION", "privacy-policy-version", "must be a short line of text"}
	}
	p.Version = version
	return p, nil
}
