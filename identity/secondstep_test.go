package identity_test

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/team"
)

// enrolled signs a person up with an authenticator app, its code of the
// clock's step spent by the confirmation, and moves the clock to the
// middle of the next step. It returns the person and the app's secret.
func (g *stage) enrolled(email string) (equipe.User, string) {
	g.t.Helper()
	s, clock := g.st.Identity, g.st.Clock
	clock.Set(clock.Now().Truncate(30 * time.Second).Add(10 * time.Second))
	u := g.signedUp(email).User
	setup, err := s.StartTOTP(ctx, identity.Auth{User: u}, goodPassword, from())
	if err != nil {
		g.t.Fatal(err)
	}
	if _, err := s.ConfirmTOTP(ctx, identity.Auth{User: u}, g.code(setup.Secret), from()); err != nil {
		g.t.Fatal(err)
	}
	clock.Advance(30 * time.Second)
	return u, setup.Secret
}

// code returns the app's code at the clock's time.
func (g *stage) code(secret string) string {
	g.t.Helper()
	c, err := totp.GenerateCode(secret, g.st.Clock.Now())
	if err != nil {
		g.t.Fatal(err)
	}
	return c
}

// challenged logs the person in with their password from o and returns
// the second step's challenge, once the password step's writes that its
// answer did not wait for (the challenge's record, the email's throttle
// reset) have committed, as they have by the time a person types a code.
func (g *stage) challenged(email string, o equipe.Origin) string {
	g.t.Helper()
	challenge := g.passwordStep(email, o)
	g.st.DB.WaitDetached()
	return challenge
}

// resetPassword asks a reset for email, sends it and sets a new password
// with its link.
func (g *stage) resetPassword(email string) error {
	if err := g.st.Identity.RequestReset(ctx, email, from()); err != nil {
		return err
	}
	if _, err := g.st.Identity.ProcessResets(ctx); err != nil {
		return err
	}
	_, err := g.st.Identity.ConfirmReset(ctx, g.secret(email, "/password-reset/"), "a brand new sentence to remember", from())
	return err
}

// passwordStep logs the person in with their password from o and returns
// the second step's challenge as soon as the answer comes.
func (g *stage) passwordStep(email string, o equipe.Origin) string {
	g.t.Helper()
	_, _, err := g.st.Identity.LogIn(ctx, email, goodPassword, o)
	var step *identity.SecondFactorRequired
	if !errors.As(err, &step) {
		g.t.Fatalf("no second step: %v", err)
	}
	return step.Challenge
}

// enteredAfterAnswer waits for the batch a login writes after its answer
// (the person's entry into their one account, see the login's use cases),
// which may commit before or after the caller reads the store's counts,
// and returns how many such batches started since the count detached:
// one, checked here. It commits once without waiting for the disk, so that
// what the answer itself committed is the counts less it.
func (g *stage) enteredAfterAnswer(detached uint64) uint64 {
	g.t.Helper()
	g.st.DB.WaitDetached()
	n := g.st.DB.DetachedBatches() - detached
	if n != 1 {
		g.t.Errorf("%d batches written after the answer, want 1 (the entry into the account)", n)
	}
	return n
}

// count returns the number a query of the tables as stored answers.
func (g *stage) count(query string, args ...any) int {
	g.t.Helper()
	var n int
	if err := g.raw.QueryRow(query, args...).Scan(&n); err != nil {
		g.t.Fatal(err)
	}
	return n
}

// throttleCount returns the count of the throttle with key (0 without it).
func (g *stage) throttleCount(key string) int {
	g.t.Helper()
	var n int
	if err := g.raw.QueryRow(`SELECT COALESCE(MAX(count), 0) FROM throttles WHERE key = $1`, key).Scan(&n); err != nil {
		g.t.Fatal(err)
	}
	return n
}

