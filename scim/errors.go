package scim

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/brand"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/problem"
)

// The scimType values of RFC 7644 §3.12 that the service answers.
const (
	invalidFilter = "invalidFilter"
	tooMany       = "tooMany"
	uniqueness    = "uniqueness"
	mutability    = "mutability"
	invalidSyntax = "invalidSyntax"
	invalidPath   = "invalidPath"
	noTarget      = "noTarget"
	invalidValue  = "invalidValue"
)

// scimError is a refusal the protocol itself names: a status, the
// scimType when it has one, and the message's key and arguments.
type scimError struct {
	status   int
	scimType string
	key      string
	args     map[string]any
}

func (e *scimError) Error() string { return e.key }

// badRequest is a 400 of type typ with the message key.
func badRequest(typ, key string, args map[string]any) error {
	return &scimError{status: http.StatusBadRequest, scimType: typ, key: key, args: args}
}

// errorBody is RFC 7644 §3.12's error response.
type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// uniqueKeys are the conflicts that say a value is taken: uniqueness.
var uniqueKeys = []string{"member.exists", "member.external_id_taken", "user.external_id_taken"}

// fail answers err as a SCIM error in the language the request asks for,
// English when it asks for none (a directory seldom does): a refusal reads
// the same before the key names its account as after, whatever the
// account's language.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	locale := i18n.NegotiateMachine(r.Header.Get("Accept-Language"))
	body := errorBody{Schemas: []string{schemaError}}
	var se *scimError
	if errors.As(err, &se) {
		body.ScimType = se.scimType
		body.Status, body.Detail = strconv.Itoa(se.status), s.I18n.T(locale, se.key, se.args)
		write(w, se.status, body)
		return
	}
	e := equipe.AsError(err)
	if e.Code == equipe.EINTERNAL || !problem.Known(e.Code) {
		s.Log.Error("request failed", "method", r.Method, "path", httpauth.RedactPath(r.URL.Path), "err", err)
		e = &equipe.Error{Code: equipe.EINTERNAL, Key: "error.internal"}
	}
	status := problem.Status(e.Code)
	body.Detail = s.I18n.T(locale, e.Key, e.Args)
	switch e.Code {
	case equipe.EINVALID:
		// RFC 7644 answers a bad value with 400, and says which.
		status, body.ScimType = http.StatusBadRequest, invalidValue
		var fields []string
		for _, f := range e.Fields {
			fields = append(fields, attributeOf(f.Field)+": "+s.I18n.T(locale, f.Key, f.Args))
		}
		if len(fields) > 0 {
			body.Detail = strings.Join(fields, "; ")
		}
	case equipe.ECONFLICT:
		for _, k := range uniqueKeys {
			if e.Key == k {
				body.ScimType = uniqueness
			}
		}
	case equipe.ERATELIMITED:
		secs := max(int((e.RetryAfter+time.Second-1)/time.Second), 1)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		// As the JSON API's problems: a limit with a message of its own
		// (too many invitations) keeps it, every other says how long to
		// wait, and both name the wait.
		key, args := e.Key, map[string]any{}
		if key == "" || key == "error.rate_limited" {
			key = "error.rate_limited_for"
		}
		for k, v := range e.Args {
			args[k] = v
		}
		args["duration"] = s.I18n.Wait(locale, e.RetryAfter)
		body.Detail = s.I18n.T(locale, key, args)
	case equipe.EUNAUTHORIZED:
		w.Header().Set("WWW-Authenticate", brand.Realm(s.I18n.ProductName(), "SCIM"))
	case equipe.EUNAVAILABLE:
		s.Log.Warn("request met an unavailable database", "method", r.Method, "path", httpauth.RedactPath(r.URL.Path), "err", err)
		w.Header().Set("Retry-After", "1")
	}
	body.Status = strconv.Itoa(status)
	write(w, status, body)
}

// attributeOf names the SCIM attribute behind a use case's field.
func attributeOf(field string) string {
	switch field {
	case "email":
		return "userName"
	case "external_id":
		return "externalId"
	case "first_name":
		return "name.givenName"
	case "last_name":
		return "name.familyName"
	}
	return field
}

// scimType is the media type of every answer.
var scimType = []string{mediaType}

// write answers v as SCIM JSON with status.
func write(w http.ResponseWriter, status int, v any) {
	w.Header()["Content-Type"] = scimType
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.MarshalWrite(w, v)
}
