package team

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/webhook"
	"github.com/equipe-dev/equipe/work"
)

// Webhook endpoints belong to an account, managed by those who hold
// webhooks.manage there, or to the instance (account nil), managed by the
// instance's administrators and instance keys. An endpoint receives the
// account's log: deciding where it goes and what of it (an endpoint's URL
// and event types) and sending past events again also needs audit.view,
// which reading that log needs everywhere else.

// Webhook limits.
const (
	// MaxWebhooks bounds the endpoints of an account (or of the instance).
	MaxWebhooks = 20
	// RotationOverlap is how long the previous secret keeps signing after a
	// rotation, so that receivers can change theirs without losing messages.
	RotationOverlap = 24 * time.Hour
	// WebhookTestsPerHour bounds the test messages of an endpoint.
	WebhookTestsPerHour = 30
	// webhookFailing is the reason of an endpoint the service disabled.
	webhookFailing = "webhook.failing"
)

// WebhookInput is an endpoint as written by a person or a program.
type WebhookInput struct {
	URL         string
	Description string
	// Types are the event types subscribed to; "*" alone subscribes to all.
	Types   []string
	Enabled bool
}

// WebhookChange changes an endpoint: each field given replaces the
// endpoint's, the others stay.
type WebhookChange struct {
	URL, Description *string
	Types            *[]string
	Enabled          *bool
}

// Actions on a webhook endpoint.
const (
	WebhookEdit       = "edit"  // its description, and whether it is enabled
	WebhookRoute      = "route" // its URL and its event types: webhooks.manage and audit.view
	WebhookDelete     = "delete"
	WebhookRotate     = "rotate"
	WebhookTest       = "test"
	WebhookEnable     = "enable"
	WebhookDisable    = "disable"
	WebhookRedeliver  = "redeliver"
	WebhookDeliveries = "deliveries"
)

// WebhookSkippedWhileDisabled is the last error of a delivery that waited
// while its endpoint was disabled, abandoned when it was enabled again (a
// message key, translated in the delivery log).
const WebhookSkippedWhileDisabled = "webhooks.skipped_while_disabled"

// WebhookView is an endpoint (never its secret) with what the reader may do
// with it.
type WebhookView struct {
	equipe.WebhookEndpoint
	// Rotating: a rotation is under way; the previous secret signs too
	// until RotationEnds.
	Rotating     bool
	RotationEnds time.Time
	Actions      Actions

	// route is the refusal of routing the endpoint's events (nil: the
	// reader may), which its deliveries' re-delivery answers too.
	route error
}

// WebhookTypes returns the event types an endpoint of the account (nil: of
// the instance) may subscribe to: an account's, the kinds its log records
// and those of its members' own identities that it hears of (a member's
// identity disabled by the instance); the instance's, every kind.
func WebhookTypes(account *equipe.ID) []string {
	types := event.Types()
	if account != nil {
		types = append(event.AccountTypes(), event.MemberTypes()...)
	}
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = string(t)
	}
	return out
}

// mayManageWebhooks is the rule of who manages endpoints: webhooks.manage
// in the account; an instance administrator or instance key for the
// instance's.
func (s *Service) mayManageWebhooks(ctx context.Context, actor Actor, account *equipe.ID) error {
	_, err := s.webhookRights(ctx, actor, account)
	return err
}

// webhookRights returns err when the actor may not manage the endpoints of
// the account (nil: of the instance), and otherwise route: nil when they
// may also route the account's events, the refusal when not. Routing, that
// is creating an endpoint, changing its URL or its event types, or
// re-delivering what it was sent, needs audit.view beside webhooks.manage:
// an endpoint receives the account's log, members' addresses included, as
// the change stream and the audit log give it, and those need audit.view.
// Without it, webhooks.manage would read the log past and future (an
// endpoint to one's own receiver, or an existing one pointed there and its
// deliveries sent again). The instance's managers route its endpoints.
func (s *Service) webhookRights(ctx context.Context, actor Actor, account *equipe.ID) (route, err error) {
	if account == nil {
		if !actor.instance() {
			return nil, forbidden("webhook.instance_admin_only", nil)
		}
		return nil, nil
	}
	m, a, err := s.authorize(ctx, actor, *account, "webhooks.manage")
	if err != nil {
		return nil, err
	}
	return s.permission(m, a, "audit.view"), nil
}

