// Package auth logs users in with a password and issues their sessions.
//
// The app owns its users and exposes them through [Users]. An
// [Authenticator] checks passwords with bcrypt under a bounded number of
// concurrent hashes, counts failed logins per account and per client in the
// store, and locks accounts past the limits of its [Lockout]. By default an
// unknown user and a wrong password cost the same and get the same answer;
// a locked account answers the same for right and wrong passwords and runs
// no hash at all.
//
// Accounts stay the app's: to deactivate one, the app sets User.Active to
// false and calls [Authenticator.Deactivate], which ends every token the
// user holds. Email confirmation goes through [Authenticator.SendEmailConfirmation]
// and the app's [Mailer]; [Authenticator.ConfirmEmail] redeems it once.
//
// [Authenticator.LoginHandler] and [Authenticator.LogoutHandler] serve JSON
// clients and, with [SessionCookies], browser forms guarded by
// http.CrossOriginProtection. Every error maps to an HTTP status and a
// stable code through [ProblemOf]; handlers answer them as
//
//	{"code": "invalid_credentials", "message": "invalid login or password"}
package auth
