package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/identity"
)

// form carries a form's values and problems back to its template.
type form struct {
	Values map[string]string
	Errors map[string]fieldError
	Order  []string // fields with problems, in the order reported
	// Summary is a message key for a problem of the whole form.
	Summary string
	// RetryAfter is how long to wait, for a rate-limited form.
	RetryAfter time.Duration
	// Labels names the form's fields for its summary, where they differ
	// from the usual names (fieldLabels).
	Labels map[string]fieldLabel
	// unlinked are the fields with no input on the page (chosen on another
	// page): the summary says their problems without a link to nowhere.
	unlinked map[string]bool
}

// fieldLabel names a field in the summary of a form's problems: a message
// key with its arguments, or a text already in the reader's language.
type fieldLabel struct {
	Key  string
	Args map[string]any
	Text string
}

// fieldLabels are the message keys naming the fields that many forms share
// under the same name; a form names its other fields with label.
var fieldLabels = map[string]string{
	"first_name":       "field.first_name",
	"last_name":        "field.last_name",
	"email":            "field.email",
	"password":         "field.password",
	"password_confirm": "field.password_confirm",
	"account_name":     "field.account_name",
	"resource_type":    "field.resource_type",
	"resource_name":    "field.resource_name",
	"locale":           "field.locale",
	"accept":           "field.accept",
	"permissions":      "perms.legend",
}

type fieldError struct {
	Key  string
	Args map[string]any
}

func newForm() *form {
	return &form{Values: map[string]string{}, Errors: map[string]fieldError{}, Labels: map[string]fieldLabel{}}
}

// label names fields for the summary: pairs of a field and the message key
// of its label, as the page shows it.
func (f *form) label(pairs ...string) *form {
	for i := 0; i+1 < len(pairs); i += 2 {
		f.Labels[pairs[i]] = fieldLabel{Key: pairs[i+1]}
	}
	return f
}

// keep copies the named request values into the form, to show them again.
// Passwords are never kept.
func (f *form) keep(r *http.Request, names ...string) {
	for _, n := range names {
		f.Values[n] = r.PostFormValue(n)
	}
}

// unlink marks fields that have no input on the page (see form.unlinked),
// with their parts (a filter's fields, filter.status…).
func (f *form) unlink(names ...string) {
	if f.unlinked == nil {
		f.unlinked = map[string]bool{}
	}
	for _, n := range names {
		f.unlinked[n] = true
	}
}

// Linked reports whether the summary links a field's problem to its input.
func (f *form) Linked(name string) bool {
	whole, _, _ := strings.Cut(name, ".")
	return !f.unlinked[name] && !f.unlinked[whole]
}

// Value returns a kept value.
func (f *form) Value(name string) string { return f.Values[name] }

// Err returns the problem with a field, if any.
func (f *form) Err(name string) *fieldError {
	if e, ok := f.Errors[name]; ok {
		return &e
	}
	return nil
}

// Focus reports whether name is the field to focus: the first with a problem.
func (f *form) Focus(name string) bool { return len(f.Order) > 0 && f.Order[0] == name }

// HasErrors reports whether the form has any problem.
func (f *form) HasErrors() bool { return len(f.Order) > 0 || f.Summary != "" }

// add records a problem with a field; the first problem of a field wins.
func (f *form) add(field, key string, args map[string]any) {
	if _, ok := f.Errors[field]; ok {
		return
	}
	f.Errors[field] = fieldError{Key: key, Args: args}
	f.Order = append(f.Order, field)
}

