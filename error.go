package equipe

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an Error. The web UI and the JSON API map each code to one
// HTTP status (see api.statusOf), so a use case never chooses a status itself.
type Code string

// Error codes.
const (
	EINVALID      Code = "invalid"      // the input is malformed or breaks a rule of form
	EBADREQUEST   Code = "bad_request"  // the request itself is out of its form (a page's limit or cursor), apart from any rule
	ENOTFOUND     Code = "not_found"    // the object does not exist or is not visible to the caller
	ECONFLICT     Code = "conflict"     // the change collides with the current state
	EFORBIDDEN    Code = "forbidden"    // the caller may not do this
	EUNAUTHORIZED Code = "unauthorized" // no valid credentials
	ECONSENT      Code = "consent"      // the privacy policy must be accepted first
	ERATELIMITED  Code = "rate_limited" // too many attempts; see Error.RetryAfter
	EGONE         Code = "gone"         // what was asked for is no longer kept (a change stream's cursor older than its window)
	EUNAVAILABLE  Code = "unavailable"  // a passing fault (database busy or unreachable); the request may be retried
	EINTERNAL     Code = "internal"     // a fault of ours; details are logged, never shown
)

// Error is the one error type of the domain. Key is a stable message key
// (for example "signup.email_unavailable"): the API returns it as the error's
// code and the web UI and API translate it into the reader's language.
type Error struct {
	Code       Code
	Key        string
	Fields     []FieldError  // per-field problems, for EINVALID
	RetryAfter time.Duration // for ERATELIMITED
	Until      time.Time     // for ERATELIMITED, when known: when the request may be made again
	Args       map[string]any
	Err        error // the cause, for logs only
}

// FieldError is a problem with one input field: Field is the field's name in
// the API (snake_case) and in the web form, Key a message key.
type FieldError struct {
	Field string
	Key   string
	Args  map[string]any
}

func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Key
	if len(e.Fields) > 0 {
		s += fmt.Sprintf(" (%d field errors)", len(e.Fields))
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and key.
func Errorf(code Code, key string) *Error { return &Error{Code: code, Key: key} }

// ErrorCode returns the code of err: the code of the first *Error in its chain,
// EINTERNAL for any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	if e, ok := err.(*Error); ok {
		return e.Code // most errors are refusals, unwrapped: no errors.As
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// AsError returns the first *Error in err's chain, or an EINTERNAL *Error
// wrapping err.
func AsError(err error) *Error {
	if e, ok := err.(*Error); ok {
		return e
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: EINTERNAL, Key: "error.internal", Err: err}
}

// Invalid collects field errors; Err returns nil when there are none.
type Invalid struct{ Fields []FieldError }

// Add records a problem with field.
func (v *Invalid) Add(field, key string) {
	v.Fields = append(v.Fields, FieldError{Field: field, Key: key})
}

// AddArgs records a problem with field whose message takes arguments.
func (v *Invalid) AddArgs(field, key string, args map[string]any) {
	v.Fields = append(v.Fields, FieldError{Field: field, Key: key, Args: args})
}

// Has reports whether field already has a problem.
func (v *Invalid) Has(field string) bool {
	for _, f := range v.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// AddWithin records the field errors of err, an error of a part of a
// request, under that part's name (part.field), and reports whether err was
// one; any other error is left to the caller.
func (v *Invalid) AddWithin(part string, err error) bool {
	e, ok := err.(*Error)
	if !ok || e.Code != EINVALID || len(e.Fields) == 0 {
		return false
	}
	for _, f := range e.Fields {
		f.Field = part + "." + f.Field
		v.Fields = append(v.Fields, f)
	}
	return true
}

// Err returns an EINVALID *Error carrying the fields, or nil.
func (v *Invalid) Err() error {
	if len(v.Fields) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Key: "error.fields", Fields: v.Fields}
}
