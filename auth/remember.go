package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/clientaddr"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// Browser remember-me is the browser's counterpart of a device's
// re-authentication token (LoginDevice, ReAuthenticate): a login that asks
// to be remembered starts a device chain for a browser, named at random,
// and keeps the chain's token in the RememberCookie cookie. When the
// browser's session is gone (expired, idle, or its cookie lost), a
// middleware.Guard given RememberMe redeems the cookie for a new session
// and a new token, so the user comes back without the password; the
// chain's absolute end (tokens.Config.DeviceChainTTL, 90 days) then asks
// for it again. Each use rotates the token, and a replay of a spent one
// (a copied cookie used after the browser used its own, or the other way
// round) revokes the chain and every session issued from it: both
// browsers are logged out (*ReusedError, 401 token_reused).
//
// The chain is an ordinary device chain: Devices lists the browser under
// its generated name, RevokeDevice, LogoutEverywhere, Deactivate and a
// password reset end it, and so does logging out of a session issued
// from it.
const (
	// RememberCookie is the name of the remember-me cookie: Secure,
	// HttpOnly, SameSite=Lax, for the whole site. The __Host- prefix makes
	// browsers refuse it from a sibling subdomain or a plain-HTTP page.
	RememberCookie = "__Host-gatehouse-remember"
	// RememberGrace is how long, after a remember-me token was redeemed,
	// the same instance answers a redemption of that same token with the
	// same new session and token instead of treating it as a replay. A
	// page that finds its session expired sends its requests at once, each
	// with the cookie it holds; without a grace, every request but the
	// first would revoke the chain. A thief's copy used within the grace
	// gets what the browser got, so both hold one chain and the next
	// rotation by either makes the other's next use a replay: the theft is
	// still found, one use later. The grace is kept in the instance's
	// memory: requests of one page that two instances serve at once are
	// not covered (see docs/security.md).
	RememberGrace = 5 * time.Second

	// rememberDevicePrefix starts every browser's device name; 8 random
	// bytes in unpadded base64url follow.
	rememberDevicePrefix = "browser-"
	rememberDeviceRand   = 8
	// maxRememberTokenLen bounds the token part of the cookie before it
	// is parsed: a device token is far shorter.
	maxRememberTokenLen = 128
	// maxRememberCalls bounds the redemptions kept for RememberGrace.
	maxRememberCalls = 4096
)

var rememberEncoding = base64.RawURLEncoding.Strict()

// errOtherProject: a live remember-me token of another project than the
// one asked for; it is left unspent and answered as no token at all.
var errOtherProject = fmt.Errorf("auth: the remember-me token is for another project: %w", tokens.ErrMissing)

// newBrowserName returns a random device name for a browser's chain.
func newBrowserName() string {
	var b [rememberDeviceRand]byte
	rand.Read(b[:])
	return rememberDevicePrefix + rememberEncoding.EncodeToString(b[:])
}

// validBrowserName reports whether device has the shape newBrowserName
// gives.
func validBrowserName(device string) bool {
	rest, ok := strings.CutPrefix(device, rememberDevicePrefix)
	if !ok || len(rest) != rememberEncoding.EncodedLen(rememberDeviceRand) {
		return false
	}
	var b [rememberDeviceRand]byte
	n, err := rememberEncoding.Decode(b[:], []byte(rest))
	return err == nil && n == rememberDeviceRand
}

// parseRemember splits a remember-me cookie value, "<device>.<token>",
// and checks its shape; ok is false for anything that is not one.
func parseRemember(value string) (device, token string, ok bool) {
	device, token, ok = strings.Cut(value, ".")
	if !ok || !validBrowserName(device) || len(token) > maxRememberTokenLen || tokens.KindOf(token) != store.KindDevice {
		return "", "", false
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", "", false
		}
	}
	return device, token, true
}

// RememberFromRequest returns the browser's device name and remember-me
// token from r's RememberCookie, with ok false when r carries none, two
// (a sibling subdomain can plant one), or a value of the wrong shape; it
// does no I/O. Handlers that log users in or out themselves call it
// (RestoreRemembered, ForgetRemembered).
func RememberFromRequest(r *http.Request) (device, token string, ok bool) {
	cs := r.CookiesNamed(RememberCookie)
	if len(cs) != 1 {
		return "", "", false
	}
	return parseRemember(cs[0].Value)
}

