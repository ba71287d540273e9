package auth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// ErrWrongDevice: a live device token presented under another device name
// (401 invalid_token, as tokens.ErrInvalid, which it wraps). The token is
// not spent. Beside it, device re-authentication answers tokens.ErrInvalid
// for a token that is unknown, expired, revoked, or past its chain's
// absolute end, and a *ReusedError (tokens.ErrReused) for a replay.
var ErrWrongDevice = fmt.Errorf("auth: the token belongs to another device: %w", tokens.ErrInvalid)

// ReusedError reports the replay of a spent device token and whose chain
// it revoked (401 token_reused): its whole chain, the live successor and
// every session issued from the chain, has been revoked; the subject's
// other devices are untouched. It matches tokens.ErrReused with
// errors.Is; read it with errors.As to log or audit the event. It holds no
// secret.
type ReusedError struct {
	Subject string
	Project string
	Device  string
}

func (e *ReusedError) Error() string {
	return "auth: device token of " + e.Device + " reused; its chain is revoked"
}

func (e *ReusedError) Unwrap() error { return tokens.ErrReused }

// MaxDeviceNameBytes bounds a device name.
const MaxDeviceNameBytes = 128

// checkDeviceName rejects what must not become a device name: nothing, too
// much, invalid UTF-8 or control characters (which would reach logs).
func checkDeviceName(device string) error {
	switch {
	case device == "":
		return &FieldError{Field: "device", Reason: "missing"}
	case len(device) > MaxDeviceNameBytes:
		return &FieldError{Field: "device", Reason: "too long"}
	case !utf8.ValidString(device):
		return &FieldError{Field: "device", Reason: "invalid"}
	}
	for _, r := range device {
		if unicode.IsControl(r) {
			return &FieldError{Field: "device", Reason: "invalid"}
		}
	}
	return nil
}

// DeviceSession is a session issued together with a device
// re-authentication token.
type DeviceSession struct {
	Session
	Device string
	// DeviceToken is the device's new re-authentication token, good for
	// one ReAuthenticate. Hand it to the device only; never log it.
	DeviceToken string
	// DeviceExpiresAt is when DeviceToken expires unless redeemed:
	// tokens.Config.DeviceTTL (30 days) after it was issued, but never
	// past ChainEnd.
	DeviceExpiresAt time.Time
	// ChainEnd is the end of the chain's absolute lifetime, counted from
	// the password login (tokens.Config.DeviceChainTTL, 90 days): from
	// then on only a password login signs the device in.
	ChainEnd time.Time
}

// LoginDevice is Login that also issues a re-authentication token for the
// device, so that the device can sign the user back in with
// ReAuthenticate instead of keeping the password. A device holds one
// chain: the new token replaces any the subject had on a device of the
// same name. The session belongs to the chain: a replay of one of the
// chain's spent tokens ends it too.
//
// A bad device name is a FieldError for the field "device", reported
// before the password is checked.
func (a *Authenticator) LoginDevice(ctx context.Context, c Credentials, project, device string) (ds DeviceSession, err error) {
	defer func() {
		if ds.User.Subject != "" || errors.Is(err, store.ErrUnavailable) {
			a.record(ctx, audit.TokenIssued, audit.TokenRejected, "issue", err, kindAttr(store.KindDevice), subjectAttr(ds.User.Subject), projectAttr(project), deviceAttr(device))
		}
	}()
	if err := checkDeviceName(device); err != nil {
		return DeviceSession{}, err
	}
	now := a.now()
	var dev tokens.Issued
	var pending *SecondFactorError
	var trusted *tokens.Issued
	u, err := a.authenticateThen(ctx, c, func(u User) error {
		var trust string
		var err error
		if pending, trust, err = a.pend(ctx, u, project, device, c.TrustedDevice, now); err != nil || pending != nil {
			return err
		}
		dev, err = a.tokens.Issue(ctx, store.KindDevice, tokens.Claims{Subject: u.Subject, Project: project, Device: device, AuthTime: now,
			Assurance: AssurancePassword})
		if err != nil || trust == "" {
			return err
		}
		// The trust token is spent last, as in Login.
		if trusted, pending, err = a.spendTrust(ctx, u, project, device, trust, now); err != nil || pending != nil {
			_ = a.tokens.Revoke(context.WithoutCancel(ctx), store.KindDevice, dev.Token)
			dev = tokens.Issued{}
		}
		return err
	}, func() {
		a.withdrawTrust(ctx, trusted)
		if pending != nil {
			a.withdrawPending(ctx, pending)
			return
		}
		_ = a.tokens.Revoke(context.WithoutCancel(ctx), store.KindDevice, dev.Token)
	})
	if err != nil {
		return DeviceSession{}, err
	}
	if pending != nil {
		// No device token, session or proof before the second factor:
		// CompleteLoginDevice starts the chain.
		return DeviceSession{}, pending
	}
	if err := a.keepNewestChain(ctx, u.Subject, device); err != nil {
		a.withdrawTrust(ctx, trusted)
		return DeviceSession{}, err
	}
	ds, err = a.deviceSession(ctx, dev)
	if err != nil {
		// Nobody holds the device token yet: withdraw it. Best effort.
		_ = a.tokens.Revoke(ctx, store.KindDevice, dev.Token)
		a.withdrawTrust(ctx, trusted)
		return DeviceSession{}, err
	}
	ds.User = u
	ds.Unconfirmed = !u.EmailConfirmed
	ds.KnownDevice = a.knownDeviceProof(u.Subject, u.PasswordHash, now)
	ds.Trust = trustOf(trusted)
	return ds, nil
}

