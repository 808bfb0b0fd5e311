package identity_test

import (
	"slices"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
)

func ptr[T any](v T) *T { return &v }

// ownTypes returns the types of the events of a person's own identity
// (leaving out those of the account their sign-up made).
func ownTypes(es []event.Event) []event.Type {
	var out []event.Type
	for _, t := range types(es) {
		if !slices.Contains(event.AccountTypes(), t) {
			out = append(out, t)
		}
	}
	return out
}

func TestUpdateProfile_ChangesWhatIsGivenAndRecordsIt(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		tests := []struct {
			name   string
			change identity.ProfileChange
			want   func(u equipe.User) bool
			events []event.Type
			key    string // the refusal's field key; empty for none
		}{
			{"names and zone", identity.ProfileChange{FirstName: ptr(" Augusta "), TimeZone: ptr("Europe/London")},
				func(u equipe.User) bool {
					return u.FirstName == "Augusta" && u.LastName == "Byron" && u.TimeZone == "Europe/London"
				},
				[]event.Type{event.UserProfileChanged.Type}, ""},
			{"nothing given", identity.ProfileChange{},
				func(u equipe.User) bool { return u.FirstName == "Ada" && u.TimeZone == "" }, nil, ""},
			{"the same values", identity.ProfileChange{FirstName: ptr("Ada"), Locale: ptr("en")},
				func(u equipe.User) bool { return u.FirstName == "Ada" }, nil, ""},
			{"an unknown zone", identity.ProfileChange{FirstName: ptr("Augusta"), TimeZone: ptr("Europe/Atlantis")},
				func(u equipe.User) bool { return u.FirstName == "Ada" }, nil, "time_zone.invalid"},
			{"a removed name", identity.ProfileChange{LastName: ptr(""), Locale: ptr("fr")},
				func(u equipe.User) bool { return u.LastName == "Byron" && u.Locale == "en" }, nil, "name.required"},
			{"the login email as notification address", identity.ProfileChange{NotificationEmail: ptr("LOGIN")},
				func(u equipe.User) bool { return u.NotificationEmail == "" }, nil, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := g.row(t)
				email := address("ada")
				u := g.signedUp(email).User
				if tt.change.NotificationEmail != nil && *tt.change.NotificationEmail == "LOGIN" {
					tt.change.NotificationEmail = ptr(email)
				}
				before := g.counts()
				_, err := g.st.Identity.UpdateProfile(ctx, u.ID, tt.change, from())
				if tt.key != "" {
					var e *equipe.Error
					if e = equipe.AsError(err); e.Code != equipe.EINVALID || len(e.Fields) != 1 || e.Fields[0].Key != tt.key {
						t.Fatalf("answered %v, want the field key %s", err, tt.key)
					}
					g.unchanged(t, before)
				} else if err != nil {
					t.Fatal(err)
				}
				if after := g.user(u.ID); !tt.want(after) {
					t.Errorf("stored %+v", after)
				}
				if got := ownTypes(g.about(u.ID.String())); !slices.Equal(got, tt.events) {
					t.Errorf("events %v, want %v", got, tt.events)
				}
			})
		}
	})
}