// TestLogInSecondFactor_ARightCodeCommitsOnceAWrongOneIsCounted: the
// password step of a person with an app commits twice (the attempt's count,
// then, without its answer waiting, the challenge's record); the second step with a right code commits once, and
// that commit holds the session, the challenge's use, the code's and the
// cleared throttle. A wrong code is counted and recorded, and starts
// nothing.
func TestLogInSecondFactor_ARightCodeCommitsOnceAWrongOneIsCounted(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		s, db := g.st.Identity, g.st.DB
		email := address("ada")
		u, secret := g.enrolled(email)
		o := from()
		userKey := "code:user:" + u.ID.String()

		before, relaxed, reads := db.Commits(), db.RelaxedCommits(), db.Reads()
		challenge := g.challenged(email, o)
		if n := db.Commits() - before; n != 2 {
			t.Errorf("the password step committed %d times, want 2", n)
		}
		// The person is read in the batch that counts the attempt.
		if n := db.Reads() - reads; n != 0 {
			t.Errorf("the password step read %d times outside its batches, want 0", n)
		}
		// The attempt's count does not wait for the disk; the challenge's
		// record, which nobody waits for, does.
		if n := db.RelaxedCommits() - relaxed; n != 1 {
			t.Errorf("%d of the password step's commits did not wait for the disk, want 1", n)
		}

		wrong := wrongCode(g.code(secret))
		sessions, _ := db.Sessions(ctx, u.ID)
		failed := len(g.about(u.ID.String()))
		_, _, err := s.LogInSecondFactor(ctx, challenge, wrong, o)
		wantRefusal(t, err, "error.fields code=second_factor.invalid")
		if n := g.throttleCount(userKey); n != 1 {
			t.Errorf("after a wrong code the person's count is %d, want 1", n)
		}
		if got := types(g.about(u.ID.String())[failed:]); !slices.Equal(got, []event.Type{event.UserSecondFactorFailed.Type}) {
			t.Errorf("events of a wrong code: %v", got)
		}

		before, relaxed, reads, detached := db.Commits(), db.RelaxedCommits(), db.Reads(), db.DetachedBatches()
		auth, token, err := s.LogInSecondFactor(ctx, challenge, g.code(secret), o)
		if err != nil {
			t.Fatal(err)
		}
		afterAnswer := g.enteredAfterAnswer(detached)
		if n := db.Commits() - before - afterAnswer; n != 1 {
			t.Errorf("a right code committed %d times, want 1", n)
		}
		if n := db.Reads() - reads; n != 1 {
			t.Errorf("a right code read %d times outside its batch, want 1", n)
		}
		if n := db.RelaxedCommits() - relaxed - afterAnswer; n != 0 {
			t.Errorf("the second step's commit did not wait for the disk")
		}
		after, _ := db.Sessions(ctx, u.ID)
		if len(after) != len(sessions)+1 || auth.User.ID != u.ID {
			t.Fatalf("sessions %d → %d", len(sessions), len(after))
		}
		if got, err := s.Authenticate(ctx, token); err != nil || got.Session.ID != auth.Session.ID {
			t.Errorf("the session's secret: %v", err)
		} else if !slices.Equal(got.Session.AMR, []string{"pwd", "otp", "mfa"}) {
			t.Errorf("the session's login methods: %v", got.Session.AMR)
		}
		if n := g.throttleCount(userKey); n != 0 {
			t.Errorf("after a right code the person's count is %d, want 0", n)
		}
		if got := types(g.about(auth.Session.ID.String())); !slices.Equal(got, []event.Type{event.UserLoggedIn.Type}) {
			t.Errorf("events about the session: %v", got)
		}
		f, err := db.TOTPFactor(ctx, u.ID)
		if err != nil || f.LastStep != g.st.Clock.Now().Unix()/30 {
			t.Errorf("the code's step is not marked used: %d (%v)", f.LastStep, err)
		}
		if _, _, err := s.LogInSecondFactor(ctx, challenge, g.code(secret), o); equipe.ErrorCode(err) != equipe.EUNAUTHORIZED {
			t.Errorf("the used challenge again: %v", err)
		}
	})
}

