package api

import (
	"net/http"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/team"
)

type newAccountRequest struct {
	Name          string `json:"name"`
	Locale        string `json:"locale"`
	FirstResource struct {
		Type string `json:"type"`
		Name string `json:"name"`
	} `json:"first_resource"`
	Owner struct {
		Email     string `json:"email"`
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
	} `json:"owner"`
	Message string `json:"message"`
}

func (in newAccountRequest) input(r *http.Request, a *API) team.NewAccount {
	locale := in.Locale
	if locale == "" {
		locale = a.locale(r)
	}
	return team.NewAccount{Name: in.Name, Locale: locale, ResourceType: in.FirstResource.Type, ResourceName: in.FirstResource.Name,
		OwnerEmail: in.Owner.Email, OwnerFirstName: in.Owner.FirstName, OwnerLastName: in.Owner.LastName, Message: in.Message}
}

func (a *API) createAccount(w http.ResponseWriter, r *http.Request) error {
	var in newAccountRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	acct, err := a.Team.CreateAccountFor(r.Context(), actor(r), in.input(r, a))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/accounts/"+acct.ID.String())
	return respond(w, http.StatusCreated, viewAccount(acct))
}

type clientView struct {
	accountView
	Staff []equipe.ID `json:"staff"`
}

func viewClient(c team.Client) clientView {
	staff := c.Staff
	if staff == nil {
		staff = []equipe.ID{}
	}
	v := clientView{accountView: viewAccount(c.Account), Staff: staff}
	v.Actions = viewActions(c.Actions)
	return v
}

func (a *API) clients(w http.ResponseWriter, r *http.Request) error {
	firm, err := pathID(r, "account")
	if err != nil {
		return err
	}
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	cs, next, err := a.Team.ClientPage(r.Context(), actor(r), firm, p)
	if err != nil {
		return err
	}
	out := newList[clientView](len(cs), next)
	for _, c := range cs {
		out.Items = append(out.Items, viewClient(c))
	}
	return respond(w, http.StatusOK, out)
}

func (a *API) createClient(w http.ResponseWriter, r *http.Request) error {
	firm, err := pathID(r, "account")
	if err != nil {
		return err
	}
	var in newAccountRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	acct, err := a.Team.CreateClient(r.Context(), actor(r), firm, in.input(r, a))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/accounts/"+acct.ID.String())
	return respond(w, http.StatusCreated, viewAccount(acct))
}

func firmClient(r *http.Request) (equipe.ID, equipe.ID, error) {
	firm, err := pathID(r, "account")
	if err != nil {
		return firm, firm, err
	}
	client, err := pathID(r, "client")
	return firm, client, err
}

