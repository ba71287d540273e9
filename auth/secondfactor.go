package auth

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"time"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// Two-step login. With Config.SecondFactor set, a right password of an
// account that has a second factor issues nothing that opens the account:
// Login, LoginDevice and LoginRemembered answer a *SecondFactorError
// (errors.Is ErrSecondFactor) carrying a pending token (store.KindPending,
// "ghp_", tokens.Config.PendingTTL, 5 minutes by default) and no session,
// device token, known-device proof or cookie. The pending token's record
// holds no secret: the subject, the project, the device the login would
// sign in (for LoginDevice and LoginRemembered), when the password was
// proved, and assurance level 1. CompleteLogin (or CompleteLoginDevice)
// then takes the pending token and a code, and issues the session only
// when the factor passed, at assurance level 2.
//
// A wrong code leaves the pending token live: the bound on guesses is the
// second factor's own attempt limit on the account (mfa.Config.MaxAttempts,
// 5 per 15 minutes and 20 a day by default) and the per-client limit.MFA
// rate, both counted before a code is checked, so one pending token buys
// no more guesses than any other way in, and a user who mistypes a code
// does not type the password again. The token is consumed, atomically,
// only after the factor passed: of concurrent completions of one pending
// token at most one gets a session, whatever codes they carry.

// Assurance levels recorded in store.Record.Assurance (NIST SP 800-63B
// authenticator assurance levels).
const (
	// AssurancePassword: a password alone (AAL1).
	AssurancePassword uint8 = 1
	// AssuranceMultiFactor: a password and a second factor, a TOTP code,
	// a recovery code or a passkey, or a passkey that verified its user
	// alone, a multi-factor cryptographic authenticator (AAL2).
	AssuranceMultiFactor uint8 = 2
)

// Second-factor kinds CompleteLogin takes.
const (
	FactorTOTP     = "totp"     // a TOTP code from an authenticator app
	FactorRecovery = "recovery" // a one-time recovery code
	// FactorPasskey is a passkey: the code is the browser's JSON response
	// to a challenge issued for the pending login's subject (see
	// PendingSubject), at most MaxPasskeyResponse bytes.
	FactorPasskey = "passkey"
)

// MaxPasskeyResponse bounds a passkey's response (an assertion) before
// anything parses it: a real one is one or two KiB.
const MaxPasskeyResponse = 16 << 10

// SecondFactor is the account's second factor, as Login needs it.
// *mfa.Manager implements it. Implementations must be safe for
// concurrent use.
type SecondFactor interface {
	// SecondFactorRequired reports whether the subject's login needs a
	// second step (the account has a confirmed factor). An error fails
	// the login closed.
	SecondFactorRequired(ctx context.Context, subject string) (bool, error)
	// VerifySecondFactor checks a code of the kind (FactorTOTP or
	// FactorRecovery) for the subject: nil when it passed; otherwise an
	// error with its own Problem (a wrong code, a replayed one, a lock on
	// the account's attempts). It counts the attempt against its own
	// limit, and a code passes at most once.
	VerifySecondFactor(ctx context.Context, subject, kind, code string) error
}

// ErrSecondFactor: the password was right and the account needs its
// second factor (401 second_factor_required). Login returns it as a
// *SecondFactorError, which carries the pending token.
var ErrSecondFactor = problem.New("auth: second factor required", problem.Error{
	Status: http.StatusUnauthorized, Code: "second_factor_required",
	Message: "the password was right; the second factor is required"})

// ErrPendingIntent: CompleteLogin was given the pending token of a device
// or remember-me login (use CompleteLoginDevice), or CompleteLoginDevice
// one of a plain login (400 invalid_field "pending"). The token stays live.
var ErrPendingIntent = &FieldError{Field: "pending", Reason: "is for another kind of login"}

// SecondFactorError is the answer of a login whose password was right
// while the account needs its second factor. It holds no session.
type SecondFactorError struct {
	// Pending is the pending token (only copy): hand it to the client for
	// the second step (CompleteLogin). It opens nothing else.
	Pending string
	// ExpiresAt is when Pending expires.
	ExpiresAt time.Time
	// Subject is the account's subject.
	Subject string
}

func (e *SecondFactorError) Error() string { return ErrSecondFactor.Error() }

// Is reports whether target is ErrSecondFactor.
func (e *SecondFactorError) Is(target error) bool { return target == ErrSecondFactor }

// Problem implements problem.Problemer: 401 second_factor_required.
func (e *SecondFactorError) Problem() problem.Error { return problem.Of(ErrSecondFactor) }

