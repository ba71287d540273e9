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
// Tokens are secrets: hand them to the client and never log them.
package tokens
