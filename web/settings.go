package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

// maxTTLHours is the longest lifetime of invitation links an account may
// set (the use case's limit, which the form's message states).
const maxTTLHours = 30 * 24

type settingsPage struct {
	Frame accountFrame
	// NewClient leads an account that has no clients yet, whose reader may
	// create them, to its first client account: its Clients section
	// appears once it has one.
	NewClient string
	// EndFirm, in a client account whose reader may end its firm's access,
	// leads to the page that does.
	EndFirm string
	// Delete leads a reader who may delete the account to the page that
	// does.
	Delete string
	// NotifyAdder lists the choices of when whoever adds a member is told.
	NotifyAdder []equipe.NotifyAdder
	// Zones are the time zones an account may choose; InstanceZone is the
	// one it follows when it chooses none.
	Zones        []string
	InstanceZone string
}

// showSettings shows the account's settings form; the reader needs
// account.manage.
func (w *Web) showSettings(rw http.ResponseWriter, r *http.Request, account equipe.ID, f *form, status int) error {
	acct, err := w.Team.Account(r.Context(), actor(r), account)
	if err != nil {
		return err
	}
	if err := w.mayIn(r, account, team.AccountChangeSettings); err != nil {
		return w.refuse(rw, r, err)
	}
	frame, err := w.frame(r, account, "settings")
	if err != nil {
		return err
	}
	p := w.page(r, "page.settings")
	switch r.URL.Query().Get("done") {
	case "saved":
		p.Notice = "settings.saved"
	case "firm_ended":
		p.Notice = "firm_end.done"
	}
	if f != nil {
		p.Form = f
	} else {
		ttl := acct.InvitationTTLHours
		if ttl <= 0 {
			ttl = equipe.DefaultInvitationTTLHours
		}
		unit := "days"
		n := ttl / 24
		if ttl%24 != 0 {
			unit, n = "hours", ttl
		}
		p.Form.Values = map[string]string{"name": acct.Name, "locale": acct.Locale, "invitation_ttl": strconv.Itoa(n),
			"invitation_ttl_unit": unit, "time_zone": acct.TimeZone}
		if acct.RequiresActivation {
			p.Form.Values["requires_activation"] = "yes"
		}
		p.Form.Values["notify_adder"] = string(acct.NotifyAdder)
		if !acct.MFARequiredAt.IsZero() {
			p.Form.Values["mfa_required"] = "yes"
		}
		grace, graceUnit := acct.MFAGraceHours, "hours"
		if grace%24 == 0 {
			grace, graceUnit = grace/24, "days"
		}
		p.Form.Values["mfa_grace"], p.Form.Values["mfa_grace_unit"] = strconv.Itoa(grace), graceUnit
		if acct.SCIMEnabled {
			p.Form.Values["scim_enabled"] = "yes"
		}
	}
	p.Form.arrange("name", "locale", "time_zone", "requires_activation", "invitation_ttl", "notify_adder", "mfa_required", "mfa_grace",
		"scim_enabled")
	p.Form.label("name", "settings.name", "locale", "settings.locale", "time_zone", "settings.time_zone",
		"requires_activation", "settings.requires_activation", "invitation_ttl", "settings.ttl", "notify_adder", "settings.notify_adder",
		"mfa_required", "settings.mfa_required", "mfa_grace", "settings.mfa_grace", "scim_enabled", "settings.scim_enabled")
	d := settingsPage{Frame: frame, NotifyAdder: []equipe.NotifyAdder{equipe.NotifyBoth, equipe.NotifyOnCreation,
		equipe.NotifyOnJoin, equipe.NotifyNever}, Zones: team.TimeZones(), InstanceZone: w.Team.TimeZoneOf(equipe.Account{})}
	if acct.ParentID == nil && w.mayIn(r, account, team.AccountManageClients) == nil {
		if firm, err := w.Team.IsFirm(r.Context(), actor(r), account); err == nil && !firm {
			d.NewClient = frame.URL("/clients/new")
		}
	}
	if acct.ParentID != nil && w.mayIn(r, account, team.AccountEndFirmAccess) == nil {
		d.EndFirm = frame.URL("/firm/end")
	}
	if w.mayIn(r, account, team.AccountDelete) == nil {
		d.Delete = frame.URL("/delete")
	}
	p.Data = d
	return w.render(rw, r, status, "settings", p)
}

func (w *Web) settingsForm(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	return w.showSettings(rw, r, account, nil, http.StatusOK)
}

