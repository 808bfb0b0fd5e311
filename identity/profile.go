package identity

import (
	"context"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/work"
)

// Profile is a person's own profile as they see it: their identity, and the
// notification address waiting for its confirmation, if any.
type Profile struct {
	User equipe.User
	// PendingEmail is the notification address a link was sent to and not
	// used yet ("" for none); PendingExpires is when that link stops
	// working.
	PendingEmail   string
	PendingExpires time.Time
	// NewBrowserAlerts says whether a login from a browser new to the
	// person emails them.
	NewBrowserAlerts bool
}

// NotificationField is the notification address a form of the profile
// shows: the confirmed one, else the one waiting for its confirmation.
// UpdateProfile given it back changes nothing, so a form sent back as it
// was shown keeps a pending address waiting, with its link; an empty field
// would cancel it.
func (p Profile) NotificationField() string {
	if p.User.NotificationEmail != "" {
		return p.User.NotificationEmail
	}
	return p.PendingEmail
}

// ProfileChange is a change a person makes to their own profile. A nil field
// is left as it is (a JSON merge patch's absent member).
type ProfileChange struct {
	FirstName *string
	LastName  *string
	Locale    *string
	// TimeZone is an IANA name from equipe.TimeZones, or "" to follow the
	// account's zone.
	TimeZone *string
	// NotificationEmail is where notifications should go: "" (or the login
	// email) goes back to the login email at once; another address is sent
	// a link, and used only once the link confirms it. The confirmed or the
	// pending address again changes nothing: no new link is sent (see
	// Profile.NotificationField; ResendNotificationEmail sends one).
	NotificationEmail *string
	// NewBrowserAlerts turns the emails on a login from a new browser on or
	// off.
	NewBrowserAlerts *bool
}

// Profile returns the user's profile. Returns ENOTFOUND for an unknown user.
func (s *Service) Profile(ctx context.Context, userID equipe.ID) (Profile, error) {
	u, err := s.DB.UserByID(ctx, userID)
	if err != nil {
		return Profile{}, err
	}
	p := Profile{User: u}
	if p.NewBrowserAlerts, err = s.DB.NewBrowserAlerts(ctx, userID); err != nil {
		return p, err
	}
	t, err := s.DB.UsableToken(ctx, userID, equipe.TokenNotificationEmail, s.now())
	switch {
	case err == nil:
		p.PendingEmail, p.PendingExpires = t.Email, t.ExpiresAt
	case equipe.ErrorCode(err) != equipe.ENOTFOUND:
		return p, err
	}
	return p, nil
}

