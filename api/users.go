package api

import (
	"net/http"
	"strings"

	"github.com/equipe-dev/equipe"
)

// The instance's users, for instance administrators and instance keys.

type userDetailView struct {
	userView
	Disabled      bool                 `json:"disabled"`
	Memberships   []userMembershipView `json:"memberships"`
	Sessions      int                  `json:"sessions"`
	SecondFactors secondFactorsView    `json:"second_factors"`
}

type userMembershipView struct {
	AccountID   equipe.ID           `json:"account_id"`
	AccountName string              `json:"account_name"`
	Role        string              `json:"role"`
	Status      equipe.MemberStatus `json:"status"`
}

type secondFactorsView struct {
	TOTP          bool `json:"totp"`
	Passkeys      int  `json:"passkeys"`
	RecoveryCodes int  `json:"recovery_codes"`
}

func (a *API) users(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var after *equipe.ID
	if s := q.Get("cursor"); s != "" {
		id, err := equipe.ParseID(s)
		if err != nil {
			return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields", Fields: []equipe.FieldError{{Field: "cursor", Key: "request.cursor_invalid"}}}
		}
		after = &id
	}
	users, next, err := a.Team.Users(r.Context(), actor(r), strings.TrimSpace(q.Get("q")), after, limitParam(q.Get("limit")))
	if err != nil {
		return err
	}
	out := list[userView]{Items: []userView{}}
	for _, u := range users {
		out.Items = append(out.Items, viewUser(u))
	}
	if next != "" {
		out.NextCursor = &next
	}
	return respond(w, http.StatusOK, out)
}

func (a *API) user(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "user")
	if err != nil {
		return err
	}
	v, err := a.Team.User(r.Context(), actor(r), id, a.Identity.Config.SessionIdle)
	if err != nil {
		return err
	}
	out := userDetailView{userView: viewUser(v.User), Disabled: !v.User.DisabledAt.IsZero(), Memberships: []userMembershipView{},
		Sessions: v.Sessions, SecondFactors: secondFactorsView{TOTP: v.Factors.TOTP, Passkeys: v.Factors.Passkeys,
			RecoveryCodes: v.Factors.RecoveryCodes}}
	for _, ma := range v.Memberships {
		out.Memberships = append(out.Memberships, userMembershipView{AccountID: ma.Account.ID, AccountName: ma.Account.Name,
			Role: ma.Member.Role, Status: ma.Member.Status})
	}
	return respond(w, http.StatusOK, out)
}

func (a *API) endUserSessions(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "user")
	if err != nil {
		return err
	}
	n, err := a.Team.EndUserSessions(r.Context(), actor(r), id)
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, map[string]int{"sessions_ended": n})
}
