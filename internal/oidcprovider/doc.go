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
// and answers the redirect to the RP's callback, and [Provider.Deny],
// which cancels instead (error=access_denied).
//
// The fault knobs make the provider misbehave the ways an RP must refuse:
// [Provider.RotateKeys] and [Provider.DropOldKeys]; [Provider.NextIDToken]
// with [WrongAudience], [Expired], [WrongNonce], [WrongIssuer],
// [WithoutEmailVerified] or any claim edit; [Provider.NextIDTokenSignedWith]
// an algorithm discovery does not advertise; [Provider.NextTokenResponse]
// and [Provider.NextTokenResponseNotJSON]; [Provider.BreakJWKS];
// [Provider.NextUserinfo] and [Provider.NextDiscovery] with claim edits.
// The ID token knobs re-sign what zitadel issued, so each leaves exactly
// one defect in the token.
//
// In an RP's test:
//
//	p := oidcprovider.Start(t)
//	p.AddClient("app", "app-secret", rp.URL+"/oidc/callback")
//	p.AddUser(oidcprovider.User{Subject: "u1", Email: "ada@example.com", EmailVerified: true, Password: "pw"})
//	// configure the RP with p.Issuer(), "app", "app-secret"; then, with the
//	// browser's client (jar and all):
//	cb := p.Authorize(t, client, authURLFromTheRP, "ada@example.com", "pw")
//	resp, err := client.Get(cb.String()) // the RP's callback
//
//	p.NextIDToken(oidcprovider.WrongNonce) // the next login's ID token is refused
//
// Every authorization shows the login form: there is no provider session
// (no SSO, no prompt=none). Knobs that replace one token response count
// HTTP requests: golang.org/x/oauth2's AuthStyleAutoDetect retries a
// failed exchange with the credentials in the body, which takes a second
// response, so an RP under test should set its AuthStyle (discovery's
// token_endpoint_auth_methods_supported lists both).
//
// Outside tests, [Listen] runs the same provider on a loopback address
// until [Provider.Close], for an app's development mode only (the
// examples/social "Log in with Dev provider" button): passwords in the
// clear, everything in memory, plain HTTP. It is not an identity provider
// to deploy.
//
// zitadel logs refused requests with the default slog logger; they show in
// the output of a failing or -v test.
//
// It is for tests only: nothing outside _test.go files imports it.
package oidcprovider