// mayRouteWebhooks is the rule of who routes an account's events to
// endpoints (see webhookRights): webhooks.manage and audit.view.
func (s *Service) mayRouteWebhooks(ctx context.Context, actor Actor, account *equipe.ID) error {
	route, err := s.webhookRights(ctx, actor, account)
	if err != nil {
		return err
	}
	return route
}

// MayManageWebhooks answers whether the actor may list and manage the
// endpoints of the account (nil: of the instance), with the refusal the
// use cases would answer.
func (s *Service) MayManageWebhooks(ctx context.Context, actor Actor, account *equipe.ID) Allowed {
	return allowed(s.mayManageWebhooks(ctx, actor, account))
}

// MayCreateWebhook answers whether the actor may add an endpoint to the
// account (nil: to the instance), with the refusal CreateWebhook would
// answer (bar its input and the limit of endpoints).
func (s *Service) MayCreateWebhook(ctx context.Context, actor Actor, account *equipe.ID) Allowed {
	return allowed(s.mayRouteWebhooks(ctx, actor, account))
}

func (s *Service) viewWebhook(e equipe.WebhookEndpoint, route error) WebhookView {
	now := s.now()
	v := WebhookView{WebhookEndpoint: e, route: route}
	v.Secret, v.PreviousSecret = nil, nil
	if e.PreviousSecret != nil && now.Before(e.PreviousUntil) {
		v.Rotating, v.RotationEnds = true, e.PreviousUntil
	}
	enable, disable := Allowed{}, Allowed{}
	if e.Enabled {
		enable = allowed(conflict("webhook.already_enabled", nil))
	} else {
		disable = allowed(conflict("webhook.already_disabled", nil))
	}
	v.Actions = Actions{{WebhookEdit, Allowed{}}, {WebhookRoute, allowed(route)}, {WebhookEnable, enable}, {WebhookDisable, disable},
		{WebhookTest, disable}, {WebhookRotate, Allowed{}}, {WebhookDeliveries, Allowed{}}, {WebhookDelete, Allowed{}}}
	return v
}

// checkWebhook returns the endpoint that in describes, or the field errors.
func (s *Service) checkWebhook(account *equipe.ID, in WebhookInput) (equipe.WebhookEndpoint, error) {
	var v equipe.Invalid
	var e equipe.WebhookEndpoint
	url, problem := s.WebhookRules.CheckURL(in.URL)
	if strings.TrimSpace(in.URL) == "" {
		problem = "webhook.url_required"
	}
	if problem != "" {
		v.Add("url", problem)
	}
	e.URL = url
	e.Description = strings.TrimSpace(in.Description)
	if e.Description != "" {
		e.Description = identity.CheckLabel(&v, "description", e.Description, 200)
	}
	allowedTypes := WebhookTypes(account)
	for _, t := range in.Types {
		t = strings.TrimSpace(t)
		switch {
		case t == "":
		case t == equipe.WebhookAllTypes || t == "all":
			e.Types = []string{equipe.WebhookAllTypes}
		case !slices.Contains(allowedTypes, t):
			v.AddArgs("types", "webhook.type_unknown", map[string]any{"type": t})
		case !slices.Contains(e.Types, t):
			e.Types = append(e.Types, t)
		}
	}
	if slices.Contains(e.Types, equipe.WebhookAllTypes) {
		e.Types = []string{equipe.WebhookAllTypes}
	}
	if len(e.Types) == 0 && !v.Has("types") {
		v.Add("types", "webhook.types_required")
	}
	e.Enabled = in.Enabled
	return e, v.Err()
}

// Webhooks returns a page of the endpoints of the account (nil: of the
// instance), the whole list for the whole page, oldest first, with the
// cursor of the next page ("" after the last).
func (s *Service) Webhooks(ctx context.Context, actor Actor, account *equipe.ID, p equipe.Page) ([]WebhookView, string, error) {
	route, err := s.webhookRights(ctx, actor, account)
	if err != nil {
		return nil, "", err
	}
	if err := p.CheckOrWhole(); err != nil {
		return nil, "", err
	}
	es, next, err := s.DB.WebhookEndpoints(ctx, account, p)
	if err != nil {
		return nil, "", err
	}
	out := make([]WebhookView, 0, len(es))
	for _, e := range es {
		out = append(out, s.viewWebhook(e, route))
	}
	return out, next, nil
}

// Webhook returns one endpoint of the account (nil: of the instance), or
// ENOTFOUND.
func (s *Service) Webhook(ctx context.Context, actor Actor, account *equipe.ID, id equipe.ID) (WebhookView, error) {
	route, err := s.webhookRights(ctx, actor, account)
	if err != nil {
		return WebhookView{}, err
	}
	e, err := s.DB.WebhookEndpoint(ctx, account, id)
	if err != nil {
		return WebhookView{}, err
	}
	return s.viewWebhook(e, route), nil
}

