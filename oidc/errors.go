package oidc

import (
	"errors"
	"net/http"

	"github.com/gatehouse-go/gatehouse/problem"
)

// Errors a flow answers the client with. Each has a stable code (see
// docs/errors.md); match them with errors.Is. A store failure is returned
// as it comes (wrapping store.ErrUnavailable) and fails the flow closed; a
// rate limit is a *limit.Error (429).
var (
	// ErrInvalidCallback: the callback's query is not one a provider sends:
	// state or code missing, a parameter given twice, a value over its
	// bound, a query that does not parse: 400 invalid_callback. Refused
	// before any store I/O when the state is missing or malformed.
	ErrInvalidCallback = problem.New("oidc: invalid callback parameters", problem.Error{
		Status: http.StatusBadRequest, Code: "invalid_callback",
		Message: "the login callback is not valid; start the login again"})

	// ErrInvalidState: the state is not a live flow of this browser:
	// unknown, already used, expired, or started in another browser (its
	// binding cookie is missing or another): 401 invalid_state. A state
	// that opened a record is spent all the same.
	ErrInvalidState = problem.New("oidc: invalid or expired state", problem.Error{
		Status: http.StatusUnauthorized, Code: "invalid_state",
		Message: "the login is invalid or has expired; start it again"})

	// ErrProviderError: the provider answered the authorization request
	// with an error (the user declined, say): 401 provider_error. The
	// provider's own text is never shown to the client: it is the
	// provider's to word and an attacker's to forge.
	ErrProviderError = problem.New("oidc: the provider refused the login", problem.Error{
		Status: http.StatusUnauthorized, Code: "provider_error",
		Message: "the login provider did not complete the login"})

	// ErrIssuerMismatch: the callback's iss parameter (RFC 9207) names
	// another issuer than the one the flow was started with: a mix-up
	// attack, or a misconfiguration: 401 issuer_mismatch.
	ErrIssuerMismatch = problem.New("oidc: callback from another issuer", problem.Error{
		Status: http.StatusUnauthorized, Code: "issuer_mismatch",
		Message: "the login came back from another provider"})

	// ErrCodeRejected: the provider's token endpoint refused the code
	// (invalid_grant: used, expired, or the PKCE verifier does not match):
	// 401 code_rejected.
	ErrCodeRejected = problem.New("oidc: authorization code rejected", problem.Error{
		Status: http.StatusUnauthorized, Code: "code_rejected",
		Message: "the login provider refused the login; start it again"})

	// ErrInvalidIDToken: the ID token failed verification: missing,
	// malformed, a bad signature or a key not in the provider's JWKS, an
	// algorithm the provider does not advertise, another issuer or
	// audience, expired, a nonce that is not the flow's, a userinfo
	// subject that is not the token's: 401 invalid_id_token.
	ErrInvalidIDToken = problem.New("oidc: invalid ID token", problem.Error{
		Status: http.StatusUnauthorized, Code: "invalid_id_token",
		Message: "the login provider's answer could not be verified"})

	// ErrProviderUnavailable: the provider could not be used: discovery,
	// the token endpoint, the JWKS or userinfo unreachable, failing, or
	// answering something that does not parse: 502 provider_unavailable.
	ErrProviderUnavailable = problem.New("oidc: provider unavailable", problem.Error{
		Status: http.StatusBadGateway, Code: "provider_unavailable",
		Message: "the login provider is not available; try again later"})

	// ErrUnknownProvider: Begin was asked for a provider not in
	// Config.Providers: 404 unknown_provider.
	ErrUnknownProvider = problem.New("oidc: unknown provider", problem.Error{
		Status: http.StatusNotFound, Code: "unknown_provider",
		Message: "no such login provider"})

	// ErrRedirectNotAllowed: the post-login target given to Begin is not
	// in Config.RedirectAllowlist (another site, a scheme-relative or
	// backslashed path, an encoded slash): 400 redirect_not_allowed, field
	// "next". Refused before anything is stored.
	ErrRedirectNotAllowed = problem.New("oidc: redirect target not allowed", problem.Error{
		Status: http.StatusBadRequest, Code: "redirect_not_allowed", Field: "next",
		Message: "the page to return to after login is not allowed"})
)

// errNoIdentity: a UserMapper returned an Identity without a Subject.
var errNoIdentity = errors.New("oidc: the user mapper returned no subject")
