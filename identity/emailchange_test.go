package identity_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/pquerna/otp/totp"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/passkeytest"
)

// setUp are the kinds of the events of signing up and logging in.
var setUp = []event.Type{event.MemberAdded.Type, event.UserLoggedIn.Type, event.UserEmailVerified.Type}

// changer is a person of an email-change row: logged in twice, with the
// address they asked to move to.
type changer struct {
	user     equipe.User
	old, new string
}

// changer signs a person up, logs them in twice (from one browser: no
// new-browser email) and returns them with a fresh address to move to.
func (g *stage) changer() changer {
	g.t.Helper()
	old := address("ada")
	u := g.verified(old)
	o := from()
	for range 2 {
		a, _, err := g.st.Identity.LogIn(ctx, old, goodPassword, o)
		if err != nil {
			g.t.Fatal(err)
		}
		if a.Browser != "" {
			o.Browser = a.Browser
		}
	}
	return changer{user: g.user(u.ID), old: old, new: address("ada.new")}
}

// user returns the user as stored.
func (g *stage) user(id equipe.ID) equipe.User {
	g.t.Helper()
	u, err := g.st.DB.UserByID(ctx, id)
	if err != nil {
		g.t.Fatal(err)
	}
	return u
}

// sessions returns how many sessions the user has.
func (g *stage) sessions(id equipe.ID) int {
	g.t.Helper()
	ss, err := g.st.DB.Sessions(ctx, id)
	if err != nil {
		g.t.Fatal(err)
	}
	return len(ss)
}

// request asks for c's change with the right password.
func (g *stage) request(c changer) identity.EmailChange {
	g.t.Helper()
	ch, err := g.st.Identity.RequestEmailChange(ctx, c.user, identity.EmailChangeRequest{NewEmail: c.new, CurrentPassword: goodPassword}, from())
	if err != nil {
		g.t.Fatalf("request: %v", err)
	}
	return ch
}

// confirmChange uses the newest confirmation link sent to c's new address.
func (g *stage) confirmChange(c changer) equipe.User {
	g.t.Helper()
	u, err := g.st.Identity.ConfirmEmailChange(ctx, g.secret(c.new, "/email-change/confirm/"), from())
	if err != nil {
		g.t.Fatalf("confirm: %v", err)
	}
	return u
}

func TestRequestEmailChange_RefusesBadInputAndChangesNothing(t *testing.T) {
	tests := []struct {
		name  string
		input func(c changer) identity.EmailChangeRequest
		want  string
	}{
		{"a wrong password", func(c changer) identity.EmailChangeRequest {
			return identity.EmailChangeRequest{NewEmail: c.new, CurrentPassword: "not the password at all"}
		}, "error.fields current_password=email_change.password_wrong"},
		{"no password", func(c changer) identity.EmailChangeRequest {
			return identity.EmailChangeRequest{NewEmail: c.new}
		}, "error.fields current_password=email_change.password_required"},
		{"a malformed address", func(c changer) identity.EmailChangeRequest {
			return identity.EmailChangeRequest{NewEmail: "ada at example", CurrentPassword: goodPassword}
		}, "error.fields new_email=email.invalid"},
		{"the same address, written otherwise", func(c changer) identity.EmailChangeRequest {
			return identity.EmailChangeRequest{NewEmail: " " + c.old[:1] + c.old[1:] + " ", CurrentPassword: goodPassword}
		}, "error.fields new_email=email_change.same"},
	}
	eachStage(t, func(t *testing.T, g *stage) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := g.row(t)
				c := g.changer()
				before := g.counts()
				_, err := g.st.Identity.RequestEmailChange(ctx, c.user, tt.input(c), from())
				wantRefusal(t, err, tt.want)
				// A wrong password counts as a failed login: a throttle row.
				g.unchanged(t, before, "throttles")
				if u := g.user(c.user.ID); u.Email != c.old {
					t.Errorf("login email %s", u.Email)
				}
			})
		}
	})
}