// SetRememberCookie keeps the browser's remember-me token (ds from
// LoginRemembered or RestoreRemembered) in its RememberCookie cookie until
// the token expires, counted on the Authenticator's clock: Secure, HttpOnly, SameSite=Lax, for the whole site,
// as the __Host- prefix demands (browsers keep Secure cookies of
// http://localhost too). A DeviceSession of another device (LoginDevice)
// is an error and sets nothing: its name would not read back.
func (a *Authenticator) SetRememberCookie(w http.ResponseWriter, ds DeviceSession) error {
	value := ds.Device + "." + ds.DeviceToken
	if _, _, ok := parseRemember(value); !ok {
		return errors.New("auth: SetRememberCookie needs a DeviceSession from LoginRemembered or RestoreRemembered")
	}
	http.SetCookie(w, &http.Cookie{Name: RememberCookie, Value: value, Path: "/",
		MaxAge: max(1, int(ds.DeviceExpiresAt.Sub(a.now())/time.Second)),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return nil
}

// ClearRememberCookie deletes the browser's RememberCookie. It ends
// nothing in the store: call ForgetRemembered first on logout.
func ClearRememberCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: RememberCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// LoginRemembered is Login for a browser that asked to be remembered: it
// checks the credentials as Login does, then starts a device chain under a
// new random browser name and issues the session in it (LoginDevice). Keep
// the result with SetRememberCookie beside the session cookie. Each call
// starts a chain of its own; end the one a browser held before with
// ForgetRemembered.
func (a *Authenticator) LoginRemembered(ctx context.Context, c Credentials, project string) (DeviceSession, error) {
	return a.LoginDevice(ctx, c, project, newBrowserName())
}

// RestoreRemembered redeems a browser's remember-me token (from
// RememberFromRequest) for a new session of the project and a rotated
// token, as ReAuthenticate does, without the password. Keep both
// (SetRememberCookie and the session cookie). A well-formed token takes
// one unit of the client's login rate limit (limit.Login, as a password
// login does; client as in Credentials.Client) before the store is asked
// for it; a malformed one is refused first, at no cost.
//
// Errors: a malformed token, or a token of another project (left
// unspent), is tokens.ErrMissing; an unknown, expired or revoked token, or
// one past its chain's end, is tokens.ErrInvalid (ErrWrongDevice for a
// live token under another name); a spent one is a *ReusedError, and the
// chain is revoked, sessions included; a spent rate limit is a
// *limit.Error (429); a store failure wraps store.ErrUnavailable. Clear
// the cookie on tokens.ErrInvalid and tokens.ErrReused, and keep it on the
// others.
//
// Redemptions of one token that overlap, or follow within RememberGrace,
// on one Authenticator share one rotation and get the same result (see
// RememberGrace); across instances, the store's rotation is atomic and
// exactly one wins: the others are replays.
func (a *Authenticator) RestoreRemembered(ctx context.Context, client netip.Prefix, device, token, project string) (DeviceSession, error) {
	if _, _, ok := parseRemember(device + "." + token); !ok {
		return DeviceSession{}, tokens.ErrMissing
	}
	if a.limiter != nil {
		if err := a.limiter.Allow(ctx, limit.Login, client, ""); err != nil {
			a.record(ctx, audit.TokenRotated, audit.TokenRejected, "rotate", err, kindAttr(store.KindDevice), deviceAttr(device))
			return DeviceSession{}, err
		}
	}
	// Keyed by the project too: a redemption for another project must
	// not be handed this one's session.
	return a.remembering.do(ctx, project+"\x00"+device+"."+token, a.now, func() (DeviceSession, error) {
		ds, err := a.reAuthenticate(context.WithoutCancel(ctx), device, token, &project)
		if errors.Is(err, tokens.ErrMalformed) || errors.Is(err, tokens.ErrWrongKind) {
			err = tokens.ErrMissing
		}
		return ds, err
	})
}

// ForgetRemembered ends the chain of a browser's remember-me token, its
// live token and every session issued from it, as logging out of one of
// those sessions does. A spent token is a replay, as it is to
// RestoreRemembered: the chain (which a copy used since holds now) is
// revoked. A token that is unknown, spent, expired or not of the device
// is not an error.
func (a *Authenticator) ForgetRemembered(ctx context.Context, device, token string) (err error) {
	if _, _, ok := parseRemember(device + "." + token); !ok {
		return nil
	}
	rec, err := a.tokens.Validate(ctx, store.KindDevice, token)
	switch {
	case errors.Is(err, store.ErrUnavailable):
		a.record(ctx, audit.SessionRevoked, audit.SessionRevoked, "forget_remembered", err, deviceAttr(device))
		return err
	case errors.Is(err, tokens.ErrInvalid):
		// Gone, or spent: a spent one is a replay like any other (a
		// copy used since, by a thief, holds the chain now), and Rotate
		// revokes its chain, as RestoreRemembered would.
		next, err := a.tokens.Rotate(ctx, token)
		switch {
		case err == nil:
			// It came to life between the two calls, which a random
			// token does not: end what was just issued.
			_, err = a.tokens.RevokeAll(ctx, next.Record.Subject, store.Filter{Family: next.Record.Family})
			return err
		case errors.Is(err, store.ErrUnavailable):
			return err
		}
		return nil
	case err != nil, rec.Device != device, rec.Family == "":
		return nil
	}
	err = a.endChain(ctx, rec)
	a.record(ctx, audit.SessionRevoked, audit.SessionRevoked, "forget_remembered", err,
		subjectAttr(rec.Subject), projectAttr(rec.Project), deviceAttr(device))
	return err
}

// RememberMe restores browsers' sessions from their remember-me cookie for
// a middleware.Guard: pass it as GuardConfig.Remember (it implements
// middleware.Remember). Login handlers start the chains: LoginHandler with
// HandlerOptions.RememberMe, or a handler of the app's own that calls
// LoginRemembered and SetRememberCookie. It is safe for concurrent use.
type RememberMe struct {
	a      *Authenticator
	client func(*http.Request) (netip.Prefix, error)
}

// RememberOptions configure a RememberMe. The zero value serves clients
// that connect directly.
type RememberOptions struct {
	// Client returns the client's network, for the per-client login rate
	// limit each redemption takes (RestoreRemembered); default
	// clientaddr.FromRequest (RemoteAddr, IPv6 grouped by /64). Behind a
	// reverse proxy pass the Client method of a clientaddr.Resolver, as
	// for HandlerOptions.Client: else every browser counts as the proxy,
	// and they share one limit. An error is answered as is (400
	// invalid_forwarded, say) and nothing is redeemed.
	Client func(*http.Request) (netip.Prefix, error)
}

// RememberMe returns the remember-me hook of a middleware.Guard (see
// RememberMe).
func (a *Authenticator) RememberMe(opts RememberOptions) *RememberMe {
	m := &RememberMe{a: a, client: opts.Client}
	if m.client == nil {
		m.client = func(r *http.Request) (netip.Prefix, error) { return clientaddr.FromRequest(r), nil }
	}
	return m
}

// Remembered reports whether r carries a well-formed remember-me cookie;
// it does no I/O.
func (m *RememberMe) Remembered(r *http.Request) bool {
	_, _, ok := RememberFromRequest(r)
	return ok
}

// Restore redeems r's remember-me cookie for a new session of the project
// (RestoreRemembered), sets the rotated cookie on w and returns the
// session's token and expiry, for the guard to keep in the session cookie.
// On a dead or spent token (tokens.ErrInvalid, tokens.ErrReused) it clears
// the cookie; on any other error (a store failure, a spent rate limit, a
// token of another project) it leaves it.
func (m *RememberMe) Restore(w http.ResponseWriter, r *http.Request, project string) (string, time.Time, error) {
	device, token, ok := RememberFromRequest(r)
	if !ok {
		return "", time.Time{}, tokens.ErrMissing
	}
	client, err := m.client(r)
	if err != nil {
		return "", time.Time{}, err
	}
	ds, err := m.a.RestoreRemembered(r.Context(), client, device, token, project)
	if err == nil {
		err = m.a.SetRememberCookie(w, ds)
	}
	switch {
	case err == nil:
		return ds.Token, ds.ExpiresAt, nil
	case errors.Is(err, tokens.ErrInvalid), errors.Is(err, tokens.ErrReused):
		ClearRememberCookie(w)
	}
	return "", time.Time{}, err
}

// rememberFlight shares one redemption of a remember-me token among the
// requests that present it at once or within RememberGrace after it.
type rememberFlight struct {
	mu    sync.Mutex
	calls map[[32]byte]*rememberCall
}

type rememberCall struct {
	done chan struct{}
	ds   DeviceSession
	err  error
	// end is when a successful result stops being shared; zero while the
	// redemption runs. Guarded by rememberFlight.mu.
	end time.Time
}

// do runs fn, the redemption of the token key names, or waits for the one
// running or finished within RememberGrace and returns its result. Only
// successes are kept after they finish; the map holds maxRememberCalls at
// most, and past that a redemption runs unshared.
func (f *rememberFlight) do(ctx context.Context, key string, now func() time.Time, fn func() (DeviceSession, error)) (DeviceSession, error) {
	k := sha256.Sum256([]byte(key))
	f.mu.Lock()
	if c, ok := f.calls[k]; ok && (c.end.IsZero() || now().Before(c.end)) {
		f.mu.Unlock()
		select {
		case <-c.done:
			return c.ds, c.err
		case <-ctx.Done():
			return DeviceSession{}, ctx.Err()
		}
	}
	if f.calls == nil {
		f.calls = make(map[[32]byte]*rememberCall)
	}
	// Sweep what the grace is over for: the map stays small, and the
	// tokens of a finished redemption do not stay in memory. Redemptions
	// are rare (one per browser whose session ended), the sweep cheap.
	t := now()
	for k, c := range f.calls {
		if !c.end.IsZero() && !t.Before(c.end) {
			delete(f.calls, k)
		}
	}
	if len(f.calls) >= maxRememberCalls {
		f.mu.Unlock()
		return fn()
	}
	c := &rememberCall{done: make(chan struct{})}
	f.calls[k] = c
	f.mu.Unlock()

	c.ds, c.err = fn()
	f.mu.Lock()
	if c.err == nil {
		c.end = now().Add(RememberGrace)
	} else if f.calls[k] == c {
		delete(f.calls, k)
	}
	f.mu.Unlock()
	close(c.done)
	return c.ds, c.err
}
