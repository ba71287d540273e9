package store

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-go/gatehouse/problem"
)

// ErrUnavailable is wrapped by every error a store returns when it cannot
// answer: a refused connection, a timeout, a cluster that is down. Callers
// treat it as "not authenticated" (fail closed) and answer 503
// store_unavailable.
var ErrUnavailable = problem.New("store: unavailable", problem.Error{
	Status: http.StatusServiceUnavailable, Code: "store_unavailable",
	Message: "the token store is unavailable; try again later"})

// ErrFull is returned when a store has reached its configured capacity and
// cannot take a new record (503 store_full). It wraps [ErrUnavailable], so
// code that fails closed on an unavailable store fails closed here too.
var ErrFull = problem.NewWrapping("store: full", problem.Error{
	Status: http.StatusServiceUnavailable, Code: "store_full",
	Message: "the token store is full; try again later"}, ErrUnavailable)

// Kind says what a token is for. The zero Kind matches any kind in a [Filter].
type Kind uint8

// The token kinds gatehouse issues.
const (
	KindSession       Kind = iota + 1 // a logged-in session, validated on every request
	KindLogin                         // a one-time login (handoff) token for one project
	KindDevice                        // a per-device re-authentication token, rotated on use
	KindVerification                  // a one-time email verification token
	KindReset                         // a one-time password reset token
	KindAppCredential                 // an app credential (API key)
	// KindPending is a login whose password was right and whose second
	// factor is still to come: short-lived, single use, it grants nothing
	// but the second step (auth.Authenticator.CompleteLogin). Its record
	// holds no secret: subject, project, the device it would sign in and
	// when the password was proved.
	KindPending
	// KindChallenge is a WebAuthn ceremony's challenge (passkey): short
	// lived, single use, bound to the ceremony and, but for a passwordless
	// login, to the subject. Consuming it is what makes an assertion or a
	// registration count once.
	KindChallenge
	// KindTrust is a browser's "don't ask for the second factor here"
	// token: born only from a login that passed its second factor, a
	// chain rotated on every use like a device token (a replay revokes
	// it), with an absolute end. It opens nothing by itself: a login
	// still needs the password.
	KindTrust
)

var kindNames = [...]string{"", "session", "login", "device", "verification", "reset", "app", "pending", "challenge", "trust"}

// String returns the kind's name, such as "session".
func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "unknown"
}

// Valid reports whether k is one of the kinds above.
func (k Kind) Valid() bool { return k >= KindSession && k <= KindTrust }

// ID names a stored token. Stores never see the token itself, only its hash.
type ID struct {
	// Tag is the routing tag the token carries: the same for every token of
	// one subject, so that a store sharded by key (Redis Cluster) keeps a
	// subject's tokens and index together. It is 1 to 16 characters of
	// [0-9a-z]; a store answers any other tag as a miss.
	Tag string
	// Hash is the SHA-256 of the token text.
	Hash [32]byte
}

// Record is what a store keeps about a token.
type Record struct {
	Kind    Kind
	Subject string // the user's stable id across projects; never empty
	Project string // the scope of a session or login token; "" for none
	Device  string // the device name of a device token (and its sessions)
	Family  string // the chain a device token belongs to; successors share it

	IssuedAt  time.Time
	ExpiresAt time.Time // the record is gone (a miss) from this instant on

	// ChainEnd, when set, is the absolute end of a rotation chain: Rotate
	// never gives a successor an expiry past it.
	ChainEnd time.Time
	// AuthTime is when the subject last proved a password; successors keep it.
	AuthTime time.Time
	// Assurance is the authenticator assurance level the subject proved;
	// successors keep it. Zero means none was recorded. Stores keep it as
	// they are given it; what each level means is the caller's (step-up
	// checks it against what a route requires).
	Assurance uint8
	// LastSeen is when the record was last touched ([Toucher]): a
	// session's last activity, to the precision of the touch interval
	// its caller uses. Zero means never touched; read it as IssuedAt.
	// Rotate gives a successor none.
	LastSeen time.Time
}

// Seen returns LastSeen, or IssuedAt when the record was never touched:
// the start of its current idle time.
func (r Record) Seen() time.Time {
	if r.LastSeen.IsZero() {
		return r.IssuedAt
	}
	return r.LastSeen
}

// Item is a listed record together with the ID it is stored under.
type Item struct {
	ID     ID
	Record Record
}

// Filter narrows the records of one subject. Zero fields match anything.
type Filter struct {
	Kind    Kind
	Project string
	Device  string
	Family  string
}

// Match reports whether r passes the filter.
func (f Filter) Match(r Record) bool {
	return (f.Kind == 0 || f.Kind == r.Kind) &&
		(f.Project == "" || f.Project == r.Project) &&
		(f.Device == "" || f.Device == r.Device) &&
		(f.Family == "" || f.Family == r.Family)
}

