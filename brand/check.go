package brand

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/equipe-dev/equipe"
)

// The checks of each setting, shared by the configuration read at start
// and the instance administrator's page: a value the one refuses, the
// other refuses too, with the same words.

// MaxStylesheetBytes is the largest stylesheet accepted.
const MaxStylesheetBytes = 256 << 10

// MaxNameLen is the longest product name, in characters.
const MaxNameLen = 60

// Problem is why a setting's value is refused: a message key with its
// arguments, for a page or an API answer in the reader's language, and the
// same in English for the operator (Error).
type Problem struct {
	Key  string
	Args map[string]any
	msg  string
}

func (p *Problem) Error() string { return p.msg }

func problem(key string, args map[string]any, format string, a ...any) *Problem {
	return &Problem{Key: key, Args: args, msg: fmt.Sprintf(format, a...)}
}

// CheckName returns the product's name, trimmed: one line of 1 to
// MaxNameLen characters.
func CheckName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > MaxNameLen || strings.ContainsFunc(s, unicode.IsControl) {
		return "", problem("brand.name_invalid", map[string]any{"max": MaxNameLen}, "must be a line of 1 to %d characters", MaxNameLen)
	}
	return s, nil
}

// CheckSupportEmail returns the bare address s holds (help@example.com).
func CheckSupportEmail(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || strings.ContainsAny(s, "\r\n") {
		return "", problem("brand.email_invalid", nil, "%q is not an email address (for example help@example.com)", s)
	}
	return a.Address, nil
}

// CheckURL returns s as an absolute http:// or https:// URL with a host
// and no credentials.
func CheckURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || len(s) > 2000 {
		return "", problem("brand.url_invalid", nil, "%q must be an absolute http:// or https:// URL", s)
	}
	return u.String(), nil
}

// CheckStylesheet refuses a stylesheet larger than MaxStylesheetBytes.
func CheckStylesheet(css []byte) error {
	if len(css) > MaxStylesheetBytes {
		return problem("brand.stylesheet_too_big", map[string]any{"max": MaxStylesheetBytes >> 10},
			"is larger than %d KiB", MaxStylesheetBytes>>10)
	}
	return nil
}

// CheckKeyPrefix refuses what cannot start API keys' secrets (see
// equipe.CheckKeyPrefix).
func CheckKeyPrefix(p string) error {
	if err := equipe.CheckKeyPrefix(p); err != nil {
		return &Problem{Key: "brand.key_prefix_invalid", Args: map[string]any{"max": equipe.MaxKeyPrefixLen - 1}, msg: err.Error()}
	}
	return nil
}