// TestLogIn_TheSecondStepNeedsNothingThePasswordStepWrote: the password
// step answers without waiting for the record of its challenge, and the
// second step, even when it comes before that record commits, logs in
// once: its use records the challenge, the late record changes nothing,
// and the challenge does not serve again. The password step's event is
// recorded all the same. A challenge that is not one the instance sealed
// (changed, of another instance, garbage) answers as an unknown one,
// before anything is read; so does one sealed under a key rotated out.
func TestLogIn_TheSecondStepNeedsNothingThePasswordStepWrote(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		s, db := g.st.Identity, g.st.DB
		email := address("ada")
		u, secret := g.enrolled(email)
		o := from()

		hold := make(chan struct{})
		db.HoldDetachedForTest(hold)
		challenge := g.passwordStep(email, o)
		if n := g.count(`SELECT COUNT(*) FROM login_challenges WHERE user_id = $1`, u.ID.String()); n != 0 {
			t.Fatalf("%d challenges recorded while the password step's batch is held", n)
		}
		if p, err := s.PendingLogin(ctx, challenge); err != nil || p.User.ID != u.ID {
			t.Fatalf("the challenge before its record: %+v %v", p, err)
		}
		auth, _, err := s.LogInSecondFactor(ctx, challenge, g.code(secret), o)
		db.HoldDetachedForTest(nil)
		if err != nil || auth.User.ID != u.ID {
			t.Fatalf("the second step before the record: %+v %v", auth, err)
		}
		// The login to the person's account is recorded after the answer.
		entered := `SELECT COUNT(*) FROM members WHERE user_id = $1 AND last_login_at = $2`
		if n := g.count(entered, u.ID.String(), auth.User.LastLoginAt.UnixMicro()); n != 0 {
			t.Errorf("the login to the account recorded before the answer")
		}
		close(hold)
		db.WaitDetached()
		if n := g.count(entered, u.ID.String(), auth.User.LastLoginAt.UnixMicro()); n != 1 {
			t.Errorf("the login to the account: %d members record it, want 1", n)
		}
		if n := g.count(`SELECT COUNT(*) FROM login_challenges WHERE user_id = $1 AND used_at > 0 AND method = 'totp'`, u.ID.String()); n != 1 {
			t.Fatalf("%d challenges recorded used by a code after the late record, want 1", n)
		}
		if n := g.count(`SELECT COUNT(*) FROM login_challenges WHERE user_id = $1`, u.ID.String()); n != 1 {
			t.Fatalf("%d challenges recorded after the late record, want 1", n)
		}
		g.st.Clock.Advance(30 * time.Second)
		if _, _, err := s.LogInSecondFactor(ctx, challenge, g.code(secret), o); equipe.ErrorCode(err) != equipe.EUNAUTHORIZED {
			t.Errorf("the used challenge again: %v", err)
		}
		if got := types(g.about(u.ID.String())); !slices.Contains(got, event.UserSecondStepRequired.Type) {
			t.Errorf("no user.second_step_required about the person: %v", got)
		}

		// Not a challenge the instance sealed.
		other := identity.NewRandomKeyring()
		raw, _ := base64.RawURLEncoding.DecodeString(g.challenged(email, o))
		tampered := append([]byte(nil), raw...)
		tampered[len(tampered)-1] ^= 1
		_, foreign := other.Seal(raw[8:], "login challenge")
		for name, c := range map[string]string{
			"tampered":          base64.RawURLEncoding.EncodeToString(tampered),
			"under another key": foreign,
			"garbage":           "not-a-challenge",
			"empty":             "",
			"too long":          strings.Repeat("A", 4096),
		} {
			reads := db.Reads()
			if _, _, err := s.LogInSecondFactor(ctx, c, g.code(secret), o); servicetest.Key(err) != "login.challenge_invalid" {
				t.Errorf("%s: %v, want login.challenge_invalid", name, err)
			}
			if _, err := s.PendingLogin(ctx, c); servicetest.Key(err) != "login.challenge_invalid" {
				t.Errorf("%s: PendingLogin %v", name, err)
			}
			if n := db.Reads() - reads; n != 0 {
				t.Errorf("%s: %d reads", name, n)
			}
		}

		// After a rotation of the key, a challenge sealed under the
		// previous one no longer opens (seeds still do).
		pending := g.challenged(email, o)
		keys := s.Keys
		defer func() { s.Keys = keys }()
		rotated, err := identity.NewKeyring(key(9), key(8))
		if err != nil {
			t.Fatal(err)
		}
		previous, _ := identity.NewKeyring(key(8))
		s.Keys = previous
		sealed := g.challenged(email, o)
		s.Keys = rotated
		for name, c := range map[string]string{"sealed under the previous key": sealed, "sealed under another": pending} {
			if _, _, err := s.LogInSecondFactor(ctx, c, g.code(secret), o); servicetest.Key(err) != "login.challenge_invalid" {
				t.Errorf("%s: %v, want login.challenge_invalid", name, err)
			}
		}
	})
}