// keepNewestChain revokes every chain of (subject, device) but the newest.
// tokens.Manager.Issue already ended the chains it found, but two logins
// on one device at once can each miss the other's; whichever runs this
// last sees both, and every run keeps the same one.
func (a *Authenticator) keepNewestChain(ctx context.Context, subject, device string) error {
	items, err := a.tokens.List(ctx, subject, store.Filter{Kind: store.KindDevice, Device: device})
	if err != nil || len(items) < 2 {
		return err
	}
	newest := slices.MaxFunc(items, func(x, y store.Item) int { return chainOrder(x.Record, y.Record) })
	for _, it := range items {
		if f := it.Record.Family; f != newest.Record.Family {
			if _, err := a.tokens.RevokeAll(ctx, subject, store.Filter{Kind: store.KindDevice, Device: device, Family: f}); err != nil {
				return err
			}
		}
	}
	return nil
}

// chainOrder orders device records by when their chain began, then by
// family: a total order every instance agrees on.
func chainOrder(x, y store.Record) int {
	if c := x.AuthTime.Compare(y.AuthTime); c != 0 {
		return c
	}
	return cmp.Compare(x.Family, y.Family)
}

// deviceSession issues the session that goes with a device token.
func (a *Authenticator) deviceSession(ctx context.Context, dev tokens.Issued) (DeviceSession, error) {
	r := dev.Record
	iss, err := a.tokens.Issue(ctx, store.KindSession, tokens.Claims{
		Subject: r.Subject, Project: r.Project, Device: r.Device, Family: r.Family, AuthTime: r.AuthTime,
		Assurance: r.Assurance,
	})
	if err != nil {
		return DeviceSession{}, err
	}
	return DeviceSession{
		Session:         Session{User: User{Subject: r.Subject}, Token: iss.Token, Project: r.Project, ExpiresAt: iss.Record.ExpiresAt},
		Device:          r.Device,
		DeviceToken:     dev.Token,
		DeviceExpiresAt: r.ExpiresAt,
		ChainEnd:        r.ChainEnd,
	}, nil
}

// ReAuthenticate redeems a device's re-authentication token for a new
// session and a new device token (rotation): the presented token is spent.
// The new token lasts tokens.Config.DeviceTTL from now, but never past the
// chain's absolute end; after that end it is tokens.ErrInvalid and the
// user must log in with the password again.
//
// device must be the name the token was issued for, else ErrWrongDevice
// and the token stays unspent. A token that was already redeemed is a
// replay, by whoever copied it or by the device itself after losing the
// answer: the device's whole chain is revoked, sessions included, and the
// error is a *ReusedError (errors.Is tokens.ErrReused). Of concurrent
// redemptions of one token exactly one succeeds; the others are replays,
// so the chain ends revoked.
//
// The user is not looked up again: Deactivate, LogoutEverywhere and
// RevokeDevice end chains, so call one of them when an account is
// deactivated or its password changes.
func (a *Authenticator) ReAuthenticate(ctx context.Context, device, token string) (ds DeviceSession, err error) {
	return a.reAuthenticate(ctx, device, token, nil)
}

