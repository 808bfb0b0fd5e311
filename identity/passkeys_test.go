package identity_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/passkeytest"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store"
)

// passkeyOrigin is the public URL of the passkey tests: a relying party
// needs a host name, and browsers accept http:// only on localhost.
const passkeyOrigin = "http://localhost:8080"

// passkeyStage is the use cases of a stage on the public URL passkeyOrigin.
type passkeyStage struct {
	*stage
	id *identity.Service
}

func eachPasskeyStage(t *testing.T, fn func(t *testing.T, g *passkeyStage)) {
	eachStage(t, func(t *testing.T, g *stage) {
		w := *g.st.Work
		w.PublicURL, _ = url.Parse(passkeyOrigin)
		tmpl, err := mail.NewTemplates(w.PublicURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.Now = g.st.Clock.Now
		w.Mail = tmpl
		id := identity.New(&w, g.st.Identity.Hasher, identity.Config{})
		if !id.PasskeysAvailable() {
			t.Fatalf("passkeys unavailable on %s: %v", passkeyOrigin, id.PasskeysOff)
		}
		fn(t, &passkeyStage{stage: g, id: id})
	})
}

func (g *passkeyStage) row(t *testing.T) *passkeyStage {
	return &passkeyStage{stage: g.stage.row(t), id: g.id}
}

// person signs someone up and logs them in.
func (g *passkeyStage) person(name string) identity.Auth {
	g.t.Helper()
	email := address(name)
	g.signedUp(email)
	a, _, err := g.id.LogIn(ctx, email, goodPassword, from())
	if err != nil {
		g.t.Fatal(err)
	}
	return a
}

// register registers a passkey named name on the authenticator for the
// person, and returns it.
func (g *passkeyStage) register(a identity.Auth, dev *passkeytest.Authenticator, name string) store.Passkey {
	g.t.Helper()
	resp := g.answerRegistration(a, dev, name)
	key, err := g.id.FinishPasskeyRegistration(ctx, a, resp, from())
	if err != nil {
		g.t.Fatalf("register %s: %v", name, err)
	}
	return key
}

func (g *passkeyStage) answerRegistration(a identity.Auth, dev *passkeytest.Authenticator, name string) []byte {
	g.t.Helper()
	opts, err := g.id.BeginPasskeyRegistration(ctx, a, name, "", from())
	if err != nil {
		g.t.Fatalf("begin registration: %v", err)
	}
	raw, _ := json.Marshal(opts)
	resp, err := dev.Create(raw)
	if err != nil {
		g.t.Fatal(err)
	}
	return resp
}

// answerLogin begins a passkey login and has the authenticator answer it.
func (g *passkeyStage) answerLogin(dev *passkeytest.Authenticator) []byte {
	g.t.Helper()
	opts, err := g.id.BeginPasskeyLogin(ctx, from())
	if err != nil {
		g.t.Fatalf("begin login: %v", err)
	}
	raw, _ := json.Marshal(opts)
	resp, err := dev.Get(raw)
	if err != nil {
		g.t.Fatal(err)
	}
	return resp
}

func TestRelyingParty_NeedsAHostNameAndASecureContext(t *testing.T) {
	for _, c := range []struct {
		url string
		ok  bool
	}{
		{"http://localhost:8080", true},
		{"http://equipe.localhost", true},
		{"https://equipe.example.com", true},
		{"https://equipe.example.com:8443", true},
		{"http://127.0.0.1:8080", false},
		{"https://[::1]:8443", false},
		{"http://equipe.example.com", false},
	} {
		u, _ := url.Parse(c.url)
		rp, err := identity.RelyingParty(u, "equipe")
		if (rp != nil) != c.ok || (err == nil) != c.ok {
			t.Errorf("%s: relying party %v, %v", c.url, rp != nil, err)
		}
	}
}

func TestPasskeys_RegisterSeveralNameRenameRemove(t *testing.T) {
	eachPasskeyStage(t, func(t *testing.T, g *passkeyStage) {
		a := g.person("ada")
		phone, laptop := passkeytest.New(passkeyOrigin), passkeytest.New(passkeyOrigin)
		k1 := g.register(a, phone, "Phone")
		k2 := g.register(a, laptop, "Laptop")
		keys, _, err := g.id.Passkeys(ctx, a.User.ID, equipe.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2 || keys[0].ID != k1.ID || keys[1].ID != k2.ID || keys[0].Name != "Phone" || !keys[0].LastUsedAt.IsZero() {
			t.Fatalf("passkeys %+v", keys)
		}
		if f, _ := g.st.DB.Factors(ctx, a.User.ID); f.Passkeys != 2 || !f.Any() {
			t.Errorf("factors %+v", f)
		}
		if n := g.counts()["webauthn_ceremonies"]; n != 0 {
			t.Errorf("%d ceremonies left", n)
		}
		if got := types(g.about(k1.ID.String())); !slices.Equal(got, []event.Type{event.UserPasskeyAdded.Type}) {
			t.Errorf("events about the passkey: %v", got)
		}
		wantBy(t, g.about(k1.ID.String())[0], event.ByUser(a.User.ID), event.Passkey{Name: "Phone"})

		// The same authenticator cannot register twice: its passkey is excluded.
		opts, err := g.id.BeginPasskeyRegistration(ctx, a, "Phone again", "", from())
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(opts)
		if _, err := phone.Create(raw); err == nil {
			t.Error("the authenticator was not told its passkey is registered already")
		}

		renamed, err := g.id.RenamePasskey(ctx, a, k1.ID, "  Work phone ", from())
		if err != nil || renamed.Name != "Work phone" {
			t.Fatalf("rename: %+v %v", renamed, err)
		}
		if got := types(g.about(k1.ID.String())); !slices.Equal(got, []event.Type{event.UserPasskeyAdded.Type, event.UserPasskeyRenamed.Type}) {
			t.Errorf("events after the rename: %v", got)
		}

		err = g.id.RemovePasskey(ctx, a, k2.ID, "not the password", from())
		if f := equipe.AsError(err); f.Code != equipe.EINVALID || len(f.Fields) != 1 || f.Fields[0].Key != "password.wrong" {
			t.Fatalf("removal with a wrong password: %v", err)
		}
		if keys, _, _ := g.id.Passkeys(ctx, a.User.ID, equipe.Page{}); len(keys) != 2 {
			t.Fatalf("a wrong password removed a passkey: %d left", len(keys))
		}
		if err := g.id.RemovePasskey(ctx, a, k2.ID, goodPassword, from()); err != nil {
			t.Fatal(err)
		}
		keys, _, _ = g.id.Passkeys(ctx, a.User.ID, equipe.Page{})
		if len(keys) != 1 || keys[0].Name != "Work phone" {
			t.Fatalf("after removal: %+v", keys)
		}
		es := g.about(k2.ID.String())
		if got := types(es); !slices.Equal(got, []event.Type{event.UserPasskeyAdded.Type, event.UserPasskeyRemoved.Type}) {
			t.Errorf("events about the removed passkey: %v", got)
		}
		if b, _ := es[1].Before.(event.Passkey); b.Name != "Laptop" {
			t.Errorf("removal event before %#v", es[1].Before)
		}
	})
}

func TestPasskeys_RefusalsChangeNothing(t *testing.T) {
	// Each row readies its case (setup, which may change things) and returns
	// the refused action.
	tests := []struct {
		name  string
		setup func(t *testing.T, g *passkeyStage, a, other identity.Auth) func() error
		want  string
	}{
		{"a name that breaks a rule", func(t *testing.T, g *passkeyStage, a, _ identity.Auth) func() error {
			return func() error { _, err := g.id.BeginPasskeyRegistration(ctx, a, "<b>", "", from()); return err }
		}, "error.fields name=name.markup"},
		{"an answer from another origin", func(t *testing.T, g *passkeyStage, a, _ identity.Auth) func() error {
			resp := g.answerRegistration(a, passkeytest.New("http://localhost:9999"), "Phone")
			return func() error { _, err := g.id.FinishPasskeyRegistration(ctx, a, resp, from()); return err }
		}, "passkey.refused"},
		{"an answer to a challenge given to someone else", func(t *testing.T, g *passkeyStage, a, other identity.Auth) func() error {
			resp := g.answerRegistration(other, passkeytest.New(passkeyOrigin), "Phone")
			return func() error { _, err := g.id.FinishPasskeyRegistration(ctx, a, resp, from()); return err }
		}, "passkey.refused"},
		{"an answer after five minutes", func(t *testing.T, g *passkeyStage, a, _ identity.Auth) func() error {
			resp := g.answerRegistration(a, passkeytest.New(passkeyOrigin), "Phone")
			g.st.Clock.Advance(5*time.Minute + time.Second)
			return func() error { _, err := g.id.FinishPasskeyRegistration(ctx, a, resp, from()); return err }
		}, "passkey.refused"},
		{"a malformed answer", func(t *testing.T, g *passkeyStage, a, _ identity.Auth) func() error {
			return func() error {
				_, err := g.id.FinishPasskeyRegistration(ctx, a, []byte(`{"id": 1}`), from())
				return err
			}
		}, "passkey.refused"},
		{"renaming another person's passkey", func(t *testing.T, g *passkeyStage, a, other identity.Auth) func() error {
			k := g.register(other, passkeytest.New(passkeyOrigin), "Theirs")
			return func() error { _, err := g.id.RenamePasskey(ctx, a, k.ID, "Mine", from()); return err }
		}, "error.not_found"},
		{"removing another person's passkey", func(t *testing.T, g *passkeyStage, a, other identity.Auth) func() error {
			k := g.register(other, passkeytest.New(passkeyOrigin), "Theirs")
			return func() error { return g.id.RemovePasskey(ctx, a, k.ID, goodPassword, from()) }
		}, "error.not_found"},
		{"renaming with a name too long", func(t *testing.T, g *passkeyStage, a, _ identity.Auth) func() error {
			k := g.register(a, passkeytest.New(passkeyOrigin), "Phone")
			return func() error {
				_, err := g.id.RenamePasskey(ctx, a, k.ID, strings.Repeat("é", 61), from())
				return err
			}
		}, "error.fields name=name.too_long"},
		{"removing without the password", func(t *testing.T, g *passkeyStage, a, _ identity.Auth) func() error {
			k := g.register(a, passkeytest.New(passkeyOrigin), "Phone")
			return func() error { return g.id.RemovePasskey(ctx, a, k.ID, "", from()) }
		}, "error.fields password=password.confirm_required"},
		{"removing with a wrong password", func(t *testing.T, g *passkeyStage, a, _ identity.Auth) func() error {
			k := g.register(a, passkeytest.New(passkeyOrigin), "Phone")
			return func() error { return g.id.RemovePasskey(ctx, a, k.ID, "not my password at all", from()) }
		}, "error.fields password=password.wrong"},
	}
	eachPasskeyStage(t, func(t *testing.T, g *passkeyStage) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := g.row(t)
				a, other := g.person("ada"), g.person("grace")
				act := tt.setup(t, g, a, other)
				before := g.counts()
				wantRefusal(t, act(), tt.want)
				// Only a challenge may be used up, and the throttles count.
				g.unchanged(t, before, "webauthn_ceremonies", "throttles")
				for _, k := range must(g.id.DB.Passkeys(ctx, a.User.ID)) {
					if k.Name != "Phone" {
						t.Errorf("passkey named %q", k.Name)
					}
				}
			})
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestPasskeys_ARegistrationChallengeServesOnce(t *testing.T) {
	eachPasskeyStage(t, func(t *testing.T, g *passkeyStage) {
		a := g.person("ada")
		resp := g.answerRegistration(a, passkeytest.New(passkeyOrigin), "Phone")
		if _, err := g.id.FinishPasskeyRegistration(ctx, a, resp, from()); err != nil {
			t.Fatal(err)
		}
		_, err := g.id.FinishPasskeyRegistration(ctx, a, resp, from())
		wantRefusal(t, err, "passkey.refused")
		// A refused answer uses its challenge up too.
		dev := passkeytest.New("http://localhost:9999")
		resp = g.answerRegistration(a, dev, "Tablet")
		_, err = g.id.FinishPasskeyRegistration(ctx, a, resp, from())
		wantRefusal(t, err, "passkey.refused")
		if n := g.counts()["webauthn_ceremonies"]; n != 0 {
			t.Errorf("%d ceremonies left", n)
		}
	})
}

func TestPasskeyLogin_APasskeyAloneStartsASession(t *testing.T) {
	eachPasskeyStage(t, func(t *testing.T, g *passkeyStage) {
		a := g.person("ada")
		dev := passkeytest.New(passkeyOrigin)
		k := g.register(a, dev, "Phone")
		g.st.Clock.Advance(time.Minute)
		auth, secret, err := g.id.FinishPasskeyLogin(ctx, g.answerLogin(dev), from())
		if err != nil {
			t.Fatal(err)
		}
		if auth.User.ID != a.User.ID || secret == "" {
			t.Fatalf("logged in as %v", auth.User.Email)
		}
		if got, err := g.id.Authenticate(ctx, secret); err != nil || got.User.ID != a.User.ID {
			t.Fatalf("the session does not authenticate: %v", err)
		}
		keys, _, _ := g.id.Passkeys(ctx, a.User.ID, equipe.Page{})
		if !keys[0].LastUsedAt.Equal(g.st.Clock.Now()) {
			t.Errorf("last used at %v, want %v", keys[0].LastUsedAt, g.st.Clock.Now())
		}
		es := g.about(auth.Session.ID.String())
		if len(es) != 1 || es[0].Type != event.UserLoggedIn.Type {
			t.Fatalf("events about the session: %v", types(es))
		}
		wantBy(t, es[0], event.ByUser(a.User.ID), nil)
		// The counter went up: a second login passes too.
		if _, _, err := g.id.FinishPasskeyLogin(ctx, g.answerLogin(dev), from()); err != nil {
			t.Fatalf("second login: %v", err)
		}
		if k.ID != keys[0].ID {
			t.Errorf("the passkey used is %v", keys[0].ID)
		}
	})
}

func TestPasskeyLogin_FailuresAllAnswerTheSame(t *testing.T) {
	tests := []struct {
		name   string
		answer func(t *testing.T, g *passkeyStage, dev *passkeytest.Authenticator) []byte
		known  bool // the failure is recorded as the person's failed login
	}{
		{"the same answer twice", func(t *testing.T, g *passkeyStage, dev *passkeytest.Authenticator) []byte {
			resp := g.answerLogin(dev)
			if _, _, err := g.id.FinishPasskeyLogin(ctx, resp, from()); err != nil {
				t.Fatal(err)
			}
			return resp
		}, false},
		{"a counter that did not grow (a cloned authenticator)", func(t *testing.T, g *passkeyStage, dev *passkeytest.Authenticator) []byte {
			if _, _, err := g.id.FinishPasskeyLogin(ctx, g.answerLogin(dev), from()); err != nil {
				t.Fatal(err)
			}
			dev.Credentials[0].Counter = 0
			return g.answerLogin(dev)
		}, true},
		{"another origin", func(t *testing.T, g *passkeyStage, dev *passkeytest.Authenticator) []byte {
			dev.Origin = "http://localhost:9999"
			return g.answerLogin(dev)
		}, true},
		{"no user verification", func(t *testing.T, g *passkeyStage, dev *passkeytest.Authenticator) []byte {
			dev.NoUserVerification = true
			return g.answerLogin(dev)
		}, true},
		{"a passkey removed since", func(t *testing.T, g *passkeyStage, dev *passkeytest.Authenticator) []byte {
			resp := g.answerLogin(dev)
			keys, _ := g.st.DB.Passkeys(ctx, g.owner(dev))
			if _, err := g.raw.Exec(`DELETE FROM passkeys WHERE id = $1`, keys[0].ID); err != nil {
				t.Fatal(err)
			}
			return resp
		}, false},
		{"a challenge expired", func(t *testing.T, g *passkeyStage, dev *passkeytest.Authenticator) []byte {
			resp := g.answerLogin(dev)
			g.st.Clock.Advance(5*time.Minute + time.Second)
			return resp
		}, false},
		{"a disabled person", func(t *testing.T, g *passkeyStage, dev *passkeytest.Authenticator) []byte {
			if _, err := g.raw.Exec(`UPDATE users SET disabled_at = 1 WHERE id = $1`, g.owner(dev)); err != nil {
				t.Fatal(err)
			}
			return g.answerLogin(dev)
		}, true},
		{"garbage", func(t *testing.T, g *passkeyStage, dev *passkeytest.Authenticator) []byte {
			return []byte(`{"type": "public-key"}`)
		}, false},
	}
	eachPasskeyStage(t, func(t *testing.T, g *passkeyStage) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := g.row(t)
				a := g.person("ada")
				dev := passkeytest.New(passkeyOrigin)
				g.register(a, dev, "Phone")
				resp := tt.answer(t, g, dev)
				failed := len(g.events(store.AuditFilter{TargetID: a.User.ID.String(), Action: string(event.UserLoginFailed.Type)}))
				auth, secret, err := g.id.FinishPasskeyLogin(ctx, resp, from())
				wantRefusal(t, err, "passkey.login_failed")
				if secret != "" || auth.Session.ID != (equipe.ID{}) {
					t.Error("a session was started")
				}
				now := len(g.events(store.AuditFilter{TargetID: a.User.ID.String(), Action: string(event.UserLoginFailed.Type)}))
				if (now == failed+1) != tt.known || now > failed+1 {
					t.Errorf("failed logins recorded: %d before, %d after", failed, now)
				}
			})
		}
	})
}