// UpdateProfile applies a person's change to their own profile, in one unit:
// the names, language and time zone change at once (event
// user.profile_changed); a new notification address is sent a confirmation
// link (user.notification_email_requested) and nothing else goes there until
// it is used; an empty one, or the login email, removes the notification
// address (user.notification_email_removed) and cancels a pending one.
// Giving the current or the pending address again changes nothing.
//
// Returns EINVALID with a key per field (nothing changes), ERATELIMITED when
// too many confirmation links were asked for, ENOTFOUND for an unknown user.
func (s *Service) UpdateProfile(ctx context.Context, userID equipe.ID, ch ProfileChange, o equipe.Origin) (Profile, error) {
	var v equipe.Invalid
	var first, last, locale, zone, notify, notifyKey string
	if ch.FirstName != nil {
		first = CheckName(&v, "first_name", *ch.FirstName)
	}
	if ch.LastName != nil {
		last = CheckName(&v, "last_name", *ch.LastName)
	}
	if ch.Locale != nil {
		locale = checkLocale(&v, "locale", *ch.Locale)
	}
	if ch.TimeZone != nil {
		zone = strings.TrimSpace(*ch.TimeZone)
		if zone != "" && !equipe.ValidTimeZone(zone) {
			v.Add("time_zone", "time_zone.invalid")
		}
	}
	if ch.NotificationEmail != nil && strings.TrimSpace(*ch.NotificationEmail) != "" {
		var p string
		if notify, notifyKey, p = NormalizeEmail(*ch.NotificationEmail); p != "" {
			v.Add("notification_email", p)
		}
	}
	if err := v.Err(); err != nil {
		return Profile{}, err
	}
	err := s.Work.Do(ctx, event.ByUser(userID), o, func(w *work.Unit) error {
		u, err := w.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		before := event.ProfileOf(u)
		if ch.FirstName != nil {
			u.FirstName = first
		}
		if ch.LastName != nil {
			u.LastName = last
		}
		if ch.Locale != nil {
			u.Locale = locale
		}
		if ch.TimeZone != nil {
			u.TimeZone = zone
		}
		if after := event.ProfileOf(u); after != before {
			if err := w.SetProfile(ctx, &u, w.Now()); err != nil {
				return err
			}
			if after.FirstName != before.FirstName || after.LastName != before.LastName {
				if err := w.RefreshMemberKeys(ctx, u.ID); err != nil {
					return err
				}
			}
			if err := w.Record(ctx, event.UserProfileChanged.New(nil, u.ID.String(), &before, &after)); err != nil {
				return err
			}
		}
		if ch.NewBrowserAlerts != nil {
			if err := setAlerts(ctx, w, userID, *ch.NewBrowserAlerts); err != nil {
				return err
			}
		}
		if ch.NotificationEmail == nil {
			return nil
		}
		if notify == "" || notifyKey == u.EmailKey {
			return s.removeNotificationEmail(ctx, w, &u)
		}
		return s.requestNotificationEmail(ctx, w, &u, notify, notifyKey)
	})
	if err != nil {
		return Profile{}, err
	}
	return s.Profile(ctx, userID)
}

// removeNotificationEmail sends notifications back to the login email:
// the notification address is forgotten and a pending one cancelled.
func (s *Service) removeNotificationEmail(ctx context.Context, w *work.Unit, u *equipe.User) error {
	if err := s.cancelPending(ctx, w, u); err != nil && equipe.ErrorCode(err) != equipe.ENOTFOUND {
		return err
	}
	if u.NotificationEmail == "" {
		return nil
	}
	if err := w.SetNotificationEmail(ctx, u.ID, ""); err != nil {
		return err
	}
	return w.Record(ctx, event.UserNotificationEmailRemoved.New(nil, u.ID.String(), &event.Address{Email: u.NotificationEmail}, nil))
}

// requestNotificationEmail sends a confirmation link to a new notification
// address, unless it is the current or the pending one.
func (s *Service) requestNotificationEmail(ctx context.Context, w *work.Unit, u *equipe.User, email, key string) error {
	if u.NotificationEmail != "" && EmailKey(u.NotificationEmail) == key {
		// The address in use, as a form that shows it sends it back: an
		// address waiting for confirmation keeps waiting (it is cancelled
		// on its own).
		return nil
	}
	t, err := w.UsableToken(ctx, u.ID, equipe.TokenNotificationEmail, w.Now())
	switch {
	case err == nil && EmailKey(t.Email) == key:
		return nil
	case err != nil && equipe.ErrorCode(err) != equipe.ENOTFOUND:
		return err
	}
	if err := s.sendNotificationLink(ctx, w, u, email); err != nil {
		return err
	}
	return w.Record(ctx, event.UserNotificationEmailRequested.New(nil, u.ID.String(), nil, &event.Address{Email: email}))
}

// sendNotificationLink makes a confirmation link for the address (the
// previous one stops working) and queues its email, a few an hour at most
// per person (ERATELIMITED beyond).
func (s *Service) sendNotificationLink(ctx context.Context, w *work.Unit, u *equipe.User, email string) error {
	if err := w.Limit(ctx, "notification-email:user:"+u.ID.String(), limitNotificationLink.Free, limitNotificationLink.Length, ""); err != nil {
		return err
	}
	// The token keeps the address it confirms, not the login email.
	to := *u
	to.Email = email
	link, expires, err := w.NewToken(ctx, equipe.TokenNotificationEmail, &to, nil, s.Config.NotificationEmailTTL, "/notification-email/")
	if err != nil {
		return err
	}
	return mailPerson(ctx, w, *u, mail.TemplateNotificationEmail, email, mail.Data{RecipientName: u.Name(), RecipientID: u.ID, Link: link, Expires: expires})
}