// pend issues the pending token of u's login when the account needs a
// second factor: nil, "", nil when it does not (or there is no
// SecondFactor). A live trust token of u's (Credentials.TrustedDevice)
// stands in for the second factor: pend returns it, unspent, and the
// caller spends it (spendTrust) once it has issued what the login
// issues, so that a login failing before that leaves the browser's token
// good for its retry.
func (a *Authenticator) pend(ctx context.Context, u User, project, device, trust string, now time.Time) (*SecondFactorError, string, error) {
	if a.second == nil {
		return nil, "", nil
	}
	need, err := a.second.SecondFactorRequired(ctx, u.Subject)
	if err != nil || !need {
		return nil, "", err
	}
	if ok, err := a.checkTrust(ctx, u.Subject, trust); err != nil || ok {
		return nil, trust, err
	}
	p, err := a.issuePending(ctx, u, project, device, now)
	return p, "", err
}

// issuePending issues the pending token of u's login.
func (a *Authenticator) issuePending(ctx context.Context, u User, project, device string, now time.Time) (*SecondFactorError, error) {
	iss, err := a.tokens.Issue(ctx, store.KindPending, tokens.Claims{Subject: u.Subject, Project: project, Device: device,
		AuthTime: now, Assurance: AssurancePassword})
	a.record(ctx, audit.TokenIssued, audit.TokenRejected, "issue", err, kindAttr(store.KindPending), subjectAttr(u.Subject), projectAttr(project))
	if err != nil {
		return nil, err
	}
	return &SecondFactorError{Pending: iss.Token, ExpiresAt: iss.Record.ExpiresAt, Subject: u.Subject}, nil
}

// spendTrust rotates the trust token pend accepted, after the login
// issued its token: the successor, for the browser. When another login
// spent it in between (a copy racing the browser: the store's rotation
// is atomic, and this one lost), the login needs its second factor after
// all: a pending token, and the caller withdraws what it issued.
func (a *Authenticator) spendTrust(ctx context.Context, u User, project, device, trust string, now time.Time) (*tokens.Issued, *SecondFactorError, error) {
	next, err := a.tokens.RotateTrust(ctx, trust)
	a.record(ctx, audit.TokenRotated, audit.TokenRejected, "rotate", err, kindAttr(store.KindTrust), subjectAttr(u.Subject))
	switch {
	case err == nil && next.Record.Subject == u.Subject:
		return &next, nil, nil
	case err == nil:
		_ = a.tokens.Revoke(context.WithoutCancel(ctx), store.KindTrust, next.Token)
	case errors.Is(err, store.ErrUnavailable):
		return nil, nil, err
	}
	p, err := a.issuePending(ctx, u, project, device, now)
	return nil, p, err
}

// withdrawTrust revokes the successor of a trust token handed to nobody:
// the login that rotated it failed after. Best effort.
func (a *Authenticator) withdrawTrust(ctx context.Context, trusted *tokens.Issued) {
	if trusted != nil {
		_ = a.tokens.Revoke(context.WithoutCancel(ctx), store.KindTrust, trusted.Token)
	}
}

// trustOf is the Trust of a rotated trust token; zero for none.
func trustOf(trusted *tokens.Issued) Trust {
	if trusted == nil {
		return Trust{}
	}
	return Trust{Token: trusted.Token, ExpiresAt: trusted.Record.ExpiresAt}
}

// withdrawPending revokes the pending token of a login that failed after
// it was issued. Best effort: nobody holds it yet.
func (a *Authenticator) withdrawPending(ctx context.Context, p *SecondFactorError) {
	if p != nil {
		_ = a.tokens.Revoke(context.WithoutCancel(ctx), store.KindPending, p.Pending)
	}
}

// CompleteLogin is the second step of a login that answered a
// *SecondFactorError: it checks the code of the kind (FactorTOTP or
// FactorRecovery) with Config.SecondFactor, and only when it passed
// consumes the pending token and issues a session of the pending login's
// project at assurance level 2 (AssuranceMultiFactor), with the
// password's AuthTime. client is the client's network, for the limit.MFA
// rate limit (as Credentials.Client).
//
// Errors: a missing or unknown kind or code is a *FieldError; a pending
// token that is malformed, of another kind, unknown, expired or already
// used is a tokens error (401 invalid_token); one of a device or
// remember-me login is ErrPendingIntent; a wrong or replayed code, or a
// locked account, is the SecondFactor's error as it is (mfa's
// invalid_code, code_reused, mfa_locked), and the pending token stays live
// for another try within the SecondFactor's attempt limit; a spent rate
// limit is a *limit.Error (429); a store failure wraps
// store.ErrUnavailable. Of concurrent completions of one pending token at
// most one returns a session.
func (a *Authenticator) CompleteLogin(ctx context.Context, pending, kind, code string, client netip.Prefix) (Session, error) {
	rec, u, err := a.secondStep(ctx, pending, kind, code, client, intentPlain)
	if err != nil {
		return Session{}, err
	}
	return a.sessionAfter(ctx, rec, u)
}