// owner returns the user whose passkey the authenticator holds.
func (g *passkeyStage) owner(dev *passkeytest.Authenticator) equipe.ID {
	var id equipe.ID
	copy(id[:], dev.Credentials[0].UserHandle)
	return id
}

func TestPasskeySecondFactor_ASyncedPasskeyIsASoftwareKey(t *testing.T) {
	eachPasskeyStage(t, func(t *testing.T, g *passkeyStage) {
		email := address("ada")
		g.signedUp(email)
		a, _, err := g.id.LogIn(ctx, email, goodPassword, from())
		if err != nil {
			t.Fatal(err)
		}
		dev := passkeytest.New(passkeyOrigin)
		dev.Synced = true
		g.register(a, dev, "Phone")
		step := g.secondStep(email)
		auth, _, err := g.id.FinishPasskeySecondFactor(ctx, step.Challenge, g.answerSecondFactor(dev, step.Challenge), from())
		if err != nil {
			t.Fatal(err)
		}
		// Its answer says it may be copied to other devices: a software
		// key, not a hardware one (RFC 8176), as it is when it logs in
		// alone.
		if !slices.Equal(auth.Session.AMR, []string{"pwd", "swk", "mfa"}) {
			t.Errorf("the session's login methods: %v", auth.Session.AMR)
		}
	})
}