// TestLogIn_TheChallengeAndItsEventCommitTogetherAfterTheAnswer: the
// password step of a person with a second factor writes its challenge and
// user.second_step_required in one commit after its answer, which waits for
// the disk (the attempt's count before the answer does not): the event is
// numbered in it and enters the change stream at once. The second step's
// commit then numbers only its own user.logged_in, after it.
func TestLogIn_TheChallengeAndItsEventCommitTogetherAfterTheAnswer(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		s, db := g.st.Identity, g.st.DB
		email := address("ada")
		u, secret := g.enrolled(email)
		o := from()
		start, err := db.LastEventSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		about := len(g.about(u.ID.String()))

		durable := db.Commits() - db.RelaxedCommits()
		challenge := g.challenged(email, o)
		if n := db.Commits() - db.RelaxedCommits() - durable; n != 1 {
			t.Errorf("the password step made %d commits that waited for the disk, want 1 (the challenge's)", n)
		}
		if p, err := s.PendingLogin(ctx, challenge); err != nil || p.User.ID != u.ID {
			t.Fatalf("the challenge: %+v %v", p, err)
		}
		if got := types(g.about(u.ID.String())[about:]); !slices.Equal(got, []event.Type{event.UserSecondStepRequired.Type}) {
			t.Fatalf("events about the person after the password step: %v", got)
		}
		if evs, err := db.StreamEvents(ctx, store.StreamFilter{After: start}); err != nil || len(evs) != 1 ||
			evs[0].Event.Action != "user.second_step_required" {
			t.Fatalf("the stream after the password step: %d events (%v), want user.second_step_required", len(evs), err)
		}
		if n, err := db.PendingEvents(ctx); err != nil || n != 0 {
			t.Errorf("%d events wait to be numbered after the password step (%v)", n, err)
		}

		durable = db.Commits() - db.RelaxedCommits()
		if _, _, err := s.LogInSecondFactor(ctx, challenge, g.code(secret), o); err != nil {
			t.Fatal(err)
		}
		// The entry into the account, written after the answer without
		// waiting for the disk, is counted once it has committed: its
		// commit and its relaxed count are two counters.
		db.WaitDetached()
		if n := db.Commits() - db.RelaxedCommits() - durable; n != 1 {
			t.Errorf("the second step made %d commits that waited for the disk, want 1", n)
		}
		evs, err := db.StreamEvents(ctx, store.StreamFilter{After: start})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range evs {
			got = append(got, e.Event.Action)
		}
		if want := []string{"user.second_step_required", "user.logged_in"}; !slices.Equal(got, want) {
			t.Errorf("the stream after the second step: %v, want %v", got, want)
		}
	})
}

// TestLogInSecondFactor_ARightCodeWaitsWhileThrottled: five wrong codes
// block the person's next attempt, the right code included, and that
// refusal counts nothing more; once the block is over the right code logs
// in.
func TestLogInSecondFactor_ARightCodeWaitsWhileThrottled(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		s := g.st.Identity
		email := address("ada")
		u, secret := g.enrolled(email)
		challenge := g.challenged(email, from())
		wrong := wrongCode(g.code(secret))
		for range 5 {
			// From other addresses: the person's own count blocks.
			_, _, err := s.LogInSecondFactor(ctx, challenge, wrong, from())
			wantRefusal(t, err, "error.fields code=second_factor.invalid")
		}
		count := g.throttleCount("code:user:" + u.ID.String())
		sessions, _ := g.st.DB.Sessions(ctx, u.ID)
		_, _, err := s.LogInSecondFactor(ctx, challenge, g.code(secret), from())
		wantRefusal(t, err, "error.rate_limited")
		if n := g.throttleCount("code:user:" + u.ID.String()); n != count {
			t.Errorf("a blocked attempt was counted: %d → %d", count, n)
		}
		if after, _ := g.st.DB.Sessions(ctx, u.ID); len(after) != len(sessions) {
			t.Fatal("a blocked attempt started a session")
		}
		g.st.Clock.Advance(30 * time.Second)
		if _, _, err := s.LogInSecondFactor(ctx, challenge, g.code(secret), from()); err != nil {
			t.Fatalf("after the block: %v", err)
		}
	})
}

