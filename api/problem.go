package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/brand"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/problem"
)

// ProblemTypePrefix starts every problem type URI.
const ProblemTypePrefix = problem.TypePrefix

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Status     int            `json:"status"`
	Detail     string         `json:"detail,omitempty"`
	Code       string         `json:"code"`
	Errors     []FieldProblem `json:"errors,omitempty"`
	RetryAfter int            `json:"retry_after,omitzero"`
}

// FieldProblem is a problem with one field of the request.
type FieldProblem struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// requestError is an error of the request's form, found before any use case
// runs: malformed JSON, wrong media type, body too large.
type requestError struct {
	status int
	typ    string
	key    string
	args   map[string]any // of the detail's message
	fields []equipe.FieldError
}

func (e *requestError) Error() string { return e.key }

// writeProblem writes err as a problem document in locale. Internal errors
// are logged and answered without details.
func writeProblem(w http.ResponseWriter, r *http.Request, cat *i18n.Catalog, log *slog.Logger, locale string, err error) {
	var p Problem
	var re *requestError
	if errors.As(err, &re) {
		p = Problem{Type: ProblemTypePrefix + re.typ, Status: re.status, Code: re.key}
		p.Title = cat.T(locale, "error."+strings.ReplaceAll(re.typ, "-", "_"), nil)
		p.Detail = cat.T(locale, re.key, re.args)
		p.Errors = fieldProblems(cat, locale, re.fields)
	} else {
		e := equipe.AsError(err)
		if e.Code == equipe.EINTERNAL || !problem.Known(e.Code) {
			log.Error("request failed", "method", r.Method, "path", httpauth.RedactPath(r.URL.Path), "err", err)
			e = &equipe.Error{Code: equipe.EINTERNAL, Key: "error.internal"}
		}
		typ := problem.Type(e.Code)
		if e.Code == equipe.EUNAVAILABLE {
			log.Warn("request met an unavailable database", "method", r.Method, "path", httpauth.RedactPath(r.URL.Path), "err", err)
			w.Header().Set("Retry-After", "1")
		}
		p = Problem{Type: ProblemTypePrefix + typ, Status: problem.Status(e.Code), Code: e.Key,
			Title:  cat.T(locale, "error."+strings.ReplaceAll(typ, "-", "_"), nil),
			Detail: cat.T(locale, e.Key, e.Args), Errors: fieldProblems(cat, locale, e.Fields)}
		if e.Code == equipe.ERATELIMITED {
			secs := int((e.RetryAfter + time.Second - 1) / time.Second)
			secs = max(secs, 1)
			p.RetryAfter = secs
			// A limit with a message of its own (too many invitations,
			// resets) keeps it; every other says how long to wait.
			key, args := e.Key, map[string]any{}
			if key == "" || key == "error.rate_limited" {
				key = "error.rate_limited_for"
			}
			for k, v := range e.Args {
				args[k] = v
			}
			args["duration"] = cat.Wait(locale, e.RetryAfter)
			p.Detail = cat.T(locale, key, args)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
		}
		if e.Code == equipe.EUNAUTHORIZED {
			w.Header().Set("WWW-Authenticate", brand.Realm(cat.ProductName(), ""))
		}
	}
	// A problem's text is for people, and may quote what the request
	// held: a byte that is not UTF-8 is written as U+FFFD rather than
	// losing the problem. Encoded before the status is written, like
	// every answer (see respond).
	body, err := json.Marshal(p, jsontext.AllowInvalidUTF8(true))
	if err != nil {
		log.Error("problem not encoded", "method", r.Method, "path", httpauth.RedactPath(r.URL.Path), "err", err)
		p = Problem{Type: ProblemTypePrefix + problem.Type(equipe.EINTERNAL), Status: http.StatusInternalServerError, Code: "error.internal",
			Title: cat.T(locale, "error.internal", nil), Detail: cat.T(locale, "error.internal", nil)}
		body, _ = json.Marshal(p)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	w.Write(body)
}

func fieldProblems(cat *i18n.Catalog, locale string, fields []equipe.FieldError) []FieldProblem {
	var out []FieldProblem
	for _, f := range fields {
		out = append(out, FieldProblem{Field: f.Field, Code: f.Key, Message: cat.T(locale, f.Key, f.Args)})
	}
	return out
}
