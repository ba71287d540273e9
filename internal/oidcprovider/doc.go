// Package oidcprovider runs an OpenID Provider inside a test, on a
// loopback port, for testing gatehouse's relying party end to end against
// a real implementation: zitadel's OpenID Certified library
// (github.com/zitadel/oidc/v3), behind an in-memory storage of our own.
//
// [Start] gives a [Provider] with discovery, the authorization code flow
// (PKCE S256 required unless [WithPKCEOptional]), client_secret_basic and
// client_secret_post, userinfo and a JWKS; no refresh tokens. Its login UI
// is a small HTML form (ids [UsernameField], [PasswordField],
// [LoginButton], [DenyButton]) that a browser can fill; Go tests use
// [Provider.Authorize], which follows the RP's authorization URL, logs in
// and answers the redirect to the RP's callback.
//
// The fault knobs make the provider misbehave the ways an RP must refuse:
// [Provider.RotateKeys] and [Provider.DropOldKeys]; [Provider.NextIDToken]
// with [WrongAudience], [Expired], [WrongNonce], [WrongIssuer],
// [WithoutEmailVerified] or any claim edit; [Provider.NextIDTokenSignedWith]
// an algorithm discovery does not advertise; [Provider.NextTokenResponse]
// and [Provider.NextTokenResponseNotJSON]; [Provider.BreakJWKS]. The ID
// token knobs re-sign what zitadel issued, so each leaves exactly one
// defect in the token.
//
// It is for tests only: nothing outside _test.go files imports it.
package oidcprovider