func TestNotificationEmail_IsSetOnlyByItsLinkAndTheLinkIsSingleUse(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		u := g.signedUp(address("ada")).User
		desk := address("desk")
		prof, err := g.st.Identity.UpdateProfile(ctx, u.ID, identity.ProfileChange{NotificationEmail: &desk}, from())
		if err != nil || prof.PendingEmail != desk || prof.User.NotificationEmail != "" {
			t.Fatalf("request: %+v %v", prof, err)
		}
		if got := g.templates(desk); !slices.Equal(got, []string{"notification_email"}) {
			t.Fatalf("emails to the new address: %v", got)
		}
		secret := g.secret(desk, "/notification-email/")
		// Reading the link changes nothing.
		if addr, _, err := g.st.Identity.NotificationEmailLink(ctx, secret, from()); err != nil || addr != desk {
			t.Fatalf("link: %q %v", addr, err)
		}
		if g.user(u.ID).NotificationEmail != "" {
			t.Fatal("reading the link set the address")
		}
		if _, err := g.st.Identity.ConfirmNotificationEmail(ctx, secret, from()); err != nil {
			t.Fatal(err)
		}
		if got := g.user(u.ID); got.NotificationEmail != desk || identity.NotifyAddress(got) != desk {
			t.Fatalf("after confirmation: %q", got.NotificationEmail)
		}
		_, err = g.st.Identity.ConfirmNotificationEmail(ctx, secret, from())
		wantRefusal(t, err, "link.used")

		// A later address waits for its own link; the confirmed one stays.
		office := address("office")
		if _, err := g.st.Identity.UpdateProfile(ctx, u.ID, identity.ProfileChange{NotificationEmail: &office}, from()); err != nil {
			t.Fatal(err)
		}
		if got := g.user(u.ID).NotificationEmail; got != desk {
			t.Fatalf("a new address replaced the confirmed one before its link: %q", got)
		}
		// A form sending the address in use back, with another change,
		// leaves the pending one waiting.
		if p, err := g.st.Identity.UpdateProfile(ctx, u.ID, identity.ProfileChange{FirstName: ptr("Augusta"), NotificationEmail: &desk}, from()); err != nil ||
			p.PendingEmail != office || p.User.NotificationEmail != desk {
			t.Fatalf("the address in use given back: %+v %v", p, err)
		}
		if err := g.st.Identity.CancelNotificationEmail(ctx, u.ID, from()); err != nil {
			t.Fatal(err)
		}
		_, err = g.st.Identity.ConfirmNotificationEmail(ctx, g.secret(office, "/notification-email/"), from())
		wantRefusal(t, err, "link.used")
		wantRefusal(t, g.st.Identity.CancelNotificationEmail(ctx, u.ID, from()), "notification_email.none_pending")
		wantRefusal(t, g.st.Identity.ResendNotificationEmail(ctx, u.ID, from()), "notification_email.none_pending")

		// Removing it goes back to the login email.
		if _, err := g.st.Identity.UpdateProfile(ctx, u.ID, identity.ProfileChange{NotificationEmail: ptr("")}, from()); err != nil {
			t.Fatal(err)
		}
		if got := g.user(u.ID); got.NotificationEmail != "" || identity.NotifyAddress(got) != got.Email {
			t.Fatalf("after removal: %q", got.NotificationEmail)
		}
		want := []event.Type{event.UserNotificationEmailRequested.Type, event.UserNotificationEmailConfirmed.Type,
			event.UserNotificationEmailRequested.Type, event.UserProfileChanged.Type, event.UserNotificationEmailCancelled.Type,
			event.UserNotificationEmailRemoved.Type}
		if got := ownTypes(g.about(u.ID.String())); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
	})
}

func TestNotificationEmail_APendingAddressGivenBackKeepsWaitingWithItsLink(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		u := g.signedUp(address("ada")).User
		desk := address("desk")
		asked, err := g.st.Identity.UpdateProfile(ctx, u.ID, identity.ProfileChange{NotificationEmail: &desk}, from())
		if err != nil {
			t.Fatal(err)
		}
		// With nothing confirmed, the form shows the pending address: sent
		// back with another change, it neither cancels it nor sends a link.
		if got := asked.NotificationField(); got != desk {
			t.Fatalf("the form shows %q, want the pending %q", got, desk)
		}
		g.st.Clock.Advance(3600e9)
		field := asked.NotificationField()
		p, err := g.st.Identity.UpdateProfile(ctx, u.ID, identity.ProfileChange{FirstName: ptr("Augusta"), NotificationEmail: &field}, from())
		if err != nil || p.PendingEmail != desk || !p.PendingExpires.Equal(asked.PendingExpires) || p.User.FirstName != "Augusta" {
			t.Fatalf("the pending address given back: %+v %v", p, err)
		}
		if got := g.templates(desk); !slices.Equal(got, []string{"notification_email"}) {
			t.Fatalf("emails to the pending address: %v", got)
		}
		want := []event.Type{event.UserNotificationEmailRequested.Type, event.UserProfileChanged.Type}
		if got := ownTypes(g.about(u.ID.String())); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		// The first link still confirms it.
		if _, err := g.st.Identity.ConfirmNotificationEmail(ctx, g.secret(desk, "/notification-email/"), from()); err != nil {
			t.Fatal(err)
		}
		if p, err := g.st.Identity.Profile(ctx, u.ID); err != nil || p.NotificationField() != desk || p.PendingEmail != "" {
			t.Fatalf("after confirmation: %+v %v", p, err)
		}
	})
}