func (a *API) detachClient(w http.ResponseWriter, r *http.Request) error {
	firm, client, err := firmClient(r)
	if err != nil {
		return err
	}
	if err := a.Team.DetachClient(r.Context(), actor(r), firm, client); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// endFirmAccess ends, at the client account's request, its firm's access.
func (a *API) endFirmAccess(w http.ResponseWriter, r *http.Request) error {
	client, err := pathID(r, "account")
	if err != nil {
		return err
	}
	if err := a.Team.EndFirmAccess(r.Context(), actor(r), client); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type staffRequest struct {
	UserID string `json:"user_id"`
}

func (a *API) assignStaff(w http.ResponseWriter, r *http.Request) error {
	firm, client, err := firmClient(r)
	if err != nil {
		return err
	}
	var in staffRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	user, err := equipe.ParseID(in.UserID)
	if err != nil {
		return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields", Fields: []equipe.FieldError{{Field: "user_id", Key: "client.staff_not_member"}}}
	}
	if err := a.Team.AssignStaff(r.Context(), actor(r), firm, client, user); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) unassignStaff(w http.ResponseWriter, r *http.Request) error {
	firm, client, err := firmClient(r)
	if err != nil {
		return err
	}
	user, err := a.memberParam(r, firm)
	if err != nil {
		return err
	}
	if err := a.Team.UnassignStaff(r.Context(), actor(r), firm, client, user); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type contactView struct {
	ID        equipe.ID   `json:"id"`
	Actions   actionsView `json:"actions,omitempty"`
	AccountID equipe.ID   `json:"account_id"`
	FirstName string      `json:"first_name"`
	LastName  string      `json:"last_name"`
	Email     string      `json:"email"`
	Phone     string      `json:"phone"`
	Kinds     []string    `json:"kinds"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

func viewContact(cv team.ContactView) contactView {
	c := cv.Contact
	kinds := c.Kinds
	if kinds == nil {
		kinds = []string{}
	}
	return contactView{ID: c.ID, Actions: viewActions(cv.Actions), AccountID: c.AccountID, FirstName: c.FirstName,
		LastName: c.LastName, Email: c.Email, Phone: c.Phone, Kinds: kinds, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// respondContact answers with the contact and what the caller may do with
// it.
func (a *API) respondContact(w http.ResponseWriter, r *http.Request, status int, account, id equipe.ID) error {
	cv, err := a.Team.Contact(r.Context(), actor(r), account, id)
	if err != nil {
		return err
	}
	return respond(w, status, viewContact(cv))
}

type contactRequest struct {
	FirstName string   `json:"first_name"`
	LastName  string   `json:"last_name"`
	Email     string   `json:"email"`
	Phone     string   `json:"phone"`
	Kinds     []string `json:"kinds"`
}

// contactPatch changes the fields it names (an empty string empties one).
type contactPatch struct {
	FirstName *string   `json:"first_name"`
	LastName  *string   `json:"last_name"`
	Email     *string   `json:"email"`
	Phone     *string   `json:"phone"`
	Kinds     *[]string `json:"kinds"`
}

func (in contactRequest) input() team.ContactInput {
	return team.ContactInput{FirstName: in.FirstName, LastName: in.LastName, Email: in.Email, Phone: in.Phone, Kinds: in.Kinds}
}

func (a *API) contacts(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	cs, next, err := a.Team.Contacts(r.Context(), actor(r), account, p)
	if err != nil {
		return err
	}
	out := newList[contactView](len(cs), next)
	for _, c := range cs {
		out.Items = append(out.Items, viewContact(c))
	}
	return respond(w, http.StatusOK, out)
}

func (a *API) createContact(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	var in contactRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	c, err := a.Team.CreateContact(r.Context(), actor(r), account, in.input())
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/accounts/"+account.String()+"/contacts/"+c.ID.String())
	return a.respondContact(w, r, http.StatusCreated, account, c.ID)
}

func accountContact(r *http.Request) (equipe.ID, equipe.ID, error) {
	account, err := pathID(r, "account")
	if err != nil {
		return account, account, err
	}
	c, err := pathID(r, "contact")
	return account, c, err
}

func (a *API) contact(w http.ResponseWriter, r *http.Request) error {
	account, id, err := accountContact(r)
	if err != nil {
		return err
	}
	return a.respondContact(w, r, http.StatusOK, account, id)
}

func (a *API) updateContact(w http.ResponseWriter, r *http.Request) error {
	account, id, err := accountContact(r)
	if err != nil {
		return err
	}
	var in contactPatch
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if _, err := a.Team.UpdateContact(r.Context(), actor(r), account, id, team.ContactChange(in)); err != nil {
		return err
	}
	return a.respondContact(w, r, http.StatusOK, account, id)
}

func (a *API) deleteContact(w http.ResponseWriter, r *http.Request) error {
	account, id, err := accountContact(r)
	if err != nil {
		return err
	}
	if err := a.Team.DeleteContact(r.Context(), actor(r), account, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type switchRequest struct {
	AccountID *string `json:"account_id"`
}

func (a *API) switchAccount(w http.ResponseWriter, r *http.Request) error {
	var in switchRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	var account *equipe.ID
	if in.AccountID != nil {
		id, err := equipe.ParseID(*in.AccountID)
		if err != nil {
			return err
		}
		account = &id
	}
	if err := a.Team.SwitchAccount(r.Context(), auth.User.ID, auth.Session.ID, account); err != nil {
		return err
	}
	return respond(w, http.StatusOK, map[string]any{"current_account_id": account})
}

// firmStaffView is one of a firm's staff who reach a client account.
type firmStaffView struct {
	UserID *equipe.ID `json:"user_id"` // null, with an empty name, for the client's own members and keys
	Name   string     `json:"name"`
	Role   string     `json:"role"`
	// Via: "administrator" (of the firm: every client) or "assignment".
	Via string `json:"via"`
}

// firmStaff lists the firm's staff who reach the account, a client, with
// their firm role: apart from its members, and read-only.
func (a *API) firmStaff(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	staff, next, err := a.Team.FirmStaff(r.Context(), actor(r), account, p)
	if err != nil {
		return err
	}
	out := newList[firmStaffView](len(staff), next)
	for _, f := range staff {
		via := "administrator"
		if f.Assigned {
			via = "assignment"
		}
		v := firmStaffView{Name: f.Name, Role: f.Role.Key, Via: via}
		if f.UserID != (equipe.ID{}) {
			id := f.UserID
			v.UserID = &id
		}
		out.Items = append(out.Items, v)
	}
	return respond(w, http.StatusOK, out)
}