// TestLogInSecondFactor_OneCodeAtOnceOnManyChallengesLogsInOnce: the same
// code sent at once to several challenges of the person (several logins
// racing) starts one session: the others are told the code was used, or
// wait, and none starts a session.
func TestLogInSecondFactor_OneCodeAtOnceOnManyChallengesLogsInOnce(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		s := g.st.Identity
		email := address("ada")
		u, secret := g.enrolled(email)
		const n = 6
		var challenges []string
		var origins []equipe.Origin
		for range n {
			o := from()
			origins = append(origins, o)
			challenges = append(challenges, g.challenged(email, o))
		}
		sessions, _ := g.st.DB.Sessions(ctx, u.ID)
		code := g.code(secret)
		start := make(chan struct{})
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				_, _, errs[i] = s.LogInSecondFactor(ctx, challenges[i], code, origins[i])
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch key := keyOf(err); key {
			case "":
				ok++
			case "second_factor.replayed", "error.rate_limited":
			default:
				t.Errorf("answer %d: %v (%s)", i, err, key)
			}
		}
		if ok != 1 {
			t.Errorf("%d logins with one code, want 1 (%v)", ok, errs)
		}
		if after, _ := g.st.DB.Sessions(ctx, u.ID); len(after) != len(sessions)+1 {
			t.Errorf("sessions %d → %d, want one more", len(sessions), len(after))
		}
	})
}

// keyOf returns the key of a refusal (its first field's, if any), "" for
// none.
func keyOf(err error) string {
	if err == nil {
		return ""
	}
	e := equipe.AsError(err)
	if len(e.Fields) > 0 {
		return e.Fields[0].Key
	}
	return e.Key
}

// TestLogInSecondFactor_ARightCodeToThisProcessReadsNothingAndAnswersAsARead:
// the second step answered by the process that gave the challenge, with a
// right code of the app, writes once and reads nothing: it checks the code
// against what the password step read. Whatever changed meanwhile, it
// answers as the second step that reads does: a person disabled, an app
// enrolled again with another seed, the code's step accepted by another
// login, the codes' throttle blocking, the challenge used another way.
func TestLogInSecondFactor_ARightCodeToThisProcessReadsNothingAndAnswersAsARead(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		for _, tc := range []struct {
			name string
			// meanwhile changes what it changes between the two steps, and
			// returns the code the second step then sends.
			meanwhile func(g *stage, u equipe.User, secret, challenge string) string
			want      string // the refusal's key; "" for a login
		}{
			{"nothing", func(g *stage, u equipe.User, secret, challenge string) string { return g.code(secret) }, ""},
			{"the person disabled", func(g *stage, u equipe.User, secret, challenge string) string {
				if err := g.st.DB.Write(ctx, func(tx *store.Tx) error {
					return tx.SetUserDisabled(ctx, u.ID, g.st.Clock.Now())
				}); err != nil {
					g.t.Fatal(err)
				}
				return g.code(secret)
			}, "login.challenge_invalid"},
			{"the app enrolled again", func(g *stage, u equipe.User, secret, challenge string) string {
				s, clock := g.st.Identity, g.st.Clock
				a := identity.Auth{User: u}
				if err := s.DisableTOTP(ctx, a, goodPassword, g.code(secret), from()); err != nil {
					g.t.Fatal(err)
				}
				clock.Advance(30 * time.Second)
				setup, err := s.StartTOTP(ctx, a, goodPassword, from())
				if err != nil {
					g.t.Fatal(err)
				}
				if _, err := s.ConfirmTOTP(ctx, a, g.code(setup.Secret), from()); err != nil {
					g.t.Fatal(err)
				}
				clock.Advance(30 * time.Second)
				return g.code(secret) // the old seed's, at a step the new one has not accepted
			}, "error.fields code=second_factor.invalid"},
			{"the code's step accepted by another login", func(g *stage, u equipe.User, secret, challenge string) string {
				o := from()
				other := g.challenged(u.Email, o)
				if _, _, err := g.st.Identity.LogInSecondFactor(ctx, other, g.code(secret), o); err != nil {
					g.t.Fatal(err)
				}
				return g.code(secret)
			}, "error.fields code=second_factor.replayed"},
			{"the codes' throttle blocking", func(g *stage, u equipe.User, secret, challenge string) string {
				o := from()
				other := g.challenged(u.Email, o)
				wrong := wrongCode(g.code(secret))
				for range 5 {
					if _, _, err := g.st.Identity.LogInSecondFactor(ctx, other, wrong, from()); keyOf(err) != "second_factor.invalid" {
						g.t.Fatalf("a wrong code: %v", err)
					}
				}
				return g.code(secret)
			}, "error.rate_limited"},
			{"the challenge used another way", func(g *stage, u equipe.User, secret, challenge string) string {
				if _, _, err := g.st.Identity.FinishLogin(ctx, challenge, identity.MethodPasskey, from()); err != nil {
					g.t.Fatal(err)
				}
				return g.code(secret)
			}, "login.challenge_invalid"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				g := g.row(t)
				s, db := g.st.Identity, g.st.DB
				email := address("ada")
				u, secret := g.enrolled(email)
				o := from()
				challenge := g.challenged(email, o)
				code := tc.meanwhile(g, u, secret, challenge)
				sessions, _ := db.Sessions(ctx, u.ID)
				commits, reads, detached := db.Commits(), db.Reads(), db.DetachedBatches()
				auth, token, err := s.LogInSecondFactor(ctx, challenge, code, o)
				if tc.want != "" {
					wantRefusal(t, err, tc.want)
					if after, _ := db.Sessions(ctx, u.ID); len(after) != len(sessions) {
						t.Fatalf("a refused second step started a session: %d → %d", len(sessions), len(after))
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				afterAnswer := g.enteredAfterAnswer(detached)
				if n := db.Reads() - reads; n != 0 {
					t.Errorf("the second step read %d times, want 0", n)
				}
				if n := db.Commits() - commits - afterAnswer; n != 1 {
					t.Errorf("the second step committed %d times, want 1", n)
				}
				if got, err := s.Authenticate(ctx, token); err != nil || got.Session.ID != auth.Session.ID || got.User.ID != u.ID {
					t.Fatalf("the session: %+v %v", got, err)
				}
				if f, err := db.TOTPFactor(ctx, u.ID); err != nil || f.LastStep != g.st.Clock.Now().Unix()/30 {
					t.Errorf("the code's step is not marked used: %d (%v)", f.LastStep, err)
				}
				// The challenge serves once: answered again, it reads.
				if _, _, err := s.LogInSecondFactor(ctx, challenge, code, o); keyOf(err) != "login.challenge_invalid" {
					t.Errorf("the used challenge again: %v", err)
				}
			})
		}
	})
}