// sessionAfter issues the session of a plain login whose second factor
// passed.
func (a *Authenticator) sessionAfter(ctx context.Context, rec store.Record, u User) (Session, error) {
	iss, err := a.tokens.Issue(ctx, store.KindSession, tokens.Claims{Subject: rec.Subject, Project: rec.Project,
		AuthTime: rec.AuthTime, Assurance: AssuranceMultiFactor})
	a.record(ctx, audit.TokenIssued, audit.TokenRejected, "issue", err, kindAttr(store.KindSession), subjectAttr(rec.Subject), projectAttr(rec.Project))
	if err != nil {
		return Session{}, err
	}
	return Session{User: u, Token: iss.Token, Project: rec.Project, ExpiresAt: iss.Record.ExpiresAt,
		Unconfirmed: u.Active && !u.EmailConfirmed,
		KnownDevice: a.proofAfter(u, rec.AuthTime)}, nil
}

// CompleteLoginDevice is CompleteLogin for the pending token of
// LoginDevice or LoginRemembered: it starts the device chain the login
// asked for, at assurance level 2, which every session and successor of
// the chain keeps. Keep a remember-me chain with SetRememberCookie. A
// pending token of a plain login is ErrPendingIntent.
func (a *Authenticator) CompleteLoginDevice(ctx context.Context, pending, kind, code string, client netip.Prefix) (DeviceSession, error) {
	rec, u, err := a.secondStep(ctx, pending, kind, code, client, intentDevice)
	if err != nil {
		return DeviceSession{}, err
	}
	return a.deviceSessionAfter(ctx, rec, u)
}

// completeEither is CompleteLogin or CompleteLoginDevice, whichever the
// pending token is for, in one pass: one limit.MFA unit and one factor
// check, where trying one and then the other would take two. device says
// which it was.
func (a *Authenticator) completeEither(ctx context.Context, pending, kind, code string, client netip.Prefix) (ds DeviceSession, device bool, err error) {
	rec, u, err := a.secondStep(ctx, pending, kind, code, client, intentEither)
	if err != nil {
		return DeviceSession{}, false, err
	}
	if rec.Device == "" {
		s, err := a.sessionAfter(ctx, rec, u)
		return DeviceSession{Session: s}, false, err
	}
	ds, err = a.deviceSessionAfter(ctx, rec, u)
	return ds, true, err
}

// deviceSessionAfter starts the device chain of a device or remember-me
// login whose second factor passed.
func (a *Authenticator) deviceSessionAfter(ctx context.Context, rec store.Record, u User) (DeviceSession, error) {
	dev, err := a.tokens.Issue(ctx, store.KindDevice, tokens.Claims{Subject: rec.Subject, Project: rec.Project, Device: rec.Device,
		AuthTime: rec.AuthTime, Assurance: AssuranceMultiFactor})
	a.record(ctx, audit.TokenIssued, audit.TokenRejected, "issue", err, kindAttr(store.KindDevice), subjectAttr(rec.Subject), projectAttr(rec.Project), deviceAttr(rec.Device))
	if err != nil {
		return DeviceSession{}, err
	}
	if err := a.keepNewestChain(ctx, rec.Subject, rec.Device); err != nil {
		return DeviceSession{}, err
	}
	ds, err := a.deviceSession(ctx, dev)
	if err != nil {
		_ = a.tokens.Revoke(ctx, store.KindDevice, dev.Token)
		return DeviceSession{}, err
	}
	if u.Active {
		ds.User = u
		ds.Unconfirmed = !u.EmailConfirmed
	}
	ds.KnownDevice = a.proofAfter(u, rec.AuthTime)
	return ds, nil
}

// pendingIntent is the kind of pending login a second step completes.
type pendingIntent uint8

const (
	intentPlain  pendingIntent = iota // Login's: a session
	intentDevice                      // LoginDevice's or LoginRemembered's: a device chain
	intentEither                      // whichever the token is for
)

