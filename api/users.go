package api

import (
	"net/http"
	"strings"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

// The instance's users, for instance administrators and instance keys.

// instanceUserView is a user as the instance sees them: with the vendor's
// identifier of the person.
type instanceUserView struct {
	userView
	ExternalID *string `json:"external_id"`
}

func viewInstanceUser(u equipe.User) instanceUserView {
	return instanceUserView{userView: viewUser(u), ExternalID: textPtr(u.ExternalID)}
}

type userDetailView struct {
	instanceUserView
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
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	users, next, err := a.Team.Users(r.Context(), actor(r), strings.TrimSpace(r.URL.Query().Get("q")), p)
	if err != nil {
		return err
	}
	out := newList[instanceUserView](len(users), next)
	for _, u := range users {
		out.Items = append(out.Items, viewInstanceUser(u))
	}
	return respond(w, http.StatusOK, out)
}

// userParam parses the path's {user} naming a user of the instance: their
// ID, or external_id:{id} with the vendor's identifier of the person.
func (a *API) userParam(r *http.Request) (equipe.ID, error) {
	v := r.PathValue("user")
	if ext, ok := strings.CutPrefix(v, externalPrefix); ok {
		return a.Team.UserByExternalID(r.Context(), actor(r), ext)
	}
	return equipe.ParseID(v)
}

func (a *API) user(w http.ResponseWriter, r *http.Request) error {
	id, err := a.userParam(r)
	if err != nil {
		return err
	}
	return a.respondUser(w, r, id)
}

// respondUser answers with what the instance sees of the user.
func (a *API) respondUser(w http.ResponseWriter, r *http.Request, id equipe.ID) error {
	v, err := a.Team.User(r.Context(), actor(r), id, a.Identity.Config.SessionIdle)
	if err != nil {
		return err
	}
	out := userDetailView{instanceUserView: viewInstanceUser(v.User), Disabled: !v.User.DisabledAt.IsZero(), Memberships: []userMembershipView{},
		Sessions: v.Sessions, SecondFactors: secondFactorsView{TOTP: v.Factors.TOTP, Passkeys: v.Factors.Passkeys,
			RecoveryCodes: v.Factors.RecoveryCodes}}
	for _, ma := range v.Memberships {
		out.Memberships = append(out.Memberships, userMembershipView{AccountID: ma.Account.ID, AccountName: ma.Account.Name,
			Role: ma.Member.Role, Status: ma.Member.Status})
	}
	return respond(w, http.StatusOK, out)
}

type userPatch struct {
	// ExternalID: a string sets the vendor's identifier of the person,
	// null clears it.
	ExternalID nullableText `json:"external_id"`
	// Disabled disables the identity (true) or enables it again (false).
	Disabled *bool `json:"disabled"`
}

func (a *API) changeUser(w http.ResponseWriter, r *http.Request) error {
	id, err := a.userParam(r)
	if err != nil {
		return err
	}
	var in userPatch
	if err := decode(w, r, &in); err != nil {
		return err
	}
	ext, err := in.ExternalID.change("external_id")
	if err != nil {
		return err
	}
	if ext != nil || in.Disabled != nil {
		if _, err := a.Team.ChangeUser(r.Context(), actor(r), id, team.UserChange{ExternalID: ext, Disabled: in.Disabled}); err != nil {
			return err
		}
	}
	return a.respondUser(w, r, id)
}

func (a *API) endUserSessions(w http.ResponseWriter, r *http.Request) error {
	id, err := a.userParam(r)
	if err != nil {
		return err
	}
	n, err := a.Team.EndUserSessions(r.Context(), actor(r), id)
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, map[string]int{"sessions_ended": n})
}