func TestNotificationEmail_LinkExpiresAfter72Hours(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		u := g.signedUp(address("ada")).User
		desk := address("desk")
		if _, err := g.st.Identity.UpdateProfile(ctx, u.ID, identity.ProfileChange{NotificationEmail: &desk}, from()); err != nil {
			t.Fatal(err)
		}
		g.st.Clock.Advance(72 * 3600e9)
		_, err := g.st.Identity.ConfirmNotificationEmail(ctx, g.secret(desk, "/notification-email/"), from())
		wantRefusal(t, err, "link.expired")
		if p, err := g.st.Identity.Profile(ctx, u.ID); err != nil || p.PendingEmail != "" {
			t.Fatalf("an expired address still pending: %+v %v", p, err)
		}
	})
}

func TestChangePassword_KeepsThisSessionEndsTheOthersAndCountsWrongPasswords(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		email := address("ada")
		g.signedUp(email)
		o := from()
		this, thisSecret, err := g.st.Identity.LogIn(ctx, email, goodPassword, o)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := g.st.Identity.LogIn(ctx, email, goodPassword, from()); err != nil {
			t.Fatal(err)
		}
		next := "a brand new sentence to remember"
		before := g.counts()
		err = g.st.Identity.ChangePassword(ctx, this, "not my password at all", next, o)
		if e := equipe.AsError(err); e.Code != equipe.EINVALID || e.Fields[0].Field != "current_password" || e.Fields[0].Key != "password.current_wrong" {
			t.Fatalf("wrong current password: %v", err)
		}
		err = g.st.Identity.ChangePassword(ctx, this, goodPassword, "short", o)
		if e := equipe.AsError(err); e.Code != equipe.EINVALID || e.Fields[0].Field != "new_password" {
			t.Fatalf("short new password: %v", err)
		}
		g.unchanged(t, before, "throttles")
		if err := g.st.Identity.ChangePassword(ctx, this, goodPassword, next, o); err != nil {
			t.Fatal(err)
		}
		if n := g.sessions(this.User.ID); n != 1 {
			t.Fatalf("%d sessions left, want this one", n)
		}
		if _, err := g.st.Identity.Authenticate(ctx, thisSecret); err != nil {
			t.Fatalf("this session ended: %v", err)
		}
		if got := g.templates(email); !slices.Contains(got, "password_changed") {
			t.Fatalf("emails: %v", got)
		}
		es := g.about(this.User.ID.String())
		last := es[len(es)-1]
		wantBy(t, last, event.ByUser(this.User.ID), event.Sessions{Ended: 1})
		if last.Type != event.UserPasswordChanged.Type {
			t.Fatalf("last event %s", last.Type)
		}
		// Five wrong passwords pass; the sixth attempt is blocked, right or wrong.
		for range 5 {
			g.st.Identity.ChangePassword(ctx, this, "not my password at all", next, o)
		}
		wantRefusal(t, g.st.Identity.ChangePassword(ctx, this, next, "yet another sentence to remember", o), "error.rate_limited")
	})
}
