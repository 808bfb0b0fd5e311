package api

import (
	"net/http"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
)

// securityEventView is a record of the security log: identifiers only.
type securityEventView struct {
	ID        equipe.ID   `json:"id"`
	Kind      string      `json:"kind"`
	Actor     event.Actor `json:"actor"`
	AccountID *equipe.ID  `json:"account_id"`
	What      string      `json:"what"`
	At        time.Time   `json:"at"`
}

func (a *API) securityEvents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var before *equipe.ID
	if s := q.Get("cursor"); s != "" {
		id, err := equipe.ParseID(s)
		if err != nil {
			return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields", Fields: []equipe.FieldError{{Field: "cursor", Key: "request.cursor_invalid"}}}
		}
		before = &id
	}
	events, next, err := a.Team.SecurityLog(r.Context(), actor(r), before, limitParam(q.Get("limit")))
	if err != nil {
		return err
	}
	out := list[securityEventView]{Items: []securityEventView{}}
	for _, e := range events {
		out.Items = append(out.Items, securityEventView{ID: e.ID, Kind: e.Kind, Actor: e.Actor, AccountID: e.Account, What: e.What, At: e.At})
	}
	if next != "" {
		out.NextCursor = &next
	}
	return respond(w, http.StatusOK, out)
}
