package openid

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/rs/cors"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// supportedClaims are the claims the provider issues, as discovery lists
// them: no more (op's defaults list phone numbers, acr and others equipe
// never sends), no less.
var supportedClaims = []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash", "c_hash", "client_id", "amr", "sid",
	"name", "given_name", "family_name", "locale", "email", "email_verified",
	"accounts", "account_id", "account_name", "role", "permissions"}

// corsOptions let any site's scripts call the endpoints a single-page
// application uses (discovery, keys, token, userinfo, revocation), without
// credentials: they carry their own (PKCE, a client secret, a bearer
// token), never the browser's cookies.
var corsOptions = cors.Options{
	AllowOriginFunc:  func(string) bool { return true },
	AllowCredentials: false,
	AllowedMethods:   []string{http.MethodGet, http.MethodHead, http.MethodPost},
	AllowedHeaders:   []string{"Accept", "Accept-Language", "Authorization", "Content-Type"},
	ExposedHeaders:   []string{"WWW-Authenticate"},
}

// postOnly are the endpoints that take credentials or codes in their form:
// RFC 6749 3.2 and RFCs 7009 and 7662 say POST, so that none of them ends
// up in a URL (and in logs).
var postOnly = map[string]bool{"/oidc/token": true, "/oidc/revoke": true, "/oidc/introspect": true}