// secondStep checks the factor and then consumes the pending token; it
// returns the pending record and, when Users is a SubjectFinder, the user
// as they are now (an account deactivated between the steps is refused).
func (a *Authenticator) secondStep(ctx context.Context, pending, kind, code string, client netip.Prefix, intent pendingIntent) (rec store.Record, u User, err error) {
	defer func() {
		a.record(ctx, audit.LoginSucceeded, audit.LoginFailed, "second_factor", err, subjectAttr(rec.Subject), clientAttr(client))
	}()
	if a.second == nil {
		return store.Record{}, User{}, &ConfigError{Method: "CompleteLogin", Missing: []string{"Config.SecondFactor"}}
	}
	switch {
	case kind == "":
		return store.Record{}, User{}, &FieldError{Field: "kind", Reason: "missing"}
	case kind != FactorTOTP && kind != FactorRecovery && kind != FactorPasskey:
		return store.Record{}, User{}, &FieldError{Field: "kind", Reason: `want "totp", "recovery" or "passkey"`}
	case code == "":
		return store.Record{}, User{}, &FieldError{Field: "code", Reason: "missing"}
	case kind != FactorPasskey && len(code) > 64, len(code) > MaxPasskeyResponse:
		return store.Record{}, User{}, &FieldError{Field: "code", Reason: "too long"}
	}
	// The token's shape is checked before any I/O, rate limit included.
	switch k := tokens.KindOf(pending); {
	case pending == "":
		return store.Record{}, User{}, tokens.ErrMissing
	case k == 0:
		return store.Record{}, User{}, tokens.ErrMalformed
	case k != store.KindPending:
		return store.Record{}, User{}, tokens.ErrWrongKind
	}
	if a.limiter != nil {
		if err := a.limiter.Allow(ctx, limit.MFA, client, ""); err != nil {
			return store.Record{}, User{}, err
		}
	}
	rec, err = a.tokens.Validate(ctx, store.KindPending, pending)
	if err != nil {
		return store.Record{}, User{}, err
	}
	if intent != intentEither && (rec.Device != "") != (intent == intentDevice) {
		return rec, User{}, ErrPendingIntent
	}
	if err := a.second.VerifySecondFactor(ctx, rec.Subject, kind, code); err != nil {
		return rec, User{}, err
	}
	// The factor passed: now, and only now, the pending token is spent.
	// Of concurrent completions only one consumes it.
	if _, err := a.tokens.Consume(ctx, store.KindPending, pending); err != nil {
		return rec, User{}, err
	}
	u, err = a.userNow(ctx, rec.Subject)
	return rec, u, err
}

// userNow is the account of a subject proved without a password (a
// second step, a passkey), as it is now when Users is a SubjectFinder: an
// account gone, deactivated or unconfirmed since is refused as a login
// would refuse it. Without a SubjectFinder it is the bare subject.
func (a *Authenticator) userNow(ctx context.Context, subject string) (User, error) {
	f, ok := a.users.(SubjectFinder)
	if !ok {
		return User{Subject: subject}, nil
	}
	u, err := f.FindSubject(ctx, subject)
	switch {
	case err != nil && !errors.Is(err, ErrUnknownUser):
		return User{}, err
	case err != nil:
		return User{}, ErrInvalidCredentials
	case !u.Active:
		return User{}, ErrInactive
	case !u.EmailConfirmed && !a.allowUnc:
		return User{}, ErrUnconfirmed
	}
	return u, nil
}

// proofAfter is the known-device proof of a completed two-step login, for
// Users that can find the account again (SubjectFinder): the proof is
// bound to the password hash, which the pending token does not hold.
func (a *Authenticator) proofAfter(u User, authTime time.Time) string {
	if len(u.PasswordHash) == 0 {
		return ""
	}
	return a.knownDeviceProof(u.Subject, u.PasswordHash, authTime)
}

// PendingSubject returns the subject of a live pending token, so that the
// second step can issue a passkey challenge for that account (the
// challenge must name its user). It spends nothing. Errors are those of
// CompleteLogin's token checks (401 invalid_token); the client's limit.MFA
// rate is taken first, as the second step takes it.
func (a *Authenticator) PendingSubject(ctx context.Context, pending string, client netip.Prefix) (string, error) {
	switch k := tokens.KindOf(pending); {
	case pending == "":
		return "", tokens.ErrMissing
	case k == 0:
		return "", tokens.ErrMalformed
	case k != store.KindPending:
		return "", tokens.ErrWrongKind
	}
	if a.limiter != nil {
		if err := a.limiter.Allow(ctx, limit.MFA, client, ""); err != nil {
			return "", err
		}
	}
	rec, err := a.tokens.Validate(ctx, store.KindPending, pending)
	if err != nil {
		return "", err
	}
	return rec.Subject, nil
}
