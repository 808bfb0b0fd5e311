package api

import (
	"net/http"
	"time"

	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/identity"
)

// A person's passkeys. Registering one and logging in with one are
// WebAuthn ceremonies, which only a browser performs: they are on the pages
// (/me/passkeys, /login), whose script calls JSON endpoints of their own.
// The API lists, renames and removes them.

type passkeyView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func viewPasskey(k identity.Passkey) passkeyView {
	v := passkeyView{ID: k.ID.String(), Name: k.Name, CreatedAt: k.CreatedAt}
	if !k.LastUsedAt.IsZero() {
		t := k.LastUsedAt
		v.LastUsedAt = &t
	}
	return v
}

func (a *API) myPasskeys(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	keys, next, err := a.Identity.Passkeys(r.Context(), auth.User.ID, p)
	if err != nil {
		return err
	}
	out := newList[passkeyView](len(keys), next)
	for _, k := range keys {
		out.Items = append(out.Items, viewPasskey(k))
	}
	return respond(w, http.StatusOK, out)
}

type passkeyPatch struct {
	Name string `json:"name"`
}

func (a *API) renamePasskey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "passkey")
	if err != nil {
		return err
	}
	var in passkeyPatch
	if err := decode(w, r, &in); err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	k, err := a.Identity.RenamePasskey(r.Context(), auth, id, in.Name, httpauth.Origin(r))
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, viewPasskey(k))
}

type passkeyRemoval struct {
	Password string `json:"password"`
}

func (a *API) removePasskey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "passkey")
	if err != nil {
		return err
	}
	var in passkeyRemoval
	if err := decode(w, r, &in); err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	if err := a.Identity.RemovePasskey(r.Context(), auth, id, in.Password, httpauth.Origin(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
