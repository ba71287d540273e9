// Package proof holds the tests of gatehouse's reliability and security
// matrix (docs/security.md): each test is one row, named after it, and
// shows a property end to end, over HTTP, against real stores and real
// faults. It has no code of its own.
package proof
