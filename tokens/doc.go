// Package tokens issues, validates, consumes, rotates and revokes the
// tokens gatehouse hands out, on top of a [store.Tokens].
//
// A token is 256 bits from crypto/rand, written as unpadded base64url behind
// a prefix that names its kind and a short routing tag:
//
//	ghs_k3p7_ZJ1h...   a session (ghs), one-time login (ghl), device
//	                   re-authentication (ghd), verification (ghv),
//	                   password reset (ghr) or app credential (gha) token
//
// A [Manager] checks a token's shape before any I/O (garbage never reaches
// the store), keeps only its SHA-256 at rest, and maps a store miss to
// [ErrInvalid]. One-time tokens are consumed atomically; device tokens are
// rotated on every use and a replay of a spent one revokes its chain
// ([ErrReused]), after RFC 9700 §4.14.2.
//
// The routing tag is an HMAC-SHA256 of the subject under [Config.TagKey], a
// secret the app gives (at least [MinTagKeyLen] bytes) and every instance
// shares: it keeps one subject's records together (one Redis Cluster slot)
// without naming the subject. A token whose tag is not its record's
// subject's under this key was issued by an instance with another key and
// is refused with [ErrTagMismatch], since this instance could not reach it
// to list or revoke it.
//
// Tokens are secrets: hand them to the client and never log them.
package tokens
