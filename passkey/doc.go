// Package passkey is gatehouse's WebAuthn passkeys, on
// github.com/go-webauthn/webauthn: registration, a passkey as the second
// factor after a password ([Manager.BeginLogin], [Manager.FinishLogin]),
// and a passwordless login by passkey alone ([Manager.BeginPasswordless],
// [Manager.FinishPasswordless]).
//
// What it guarantees, on every store gatehouse ships (memory, Redis,
// Redis Cluster):
//
//   - Each ceremony's challenge is a one-time token (store.KindChallenge):
//     the challenge bytes are the token text, so the response's
//     clientDataJSON names it, and finishing consumes it atomically. A
//     challenge passes once, for the subject and the ceremony it was
//     issued for, within its lifetime (tokens.Config.ChallengeTTL).
//   - User verification, the key's algorithm, the origin, the RP ID hash
//     and the ceremony type are checked on the server, never left to the
//     browser's say-so.
//   - A signature counter that does not go up refuses the login
//     ([ErrCloneDetected]) and is audited as passkey.clone_warning.
//   - Responses are bounded in size and parsed without panics; each
//     refusal is an error with a stable code (see docs/errors.md).
//
// Passkeys live in the app's storage ([Credentials], the method set of
// mfa.Factors), one blob per subject. The subject is the WebAuthn user
// handle: an opaque id of at most 64 bytes, never an email address.
//
// passkey imports store, tokens, audit and problem; auth and mfa call it,
// not the other way round. Package passkeytest is a virtual authenticator
// for tests.
package passkey
