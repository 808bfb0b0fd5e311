package api

import (
	"net/http"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
)

// mySessionView is one of the caller's sessions: its public ID, never its
// secret.
type mySessionView struct {
	ID         equipe.ID `json:"id"`
	Current    bool      `json:"current"`
	Browser    string    `json:"browser"`
	System     string    `json:"system"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

func (a *API) mySessions(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	sessions, next, err := a.Identity.Sessions(r.Context(), auth, p)
	if err != nil {
		return err
	}
	out := newList[mySessionView](len(sessions), next)
	for _, s := range sessions {
		out.Items = append(out.Items, mySessionView{ID: s.ID, Current: s.Current, Browser: s.Device.Browser, System: s.Device.System,
			UserAgent: s.UserAgent, IP: s.IP, CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, ExpiresAt: s.ExpiresAt})
	}
	return respond(w, http.StatusOK, out)
}

func (a *API) endMySession(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "session")
	if err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	if err := a.Identity.EndSession(r.Context(), auth, id, httpauth.Origin(r)); err != nil {
		return err
	}
	if id == auth.Session.ID && httpauth.AuthVia(r) == httpauth.ViaCookie {
		a.Cookies.Clear(w)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) endMyOtherSessions(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	n, err := a.Identity.EndOtherSessions(r.Context(), auth, httpauth.Origin(r))
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, map[string]int{"sessions_ended": n})
}