func TestEmailChange_ConfirmedByTheNewAddressToldToTheOld(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		c := g.changer()
		ch := g.request(c)
		if ch.NewEmail != c.new || !ch.ExpiresAt.Equal(g.st.Clock.Now().Add(24*time.Hour)) {
			t.Fatalf("pending change %+v", ch)
		}
		if got, err := g.st.Identity.PendingEmailChange(ctx, c.user.ID); err != nil || got != ch {
			t.Fatalf("pending: %+v %v", got, err)
		}
		// Nothing changes until the new address confirms.
		if u := g.user(c.user.ID); u.Email != c.old {
			t.Fatalf("login email %s before confirmation", u.Email)
		}
		if got := g.templates(c.new); !slices.Equal(got, []string{"email_change_requested"}) {
			t.Fatalf("to the new address: %v", got)
		}
		if got := g.templates(c.old); !slices.Equal(got, []string{"verify_email", "email_change_notice"}) {
			t.Fatalf("to the old address: %v", got)
		}
		// Opening the link uses nothing.
		if l, err := g.st.Identity.EmailChangeConfirmLink(ctx, g.secret(c.new, "/email-change/confirm/"), from()); err != nil || l.Email != c.new {
			t.Fatalf("link: %+v %v", l, err)
		}
		u := g.confirmChange(c)
		stored := g.user(c.user.ID)
		if u.Email != c.new || stored.Email != c.new || !stored.EmailVerifiedAt.Equal(g.st.Clock.Now()) {
			t.Fatalf("after confirmation: %s, stored %s verified %v", u.Email, stored.Email, stored.EmailVerifiedAt)
		}
		if _, _, err := g.st.Identity.LogIn(ctx, c.new, goodPassword, from()); err != nil {
			t.Errorf("log in with the new address: %v", err)
		}
		if _, _, err := g.st.Identity.LogIn(ctx, c.old, goodPassword, from()); equipe.ErrorCode(err) != equipe.EUNAUTHORIZED {
			t.Errorf("log in with the old address: %v", err)
		}
		if got := g.templates(c.old); !slices.Equal(got, []string{"verify_email", "email_change_notice", "email_changed"}) {
			t.Fatalf("to the old address: %v", got)
		}
		if g.sessions(c.user.ID) != 3 {
			t.Errorf("%d sessions, want the two before and one after", g.sessions(c.user.ID))
		}
		if _, err := g.st.Identity.PendingEmailChange(ctx, c.user.ID); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Errorf("still pending: %v", err)
		}
		_, err := g.st.Identity.ConfirmEmailChange(ctx, g.secret(c.new, "/email-change/confirm/"), from())
		wantRefusal(t, err, "link.used")
		es := g.about(c.user.ID.String())
		var got []event.Type
		for _, e := range es {
			if !slices.Contains(setUp, e.Type) {
				got = append(got, e.Type)
			}
		}
		if !slices.Equal(got, []event.Type{event.UserEmailChangeRequested.Type, event.UserEmailChanged.Type}) {
			t.Fatalf("events: %v", got)
		}
		wantBy(t, es[len(es)-2], event.ByUser(c.user.ID), event.EmailChange{NewEmail: c.new})
		wantBy(t, es[len(es)-1], event.ByUser(c.user.ID), event.Address{Email: c.new})
	})
}

func TestEmailChange_ATakenAddressIsAnsweredAsAFreeOneAndItsOwnerTold(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		c := g.changer()
		other := g.verified(c.new)
		ch := g.request(c)
		if ch.NewEmail != c.new {
			t.Fatalf("pending change %+v", ch)
		}
		if _, err := g.st.Identity.PendingEmailChange(ctx, c.user.ID); err != nil {
			t.Fatalf("a taken address shows no pending change: %v", err)
		}
		if got := g.templates(c.new); !slices.Equal(got, []string{"verify_email", "email_change_attempt"}) {
			t.Fatalf("to the taken address: %v", got)
		}
		if got := g.templates(c.old); !slices.Equal(got, []string{"verify_email", "email_change_notice"}) {
			t.Fatalf("to the old address: %v", got)
		}
		// The owner is told at most once an hour.
		if _, err := g.st.Identity.ResendEmailChange(ctx, c.user, from()); err != nil {
			t.Fatal(err)
		}
		if n := len(g.templates(c.new)); n != 2 {
			t.Errorf("%d emails to the taken address after a resend", n)
		}
		if u := g.user(other.ID); u.Email != c.new {
			t.Errorf("the owner's address is now %s", u.Email)
		}
	})
}

