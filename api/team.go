package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/team"
)

func (a *API) account(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	return a.respondAccount(w, r, account, nil)
}

// respondAccount answers with the account (acct, or read) and what the
// caller may do in it.
func (a *API) respondAccount(w http.ResponseWriter, r *http.Request, account equipe.ID, acct *equipe.Account) error {
	if acct == nil {
		got, err := a.Team.Account(r.Context(), actor(r), account)
		if err != nil {
			return err
		}
		acct = &got
	}
	acts, err := a.Team.AccountActions(r.Context(), actor(r), account)
	if err != nil {
		return err
	}
	v := viewAccount(*acct)
	v.Actions = viewActions(acts)
	return respond(w, http.StatusOK, v)
}

type accountPatch struct {
	Name               *string `json:"name"`
	Locale             *string `json:"locale"`
	RequiresActivation *bool   `json:"requires_activation"`
	InvitationTTLHours *int    `json:"invitation_ttl_hours"`
	// NotifyAdder: when whoever adds a member is told by email.
	NotifyAdder *equipe.NotifyAdder `json:"notify_adder"`
	TimeZone    *string             `json:"time_zone"`
	// MFARequired: members must have a second factor, MFAGraceHours after
	// the requirement (or their joining) at the latest.
	MFARequired   *bool `json:"mfa_required"`
	MFAGraceHours *int  `json:"mfa_grace_hours"`
	// SCIMEnabled lets a directory provision the members through SCIM.
	SCIMEnabled *bool `json:"scim_enabled"`
}

func (a *API) updateAccount(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	var in accountPatch
	if err := decode(w, r, &in); err != nil {
		return err
	}
	acct, err := a.Team.UpdateAccount(r.Context(), actor(r), account, team.AccountChange{Name: in.Name, Locale: in.Locale,
		RequiresActivation: in.RequiresActivation, InvitationTTLHours: in.InvitationTTLHours, NotifyAdder: in.NotifyAdder,
		TimeZone: in.TimeZone, MFARequired: in.MFARequired, MFAGraceHours: in.MFAGraceHours,
		SCIMEnabled: in.SCIMEnabled})
	if err != nil {
		return err
	}
	return a.respondAccount(w, r, account, &acct)
}

