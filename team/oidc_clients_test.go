package team_test

import (
	"crypto/sha256"
	"slices"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/team"
)

// about returns the events about subject, whatever log holds them, oldest
// first.
func (b *bench) about(t *testing.T, subject string) []event.Event {
	t.Helper()
	rows, err := b.st.DB.AuditEvents(ctx, store.AuditFilter{TargetID: subject, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []event.Event
	for i := len(rows) - 1; i >= 0; i-- {
		out = append(out, event.Decode(rows[i]))
	}
	return out
}

func eventTypes(es []event.Event) []event.Type {
	var out []event.Type
	for _, e := range es {
		out = append(out, e.Type)
	}
	return out
}

func TestOIDCClients_RegisteredByTheInstanceWithASecretShownOnceAndStoredHashed(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		in := team.OIDCClientInput{Name: "Vendor app", RedirectURIs: []string{"https://app.example.com/callback",
			"http://127.0.0.1:8080/cb"}, Scopes: []string{"accounts", "email", "offline_access"}}
		c, secret, err := b.st.Team.CreateOIDCClient(ctx, b.instance, in)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, team.OIDCSecretPrefix) || len(secret) < 40 {
			t.Errorf("secret %q", secret)
		}
		if want := []string{"openid", "email", "offline_access", "accounts"}; !slices.Equal(c.Scopes, want) {
			t.Errorf("scopes %v, want %v", c.Scopes, want)
		}
		sum := sha256.Sum256([]byte(secret))
		var stored []byte
		var prefix string
		if err := b.raw.QueryRow(`SELECT secret_hash, secret_prefix FROM oidc_clients WHERE id = $1`, c.ID.String()).
			Scan(&stored, &prefix); err != nil {
			t.Fatal(err)
		}
		if string(stored) != string(sum[:]) || !strings.HasPrefix(secret, prefix) || len(prefix) >= len(secret) {
			t.Errorf("stored %x (prefix %q), want the hash of the secret", stored, prefix)
		}
		got, err := b.st.Team.OIDCClient(ctx, b.instance, c.ID)
		if err != nil || !slices.Equal(got.RedirectURIs, in.RedirectURIs) || got.Public || got.FirstParty {
			t.Fatalf("read back %+v, %v", got, err)
		}

		// Rotation: a new secret, the old hash gone.
		_, again, err := b.st.Team.RotateOIDCClientSecret(ctx, b.instance, c.ID)
		if err != nil || again == secret || !strings.HasPrefix(again, team.OIDCSecretPrefix) {
			t.Fatalf("rotate: %q %v", again, err)
		}
		after, _ := b.st.Team.OIDCClient(ctx, b.instance, c.ID)
		if sum2 := sha256.Sum256([]byte(again)); string(after.SecretHash) != string(sum2[:]) {
			t.Error("the new secret's hash is not stored")
		}

		// A public client has no secret to rotate.
		pub, none, err := b.st.Team.CreateOIDCClient(ctx, b.instance, team.OIDCClientInput{Name: "SPA", Public: true,
			FirstParty: true, RedirectURIs: []string{"https://spa.example.com/"}})
		if err != nil || none != "" || pub.SecretHash != nil || !pub.Public || !pub.FirstParty {
			t.Fatalf("public client %+v %q %v", pub, none, err)
		}
		if want := []string{"openid", "profile", "email"}; !slices.Equal(pub.Scopes, want) {
			t.Errorf("default scopes %v, want %v", pub.Scopes, want)
		}
		if _, _, err := b.st.Team.RotateOIDCClientSecret(ctx, b.instance, pub.ID); key(err) != "oidc_client.public_no_secret" {
			t.Errorf("rotating a public client's secret: %v", err)
		}

		// The operator (equipe clients) lists and deletes.
		all, err := b.st.Team.OIDCClients(ctx, team.Actor{Operator: true})
		if err != nil || len(all) != 2 || all[0].ID != c.ID {
			t.Fatalf("list %+v %v", all, err)
		}
		if err := b.st.Team.DeleteOIDCClient(ctx, team.Actor{Operator: true}, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := b.st.Team.OIDCClient(ctx, b.instance, c.ID); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Errorf("deleted client read back: %v", err)
		}
		es := b.about(t, c.ID.String())
		if got, want := eventTypes(es), []event.Type{event.OIDCClientCreated.Type, event.OIDCClientSecretRotated.Type,
			event.OIDCClientDeleted.Type}; !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		if es[0].Account != nil || es[0].Actor.ID == nil || *es[0].Actor.ID != b.instance.User.ID {
			t.Errorf("creation recorded as %+v in %v", es[0].Actor, es[0].Account)
		}
		if st := es[0].After.(event.OIDCClient); st.Name != "Vendor app" || len(st.RedirectURIs) != 2 {
			t.Errorf("created state %+v", st)
		}
		for _, e := range es {
			var fs []event.Field
			for _, st := range []event.State{e.Before, e.After} {
				if st != nil {
					fs = append(fs, st.Fields()...)
				}
			}
			for _, f := range fs {
				if s, ok := f.Value.(string); ok && (strings.Contains(s, secret) || strings.Contains(s, again)) {
					t.Error("an event holds a secret")
				}
			}
		}
	})
}