// sealSecret makes a new signing secret for the endpoint and returns it,
// sealed, with the key it is sealed under.
func (s *Service) sealSecret(id equipe.ID) (secret string, sealed []byte, keyID string, err error) {
	secret, err = webhook.NewSecret(s.Work.Rand)
	if err != nil {
		return "", nil, "", err
	}
	sealed, keyID = s.Secrets.Seal([]byte(secret), webhook.SealLabel(id))
	return secret, sealed, keyID, nil
}

// CreateWebhook adds an endpoint to the account (nil: to the instance) and
// returns it with its signing secret: the only time the secret is shown.
// It needs audit.view beside webhooks.manage (see webhookRights).
func (s *Service) CreateWebhook(ctx context.Context, actor Actor, account *equipe.ID, in WebhookInput) (WebhookView, string, error) {
	if err := s.mayRouteWebhooks(ctx, actor, account); err != nil {
		return WebhookView{}, "", err
	}
	e, err := s.checkWebhook(account, in)
	if err != nil {
		return WebhookView{}, "", err
	}
	e.ID, e.AccountID = equipe.NewID(), account
	secret, sealed, keyID, err := s.sealSecret(e.ID)
	if err != nil {
		return WebhookView{}, "", err
	}
	e.Secret, e.KeyID = sealed, keyID
	err = s.do(ctx, actor, func(u *work.Unit) error {
		existing, _, err := u.WebhookEndpoints(ctx, account, equipe.Page{})
		if err != nil {
			return err
		}
		if len(existing) >= MaxWebhooks {
			return conflict("webhook.too_many", map[string]any{"max": MaxWebhooks})
		}
		e.CreatedAt, e.UpdatedAt = u.Now(), u.Now()
		if err := u.CreateWebhookEndpoint(ctx, &e); err != nil {
			return err
		}
		after := event.WebhookOf(e)
		return u.Record(ctx, event.WebhookCreated.New(account, e.ID.String(), nil, &after))
	})
	if err != nil {
		return WebhookView{}, "", err
	}
	return s.viewWebhook(e, nil), secret, nil
}

// UpdateWebhook changes an endpoint; as changed it must be valid as a
// whole. Changing its URL or its event types needs audit.view beside
// webhooks.manage (see webhookRights). A change that changes nothing
// writes nothing, records nothing and sends nothing. The secret stays when
// the URL changes, as Svix and Stripe keep it: whoever may change the URL
// may read what it is sent, and the event (webhook.changed) records the
// URL before and after. Enabling an endpoint the service disabled clears
// the reason.
// Enabling a disabled endpoint abandons the deliveries that waited
// meanwhile, with the reason WebhookSkippedWhileDisabled: a receiver that
// comes back is not flooded with everything it missed (as Svix and Stripe
// do), and each can be re-delivered from the log.
func (s *Service) UpdateWebhook(ctx context.Context, actor Actor, account *equipe.ID, id equipe.ID, ch WebhookChange) (WebhookView, error) {
	route, err := s.webhookRights(ctx, actor, account)
	if err != nil {
		return WebhookView{}, err
	}
	var e equipe.WebhookEndpoint
	err = s.do(ctx, actor, func(u *work.Unit) error {
		before, err := u.WebhookEndpoint(ctx, account, id)
		if err != nil {
			return err
		}
		in := WebhookInput{URL: before.URL, Description: before.Description, Types: before.Types, Enabled: before.Enabled}
		if ch.URL != nil {
			in.URL = *ch.URL
		}
		if ch.Description != nil {
			in.Description = *ch.Description
		}
		if ch.Types != nil {
			in.Types = *ch.Types
		}
		if ch.Enabled != nil {
			in.Enabled = *ch.Enabled
		}
		checked, err := s.checkWebhook(account, in)
		if err != nil {
			return err
		}
		e = before
		routed := checked.URL != before.URL || !slices.Equal(checked.Types, before.Types)
		if !routed && checked.Description == before.Description && checked.Enabled == before.Enabled {
			return nil
		}
		if routed && route != nil {
			return route
		}
		e.URL, e.Description, e.Types, e.Enabled, e.UpdatedAt = checked.URL, checked.Description, checked.Types, checked.Enabled, u.Now()
		if e.Enabled {
			e.DisabledReason = ""
		}
		if err := u.UpdateWebhookEndpoint(ctx, &e); err != nil {
			return err
		}
		if !before.Enabled && e.Enabled {
			if _, err := u.SkipQueuedWebhookDeliveries(ctx, id, WebhookSkippedWhileDisabled); err != nil {
				return err
			}
		}
		b, a := event.WebhookOf(before), event.WebhookOf(e)
		return u.Record(ctx, event.WebhookChanged.New(account, id.String(), &b, &a))
	})
	if err != nil {
		return WebhookView{}, err
	}
	return s.viewWebhook(e, route), nil
}