// RotateStatus is the outcome of [Tokens.Rotate].
type RotateStatus uint8

const (
	// RotateDone: the presented token was live; it is now spent and its
	// successor is stored.
	RotateDone RotateStatus = iota + 1
	// RotateMissing: no live or spent record under the presented ID
	// (unknown, expired, or revoked).
	RotateMissing
	// RotateReused: the presented token was already spent. Its whole family
	// (every live record of the subject with the same Family) was revoked.
	// A record with an empty Family has no family: its reuse revokes
	// nothing but is still reported.
	RotateReused
)

// Rotation reports what [Tokens.Rotate] did.
type Rotation struct {
	Status RotateStatus
	// Record is the successor when Status is RotateDone, and the presented
	// (spent) record when Status is RotateReused.
	Record Record
	// Revoked counts the live records deleted because of reuse.
	Revoked int
}

// Tokens keeps token records by the hash of the token. It is the sum of
// the small interfaces below, so that a store can offer part of it and a
// test can fake part of it; a caller that needs one ability takes the
// interface that names it.
//
// Every method is atomic and safe for concurrent use. A token that is
// unknown, expired, spent (for Get and Consume) or revoked is a miss: the
// zero Record, false, and a nil error. Errors are for failures only, and
// wrap [ErrUnavailable] (or are [ErrFull]).
//
// A record is a miss from the instant of its ExpiresAt on, by the store's
// clock, whether or not it has been swept yet. Every stored key expires:
// nothing lives forever.
//
// Caller mistakes are errors that do not wrap ErrUnavailable: an empty
// Subject or a bad Tag in Put, a lifetime or window of zero or less, a
// Rotate whose next has another Tag than old (which changes nothing).
type Tokens interface {
	Reader
	Writer
	Consumer
	Rotator
	Toucher
	SubjectIndex
}

// Reader looks a token record up: the hot path of every authenticated
// request.
type Reader interface {
	// Get returns the live record under id: one lookup, no writes. A
	// miss (unknown, expired, spent or revoked, or an id whose Tag is not
	// a [ValidRoutingTag]) is the zero Record, false and a nil error. An
	// error wraps [ErrUnavailable]: the store could not answer, and the
	// caller fails closed.
	Get(ctx context.Context, id ID) (Record, bool, error)
}

// Writer stores and removes single token records.
type Writer interface {
	// Put stores rec under id until rec.ExpiresAt and adds it to the
	// subject's index. An existing record under id is replaced; a rec
	// that has already expired only deletes it. It returns the error of
	// [CheckPut] for a caller mistake (changing nothing), [ErrFull] when
	// a capacity-bound store has no room, and an error wrapping
	// [ErrUnavailable] when the store cannot answer.
	Put(ctx context.Context, id ID, rec Record) error

	// Delete removes the record under id (live or spent) and reports
	// whether there was one that had not expired. A miss is false and a
	// nil error; an error wraps [ErrUnavailable].
	Delete(ctx context.Context, id ID) (bool, error)
}

// Consumer spends one-time tokens: login, verification, password reset.
type Consumer interface {
	// Consume returns the live record under id and deletes it, at once:
	// of any number of concurrent calls for one id, exactly one sees it.
	// A miss is the zero Record, false and a nil error; an error wraps
	// [ErrUnavailable], and the token must then be taken as not spent
	// by this call (it may be gone: the caller fails closed).
	Consume(ctx context.Context, id ID) (Record, bool, error)
}

// Rotator exchanges a device token for its successor.
type Rotator interface {
	// Rotate spends the live record under old and stores its successor
	// under next (which must carry the same Tag). The successor copies
	// Kind, Subject, Project, Device, Family, ChainEnd, AuthTime and
	// Assurance from old; it is issued now and expires after lifetime,
	// but never past old's ChainEnd. The spent record is kept so that a
	// replay is recognised: rotating a spent record revokes its family
	// and reports RotateReused. It is kept until its ChainEnd when that
	// is set and later than its own ExpiresAt, else until its ExpiresAt:
	// as long as a successor in its chain can be live, so that a thief who
	// rotated a stolen token and rotates on cannot outlast that token's
	// expiry and have its owner's late replay answered RotateMissing.
	// Delete counts a spent record as there while it is kept. Of
	// concurrent rotations of one live record exactly one is RotateDone.
	//
	// A missing old is a Rotation with Status RotateMissing and a nil
	// error. It returns the error of [CheckRotate] for a caller mistake
	// (changing nothing), [ErrFull] when a capacity-bound store has no
	// room for the successor, and an error wrapping [ErrUnavailable]
	// when the store cannot answer.
	Rotate(ctx context.Context, old, next ID, lifetime time.Duration) (Rotation, error)
}

