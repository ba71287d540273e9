package tokens

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"time"

	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
)

// Errors returned for tokens the caller presented. Store failures are
// returned as they come, wrapping [store.ErrUnavailable].
var (
	// ErrMissing: the token text is empty (401 missing_token).
	ErrMissing = problem.New("tokens: no token", problem.Error{
		Status: http.StatusUnauthorized, Code: "missing_token", Message: "no token was presented"})
	// ErrMalformed: the text does not have the shape of a gatehouse token
	// (401 invalid_token). No store I/O was done.
	ErrMalformed = problem.New("tokens: malformed token", invalidToken)
	// ErrWrongKind: a well-formed token of another kind, a login token
	// presented as a session, say (401 invalid_token). No store I/O was done.
	ErrWrongKind = problem.New("tokens: token of the wrong kind", invalidToken)
	// ErrInvalid: unknown, expired, already used, or revoked (401
	// invalid_token). A store cannot tell these apart without keeping what
	// it promised to forget.
	ErrInvalid = problem.New("tokens: invalid or expired token", invalidToken)
	// ErrIdle: a session unused for its idle timeout ([Idle]); it has been
	// revoked (401 invalid_token, the answer of an expired one). It is not
	// [ErrInvalid]: errors.Is tells them apart.
	ErrIdle = problem.New("tokens: session idle past its idle timeout", invalidToken)
	// ErrReused: a device token that was already rotated was presented
	// again (401 token_reused). Its whole chain has been revoked.
	ErrReused = problem.New("tokens: reused token; its chain is revoked", problem.Error{
		Status: http.StatusUnauthorized, Code: "token_reused", Message: "the token was already used; sign in again"})
	// ErrTagMismatch: the token opened a record, but its routing tag is not
	// the record's subject's tag under this Manager's [Config.TagKey]. An
	// instance with another key issued it: instances of one app must share
	// one key, or this one cannot reach the subject's tokens to list or
	// revoke them ("log out everywhere" would end nothing). It is a
	// misconfiguration (or a key change), not the client's doing, so the
	// client gets 401 invalid_token and the operator an audit event,
	// token.tag_mismatch, from packages auth and middleware. It is not
	// [ErrInvalid]: errors.Is tells them apart.
	ErrTagMismatch = problem.New("tokens: the token's routing tag is not its subject's under this TagKey; "+
		"every instance of an app must share Config.TagKey", invalidToken)
)

// invalidToken is one answer for every token that opens nothing, so that a
// client cannot tell a malformed token from a revoked one.
var invalidToken = problem.Error{Status: http.StatusUnauthorized, Code: "invalid_token",
	Message: "the token is invalid or expired"}

// MinTagKeyLen is the shortest [Config.TagKey] New accepts: 32 bytes, the
// full strength of the HMAC-SHA256 it keys (NIST SP 800-107r1 asks an HMAC
// key of at least the security strength wanted).
const MinTagKeyLen = 32

// Config configures a [Manager]. The zero value of every field but Store
// and TagKey means its default.
type Config struct {
	// Store keeps the records. Required.
	Store store.Tokens
	// Now is the clock; default time.Now. Give the store the same clock.
	Now func() time.Time
	// TagKey keys the routing tag every token carries, an HMAC-SHA256 of
	// the subject. Required: a secret of at least MinTagKeyLen bytes
	// (such as 32 bytes from crypto/rand, or the text of
	// `openssl rand -base64 32`), kept with the app's other secrets. With
	// a key an outsider knows, the tag in any token or public
	// verification id tells which of a list of guessable user ids it
	// belongs to. Every instance of an app must use the same key: a token
	// issued under another key is refused with [ErrTagMismatch], because
	// this instance could not reach it to list or revoke it. Changing the
	// key therefore ends every token issued under the old one.
	TagKey []byte

	// Lifetimes per kind.
	SessionTTL      time.Duration // default 24 hours
	LoginTTL        time.Duration // one-time login tokens; default 5 minutes
	DeviceTTL       time.Duration // each device token; default 30 days
	DeviceChainTTL  time.Duration // a device chain from the password login; default 90 days
	VerificationTTL time.Duration // default 24 hours
	ResetTTL        time.Duration // password reset; default 1 hour
	AppTTL          time.Duration // app credentials; default 365 days
	// PendingTTL is how long a login waits for its second factor
	// (store.KindPending); default 5 minutes.
	PendingTTL time.Duration
	// ChallengeTTL is how long a WebAuthn ceremony may take
	// (store.KindChallenge); default 5 minutes, the WebAuthn
	// recommendation for a ceremony's timeout.
	ChallengeTTL time.Duration
	// TrustTTL is how long a browser trusted after a second factor is
	// not asked for it again (store.KindTrust): the absolute end of the
	// trust chain, counted from the login that passed the factor, and
	// the most each token of it lives; default 30 days.
	TrustTTL time.Duration
}

