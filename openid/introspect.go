package openid

import (
	"context"
	"errors"
	"net/http"
	"slices"

	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/equipe-dev/equipe"
)

// introspect answers the introspection endpoint (RFC 7662) for the access
// and the refresh tokens the provider issues. op's own handler knows
// access tokens alone, and answers with the claims of the person but
// without those of the token (exp, iat, iss, aud, token_type): a resource
// server could not tell how long to cache the answer, nor that the token
// was meant for it. The token is looked up in every kind, the hinted one
// (token_type_hint) first, as section 2.1 asks of a hint the server does
// not find the token with. Whatever the kind, a token is active only to
// the client it was issued to (see SetIntrospectionFromToken).
func (p *Provider) introspect(w http.ResponseWriter, r *http.Request) {
	token, clientID, err := op.ParseTokenIntrospectionRequest(r, p.op)
	if err != nil {
		// RFC 7662 2.3: the error of RFC 6749 5.2.
		httphelper.MarshalJSONWithStatus(w, oidc.ErrInvalidClient().WithDescription(
			"the client must authenticate: client_id and client_secret, or HTTP Basic"), http.StatusUnauthorized)
		return
	}
	caller, err := equipe.ParseID(clientID)
	if err != nil {
		httphelper.MarshalJSON(w, &oidc.IntrospectionResponse{})
		return
	}
	kinds := []func(context.Context, string, equipe.ID) (*oidc.IntrospectionResponse, error){p.accessIntrospection, p.refreshIntrospection}
	if r.PostFormValue("token_type_hint") == "refresh_token" {
		slices.Reverse(kinds)
	}
	for _, kind := range kinds {
		in, err := kind(r.Context(), token, caller)
		if errors.Is(err, errInactive) {
			continue
		} else if err != nil {
			p.Log.ErrorContext(r.Context(), "openid: introspection", "err", err)
			httphelper.MarshalJSONWithStatus(w, oidc.ErrServerError(), http.StatusInternalServerError)
			return
		}
		in.Active = true
		httphelper.MarshalJSON(w, in)
		return
	}
	httphelper.MarshalJSON(w, &oidc.IntrospectionResponse{})
}

// accessIntrospection answers an access token: its claims as it carries
// them signed, and the person's its scopes give. errInactive when token is
// no access token that acts for caller.
func (p *Provider) accessIntrospection(ctx context.Context, token string, caller equipe.ID) (*oidc.IntrospectionResponse, error) {
	claims, err := op.VerifyAccessToken[*oidc.AccessTokenClaims](ctx, token, p.op.AccessTokenVerifier(ctx))
	if err != nil {
		return nil, errInactive
	}
	in := new(oidc.IntrospectionResponse)
	if err := p.SetIntrospectionFromToken(ctx, in, claims.JWTID, claims.Subject, caller.String()); err != nil {
		return nil, err
	}
	in.TokenType = oidc.BearerToken
	in.Expiration, in.IssuedAt, in.NotBefore = claims.Expiration, claims.IssuedAt, claims.NotBefore
	in.Issuer, in.Audience, in.JWTID, in.Subject = claims.Issuer, claims.Audience, claims.JWTID, claims.Subject
	return in, nil
}

// refreshIntrospection answers a refresh token that the refresh grant
// would take from caller now (TokenRequestByRefreshToken): not used, not
// expired, its grant living and caller's, its person still able to act in
// its account, offline_access still registered. It says what the token
// gives (scope, client, person) and when it was issued and expires; no
// token_type, which RFC 7662 takes from the access token types of RFC 6749
// 7.1. errInactive when token is no such refresh token.
func (p *Provider) refreshIntrospection(ctx context.Context, token string, caller equipe.ID) (*oidc.IntrospectionResponse, error) {
	rt, g, _, err := p.Work.DB.RefreshGrant(ctx, digest(token))
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return nil, errInactive
	} else if err != nil {
		return nil, err
	}
	if !rt.UsedAt.IsZero() || !rt.ExpiresAt.After(p.Work.Now()) {
		return nil, errInactive
	}
	if err := p.actsFor(ctx, &g, caller); err != nil {
		return nil, err
	}
	if !slices.Contains(g.Scopes, oidc.ScopeOfflineAccess) {
		return nil, errInactive
	}
	return &oidc.IntrospectionResponse{Scope: g.Scopes, ClientID: g.ClientID.String(), Subject: g.UserID.String(),
		Expiration: oidc.FromTime(rt.ExpiresAt), IssuedAt: oidc.FromTime(rt.CreatedAt), Issuer: p.issuer,
		Audience: oidc.Audience{g.ClientID.String()}}, nil
}