// reAuthenticate is ReAuthenticate; with project, a live token of another
// project is errOtherProject and stays unspent.
func (a *Authenticator) reAuthenticate(ctx context.Context, device, token string, project *string) (ds DeviceSession, err error) {
	defer func() {
		a.record(ctx, audit.TokenRotated, audit.TokenRejected, "rotate", err, kindAttr(store.KindDevice),
			subjectAttr(ds.User.Subject), projectAttr(ds.Project), deviceAttr(device))
	}()
	if err := checkDeviceName(device); err != nil {
		return DeviceSession{}, err
	}
	rec, err := a.tokens.Validate(ctx, store.KindDevice, token)
	switch {
	case errors.Is(err, tokens.ErrInvalid):
		// Gone, or spent: only Rotate can tell, and on reuse it revokes
		// the chain.
		next, err := a.tokens.Rotate(ctx, token)
		if err == nil {
			// It came to life between the two calls, which a random
			// token does not; refuse it and end what was just issued.
			_, _ = a.tokens.RevokeAll(ctx, next.Record.Subject, store.Filter{Family: next.Record.Family})
			return DeviceSession{}, tokens.ErrInvalid
		}
		return DeviceSession{}, rotateError(next.Record, err)
	case err != nil:
		return DeviceSession{}, err
	case rec.Device != device:
		return DeviceSession{}, ErrWrongDevice
	case project != nil && rec.Project != *project:
		return DeviceSession{}, errOtherProject
	}
	// The session first, in the chain's family: should issuing it fail,
	// the device token is still unspent and the device can retry.
	ds, err = a.deviceSession(ctx, tokens.Issued{Record: rec})
	if err != nil {
		return DeviceSession{}, err
	}
	next, err := a.tokens.Rotate(ctx, token)
	if err != nil {
		// On reuse the store has already ended the session with the rest
		// of the family; otherwise end it here. Best effort: nobody holds it.
		_ = a.tokens.Revoke(ctx, store.KindSession, ds.Token)
		return DeviceSession{}, rotateError(next.Record, err)
	}
	ds.DeviceToken = next.Token
	ds.DeviceExpiresAt = next.Record.ExpiresAt
	ds.ChainEnd = next.Record.ChainEnd
	return ds, nil
}

func rotateError(spent store.Record, err error) error {
	if errors.Is(err, tokens.ErrReused) {
		return &ReusedError{Subject: spent.Subject, Project: spent.Project, Device: spent.Device}
	}
	return err
}

// Device is one of a subject's devices that can re-authenticate.
type Device struct {
	Name string
	// Created is the password login that started the device's chain.
	Created time.Time
	// LastUsed is the device's last re-authentication, or Created.
	LastUsed time.Time
	// ExpiresAt is when the device's current token expires unused.
	ExpiresAt time.Time
	// ChainEnd is when the chain ends however it is used.
	ChainEnd time.Time
}

// Devices lists the subject's devices with a live re-authentication
// token, most recently used first.
func (a *Authenticator) Devices(ctx context.Context, subject string) ([]Device, error) {
	items, err := a.tokens.List(ctx, subject, store.Filter{Kind: store.KindDevice})
	if err != nil {
		return nil, err
	}
	// Newest chain first, so that a device caught with two chains (two
	// logins at once) is listed once, with the chain that will stay.
	slices.SortFunc(items, func(x, y store.Item) int { return chainOrder(y.Record, x.Record) })
	seen := make(map[string]bool, len(items))
	out := make([]Device, 0, len(items))
	for _, it := range items {
		r := it.Record
		if seen[r.Device] {
			continue
		}
		seen[r.Device] = true
		out = append(out, Device{Name: r.Device, Created: r.AuthTime, LastUsed: r.IssuedAt, ExpiresAt: r.ExpiresAt, ChainEnd: r.ChainEnd})
	}
	slices.SortFunc(out, func(x, y Device) int {
		if c := y.LastUsed.Compare(x.LastUsed); c != 0 {
			return c
		}
		return cmp.Compare(x.Name, y.Name)
	})
	return out, nil
}

// RevokeDevice signs one of the subject's devices out: it ends the
// device's re-authentication chain and every session issued to that device
// name, and reports how many tokens it ended. Other devices are untouched.
// Revoking a device that has nothing live is not an error.
func (a *Authenticator) RevokeDevice(ctx context.Context, subject, device string) (ended int, err error) {
	defer func() {
		a.record(ctx, audit.SessionRevoked, audit.SessionRevoked, "revoke_device", err, subjectAttr(subject), deviceAttr(device), countAttr(ended))
	}()
	if subject == "" {
		return 0, errors.New("auth: RevokeDevice needs a subject")
	}
	if err := checkDeviceName(device); err != nil {
		return 0, err
	}
	return a.tokens.RevokeAll(ctx, subject, store.Filter{Device: device})
}
