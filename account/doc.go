// Package account serves the account lifecycle over HTTP, on top of
// package auth: signup without enumeration, login and logout (bearer or
// cookie), the current session, sessions and devices (list, revoke one,
// revoke the others), log out everywhere, email confirmation and change,
// forgotten and changed passwords, and account deletion.
//
// The app keeps its user table: the API reads it through [Users] and
// changes it through small optional interfaces ([Creator], [EmailSetter],
// [Deleter], auth.HashUpdater), discovered by type assertion; a route
// whose ability is missing answers 501 not_supported. [MemoryUsers] has
// them all, for tests and examples.
//
// Every route a stranger can call is rate limited (package limit, the
// Authenticator's Limiter by default) and answers alike whether or not an
// account exists; routes that change the account need the password again,
// through auth's login (lockout included); cookie-authenticated unsafe
// requests from another origin are refused. Errors are answered with the
// shared error table (docs/errors.md).
package account
