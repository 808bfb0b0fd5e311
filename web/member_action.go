package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/team"
)

// memberAction is an action on a member that sends an email or takes
// something away: a GET shows what it will do and a button, and only the
// button's POST does it.
type memberAction struct {
	// name is the action's name among the use cases' answers (team.Actions).
	name string
	// words returns the keys of the page's title, text and button for the
	// member in the account.
	words  func(m equipe.Member, acct equipe.Account) actionWords
	danger bool
	// do performs the action and returns the team page's notice.
	do func(w *Web, r *http.Request, account, user equipe.ID, m equipe.Member, acct equipe.Account) (string, error)
}

type actionWords struct {
	Title, Lead, Button, Icon string
}

var (
	actInvite = &memberAction{
		name: team.MemberInvite,
		words: func(m equipe.Member, acct equipe.Account) actionWords {
			switch {
			case m.Status == equipe.MemberInvited && acct.RequiresActivation:
				return actionWords{"confirm.resend_activation_title", "confirm.resend_activation_lead", "confirm.resend_activation_button", ""}
			case m.Status == equipe.MemberInvited:
				return actionWords{"confirm.reinvite_title", "confirm.reinvite_lead", "confirm.reinvite_button", ""}
			case acct.RequiresActivation:
				return actionWords{"confirm.activate_title", "confirm.activate_lead", "confirm.activate_button", ""}
			}
			return actionWords{"confirm.invite_title", "confirm.invite_lead", "confirm.invite_button", "➕"}
		},
		do: func(w *Web, r *http.Request, account, user equipe.ID, m equipe.Member, acct equipe.Account) (string, error) {
			after, err := w.Team.Invite(r.Context(), actor(r), account, user)
			if err != nil {
				return "", err
			}
			again := after.InvitationsSent > 1 || m.Status == equipe.MemberInvited
			switch {
			case acct.RequiresActivation && again:
				return "activation_resent", nil
			case acct.RequiresActivation:
				return "activated", nil
			case again:
				return "reinvited", nil
			}
			return "invited", nil
		},
	}
	actRevoke = &memberAction{
		name: team.MemberRevoke,
		words: func(_ equipe.Member, acct equipe.Account) actionWords {
			if acct.RequiresActivation {
				return actionWords{"confirm.revoke_activation_title", "confirm.revoke_activation_lead", "confirm.revoke_activation_button", ""}
			}
			return actionWords{"confirm.revoke_title", "confirm.revoke_lead", "confirm.revoke_button", ""}
		},
		danger: true,
		do: func(w *Web, r *http.Request, account, user equipe.ID, _ equipe.Member, acct equipe.Account) (string, error) {
			done := "revoked"
			if acct.RequiresActivation {
				done = "revoked_activation"
			}
			return done, w.Team.RevokeInvitation(r.Context(), actor(r), account, user)
		},
	}
	actReset = &memberAction{
		name: team.MemberReset,
		words: func(m equipe.Member, acct equipe.Account) actionWords {
			switch {
			case m.JoinedAt.IsZero() && acct.RequiresActivation:
				return actionWords{"confirm.reset_title", "confirm.reset_lead_activation", "confirm.reset_button", "🔄"}
			case m.JoinedAt.IsZero():
				return actionWords{"confirm.reset_title", "confirm.reset_lead_invitation", "confirm.reset_button", "🔄"}
			}
			return actionWords{"confirm.reset_title", "confirm.reset_lead", "confirm.reset_button", "🔄"}
		},
		do: func(w *Web, r *http.Request, account, user equipe.ID, _ equipe.Member, acct equipe.Account) (string, error) {
			res, err := w.Team.AdminReset(r.Context(), actor(r), account, user)
			switch {
			case res.Invited && acct.RequiresActivation:
				return "reset_activation", err
			case res.Invited:
				return "reset_invitation", err
			}
			return "reset", err
		},
	}
	actSuspend = &memberAction{
		name: team.MemberSuspend,
		words: func(equipe.Member, equipe.Account) actionWords {
			return actionWords{"confirm.suspend_title", "confirm.suspend_lead", "confirm.suspend_button", ""}
		},
		danger: true,
		do: func(w *Web, r *http.Request, account, user equipe.ID, _ equipe.Member, _ equipe.Account) (string, error) {
			_, err := w.Team.Suspend(r.Context(), actor(r), account, user)
			return "suspended", err
		},
	}
	actReactivate = &memberAction{
		name: team.MemberReactivate,
		words: func(equipe.Member, equipe.Account) actionWords {
			return actionWords{"confirm.reactivate_title", "confirm.reactivate_lead", "confirm.reactivate_button", ""}
		},
		do: func(w *Web, r *http.Request, account, user equipe.ID, _ equipe.Member, _ equipe.Account) (string, error) {
			_, err := w.Team.Reactivate(r.Context(), actor(r), account, user)
			return "reactivated", err
		},
	}
	actRemove = &memberAction{
		name: team.MemberRemove,
		words: func(equipe.Member, equipe.Account) actionWords {
			return actionWords{"confirm.remove_title", "confirm.remove_lead", "confirm.remove_button", ""}
		},
		danger: true,
		do: func(w *Web, r *http.Request, account, user equipe.ID, _ equipe.Member, _ equipe.Account) (string, error) {
			return "removed", w.Team.RemoveMember(r.Context(), actor(r), account, user)
		},
	}
)