// Manager issues, validates, consumes, rotates and revokes tokens on top of
// a store. It is safe for concurrent use.
type Manager struct {
	store store.Tokens
	now   func() time.Time
	tags  *tagger
	// derive is the HMAC-SHA256 of DeriveKey, under Config.TagKey.
	derive func() hash.Hash
	ttl    [store.KindTrust + 1]time.Duration
	chain  time.Duration
}

// New checks cfg, fills in defaults and returns a Manager. It refuses a
// config without a Store or without a TagKey of MinTagKeyLen bytes.
func New(cfg Config) (*Manager, error) {
	if cfg.Store == nil {
		return nil, errors.New("tokens: Config.Store is nil")
	}
	switch n := len(cfg.TagKey); {
	case n == 0:
		return nil, errors.New("tokens: Config.TagKey is empty: give every instance of the app " +
			"the same secret of at least 32 bytes")
	case n < MinTagKeyLen:
		return nil, fmt.Errorf("tokens: Config.TagKey has %d bytes, want at least %d", n, MinTagKeyLen)
	}
	key := bytes.Clone(cfg.TagKey)
	m := &Manager{store: cfg.Store, now: cfg.Now, tags: newTagger(key),
		derive: func() hash.Hash { return hmac.New(sha256.New, key) }}
	if m.now == nil {
		m.now = time.Now
	}
	for _, d := range []struct {
		kind store.Kind
		set  time.Duration
		def  time.Duration
	}{
		{store.KindSession, cfg.SessionTTL, 24 * time.Hour},
		{store.KindLogin, cfg.LoginTTL, 5 * time.Minute},
		{store.KindDevice, cfg.DeviceTTL, 30 * 24 * time.Hour},
		{store.KindVerification, cfg.VerificationTTL, 24 * time.Hour},
		{store.KindReset, cfg.ResetTTL, time.Hour},
		{store.KindAppCredential, cfg.AppTTL, 365 * 24 * time.Hour},
		{store.KindPending, cfg.PendingTTL, 5 * time.Minute},
		{store.KindChallenge, cfg.ChallengeTTL, 5 * time.Minute},
		{store.KindTrust, cfg.TrustTTL, 30 * 24 * time.Hour},
	} {
		if d.set < 0 {
			return nil, fmt.Errorf("tokens: negative lifetime %v for %s tokens", d.set, d.kind)
		}
		m.ttl[d.kind] = d.def
		if d.set > 0 {
			m.ttl[d.kind] = d.set
		}
	}
	m.chain = 90 * 24 * time.Hour
	if cfg.DeviceChainTTL < 0 {
		return nil, fmt.Errorf("tokens: negative DeviceChainTTL %v", cfg.DeviceChainTTL)
	} else if cfg.DeviceChainTTL > 0 {
		m.chain = cfg.DeviceChainTTL
	}
	if m.chain < m.ttl[store.KindDevice] {
		m.ttl[store.KindDevice] = m.chain
	}
	return m, nil
}

// TTL returns the lifetime of newly issued tokens of the kind.
func (m *Manager) TTL(kind store.Kind) time.Duration { return m.ttl[kind] }

// Claims say whom and what a new token is for.
type Claims struct {
	Subject string // required
	Project string
	Device  string // required for device tokens
	// Family ties a session to the device chain it was issued from (the
	// Family of that device token's record), so that a replay of a spent
	// device token, which revokes the family, ends the session too.
	// Ignored for device tokens: each one issued starts a family of its own.
	Family string
	// AuthTime is when the subject proved a password; default now.
	AuthTime time.Time
	// Assurance is the authenticator assurance level the subject proved
	// (1: a password; 2: a password and a second factor); kept in
	// store.Record.Assurance and by every successor of a device chain.
	// Zero records none.
	Assurance uint8
}

