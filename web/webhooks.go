package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/team"
)

// Webhook endpoints: an account's under /accounts/{account}/webhooks, the
// instance's under /admin/webhooks. Every handler serves both: the owner is
// the path's account, or the instance when the path has none.

// webhookNotices are the notices the webhook pages may show after a
// redirect.
var webhookNotices = map[string]string{
	"changed":     "webhooks.done_changed",
	"deleted":     "webhooks.done_deleted",
	"tested":      "webhooks.done_tested",
	"redelivered": "webhooks.done_redelivered",
}

// webhookFields are the endpoint form's fields in page order.
var webhookFields = []string{"url", "description", "types"}

// webhooksURL is the page of the endpoints of the account, or of the
// instance's when account is nil.
func webhooksURL(account *equipe.ID) string {
	if account == nil {
		return "/admin/webhooks"
	}
	return "/accounts/" + account.String() + "/webhooks"
}

type webhookForm struct {
	URL   string // where the form posts
	Types []option
	All   bool
	// Locked is why the reader may not change the endpoint's URL and
	// event types (the use case's refusal, said), "" when they may: the
	// form then shows them, Current and TypesLabel, without their fields.
	Locked     string
	Current    string
	TypesLabel string
}

// webhookFieldsData is what the "webhook-fields" template gets.
type webhookFieldsData struct {
	Form *form
	Hook webhookForm
}

type webhooksPage struct {
	Frame *accountFrame // nil for the instance's
	Rows  []webhookRow
	New   webhookForm
	// NewRefusal says why the reader may not add an endpoint (then no
	// form), "" when they may.
	NewRefusal string
}

type webhookRow struct {
	URL         string
	Description string
	Types       string
	Enabled     bool
	Reason      string
	Href        string
}

type webhookPage struct {
	Frame        *accountFrame
	Back         string
	Row          webhookRow
	Edit         webhookForm
	Enabled      bool
	Rotating     bool
	RotationEnds time.Time
	Test         string // the test's post URL, or "" with TestRefusal
	TestRefusal  string
	Rotate       string
	Delete       string
	Deliveries   []deliveryRow
	Pager        pager
}

type deliveryRow struct {
	ID        string
	Type      string
	Status    string // label
	Delivered bool
	Attempts  int
	Code      int
	Error     string
	CreatedAt time.Time
	Next      time.Time // the next attempt, when queued
	Held      bool      // queued while the endpoint is disabled: no attempt is due
	Href      string
	Redeliver string // the post URL, "" when not offered
}

type attemptRow struct {
	At       time.Time
	Duration string
	Code     int
	Response string
	Error    string
}

type deliveryPage struct {
	Frame    *accountFrame
	Back     string
	Delivery deliveryRow
	Attempts []attemptRow
}

type webhookSecretPage struct {
	Frame  *accountFrame
	URL    string
	Secret string
	Back   string
	Rotate bool
}

type webhookDeletePage struct {
	Frame *accountFrame
	URL   string
	Back  string
}

// webhookFrame returns the account frame of a webhook page, nil for the
// instance's.
func (w *Web) webhookFrame(r *http.Request, account *equipe.ID) (*accountFrame, error) {
	if account == nil {
		return nil, nil
	}
	f, err := w.frame(r, *account, "webhooks")
	return &f, err
}

// typesForm returns the event types an endpoint of the owner may receive,
// as checkboxes, chosen are checked; all is the choice of every type.
func (w *Web) typesForm(locale string, account *equipe.ID, action string, chosen []string) webhookForm {
	f := webhookForm{URL: action, All: slices.Contains(chosen, equipe.WebhookAllTypes)}
	for _, t := range team.WebhookTypes(account) {
		label := t
		if w.I18n.Has("event." + t) {
			label = w.I18n.T(locale, "event."+t, nil)
		}
		f.Types = append(f.Types, option{Value: t, Label: label, Selected: slices.Contains(chosen, t)})
	}
	return f
}

