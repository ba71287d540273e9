// Package bench measures gatehouse's request validation beside its peers
// (scs, gorilla/sessions, golang-jwt) and a hand-written floor, through one
// harness: a valid credential on a prebuilt request goes through ServeHTTP
// into a no-op handler. It is a module of its own so that the peers never
// enter the library's go.mod. Run everything with `make bench` at the
// repository root; see docs/performance.md.
package bench