func TestEmailChange_WithdrawnResentOrEndedByAReset(t *testing.T) {
	tests := []struct {
		name string
		// end ends the pending change in some way; reason is the
		// withdrawal's, "" when the change is not withdrawn but replaced.
		end    func(g *stage, c changer) error
		reason string
		events []event.Type
	}{
		{"the person withdraws it", func(g *stage, c changer) error {
			return g.st.Identity.WithdrawEmailChange(ctx, c.user, from())
		}, "", []event.Type{event.UserEmailChangeRequested.Type, event.UserEmailChangeWithdrawn.Type}},
		{"a password reset withdraws it", func(g *stage, c changer) error {
			err := g.resetPassword(c.old)
			return err
		}, "email_change.withdrawn_by_reset", []event.Type{event.UserEmailChangeRequested.Type,
			event.UserPasswordResetRequested.Type, event.UserPasswordReset.Type, event.UserEmailChangeWithdrawn.Type}},
		{"a new link replaces it", func(g *stage, c changer) error {
			_, err := g.st.Identity.ResendEmailChange(ctx, c.user, from())
			return err
		}, "", []event.Type{event.UserEmailChangeRequested.Type, event.UserEmailChangeResent.Type}},
	}
	eachStage(t, func(t *testing.T, g *stage) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := g.row(t)
				c := g.changer()
				g.request(c)
				first := g.secret(c.new, "/email-change/confirm/")
				if err := tt.end(g, c); err != nil {
					t.Fatal(err)
				}
				_, err := g.st.Identity.ConfirmEmailChange(ctx, first, from())
				wantRefusal(t, err, "link.used")
				var got []event.Type
				var last event.Event
				for _, e := range g.about(c.user.ID.String()) {
					if !slices.Contains(setUp, e.Type) {
						got, last = append(got, e.Type), e
					}
				}
				if !slices.Equal(got, tt.events) {
					t.Fatalf("events %v, want %v", got, tt.events)
				}
				if last.Type == event.UserEmailChangeWithdrawn.Type {
					wantBy(t, last, event.ByUser(c.user.ID), event.EmailChange{NewEmail: c.new, Reason: tt.reason})
					if _, err := g.st.Identity.PendingEmailChange(ctx, c.user.ID); equipe.ErrorCode(err) != equipe.ENOTFOUND {
						t.Errorf("still pending: %v", err)
					}
					wantRefusal(t, g.st.Identity.WithdrawEmailChange(ctx, c.user, from()), "email_change.none")
					return
				}
				// A resent link works.
				if u := g.confirmChange(c); u.Email != c.new {
					t.Errorf("login email %s", u.Email)
				}
			})
		}
	})
}