// protocol holds the provider's endpoints to the protocol where op does
// not: tokens and what describes them are never cached (RFC 6749 5.1), a
// request that authenticates with HTTP Basic and fails is told so (RFC 6749
// 5.2), the endpoints of postOnly answer nothing else, userinfo answers as
// RFC 6750 says, and discovery lists what the provider does.
func (p *Provider) protocol(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		switch {
		case path == "/.well-known/openid-configuration", path == "/.well-known/oauth-authorization-server":
			p.discovery(w, r)
			return
		case path == "/oidc/authorize", path == "/oidc/authorize/callback":
			w = &issuerOnAnswer{ResponseWriter: w, issuer: p.issuer}
		case path == "/oidc/userinfo":
			noStore(w)
			p.userinfoEndpoint(w, r)
			return
		case postOnly[path]:
			noStore(w)
			if r.Method != http.MethodPost {
				w.Header().Set("Allow", http.MethodPost)
				httphelper.MarshalJSONWithStatus(w, oidc.ErrInvalidRequest().WithDescription("this endpoint takes POST only"),
					http.StatusMethodNotAllowed)
				return
			}
			if _, _, basic := r.BasicAuth(); basic {
				w = &basicChallenge{ResponseWriter: w}
			}
			if path == "/oidc/revoke" && !p.revocationRequest(w, r) {
				return
			}
			if path == "/oidc/introspect" {
				if p.introspectionRequest(w, r) {
					p.introspect(w, r)
				}
				return
			}
			if path == "/oidc/token" {
				if v := r.PostFormValue("code_verifier"); v != "" && !verifierForm(v) {
					httphelper.MarshalJSONWithStatus(w, oidc.ErrInvalidGrant().WithDescription(
						"code_verifier must be 43 to 128 characters among A-Z a-z 0-9 - . _ ~ (RFC 7636 4.1)"), http.StatusBadRequest)
					return
				}
				if r.PostFormValue("grant_type") == string(oidc.GrantTypeCode) {
					if err := p.codeClient(r); err != nil {
						op.RequestError(w, r, err, nil)
						return
					}
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// basicChallenge adds, to a 401 answer, the challenge of the scheme the
// client authenticated with.
type basicChallenge struct{ http.ResponseWriter }

func (b *basicChallenge) WriteHeader(status int) {
	if status == http.StatusUnauthorized {
		b.Header().Set("WWW-Authenticate", `Basic realm="equipe", charset="UTF-8"`)
	}
	b.ResponseWriter.WriteHeader(status)
}

func (b *basicChallenge) Unwrap() http.ResponseWriter { return b.ResponseWriter }

// introspectionRequest readies an introspection request for introspect,
// and answers false when it has answered it. op takes a client's secret by
// HTTP Basic alone, where the token endpoint also takes it in the form
// (client_secret_post): a client authenticates at both the same way, as
// discovery says, its secret passed on to op in the header. A request
// without a token is answered invalid_request once its client
// authenticated (RFC 7662 2.1 requires the parameter); one whose client
// does not is left to introspect's 401.
func (p *Provider) introspectionRequest(w http.ResponseWriter, r *http.Request) bool {
	if _, _, basic := r.BasicAuth(); !basic {
		if id, secret := r.PostFormValue("client_id"), r.PostFormValue("client_secret"); id != "" && secret != "" {
			r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		}
	}
	if r.PostFormValue("token") != "" {
		return true
	}
	if _, _, err := op.ParseTokenIntrospectionRequest(r, p.op); err != nil {
		return true
	}
	httphelper.MarshalJSONWithStatus(w, oidc.ErrInvalidRequest().WithDescription("the token parameter is required (RFC 7662 2.1)"),
		http.StatusBadRequest)
	return false
}

// revocationRequest refuses a revocation request of an authenticated
// client that names no token (RFC 7009 2.1 requires it), with
// invalid_request (2.2.1), and reports whether the request goes on: op
// answers it 200, as it answers a token it does not know, so a client that
// named its token otherwise (refresh_token=…) would believe it revoked. A
// client that does not authenticate goes on, and op answers it 401.
func (p *Provider) revocationRequest(w http.ResponseWriter, r *http.Request) bool {
	if r.PostFormValue("token") != "" {
		return true
	}
	if _, _, _, err := op.ParseTokenRevocationRequest(r, p.op); err != nil {
		return true
	}
	httphelper.MarshalJSONWithStatus(w, oidc.ErrInvalidRequest().WithDescription("the token parameter is required (RFC 7009 2.1)"),
		http.StatusBadRequest)
	return false
}

// discovery answers op's discovery document, less what op lists and the
// provider does not do: the implicit flow and its response types, the
// device flow, JWT client authentication and assertions.
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	d := op.CreateDiscoveryConfig(r.Context(), p.op, p)
	d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	d.ResponseModesSupported = []string{"query", "fragment"}
	d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	d.DeviceAuthorizationEndpoint = ""
	d.TokenEndpointAuthSigningAlgValuesSupported = nil
	d.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
	d.RevocationEndpointAuthSigningAlgValuesSupported = nil
	d.RequestParameterSupported = false
	d.RequestURIParameterSupported = false
	d.ClaimsSupported = supportedClaims
	d.IntrospectionEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost}
	// RFC 9207, which op's document has no member for.
	b, err := json.Marshal(d)
	var doc map[string]any
	if err == nil {
		err = json.Unmarshal(b, &doc)
	}
	if err != nil {
		httphelper.MarshalJSONWithStatus(w, oidc.ErrServerError(), http.StatusInternalServerError)
		return
	}
	doc["authorization_response_iss_parameter_supported"] = true
	httphelper.MarshalJSON(w, doc)
}

// userinfoEndpoint answers the userinfo endpoint as op does, but for its errors,
// which follow RFC 6750 3.1: 401 with a WWW-Authenticate challenge, with
// invalid_token when the token does not verify or no longer acts; and a
// token in the URL's query (RFC 6750 2.3, which servers may refuse) is 400
// invalid_request: a URL is written to logs, histories and Referer
// headers, and no credential of the service travels in one.
func (p *Provider) userinfoEndpoint(w http.ResponseWriter, r *http.Request) {
	challenge := func(status int, code, description string) {
		c := `Bearer realm="equipe"`
		if code != "" {
			c += `, error="` + code + `", error_description="` + description + `"`
		}
		w.Header().Set("WWW-Authenticate", c)
		if code == "" {
			w.WriteHeader(status)
			return
		}
		httphelper.MarshalJSONWithStatus(w, map[string]string{"error": code, "error_description": description}, status)
	}
	if r.URL.Query().Has("access_token") {
		challenge(http.StatusBadRequest, "invalid_request",
			"send the access token in the Authorization header (or the form body of a POST), never in the URL")
		return
	}
	token, err := op.ParseUserinfoRequest(r, p.op.Decoder())
	if err != nil || token == "" {
		challenge(http.StatusUnauthorized, "", "")
		return
	}
	claims, err := op.VerifyAccessToken[*oidc.AccessTokenClaims](r.Context(), token, p.op.AccessTokenVerifier(r.Context()))
	if err != nil {
		challenge(http.StatusUnauthorized, "invalid_token", "the access token is not valid")
		return
	}
	info := new(oidc.UserInfo)
	if err := p.SetUserinfoFromToken(r.Context(), info, claims.JWTID, claims.Subject, r.Header.Get("Origin")); err != nil {
		description := "the access token no longer acts"
		if oe, ok := err.(*oidc.Error); ok && oe.Description != "" {
			description = strings.ReplaceAll(oe.Description, `"`, "'")
		}
		challenge(http.StatusUnauthorized, "invalid_token", description)
		return
	}
	httphelper.MarshalJSON(w, info)
}

// verifierForm reports whether v has the form of a PKCE code verifier: 43
// to 128 unreserved characters (RFC 7636 4.1), as every client library
// makes them; anything shorter is guessable.
func verifierForm(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range []byte(v) {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// issuerOnAnswer adds the issuer (iss) to an authorization response that
// sends the browser back to the client with a code or an error, as RFC 9207
// says, in the query or the fragment that holds them: a client that signs
// people in with several providers tells whose answer it got.
type issuerOnAnswer struct {
	http.ResponseWriter
	issuer string
}

func (i *issuerOnAnswer) WriteHeader(status int) {
	if status == http.StatusFound || status == http.StatusSeeOther {
		if to, err := url.Parse(i.Header().Get("Location")); err == nil && to.IsAbs() {
			add := func(v url.Values) bool {
				if (v.Has("code") || v.Has("error")) && !v.Has("iss") {
					v.Set("iss", i.issuer)
					return true
				}
				return false
			}
			if q := to.Query(); add(q) {
				to.RawQuery = q.Encode()
				i.Header().Set("Location", to.String())
			} else if f, err := url.ParseQuery(to.Fragment); err == nil && add(f) {
				to.Fragment, to.RawFragment = "", ""
				i.Header().Set("Location", to.String()+"#"+f.Encode())
			}
		}
	}
	i.ResponseWriter.WriteHeader(status)
}

func (i *issuerOnAnswer) Unwrap() http.ResponseWriter { return i.ResponseWriter }

// codeClient authenticates the client of an authorization_code grant
// before op looks its code up, which op does first: a caller that is no
// client, or fails to authenticate as one, is answered invalid_client (RFC
// 6749 5.2) whatever the code, and learns nothing of it. A confidential
// client must authenticate (RFC 6749 4.1.3), by HTTP Basic or in the form;
// a public one names itself, and its PKCE verifier, which op checks,
// stands for its authentication (a secret it sends, or the empty one of
// HTTP Basic, is ignored, as op ignores it). op authenticates the client
// again, and checks that the code is its.
func (p *Provider) codeClient(r *http.Request) error {
	ctx := r.Context()
	id, secret, basic := r.BasicAuth()
	if basic {
		var err error
		if id, err = url.QueryUnescape(id); err != nil {
			return oidc.ErrInvalidClient().WithDescription("invalid basic auth header")
		}
		if secret, err = url.QueryUnescape(secret); err != nil {
			return oidc.ErrInvalidClient().WithDescription("invalid basic auth header")
		}
	} else {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	if id == "" {
		return oidc.ErrInvalidClient().WithDescription("the client must authenticate, or name itself with client_id")
	}
	c, err := p.GetClientByClientID(ctx, id)
	if err != nil {
		return err
	}
	if c.AuthMethod() == oidc.AuthMethodNone {
		return nil
	}
	return p.AuthorizeClientIDSecret(ctx, id, secret)
}
