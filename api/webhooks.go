package api

import (
	"net/http"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/team"
)

// Webhook endpoints: an account's under /api/v1/accounts/{account}/webhooks,
// the instance's under /api/v1/webhooks. Each handler serves both: the
// owner is the path's account, or the instance when the path has none.

type webhookView struct {
	ID             equipe.ID   `json:"id"`
	AccountID      *equipe.ID  `json:"account_id"`
	URL            string      `json:"url"`
	Description    string      `json:"description"`
	Types          []string    `json:"types"`
	Enabled        bool        `json:"enabled"`
	DisabledReason string      `json:"disabled_reason,omitempty"`
	Rotating       bool        `json:"rotating"`
	RotationEndsAt *time.Time  `json:"rotation_ends_at"`
	CreatedAt      time.Time   `json:"created_at"`
	UpdatedAt      time.Time   `json:"updated_at"`
	Secret         string      `json:"secret,omitempty"` // on creation and rotation only
	Actions        actionsView `json:"actions,omitempty"`
}

func viewWebhook(v team.WebhookView) webhookView {
	out := webhookView{ID: v.ID, AccountID: v.AccountID, URL: v.URL, Description: v.Description, Types: v.Types,
		Enabled: v.Enabled, DisabledReason: v.DisabledReason, Rotating: v.Rotating, CreatedAt: v.CreatedAt,
		UpdatedAt: v.UpdatedAt, Actions: viewActions(v.Actions)}
	if v.Rotating {
		out.RotationEndsAt = timePtr(v.RotationEnds)
	}
	if out.Types == nil {
		out.Types = []string{}
	}
	return out
}

type attemptView struct {
	At           time.Time `json:"at"`
	DurationMS   int64     `json:"duration_ms"`
	ResponseCode int       `json:"response_code"`
	Response     string    `json:"response"`
	ErrorCode    string    `json:"error_code"`
	Error        string    `json:"error"`
}

type deliveryView struct {
	ID            equipe.ID     `json:"id"`
	Type          string        `json:"type"`
	Status        string        `json:"status"`
	Attempts      int           `json:"attempts"`
	NextAttemptAt *time.Time    `json:"next_attempt_at"`
	ResponseCode  int           `json:"response_code"`
	LastErrorCode string        `json:"last_error_code"`
	LastError     string        `json:"last_error"`
	CreatedAt     time.Time     `json:"created_at"`
	LastAttemptAt *time.Time    `json:"last_attempt_at"`
	DeliveredAt   *time.Time    `json:"delivered_at"`
	AttemptLog    []attemptView `json:"attempt_log,omitempty"`
	Actions       actionsView   `json:"actions,omitempty"`
}

func viewDelivery(d team.DeliveryView) deliveryView {
	out := deliveryView{ID: d.EventID, Type: d.EventType, Status: string(d.Status), Attempts: d.WebhookDelivery.Attempts,
		ResponseCode: d.ResponseCode, LastErrorCode: d.LastErrorCode, LastError: d.LastError, CreatedAt: d.CreatedAt,
		LastAttemptAt: timePtr(d.LastAttemptAt), DeliveredAt: timePtr(d.DeliveredAt), Actions: viewActions(d.Actions)}
	// A delivery held while its endpoint is disabled has no attempt due.
	if d.Status == equipe.DeliveryQueued && !d.Held {
		out.NextAttemptAt = timePtr(d.NextAttemptAt)
	}
	for _, a := range d.Attempts {
		out.AttemptLog = append(out.AttemptLog, attemptView{At: a.At, DurationMS: a.Duration.Milliseconds(),
			ResponseCode: a.ResponseCode, Response: a.Response, ErrorCode: a.ErrorCode, Error: a.Error})
	}
	return out
}

type webhookRequest struct {
	URL         string   `json:"url"`
	Description string   `json:"description"`
	Types       []string `json:"types"`
	Enabled     *bool    `json:"enabled"`
}

type webhookPatch struct {
	URL         *string   `json:"url"`
	Description *string   `json:"description"`
	Types       *[]string `json:"types"`
	Enabled     *bool     `json:"enabled"`
}

