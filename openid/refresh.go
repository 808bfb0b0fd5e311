package openid

import (
	"net/http"
	"slices"
	"strings"

	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// accessOnlyRefresh answers a refresh grant whose request names its
// scopes without openid (RFC 6749 section 6 lets a refresh ask for fewer
// scopes than were granted): the answer has an access token and the next
// refresh token but no ID token, as OpenID Connect Core 12.2 allows. A
// relying party that only needs a fresh access token (to call an API)
// asks for that and spares the provider the ID token's claims and its
// signature, about a fifth of a refresh's CPU. A refresh without a scope
// parameter, or with openid in it, gets an ID token as before (op's
// RefreshTokenExchange). The same checks apply either way: the client's
// authentication, the token's rotation and reuse detection, the scopes a
// subset of the grant's, the member's standing.
func (p *Provider) accessOnlyRefresh(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oidc/token" || r.Method != http.MethodPost || r.PostFormValue("grant_type") != string(oidc.GrantTypeRefreshToken) {
			next.ServeHTTP(w, r)
			return
		}
		scope := r.PostFormValue("scope")
		if scope == "" || slices.Contains(strings.Fields(scope), oidc.ScopeOpenID) {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		tokenReq, err := op.ParseRefreshTokenRequest(r, p.op.Decoder())
		if err != nil {
			op.RequestError(w, r, err, nil)
			return
		}
		req, client, err := op.ValidateRefreshTokenRequest(ctx, tokenReq, p.op)
		if err != nil {
			op.RequestError(w, r, err, nil)
			return
		}
		access, refresh, validity, err := op.CreateAccessToken(ctx, req, client.AccessTokenType(), p.op, client, tokenReq.RefreshToken)
		if err != nil {
			op.RequestError(w, r, err, nil)
			return
		}
		httphelper.MarshalJSON(w, &oidc.AccessTokenResponse{AccessToken: access, RefreshToken: refresh, TokenType: oidc.BearerToken,
			ExpiresIn: uint64(validity.Seconds()), Scope: req.GetScopes()})
	})
}