func TestCancelEmailChange_FromTheOldAddressEndsEverySessionAndUndoesTheChange(t *testing.T) {
	tests := []struct {
		name string
		// confirmed: the change was confirmed before the old address's link
		// is used; squat: someone tries to sign up with the old address
		// meanwhile, and is refused.
		confirmed, squat bool
		restored         bool
	}{
		{name: "before confirmation, the change is withdrawn"},
		{name: "after confirmation, the old address is given back", confirmed: true, restored: true},
		{name: "after confirmation, nobody could take the old address meanwhile", confirmed: true, squat: true, restored: true},
	}
	eachStage(t, func(t *testing.T, g *stage) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := g.row(t)
				c := g.changer()
				g.request(c)
				notice := g.secret(c.old, "/email-change/cancel/")
				if tt.confirmed {
					g.confirmChange(c)
					// A reset asked with the new address must not outlive
					// the cancellation.
					if err := g.st.Identity.RequestReset(ctx, c.new, from()); err != nil {
						t.Fatal(err)
					}
					if _, err := g.st.Identity.ProcessResets(ctx); err != nil {
						t.Fatal(err)
					}
				}
				if tt.squat {
					_, err := g.st.Identity.SignUp(ctx, identity.SignUp{Email: c.old, Password: "someone else's sentence here",
						FirstName: "Eve", LastName: "Squatter", AccountName: "Eve's", Locale: "en"}, from(), false)
					wantRefusal(t, err, "signup.email_unavailable email=signup.email_unavailable")
				}
				if l, err := g.st.Identity.EmailChangeCancelLink(ctx, notice, from()); err != nil || l.Email != c.old {
					t.Fatalf("link: %+v %v", l, err)
				}
				res, err := g.st.Identity.CancelEmailChange(ctx, notice, from())
				if err != nil {
					t.Fatal(err)
				}
				want := c.old
				if tt.confirmed && !tt.restored {
					want = c.new
				}
				if res.Restored != tt.restored || res.Taken || res.User.Email != want || g.user(c.user.ID).Email != want {
					t.Fatalf("cancel: %+v, stored %s, want %s", res, g.user(c.user.ID).Email, want)
				}
				if g.sessions(c.user.ID) != 0 || res.SessionsEnded < 2 {
					t.Errorf("%d sessions left, %d ended", g.sessions(c.user.ID), res.SessionsEnded)
				}
				if _, usable := g.tokens(c.user.ID, equipe.TokenEmailChange); usable != 0 {
					t.Errorf("%d confirmation links usable", usable)
				}
				if _, usable := g.tokens(c.user.ID, equipe.TokenReset); tt.restored && usable != 0 {
					t.Errorf("%d reset links usable", usable)
				}
				_, err = g.st.Identity.CancelEmailChange(ctx, notice, from())
				wantRefusal(t, err, "link.used")
				es := g.about(c.user.ID.String())
				wantBy(t, es[len(es)-1], event.ByUser(c.user.ID),
					event.EmailCancel{Email: want, Restored: tt.restored, Ended: res.SessionsEnded})
			})
		}
	})
}

func TestCancelEmailChange_ALaterLinkCannotUndoAnEarlierOne(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		// Someone with the password moves the identity to a, then to b.
		c := g.changer()
		g.request(c)
		first := g.secret(c.old, "/email-change/cancel/")
		g.confirmChange(c)
		c2 := changer{user: g.user(c.user.ID), old: c.new, new: address("ada.b")}
		g.request(c2)
		// The later request did not make the earlier link stop working.
		later := g.secret(c2.old, "/email-change/cancel/")
		g.confirmChange(c2)
		res, err := g.st.Identity.CancelEmailChange(ctx, first, from())
		if err != nil || !res.Restored || res.User.Email != c.old {
			t.Fatalf("first link: %+v %v", res, err)
		}
		_, err = g.st.Identity.CancelEmailChange(ctx, later, from())
		wantRefusal(t, err, "link.used")
		if u := g.user(c.user.ID); u.Email != c.old {
			t.Errorf("login email %s", u.Email)
		}
	})
}

func TestEmailChange_LinksExpire(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		c := g.changer()
		g.request(c)
		confirm, cancel := g.secret(c.new, "/email-change/confirm/"), g.secret(c.old, "/email-change/cancel/")
		g.st.Clock.Advance(24 * time.Hour)
		_, err := g.st.Identity.ConfirmEmailChange(ctx, confirm, from())
		wantRefusal(t, err, "link.expired")
		if _, err := g.st.Identity.EmailChangeCancelLink(ctx, cancel, from()); err != nil {
			t.Fatalf("cancel link after 24 h: %v", err)
		}
		g.st.Clock.Advance(48 * time.Hour)
		_, err = g.st.Identity.CancelEmailChange(ctx, cancel, from())
		wantRefusal(t, err, "link.expired")
	})
}

