package web

import (
	"net/http"
	"time"

	"github.com/equipe-dev/equipe"
)

// securityPageSize is the number of records a page of the security log
// shows.
const securityPageSize = 50

type securityPage struct {
	Events []securityLine
	Pages  pager
}

type securityLine struct {
	At      time.Time
	Kind    string // message key
	Actor   string // "user" or "api_key…" message key
	ActorID string
	Account string
	What    string
}

// security shows the instance's administrators the requests refused across
// tenants, newest first.
func (w *Web) security(rw http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	pg := equipe.Page{After: q.Get("cursor"), Limit: securityPageSize}
	events, next, err := w.Team.SecurityLog(r.Context(), actor(r), pg)
	if cursorRefused(err) && pg.After != "" {
		pg.After = ""
		events, next, err = w.Team.SecurityLog(r.Context(), actor(r), pg)
	}
	if err != nil {
		return err
	}
	p := w.page(r, "page.security")
	var d securityPage
	for _, e := range events {
		l := securityLine{At: e.At, Kind: "security.kind." + e.Kind, Actor: "security.actor." + string(e.Actor.Kind), What: e.What}
		if e.Actor.ID != nil {
			l.ActorID = e.Actor.ID.String()
		}
		if e.Account != nil {
			l.Account = e.Account.String()
		}
		d.Events = append(d.Events, l)
	}
	d.Pages.Newest = true
	if next != "" {
		d.Pages.Next = "/admin/security?cursor=" + next
	}
	if pg.After != "" {
		d.Pages.First = "/admin/security"
	}
	p.Data = d
	return w.render(rw, r, http.StatusOK, "security", p)
}
