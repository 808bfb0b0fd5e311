package api

import (
	"net/http"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

// resourceView is a resource of an account. Members is given for one
// resource (GET …/resources/{resource}); a list gives member_count.
type resourceView struct {
	ID          equipe.ID            `json:"id"`
	Actions     actionsView          `json:"actions,omitempty"`
	AccountID   equipe.ID            `json:"account_id"`
	Type        string               `json:"type"`
	Name        string               `json:"name"`
	ExternalID  string               `json:"external_id,omitempty"`
	Archived    bool                 `json:"archived"`
	ArchivedAt  *time.Time           `json:"archived_at"`
	CreatedAt   time.Time            `json:"created_at"`
	MemberCount int                  `json:"member_count"`
	Members     []resourceMemberView `json:"members,omitempty"`
}

// resourceMemberView is a member assigned to a resource.
type resourceMemberView struct {
	UserID    equipe.ID           `json:"user_id"`
	FirstName string              `json:"first_name"`
	LastName  string              `json:"last_name"`
	Email     string              `json:"email"`
	Status    equipe.MemberStatus `json:"status"`
}

func viewResource(v team.ResourceView, members bool) resourceView {
	r := v.Resource
	out := resourceView{ID: r.ID, Actions: viewActions(v.Actions), AccountID: r.AccountID, Type: r.Type, Name: r.Name,
		ExternalID: r.ExternalID, Archived: r.Archived(), ArchivedAt: timePtr(r.ArchivedAt), CreatedAt: r.CreatedAt,
		MemberCount: len(v.Members)}
	if members {
		out.Members = []resourceMemberView{}
		for _, m := range v.Members {
			out.Members = append(out.Members, resourceMemberView{UserID: m.UserID, FirstName: m.FirstName,
				LastName: m.LastName, Email: m.Email, Status: m.Status})
		}
	}
	return out
}

// accountResource parses the account and the resource a path names.
func accountResource(r *http.Request) (equipe.ID, equipe.ID, error) {
	account, err := pathID(r, "account")
	if err != nil {
		return account, account, err
	}
	id, err := pathID(r, "resource")
	return account, id, err
}

func (a *API) resources(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := team.ResourceFilter{Type: q.Get("type")}
	switch archived := q.Get("archived"); archived {
	case "":
	case "true", "false":
		only := archived == "true"
		f.Archived = &only
	default:
		return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
			Fields: []equipe.FieldError{{Field: "archived", Key: "resource.archived_filter_invalid"}}}
	}
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	rs, next, err := a.Team.ResourceList(r.Context(), actor(r), account, f, p)
	if err != nil {
		return err
	}
	out := newList[resourceView](len(rs), next)
	for _, v := range rs {
		out.Items = append(out.Items, viewResource(v, false))
	}
	return respond(w, http.StatusOK, out)
}

type resourceRequest struct {
	Type       string `json:"type"`
	Name       string `json:"name"`
	ExternalID string `json:"external_id"`
}

func (a *API) createResource(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	var in resourceRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	x, err := a.Team.CreateResource(r.Context(), actor(r), account, in.Type, in.Name, in.ExternalID)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/accounts/"+account.String()+"/resources/"+x.ID.String())
	return a.respondResource(w, r, http.StatusCreated, x)
}

// respondResource answers with the resource as the caller may see it now:
// with its members and actions, or, for a caller who manages resources
// without seeing the account's members, as it was written.
func (a *API) respondResource(w http.ResponseWriter, r *http.Request, status int, x equipe.Resource) error {
	v, err := a.Team.Resource(r.Context(), actor(r), x.AccountID, x.ID)
	if equipe.ErrorCode(err) == equipe.EFORBIDDEN {
		return respond(w, status, viewResource(team.ResourceView{Resource: x}, false))
	}
	if err != nil {
		return err
	}
	return respond(w, status, viewResource(v, true))
}

func (a *API) resource(w http.ResponseWriter, r *http.Request) error {
	account, id, err := accountResource(r)
	if err != nil {
		return err
	}
	v, err := a.Team.Resource(r.Context(), actor(r), account, id)
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, viewResource(v, true))
}

// resourcePatch changes a resource: each field given is set. The type of a
// resource does not change (an unknown field is refused).
type resourcePatch struct {
	Name       *string `json:"name"`
	ExternalID *string `json:"external_id"`
}

func (a *API) changeResource(w http.ResponseWriter, r *http.Request) error {
	account, id, err := accountResource(r)
	if err != nil {
		return err
	}
	var in resourcePatch
	if err := decode(w, r, &in); err != nil {
		return err
	}
	x, err := a.Team.ChangeResource(r.Context(), actor(r), account, id, team.ResourceChange(in))
	if err != nil {
		return err
	}
	return a.respondResource(w, r, http.StatusOK, x)
}

func (a *API) archiveResource(w http.ResponseWriter, r *http.Request) error {
	account, id, err := accountResource(r)
	if err != nil {
		return err
	}
	x, err := a.Team.ArchiveResource(r.Context(), actor(r), account, id)
	if err != nil {
		return err
	}
	return a.respondResource(w, r, http.StatusOK, x)
}

func (a *API) restoreResource(w http.ResponseWriter, r *http.Request) error {
	account, id, err := accountResource(r)
	if err != nil {
		return err
	}
	x, err := a.Team.RestoreResource(r.Context(), actor(r), account, id)
	if err != nil {
		return err
	}
	return a.respondResource(w, r, http.StatusOK, x)
}