// DeleteWebhook deletes an endpoint and its deliveries.
func (s *Service) DeleteWebhook(ctx context.Context, actor Actor, account *equipe.ID, id equipe.ID) error {
	if err := s.mayManageWebhooks(ctx, actor, account); err != nil {
		return err
	}
	return s.do(ctx, actor, func(u *work.Unit) error {
		before, err := u.WebhookEndpoint(ctx, account, id)
		if err != nil {
			return err
		}
		if err := u.DeleteWebhookEndpoint(ctx, account, id); err != nil {
			return err
		}
		b := event.WebhookOf(before)
		return u.Record(ctx, event.WebhookDeleted.New(account, id.String(), &b, nil))
	})
}

// RotateWebhookSecret gives an endpoint a new signing secret, which signs
// at once, and returns it: the only time it is shown. The secret it
// replaces keeps signing too for RotationOverlap; rotating again during
// that time ends the older one at once.
func (s *Service) RotateWebhookSecret(ctx context.Context, actor Actor, account *equipe.ID, id equipe.ID) (WebhookView, string, error) {
	route, err := s.webhookRights(ctx, actor, account)
	if err != nil {
		return WebhookView{}, "", err
	}
	secret, sealed, keyID, err := s.sealSecret(id)
	if err != nil {
		return WebhookView{}, "", err
	}
	var e equipe.WebhookEndpoint
	err = s.do(ctx, actor, func(u *work.Unit) error {
		if e, err = u.WebhookEndpoint(ctx, account, id); err != nil {
			return err
		}
		e.PreviousSecret, e.PreviousKeyID, e.PreviousUntil = e.Secret, e.KeyID, u.Now().Add(RotationOverlap)
		e.Secret, e.KeyID, e.UpdatedAt = sealed, keyID, u.Now()
		if err := u.UpdateWebhookEndpoint(ctx, &e); err != nil {
			return err
		}
		return u.Record(ctx, event.WebhookSecretRotated.New(account, id.String(), nil, nil))
	})
	if err != nil {
		return WebhookView{}, "", err
	}
	return s.viewWebhook(e, route), secret, nil
}

// TestWebhook queues a test message (type webhook.test) to an enabled
// endpoint, WebhookTestsPerHour an hour at most, and returns its delivery.
func (s *Service) TestWebhook(ctx context.Context, actor Actor, account *equipe.ID, id equipe.ID) (equipe.WebhookDelivery, error) {
	if err := s.mayManageWebhooks(ctx, actor, account); err != nil {
		return equipe.WebhookDelivery{}, err
	}
	var d equipe.WebhookDelivery
	err := s.do(ctx, actor, func(u *work.Unit) error {
		e, err := u.WebhookEndpoint(ctx, account, id)
		if err != nil {
			return err
		}
		if !e.Enabled {
			return conflict("webhook.already_disabled", nil)
		}
		if err := u.Limit(ctx, "webhook-test:"+id.String(), WebhookTestsPerHour, time.Hour, "webhook.tests_limited"); err != nil {
			return err
		}
		d = equipe.WebhookDelivery{EndpointID: id, EventID: equipe.NewID(), EventType: equipe.WebhookTestType,
			NextAttemptAt: u.Now(), CreatedAt: u.Now()}
		body, err := json.Marshal(webhook.Message{Type: equipe.WebhookTestType, Timestamp: u.Now().UTC(),
			Data: map[string]any{"id": d.EventID, "endpoint_id": id, "account_id": account}})
		if err != nil {
			return err
		}
		d.Payload = string(body)
		return u.EnqueueWebhookDelivery(ctx, &d)
	})
	return d, err
}

// DeliveryView is a delivery with its attempts (when asked for one) and
// what the reader may do with it.
type DeliveryView struct {
	equipe.WebhookDelivery
	// Held is a queued delivery of a disabled endpoint: no attempt is due
	// (NextAttemptAt is zero), and enabling the endpoint again abandons it
	// (WebhookSkippedWhileDisabled).
	Held     bool
	Attempts []equipe.WebhookAttempt
	Actions  Actions
}

