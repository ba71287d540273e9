// Package middleware guards protected routes.
//
// A [Guard] takes the session token from an "Authorization: Bearer" header
// or from the session cookie kept by [Cookies], validates it (its shape
// first, then one store lookup) and puts the [Principal] in the request's
// context, read back with [FromContext]. Guards can be scoped to a project:
// a session of project A never opens project B.
//
// [Cookies] keeps one session token per project in one cookie, signed (and
// optionally encrypted) with gorilla/securecookie and read without
// allocating on a browser's repeat requests. It uses securecookie directly
// rather than a gorilla/sessions Store: the guard needs one typed value, not
// a registry of gob-encoded sessions, and a Store's cost (about 190
// allocations per request in bench/) would land on every cookie request.
// gorilla/sessions builds the Set-Cookie from its Options, as its own
// stores do.
//
// [Guard.Handler] is a func(http.Handler) http.Handler, so it mounts on any
// router; [Guard.Optional] lets anonymous requests through with no
// principal, for pages that show either a form or the user.
//
// A session presented as a cookie is one the browser attaches by itself,
// also to requests another site's page makes. So a cookie request with an
// unsafe method (POST, PUT, PATCH, DELETE) must come from the app's own
// origin, as http.CrossOriginProtection tells it from the browser's
// Sec-Fetch-Site or Origin header, or the guard refuses it (CSRF). Bearer
// tokens are not attached by browsers and are not checked;
// [GuardConfig.AllowCrossOriginCookies] turns the check off.
//
// Denials answer JSON with a stable code: 401 missing_token or
// invalid_token, 403 wrong_project or cross_origin, and 503
// store_unavailable when the store fails. A failing store never lets a
// request through.
//
// Step-up: [Principal] carries the session's assurance level and when the
// user authenticated; [RequireAssurance] (a [StepUp]) behind a guard
// refuses a session below a level, or authenticated too long ago, with 401
// insufficient_user_authentication and a challenge saying what is needed.
//
// [Apps] guards server-to-server calls with app credentials (an id and a
// secret in headers, HTTP Basic or a query parameter), kept hashed and
// compared in constant time.
package middleware
