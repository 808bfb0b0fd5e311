package api

import (
	"net/http"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
)

// accessStateView is an account's access state (team.AccessState): what a
// vendor's process needs to compile members and decide checks itself.
type accessStateView struct {
	Cursor    string                       `json:"cursor"`
	AccountID equipe.ID                    `json:"account_id"`
	ParentID  *equipe.ID                   `json:"parent_id"`
	Resources []equipe.ID                  `json:"resources"`
	Archived  []equipe.ID                  `json:"archived"`
	Members   map[string]*access.InputJSON `json:"members"`
}

// accessState serves GET /api/v1/accounts/{account}/access-state?user=…
// (the parameter repeated for up to 100 users).
func (a *API) accessState(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	var users []equipe.ID
	for _, s := range r.URL.Query()["user"] {
		id, err := equipe.ParseID(s)
		if err != nil {
			return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields", Fields: []equipe.FieldError{{Field: "user", Key: "request.id_invalid"}}}
		}
		users = append(users, id)
	}
	st, err := a.Team.AccessStateOf(r.Context(), actor(r), account, users)
	if err != nil {
		return err
	}
	v := accessStateView{Cursor: st.Cursor, AccountID: st.Account, ParentID: st.Parent, Resources: st.Resources,
		Archived: st.Archived, Members: make(map[string]*access.InputJSON, len(st.Members))}
	if v.Resources == nil {
		v.Resources = []equipe.ID{}
	}
	if v.Archived == nil {
		v.Archived = []equipe.ID{}
	}
	for u, in := range st.Members {
		var j *access.InputJSON
		if in != nil {
			jj := in.JSON()
			j = &jj
		}
		v.Members[u.String()] = j
	}
	return respond(w, http.StatusOK, v)
}