// typesLabel names an endpoint's types in locale, each by its label as the
// form's checkboxes do.
func (w *Web) typesLabel(locale string, types []string) string {
	if slices.Contains(types, equipe.WebhookAllTypes) {
		return w.I18n.T(locale, "webhooks.all_types", nil)
	}
	labels := make([]string, len(types))
	for i, t := range types {
		labels[i] = t
		if w.I18n.Has("event." + t) {
			labels[i] = w.I18n.T(locale, "event."+t, nil)
		}
	}
	return strings.Join(labels, ", ")
}

// deliveryError says a delivery's or an attempt's error in locale: its
// code's message, or, for a row kept before errors had codes, its words.
func (w *Web) deliveryError(locale, code, words string, status int) string {
	if code != "" && w.I18n.Has(code) {
		return w.I18n.T(locale, code, map[string]any{"code": status})
	}
	return words
}

func (w *Web) webhookRow(locale string, v team.WebhookView) webhookRow {
	row := webhookRow{URL: v.URL, Description: v.Description, Types: w.typesLabel(locale, v.Types), Enabled: v.Enabled,
		Href: webhooksURL(v.AccountID) + "/" + v.ID.String()}
	if v.DisabledReason != "" && w.I18n.Has(v.DisabledReason) {
		row.Reason = w.I18n.T(locale, v.DisabledReason, nil)
	}
	return row
}

// postedTypes reads the types of the endpoint form: every type, or those
// checked.
func postedTypes(r *http.Request) []string {
	if r.PostFormValue("all") != "" {
		return []string{equipe.WebhookAllTypes}
	}
	return r.PostForm["types"]
}

// keepWebhook copies the posted endpoint into a form, to show it again.
func keepWebhook(r *http.Request) *form {
	f := newForm()
	f.keep(r, "url", "description")
	f.Values["types"] = strings.Join(postedTypes(r), ",")
	if r.PostFormValue("enabled") != "" {
		f.Values["enabled"] = "on"
	}
	return f
}

func (w *Web) showWebhooks(rw http.ResponseWriter, r *http.Request, account *equipe.ID, f *form, status int) error {
	list, _, err := w.Team.Webhooks(r.Context(), actor(r), account, equipe.Page{})
	if err != nil {
		return w.refuse(rw, r, err)
	}
	frame, err := w.webhookFrame(r, account)
	if err != nil {
		return err
	}
	title := "page.webhooks"
	if account == nil {
		title = "page.instance_webhooks"
	}
	p := w.page(r, title)
	if f != nil {
		p.Form = f
	}
	p.Form.arrange(webhookFields...)
	p.Form.label("url", "webhooks.url", "description", "webhooks.description", "types", "webhooks.types")
	p.Notice = webhookNotices[r.URL.Query().Get("done")]
	d := webhooksPage{Frame: frame}
	if a := w.Team.MayCreateWebhook(r.Context(), actor(r), account); a.OK() {
		d.New = w.typesForm(p.Locale, account, webhooksURL(account), strings.Split(p.Form.Value("types"), ","))
	} else {
		d.NewRefusal = w.I18n.T(p.Locale, a.Err.Key, a.Err.Args)
	}
	for _, v := range list {
		d.Rows = append(d.Rows, w.webhookRow(p.Locale, v))
	}
	p.Data = d
	return w.render(rw, r, status, "webhooks", p)
}

func (w *Web) webhooks(rw http.ResponseWriter, r *http.Request) error {
	account, err := httpauth.WebhookOwner(r)
	if err != nil {
		return err
	}
	return w.showWebhooks(rw, r, account, nil, http.StatusOK)
}