func TestPasskeySecondFactor_APasswordThenAPasskeyStartsTheSession(t *testing.T) {
	eachPasskeyStage(t, func(t *testing.T, g *passkeyStage) {
		email := address("ada")
		g.signedUp(email)
		a, _, err := g.id.LogIn(ctx, email, goodPassword, from())
		if err != nil {
			t.Fatal(err)
		}
		dev := passkeytest.New(passkeyOrigin)
		g.register(a, dev, "Phone")
		g.register(a, passkeytest.New(passkeyOrigin), "Laptop")
		if got := g.templates(email); !slices.Contains(got, mail.TemplateSecondFactorAdded) {
			t.Errorf("emails: %v", got)
		}

		// The password alone no longer opens a session.
		step := g.secondStep(email)
		if !slices.Equal(step.Methods, []string{identity.MethodPasskey}) {
			t.Fatalf("methods %v", step.Methods)
		}
		// Another person's passkey does not answer it, nor a ceremony of
		// another login of the same person; the login still waits.
		other := g.person("grace")
		theirs := passkeytest.New(passkeyOrigin)
		g.register(other, theirs, "Theirs")
		opts := g.secondFactorOptions(step.Challenge)
		resp, err := theirs.Sign(theirs.Credentials[0], opts.Response.Challenge.String())
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = g.id.FinishPasskeySecondFactor(ctx, step.Challenge, resp, from())
		wantRefusal(t, err, "passkey.login_failed")
		another := g.secondStep(email)
		_, _, err = g.id.FinishPasskeySecondFactor(ctx, step.Challenge, g.answerSecondFactor(dev, another.Challenge), from())
		wantRefusal(t, err, "passkey.login_failed")

		auth, secret, err := g.id.FinishPasskeySecondFactor(ctx, step.Challenge, g.answerSecondFactor(dev, step.Challenge), from())
		if err != nil {
			t.Fatal(err)
		}
		if auth.User.Email != email || secret == "" {
			t.Fatalf("logged in as %s", auth.User.Email)
		}
		// A passkey bound to its device is a hardware key (RFC 8176).
		if !slices.Equal(auth.Session.AMR, []string{"pwd", "hwk", "mfa"}) {
			t.Errorf("the session's login methods: %v", auth.Session.AMR)
		}
		keys, _, _ := g.id.Passkeys(ctx, auth.User.ID, equipe.Page{})
		if keys[0].LastUsedAt.IsZero() || !keys[1].LastUsedAt.IsZero() {
			t.Errorf("last uses %v %v", keys[0].LastUsedAt, keys[1].LastUsedAt)
		}
		// The login's challenge served once.
		_, _, err = g.id.FinishPasskeySecondFactor(ctx, step.Challenge, g.answerSecondFactor(dev, another.Challenge), from())
		wantRefusal(t, err, "login.challenge_invalid")

		// Removing the passkeys makes the password enough again, and says so.
		for _, k := range keys {
			if err := g.id.RemovePasskey(ctx, auth, k.ID, goodPassword, from()); err != nil {
				t.Fatal(err)
			}
		}
		if got := g.templates(email); !slices.Contains(got, mail.TemplateSecondFactorRemoved) {
			t.Errorf("emails: %v", got)
		}
		if _, _, err := g.id.LogIn(ctx, email, goodPassword, from()); err != nil {
			t.Fatalf("a login without passkeys: %v", err)
		}
	})
}