// Issued is a new token and its record. Token is the only copy of the
// secret: hand it to the client and keep it out of logs.
type Issued struct {
	Token  string
	Record store.Record
}

// Issue creates a token of the kind for the claims. A device token starts a
// new chain and ends any other chain of the same (subject, device), so that
// a device holds one live re-authentication token.
func (m *Manager) Issue(ctx context.Context, kind store.Kind, c Claims) (Issued, error) {
	if !kind.Valid() {
		return Issued{}, fmt.Errorf("tokens: cannot issue a token of kind %d", kind)
	}
	if c.Subject == "" {
		return Issued{}, errors.New("tokens: Claims.Subject is empty")
	}
	now := m.now()
	rec := store.Record{
		Kind:      kind,
		Subject:   c.Subject,
		Project:   c.Project,
		Device:    c.Device,
		Family:    c.Family,
		IssuedAt:  now,
		ExpiresAt: now.Add(m.ttl[kind]),
		AuthTime:  c.AuthTime,
		Assurance: c.Assurance,
	}
	if rec.AuthTime.IsZero() {
		rec.AuthTime = now
	}
	tag := m.Tag(c.Subject)
	if kind == store.KindDevice {
		if c.Device == "" {
			return Issued{}, errors.New("tokens: a device token needs Claims.Device")
		}
		family, err := randomID()
		if err != nil {
			return Issued{}, err
		}
		rec.Family = family
		rec.ChainEnd = rec.AuthTime.Add(m.chain)
		if rec.ExpiresAt.After(rec.ChainEnd) {
			rec.ExpiresAt = rec.ChainEnd
		}
		if _, err := m.store.DeleteAll(ctx, tag, c.Subject, store.Filter{Kind: store.KindDevice, Device: c.Device}); err != nil {
			return Issued{}, err
		}
	}
	if kind == store.KindTrust {
		// A chain of its own, ending TrustTTL after the login that
		// passed the second factor, however often it is rotated.
		family, err := randomID()
		if err != nil {
			return Issued{}, err
		}
		rec.Family = family
		rec.ChainEnd = rec.AuthTime.Add(m.ttl[store.KindTrust])
		if rec.ExpiresAt.After(rec.ChainEnd) {
			rec.ExpiresAt = rec.ChainEnd
		}
	}
	if !rec.ExpiresAt.After(now) {
		return Issued{}, ErrInvalid // a chain whose absolute lifetime is over
	}
	tok, err := generate(kind, tag)
	if err != nil {
		return Issued{}, err
	}
	id := store.ID{Tag: tag, Hash: hashToken(tok)}
	if err := m.store.Put(ctx, id, rec); err != nil {
		return Issued{}, err
	}
	return Issued{Token: tok, Record: rec}, nil
}

// Validate returns the record of a live token of the kind, without
// changing it: the hot path of every authenticated request. Garbage is
// rejected before any store I/O. A token issued under another TagKey is
// [ErrTagMismatch].
func (m *Manager) Validate(ctx context.Context, kind store.Kind, token string) (store.Record, error) {
	_, rec, err := m.lookup(ctx, kind, token, m.store.Get)
	return rec, err
}

// ValidateID is Validate that also returns the ID the token is stored
// under, for a caller that names the token publicly (PublicID): the
// middleware's guard, for the session id on its principal.
func (m *Manager) ValidateID(ctx context.Context, kind store.Kind, token string) (store.ID, store.Record, error) {
	return m.lookup(ctx, kind, token, m.store.Get)
}

// Idle is an idle timeout: a token unused for Timeout ends, however long
// its absolute lifetime still runs. The zero Idle is none.
type Idle struct {
	// Timeout ends a token that was not used for this long, measured
	// from its last touch (store.Record.Seen). Zero: no idle timeout.
	Timeout time.Duration
	// TouchInterval is how stale the last touch may be before a use
	// writes a new one: a token used more often than this costs one
	// store write per interval, every other use none. The timeout is
	// kept to within one interval (a token may end up to TouchInterval
	// early). It must be positive and below Timeout when Timeout is set.
	TouchInterval time.Duration
}

