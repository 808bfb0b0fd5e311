package identity_test

import (
	"testing"

	"github.com/equipe-dev/equipe/identity"
)

// throttleSum returns the attempts all throttles count.
func (g *stage) throttleSum() int {
	g.t.Helper()
	return g.count(`SELECT COALESCE(SUM(count), 0) FROM throttles`)
}

// TestConfirmations_APasswordOrACodeLeftEmptyIsAskedForAndCountsNothing:
// where a person confirms with their password or a second factor's code,
// an empty field is told as missing, not as wrong: no throttle counts it,
// nothing is recorded, and the right answer given next is taken.
func TestConfirmations_APasswordOrACodeLeftEmptyIsAskedForAndCountsNothing(t *testing.T) {
	// Each row readies its person and returns the action with the empty
	// field, and the same action answered rightly.
	tests := []struct {
		name  string
		setup func(t *testing.T, g *stage) (empty, right func() error)
		want  string
	}{
		{"the second step of a login", func(t *testing.T, g *stage) (func() error, func() error) {
			email := address("ada")
			_, secret := g.enrolled(email)
			o := from()
			challenge := g.challenged(email, o)
			return func() error { _, _, err := g.st.Identity.LogInSecondFactor(ctx, challenge, " - ", o); return err },
				func() error {
					_, _, err := g.st.Identity.LogInSecondFactor(ctx, challenge, g.code(secret), o)
					return err
				}
		}, "error.fields code=second_factor.required"},
		{"confirming an authenticator app", func(t *testing.T, g *stage) (func() error, func() error) {
			a := identity.Auth{User: g.signedUp(address("ada")).User}
			setup, err := g.st.Identity.StartTOTP(ctx, a, goodPassword, from())
			if err != nil {
				t.Fatal(err)
			}
			return func() error { _, err := g.st.Identity.ConfirmTOTP(ctx, a, "", from()); return err },
				func() error { _, err := g.st.Identity.ConfirmTOTP(ctx, a, g.code(setup.Secret), from()); return err }
		}, "error.fields code=totp.code_required"},
		{"removing the app, both fields empty", func(t *testing.T, g *stage) (func() error, func() error) {
			u, secret := g.enrolled(address("ada"))
			a := identity.Auth{User: u}
			return func() error { return g.st.Identity.DisableTOTP(ctx, a, "", "", from()) },
				func() error { return g.st.Identity.DisableTOTP(ctx, a, goodPassword, g.code(secret), from()) }
		}, "error.fields password=password.confirm_required code=second_factor.required"},
		{"removing the app without a code", func(t *testing.T, g *stage) (func() error, func() error) {
			u, secret := g.enrolled(address("ada"))
			a := identity.Auth{User: u}
			return func() error { return g.st.Identity.DisableTOTP(ctx, a, goodPassword, "", from()) },
				func() error { return g.st.Identity.DisableTOTP(ctx, a, goodPassword, g.code(secret), from()) }
		}, "error.fields code=second_factor.required"},
		{"new recovery codes", func(t *testing.T, g *stage) (func() error, func() error) {
			u, _ := g.enrolled(address("ada"))
			a := identity.Auth{User: u}
			return func() error { _, err := g.st.Identity.RegenerateRecoveryCodes(ctx, a, "", from()); return err },
				func() error {
					_, err := g.st.Identity.RegenerateRecoveryCodes(ctx, a, goodPassword, from())
					return err
				}
		}, "error.fields password=password.confirm_required"},
		{"a password change, the new one too short", func(t *testing.T, g *stage) (func() error, func() error) {
			email := address("ada")
			g.signedUp(email)
			a, _, err := g.st.Identity.LogIn(ctx, email, goodPassword, from())
			if err != nil {
				t.Fatal(err)
			}
			return func() error { return g.st.Identity.ChangePassword(ctx, a, "", "short", from()) },
				func() error {
					return g.st.Identity.ChangePassword(ctx, a, goodPassword, "another sentence to remember", from())
				}
		}, "error.fields current_password=password.current_required new_password=password.too_short"},
	}
	eachStage(t, func(t *testing.T, g *stage) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := g.row(t)
				empty, right := tt.setup(t, g)
				g.st.DB.WaitDetached()
				before, attempts := g.counts(), g.throttleSum()
				wantRefusal(t, empty(), tt.want)
				g.st.DB.WaitDetached()
				g.unchanged(t, before)
				if n := g.throttleSum(); n != attempts {
					t.Errorf("throttles count %d attempts, %d before", n, attempts)
				}
				if err := right(); err != nil {
					t.Errorf("the right answer after it: %v", err)
				}
			})
		}
	})
}
