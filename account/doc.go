// Package account serves the account lifecycle over HTTP, on top of
// package auth: signup without enumeration, login and logout (bearer or
// cookie), the current session, sessions and devices (list, revoke one,
// revoke the others), log out everywhere, email confirmation and change,
// forgotten and changed passwords, and account deletion; with
// Config.MFA, second factors (an authenticator app's TOTP and recovery
// codes, package mfa) and the second step of a login.
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
//
// # Pages
//
// [Account.Pages] serves the same lifecycle as server-rendered HTML for
// apps that are not single-page: login, signup, forgotten and reset
// password, email confirmation, an overview, change of password and of
// address, sessions and devices (revoke one, the others, or log out
// everywhere) and account deletion; with Config.MFA, the second step of
// a login and a security page that enrols an authenticator app (its QR
// code), shows recovery codes once, makes new ones and removes the app;
// with Config.Passkeys, passkeys on the login, second-step and security
// pages, by a small script of their own (passkey.js, the only script,
// served under script-src 'self'). They need Config.Cookies, work
// without JavaScript for all but passkeys, post/redirect/get with 303s, and refuse every POST
// from another origin (http.CrossOriginProtection). Errors are shown as
// sentences mapped from their stable codes, never as the request said
// them. A mailed link goes to the pages through [PageLink]; opening a
// confirmation link shows a button, and only pressing it spends the
// token, so that mail scanners that open links spend nothing.
//
// The templates are html/template files embedded in the package
// ([TemplateNames]: layout.html, one file per page, style.css). An app
// overrides any of them with Config.Templates, an fs.FS whose files of
// those names win; the others stay:
//
//	//go:embed mytemplates
//	var mine embed.FS
//	sub, _ := fs.Sub(mine, "mytemplates") // holds login.html, style.css
//	cfg.Templates = sub
//
// layout.html defines "layout", which places the page's "title" and
// "content"; each page file defines those two. Every template is executed
// with a [PageData]: links are written {{.Path}}/login, messages are
// {{.Error}} and {{.Notice}}. The templates are parsed by New, which
// reports a broken one.
package account
