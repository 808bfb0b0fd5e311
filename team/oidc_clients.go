package team

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/work"
)

// OpenID Connect clients belong to the instance: its administrators, its
// instance keys and the operator (equipe clients) register them. The
// provider itself (package oidc) reads them from the store.

// OIDC client limits and vocabulary.
const (
	// MaxOIDCClients bounds the clients of an instance.
	MaxOIDCClients = 200
	// MaxOIDCURIs bounds the redirect URIs, and the post-logout URIs, of a
	// client.
	MaxOIDCURIs = 10
	// OIDCSecretPrefix starts every client secret, so that a secret found
	// in a file or a log is recognised for what it is.
	OIDCSecretPrefix = "eqcs_"
)

// OIDCScopes are the scopes a client may be allowed, in the order they are
// shown: openid is always allowed.
var OIDCScopes = []string{"openid", "profile", "email", "offline_access", "accounts", "permissions"}

// OIDCClientInput is a client as an administrator registers it.
type OIDCClientInput struct {
	Name                 string
	RedirectURIs         []string
	PostLogoutURIs       []string
	BackchannelLogoutURI string
	Public               bool
	FirstParty           bool
	// Scopes are those the client may ask besides openid; none: openid,
	// profile and email.
	Scopes []string
}

// mayManageOIDCClients is the rule of who registers clients: an instance
// administrator, an instance key, or the operator.
func mayManageOIDCClients(actor Actor) error {
	if !actor.instance() {
		return forbidden("oidc_client.instance_admin_only", nil)
	}
	return nil
}

// checkOIDCClient returns the client that in describes, or the field
// errors.
func (s *Service) checkOIDCClient(in OIDCClientInput) (equipe.OIDCClient, error) {
	var v equipe.Invalid
	c := equipe.OIDCClient{Name: identity.CheckLabel(&v, "name", in.Name, 100), Public: in.Public, FirstParty: in.FirstParty}
	c.RedirectURIs = checkOIDCURIs(&v, "redirect_uris", in.RedirectURIs)
	if len(c.RedirectURIs) == 0 && !v.Has("redirect_uris") {
		v.Add("redirect_uris", "oidc_client.redirect_uri_required")
	}
	c.PostLogoutURIs = checkOIDCURIs(&v, "post_logout_uris", in.PostLogoutURIs)
	if raw := strings.TrimSpace(in.BackchannelLogoutURI); raw != "" {
		// The provider calls this address itself: it follows the rules of
		// webhook addresses, which keep requests off private networks.
		u, problem := s.WebhookRules.CheckURL(raw)
		if problem != "" {
			v.Add("backchannel_logout_uri", problem)
		}
		c.BackchannelLogoutURI = u
	}
	c.Scopes = []string{"openid"}
	asked := in.Scopes
	if len(asked) == 0 {
		asked = []string{"profile", "email"}
	}
	for _, sc := range asked {
		sc = strings.TrimSpace(sc)
		switch {
		case sc == "" || slices.Contains(c.Scopes, sc):
		case !slices.Contains(OIDCScopes, sc):
			v.AddArgs("scopes", "oidc_client.scope_unknown", map[string]any{"scope": sc})
		default:
			c.Scopes = append(c.Scopes, sc)
		}
	}
	slices.SortFunc(c.Scopes, func(a, b string) int { return slices.Index(OIDCScopes, a) - slices.Index(OIDCScopes, b) })
	return c, v.Err()
}

// checkOIDCURIs checks a list of redirect URIs: each absolute, without
// fragment or credentials, https, or http to the loopback interface only
// (a native application's local server, RFC 8252). They are kept as typed:
// the provider matches them exactly.
func checkOIDCURIs(v *equipe.Invalid, field string, uris []string) []string {
	var out []string
	for _, raw := range uris {
		raw = strings.TrimSpace(raw)
		if raw == "" || slices.Contains(out, raw) {
			continue
		}
		if problem := checkOIDCURI(raw); problem != "" {
			v.AddArgs(field, problem, map[string]any{"uri": raw})
			continue
		}
		out = append(out, raw)
	}
	if len(out) > MaxOIDCURIs {
		v.AddArgs(field, "oidc_client.too_many_uris", map[string]any{"max": MaxOIDCURIs})
	}
	return out
}