func TestPasskeySecondFactor_WherePasskeysCannotBeUsedThePasswordIsEnough(t *testing.T) {
	eachPasskeyStage(t, func(t *testing.T, g *passkeyStage) {
		email := address("ada")
		g.signedUp(email)
		a, _, err := g.id.LogIn(ctx, email, goodPassword, from())
		if err != nil {
			t.Fatal(err)
		}
		g.register(a, passkeytest.New(passkeyOrigin), "Phone")
		// The stage's own service has the public URL http://127.0.0.1:8080.
		if g.st.Identity.PasskeysAvailable() {
			t.Fatal("passkeys available on an IP address")
		}
		if _, secret, err := g.st.Identity.LogIn(ctx, email, goodPassword, from()); err != nil || secret == "" {
			t.Fatalf("login where passkeys cannot be used: %v", err)
		}
	})
}

// secondStep logs in with the password and returns the second step it asks
// for.
func (g *passkeyStage) secondStep(email string) *identity.SecondFactorRequired {
	g.t.Helper()
	_, _, err := g.id.LogIn(ctx, email, goodPassword, from())
	var step *identity.SecondFactorRequired
	if !errors.As(err, &step) {
		g.t.Fatalf("the login asks for no second step: %v", err)
	}
	return step
}

func (g *passkeyStage) secondFactorOptions(challenge string) protocol.CredentialAssertion {
	g.t.Helper()
	opts, err := g.id.BeginPasskeySecondFactor(ctx, challenge, from())
	if err != nil {
		g.t.Fatal(err)
	}
	return *opts
}

