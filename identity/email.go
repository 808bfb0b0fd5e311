package identity

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Email length limits (RFC 5321 §4.5.3.1 and the 254-octet path limit).
const (
	maxEmailLen  = 254
	maxLocalLen  = 64
	maxDomainLen = 253
)

// idnaProfile maps and validates domain names the way registries and mail
// software do (UTS #46, non-transitional, with the bidi and join rules).
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.ValidateLabels(true),
	idna.StrictDomainName(true),
	idna.Transitional(false),
)

// NormalizeEmail checks that raw is a bare email address (local@domain, no
// display name, no comments, no quoted local part) and returns it normalised
// (trimmed, domain lower-cased and IDNA-encoded) with its comparison key (the
// normalised address lower-cased: local parts compare case-insensitively).
// It returns a message key for the problem when raw is not acceptable.
//
// The local part must be ASCII: internationalised local parts are rare and
// let look-alike characters (Cyrillic "а" for Latin "a", dotless "ı") create
// addresses that read as someone else's. A domain whose labels mix scripts
// is refused for the same reason (UTS #39 mixed-script detection).
func NormalizeEmail(raw string) (email, key, problem string) {
	if len(raw) > 4*maxEmailLen {
		return "", "", "email.too_long"
	}
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", "", "email.required"
	}
	if !utf8.ValidString(s) {
		return "", "", "email.invalid"
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == '<' || r == '>' || r == '"' || r == ',' || r == ';' ||
			r == '(' || r == ')' || r == '\\' || r == '[' || r == ']' || r == ':' {
			return "", "", "email.invalid"
		}
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.Count(s, "@") != 1 {
		return "", "", "email.invalid"
	}
	local, domain := s[:at], s[at+1:]
	if len(local) > maxLocalLen {
		return "", "", "email.too_long"
	}
	if !validLocal(local) {
		for _, r := range local {
			if r >= utf8.RuneSelf {
				return "", "", "email.non_ascii_local"
			}
		}
		return "", "", "email.invalid"
	}
	ascii, err := idnaProfile.ToASCII(domain)
	if err != nil || ascii == "" {
		return "", "", "email.invalid_domain"
	}
	ascii = strings.ToLower(strings.TrimSuffix(ascii, "."))
	if len(ascii) > maxDomainLen {
		return "", "", "email.too_long"
	}
	if !validDomain(ascii) {
		return "", "", "email.invalid_domain"
	}
	if uni, err := idnaProfile.ToUnicode(ascii); err == nil && mixedScripts(uni) {
		return "", "", "email.confusable"
	}
	email = local + "@" + ascii
	if len(email) > maxEmailLen {
		return "", "", "email.too_long"
	}
	return email, strings.ToLower(local) + "@" + ascii, ""
}

// EmailKey returns the comparison key of an email for lookups and throttles,
// or the trimmed, lower-cased input when it is not a valid address (so that
// throttling keys every attempt, valid or not, the same way).
func EmailKey(raw string) string {
	if _, key, p := NormalizeEmail(raw); p == "" {
		return key
	}
	s := strings.ToLower(strings.TrimSpace(raw))
	if len(s) > maxEmailLen {
		s = s[:maxEmailLen]
	}
	return s
}

// validLocal reports whether s is an RFC 5322 dot-atom of ASCII atext.
func validLocal(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+/=?^_`{|}~-.", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validDomain reports whether s is an ASCII host name with at least two
// labels, each 1–63 letters, digits or inner hyphens, and a TLD that is not
// all digits (no IP addresses).
func validDomain(s string) bool {
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return strings.Trim(tld, "0123456789") != ""
}

// scripts that look-alike attacks mix with Latin.
var confusableScripts = []*unicode.RangeTable{
	unicode.Latin, unicode.Cyrillic, unicode.Greek, unicode.Armenian, unicode.Cherokee,
	unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Arabic, unicode.Hebrew,
	unicode.Thai, unicode.Devanagari, unicode.Georgian,
}

// mixedScripts reports whether a label of the Unicode domain uses letters of
// more than one script, as "exаmple" with a Cyrillic "а" does. Digits and
// hyphens belong to no script. Han with Hiragana or Katakana is normal
// Japanese and not counted as mixed.
func mixedScripts(domain string) bool {
	for _, label := range strings.Split(domain, ".") {
		seen := map[*unicode.RangeTable]bool{}
		for _, r := range label {
			if r < utf8.RuneSelf && !unicode.IsLetter(r) {
				continue
			}
			for _, t := range confusableScripts {
				if unicode.Is(t, r) {
					seen[t] = true
					break
				}
			}
		}
		if seen[unicode.Han] {
			delete(seen, unicode.Hiragana)
			delete(seen, unicode.Katakana)
		}
		if len(seen) > 1 {
			return true
		}
	}
	return false
}
