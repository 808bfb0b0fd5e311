package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/team"
)

// TestResealSecrets_MovesSeedsToTheNewKeyAfterARotation: a seed, a
// webhook's two signing secrets and an OpenID Connect signing key sealed under the key made on first start
// are sealed again under a configured key
// once the old one is given as previous; without it, the command says some
// remain and fails.
func TestResealSecrets_MovesSeedsToTheNewKeyAfterARotation(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	vars := map[string]string{"EQUIPE_DATA": dir, "EQUIPE_LOG_FORMAT": "json"}
	cfg, err := app.ParseConfig("test", nil, env(vars))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler), app.Options{KeepPolicy: true})
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.Identity.CreateAdmin(ctx, identity.NewAdmin{Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace",
		Locale: "en", Password: "lovelace rode the number engine"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Identity.StartTOTP(ctx, identity.Auth{User: u}, "lovelace rode the number engine", equipe.Origin{IP: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	// An instance webhook in the middle of a rotation of its own: its
	// secret and its previous one are both sealed.
	admin := team.Actor{User: &u}
	hook, _, err := a.Team.CreateWebhook(ctx, admin, nil, team.WebhookInput{URL: "https://hooks.example.com/equipe", Types: []string{"*"}, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Team.RotateWebhookSecret(ctx, admin, nil, hook.ID); err != nil {
		t.Fatal(err)
	}
	// The OpenID Connect provider's first signing key.
	if _, err := a.SigningKeys.SigningKey(ctx); err != nil {
		t.Fatal(err)
	}
	a.Close()
	old, err := os.ReadFile(filepath.Join(dir, app.SecretKeyFile))
	if err != nil {
		t.Fatal(err)
	}

	vars["EQUIPE_SECRET_KEY"] = strings.Repeat("ab", 32)
	var out strings.Builder
	err = run(ctx, []string{"reseal-secrets"}, nil, &out, io.Discard, env(vars))
	if err == nil || !strings.Contains(out.String(), "0 secrets sealed again under the current key; 4 remain") {
		t.Fatalf("without the previous key: %v, %q", err, out.String())
	}
	vars["EQUIPE_SECRET_KEY_PREVIOUS"] = strings.TrimSpace(string(old))
	out.Reset()
	if err := run(ctx, []string{"reseal-secrets"}, nil, &out, io.Discard, env(vars)); err != nil || !strings.HasPrefix(out.String(), "4 secrets sealed again") {
		t.Fatalf("with the previous key: %v, %q", err, out.String())
	}
	delete(vars, "EQUIPE_SECRET_KEY_PREVIOUS")
	out.Reset()
	if err := run(ctx, []string{"reseal-secrets"}, nil, &out, io.Discard, env(vars)); err != nil || !strings.HasPrefix(out.String(), "0 secrets sealed again") {
		t.Fatalf("after the rotation, without the previous key: %v, %q", err, out.String())
	}
}
