// Package mfa is gatehouse's second factors: TOTP (RFC 6238) and recovery
// codes, behind one [Manager] that the login flow calls after the
// password (auth's second step) and the account pages call to enrol.
//
// What it guarantees, on every store gatehouse ships (memory, Redis,
// Redis Cluster):
//
//   - TOTP secrets of at least 160 bits, read with io.ReadFull from
//     crypto/rand; an otpauth:// URI and a QR code PNG to enrol, confirmed
//     by a first code ([Manager.Enroll], [Manager.ConfirmEnroll]).
//   - A code of the current step or one either side, compared in constant
//     time, accepted once: the step it used, and every earlier one, is
//     burned atomically in the store ([Manager.Verify]).
//   - Ten recovery codes of 80 bits, shown once, kept as hashes, each
//     usable once through a compare-and-swap of the app's storage
//     ([Manager.RecoveryCodes], [Manager.UseRecoveryCode]).
//   - An attempt limit of the second factor's own, per account, that
//     wrong TOTP and recovery codes both count toward ([LockedError]).
//   - Factor secrets at rest in the app's storage ([Factors]) only sealed
//     with AES-256-GCM under the app's keys, which rotate ([Keyring]).
//
// Errors implement problem.Problemer with stable codes: malformed_code,
// invalid_code, code_reused, mfa_locked, not_enrolled, already_enrolled
// (see docs/errors.md). docs/mfa.md maps each advisory of the peers to
// the test that would have caught it.
//
// mfa imports store, not auth: auth calls it as a second factor.
package mfa
