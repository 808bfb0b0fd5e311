package team

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// maxFactorReason bounds the reason an administrator gives for removing a
// person's second factors.
const maxFactorReason = 500

// RemoveSecondFactors removes every second factor of the user — their
// authenticator app, passkeys and recovery codes — for an instance
// administrator or an instance key who checked, as docs/security.md says,
// that the person asking is the user. The reason (1 to 500 characters) is
// recorded in the user.second_factors_removed event; every session of the
// user ends, and the second_factors_removed email tells them, with the
// reason. It returns what the user had.
//
// Anyone else, and an unknown user, is answered ENOTFOUND; an administrator
// acting on themself, and a user with no second factor, ECONFLICT
// (removeFactorsRule); a missing or too long reason EINVALID (field reason).
func (s *Service) RemoveSecondFactors(ctx context.Context, actor Actor, id equipe.ID, reason string) (store.FactorSummary, error) {
	if !actor.instance() {
		return store.FactorSummary{}, notFound()
	}
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return store.FactorSummary{}, fieldError("reason", "second_factors.reason_required")
	case utf8.RuneCountInString(reason) > maxFactorReason || strings.ContainsFunc(reason, badReasonRune):
		return store.FactorSummary{}, &equipe.Error{Code: equipe.EINVALID, Key: "error.fields", Fields: []equipe.FieldError{{
			Field: "reason", Key: "second_factors.reason_invalid", Args: map[string]any{"max": maxFactorReason}}}}
	}
	var had store.FactorSummary
	err := s.Work.Do(ctx, actor.recorded(), equipe.Origin{IP: actor.IP}, func(w *work.Unit) error {
		u, err := w.UserByID(ctx, id)
		if err != nil {
			return err
		}
		// The removal is judged on what it removed: a refusal undoes it with
		// the rest of the unit.
		if had, err = w.DeleteSecondFactors(ctx, id, w.Now()); err != nil {
			return err
		}
		if err := removeFactorsRule(actor, id, had); err != nil {
			return err
		}
		ended, err := w.DeleteUserSessions(ctx, id)
		if err != nil {
			return err
		}
		if err := w.Record(ctx, event.UserSecondFactorsRemoved.New(nil, id.String(),
			&event.Factors{TOTP: had.TOTP, Passkeys: had.Passkeys, RecoveryCodes: had.RecoveryCodes},
			&event.FactorRemoval{Justification: reason, Ended: int(ended)})); err != nil {
			return err
		}
		return w.Mail(ctx, mail.TemplateSecondFactorsRemoved, u.Locale, u.Email, mail.Data{RecipientName: u.Name(), RecipientID: u.ID, Message: reason})
	})
	return had, err
}

// removeFactorsRule answers whether actor may remove the second factors of
// the user id, who has had: not their own — an administrator removes their
// own from their security page, which asks for their password, so that a
// stolen session does not strip them — and not when there are none.
func removeFactorsRule(actor Actor, id equipe.ID, had store.FactorSummary) error {
	if me := actor.userID(); me != nil && *me == id {
		return conflict("second_factors.self", nil)
	}
	if !had.TOTP && had.Passkeys == 0 && had.RecoveryCodes == 0 {
		return conflict("second_factors.none", nil)
	}
	return nil
}

// badReasonRune refuses control characters in a reason, line breaks aside.
func badReasonRune(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }
