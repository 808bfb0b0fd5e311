package identity_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, identity.KeySize) }

func TestKeyring_OpensWithTheCurrentOrAPreviousKeyAndOnlyForItsLabel(t *testing.T) {
	old, err := identity.NewKeyring(key(1))
	if err != nil {
		t.Fatal(err)
	}
	sealed, oldID := old.Seal([]byte("JBSWY3DPEHPK3PXP"), "totp:a")
	if bytes.Contains(sealed, []byte("JBSWY3DPEHPK3PXP")) {
		t.Fatal("the sealed value holds the secret")
	}
	again, _ := old.Seal([]byte("JBSWY3DPEHPK3PXP"), "totp:a")
	if bytes.Equal(sealed, again) {
		t.Error("two seals of one secret are alike: the nonce is not fresh")
	}
	rotated, err := identity.NewKeyring(key(2), key(1))
	if err != nil {
		t.Fatal(err)
	}
	if rotated.KeyID() == oldID {
		t.Fatal("two keys share an identifier")
	}
	plain, current, err := rotated.Open(sealed, oldID, "totp:a")
	if err != nil || current || string(plain) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("open under the previous key: %q current=%v %v", plain, current, err)
	}
	if _, _, err := rotated.Open(sealed, oldID, "totp:b"); err == nil {
		t.Error("a value sealed for one person opens for another")
	}
	alone, _ := identity.NewKeyring(key(2))
	if _, _, err := alone.Open(sealed, oldID, "totp:a"); err == nil {
		t.Error("a value opens without its key")
	}
	if _, err := identity.NewKeyring([]byte("short")); err == nil {
		t.Error("a short key is accepted")
	}
}

// TestTOTP_SeedsMoveToTheNewKeyOnUseOrAllAtOnce: after a rotation, a seed
// sealed under the previous key still works, and is sealed under the new
// key when its code is accepted; ResealSecrets moves the others.
func TestTOTP_SeedsMoveToTheNewKeyOnUseOrAllAtOnce(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		s, clock := g.st.Identity, g.st.Clock
		clock.Set(clock.Now().Truncate(30 * time.Second).Add(10 * time.Second))
		oldKeys, _ := identity.NewKeyring(key(1))
		s.Keys = oldKeys
		enrol := func(email string) (equipe.User, string) {
			u := g.signedUp(email).User
			setup, err := s.StartTOTP(ctx, identity.Auth{User: u}, goodPassword, from())
			if err != nil {
				t.Fatal(err)
			}
			code, _ := totp.GenerateCode(setup.Secret, clock.Now())
			if _, err := s.ConfirmTOTP(ctx, identity.Auth{User: u}, code, from()); err != nil {
				t.Fatal(err)
			}
			return u, setup.Secret
		}
		ada, adaSecret := enrol(address("ada"))
		grace, _ := enrol(address("grace"))
		keyOf := func(u equipe.User) string {
			f, err := g.st.DB.TOTPFactor(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return f.KeyID
		}
		s.Keys, _ = identity.NewKeyring(key(2), key(1))
		clock.Advance(30 * time.Second)
		code, _ := totp.GenerateCode(adaSecret, clock.Now())
		if err := s.VerifySecondFactor(ctx, ada.ID, code, from()); err != nil {
			t.Fatalf("a code after the rotation: %v", err)
		}
		if keyOf(ada) != s.Keys.KeyID() || keyOf(grace) != oldKeys.KeyID() {
			t.Fatalf("after a use: ada's seed under %s, grace's under %s", keyOf(ada), keyOf(grace))
		}
		moved, left, err := s.ResealSecrets(ctx)
		if err != nil || moved < 1 || left != 0 || keyOf(grace) != s.Keys.KeyID() {
			t.Fatalf("reseal: moved %d, left %d, %v; grace's seed under %s", moved, left, err, keyOf(grace))
		}
		// Without the previous key, what it sealed stays, and is counted.
		s.Keys = oldKeys
		enrol(address("hedy"))
		s.Keys, _ = identity.NewKeyring(key(3))
		if _, left, err := s.ResealSecrets(ctx); err != nil || left < 1 {
			t.Fatalf("reseal without the previous key: left %d, %v", left, err)
		}
	})
}

func TestVerifySecondFactor_ForOtherUseCases(t *testing.T) {
	eachStage(t, func(t *testing.T, g *stage) {
		s, clock := g.st.Identity, g.st.Clock
		clock.Set(clock.Now().Truncate(30 * time.Second).Add(10 * time.Second))
		u := g.signedUp(address("ada")).User
		if err := s.VerifySecondFactor(ctx, u.ID, "123456", from()); equipe.ErrorCode(err) != equipe.EINVALID {
			t.Fatalf("without a factor: %v", err)
		}
		setup, err := s.StartTOTP(ctx, identity.Auth{User: u}, goodPassword, from())
		if err != nil {
			t.Fatal(err)
		}
		code, _ := totp.GenerateCode(setup.Secret, clock.Now())
		codes, err := s.ConfirmTOTP(ctx, identity.Auth{User: u}, code, from())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.VerifySecondFactor(ctx, u.ID, code, from()); equipe.AsError(err).Fields[0].Key != "second_factor.replayed" {
			t.Fatalf("the confirmation's code again: %v", err)
		}
		clock.Advance(30 * time.Second)
		code, _ = totp.GenerateCode(setup.Secret, clock.Now())
		if err := s.VerifySecondFactor(ctx, u.ID, code, from()); err != nil {
			t.Fatalf("the next code: %v", err)
		}
		if err := s.VerifySecondFactor(ctx, u.ID, codes[3], from()); err != nil {
			t.Fatalf("a recovery code: %v", err)
		}
		if err := s.VerifySecondFactor(ctx, u.ID, codes[3], from()); equipe.ErrorCode(err) != equipe.EINVALID {
			t.Fatalf("the recovery code again: %v", err)
		}
		f, _ := s.SecondFactors(ctx, u.ID)
		if f.RecoveryCodes != 9 {
			t.Errorf("%d recovery codes left, want 9", f.RecoveryCodes)
		}
		evs := g.events(store.AuditFilter{})
		var used, failed int
		for _, e := range evs {
			switch e.Type {
			case "user.recovery_code_used":
				used++
			case "user.second_factor_failed":
				failed++
			}
		}
		if used != 1 || failed < 3 {
			t.Errorf("%d recovery_code_used and %d second_factor_failed events", used, failed)
		}
	})
}
