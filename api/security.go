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
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	events, next, err := a.Team.SecurityLog(r.Context(), actor(r), p)
	if err != nil {
		return err
	}
	out := newList[securityEventView](len(events), next)
	for _, e := range events {
		out.Items = append(out.Items, securityEventView{ID: e.ID, Kind: e.Kind, Actor: e.Actor, AccountID: e.Account, What: e.What, At: e.At})
	}
	return respond(w, http.StatusOK, out)
}