// Check returns the mistake in idle, if any: negative durations, a
// TouchInterval without a Timeout, or a Timeout without a TouchInterval
// shorter than it.
func (idle Idle) Check() error {
	switch {
	case idle.Timeout < 0 || idle.TouchInterval < 0:
		return fmt.Errorf("tokens: negative idle timeout %v or touch interval %v", idle.Timeout, idle.TouchInterval)
	case idle.Timeout == 0 && idle.TouchInterval != 0:
		return fmt.Errorf("tokens: touch interval %v without an idle timeout", idle.TouchInterval)
	case idle.Timeout > 0 && (idle.TouchInterval == 0 || idle.TouchInterval >= idle.Timeout):
		return fmt.Errorf("tokens: touch interval %v is not between 0 and the idle timeout %v", idle.TouchInterval, idle.Timeout)
	}
	return nil
}

// ValidateIdle is ValidateID for a token with an idle timeout. A token
// last seen idle.Timeout ago or longer is revoked and refused with
// [ErrIdle]. A token last seen idle.TouchInterval ago or longer is
// touched (store.Toucher: one write, which concurrent requests do not
// repeat), and the record returned carries its new LastSeen. Any other
// use writes nothing: one lookup, as Validate. With the zero Idle it is
// ValidateID. A store that fails to touch fails the validation (fail
// closed); one that fails to revoke does not change the refusal.
func (m *Manager) ValidateIdle(ctx context.Context, kind store.Kind, token string, idle Idle) (store.ID, store.Record, error) {
	id, rec, err := m.lookup(ctx, kind, token, m.store.Get)
	if err != nil || idle.Timeout <= 0 {
		return id, rec, err
	}
	now := m.now()
	idleFor := now.Sub(rec.Seen())
	if idleFor >= idle.Timeout {
		// Best effort: the next use finds it idle again and retries.
		_, _ = m.store.Delete(ctx, id)
		return store.ID{}, store.Record{}, ErrIdle
	}
	if idleFor >= idle.TouchInterval {
		touched, err := m.store.Touch(ctx, id, idle.TouchInterval)
		if err != nil {
			return store.ID{}, store.Record{}, err
		}
		if touched {
			rec.LastSeen = now
		}
	}
	return id, rec, nil
}

// PublicIDLen is the length of a PublicID.
const PublicIDLen = 22

// PublicID is the public name of the token stored under id: the
// base64url of the first 16 bytes of the token's SHA-256 (the hash the
// store keys it by). It lets a user list their sessions and end one of
// them without seeing any token: it is not the token, and finding a token
// from it is finding a SHA-256 preimage.
func PublicID(id store.ID) string {
	return base64.RawURLEncoding.EncodeToString(id.Hash[:16])
}

// RevokePublic ends the subject's live token of the kind whose PublicID is
// public and returns its record, or reports false when the subject has no
// such token (another subject's is never touched). It lists the subject's
// tokens of the kind: one store call, and one more to delete.
func (m *Manager) RevokePublic(ctx context.Context, subject string, kind store.Kind, public string) (store.Record, bool, error) {
	if len(public) != PublicIDLen {
		return store.Record{}, false, nil
	}
	items, err := m.List(ctx, subject, store.Filter{Kind: kind})
	if err != nil {
		return store.Record{}, false, err
	}
	for _, it := range items {
		if PublicID(it.ID) == public {
			ok, err := m.store.Delete(ctx, it.ID)
			return it.Record, ok, err
		}
	}
	return store.Record{}, false, nil
}

// Consume returns the record of a live one-time token of the kind and
// deletes it: of concurrent calls for one token exactly one succeeds. A
// token issued under another TagKey is [ErrTagMismatch], and spent all
// the same.
func (m *Manager) Consume(ctx context.Context, kind store.Kind, token string) (store.Record, error) {
	_, rec, err := m.lookup(ctx, kind, token, m.store.Consume)
	return rec, err
}

// lookup parses the token and reads its record with op (Get or Consume): a
// miss, or a record of another kind, is ErrInvalid; a record whose
// subject's tag is not the token's is ErrTagMismatch.
func (m *Manager) lookup(ctx context.Context, kind store.Kind, token string,
	op func(context.Context, store.ID) (store.Record, bool, error)) (store.ID, store.Record, error) {
	id, err := parse(kind, token)
	if err != nil {
		return store.ID{}, store.Record{}, err
	}
	rec, ok, err := op(ctx, id)
	if err != nil {
		return store.ID{}, store.Record{}, err
	}
	if !ok || rec.Kind != kind {
		return store.ID{}, store.Record{}, ErrInvalid
	}
	if !m.tagged(id.Tag, rec.Subject) {
		return store.ID{}, store.Record{}, ErrTagMismatch
	}
	return id, rec, nil
}

