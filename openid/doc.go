// Package openid is equipe's OpenID Connect provider ("Sign in with
// equipe"), built on github.com/zitadel/oidc's op package: its signing keys
// (keys.go), and the storage the provider reads and writes through the
// store. docs/oidc.md describes it for integrators.
package openid