// showSecret shows an endpoint's signing secret, the only time anyone sees
// it: the answer to the post itself, never a page a link or a reload could
// bring back.
func (w *Web) showSecret(rw http.ResponseWriter, r *http.Request, v team.WebhookView, secret string, rotate bool, status int) error {
	frame, err := w.webhookFrame(r, v.AccountID)
	if err != nil {
		return err
	}
	tokenPage(rw)
	rw.Header().Set("Cache-Control", "no-store")
	p := w.page(r, "page.webhook_secret")
	p.Data = webhookSecretPage{Frame: frame, URL: v.URL, Secret: secret, Back: webhooksURL(v.AccountID) + "/" + v.ID.String(), Rotate: rotate}
	return w.render(rw, r, status, "webhook_secret", p)
}

func (w *Web) createWebhook(rw http.ResponseWriter, r *http.Request) error {
	account, err := httpauth.WebhookOwner(r)
	if err != nil {
		return err
	}
	v, secret, err := w.Team.CreateWebhook(r.Context(), actor(r), account, team.WebhookInput{URL: r.PostFormValue("url"),
		Description: r.PostFormValue("description"), Types: postedTypes(r), Enabled: true})
	if err != nil {
		f := keepWebhook(r)
		if !f.absorb(err, nil) {
			return w.refuse(rw, r, err)
		}
		return w.showWebhooks(rw, r, account, f, refusedStatus(err))
	}
	return w.showSecret(rw, r, v, secret, false, http.StatusCreated)
}

// showWebhook shows an endpoint: its form, its actions and its delivery
// log, a page at a time.
func (w *Web) showWebhook(rw http.ResponseWriter, r *http.Request, account *equipe.ID, id equipe.ID, f *form, status int) error {
	v, err := w.Team.Webhook(r.Context(), actor(r), account, id)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	cursor := r.URL.Query().Get("before")
	ds, next, err := w.Team.WebhookDeliveries(r.Context(), actor(r), account, id, equipe.Page{After: cursor, Limit: 25})
	if cursorRefused(err) && cursor != "" {
		// A cursor that is none (typed, or from an older version): the
		// log from its newest delivery.
		cursor = ""
		ds, next, err = w.Team.WebhookDeliveries(r.Context(), actor(r), account, id, equipe.Page{Limit: 25})
	}
	if err != nil {
		return w.refuse(rw, r, err)
	}
	frame, err := w.webhookFrame(r, account)
	if err != nil {
		return err
	}
	p := w.page(r, "page.webhook")
	if f == nil {
		f = newForm()
		f.Values = map[string]string{"url": v.URL, "description": v.Description, "types": strings.Join(v.Types, ",")}
		if v.Enabled {
			f.Values["enabled"] = "on"
		}
	}
	p.Form = f
	p.Form.arrange(webhookFields...)
	p.Form.label("url", "webhooks.url", "description", "webhooks.description", "types", "webhooks.types")
	p.Notice = webhookNotices[r.URL.Query().Get("done")]
	self := webhooksURL(account) + "/" + id.String()
	d := webhookPage{Frame: frame, Back: webhooksURL(account), Row: w.webhookRow(p.Locale, v),
		Edit: w.typesForm(p.Locale, account, self, strings.Split(f.Value("types"), ",")), Enabled: f.Value("enabled") != "",
		Rotating: v.Rotating, RotationEnds: v.RotationEnds}
	if a := v.Actions.Get(team.WebhookRoute); !a.OK() {
		d.Edit.Locked, d.Edit.Current, d.Edit.TypesLabel = w.I18n.T(p.Locale, a.Err.Key, a.Err.Args), v.URL, w.typesLabel(p.Locale, v.Types)
	}
	if a := v.Actions.Get(team.WebhookTest); a.OK() {
		d.Test = self + "/test"
	} else {
		d.TestRefusal = w.I18n.T(p.Locale, a.Err.Key, a.Err.Args)
	}
	if v.Actions.May(team.WebhookRotate) {
		d.Rotate = self + "/rotate"
	}
	if v.Actions.May(team.WebhookDelete) {
		d.Delete = self + "/delete"
	}
	for _, dv := range ds {
		d.Deliveries = append(d.Deliveries, w.deliveryRow(p.Locale, self, dv))
	}
	if next != "" {
		d.Pager.Next = self + "?before=" + next
	}
	if cursor != "" {
		d.Pager.First = self
	}
	d.Pager.Newest = true
	p.Data = d
	return w.render(rw, r, status, "webhook", p)
}

