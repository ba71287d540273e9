// Package oidc is gatehouse's OpenID Connect relying party, on
// golang.org/x/oauth2 and github.com/coreos/go-oidc/v3: "Log in with
// <provider>" as a flow in, an [Identity] (issuer, subject, email) out.
//
// An app calls [RP.Begin] from its login button's handler and
// [RP.Finish] from its callback, then links the identity to an account
// and issues a session (package auth will take an Identity as it takes a
// passwordless proof). What it guarantees, on every store gatehouse ships
// (memory, Redis, Redis Cluster):
//
//   - The authorization code flow with PKCE S256, always.
//   - The state is a one-time token (store.KindChallenge, five minutes by
//     default), consumed atomically at the callback: it passes once. Its
//     record names the provider and the hash of a random value in a
//     __Host- cookie: a state carried to another browser fails.
//   - The nonce and the PKCE verifier are derived from the state with a
//     key of tokens.Manager.DeriveKey: nothing secret is stored.
//   - The ID token is verified by go-oidc: signature against the
//     provider's JWKS (cached, refetched on an unknown key id, so key
//     rotation just works), only with the algorithms the provider
//     advertises, issuer, audience, expiry; then the nonce. A missing
//     email_verified is false.
//   - The post-login target is checked against an allowlist at Begin.
//   - Bad input never panics; each refusal has a stable code (see
//     docs/errors.md) and an audit event, never with a token in it.
//
// Providers are discovered lazily, at their first flow, and cached: an
// app starts while a provider is down. Plain OAuth2 providers (GitHub)
// map their user API to an Identity with a [UserMapper]; see
// [GitHubMapper].
//
// Account linking is not here: the app owns linked identities, and must
// link on (Issuer, Subject) only, never on Email or a user name. A
// provider's email, even verified, is not proof that the user owns an
// existing account with that address at this app: linking to one needs
// that account's owner to prove it (log in, or a mailed confirmation).
//
// oidc imports store, tokens, audit, limit, clientaddr and problem; never
// auth, account or middleware.
package oidc