// tagged reports whether tag is the subject's under this Manager's key.
// The store keeps a record under the tag its token carries, so the tag
// alone would let any key validate it; this check, one HMAC, is what makes
// a foreign key fail loudly instead of leaving the subject's tokens out of
// every List and RevokeAll.
func (m *Manager) tagged(tag, subject string) bool {
	want := m.tags.tag(subject)
	return string(want[:]) == tag
}

// Rotate spends a live device token and returns its successor, which keeps
// the chain (family) and its absolute end. Presenting a spent token
// revokes the whole chain and returns [ErrReused]; the subject's other
// devices are untouched. A token issued under another TagKey is
// [ErrTagMismatch]: it is spent and its successor removed.
func (m *Manager) Rotate(ctx context.Context, token string) (Issued, error) {
	return m.rotate(ctx, store.KindDevice, token)
}

// RotateTrust is Rotate for a trust token (store.KindTrust): it spends a
// live one and returns its successor in the same chain; a spent one
// revokes the chain and is [ErrReused]. A device token is ErrWrongKind,
// as a trust token is to Rotate.
func (m *Manager) RotateTrust(ctx context.Context, token string) (Issued, error) {
	return m.rotate(ctx, store.KindTrust, token)
}

func (m *Manager) rotate(ctx context.Context, kind store.Kind, token string) (Issued, error) {
	old, err := parse(kind, token)
	if err != nil {
		return Issued{}, err
	}
	next, err := generate(kind, old.Tag)
	if err != nil {
		return Issued{}, err
	}
	nextID := store.ID{Tag: old.Tag, Hash: hashToken(next)}
	r, err := m.store.Rotate(ctx, old, nextID, m.ttl[kind])
	if err != nil {
		return Issued{}, err
	}
	switch r.Status {
	case store.RotateDone:
		if !m.tagged(old.Tag, r.Record.Subject) {
			// Best effort: nobody holds the successor.
			_, _ = m.store.Delete(ctx, nextID)
			return Issued{}, ErrTagMismatch
		}
		return Issued{Token: next, Record: r.Record}, nil
	case store.RotateReused:
		return Issued{Record: r.Record}, ErrReused
	default:
		return Issued{}, ErrInvalid
	}
}

// Revoke ends one token of the kind. Revoking an unknown token is not an
// error: the outcome the caller wants holds.
func (m *Manager) Revoke(ctx context.Context, kind store.Kind, token string) error {
	id, err := parse(kind, token)
	if err != nil {
		return err
	}
	_, err = m.store.Delete(ctx, id)
	return err
}

// RevokeAll ends every live token of the subject that matches f (zero
// fields match anything) and reports how many it ended.
func (m *Manager) RevokeAll(ctx context.Context, subject string, f store.Filter) (int, error) {
	return m.store.DeleteAll(ctx, m.Tag(subject), subject, f)
}

// List returns the subject's live tokens that match f.
func (m *Manager) List(ctx context.Context, subject string, f store.Filter) ([]store.Item, error) {
	return m.store.List(ctx, m.Tag(subject), subject, f)
}

// Unissued returns a well-formed token of the kind for the subject that
// was never issued: validating it does the lookup a real token costs, and
// misses. It is for paths that must take the same time whether or not
// there is a real token, such as a password reset for an unknown address.
func (m *Manager) Unissued(kind store.Kind, subject string) (string, error) {
	return generate(kind, m.Tag(subject))
}

// DeriveKey returns a 32-byte key for purpose, derived from
// Config.TagKey (HMAC-SHA256 of "gatehouse derived key: " and purpose):
// every instance that shares the TagKey derives the same key, and no
// purpose's key tells anything of the TagKey or of another purpose's.
// Package auth signs its known-device proofs with one.
func (m *Manager) DeriveKey(purpose string) []byte {
	mac := m.derive()
	mac.Write([]byte("gatehouse derived key: " + purpose))
	return mac.Sum(nil)
}

// Tag returns the routing tag of the subject's tokens.
func (m *Manager) Tag(subject string) string {
	tag := m.tags.tag(subject)
	return string(tag[:])
}