func (w *Web) deliveryRow(locale, self string, dv team.DeliveryView) deliveryRow {
	row := deliveryRow{ID: dv.EventID.String(), Type: dv.EventType, Attempts: dv.WebhookDelivery.Attempts,
		Code: dv.ResponseCode, Error: w.deliveryError(locale, dv.LastErrorCode, dv.LastError, dv.ResponseCode),
		CreatedAt: dv.CreatedAt, Delivered: dv.Status == equipe.DeliveryDelivered, Held: dv.Held,
		Status: w.I18n.T(locale, "webhooks.status_"+string(dv.Status), nil),
		Href:   self + "/deliveries/" + dv.EventID.String()}
	if w.I18n.Has("event." + dv.EventType) {
		row.Type = w.I18n.T(locale, "event."+dv.EventType, nil)
	} else if dv.EventType == equipe.WebhookTestType {
		row.Type = w.I18n.T(locale, "webhooks.test_event", nil)
	}
	if dv.LastErrorCode == "" && dv.LastError == team.WebhookSkippedWhileDisabled {
		row.Error = w.I18n.T(locale, dv.LastError, nil)
	}
	if dv.Status == equipe.DeliveryQueued && !dv.Held {
		row.Next = dv.NextAttemptAt
	}
	if dv.Actions.May(team.WebhookRedeliver) {
		row.Redeliver = row.Href + "/redeliver"
	}
	return row
}

func (w *Web) webhook(rw http.ResponseWriter, r *http.Request) error {
	account, id, err := httpauth.WebhookPath(r)
	if err != nil {
		return err
	}
	return w.showWebhook(rw, r, account, id, nil, http.StatusOK)
}

func (w *Web) updateWebhook(rw http.ResponseWriter, r *http.Request) error {
	account, id, err := httpauth.WebhookPath(r)
	if err != nil {
		return err
	}
	desc, enabled := r.PostFormValue("description"), r.PostFormValue("enabled") != ""
	ch := team.WebhookChange{Description: &desc, Enabled: &enabled}
	// A reader who may not route the endpoint's events is shown its URL
	// and types without their fields: what the form does not hold stays.
	if _, ok := r.PostForm["url"]; ok {
		url, types := r.PostFormValue("url"), postedTypes(r)
		ch.URL, ch.Types = &url, &types
	}
	_, err = w.Team.UpdateWebhook(r.Context(), actor(r), account, id, ch)
	if err != nil {
		f := keepWebhook(r)
		if equipe.ErrorCode(err) == equipe.ENOTFOUND || !f.absorb(err, nil) {
			return w.refuse(rw, r, err)
		}
		return w.showWebhook(rw, r, account, id, f, refusedStatus(err))
	}
	return redirect(rw, r, webhooksURL(account)+"/"+id.String()+"?done=changed")
}

func (w *Web) testWebhook(rw http.ResponseWriter, r *http.Request) error {
	account, id, err := httpauth.WebhookPath(r)
	if err != nil {
		return err
	}
	if _, err := w.Team.TestWebhook(r.Context(), actor(r), account, id); err != nil {
		return w.refuseOnWebhook(rw, r, account, id, err)
	}
	return redirect(rw, r, webhooksURL(account)+"/"+id.String()+"?done=tested")
}