// cancelPending makes the pending notification address's link unusable.
// Returns ENOTFOUND with key notification_email.none_pending when there is
// none.
func (s *Service) cancelPending(ctx context.Context, w *work.Unit, u *equipe.User) error {
	t, err := w.UsableToken(ctx, u.ID, equipe.TokenNotificationEmail, w.Now())
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return &equipe.Error{Code: equipe.ENOTFOUND, Key: "notification_email.none_pending"}
	} else if err != nil {
		return err
	}
	if err := w.SupersedeTokens(ctx, u.ID, equipe.TokenNotificationEmail, w.Now()); err != nil {
		return err
	}
	return w.Record(ctx, event.UserNotificationEmailCancelled.New(nil, u.ID.String(), &event.Address{Email: t.Email}, nil))
}

// ResendNotificationEmail sends a new link to the pending notification
// address (the previous link stops working). Returns ENOTFOUND with key
// notification_email.none_pending when none waits, ERATELIMITED when too
// many links were asked for.
func (s *Service) ResendNotificationEmail(ctx context.Context, userID equipe.ID, o equipe.Origin) error {
	return s.Work.Do(ctx, event.ByUser(userID), o, func(w *work.Unit) error {
		u, err := w.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		t, err := w.UsableToken(ctx, u.ID, equipe.TokenNotificationEmail, w.Now())
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return &equipe.Error{Code: equipe.ENOTFOUND, Key: "notification_email.none_pending"}
		} else if err != nil {
			return err
		}
		return s.sendNotificationLink(ctx, w, &u, t.Email)
	})
}

// CancelNotificationEmail cancels the pending notification address: its
// link stops working and notifications keep going where they went. Returns
// ENOTFOUND with key notification_email.none_pending when none waits.
func (s *Service) CancelNotificationEmail(ctx context.Context, userID equipe.ID, o equipe.Origin) error {
	return s.Work.Do(ctx, event.ByUser(userID), o, func(w *work.Unit) error {
		u, err := w.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		return s.cancelPending(ctx, w, &u)
	})
}

// NotificationEmailLink returns the address a notification-address link
// confirms and whose it is, without using it: opening the link (a GET,
// perhaps by a mail scanner) confirms nothing. Returns ENOTFOUND with key
// link.invalid, link.expired or link.used.
func (s *Service) NotificationEmailLink(ctx context.Context, secret string, o equipe.Origin) (string, equipe.User, error) {
	t, u, err := s.lookupToken(ctx, equipe.TokenNotificationEmail, secret, o, s.now())
	return t.Email, u, err
}

// ConfirmNotificationEmail uses a notification-address link: the address it
// was sent to becomes the person's notification email. Returns ENOTFOUND
// with key link.invalid, link.expired or link.used.
func (s *Service) ConfirmNotificationEmail(ctx context.Context, secret string, o equipe.Origin) (equipe.User, error) {
	now := s.now()
	t, u, err := s.lookupToken(ctx, equipe.TokenNotificationEmail, secret, o, now)
	if err != nil {
		return u, err
	}
	err = s.Work.DoAt(ctx, now, event.ByUser(u.ID), o, func(w *work.Unit) error {
		if err := w.Consume(ctx, &t); err != nil {
			return err
		}
		if err := w.SetNotificationEmail(ctx, u.ID, t.Email); err != nil {
			return err
		}
		return w.Record(ctx, event.UserNotificationEmailConfirmed.New(nil, u.ID.String(), nil, &event.Address{Email: t.Email}))
	})
	if err == nil {
		u.NotificationEmail = t.Email
	}
	return u, err
}

// NotifyAddress returns where a person's notifications go: their
// notification email once confirmed, else their login email. Security
// emails (password, login email) always go to the login email.
func NotifyAddress(u equipe.User) string {
	if u.NotificationEmail != "" {
		return u.NotificationEmail
	}
	return u.Email
}