func TestEmailChange_PasswordGuessesAndRequestsAreThrottled(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		c := g.changer()
		wrong := identity.EmailChangeRequest{NewEmail: c.new, CurrentPassword: "not the password at all"}
		for i := range 5 {
			_, err := g.st.Identity.RequestEmailChange(ctx, c.user, wrong, from())
			if equipe.ErrorCode(err) != equipe.EINVALID {
				t.Fatalf("guess %d: %v", i+1, err)
			}
		}
		// The sixth waits, and so does a login: the same count.
		_, err := g.st.Identity.RequestEmailChange(ctx, c.user, wrong, from())
		if equipe.ErrorCode(err) != equipe.ERATELIMITED {
			t.Fatalf("sixth guess: %v", err)
		}
		if _, _, err := g.st.Identity.LogIn(ctx, c.old, goodPassword, from()); equipe.ErrorCode(err) != equipe.ERATELIMITED {
			t.Fatalf("login after the guesses: %v", err)
		}

		c = g.changer()
		for i := range 5 {
			c.new = address("ada.try")
			if _, err := g.st.Identity.RequestEmailChange(ctx, c.user, identity.EmailChangeRequest{NewEmail: c.new,
				CurrentPassword: goodPassword}, from()); err != nil {
				t.Fatalf("request %d: %v", i+1, err)
			}
		}
		_, err = g.st.Identity.RequestEmailChange(ctx, c.user, identity.EmailChangeRequest{NewEmail: address("ada.try"),
			CurrentPassword: goodPassword}, from())
		if equipe.ErrorCode(err) != equipe.ERATELIMITED {
			t.Fatalf("sixth request: %v", err)
		}
		if _, err := g.st.Identity.ResendEmailChange(ctx, c.user, from()); equipe.ErrorCode(err) != equipe.ERATELIMITED {
			t.Fatalf("resend after five requests: %v", err)
		}
	})
}

func TestRequestEmailChange_APersonWithAnAuthenticatorAppGivesACode(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		c := g.changer()
		// A confirmed app, as the store keeps it (the codes themselves are
		// checked through the API: api.TestEmailChange_API_APersonWithAnAuthenticatorAppGivesACode).
		if _, err := g.raw.Exec(`INSERT INTO totp_factors (user_id, secret, key_id, created_at, confirmed_at)
			VALUES ($1, $2, 'k', 1, 1)`, c.user.ID.String(), []byte("sealed")); err != nil {
			t.Fatal(err)
		}
		before := g.counts()
		_, err := g.st.Identity.RequestEmailChange(ctx, c.user, identity.EmailChangeRequest{NewEmail: c.new, CurrentPassword: goodPassword}, from())
		wantRefusal(t, err, "error.fields code=email_change.code_required")
		g.unchanged(t, before)
		// A wrong password is refused before the code is looked at.
		_, err = g.st.Identity.RequestEmailChange(ctx, c.user, identity.EmailChangeRequest{NewEmail: c.new,
			CurrentPassword: "not the password at all", Code: "123456"}, from())
		wantRefusal(t, err, "error.fields current_password=email_change.password_wrong")
		g.unchanged(t, before, "throttles")
	})
}

