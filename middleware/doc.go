// Package middleware guards protected routes.
//
// A [Guard] takes the session token from an "Authorization: Bearer" header
// or from the session cookie kept by [Cookies], validates it (its shape
// first, then one store lookup) and puts the [Principal] in the request's
// context, read back with [FromContext]. Guards can be scoped to a project:
// a session of project A never opens project B.
//
// Denials answer JSON with a stable code: 401 missing_token or
// invalid_token, 403 wrong_project, and 503 store_unavailable when the store
// fails. A failing store never lets a request through.
package middleware
