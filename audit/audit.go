// Package audit is how gatehouse reports what it decides: one event per
// authentication decision through log/slog, and the same decisions, with
// password-hashing and store timings, through a small Metrics interface
// that an app wires to its metrics system (Expvar here, Prometheus or
// OpenTelemetry in a few lines of its own).
//
// Events carry who and where (subject, project, device, client address)
// and why (a reason that is one of gatehouse's stable error codes), never
// a token, a password, or the login name a user typed, which can be a
// password typed into the wrong field.
package audit

import (
	"context"
	"log/slog"
	"time"
)

// Event names a decision. The names are stable: alert on them.
type Event string

// The events gatehouse records.
const (
	LoginSucceeded   Event = "login.succeeded"          // a password login passed
	LoginFailed      Event = "login.failed"             // wrong password, unknown, inactive or unconfirmed user
	LoginLocked      Event = "login.locked"             // refused because the account is locked
	LoginHeld        Event = "login.held"               // the account is held for this client: answered as a wrong password, not checked
	HashUnreadable   Event = "password.unreadable"      // an account's stored hash is one the Hasher cannot read: its logins fail (see password.Importing)
	TokenIssued      Event = "token.issued"             // a one-time, device or session token was issued
	TokenRedeemed    Event = "token.redeemed"           // a one-time token was spent
	TokenRejected    Event = "token.rejected"           // a one-time or device token was refused
	TokenRotated     Event = "token.rotated"            // a device token was exchanged for its successor
	TokenReused      Event = "token.reused"             // a spent device token came back: its chain was revoked
	TokenTagMismatch Event = "token.tag_mismatch"       // a token issued under another tokens.Config.TagKey: instances disagree on the key
	SessionRevoked   Event = "session.revoked"          // sessions ended: logout, deactivation, reset
	StoreUnavailable Event = "store.unavailable"        // the store failed; the request failed closed
	RateLimited      Event = "request.rate_limited"     // a request refused by a rate limit (package limit)
	CookieDuplicate  Event = "cookie.duplicate"         // two session cookies of one name: none was used (one may be planted)
	AccountCreated   Event = "account.created"          // a signup created an account (package account)
	SignupExisting   Event = "account.signup_existing"  // a signup named an address that has an account: its owner was mailed
	EmailConfirmed   Event = "account.email_confirmed"  // an address was confirmed, or changed to a confirmed new one
	PasswordChanged  Event = "account.password_changed" // a signed-in user changed their password; their other sessions ended
	AccountDeleted   Event = "account.deleted"          // a user deleted their account; every token of it ended
	MFAPassed        Event = "mfa.passed"               // a second-factor code passed (factor: totp or recovery)
	MFAFailed        Event = "mfa.failed"               // a second-factor code was refused: wrong, malformed, or nothing enrolled (reason)
	MFAReplayed      Event = "mfa.replayed"             // a right TOTP code of a step already used came back
	MFALocked        Event = "mfa.locked"               // refused: too many second-factor attempts on the account
	MFAEnrolled      Event = "mfa.enrolled"             // a TOTP was confirmed, or a new set of recovery codes made (factor)
	MFARemoved       Event = "mfa.removed"              // second factors were removed (factor: totp, or all)

	PasskeyRegistered   Event = "passkey.registered"    // a passkey was added to an account (credential)
	PasskeyPassed       Event = "passkey.passed"        // a passkey login passed (ceremony: passkey.get or passkey.discover)
	PasskeyFailed       Event = "passkey.failed"        // a passkey ceremony was refused (reason: the error code)
	PasskeyCloneWarning Event = "passkey.clone_warning" // a passkey's signature counter did not go up: a copied key?
	PasskeyRemoved      Event = "passkey.removed"       // a passkey was removed from an account (credential)

	OIDCStarted   Event = "oidc.started"   // a login with a provider began (provider)
	OIDCSucceeded Event = "oidc.succeeded" // a provider's login was verified (provider, issuer, subject: the provider's)
	OIDCFailed    Event = "oidc.failed"    // a provider's login was refused (provider, reason: the error code)

	IdentityLinked   Event = "account.identity_linked"   // a provider identity was linked to an account (subject, provider, issuer)
	IdentityUnlinked Event = "account.identity_unlinked" // a provider identity was unlinked from an account (subject, provider, issuer)
	SocialFailed     Event = "account.social_failed"     // a verified provider login was refused by the linking rules (provider, reason)
)

// Attribute keys of events.
const (
	KeyEvent   = "event"
	KeySubject = "subject"
	KeyProject = "project"
	KeyDevice  = "device"
	KeyClient  = "client" // the client's canonical network, such as "192.0.2.7/32" or "2001:db8::/64"
	KeyReason  = "reason" // a stable error code, such as "invalid_credentials"
	KeyKind    = "kind"   // a token kind, such as "login"
	KeyCount   = "count"  // how many tokens a revocation ended
	KeyOp      = "op"     // the operation that met a failing store
	KeyClass   = "class"  // a rate limit's class of endpoint, such as "login"
	KeyScope   = "scope"  // which limit refused: "client", "account" or "global"
	KeyFactor  = "factor" // a second factor's kind: "totp", "recovery" or "all"

	KeyCredential = "credential" // a passkey's credential ID, unpadded base64url (public, not a secret)
	KeyProvider   = "provider"   // a login provider's configured name, such as "google"
	KeyIssuer     = "issuer"     // an OpenID provider's issuer URL
	KeyCeremony   = "ceremony"   // a passkey ceremony: "passkey.create", "passkey.get" or "passkey.discover"
)

// Metrics receives counts and timings. Implementations must be safe for
// concurrent use and fast: they run on the request path.
type Metrics interface {
	// Count adds one to the counter of e.
	Count(e Event)
	// ObserveHash records how long one password hash or comparison took.
	ObserveHash(d time.Duration)
	// ObserveStore records one store call: its operation ("get",
	// "consume", ...), how long it took, and whether it failed.
	ObserveStore(op string, d time.Duration, failed bool)
}

// Recorder sends events to a logger and metrics, either of which may be
// nil. The nil *Recorder records nothing.
type Recorder struct {
	log     *slog.Logger
	metrics Metrics
}

// New returns a Recorder; with both arguments nil it records nothing.
func New(log *slog.Logger, m Metrics) *Recorder {
	if log == nil && m == nil {
		return nil
	}
	return &Recorder{log: log, metrics: m}
}

// Record logs e with attrs and counts it. Refusals that point at an attack
// or an outage (locked, reused, store unavailable, duplicate cookie) or a
// misconfiguration (tag mismatch) are warnings; the rest are info.
func (r *Recorder) Record(ctx context.Context, e Event, attrs ...slog.Attr) {
	if r == nil {
		return
	}
	if r.metrics != nil {
		r.metrics.Count(e)
	}
	if r.log == nil {
		return
	}
	level := slog.LevelInfo
	switch e {
	case LoginLocked, LoginHeld, HashUnreadable, TokenReused, TokenTagMismatch, StoreUnavailable, CookieDuplicate, MFAReplayed, MFALocked, PasskeyCloneWarning:
		level = slog.LevelWarn
	}
	if !r.log.Enabled(ctx, level) {
		return
	}
	r.log.LogAttrs(ctx, level, "gatehouse "+string(e), append([]slog.Attr{slog.String(KeyEvent, string(e))}, attrs...)...)
}

// ObserveHash passes a hash's duration to the metrics, if any.
func (r *Recorder) ObserveHash(d time.Duration) {
	if r != nil && r.metrics != nil {
		r.metrics.ObserveHash(d)
	}
}
