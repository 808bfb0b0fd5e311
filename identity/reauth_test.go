package identity_test

import (
	"testing"
	"time"

	"github.com/equipe-dev/equipe/identity"
)

// addFactor is a use case that adds a factor, as a test calls it.
type addFactor struct {
	name string
	add  func(g *passkeyStage, a identity.Auth, password string) error
}

var addFactors = []addFactor{
	{"a passkey", func(g *passkeyStage, a identity.Auth, password string) error {
		_, err := g.id.BeginPasskeyRegistration(ctx, a, "Phone", password, from())
		return err
	}},
	{"an authenticator app", func(g *passkeyStage, a identity.Auth, password string) error {
		_, err := g.id.StartTOTP(ctx, a, password, from())
		return err
	}},
}

// loggedIn signs someone up and logs them in, and returns their session's
// secret.
func (g *passkeyStage) loggedIn(name string) string {
	g.t.Helper()
	email := address(name)
	g.signedUp(email)
	_, secret, err := g.id.LogIn(ctx, email, goodPassword, from())
	if err != nil {
		g.t.Fatal(err)
	}
	return secret
}

// session returns the identity of the session secret as a request has it.
func (g *passkeyStage) session(secret string) identity.Auth {
	g.t.Helper()
	a, err := g.id.Authenticate(ctx, secret)
	if err != nil {
		g.t.Fatal(err)
	}
	return a
}

// TestAddingAFactor_ASessionLoggedInMoreThanTenMinutesAgoNeedsThePassword:
// in a session whose login is older than ten minutes, beginning a passkey's
// registration and starting an authenticator app's setup are refused
// without the password and with a wrong one, and nothing is written (but
// the wrong password's count); the right password lets them go ahead and
// makes the session's authentication recent again, so the next step needs
// no password.
func TestAddingAFactor_ASessionLoggedInMoreThanTenMinutesAgoNeedsThePassword(t *testing.T) {
	eachPasskeyStage(t, func(t *testing.T, g *passkeyStage) {
		for _, f := range addFactors {
			t.Run(f.name, func(t *testing.T) {
				g := g.row(t)
				secret := g.loggedIn("ada")
				g.st.Clock.Advance(10*time.Minute + time.Second)
				a := g.session(secret)
				if g.id.RecentlyAuthenticated(a) {
					t.Fatal("a login of more than ten minutes ago is recent")
				}

				before := g.counts()
				wantRefusal(t, f.add(g, a, ""), "error.fields password=password.reauth_required")
				g.unchanged(t, before)
				wantRefusal(t, f.add(g, a, "not the password at all"), "error.fields password=password.current_wrong")
				g.unchanged(t, before, "throttles")
				if a := g.session(secret); g.id.RecentlyAuthenticated(a) {
					t.Fatal("a wrong password made the session's authentication recent")
				}

				if err := f.add(g, a, goodPassword); err != nil {
					t.Fatalf("with the password: %v", err)
				}
				a = g.session(secret)
				if !g.id.RecentlyAuthenticated(a) {
					t.Fatal("the password did not make the session's authentication recent")
				}
				for _, next := range addFactors {
					if err := next.add(g, a, ""); err != nil {
						t.Errorf("%s, just after the password: %v", next.name, err)
					}
				}
			})
		}
	})
}

// TestAddingAFactor_ARecentLoginNeedsNoPassword: up to ten minutes after
// the login, a factor is added without the password; a password given all
// the same must be right.
func TestAddingAFactor_ARecentLoginNeedsNoPassword(t *testing.T) {
	eachPasskeyStage(t, func(t *testing.T, g *passkeyStage) {
		for _, f := range addFactors {
			t.Run(f.name, func(t *testing.T) {
				g := g.row(t)
				secret := g.loggedIn("ada")
				g.st.Clock.Advance(10*time.Minute - time.Second)
				a := g.session(secret)
				if !g.id.RecentlyAuthenticated(a) {
					t.Fatal("a login of less than ten minutes ago is not recent")
				}
				if err := f.add(g, a, ""); err != nil {
					t.Fatal(err)
				}
				wantRefusal(t, f.add(g, a, "not the password at all"), "error.fields password=password.current_wrong")
			})
		}
	})
}

// TestAddingAFactor_WrongPasswordsAreThrottledAsAPasswordChange: the
// password given to add a factor counts with the password change's: after
// five wrong ones, even the right one is refused, and so is a password
// change.
func TestAddingAFactor_WrongPasswordsAreThrottledAsAPasswordChange(t *testing.T) {
	eachPasskeyStage(t, func(t *testing.T, g *passkeyStage) {
		secret := g.loggedIn("ada")
		g.st.Clock.Advance(11 * time.Minute)
		a := g.session(secret)
		for i := range 5 {
			f := addFactors[i%len(addFactors)]
			wantRefusal(t, f.add(g, a, "not the password at all"), "error.fields password=password.current_wrong")
		}
		for _, f := range addFactors {
			wantRefusal(t, f.add(g, a, goodPassword), "error.rate_limited")
		}
		err := g.id.ChangePassword(ctx, a, goodPassword, "a brand new passphrase of mine", from())
		wantRefusal(t, err, "error.rate_limited")
		if g.id.RecentlyAuthenticated(g.session(secret)) {
			t.Fatal("a throttled password made the session's authentication recent")
		}
	})
}

// TestPendingTOTP_ShownAgainOnlyInARecentlyAuthenticatedSession: the seed
// of a setup left unfinished is not shown to a session whose login is old
// (someone at a computer left open would read it); the person starts again.
func TestPendingTOTP_ShownAgainOnlyInARecentlyAuthenticatedSession(t *testing.T) {
	eachPasskeyStage(t, func(t *testing.T, g *passkeyStage) {
		secret := g.loggedIn("ada")
		a := g.session(secret)
		setup, err := g.id.StartTOTP(ctx, a, "", from())
		if err != nil {
			t.Fatal(err)
		}
		if again, err := g.id.PendingTOTP(ctx, a); err != nil || again.Secret != setup.Secret {
			t.Fatalf("shown again: %v", err)
		}
		g.st.Clock.Advance(10*time.Minute + time.Second)
		_, err = g.id.PendingTOTP(ctx, g.session(secret))
		wantRefusal(t, err, "totp.not_started")
	})
}