// checkOIDCURI returns the problem of a redirect URI ("" for none).
func checkOIDCURI(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || len(raw) > 2000 || !u.IsAbs() || u.Host == "" || u.Opaque != "" || u.User != nil ||
		u.Fragment != "" || strings.Contains(raw, "#") {
		return "oidc_client.uri_invalid"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		if loopback(u.Hostname()) {
			return ""
		}
	}
	return "oidc_client.uri_https"
}

// loopback reports whether host names this machine's loopback interface.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// newOIDCSecret draws a client secret and returns it with its hash and the
// prefix kept to recognise it.
func newOIDCSecret(r io.Reader) (secret string, hash []byte, prefix string, err error) {
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", nil, "", err
	}
	secret = OIDCSecretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(secret))
	return secret, sum[:], secret[:len(OIDCSecretPrefix)+6], nil
}

// CreateOIDCClient registers an OpenID Connect client and returns it with
// its secret ("" for a public client): the only time the secret is shown.
// Returns EFORBIDDEN for anyone but an instance administrator, an instance
// key or the operator, EINVALID for a bad name, URI or scope, and
// ECONFLICT "oidc_client.too_many" past MaxOIDCClients.
func (s *Service) CreateOIDCClient(ctx context.Context, actor Actor, in OIDCClientInput) (equipe.OIDCClient, string, error) {
	if err := mayManageOIDCClients(actor); err != nil {
		return equipe.OIDCClient{}, "", err
	}
	c, err := s.checkOIDCClient(in)
	if err != nil {
		return equipe.OIDCClient{}, "", err
	}
	var secret string
	if !c.Public {
		if secret, c.SecretHash, c.SecretPrefix, err = newOIDCSecret(s.Work.Rand); err != nil {
			return equipe.OIDCClient{}, "", err
		}
	}
	c.ID = equipe.NewID()
	err = s.do(ctx, actor, func(u *work.Unit) error {
		all, err := u.OIDCClients(ctx)
		if err != nil {
			return err
		}
		if len(all) >= MaxOIDCClients {
			return conflict("oidc_client.too_many", map[string]any{"max": MaxOIDCClients})
		}
		c.CreatedAt, c.UpdatedAt = u.Now(), u.Now()
		if err := u.CreateOIDCClient(ctx, &c); err != nil {
			return err
		}
		st := event.OIDCClientOf(c)
		return u.Record(ctx, event.OIDCClientCreated.New(nil, c.ID.String(), nil, &st))
	})
	if err != nil {
		return equipe.OIDCClient{}, "", err
	}
	return c, secret, nil
}

// OIDCClients returns the instance's clients, oldest first, for those who
// register them (anyone else: EFORBIDDEN).
func (s *Service) OIDCClients(ctx context.Context, actor Actor) ([]equipe.OIDCClient, error) {
	out, _, err := s.OIDCClientPage(ctx, actor, equipe.Page{})
	return out, err
}

// OIDCClientPage is a page of OIDCClients (the whole list for the whole
// page), oldest first, with the cursor of the next page ("" after the
// last).
func (s *Service) OIDCClientPage(ctx context.Context, actor Actor, p equipe.Page) ([]equipe.OIDCClient, string, error) {
	if err := mayManageOIDCClients(actor); err != nil {
		return nil, "", err
	}
	if err := p.CheckOrWhole(); err != nil {
		return nil, "", err
	}
	return s.DB.OIDCClientPage(ctx, p)
}

// OIDCClient returns a client, for those who register them (anyone else:
// EFORBIDDEN). Returns ENOTFOUND when there is none.
func (s *Service) OIDCClient(ctx context.Context, actor Actor, id equipe.ID) (equipe.OIDCClient, error) {
	if err := mayManageOIDCClients(actor); err != nil {
		return equipe.OIDCClient{}, err
	}
	return s.DB.OIDCClient(ctx, id)
}

