package problem

import (
	"net/http"

	"github.com/equipe-dev/equipe"
)

// TypePrefix starts every problem type URI.
const TypePrefix = "urn:equipe:problem:"

type entry struct {
	status int
	typ    string
}

var table = map[equipe.Code]entry{
	equipe.EINVALID:      {http.StatusUnprocessableEntity, "invalid"},
	equipe.EBADREQUEST:   {http.StatusBadRequest, "bad-request"},
	equipe.ENOTFOUND:     {http.StatusNotFound, "not-found"},
	equipe.ECONFLICT:     {http.StatusConflict, "conflict"},
	equipe.EFORBIDDEN:    {http.StatusForbidden, "forbidden"},
	equipe.EUNAUTHORIZED: {http.StatusUnauthorized, "unauthorized"},
	equipe.ECONSENT:      {http.StatusForbidden, "consent-required"},
	equipe.ERATELIMITED:  {http.StatusTooManyRequests, "rate-limited"},
	equipe.EGONE:         {http.StatusGone, "gone"},
	equipe.EUNAVAILABLE:  {http.StatusServiceUnavailable, "unavailable"},
	equipe.EINTERNAL:     {http.StatusInternalServerError, "internal"},
}

// Status returns the HTTP status of an error code; a code the table does
// not know is an internal error.
func Status(code equipe.Code) int {
	if e, ok := table[code]; ok {
		return e.status
	}
	return http.StatusInternalServerError
}

// Type returns the short name of an error code's problem type ("not-found"),
// the end of its URI.
func Type(code equipe.Code) string {
	if e, ok := table[code]; ok {
		return e.typ
	}
	return table[equipe.EINTERNAL].typ
}

// Known reports whether the table maps code.
func Known(code equipe.Code) bool {
	_, ok := table[code]
	return ok
}

// StatusOf returns the HTTP status of err: that of its code.
func StatusOf(err error) int { return Status(equipe.ErrorCode(err)) }