func (a *API) webhooks(w http.ResponseWriter, r *http.Request) error {
	owner, err := httpauth.WebhookOwner(r)
	if err != nil {
		return err
	}
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	vs, next, err := a.Team.Webhooks(r.Context(), actor(r), owner, p)
	if err != nil {
		return err
	}
	out := newList[webhookView](len(vs), next)
	for _, v := range vs {
		out.Items = append(out.Items, viewWebhook(v))
	}
	return respond(w, http.StatusOK, out)
}

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) error {
	owner, err := httpauth.WebhookOwner(r)
	if err != nil {
		return err
	}
	var in webhookRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	enabled := in.Enabled == nil || *in.Enabled
	v, secret, err := a.Team.CreateWebhook(r.Context(), actor(r), owner, team.WebhookInput{URL: in.URL,
		Description: in.Description, Types: in.Types, Enabled: enabled})
	if err != nil {
		return err
	}
	out := viewWebhook(v)
	out.Secret = secret
	w.Header().Set("Location", webhookLocation(owner, v.ID))
	return respond(w, http.StatusCreated, out)
}

func webhookLocation(owner *equipe.ID, id equipe.ID) string {
	if owner == nil {
		return "/api/v1/webhooks/" + id.String()
	}
	return "/api/v1/accounts/" + owner.String() + "/webhooks/" + id.String()
}

func (a *API) webhook(w http.ResponseWriter, r *http.Request) error {
	owner, id, err := httpauth.WebhookPath(r)
	if err != nil {
		return err
	}
	v, err := a.Team.Webhook(r.Context(), actor(r), owner, id)
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, viewWebhook(v))
}

func (a *API) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	owner, id, err := httpauth.WebhookPath(r)
	if err != nil {
		return err
	}
	var in webhookPatch
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := a.Team.UpdateWebhook(r.Context(), actor(r), owner, id, team.WebhookChange(in))
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, viewWebhook(v))
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	owner, id, err := httpauth.WebhookPath(r)
	if err != nil {
		return err
	}
	if err := a.Team.DeleteWebhook(r.Context(), actor(r), owner, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) error {
	owner, id, err := httpauth.WebhookPath(r)
	if err != nil {
		return err
	}
	v, secret, err := a.Team.RotateWebhookSecret(r.Context(), actor(r), owner, id)
	if err != nil {
		return err
	}
	out := viewWebhook(v)
	out.Secret = secret
	return respond(w, http.StatusOK, out)
}

func (a *API) testWebhook(w http.ResponseWriter, r *http.Request) error {
	owner, id, err := httpauth.WebhookPath(r)
	if err != nil {
		return err
	}
	d, err := a.Team.TestWebhook(r.Context(), actor(r), owner, id)
	if err != nil {
		return err
	}
	return respond(w, http.StatusAccepted, viewDelivery(team.DeliveryView{WebhookDelivery: d}))
}

func (a *API) webhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	owner, id, err := httpauth.WebhookPath(r)
	if err != nil {
		return err
	}
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	ds, next, err := a.Team.WebhookDeliveries(r.Context(), actor(r), owner, id, p)
	if err != nil {
		return err
	}
	out := newList[deliveryView](len(ds), next)
	for _, d := range ds {
		out.Items = append(out.Items, viewDelivery(d))
	}
	return respond(w, http.StatusOK, out)
}

func (a *API) webhookDelivery(w http.ResponseWriter, r *http.Request) error {
	owner, id, err := httpauth.WebhookPath(r)
	if err != nil {
		return err
	}
	ev, err := pathID(r, "delivery")
	if err != nil {
		return err
	}
	d, err := a.Team.WebhookDelivery(r.Context(), actor(r), owner, id, ev)
	if err != nil {
		return err
	}
	out := viewDelivery(d)
	if out.AttemptLog == nil {
		out.AttemptLog = []attemptView{}
	}
	return respond(w, http.StatusOK, out)
}

func (a *API) redeliverWebhook(w http.ResponseWriter, r *http.Request) error {
	owner, id, err := httpauth.WebhookPath(r)
	if err != nil {
		return err
	}
	ev, err := pathID(r, "delivery")
	if err != nil {
		return err
	}
	if err := a.Team.RedeliverWebhook(r.Context(), actor(r), owner, id, ev); err != nil {
		return err
	}
	d, err := a.Team.WebhookDelivery(r.Context(), actor(r), owner, id, ev)
	if err != nil {
		return err
	}
	return respond(w, http.StatusAccepted, viewDelivery(d))
}