// RotateOIDCClientSecret gives a confidential client a new secret and
// returns it: the old one stops working at once. Returns ENOTFOUND when
// there is no such client, ECONFLICT "oidc_client.public_no_secret" for a
// public client.
func (s *Service) RotateOIDCClientSecret(ctx context.Context, actor Actor, id equipe.ID) (equipe.OIDCClient, string, error) {
	if err := mayManageOIDCClients(actor); err != nil {
		return equipe.OIDCClient{}, "", err
	}
	var c equipe.OIDCClient
	var secret string
	err := s.do(ctx, actor, func(u *work.Unit) error {
		var err error
		if c, err = u.OIDCClient(ctx, id); err != nil {
			return err
		}
		if c.Public {
			return conflict("oidc_client.public_no_secret", nil)
		}
		if secret, c.SecretHash, c.SecretPrefix, err = newOIDCSecret(s.Work.Rand); err != nil {
			return err
		}
		c.UpdatedAt = u.Now()
		if err := u.SetOIDCClientSecret(ctx, &c); err != nil {
			return err
		}
		return u.Record(ctx, event.OIDCClientSecretRotated.New(nil, c.ID.String(), nil, nil))
	})
	if err != nil {
		return equipe.OIDCClient{}, "", err
	}
	return c, secret, nil
}

// DeleteOIDCClient deletes a client: it can sign nobody in any more.
// Returns ENOTFOUND when there is none.
func (s *Service) DeleteOIDCClient(ctx context.Context, actor Actor, id equipe.ID) error {
	if err := mayManageOIDCClients(actor); err != nil {
		return err
	}
	return s.do(ctx, actor, func(u *work.Unit) error {
		c, err := u.OIDCClient(ctx, id)
		if err != nil {
			return err
		}
		if err := u.DeleteOIDCClient(ctx, id); err != nil {
			return err
		}
		st := event.OIDCClientOf(c)
		return u.Record(ctx, event.OIDCClientDeleted.New(nil, c.ID.String(), &st, nil))
	})
}

// OIDCClientChange is what an update of a client changes: the fields not
// nil. Its kind (public or confidential) and its secret never change.
type OIDCClientChange struct {
	Name                 *string
	RedirectURIs         *[]string
	PostLogoutURIs       *[]string
	BackchannelLogoutURI *string
	FirstParty           *bool
	Scopes               *[]string
}

// UpdateOIDCClient changes a client's name, URIs, first-party mark or
// scopes, by the rules of its registration, and returns it. Audited as
// oidc_client.changed (nothing is recorded when nothing changes). Returns
// EFORBIDDEN for anyone but an instance administrator, an instance key or
// the operator, ENOTFOUND for an unknown client, EINVALID for a bad field.
func (s *Service) UpdateOIDCClient(ctx context.Context, actor Actor, id equipe.ID, ch OIDCClientChange) (equipe.OIDCClient, error) {
	if err := mayManageOIDCClients(actor); err != nil {
		return equipe.OIDCClient{}, err
	}
	var out equipe.OIDCClient
	err := s.do(ctx, actor, func(u *work.Unit) error {
		before, err := u.OIDCClient(ctx, id)
		if err != nil {
			return err
		}
		in := OIDCClientInput{Name: before.Name, RedirectURIs: before.RedirectURIs, PostLogoutURIs: before.PostLogoutURIs,
			BackchannelLogoutURI: before.BackchannelLogoutURI, Public: before.Public, FirstParty: before.FirstParty,
			Scopes: before.Scopes}
		if ch.Name != nil {
			in.Name = *ch.Name
		}
		if ch.RedirectURIs != nil {
			in.RedirectURIs = *ch.RedirectURIs
		}
		if ch.PostLogoutURIs != nil {
			in.PostLogoutURIs = *ch.PostLogoutURIs
		}
		if ch.BackchannelLogoutURI != nil {
			in.BackchannelLogoutURI = *ch.BackchannelLogoutURI
		}
		if ch.FirstParty != nil {
			in.FirstParty = *ch.FirstParty
		}
		if ch.Scopes != nil {
			in.Scopes = *ch.Scopes
		}
		c, err := s.checkOIDCClient(in)
		if err != nil {
			return err
		}
		c.ID, c.SecretHash, c.SecretPrefix, c.CreatedAt, c.UpdatedAt = before.ID, before.SecretHash, before.SecretPrefix, before.CreatedAt, u.Now()
		out = c
		b, a := event.OIDCClientOf(before), event.OIDCClientOf(c)
		if reflect.DeepEqual(b, a) {
			out = before
			return nil
		}
		if err := u.UpdateOIDCClient(ctx, &c); err != nil {
			return err
		}
		return u.Record(ctx, event.OIDCClientChanged.New(nil, c.ID.String(), &b, &a))
	})
	return out, err
}