// viewDelivery is d, a delivery of the endpoint e, as its reader sees it.
// Re-delivering needs the right to route the endpoint's events, and an
// enabled endpoint, to which it is sent at once.
func viewDelivery(d equipe.WebhookDelivery, e WebhookView) DeliveryView {
	var redeliver error
	switch {
	case e.route != nil:
		redeliver = e.route
	case !e.Enabled:
		redeliver = conflict("webhook.already_disabled", nil)
	case d.Status == equipe.DeliveryProcessing:
		redeliver = conflict("webhook.delivery_in_progress", nil)
	}
	d.Payload = ""
	v := DeliveryView{WebhookDelivery: d, Actions: Actions{{WebhookRedeliver, allowed(redeliver)}}}
	if !e.Enabled && d.Status == equipe.DeliveryQueued {
		v.Held, v.NextAttemptAt = true, time.Time{}
	}
	return v
}

// WebhookDeliveries returns the deliveries of an endpoint, newest first,
// limit at most, older than the delivery before (nil: from the newest); next
// is the cursor of the following page ("" for none).
func (s *Service) WebhookDeliveries(ctx context.Context, actor Actor, account *equipe.ID, id equipe.ID, p equipe.Page) ([]DeliveryView, string, error) {
	// Each endpoint's log is a list of its own: a cursor of another's is
	// refused, not read as a position.
	list := "webhook_deliveries/" + id.String()
	e, err := s.Webhook(ctx, actor, account, id)
	if err != nil {
		return nil, "", err
	}
	if err := p.Check(); err != nil {
		return nil, "", err
	}
	before, err := p.KeyID(list)
	if err != nil {
		return nil, "", err
	}
	ds, err := s.DB.WebhookDeliveries(ctx, id, before, p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	ds, next := equipe.Cut(ds, p, list, func(d equipe.WebhookDelivery) []string { return []string{d.EventID.String()} })
	out := make([]DeliveryView, 0, len(ds))
	for _, d := range ds {
		out = append(out, viewDelivery(d, e))
	}
	return out, next, nil
}

// WebhookDelivery returns one delivery of an endpoint with its attempts.
func (s *Service) WebhookDelivery(ctx context.Context, actor Actor, account *equipe.ID, id, eventID equipe.ID) (DeliveryView, error) {
	e, err := s.Webhook(ctx, actor, account, id)
	if err != nil {
		return DeliveryView{}, err
	}
	d, err := s.DB.WebhookDelivery(ctx, id, eventID)
	if err != nil {
		return DeliveryView{}, err
	}
	v := viewDelivery(d, e)
	if v.Attempts, err = s.DB.WebhookAttempts(ctx, id, eventID); err != nil {
		return DeliveryView{}, err
	}
	return v, nil
}

// RedeliverWebhook queues a delivery again, due at once: one more attempt,
// whatever became of it, outside its retry schedule. It needs audit.view
// beside webhooks.manage (see webhookRights); a disabled endpoint, to
// which nothing is sent, is refused with ECONFLICT webhook.already_disabled,
// and a delivery being sent with ECONFLICT webhook.delivery_in_progress.
func (s *Service) RedeliverWebhook(ctx context.Context, actor Actor, account *equipe.ID, id, eventID equipe.ID) error {
	if err := s.mayRouteWebhooks(ctx, actor, account); err != nil {
		return err
	}
	return s.do(ctx, actor, func(u *work.Unit) error {
		e, err := u.WebhookEndpoint(ctx, account, id)
		if err != nil {
			return err
		}
		if _, err := u.WebhookDelivery(ctx, id, eventID); err != nil {
			return err
		}
		if !e.Enabled {
			return conflict("webhook.already_disabled", nil)
		}
		return u.RequeueWebhookDelivery(ctx, id, eventID, u.Now())
	})
}

// WebhookViewer returns how a round of deliveries sees its events: each as
// an endpoint of the account (nil: of the instance) receives it. An
// account's endpoint is set up by the account's own people and receives
// what they read in its log: the staff of its firm and the instance's
// administrators act there with Actor.Via and no ID (see audience). The
// instance's endpoints receive everyone's ID.
func (s *Service) WebhookViewer() webhook.Viewer {
	rs := s.logReaders()
	return func(ctx context.Context, endpoint *equipe.ID, e event.Event) (event.Event, error) {
		account, aud := e.Account, audience{}
		if endpoint != nil {
			aud = audience{staff: true, support: true}
			if account == nil {
				account = endpoint
			}
		}
		if account == nil {
			return e, nil
		}
		return rs.seen(ctx, *account, aud, e)
	}
}

// DisableFailingWebhook disables an endpoint whose deliveries failed
// throughout their retries, records it (actor system), and emails its
// owners: the account's active administrators, or the instance's
// administrators, each in their language.
func (s *Service) DisableFailingWebhook(ctx context.Context, id equipe.ID) error {
	return s.Work.Do(ctx, event.System, equipe.Origin{}, func(u *work.Unit) error {
		before, err := u.WebhookEndpointByID(ctx, id)
		if err != nil || !before.Enabled {
			return err
		}
		e := before
		e.Enabled, e.DisabledReason, e.UpdatedAt = false, webhookFailing, u.Now()
		if err := u.UpdateWebhookEndpoint(ctx, &e); err != nil {
			return err
		}
		b, a := event.WebhookOf(before), event.WebhookOf(e)
		if err := u.Record(ctx, event.WebhookDisabled.New(e.AccountID, id.String(), &b, &a)); err != nil {
			return err
		}
		var owners []equipe.ID
		data := mail.Data{Message: e.URL, Link: s.Work.Link("/admin/webhooks/" + id.String())}
		if e.AccountID != nil {
			acct, err := u.AccountByID(ctx, *e.AccountID)
			if err != nil {
				return err
			}
			data.AccountName = acct.Name
			data.Link = s.Work.Link("/accounts/" + e.AccountID.String() + "/webhooks/" + id.String())
			if owners, err = u.LockActiveAdmins(ctx, *e.AccountID); err != nil {
				return err
			}
		} else if owners, err = u.LockInstanceAdmins(ctx); err != nil {
			return err
		}
		for _, uid := range owners {
			user, err := u.UserByID(ctx, uid)
			if err != nil {
				return err
			}
			d := data
			d.RecipientName, d.RecipientID = user.Name(), user.ID
			if err := u.Mail(ctx, mail.TemplateWebhookDisabled, user.Locale, identity.NotifyAddress(user), d); err != nil {
				return err
			}
		}
		return nil
	})
}

// WebhookSecretValid reports whether s has the form of a signing secret
// (for tests and clients that check what they were given).
func WebhookSecretValid(s string) bool {
	return strings.HasPrefix(s, webhook.SecretPrefix) && utf8.RuneCountInString(s) > len(webhook.SecretPrefix)+30
}

// ResealWebhookSecrets seals again under the current secret key every
// webhook signing secret (and previous secret, during a rotation) sealed
// under another key the keyring can open: with identity's ResealSecrets,
// the last step of a rotation of the instance's secret key. It returns how
// many secrets it moved, and how many remain under keys it cannot open.
func (s *Service) ResealWebhookSecrets(ctx context.Context) (moved, left int, err error) {
	const batch = 500
	current := s.Secrets.KeyID()
	skip := map[equipe.ID]int{} // endpoints that do not open, with their secrets' count
	for {
		eps, err := s.DB.WebhookEndpointsSealedElsewhere(ctx, current, batch+len(skip))
		if err != nil {
			return moved, 0, err
		}
		progressed := false
		for _, e := range eps {
			if _, skipped := skip[e.ID]; skipped {
				continue
			}
			oldKey, oldPrevious := e.KeyID, e.PreviousKeyID
			n, stuck := 0, 0
			label := webhook.SealLabel(e.ID)
			reseal := func(sealed *[]byte, keyID *string) {
				if *keyID == "" || *keyID == current {
					return
				}
				plain, _, err := s.Secrets.Open(*sealed, *keyID, label)
				if err != nil {
					stuck++
					return
				}
				*sealed, *keyID = s.Secrets.Seal(plain, label)
				n++
			}
			reseal(&e.Secret, &e.KeyID)
			reseal(&e.PreviousSecret, &e.PreviousKeyID)
			if stuck > 0 {
				skip[e.ID] = stuck
				continue
			}
			err := s.DB.Write(ctx, func(tx *store.Tx) error { return tx.ResealWebhookSecrets(ctx, &e, oldKey, oldPrevious) })
			if err != nil && equipe.ErrorCode(err) != equipe.ENOTFOUND {
				return moved, 0, err
			}
			if err == nil {
				moved += n
			}
			progressed = true
		}
		if !progressed {
			for _, n := range skip {
				left += n
			}
			return moved, left, nil
		}
	}
}