// refuseOnWebhook answers an action on the endpoint that its use case
// refused for a reason of its state (disabled, a delivery being sent, a
// limit): the endpoint's page again, with the refusal said at its top.
func (w *Web) refuseOnWebhook(rw http.ResponseWriter, r *http.Request, account *equipe.ID, id equipe.ID, err error) error {
	f := newForm()
	if equipe.ErrorCode(err) == equipe.ENOTFOUND || !f.absorb(err, nil) {
		return w.refuse(rw, r, err)
	}
	v, verr := w.Team.Webhook(r.Context(), actor(r), account, id)
	if verr != nil {
		return w.refuse(rw, r, verr)
	}
	f.Values = map[string]string{"url": v.URL, "description": v.Description, "types": strings.Join(v.Types, ",")}
	if v.Enabled {
		f.Values["enabled"] = "on"
	}
	return w.showWebhook(rw, r, account, id, f, refusedStatus(err))
}

func (w *Web) rotateWebhook(rw http.ResponseWriter, r *http.Request) error {
	account, id, err := httpauth.WebhookPath(r)
	if err != nil {
		return err
	}
	v, secret, err := w.Team.RotateWebhookSecret(r.Context(), actor(r), account, id)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	return w.showSecret(rw, r, v, secret, true, http.StatusOK)
}

func (w *Web) deleteWebhookForm(rw http.ResponseWriter, r *http.Request) error {
	account, id, err := httpauth.WebhookPath(r)
	if err != nil {
		return err
	}
	v, err := w.Team.Webhook(r.Context(), actor(r), account, id)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	if a := v.Actions.Get(team.WebhookDelete); !a.OK() {
		return w.refuse(rw, r, a.Err)
	}
	frame, err := w.webhookFrame(r, account)
	if err != nil {
		return err
	}
	p := w.page(r, "page.webhook_delete")
	p.Data = webhookDeletePage{Frame: frame, URL: v.URL, Back: webhooksURL(account) + "/" + id.String()}
	return w.render(rw, r, http.StatusOK, "webhook_delete", p)
}

func (w *Web) deleteWebhook(rw http.ResponseWriter, r *http.Request) error {
	account, id, err := httpauth.WebhookPath(r)
	if err != nil {
		return err
	}
	if err := w.Team.DeleteWebhook(r.Context(), actor(r), account, id); err != nil {
		return w.refuse(rw, r, err)
	}
	return redirect(rw, r, webhooksURL(account)+"?done=deleted")
}

func (w *Web) webhookDelivery(rw http.ResponseWriter, r *http.Request) error {
	account, id, err := httpauth.WebhookPath(r)
	if err != nil {
		return err
	}
	ev, err := pathID(r, "delivery")
	if err != nil {
		return err
	}
	dv, err := w.Team.WebhookDelivery(r.Context(), actor(r), account, id, ev)
	if err != nil {
		return w.refuse(rw, r, err)
	}
	frame, err := w.webhookFrame(r, account)
	if err != nil {
		return err
	}
	p := w.page(r, "page.webhook_delivery")
	self := webhooksURL(account) + "/" + id.String()
	d := deliveryPage{Frame: frame, Back: self, Delivery: w.deliveryRow(p.Locale, self, dv)}
	for _, a := range dv.Attempts {
		d.Attempts = append(d.Attempts, attemptRow{At: a.At, Duration: a.Duration.Round(time.Millisecond).String(),
			Code: a.ResponseCode, Response: a.Response, Error: w.deliveryError(p.Locale, a.ErrorCode, a.Error, a.ResponseCode)})
	}
	p.Data = d
	return w.render(rw, r, http.StatusOK, "webhook_delivery", p)
}

func (w *Web) redeliverWebhook(rw http.ResponseWriter, r *http.Request) error {
	account, id, err := httpauth.WebhookPath(r)
	if err != nil {
		return err
	}
	ev, err := pathID(r, "delivery")
	if err != nil {
		return err
	}
	if err := w.Team.RedeliverWebhook(r.Context(), actor(r), account, id, ev); err != nil {
		return w.refuseOnWebhook(rw, r, account, id, err)
	}
	return redirect(rw, r, webhooksURL(account)+"/"+id.String()+"?done=redelivered")
}