func TestOIDCClients_BadInputAndOthersThanTheInstanceAreRefusedAndChangeNothing(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		ok := []string{"https://app.example.com/cb"}
		for _, tt := range []struct {
			name  string
			actor team.Actor
			in    team.OIDCClientInput
			want  string
		}{
			{"account administrator", s.admin(), team.OIDCClientInput{Name: "A", RedirectURIs: ok}, "oidc_client.instance_admin_only"},
			{"no name", b.instance, team.OIDCClientInput{RedirectURIs: ok}, "error.fields name=name.required"},
			{"no redirect", b.instance, team.OIDCClientInput{Name: "A"}, "error.fields redirect_uris=oidc_client.redirect_uri_required"},
			{"http elsewhere", b.instance, team.OIDCClientInput{Name: "A", RedirectURIs: []string{"http://app.example.com/cb"}},
				"error.fields redirect_uris=oidc_client.uri_https"},
			{"custom scheme", b.instance, team.OIDCClientInput{Name: "A", RedirectURIs: []string{"com.example.app:/cb"}},
				"error.fields redirect_uris=oidc_client.uri_invalid"},
			{"fragment", b.instance, team.OIDCClientInput{Name: "A", RedirectURIs: []string{"https://app.example.com/cb#x"}},
				"error.fields redirect_uris=oidc_client.uri_invalid"},
			{"relative", b.instance, team.OIDCClientInput{Name: "A", RedirectURIs: []string{"/cb"}},
				"error.fields redirect_uris=oidc_client.uri_invalid"},
			{"post-logout http", b.instance, team.OIDCClientInput{Name: "A", RedirectURIs: ok,
				PostLogoutURIs: []string{"http://app.example.com/"}}, "error.fields post_logout_uris=oidc_client.uri_https"},
			{"back-channel to a private network", b.instance, team.OIDCClientInput{Name: "A", RedirectURIs: ok,
				BackchannelLogoutURI: "https://10.0.0.1/logout"}, "error.fields backchannel_logout_uri=webhook.url_forbidden"},
			{"unknown scope", b.instance, team.OIDCClientInput{Name: "A", RedirectURIs: ok, Scopes: []string{"admin"}},
				"error.fields scopes=oidc_client.scope_unknown"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				s.done(t, tt.want, func() error {
					_, _, err := b.st.Team.CreateOIDCClient(ctx, tt.actor, tt.in)
					return err
				})
			})
		}
		c, _, err := b.st.Team.CreateOIDCClient(ctx, b.instance, team.OIDCClientInput{Name: "A", RedirectURIs: ok})
		if err != nil {
			t.Fatal(err)
		}
		s.done(t, "oidc_client.instance_admin_only", func() error {
			_, _, err := b.st.Team.RotateOIDCClientSecret(ctx, s.admin(), c.ID)
			return err
		})
		s.done(t, "oidc_client.instance_admin_only", func() error { return b.st.Team.DeleteOIDCClient(ctx, s.admin(), c.ID) })
		if _, err := b.st.Team.OIDCClients(ctx, s.admin()); key(err) != "oidc_client.instance_admin_only" {
			t.Errorf("an account administrator lists the clients: %v", err)
		}
		s.done(t, "error.not_found", func() error { return b.st.Team.DeleteOIDCClient(ctx, b.instance, equipe.NewID()) })
	})
}