func (w *Web) saveSettings(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	f := newForm()
	f.keep(r, "name", "locale", "time_zone", "requires_activation", "invitation_ttl", "invitation_ttl_unit", "notify_adder",
		"mfa_required", "mfa_grace", "mfa_grace_unit", "scim_enabled")
	name, locale, zone := r.PostFormValue("name"), r.PostFormValue("locale"), r.PostFormValue("time_zone")
	activation := r.PostFormValue("requires_activation") == "yes"
	hours, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("invitation_ttl")))
	switch {
	case err != nil:
		// Not a number: a lifetime the use case refuses, with the other
		// fields' problems, changing nothing.
		hours = 0
	case r.PostFormValue("invitation_ttl_unit") != "hours":
		// Bounded on both sides before the hours are counted, so that no
		// number of days overflows into a lifetime the use case accepts.
		hours = max(min(hours, maxTTLHours+1), -1) * 24
	}
	mfa := r.PostFormValue("mfa_required") == "yes"
	scim := r.PostFormValue("scim_enabled") == "yes"
	grace, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("mfa_grace")))
	switch {
	case strings.TrimSpace(r.PostFormValue("mfa_grace")) == "":
		grace = 0 // no grace: from the next request
	case err != nil:
		grace = -1 // refused by the use case, with the other fields' problems
	case r.PostFormValue("mfa_grace_unit") != "hours":
		grace = max(min(grace, team.MaxMFAGraceHours+1), -1) * 24
	}
	ch := team.AccountChange{Name: &name, Locale: &locale, RequiresActivation: &activation, InvitationTTLHours: &hours,
		TimeZone: &zone, MFARequired: &mfa, MFAGraceHours: &grace, SCIMEnabled: &scim}
	if n := equipe.NotifyAdder(r.PostFormValue("notify_adder")); n != "" {
		ch.NotifyAdder = &n
	}
	_, err = w.Team.UpdateAccount(r.Context(), actor(r), account, ch)
	if err != nil {
		if !f.absorb(err, map[string]string{"invitation_ttl_hours": "invitation_ttl", "mfa_grace_hours": "mfa_grace"}) {
			return w.refuse(rw, r, err)
		}
		if fe := f.Err("invitation_ttl"); fe != nil && fe.Key == "account.ttl_invalid" {
			// Said in the units of the form.
			f.Errors["invitation_ttl"] = fieldError{Key: "settings.ttl_range"}
		}
		if fe := f.Err("mfa_grace"); fe != nil && fe.Key == "account.mfa_grace_invalid" {
			f.Errors["mfa_grace"] = fieldError{Key: "settings.mfa_grace_range"}
		}
		return w.showSettings(rw, r, account, f, refusedStatus(err))
	}
	return redirect(rw, r, "/accounts/"+account.String()+"/settings?done=saved")
}

// settingsAction is an action on the whole account that its settings lead
// to, confirmed on a page of its own: ending the firm's access, deleting the
// account.
type settingsAction struct {
	action string // of team.Service.AccountActions
	// texts is the prefix of the page's texts: .title (given the account's
	// name as {account}), .lead, .button and .back; page the page's title.
	texts, page string
	do          func(w *Web, r *http.Request, account equipe.ID) error
	done        func(account equipe.ID) string // where a done action goes
}

var (
	endFirmAction = settingsAction{action: team.AccountEndFirmAccess, texts: "firm_end", page: "page.firm_end",
		do: func(w *Web, r *http.Request, account equipe.ID) error {
			return w.Team.EndFirmAccess(r.Context(), actor(r), account)
		},
		done: func(account equipe.ID) string { return "/accounts/" + account.String() + "/settings?done=firm_ended" }}
	deleteAccountAction = settingsAction{action: team.AccountDelete, texts: "account_delete", page: "page.account_delete",
		do: func(w *Web, r *http.Request, account equipe.ID) error {
			return w.Team.DeleteAccount(r.Context(), actor(r), account)
		},
		done: func(equipe.ID) string { return "/?done=account_deleted" }}
)

// showSettingsAction asks the reader to confirm the action, or says why
// they may not (the use case's answer). failed is the use case's refusal
// when the action was just tried.
func (w *Web) showSettingsAction(rw http.ResponseWriter, r *http.Request, a settingsAction, failed error) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	acct, err := w.Team.Account(r.Context(), actor(r), account)
	if err != nil {
		return err
	}
	frame, err := w.frame(r, account, "settings")
	if err != nil {
		return err
	}
	p := w.page(r, a.page)
	t := func(key string) string {
		return w.I18n.T(p.Locale, a.texts+"."+key, map[string]any{"account": acct.Name})
	}
	d := clientConfirmPage{Frame: frame, Title: t("title"), Lead: t("lead"), CanConfirm: true, Button: t("button"),
		Back: frame.URL("/settings"), BackText: t("back")}
	if failed == nil {
		failed = w.mayIn(r, account, a.action)
	}
	status := http.StatusOK
	if failed != nil {
		d.Problem = w.problem(p.Locale, equipe.AsError(failed))
		d.CanConfirm, status = false, refusedStatus(failed)
	}
	p.Data = d
	return w.render(rw, r, status, "client_confirm", p)
}

// doSettingsAction takes the confirmed action; a refusal shows the page
// again with its reason.
func (w *Web) doSettingsAction(rw http.ResponseWriter, r *http.Request, a settingsAction) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	if err := a.do(w, r, account); err != nil {
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return err
		}
		return w.showSettingsAction(rw, r, a, err)
	}
	return redirect(rw, r, a.done(account))
}

func (w *Web) endFirmForm(rw http.ResponseWriter, r *http.Request) error {
	return w.showSettingsAction(rw, r, endFirmAction, nil)
}

func (w *Web) endFirm(rw http.ResponseWriter, r *http.Request) error {
	return w.doSettingsAction(rw, r, endFirmAction)
}

func (w *Web) deleteAccountForm(rw http.ResponseWriter, r *http.Request) error {
	return w.showSettingsAction(rw, r, deleteAccountAction, nil)
}

func (w *Web) deleteAccount(rw http.ResponseWriter, r *http.Request) error {
	return w.doSettingsAction(rw, r, deleteAccountAction)
}