// TestLogInSecondFactor_WhileBlockedARightCodeAndAWrongOneCostTheSame: while
// a throttle blocks a person's codes (theirs, or their address's), a right
// code and a wrong one sent to challenges of this process are refused
// after the same work (the same batch refused, the same reads, nothing
// committed), so that the time of the refusal does not tell a right code
// from a wrong one; neither is counted or starts a session.
func TestLogInSecondFactor_WhileBlockedARightCodeAndAWrongOneCostTheSame(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		for _, tc := range []struct {
			name string
			// people is how many people send wrong codes from the address,
			// tries how many each, each on a challenge of their own, as
			// an attacker who knows the password would: enough to block
			// the first person's codes, or the address's (30) without
			// blocking any person's (5).
			people, tries int
		}{
			{"the person's codes", 1, 5},
			{"the address's codes", 10, 3},
		} {
			t.Run(tc.name, func(t *testing.T) {
				g := g.row(t)
				s, db := g.st.Identity, g.st.DB
				o := from()
				var email, secret string
				var u equipe.User
				for i := range tc.people {
					e := address("ada")
					p, sec := g.enrolled(e)
					if i == 0 {
						email, u, secret = e, p, sec
					}
					for range tc.tries {
						if _, _, err := s.LogInSecondFactor(ctx, g.challenged(e, from()), wrongCode(g.code(sec)), o); keyOf(err) != "second_factor.invalid" {
							t.Fatalf("a wrong code before the block (person %d): %v", i, err)
						}
					}
				}
				type cost struct{ reads, commits, refused uint64 }
				measure := func(code string) cost {
					t.Helper()
					challenge := g.challenged(email, from())
					sessions, _ := db.Sessions(ctx, u.ID)
					userCount, ipCount := g.throttleCount("code:user:"+u.ID.String()), g.throttleCount("code:ip:"+o.IP)
					reads, commits, refused := db.Reads(), db.Commits(), db.RefusedBatches()
					_, _, err := s.LogInSecondFactor(ctx, challenge, code, o)
					c := cost{db.Reads() - reads, db.Commits() - commits, db.RefusedBatches() - refused}
					wantRefusal(t, err, "error.rate_limited")
					if after, _ := db.Sessions(ctx, u.ID); len(after) != len(sessions) {
						t.Fatal("a blocked attempt started a session")
					}
					if g.throttleCount("code:user:"+u.ID.String()) != userCount || g.throttleCount("code:ip:"+o.IP) != ipCount {
						t.Error("a blocked attempt was counted")
					}
					return c
				}
				right, wrong := measure(g.code(secret)), measure(wrongCode(g.code(secret)))
				if right != wrong {
					t.Errorf("while blocked, a right code cost %+v and a wrong one %+v", right, wrong)
				}
				if right.refused != 1 {
					t.Errorf("a blocked right code: %d batches refused, want 1", right.refused)
				}
			})
		}
	})
}