type confirmPage struct {
	Frame      accountFrame
	Title      string
	Lead       string
	Facts      []string
	Problem    string
	CanConfirm bool
	// AvailableAt says when a throttled action is possible again ("14:05");
	// until then its button is disabled.
	AvailableAt string
	Button      string
	Icon        string
	Danger      bool
	Back        string
}

// confirm returns the handler of an action's confirmation page.
func confirm(a *memberAction) func(w *Web, rw http.ResponseWriter, r *http.Request) error {
	return func(w *Web, rw http.ResponseWriter, r *http.Request) error {
		return w.showConfirm(rw, r, a, nil)
	}
}

// perform returns the handler that does the action, after the confirmation.
func perform(a *memberAction) func(w *Web, rw http.ResponseWriter, r *http.Request) error {
	return func(w *Web, rw http.ResponseWriter, r *http.Request) error {
		account, user, err := accountUser(r)
		if err != nil {
			return err
		}
		m, _, _, err := w.Team.Member(r.Context(), actor(r), account, user)
		if err != nil {
			return w.refuse(rw, r, err)
		}
		acct, err := w.Team.Account(r.Context(), actor(r), account)
		if err != nil {
			return err
		}
		done, err := a.do(w, r, account, user, m, acct)
		if err != nil {
			if equipe.ErrorCode(err) == equipe.ENOTFOUND {
				return err
			}
			return w.showConfirm(rw, r, a, err)
		}
		to := "/accounts/" + account.String() + "/members?done=" + done
		if a != actRemove {
			to += "&user=" + user.String()
		}
		return redirect(rw, r, to)
	}
}

// accountUser returns the account and the member a path names.
func accountUser(r *http.Request) (equipe.ID, equipe.ID, error) {
	account, err := pathID(r, "account")
	if err != nil {
		return account, account, err
	}
	user, err := pathID(r, "user")
	return account, user, err
}

