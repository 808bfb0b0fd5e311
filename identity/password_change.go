package identity

import (
	"context"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/work"
)

// ChangePassword sets a new password for a logged-in person who gives their
// current one. The other sessions of the person end and the one they use
// is kept; reset links stop working; the "password changed" email goes to
// the login email.
//
// Attempts are throttled like logins, per person and per client address,
// before the current password is looked at: a blocked attempt answers
// ERATELIMITED whether or not the password is right. A wrong current
// password answers EINVALID (field current_password, key
// password.current_wrong) and counts; a new password that breaks a rule
// answers EINVALID (field new_password) after a right current one. An empty
// current password counts nothing: EINVALID (key password.current_required),
// with the new password's error if it has one. Nothing changes on error.
func (s *Service) ChangePassword(ctx context.Context, a Auth, current, password string, o equipe.Origin) error {
	if current == "" {
		// Nothing to count: both fields are told at once.
		var v equipe.Invalid
		v.Add("current_password", keyCurrentPasswordRequired)
		if p := CheckPassword(password, a.User.Email, a.User.FirstName, a.User.LastName); p != "" {
			v.AddArgs("new_password", p, map[string]any{"min": MinPasswordLen, "max": MaxPasswordLen})
		}
		return v.Err()
	}
	now := s.now()
	keys, err := s.passwordAttempt(ctx, a.User.ID, o, now)
	if err != nil {
		return err
	}

	u, err := s.DB.UserByID(ctx, a.User.ID)
	if err != nil {
		return err
	}
	if ok, _ := s.Hasher.Verify(u.PasswordHash, current); !ok || u.PasswordHash == "" {
		return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
			Fields: []equipe.FieldError{{Field: "current_password", Key: "password.current_wrong"}}}
	}
	if p := CheckPassword(password, u.Email, u.FirstName, u.LastName); p != "" {
		var v equipe.Invalid
		v.AddArgs("new_password", p, map[string]any{"min": MinPasswordLen, "max": MaxPasswordLen})
		return v.Err()
	}
	hash := s.Hasher.Hash(password)
	return s.Work.DoAt(ctx, now, event.ByUser(u.ID), o, func(w *work.Unit) error {
		if err := keys.clear(ctx, w); err != nil {
			return err
		}
		if err := w.SetPassword(ctx, u.ID, hash, now); err != nil {
			return err
		}
		if err := w.SupersedeTokens(ctx, u.ID, equipe.TokenReset, now); err != nil {
			return err
		}
		ended, err := w.DeleteOtherSessions(ctx, u.ID, a.Session.ID)
		if err != nil {
			return err
		}
		keys, err := s.activeKeys(ctx, w, u.ID)
		if err != nil {
			return err
		}
		if err := mailPerson(ctx, w, u, mail.TemplatePasswordChanged, u.Email, mail.Data{RecipientName: u.Name(), RecipientID: u.ID, Keys: keys}); err != nil {
			return err
		}
		return w.Record(ctx, event.UserPasswordChanged.New(nil, u.ID.String(), nil, &event.Sessions{Ended: int(ended)}))
	})
}
