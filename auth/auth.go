package auth

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/clientaddr"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// Config configures an [Authenticator]. Users, Tokens and Counters are
// required; every other zero field means its documented default.
type Config struct {
	Users  Users           // the app's accounts; required
	Tokens *tokens.Manager // issues sessions; required
	// Counters keeps the lockout and mail counters; required, and it must
	// also be a store.Attempts (both of gatehouse's stores are: usually
	// it is the same store as Tokens).
	Counters store.Counters

	// Hasher checks passwords; default password.Bcrypt{Cost: BcryptCost}.
	// A Hasher that is also a password.HashReader lets logins to accounts
	// whose hash it cannot read cost a full comparison (against a dummy)
	// like any other; without it only an empty hash is recognised. The
	// longest password taken is the Hasher's (password.MaxLen): 72 bytes
	// for bcrypt, 1024 for password.Argon2id (see docs/settings.md).
	Hasher password.Hasher
	// BcryptCost is the bcrypt cost of the default Hasher; default 10
	// (bcrypt.DefaultCost, ≈ 60 ms on a 2-core machine). Logins whose hash
	// has another cost are rehashed when Users implements HashUpdater.
	BcryptCost int
	// MaxConcurrentHashes bounds password hashes running at once; default
	// runtime.GOMAXPROCS(0) - 1 (at least 1), so that a flood of logins
	// always leaves a core for the rest of the app's requests.
	MaxConcurrentHashes int
	// HashWait is how long a login waits for a free hashing slot before it
	// is answered password.ErrBusy (503); default 500 ms.
	HashWait time.Duration
	// HashQueuePerClient is how many logins of one client may wait for a
	// hashing slot; default 4. The slots go to the waiting clients in
	// turn (see password.Scheduler), so a flood from one client costs the
	// others at most one check's wait per turn.
	HashQueuePerClient int

	// Lockout sets how failed logins lock an account.
	Lockout Lockout

	// PasswordPolicy checks new passwords (ConfirmPasswordReset,
	// CheckNewPassword); default password.NewPolicy with its zero
	// PolicyConfig: NIST SP 800-63B rev. 4 for a password that is the only
	// factor (15 to 64 characters, the common-password blocklist, no
	// composition rules). Logins are never checked against it: a password
	// set under an older policy still logs in.
	PasswordPolicy *password.Policy

	// Limiter rate-limits logins per client (class limit.Login), before
	// any lookup, count or hash. Default: a limit.Limiter with
	// limit.DefaultPolicies() on Counters, when Counters is also a
	// store.Limits (both of gatehouse's stores are).
	Limiter *limit.Limiter
	// NoRateLimits turns the default Limiter off. Without it one address
	// can spend the hashing capacity of the whole app on guesses.
	NoRateLimits bool

	// RevealUnknownUsers answers an unknown login with ErrUnknownUser (404)
	// instead of ErrInvalidCredentials. It lets anyone test which accounts
	// exist: leave it off unless your API promises it.
	RevealUnknownUsers bool
	// AllowUnconfirmed lets users whose email is not confirmed log in; the
	// result then reports Unconfirmed. By default they get ErrUnconfirmed.
	AllowUnconfirmed bool
	// HideUnconfirmed answers a right password of an account whose
	// address is not confirmed as a wrong one (ErrInvalidCredentials),
	// and counts it as the failure it is answered as. A signup that tells
	// no one which addresses have accounts needs it (package account
	// refuses to serve signup without it): otherwise whoever signs up an
	// address with a password of their own learns from the login which
	// it was, their new account (unconfirmed) or someone's (invalid
	// credentials). The owner confirms the address, or resets the
	// password, and logs in. It cannot be set with AllowUnconfirmed.
	HideUnconfirmed bool
	// Mailer delivers email confirmation and password reset tokens;
	// required only by the methods that send them (SendEmailConfirmation,
	// RequestPasswordReset), which answer a *ConfigError without it. New
	// does not require it: it cannot know which features the app uses.
	// Password reset also needs Users to implement HashUpdater.
	Mailer Mailer
	// ResetMinDuration is the least time RequestPasswordReset takes, so
	// that a request for a known address, which issues a token and mails
	// it, cannot be told by its time from one for an unknown address,
	// which does neither; default 10 ms. A Mailer slower than this shows
	// through: queue the mail and return. Negative: no minimum.
	ResetMinDuration time.Duration
	// Memberships, when set, is told when a login link makes a subject a
	// member of a project (see IssueLoginLink).
	Memberships Memberships
	// Logger receives one audit event per decision (see package audit for
	// the names and attributes); default nil: no events. Pass
	// slog.Default() to log them with the rest of the app.
	Logger *slog.Logger
	// Metrics receives the same decisions as counts, and password-hash
	// timings; default nil. Wrap the store with audit.InstrumentStore to
	// time store calls too.
	Metrics audit.Metrics
	// SecondFactor, when set, makes logins of accounts that have a
	// second factor two-step: the right password answers a
	// *SecondFactorError with a pending token and issues nothing else,
	// and CompleteLogin issues the session once the factor passed (see
	// CompleteLogin). *mfa.Manager implements it. Default nil: a password
	// alone logs in.
	SecondFactor SecondFactor
	// Passwordless, when set, lets LoginPasswordless and
	// PasswordlessHandler log in with a passkey alone.
	// *passkey.Manager implements it. Default nil.
	Passwordless Passwordless
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Authenticator checks passwords under a lockout policy and issues
// sessions. It is safe for concurrent use.
type Authenticator struct {
	users    Users
	tokens   *tokens.Manager
	counters store.Counters
	attempts store.Attempts
	hasher   password.Hasher
	policy   *password.Policy
	hashing  *password.Scheduler
	limiter  *limit.Limiter
	lockout  Lockout
	dummy    []byte // a hash to compare against when the user is unknown
	// deviceKey signs known-device proofs (see knowndevice.go).
	deviceKey    []byte
	reveal       bool
	allowUnc     bool
	hideUnc      bool
	members      Memberships
	mailer       Mailer
	rec          *audit.Recorder
	second       SecondFactor
	passwordless Passwordless
	resetMin     time.Duration
	now          func() time.Time
	// remembering shares concurrent redemptions of one remember-me
	// token (see RememberGrace).
	remembering rememberFlight
}

// New checks cfg, fills in defaults, and returns an Authenticator. It
// hashes one dummy password, so it takes as long as one login.
func New(cfg Config) (*Authenticator, error) {
	if cfg.Users == nil || cfg.Tokens == nil || cfg.Counters == nil {
		return nil, errors.New("auth: Config.Users, Config.Tokens and Config.Counters are required")
	}
	a := &Authenticator{
		users:        cfg.Users,
		tokens:       cfg.Tokens,
		counters:     cfg.Counters,
		hasher:       cfg.Hasher,
		reveal:       cfg.RevealUnknownUsers,
		allowUnc:     cfg.AllowUnconfirmed,
		hideUnc:      cfg.HideUnconfirmed,
		members:      cfg.Memberships,
		mailer:       cfg.Mailer,
		rec:          audit.New(cfg.Logger, cfg.Metrics),
		second:       cfg.SecondFactor,
		passwordless: cfg.Passwordless,
		resetMin:     cfg.ResetMinDuration,
		now:          cfg.Now,
	}
	if a.now == nil {
		a.now = time.Now
	}
	att, ok := cfg.Counters.(store.Attempts)
	if !ok {
		return nil, errors.New("auth: Config.Counters does not count login attempts (store.Attempts); both of gatehouse's stores do")
	}
	a.attempts = att
	a.deviceKey = cfg.Tokens.DeriveKey("auth: known-device proofs")
	if a.resetMin == 0 {
		a.resetMin = 10 * time.Millisecond
	}
	switch lim, ok := cfg.Counters.(store.Limits); {
	case cfg.HideUnconfirmed && cfg.AllowUnconfirmed:
		return nil, errors.New("auth: set Config.HideUnconfirmed or Config.AllowUnconfirmed, not both")
	case cfg.Limiter != nil && cfg.NoRateLimits:
		return nil, errors.New("auth: set Config.Limiter or Config.NoRateLimits, not both")
	case cfg.Limiter != nil:
		a.limiter = cfg.Limiter
	case !cfg.NoRateLimits && ok:
		l, err := limit.New(limit.Config{Store: lim, Logger: cfg.Logger, Metrics: cfg.Metrics, Now: a.now})
		if err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
		a.limiter = l
	case !cfg.NoRateLimits:
		// A wrapper around Counters that hides store.Limits would turn the
		// login limit off without a word.
		return nil, errors.New("auth: Config.Counters does not keep rate limits (store.Limits): set Config.Limiter, or Config.NoRateLimits to go without")
	}
	if a.hasher == nil {
		cost := cfg.BcryptCost
		if cost == 0 {
			cost = 10
		}
		if cost < password.MinCost || cost > 31 {
			return nil, fmt.Errorf("auth: BcryptCost %d is outside %d..31", cost, password.MinCost)
		}
		a.hasher = password.Bcrypt{Cost: cost}
	} else if cfg.BcryptCost != 0 {
		return nil, errors.New("auth: set Config.Hasher or Config.BcryptCost, not both")
	}
	n := cfg.MaxConcurrentHashes
	if n == 0 {
		n = max(1, runtime.GOMAXPROCS(0)-1)
	}
	wait := cfg.HashWait
	if wait == 0 {
		wait = 500 * time.Millisecond
	}
	if n < 0 || wait < 0 {
		return nil, errors.New("auth: negative MaxConcurrentHashes or HashWait")
	}
	var err error
	a.hashing, err = password.NewScheduler(password.SchedulerConfig{Slots: n, Wait: wait, MaxQueuePerClient: cfg.HashQueuePerClient})
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	if a.policy = cfg.PasswordPolicy; a.policy == nil {
		if a.policy, err = password.NewPolicy(password.PolicyConfig{}); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	if a.lockout, err = cfg.Lockout.withDefaults(); err != nil {
		return nil, err
	}
	if a.dummy, err = a.hasher.Hash([]byte("gatehouse: no such user")); err != nil {
		return nil, fmt.Errorf("auth: hashing the dummy password: %w", err)
	}
	return a, nil
}

// Credentials are what a user presents to log in.
type Credentials struct {
	Login    string // username or email address
	Password string
	// Client is the client's address, for the per-client rate limit,
	// lockout counts and hashing turn; the HTTP handlers fill it with
	// clientaddr.FromRequest or HandlerOptions.Client. Fill it in your own
	// handlers too: every login without one counts as one and the same
	// client, so MaxFailuresPerClient failures by anyone would lock a name
	// for all of them.
	Client netip.Prefix
	// KnownDevice is the proof of an earlier login on this account that
	// the client kept (Session.KnownDevice; the login handlers keep it in
	// a cookie): with a live one, failures from other clients do not lock
	// this client out. Anything else is ignored.
	KnownDevice string
	// TrustedDevice is the browser's trust token (TrustDevice; the login
	// handlers keep it in TrustCookie): a live one of the account's
	// stands in for its second factor, once; see TrustDevice. Anything
	// else is ignored.
	TrustedDevice string
}

// Authenticate checks the credentials and returns the user. In order:
//   - a missing field is a FieldError, a password over the Hasher's limit
//     (password.MaxLen: 72 bytes for bcrypt) is password.ErrTooLong, both
//     before any lookup;
//   - a locked account is a *LockedError, for right and wrong passwords
//     alike, and no hash runs;
//   - an unknown user costs one hash (against a dummy) like a wrong
//     password and answers the same ErrInvalidCredentials, unless
//     Config.RevealUnknownUsers;
//   - so does a known user whose PasswordHash is empty (an SSO-only or
//     invited account) or not one the Hasher reads (see
//     password.HashReader), whatever Config.RevealUnknownUsers says;
//   - only when the password is right are ErrInactive and ErrUnconfirmed
//     reported.
//
// A store failure is returned wrapping store.ErrUnavailable: the login
// fails closed.
func (a *Authenticator) Authenticate(ctx context.Context, c Credentials) (User, error) {
	return a.authenticateThen(ctx, c, nil, nil)
}

// authenticateThen is Authenticate, with issue (when not nil) run for the
// authenticated user while the store takes back the client's failure
// counts: the two are independent writes, so a login waits on the store
// twice in all (count, then forgive and issue together) rather than three
// times. When issue fails the login fails with its error; when taking the
// counts back fails after issue succeeded, undo (when not nil) withdraws
// what issue made, and the login fails closed.
func (a *Authenticator) authenticateThen(ctx context.Context, c Credentials, issue func(User) error, undo func()) (User, error) {
	var subject string
	u, forgiven, err := a.authenticate(ctx, c, &subject)
	a.record(ctx, audit.LoginSucceeded, audit.LoginFailed, "login", err, subjectAttr(subject), clientAttr(c.Client))
	if err != nil {
		return User{}, err
	}
	if issue != nil {
		err = issue(u)
	}
	if ferr := forgiven(); ferr != nil {
		a.record(ctx, audit.LoginSucceeded, audit.LoginFailed, "login", ferr, subjectAttr(subject), clientAttr(c.Client))
		if err == nil && undo != nil {
			undo()
		}
		err = cmp.Or(err, ferr)
	}
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// authenticate is Authenticate without the audit record; it sets *subject
// as soon as it knows the account, so that failures are reported with it.
// On success the client's failure counts are being taken back meanwhile:
// forgiven waits for that and reports how it went.
func (a *Authenticator) authenticate(ctx context.Context, c Credentials, subject *string) (u User, forgiven func() error, err error) {
	login := NormalizeLogin(c.Login)
	switch {
	case login == "":
		return User{}, nil, &FieldError{Field: "login", Reason: "missing"}
	case c.Password == "":
		return User{}, nil, &FieldError{Field: "password", Reason: "missing"}
	case len(c.Password) > password.MaxLen(a.hasher):
		return User{}, nil, password.CheckLen(a.hasher, c.Password)
	case len(password.Normalize(c.Password)) > password.MaxLen(a.hasher):
		// NFC can lengthen a password (U+0958: 3 bytes typed, 6 in NFC),
		// and it is the NFC form that is compared.
		return User{}, nil, password.CheckLen(a.hasher, password.Normalize(c.Password))
	case len(login) > maxLoginBytes:
		return User{}, nil, &FieldError{Field: "login", Reason: "too long"}
	}

	// Rate limited before any lookup, count or hash: a client over its
	// limit costs one store call and leaves no state about the account.
	if a.limiter != nil {
		if err := a.limiter.Allow(ctx, limit.Login, c.Client, ""); err != nil {
			return User{}, nil, err
		}
	}
	user, err := a.users.FindUser(ctx, login)
	known := err == nil
	if err != nil && !errors.Is(err, ErrUnknownUser) {
		return User{}, nil, fmt.Errorf("auth: finding user: %w", err)
	}
	if known {
		*subject = user.Subject
	}
	// The locks are checked and the attempt counted in one store call,
	// before the login queues for a hashing slot: no number of concurrent
	// guesses gets more checks than the limits, a locked name is answered
	// at once, and a slow store holds no slot. A login then shed busy is
	// taken back: it checked nothing, so it costs nobody a try.
	var device string // the known-device proof's id, when the client has one
	if known {
		device = a.provesKnownDevice(c.KnownDevice, user.Subject, user.PasswordHash, a.now())
	}
	knownDevice := device != ""
	attempt := a.lockout.newAttempt(a.attempts, login, user.Subject, c.Client, device)
	held, err := attempt.count(ctx)
	if err != nil {
		return User{}, nil, err
	}
	// An account without a hash the hasher reads (SSO only, invited, a
	// hash of another scheme), or held for this client, is compared
	// against the dummy like an unknown user: skipping the hash would
	// show by the time.
	checked := known && !held && a.readable(user.PasswordHash)
	if known && !held && !checked && len(user.PasswordHash) > 0 {
		// Not an SSO-only account: a hash the app stored that no login
		// can pass. The operator must hear of it; the client may not.
		a.rec.Record(ctx, audit.HashUnreadable, subjectAttr(user.Subject))
	}
	hash := a.dummy
	if checked {
		hash = user.PasswordHash
	}
	// New passwords are hashed in NFC (password.Normalize), so the
	// password is compared in NFC; a hash made before that (an imported
	// one, say) may be of other bytes, so a password that NFC changes is
	// compared as typed too. Both are done for the dummy alike: the time
	// depends only on what was typed.
	typed := []byte(c.Password)
	nfc := []byte(password.Normalize(c.Password))
	var cmpErr error
	asTyped := false
	// A client with a known device goes first in the queue.
	if err := a.hashing.Run(ctx, hashingKey(c.Client), knownDevice, func() {
		start := time.Now()
		cmpErr = a.hasher.Compare(hash, nfc)
		if cmpErr != nil && !bytes.Equal(nfc, typed) {
			if cmpErr = a.hasher.Compare(hash, typed); cmpErr == nil {
				asTyped = true
			}
		}
		if errors.Is(cmpErr, password.ErrTooLong) {
			// This hash takes fewer bytes than the Hasher (an imported
			// bcrypt row under password.Importing): refused at once,
			// which would show by the time. Spend a comparison.
			_ = a.hasher.Compare(a.dummy, nfc)
		}
		a.rec.ObserveHash(time.Since(start))
	}); err != nil {
		if uerr := attempt.uncount(ctx); uerr != nil {
			return User{}, nil, uerr
		}
		return User{}, nil, err
	}
	if held {
		a.rec.Record(ctx, audit.LoginHeld, subjectAttr(user.Subject), clientAttr(c.Client))
	}
	if cmpErr != nil || !checked {
		if !known && a.reveal {
			return User{}, nil, ErrUnknownUser
		}
		return User{}, nil, ErrInvalidCredentials
	}
	if a.hideUnc && !user.EmailConfirmed {
		// Answered as a wrong password, and so counted as one: a login
		// whose failures never locked would tell it apart all the same.
		return User{}, nil, ErrInvalidCredentials
	}
	// The right password ends this client's counts, whatever follows.
	done := make(chan error, 1)
	go func() { done <- attempt.succeeded(ctx) }()
	forgiven = sync.OnceValue(func() error { return <-done })
	user.PasswordHash = a.upgradeHash(ctx, user, string(nfc), asTyped, c.Client)

	switch {
	case !user.Active:
		err = ErrInactive
	case !user.EmailConfirmed && !a.allowUnc:
		err = ErrUnconfirmed
	}
	if err != nil {
		if ferr := forgiven(); ferr != nil {
			return User{}, nil, ferr
		}
		return User{}, nil, err
	}
	return user, forgiven, nil
}

// readable reports whether the hasher can check a password against hash
// at full cost: never for an empty hash, and for a non-empty one as the
// hasher says when it is a password.HashReader (password.Bcrypt is).
func (a *Authenticator) readable(hash []byte) bool {
	if len(hash) == 0 {
		return false
	}
	if r, ok := a.hasher.(password.HashReader); ok {
		return r.CanRead(hash)
	}
	return true
}

// maxLoginBytes bounds the identifier; seed APIs allow up to 250 characters.
const maxLoginBytes = 320

// upgradeHash rehashes a right password (pw, in NFC) whose hash has
// other settings, or was made of the password as typed rather than in
// NFC, and returns the hash the account has now (the known-device proof
// made next is bound to it). Failing to save is not a failed login: the
// old hash still works.
func (a *Authenticator) upgradeHash(ctx context.Context, u User, pw string, notNFC bool, client netip.Prefix) []byte {
	up, ok := a.users.(HashUpdater)
	if !ok || (!notNFC && !a.hasher.NeedsRehash(u.PasswordHash)) {
		return u.PasswordHash
	}
	hash, err := a.hashInTurn(ctx, client, pw)
	if err != nil {
		return u.PasswordHash
	}
	if up.UpdatePasswordHash(ctx, u.Subject, hash) != nil {
		return u.PasswordHash
	}
	return hash
}

// Session is a logged-in session: the token to hand to the client and what
// it stands for.
type Session struct {
	User        User
	Token       string
	Project     string
	ExpiresAt   time.Time
	Unconfirmed bool // the user logged in with Config.AllowUnconfirmed and is not confirmed
	// KnownDevice is a fresh proof of this password login, for the client
	// to keep and present as Credentials.KnownDevice next time (the login
	// handlers keep it in a cookie); empty for sessions that did not come
	// from a password. It lasts KnownDeviceTTL. It is not a credential.
	KnownDevice string
	// Trust is the successor of the trust token the login presented
	// (Credentials.TrustedDevice) when that token stood in for the second
	// factor: the one presented is spent, so keep this one in its place
	// (SetTrustCookie). Zero otherwise.
	Trust Trust
}

// Login authenticates the credentials and issues a new session token for
// the project ("" for none). Every login gets a new token, so a session id
// planted before login is worthless after it.
//
// With Config.SecondFactor, a right password of an account that has a
// second factor issues no session: the answer is a *SecondFactorError
// (401 second_factor_required) carrying a pending token for
// CompleteLogin, and no known-device proof. Password-only sessions record
// assurance level 1 (AssurancePassword).
func (a *Authenticator) Login(ctx context.Context, c Credentials, project string) (Session, error) {
	var iss tokens.Issued
	var pending *SecondFactorError
	var trusted *tokens.Issued
	u, err := a.authenticateThen(ctx, c, func(u User) error {
		now := a.now()
		var trust string
		var err error
		if pending, trust, err = a.pend(ctx, u, project, "", c.TrustedDevice, now); err != nil || pending != nil {
			return err
		}
		iss, err = a.tokens.Issue(ctx, store.KindSession, tokens.Claims{Subject: u.Subject, Project: project, AuthTime: now,
			Assurance: AssurancePassword})
		a.record(ctx, audit.TokenIssued, audit.TokenRejected, "issue", err, kindAttr(store.KindSession), subjectAttr(u.Subject), projectAttr(project))
		if err != nil || trust == "" {
			return err
		}
		// The trust token is spent last, once the session exists; a
		// login that lost it to a racing copy needs the second factor.
		if trusted, pending, err = a.spendTrust(ctx, u, project, "", trust, now); err != nil || pending != nil {
			_ = a.tokens.Revoke(context.WithoutCancel(ctx), store.KindSession, iss.Token)
			iss = tokens.Issued{}
		}
		return err
	}, func() {
		// Nobody holds the tokens yet: withdraw them. Best effort.
		a.withdrawTrust(ctx, trusted)
		if pending != nil {
			a.withdrawPending(ctx, pending)
			return
		}
		_ = a.tokens.Revoke(context.WithoutCancel(ctx), store.KindSession, iss.Token)
	})
	if err != nil {
		return Session{}, err
	}
	if pending != nil {
		return Session{}, pending
	}
	return Session{User: u, Token: iss.Token, Project: project, ExpiresAt: iss.Record.ExpiresAt,
		Unconfirmed: !u.EmailConfirmed, KnownDevice: a.knownDeviceProof(u.Subject, u.PasswordHash, a.now()),
		Trust: trustOf(trusted)}, nil
}

// Logout ends a session token. A session issued from a device chain
// (by LoginDevice or ReAuthenticate) ends with its chain: the device's
// re-authentication token and every session issued from that chain, so
// that a device that logged out cannot sign back in without the password.
// The subject's other sessions and devices are untouched. An unknown or
// expired token is not an error; a malformed one is.
//
// To end the session only and leave its device signed in, use
// LogoutKeepDevice.
func (a *Authenticator) Logout(ctx context.Context, token string) error {
	return a.logout(ctx, token, false)
}

// LogoutKeepDevice ends one session token and nothing else: when the
// session came from a device chain, the chain lives on and the device can
// get a new session from ReAuthenticate without the password. Prefer
// Logout; use this where "log out" means "end this session" and the
// device is signed out some other way (RevokeDevice, LogoutEverywhere).
func (a *Authenticator) LogoutKeepDevice(ctx context.Context, token string) error {
	return a.logout(ctx, token, true)
}

func (a *Authenticator) logout(ctx context.Context, token string, keepDevice bool) (err error) {
	var rec store.Record
	defer func() {
		a.record(ctx, audit.SessionRevoked, audit.TokenRejected, "logout", err, kindAttr(store.KindSession),
			subjectAttr(rec.Subject), projectAttr(rec.Project), deviceAttr(rec.Device))
	}()
	if !keepDevice {
		rec, err = a.tokens.Validate(ctx, store.KindSession, token)
		switch {
		case errors.Is(err, tokens.ErrInvalid):
			return nil // already logged out
		case err != nil:
			return err
		}
		if err := a.endChain(ctx, rec); err != nil {
			return err
		}
	}
	return a.tokens.Revoke(ctx, store.KindSession, token)
}

// endChain ends the device chain a session came from, its device token
// and every session issued from it; a session from a password login
// (no Family) has none, and nothing is ended.
func (a *Authenticator) endChain(ctx context.Context, session store.Record) error {
	if session.Family == "" {
		// An empty filter would match every token of the subject.
		return nil
	}
	_, err := a.tokens.RevokeAll(ctx, session.Subject, store.Filter{Device: session.Device, Family: session.Family})
	return err
}

// LogoutEverywhere ends every live token of the subject, of every kind and
// in every project, and reports how many it ended: sessions, device
// re-authentication chains, one-time login links, pending email
// verifications and password reset tokens. Call it when a password
// changes (after saving the new hash) or the user asks to be signed out
// of every device: a reset link mailed before the change then resets
// nothing, and no device signs back in without the new password. To keep
// the user signed in where they changed it, log them in again afterwards
// with the new password. Without keep it is one store call, atomic on
// every store, like Deactivate.
//
// keep names kinds to leave alone, for the rare caller that must: say,
// store.KindVerification to let a pending email confirmation still be
// redeemed. Each kind kept is a way back in that survives "everywhere";
// keep nothing on a password change. With keep, the other kinds are ended
// one store call each.
func (a *Authenticator) LogoutEverywhere(ctx context.Context, subject string, keep ...store.Kind) (ended int, err error) {
	defer func() {
		a.record(ctx, audit.SessionRevoked, audit.SessionRevoked, "logout_everywhere", err, subjectAttr(subject), countAttr(ended))
	}()
	if subject == "" {
		return 0, errors.New("auth: LogoutEverywhere needs a subject")
	}
	for _, k := range keep {
		if !k.Valid() {
			return 0, fmt.Errorf("auth: LogoutEverywhere cannot keep kind %d", k)
		}
	}
	if len(keep) == 0 {
		// The zero filter matches every kind.
		return a.tokens.RevokeAll(ctx, subject, store.Filter{})
	}
	for k := store.KindSession; k.Valid(); k++ {
		if slices.Contains(keep, k) {
			continue
		}
		n, err := a.tokens.RevokeAll(ctx, subject, store.Filter{Kind: k})
		ended += n
		if err != nil {
			return ended, err
		}
	}
	return ended, nil
}

// CheckNewPassword checks a password a user chose (at sign-up, or to
// change theirs) against Config.PasswordPolicy and the Hasher's length
// limit, before anything is hashed: a *password.PolicyError (400, with a
// code per rule: password_too_short, password_blocklisted,
// password_context, ...) or password.ErrTooLong. related are the words
// the password may not be: the user's name, email address (its local part
// counts too), the app's name. Call it, then HashPassword.
func (a *Authenticator) CheckNewPassword(ctx context.Context, pw string, related ...string) error {
	if err := a.policy.Check(ctx, pw, related...); err != nil {
		return err
	}
	return password.CheckLen(a.hasher, password.Normalize(pw))
}

// HashPassword hashes a new password, in NFC (password.Normalize, as
// logins compare it), with the Authenticator's Hasher, in its turn for a
// hashing slot like a login (password.ErrBusy when none comes), so that
// sign-ups and password changes cannot take the cores that logins need.
// client is who asked (clientaddr.FromRequest), for the turns; the zero
// Prefix when the app hashes for itself. It checks only the length (over
// the Hasher's limit, password.MaxLen, is password.ErrTooLong; an empty
// one a *FieldError): check a password a user chose with
// CheckNewPassword first.
func (a *Authenticator) HashPassword(ctx context.Context, pw string, client netip.Prefix) ([]byte, error) {
	pw = password.Normalize(pw)
	switch {
	case pw == "":
		return nil, &FieldError{Field: "password", Reason: "missing"}
	case len(pw) > password.MaxLen(a.hasher):
		return nil, password.CheckLen(a.hasher, pw)
	}
	return a.hashInTurn(ctx, client, pw)
}

// hashInTurn hashes pw with the Hasher in the client's turn for a slot. A
// slot that does not come is the scheduler's error as it is (ErrBusy); a
// Hasher failure is wrapped.
func (a *Authenticator) hashInTurn(ctx context.Context, client netip.Prefix, pw string) ([]byte, error) {
	var hash []byte
	var hashErr error
	if err := a.hashing.Run(ctx, hashingKey(client), false, func() { hash, hashErr = a.hasher.Hash([]byte(pw)) }); err != nil {
		return nil, err
	}
	if hashErr != nil {
		return nil, fmt.Errorf("auth: hashing the new password: %w", hashErr)
	}
	return hash, nil
}

// hashingKey is the client a hash is scheduled for: its network, or ""
// when the caller did not say (an app calling Login itself), which the
// scheduler treats as one client with no queue cap of its own.
func hashingKey(client netip.Prefix) string {
	if !client.IsValid() {
		return ""
	}
	return clientaddr.Key(client)
}

// HidesUnconfirmed reports whether Config.HideUnconfirmed is set: logins
// of unconfirmed accounts answer as wrong passwords.
func (a *Authenticator) HidesUnconfirmed() bool { return a.hideUnc }

// Limiter is the rate limiter the Authenticator applies to logins
// (Config.Limiter, or the default one on Config.Counters); nil with
// Config.NoRateLimits. Packages that serve more endpoints on top of auth
// (package account) share it, so that one client has one budget.
func (a *Authenticator) Limiter() *limit.Limiter { return a.limiter }

// SecondFactor is Config.SecondFactor, nil without one: the account
// package checks that logins ask for the factors it lets users enrol.
func (a *Authenticator) SecondFactor() SecondFactor { return a.second }

// Passwordless is Config.Passwordless, nil without one: the account
// package checks that a passkey login has something to verify it.
func (a *Authenticator) Passwordless() Passwordless { return a.passwordless }