// showConfirm shows what the action will do to the member, with its button;
// after a refusal (failed), why it was refused. Someone who may not take the
// action is told so before being asked to confirm it.
func (w *Web) showConfirm(rw http.ResponseWriter, r *http.Request, a *memberAction, failed error) error {
	account, user, err := accountUser(r)
	if err != nil {
		return err
	}
	act := actor(r)
	mv, err := w.Team.ViewMember(r.Context(), act, account, user)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	m, u := mv.Member, mv.User
	// Someone who may not take the action at all is told so on a page of
	// its own; an action the member's state stops is explained here.
	answer := mv.Actions.Get(a.name)
	if !answer.OK() && answer.Err.Code != equipe.ECONFLICT && answer.Err.Code != equipe.ERATELIMITED {
		return w.refuse(rw, r, answer.Err)
	}
	acct, err := w.Team.Account(r.Context(), act, account)
	if err != nil {
		return err
	}
	frame, err := w.frame(r, account, "team")
	if err != nil {
		return err
	}
	p := w.page(r, "page.member_confirm")
	words := a.words(m, acct)
	args := map[string]any{"name": personName(u), "email": u.Email, "account": acct.Name,
		"validity": w.duration(p.Locale, identity.InvitationTTL(acct))}
	d := confirmPage{Frame: frame, Title: w.I18n.T(p.Locale, words.Title, args), Lead: w.I18n.T(p.Locale, words.Lead, args),
		Button: w.I18n.T(p.Locale, words.Button, nil), Icon: words.Icon, Danger: a.danger, CanConfirm: true,
		Back: frame.URL("/members")}
	p.Heading = d.Title
	if a == actInvite && m.InvitationsSent > 0 {
		key := "confirm.invitations_sent"
		if acct.RequiresActivation {
			key = "confirm.activations_sent"
		}
		d.Facts = append(d.Facts, w.I18n.T(p.Locale, key,
			map[string]any{"count": m.InvitationsSent, "date": dateIn(p.Locale, m.LastInvitedAt, frame.Zone)}))
	}
	status := http.StatusOK
	if failed == nil && !answer.OK() {
		failed = answer.Err
	}
	if failed != nil {
		e := equipe.AsError(failed)
		d.Problem = w.problem(p.Locale, e)
		// Only a wait makes trying again worthwhile.
		d.CanConfirm = e.Code == equipe.ERATELIMITED
		if d.CanConfirm {
			rw.Header().Set("Retry-After", strconv.Itoa(max(1, int(e.RetryAfter.Seconds()))))
			if !e.Until.IsZero() {
				d.AvailableAt = clock(e.Until, frame.Zone)
			}
		}
		status = refusedStatus(failed)
	}
	p.Data = d
	return w.render(rw, r, status, "member_confirm", p)
}

// problem says in locale what a use case's refusal means, with its
// arguments: the permissions it names, the resource types, how long to wait.
func (w *Web) problem(locale string, e *equipe.Error) string {
	if e.Code == equipe.EINTERNAL || e.Key == "" {
		return w.I18n.T(locale, "error.internal", nil)
	}
	args := map[string]any{}
	for k, v := range e.Args {
		args[k] = v
	}
	if e.Code == equipe.ERATELIMITED {
		args["duration"] = w.I18n.Wait(locale, e.RetryAfter)
	}
	if types, ok := e.Args["types"].(string); ok {
		args["types"] = w.typeNames(locale, types)
	}
	return w.I18n.T(locale, e.Key, args)
}

// typeNames turns resource type keys ("product, theme") into their names.
func (w *Web) typeNames(locale, keys string) string {
	var out []string
	for _, k := range strings.Split(keys, ", ") {
		if rt, ok := w.Catalogue.ResourceType(k); ok {
			k = rt.Label.In(locale)
		}
		out = append(out, k)
	}
	return strings.Join(out, ", ")
}

// duration says a link's lifetime in days, or in hours when it is not a
// whole number of days.
func (w *Web) duration(locale string, d time.Duration) string {
	h := int(d / time.Hour)
	switch {
	case h == 24:
		return w.I18n.T(locale, "team.one_day", nil)
	case h%24 == 0:
		return w.I18n.T(locale, "team.days", map[string]any{"n": h / 24})
	case h == 1:
		return w.I18n.T(locale, "team.one_hour", nil)
	}
	return w.I18n.T(locale, "team.hours", map[string]any{"n": h})
}