// TestRequestEmailChange_APersonWithPasskeysOnlyConfirmsWithOne: a person
// whose only second factor is a passkey is asked for one (the password is
// not enough); a passkey's answer to a ceremony of another person, of a
// login, or used already is refused and changes nothing; their own passkey's
// answer lets the change go ahead, once. With an authenticator app too,
// either a code or a passkey does.
func TestRequestEmailChange_APersonWithPasskeysOnlyConfirmsWithOne(t *testing.T) {
	eachPasskeyStage(t, func(t *testing.T, g *passkeyStage) {
		c := g.changer()
		// A session just logged in: adding a passkey needs no password.
		a := identity.Auth{User: c.user, Session: equipe.Session{AuthenticatedAt: g.st.Clock.Now()}}
		dev := passkeytest.New(passkeyOrigin)
		g.register(a, dev, "Phone")
		if m, err := g.id.EmailChangeMethods(ctx, c.user.ID); err != nil || !slices.Equal(m, []string{identity.MethodPasskey}) {
			t.Fatalf("methods %v (%v)", m, err)
		}
		// Where passkeys cannot be used, the password is enough (as at login).
		if m, _ := g.st.Identity.EmailChangeMethods(ctx, c.user.ID); len(m) != 0 {
			t.Fatalf("methods where passkeys cannot be used: %v", m)
		}
		req := func(answer []byte) error {
			_, err := g.id.RequestEmailChange(ctx, c.user, identity.EmailChangeRequest{NewEmail: c.new,
				CurrentPassword: goodPassword, Passkey: answer}, from())
			return err
		}
		answer := func(dev *passkeytest.Authenticator, a identity.Auth) []byte {
			t.Helper()
			opts, err := g.id.BeginEmailChangePasskey(ctx, a, from())
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(opts)
			resp, err := dev.Get(raw)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		before := g.counts()
		wantRefusal(t, req(nil), "error.fields passkey=email_change.passkey_required")
		g.unchanged(t, before)
		// The same without the passkey but with a code: still the passkey.
		_, err := g.id.RequestEmailChange(ctx, c.user, identity.EmailChangeRequest{NewEmail: c.new,
			CurrentPassword: goodPassword, Code: "123456"}, from())
		wantRefusal(t, err, "error.fields passkey=email_change.passkey_required")

		// Another person's passkey, answering their own ceremony.
		other := g.person("grace")
		theirs := passkeytest.New(passkeyOrigin)
		g.register(other, theirs, "Theirs")
		wantRefusal(t, req(answer(theirs, other)), "error.fields passkey=email_change.passkey_failed")
		// A ceremony of a login's second step does not confirm a change.
		step := g.secondStep(c.old)
		wantRefusal(t, req(g.answerSecondFactor(dev, step.Challenge)), "error.fields passkey=email_change.passkey_failed")
		// Garbage.
		wantRefusal(t, req([]byte(`{"id":"x"}`)), "error.fields passkey=email_change.passkey_failed")
		if _, err := g.id.PendingEmailChange(ctx, c.user.ID); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("a refused request left a change waiting: %v", err)
		}
		failed := 0
		for _, e := range g.about(c.user.ID.String()) {
			if e.Type == event.UserSecondFactorFailed.Type {
				failed++
			}
		}
		if failed < 2 {
			t.Errorf("%d failed second factors recorded, want at least 2", failed)
		}

		// A wrong password is refused before the passkey is looked at: its
		// answer still serves once the password is right.
		own := answer(dev, a)
		_, err = g.id.RequestEmailChange(ctx, c.user, identity.EmailChangeRequest{NewEmail: c.new,
			CurrentPassword: "not the password at all", Passkey: own}, from())
		wantRefusal(t, err, "error.fields current_password=email_change.password_wrong")
		if err := req(own); err != nil {
			t.Fatalf("with the person's passkey: %v", err)
		}
		if ch, err := g.id.PendingEmailChange(ctx, c.user.ID); err != nil || ch.NewEmail != c.new {
			t.Fatalf("the change waiting: %+v %v", ch, err)
		}
		keys, _, _ := g.id.Passkeys(ctx, c.user.ID, equipe.Page{})
		if keys[0].LastUsedAt.IsZero() {
			t.Error("the passkey's use is not recorded")
		}
		// Its answer served once.
		wantRefusal(t, req(own), "error.fields passkey=email_change.passkey_failed")

		// With an authenticator app too, either does; neither is refused.
		g.st.Clock.Set(g.st.Clock.Now().Truncate(30 * time.Second).Add(10 * time.Second))
		setup, err := g.id.StartTOTP(ctx, a, goodPassword, from())
		if err != nil {
			t.Fatal(err)
		}
		code, _ := totp.GenerateCode(setup.Secret, g.st.Clock.Now())
		if _, err := g.id.ConfirmTOTP(ctx, a, code, from()); err != nil {
			t.Fatal(err)
		}
		if m, _ := g.id.EmailChangeMethods(ctx, c.user.ID); !slices.Contains(m, identity.MethodTOTP) || !slices.Contains(m, identity.MethodPasskey) {
			t.Fatalf("methods with both: %v", m)
		}
		wantRefusal(t, req(nil), "error.fields code=email_change.code_or_passkey_required")
		if err := req(answer(dev, a)); err != nil {
			t.Fatalf("both, with the passkey: %v", err)
		}
		g.st.Clock.Advance(30 * time.Second)
		code, _ = totp.GenerateCode(setup.Secret, g.st.Clock.Now())
		if _, err := g.id.RequestEmailChange(ctx, c.user, identity.EmailChangeRequest{NewEmail: c.new,
			CurrentPassword: goodPassword, Code: code}, from()); err != nil {
			t.Fatalf("both, with a code: %v", err)
		}
	})
}