// Toucher records that a session is in use, for an idle timeout: the
// caller reads [Record.Seen] from Get and refuses a session idle too
// long; Touch moves that instant on. It is a part of [Tokens], not an
// optional ability found by type assertion, so that a wrapper (the audit
// timer, a test's fault injector) cannot hide it and an idle timeout is
// never silently off.
type Toucher interface {
	// Touch sets the LastSeen of the live record under id to the store's
	// now, unless the record was seen ([Record.Seen]) less than
	// minInterval before now, and reports whether it wrote. It changes
	// nothing else: not the expiry, nor the key's time to live. Of
	// concurrent touches of one record within one minInterval at most one
	// writes. A miss (unknown, expired, spent or revoked, or a bad Tag) is
	// false and a nil error. A negative minInterval is a caller mistake:
	// an error that does not wrap ErrUnavailable, and nothing written.
	// Other errors wrap [ErrUnavailable].
	Touch(ctx context.Context, id ID, minInterval time.Duration) (bool, error)
}

// SubjectIndex reaches every record of one subject at once: "log out
// everywhere" and the list of a subject's sessions and devices. tag is
// the subject's routing tag; a tag that is not a [ValidRoutingTag] finds
// nothing (0 or nil, and a nil error). Errors wrap [ErrUnavailable].
type SubjectIndex interface {
	// DeleteAll removes every live record of the subject that matches f
	// and reports how many it removed. Records of other subjects, or that
	// do not match, are untouched. Spent records stay until they expire,
	// so a replay after "log out everywhere" is still recognised as reuse.
	DeleteAll(ctx context.Context, tag, subject string, f Filter) (int, error)

	// List returns the live records of the subject that match f, in no
	// particular order.
	List(ctx context.Context, tag, subject string, f Filter) ([]Item, error)
}

// Count is the state of a counter.
type Count struct {
	N       int64     // hits in the current window; 0 when there is none
	ResetAt time.Time // when the window ends and the counter is gone
}

// Counters keeps hit counters in fixed windows, such as failed logins.
//
// Every method is atomic and safe for concurrent use; errors are for
// failures only, as for [Tokens]. Keys are opaque to the caller's data: a
// store must not let a key reach its own key space unescaped.
type Counters interface {
	// Hit adds one to the counter and returns its new state. A counter
	// that does not exist starts a window of the given length; hits
	// within a window never move its end.
	Hit(ctx context.Context, key string, window time.Duration) (Count, error)

	// Peek returns the counter's state without adding to it: N is 0 when
	// there is no live counter.
	Peek(ctx context.Context, key string) (Count, error)

	// Reset deletes the counter.
	Reset(ctx context.Context, key string) error
}

// Store is everything gatehouse keeps: tokens, counters, rate limits and
// login attempts.
type Store interface {
	Tokens
	Counters
	Limits
	Attempts
}

// ValidRoutingTag reports whether tag has the syntax the contract gives
// a routing tag ([ID.Tag]): 1 to 16 characters of [0-9a-z]. Stores answer
// any other tag as a miss, so it never reaches a key. It says nothing of
// how the tag was made; package tokens issues a narrower shape.
func ValidRoutingTag(tag string) bool {
	if len(tag) == 0 || len(tag) > 16 {
		return false
	}
	for i := 0; i < len(tag); i++ {
		if c := tag[i]; (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// CheckPut returns the caller mistake in a Put call, if any: a tag that is
// not valid or a record without a subject. Stores call it first and change
// nothing when it fails.
func CheckPut(id ID, rec Record) error {
	switch {
	case !ValidRoutingTag(id.Tag):
		return fmt.Errorf("store: invalid tag %q", id.Tag)
	case rec.Subject == "":
		return errors.New("store: record without a subject")
	}
	return nil
}

// CheckTouch returns the caller mistake in a Touch call, if any: a
// negative minInterval. Stores call it first and change nothing when it
// fails.
func CheckTouch(minInterval time.Duration) error {
	if minInterval < 0 {
		return fmt.Errorf("store: touch with interval %v", minInterval)
	}
	return nil
}

// CheckRotate returns the caller mistake in a Rotate call, if any: a
// successor under another tag or under the same id, or a lifetime that
// is not positive. Stores call it first and change nothing when it fails.
func CheckRotate(old, next ID, lifetime time.Duration) error {
	switch {
	case old.Tag != next.Tag:
		return fmt.Errorf("store: rotate from tag %q to tag %q: a successor keeps its tag", old.Tag, next.Tag)
	case old.Hash == next.Hash:
		return errors.New("store: rotate to the same id")
	case lifetime <= 0:
		return fmt.Errorf("store: rotate with lifetime %v", lifetime)
	}
	return nil
}