func (a *API) deleteAccount(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	if err := a.Team.DeleteAccount(r.Context(), actor(r), account); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type teamRow struct {
	memberView
	NeverLoggedIn bool `json:"never_logged_in"`
	// InvitationUndelivered: the member has not joined and the last email
	// to their login email since the invitation could not be delivered.
	InvitationUndelivered bool `json:"invitation_undelivered"`
}

func (a *API) members(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	// The team page reads its filters with the same parser: its export and
	// this one select the same members.
	f, err := team.ParseMemberQuery(account, r.URL.Query())
	if err != nil {
		return err
	}
	if asCSV, err := wantsCSV(r); err != nil {
		return err
	} else if asCSV {
		return a.exportMembers(w, r, f)
	}
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	f.After, f.Limit = p.After, p.Limit
	rows, next, err := a.Team.TeamPage(r.Context(), actor(r), f)
	if err != nil {
		return err
	}
	out := newList[teamRow](len(rows), next)
	for _, row := range rows {
		u := equipe.User{Email: row.Email, FirstName: row.FirstName, LastName: row.LastName, LastLoginAt: row.LastLoginAt}
		// The row's names are already those the viewer may see.
		m := row.Member
		m.FirstName, m.LastName = "", ""
		v := viewMember(team.MemberView{Member: m, User: u, Resources: row.Resources, Actions: row.Actions,
			SecondFactor: row.SecondFactor})
		v.UserDisabled = row.UserDisabled
		out.Items = append(out.Items, teamRow{memberView: v, NeverLoggedIn: row.LastLoginAt.IsZero(),
			InvitationUndelivered: row.Undelivered})
	}
	return respond(w, http.StatusOK, out)
}

type addMemberRequest struct {
	Email             string                  `json:"email"`
	FirstName         string                  `json:"first_name"`
	LastName          string                  `json:"last_name"`
	Role              string                  `json:"role"`
	Overrides         map[string]overrideView `json:"overrides"`
	Resources         []string                `json:"resources"`
	Title             string                  `json:"title"`
	NotificationEmail string                  `json:"notification_email"`
	Locale            string                  `json:"locale"`
	SendInvitation    bool                    `json:"send_invitation"`
	SendWelcome       bool                    `json:"send_welcome"`
	Clients           []string                `json:"clients"`
	ExternalID        *string                 `json:"external_id"`
}

func (a *API) addMember(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	var in addMemberRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	resources, err := resourceIDs(in.Resources)
	if err != nil {
		return err
	}
	clients, err := clientIDs(in.Clients)
	if err != nil {
		return err
	}
	added, err := a.Team.AddMember(r.Context(), actor(r), account, team.NewMember{Email: in.Email, FirstName: in.FirstName,
		LastName: in.LastName, Role: in.Role, Overrides: overridesOf(in.Overrides), Resources: resources, Title: in.Title,
		NotificationEmail: in.NotificationEmail, Locale: in.Locale, SendInvitation: in.SendInvitation, SendWelcome: in.SendWelcome,
		Clients: clients, ExternalID: in.ExternalID})
	if e := equipe.AsError(err); e.Code == equipe.ECONFLICT && e.Key == "member.exists" {
		w.Header().Set("Location", "/api/v1/accounts/"+account.String()+"/members/"+e.Args["user_id"].(string))
	}
	if err != nil {
		return err
	}
	return a.respondMember(w, r, http.StatusCreated, account, added.User.ID)
}

// respondMember answers with the member and what the caller may do with
// them.
func (a *API) respondMember(w http.ResponseWriter, r *http.Request, status int, account, user equipe.ID) error {
	mv, err := a.Team.ViewMember(r.Context(), actor(r), account, user)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/accounts/"+account.String()+"/members/"+user.String())
	return respond(w, status, viewMember(mv))
}

func (a *API) removeMember(w http.ResponseWriter, r *http.Request) error {
	account, user, err := a.accountUser(r)
	if err != nil {
		return err
	}
	if err := a.Team.RemoveMember(r.Context(), actor(r), account, user); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) invite(w http.ResponseWriter, r *http.Request) error {
	account, user, err := a.accountUser(r)
	if err != nil {
		return err
	}
	if _, err := a.Team.Invite(r.Context(), actor(r), account, user); err != nil {
		return err
	}
	return a.respondMember(w, r, http.StatusOK, account, user)
}

func (a *API) revokeInvitation(w http.ResponseWriter, r *http.Request) error {
	account, user, err := a.accountUser(r)
	if err != nil {
		return err
	}
	if err := a.Team.RevokeInvitation(r.Context(), actor(r), account, user); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) adminReset(w http.ResponseWriter, r *http.Request) error {
	account, user, err := a.accountUser(r)
	if err != nil {
		return err
	}
	res, err := a.Team.AdminReset(r.Context(), actor(r), account, user)
	if err != nil {
		return err
	}
	sent := "password_reset"
	if res.Invited {
		sent = "invitation"
	}
	return respond(w, http.StatusAccepted, map[string]any{"sent": sent})
}

func (a *API) suspend(w http.ResponseWriter, r *http.Request) error {
	account, user, err := a.accountUser(r)
	if err != nil {
		return err
	}
	if _, err := a.Team.Suspend(r.Context(), actor(r), account, user); err != nil {
		return err
	}
	return a.respondMember(w, r, http.StatusOK, account, user)
}

func (a *API) reactivate(w http.ResponseWriter, r *http.Request) error {
	account, user, err := a.accountUser(r)
	if err != nil {
		return err
	}
	if _, err := a.Team.Reactivate(r.Context(), actor(r), account, user); err != nil {
		return err
	}
	return a.respondMember(w, r, http.StatusOK, account, user)
}

// accountUser parses the account and the member of a member route. The
// member is named by their user ID, or by the vendor's identifier as
// external_id:{id} (the member's own external ID, else their user's; see
// docs/api.md); one that names no member of the account answers 404.
func (a *API) accountUser(r *http.Request) (equipe.ID, equipe.ID, error) {
	account, err := pathID(r, "account")
	if err != nil {
		return account, account, err
	}
	user, err := a.memberParam(r, account)
	return account, user, err
}

// externalPrefix introduces the vendor's identifier where the API takes a
// user's ID.
const externalPrefix = "external_id:"

// memberParam parses the path's {user} naming a member of the account (see
// accountUser).
func (a *API) memberParam(r *http.Request, account equipe.ID) (equipe.ID, error) {
	v := r.PathValue("user")
	if ext, ok := strings.CutPrefix(v, externalPrefix); ok {
		return a.Team.MemberByExternalID(r.Context(), actor(r), account, ext)
	}
	return equipe.ParseID(v)
}

// pageParam reads the page a list request asks for, from its cursor and
// limit (equipe.ParsePage): every list of the API pages the same way.
func pageParam(r *http.Request) (equipe.Page, error) {
	q := r.URL.Query()
	return equipe.ParsePage(q.Get("cursor"), q.Get("limit"))
}

// eventView is a change event of the audit log: its public form
// (event.Public), with the address the request came from, which the audit
// log shows to whoever may read it, and action, actor_id, target_type and
// target_id, saying the same as type, actor and subject in the log's first
// form, kept for the clients that read it.
type eventView struct {
	event.Public
	IP         string     `json:"ip"`
	Action     event.Type `json:"action"`
	ActorID    *equipe.ID `json:"actor_id"`
	TargetType string     `json:"target_type"`
	TargetID   string     `json:"target_id"`
}

func viewEvent(e event.Event) eventView {
	return eventView{Public: e.Public(), IP: e.IP, Action: e.Type, ActorID: e.Actor.UserID(),
		TargetType: string(e.Subject.Kind), TargetID: e.Subject.ID}
}

func (a *API) audit(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := team.AuditFilter{Type: event.Type(q.Get("action")), Subject: q.Get("target")}
	// The kind's problem names the parameter that gave it.
	typeParam := "action"
	if t := q.Get("type"); t != "" {
		f.Type, typeParam = event.Type(t), "type"
	}
	if s := q.Get("actor"); s != "" {
		id, err := equipe.ParseID(s)
		if err != nil {
			return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields", Fields: []equipe.FieldError{{Field: "actor", Key: "request.id_invalid"}}}
		}
		f.ActorID = &id
	}
	if asCSV, err := wantsCSV(r); err != nil {
		return err
	} else if asCSV {
		// The export starts after the cursor, when given; it has no size.
		f.Page.After = q.Get("cursor")
		return renameField(a.exportAudit(w, r, account, f), "type", typeParam)
	}
	if f.Page, err = pageParam(r); err != nil {
		return err
	}
	events, next, err := a.Team.AuditPage(r.Context(), actor(r), account, f)
	if err != nil {
		return renameField(err, "type", typeParam)
	}
	out := newList[eventView](len(events), next)
	for _, e := range events {
		out.Items = append(out.Items, viewEvent(e))
	}
	return respond(w, http.StatusOK, out)
}

// renameField gives a use case's problem with field the name of the
// request's parameter that carried it.
func renameField(err error, field, param string) error {
	var e *equipe.Error
	if errors.As(err, &e) {
		for i := range e.Fields {
			if e.Fields[i].Field == field {
				e.Fields[i].Field = param
			}
		}
	}
	return err
}

type invitationView struct {
	AccountID   equipe.ID `json:"account_id"`
	AccountName string    `json:"account_name"`
	InviterName string    `json:"inviter_name,omitempty"`
	Email       string    `json:"email"`
	FirstName   string    `json:"first_name"`
	LastName    string    `json:"last_name"`
	NewUser     bool      `json:"new_user"`
	Activation  bool      `json:"activation"`
	ExpiresAt   time.Time `json:"expires_at"`
	Status      string    `json:"status"` // usable, expired, used
}

func viewInvitation(inv identity.Invitation, status string) invitationView {
	v := invitationView{AccountID: inv.Account.ID, AccountName: inv.Account.Name, Email: inv.User.Email,
		FirstName: inv.FirstName(), LastName: inv.LastName(), NewUser: inv.NewUser, Activation: inv.Activation,
		ExpiresAt: inv.Token.ExpiresAt, Status: status}
	if inv.Inviter != nil {
		v.InviterName = inv.Inviter.Name()
	}
	return v
}

func (a *API) invitation(w http.ResponseWriter, r *http.Request) error {
	inv, err := a.Identity.Invitation(r.Context(), r.PathValue("token"), httpauth.Origin(r))
	if err != nil {
		e := equipe.AsError(err)
		if e.Code == equipe.ENOTFOUND && inv.Account.ID != (equipe.ID{}) {
			// Expired or used: say so, and which account it was for.
			status := "used"
			if e.Key == "link.expired" {
				status = "expired"
			}
			return respond(w, http.StatusGone, viewInvitation(inv, status))
		}
		return err
	}
	return respond(w, http.StatusOK, viewInvitation(inv, "usable"))
}

type acceptRequest struct {
	Password            string `json:"password"`
	FirstName           string `json:"first_name"`
	LastName            string `json:"last_name"`
	AcceptPrivacyPolicy bool   `json:"accept_privacy_policy"`
	PolicyVersion       string `json:"policy_version"`
	Locale              string `json:"locale"`
}

func (a *API) acceptInvitation(w http.ResponseWriter, r *http.Request) error {
	var in acceptRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var current *identity.Auth
	if auth, ok := httpauth.Auth(r); ok {
		current = &auth
	}
	auth, secret, err := a.Identity.AcceptInvitation(r.Context(), r.PathValue("token"), identity.Accept{Password: in.Password,
		FirstName: in.FirstName, LastName: in.LastName, AcceptPrivacyPolicy: in.AcceptPrivacyPolicy, PolicyVersion: in.PolicyVersion,
		Locale: in.Locale, PageLocale: sentLocale(r)}, current, httpauth.Origin(r))
	if err != nil {
		return err
	}
	out := map[string]any{"user": viewUser(auth.User)}
	if secret != "" {
		a.Cookies.Set(w, auth, secret)
		out["token"] = secret
		out["expires_at"] = auth.Session.ExpiresAt
	}
	return respond(w, http.StatusOK, out)
}
