// Package auth logs users in with a password and issues their sessions.
//
// The app owns its users and exposes them through [Users]. An
// [Authenticator] checks passwords (bcrypt by default) in a fair queue for a
// bounded number of concurrent hashes, counts every try in one store call
// per name typed and per account, each per client and for all clients,
// and locks past the limits of its [Lockout]; a client that logged in
// before (a known device) is not locked out by others. By default an
// unknown user and a wrong password cost the same and get the same answer;
// a locked account answers the same for right and wrong passwords and runs
// no hash at all. New passwords meet Config.PasswordPolicy (NIST SP
// 800-63B rev. 4 by default; [Authenticator.CheckNewPassword]).
//
// Beyond passwords, it issues and redeems the other tokens of a login:
//   - one-time login links for a project, for a back end that has
//     authenticated the user itself ([Authenticator.IssueLoginLink],
//     [Authenticator.RedeemLoginLink]);
//   - per-device re-authentication tokens, 30 days, rotated on every use;
//     a replayed one revokes its device's chain ([Authenticator.LoginDevice],
//     [Authenticator.ReAuthenticate], [Authenticator.Devices]);
//   - email verification, as a token or as a public id and secret value
//     pair ([Authenticator.SendEmailConfirmation], [Authenticator.IssueVerification]);
//   - password reset, answered alike for known and unknown addresses
//     ([Authenticator.RequestPasswordReset], [Authenticator.ConfirmPasswordReset]).
//
// Two-step login: with Config.SecondFactor (an *mfa.Manager), a right
// password of an account that has a second factor issues nothing but a
// pending token, answered as a [SecondFactorError] (401
// second_factor_required); [Authenticator.CompleteLogin] (or
// [Authenticator.CompleteLoginDevice], and [Authenticator.SecondStepHandler]
// over HTTP) checks the code and only then issues the session, at
// [AssuranceMultiFactor]; password-only sessions record
// [AssurancePassword]. middleware.RequireAssurance acts on the level.
//
// Accounts stay the app's: to deactivate one, the app sets User.Active to
// false and calls [Authenticator.Deactivate], which ends every token the
// user holds. Messages go out through the app's [Mailer]; a password reset
// goes to the address the account stores (User.Email), not the one typed.
//
// Logging out: [Authenticator.Logout] ends one session and, when the
// session came from a device's re-authentication chain, that chain, so
// the device cannot sign back in without the password
// ([Authenticator.LogoutKeepDevice] keeps it); [Authenticator.LogoutProject]
// ends one project's sessions; [Authenticator.LogoutEverywhere] ends every
// token of the user, of every kind. [Authenticator.Sessions] lists the
// user's sessions by public id (middleware.Principal.SessionID names the
// request's own), [Authenticator.RevokeSession] ends one of them and
// [Authenticator.RevokeOtherSessions] all but the caller's. When a password changes, save the new
// hash and call LogoutEverywhere: no session, device, login link,
// verification or reset link issued before the change outlives it
// ([Authenticator.ConfirmPasswordReset] does this itself).
//
// With Config.Logger set, every decision is an audit event (package audit):
// logins succeeded, failed and locked, tokens issued, redeemed, rotated and
// reused, sessions revoked, a store unavailable.
//
// [Authenticator.LoginHandler] and [Authenticator.LogoutHandler] serve JSON
// clients and, with [SessionCookies], browser forms guarded by
// http.CrossOriginProtection. Every error maps to an HTTP status and a
// stable code through [ProblemOf]; handlers answer them as
//
//	{"code": "invalid_credentials", "message": "invalid login or password"}
package auth
