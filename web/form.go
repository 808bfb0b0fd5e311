package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/equipe-dev/equipe"
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
}

type fieldError struct {
	Key  string
	Args map[string]any
}

func newForm() *form {
	return &form{Values: map[string]string{}, Errors: map[string]fieldError{}}
}

// keep copies the named request values into the form, to show them again.
// Passwords are never kept.
func (f *form) keep(r *http.Request, names ...string) {
	for _, n := range names {
		f.Values[n] = r.PostFormValue(n)
	}
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
