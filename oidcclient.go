package equipe

import "time"

// OIDCClient is an application that signs people in with equipe through
// OpenID Connect, registered by an instance administrator. Its ID is the
// client_id. A confidential client authenticates with a secret, kept only
// as SecretHash; a public client (a browser or native application) has
// none and must use PKCE. A first-party client is trusted: people are not
// asked to consent to it.
type OIDCClient struct {
	ID                   ID
	Name                 string
	RedirectURIs         []string // matched exactly
	PostLogoutURIs       []string // matched exactly
	BackchannelLogoutURI string   // "" for none
	Public               bool
	FirstParty           bool
	Scopes               []string // the scopes it may ask
	SecretHash           []byte   // SHA-256 of the secret; nil for a public client
	SecretPrefix         string   // the secret's first characters, to recognise it
	CreatedAt            time.Time
	UpdatedAt            time.Time
}
