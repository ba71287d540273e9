// Package middleware guards protected routes.
//
// A [Guard] takes the session token from an "Authorization: Bearer" header
// or from the session cookie kept by [Cookies], validates it (its shape
// first, then one store lookup) and puts the [Principal] in the request's
// context, read back with [FromContext]. Guards can be scoped to a project:
// a session of project A never opens project B.
//
// [Guard.Handler] is a func(http.Handler) http.Handler, so it mounts on any
// router; [Guard.Optional] lets anonymous requests through with no
// principal, for pages that show either a form or the user.
//
// Denials answer JSON with a stable code: 401 missing_token or
// invalid_token, 403 wrong_project, and 503 store_unavailable when the store
// fails. A failing store never lets a request through.
//
// [Apps] guards server-to-server calls with app credentials (an id and a
// secret in headers, HTTP Basic or a query parameter), kept hashed and
// compared in constant time.
package middleware