// absorb takes the field problems of a use case's error, mapping API field
// names to form field names. It reports whether err was a validation error
// (or a conflict or rate limit shown on the form) that the form displays.
func (f *form) absorb(err error, rename map[string]string) bool {
	e := equipe.AsError(err)
	switch e.Code {
	case equipe.EINVALID, equipe.ECONFLICT:
	case equipe.ERATELIMITED:
		// A limit with a message of its own (too many invitations) keeps it.
		f.Summary = e.Key
		if f.Summary == "" || f.Summary == "error.rate_limited" {
			f.Summary = "error.rate_limited_for"
		}
		f.RetryAfter = e.RetryAfter
		return true
	default:
		return false
	}
	for _, fe := range e.Fields {
		name := fe.Field
		if n, ok := rename[name]; ok {
			name = n
		}
		f.add(name, fe.Key, fe.Args)
	}
	if len(e.Fields) == 0 {
		f.Summary = e.Key
	}
	return true
}

// arrange puts the problems in the order the fields appear on the page, so
// that the summary reads top to bottom and the focus goes to the first.
func (f *form) arrange(fields ...string) {
	pos := map[string]int{}
	for i, n := range fields {
		pos[n] = i + 1
	}
	slices.SortStableFunc(f.Order, func(a, b string) int {
		pa, pb := pos[a], pos[b]
		if pa == 0 {
			pa = len(fields) + 1
		}
		if pb == 0 {
			pb = len(fields) + 1
		}
		return pa - pb
	})
}

// fieldData is what the "field" template gets.
type fieldData struct {
	Form         *form
	Name         string
	Type         string
	Label        string // message key
	Autocomplete string
	Hint         string // message key of a hint shown under the field, or ""
}

// pager links a list's pages: the first, when on a later one, and the next.
type pager struct {
	First, Next string
	Newest      bool // the list runs newest first: "newest" and "older"
}

// cursorRefused reports whether err refuses a list's cursor (equipe.ErrCursor
// and the like): a link from another version of the list, or one typed by
// hand. A page answers it with the list's first page rather than an error,
// as a stale link should still show the list.
func cursorRefused(err error) bool {
	var e *equipe.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, f := range e.Fields {
		if f.Key == "request.cursor_invalid" {
			return true
		}
	}
	return false
}

// mismatched adds to f the problems of a new password whose confirmation
// differs: the rule it breaks, if any, beside field (identity's own check,
// against the words of its context), and the mismatch beside the
// confirmation, so that the form says every problem at once.
func mismatched(f *form, field, password string, context ...string) {
	var v equipe.Invalid
	identity.CheckNewPassword(&v, password, context...)
	for _, fe := range v.Fields {
		f.add(field, fe.Key, fe.Args)
	}
	f.add("password_confirm", "password.mismatch", nil)
}

// summaryLine says one problem of the form's summary in locale: the field's
// label and its message, joined as the language does ("First name: this
// field is required.", "Prénom : ce champ est obligatoire."). A field with
// no known label gives its message alone.
func (w *Web) summaryLine(locale string, f *form, name string) string {
	e, ok := f.Errors[name]
	if !ok {
		return ""
	}
	msg := w.I18n.T(locale, e.Key, e.Args)
	label := w.formLabel(locale, f, name)
	if label == "" {
		return msg
	}
	return w.I18n.T(locale, "form.problem", map[string]any{"label": label, "message": lowerFirst(msg)})
}

// formLabel names the field in locale: the form's own label, a
// permission's name for the picker's boxes, or the usual name of a shared
// field.
func (w *Web) formLabel(locale string, f *form, name string) string {
	if l, ok := f.Labels[name]; ok {
		if l.Text != "" {
			return l.Text
		}
		return w.I18n.T(locale, l.Key, l.Args)
	}
	for _, prefix := range []string{"permissions.", "overrides."} {
		if perm, ok := strings.CutPrefix(name, prefix); ok {
			if p, ok := w.Catalogue.Permission(perm); ok {
				return p.Label.In(locale)
			}
		}
	}
	if key, ok := fieldLabels[name]; ok {
		return w.I18n.T(locale, key, nil)
	}
	return ""
}

// lowerFirst lowers the first letter of a message that follows a label,
// unless the word is an acronym ("API", "URL").
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	next, _ := utf8.DecodeRuneInString(s[n:])
	if !unicode.IsUpper(r) || unicode.IsUpper(next) {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}
