package identity

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
)

// Adding an authentication factor (a passkey, an authenticator app) needs
// a recent authentication: a session left open on a shared computer, or a
// stolen cookie, must not be enough to add a passkey, which logs in alone
// and outlives a password reset, or an app, which would lock the person
// out of their next login (OWASP ASVS: re-authenticate before changing
// authentication factors). Removing a factor and making new recovery codes
// always ask for the password.

// reauthWindow is how long after the person last proved who they are in a
// session (its login, or a password confirmed since) a factor may be added
// without the password.
const reauthWindow = 10 * time.Minute

// RecentlyAuthenticated reports whether the person of a proved who they are
// in this session recently enough to add a factor without typing their
// password again: pages ask for the password when it is not.
func (s *Service) RecentlyAuthenticated(a Auth) bool {
	return s.now().Sub(a.Session.AuthenticatedAt) < reauthWindow
}

// reauthRequired adds to v the field error of a change adding a factor,
// asked without the password in a session not recently authenticated
// (password.reauth_required). It counts nothing and writes nothing.
func (s *Service) reauthRequired(v *equipe.Invalid, a Auth, password string) {
	if password == "" && !s.RecentlyAuthenticated(a) {
		v.Add("password", "password.reauth_required")
	}
}

// reauthenticate checks the password given with a change adding a factor
// (none is needed in a recently authenticated session: see
// reauthRequired), throttled as a password change is: ERATELIMITED while
// blocked, EINVALID (field password, key password.current_wrong) when it
// is wrong. A right one makes the session's authentication recent again,
// so that the next steps of the same setup do not ask for it.
func (s *Service) reauthenticate(ctx context.Context, a Auth, password string, o equipe.Origin) error {
	if password == "" {
		return nil
	}
	return s.confirmPasswordThen(ctx, a.User.ID, password, "password.current_wrong", o,
		func(ctx context.Context, b *store.Batch, now time.Time) error {
			return b.ReauthenticateSession(ctx, a.Session.ID, now)
		})
}