// wrongCode returns a code of six digits other than code.
func wrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

// TestLogInSecondFactor_ALoginBegunBeforeThePasswordChangedCannotFinish:
// the password step records its challenge after it answers, so a reset may
// commit before that record exists, and find nothing to revoke. The second
// step then still refuses a login whose password step came before the
// password's last change, whether or not its record was there to revoke.
func TestLogInSecondFactor_ALoginBegunBeforeThePasswordChangedCannotFinish(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		email := address("ada")
		u, secret := g.enrolled(email)
		challenge := g.challenged(email, from())
		// As if the password step's record were still on its way when the
		// reset commits.
		if _, err := g.raw.Exec(`DELETE FROM login_challenges WHERE user_id = $1`, u.ID); err != nil {
			t.Fatal(err)
		}
		g.st.Clock.Advance(time.Second)
		if err := g.resetPassword(email); err != nil {
			t.Fatal(err)
		}
		_, _, err := g.st.Identity.LogInSecondFactor(ctx, challenge, g.code(secret), from())
		wantRefusal(t, err, "login.challenge_invalid")
		if n := g.sessions(u.ID); n != 0 {
			t.Fatalf("%d sessions after the refused second step", n)
		}
	})
}

func TestLogInSecondFactor_APasswordResetEndsTheLoginsWaitingForIt(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		email := address("ada")
		_, secret := g.enrolled(email)
		// Someone who knew the old password waits at the second step.
		challenge := g.challenged(email, from())
		if err := g.resetPassword(email); err != nil {
			t.Fatal(err)
		}
		_, _, err := g.st.Identity.LogInSecondFactor(ctx, challenge, g.code(secret), from())
		wantRefusal(t, err, "login.challenge_invalid")
	})
}

// TestConfirmReset_ALinkSentBeforeTheIdentityWasDisabledServesNot: a reset
// link sent to a person whose identity the instance then disabled is
// link.invalid, opened or used, and changes nothing; no link is sent while
// the identity is disabled; enabled again, the person resets as anyone.
func TestConfirmReset_ALinkSentBeforeTheIdentityWasDisabledServesNot(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		ada := g.verified("ada@example.com")
		if err := g.st.Identity.RequestReset(ctx, ada.Email, from()); err != nil {
			t.Fatal(err)
		}
		if _, err := g.st.Identity.ProcessResets(ctx); err != nil {
			t.Fatal(err)
		}
		link := g.secret(ada.Email, "/password-reset/")
		instance := team.Actor{Key: &equipe.APIKey{ID: equipe.NewID()}}
		yes, no := true, false
		if _, err := g.st.Team.ChangeUser(ctx, instance, ada.ID, team.UserChange{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		if _, err := g.st.Identity.ResetLink(ctx, link, from()); equipe.AsError(err).Key != "link.invalid" {
			t.Fatalf("opening the link: %v", err)
		}
		before := g.counts()
		if _, err := g.st.Identity.ConfirmReset(ctx, link, "a brand new sentence to remember", from()); equipe.AsError(err).Key != "link.invalid" {
			t.Fatalf("using the link: %v", err)
		}
		g.unchanged(t, before)
		if u := g.user(ada.ID); u.PasswordHash != ada.PasswordHash {
			t.Fatal("the password changed")
		}
		sent := len(g.templates(ada.Email))
		if err := g.st.Identity.RequestReset(ctx, ada.Email, from()); err != nil {
			t.Fatal(err)
		}
		if _, err := g.st.Identity.ProcessResets(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(g.templates(ada.Email)); n != sent {
			t.Fatalf("a reset sent to a disabled identity: %d emails, %d before", n, sent)
		}
		if _, err := g.st.Team.ChangeUser(ctx, instance, ada.ID, team.UserChange{Disabled: &no}); err != nil {
			t.Fatal(err)
		}
		if err := g.resetPassword(ada.Email); err != nil {
			t.Fatalf("enabled again: %v", err)
		}
	})
}