// TestBeginEmailChangePasskey_OnlyForAPersonWithPasskeysWhereTheyWork.
func TestBeginEmailChangePasskey_OnlyForAPersonWithPasskeysWhereTheyWork(t *testing.T) {
	eachPasskeyStage(t, func(t *testing.T, g *passkeyStage) {
		a := g.person("ada")
		_, err := g.id.BeginEmailChangePasskey(ctx, a, from())
		wantRefusal(t, err, "passkey.none")
		g.register(a, passkeytest.New(passkeyOrigin), "Phone")
		_, err = g.st.Identity.BeginEmailChangePasskey(ctx, a, from())
		wantRefusal(t, err, "passkey.unavailable")
		opts, err := g.id.BeginEmailChangePasskey(ctx, a, from())
		if err != nil || len(opts.Response.AllowedCredentials) != 1 || opts.Response.UserVerification != protocol.VerificationPreferred {
			t.Fatalf("options %+v (%v)", opts, err)
		}
	})
}

// TestRequestEmailChange_ARequestTheLimitRefusesSpendsNoCode: past the
// requests an hour, a request with the right password and an unused
// recovery code is refused and the code stays unused.
func TestRequestEmailChange_ARequestTheLimitRefusesSpendsNoCode(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		c := g.changer()
		a := identity.Auth{User: c.user}
		setup, err := g.st.Identity.StartTOTP(ctx, a, goodPassword, from())
		if err != nil {
			t.Fatal(err)
		}
		code, err := totp.GenerateCode(setup.Secret, g.st.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		recovery, err := g.st.Identity.ConfirmTOTP(ctx, a, code, from())
		if err != nil {
			t.Fatal(err)
		}
		unused := func() (n int) {
			t.Helper()
			if err := g.raw.QueryRow(`SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at = 0`, c.user.ID.String()).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for i := range 5 {
			if _, err := g.st.Identity.RequestEmailChange(ctx, c.user, identity.EmailChangeRequest{NewEmail: address("ada.try"),
				CurrentPassword: goodPassword, Code: recovery[i]}, from()); err != nil {
				t.Fatalf("request %d: %v", i+1, err)
			}
		}
		before := unused()
		_, err = g.st.Identity.RequestEmailChange(ctx, c.user, identity.EmailChangeRequest{NewEmail: address("ada.try"),
			CurrentPassword: goodPassword, Code: recovery[5]}, from())
		if equipe.ErrorCode(err) != equipe.ERATELIMITED {
			t.Fatalf("sixth request: %v", err)
		}
		if after := unused(); after != before {
			t.Errorf("unused recovery codes %d → %d", before, after)
		}
	})
}

// TestEmailChange_AnAddressKeptForItsFormerHolderGetsNoLink: an address an
// identity was changed away from stays theirs while their link to take it
// back works; another person who asks for it gets the same answer as for a
// free one, no link goes to it (its confirmation could never succeed), and
// its holder is told.
func TestEmailChange_AnAddressKeptForItsFormerHolderGetsNoLink(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		gina := g.changer()
		g.request(gina)
		g.confirmChange(gina)
		hank := g.changer()
		hank.new = gina.old
		before := len(g.templates(gina.old))
		if ch := g.request(hank); ch.NewEmail != gina.old {
			t.Fatalf("pending change %+v", ch)
		}
		if got := g.templates(gina.old); len(got) != before {
			t.Errorf("to the kept address: %v", got[before:])
		}
		if got := g.templates(gina.new); !slices.Contains(got, "email_change_attempt") {
			t.Errorf("to its holder: %v", got)
		}
	})
}