// answerSecondFactor begins answering the login's second step with a
// passkey and has the authenticator answer.
func (g *passkeyStage) answerSecondFactor(dev *passkeytest.Authenticator, challenge string) []byte {
	g.t.Helper()
	opts := g.secondFactorOptions(challenge)
	raw, _ := json.Marshal(opts)
	resp, err := dev.Get(raw)
	if err != nil {
		g.t.Fatal(err)
	}
	return resp
}

func TestPasskeys_CeremoniesAndRemovalPasswordsAreThrottled(t *testing.T) {
	eachPasskeyStage(t, func(t *testing.T, g *passkeyStage) {
		o := from()
		for i := range 30 {
			if _, err := g.id.BeginPasskeyLogin(ctx, o); err != nil {
				t.Fatalf("login ceremony %d: %v", i+1, err)
			}
		}
		_, err := g.id.BeginPasskeyLogin(ctx, o)
		wantRefusal(t, err, "error.rate_limited")
		if _, err := g.id.BeginPasskeyLogin(ctx, from()); err != nil {
			t.Fatalf("another address: %v", err)
		}

		a := g.person("ada")
		k := g.register(a, passkeytest.New(passkeyOrigin), "Phone")
		for range 10 {
			err := g.id.RemovePasskey(ctx, a, k.ID, "not the password at all", from())
			wantRefusal(t, err, "error.fields password=password.wrong")
		}
		// Blocked now, the right password too, whatever the address.
		err = g.id.RemovePasskey(ctx, a, k.ID, goodPassword, from())
		wantRefusal(t, err, "error.rate_limited")
		if keys, _, _ := g.id.Passkeys(ctx, a.User.ID, equipe.Page{}); len(keys) != 1 {
			t.Fatal("a throttled removal removed the passkey")
		}
	})
}
