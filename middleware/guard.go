package middleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// Errors a guard reports besides those of package tokens and store.
var (
	// ErrNoToken: neither a bearer header nor a session cookie (401 missing_token).
	ErrNoToken = problem.New("middleware: no token presented", problem.Error{
		Status: http.StatusUnauthorized, Code: "missing_token", Message: "no token was presented"})
	// ErrWrongProject: a valid session of another project (403 wrong_project).
	ErrWrongProject = problem.New("middleware: session is for another project", problem.Error{
		Status: http.StatusForbidden, Code: "wrong_project", Message: "the session does not open this project"})
	// ErrCrossOrigin: a request with an unsafe method (POST, PUT, PATCH,
	// DELETE, ...) that a browser sent from another origin with the
	// session cookie, refused before the session is looked up (403
	// cross_origin). The error a guard reports wraps it with
	// http.CrossOriginProtection's reason; match it with errors.Is.
	ErrCrossOrigin = problem.New("middleware: cross-origin request refused", problem.Error{
		Status: http.StatusForbidden, Code: "cross_origin", Message: "cross-origin request refused"})
)

// Principal is who a request is authenticated as.
type Principal struct {
	Subject   string
	Project   string
	Device    string
	Kind      store.Kind
	IssuedAt  time.Time
	ExpiresAt time.Time
	// AuthTime is when the subject last authenticated: proved a password
	// (and, for a two-step login, the second factor right after it).
	AuthTime time.Time
	// Assurance is the authenticator assurance level the session was born
	// with (store.Record.Assurance): 1 for a password alone
	// (auth.AssurancePassword), 2 for a password and a second factor
	// (auth.AssuranceMultiFactor), 0 when none was recorded. Sessions
	// from a device or remember-me chain keep their chain's level.
	// RequireAssurance checks it.
	Assurance uint8

	// session is the part of the session's store ID that SessionID
	// names (tokens.PublicID reads the hash's first 16 bytes): the
	// principal of every request carries it, so it is kept small.
	session [16]byte
}

// SessionID is the public id of the principal's session (tokens.PublicID):
// the id auth.Authenticator.Sessions marks as current and RevokeSession
// takes. It is not the token, nor enough to find it. Empty for a
// principal made by NewContext.
func (p Principal) SessionID() string {
	if p.session == ([16]byte{}) {
		return ""
	}
	var id store.ID
	copy(id.Hash[:], p.session[:])
	return tokens.PublicID(id)
}

type principalKey struct{}

// FromContext returns the principal a guard put in the context.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	if !ok {
		return Principal{}, false
	}
	return *p, true
}

// NewContext returns a copy of ctx carrying p, for tests of handlers that
// read FromContext.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, &p)
}

// GuardConfig configures a [Guard]. Tokens is required.
type GuardConfig struct {
	// Tokens validates session tokens. Required.
	Tokens *tokens.Manager
	// Cookies, when set, lets browsers present their session as a cookie.
	// A bearer header wins over a cookie.
	Cookies *Cookies
	// Project returns the project the request is for; its session must
	// belong to it. Default nil: any project's session is accepted, and a
	// cookie is read for the project "".
	Project func(*http.Request) string
	// Deny answers requests the guard refuses; default: the error's
	// Problem as JSON (401, 403 or 503).
	Deny func(w http.ResponseWriter, r *http.Request, err error)
	// CrossOrigin checks requests that present their session as a cookie
	// and use an unsafe method (anything but GET, HEAD and OPTIONS): a
	// browser attaches the cookie to a request another origin's page
	// makes, so such a request must come from the app's own origin (the
	// browser's Sec-Fetch-Site, or Origin against Host), or it is refused
	// with [ErrCrossOrigin]. Requests with a bearer header, and clients
	// that are not browsers (no Sec-Fetch-Site, no Origin), are not
	// affected. Default: http.NewCrossOriginProtection(); set one to trust
	// other origins of the app (AddTrustedOrigin) or to exempt paths
	// (AddInsecureBypassPattern). Its deny handler is not used: refusals
	// go to Deny.
	CrossOrigin *http.CrossOriginProtection
	// Remember, with Cookies, brings a browser's session back from a
	// longer-lived remember-me credential when the request carries no
	// valid session cookie: a missing one, or one that expired, idled out
	// or was revoked. The guard asks Remember to restore a session (auth's
	// Authenticator.RememberMe does it with a device chain: it rotates the
	// remember-me cookie and issues a new session), sets the new session
	// cookie on the response, and serves the request as its principal. The
	// cross-origin check below runs before it, as before a session lookup.
	// Bearer requests never use it, and neither do Authenticate and Check,
	// which have no response to set cookies on. Default nil: no
	// remember-me; an expired session is 401 and the user logs in again.
	Remember Remember
	// AllowCrossOriginCookies turns that check off: a page of any origin
	// can then make the user's browser send the session cookie with a
	// POST, PUT, PATCH or DELETE that the guard lets through (CSRF).
	// Only for apps that check the origin of such requests themselves.
	AllowCrossOriginCookies bool
	// IdleTimeout ends a session that made no request for this long: it
	// is revoked and refused as an expired one (401 invalid_token,
	// tokens.ErrIdle), however long its tokens.Config.SessionTTL still
	// runs. Default 0: none, the session lasts SessionTTL however idle
	// (a password alone is NIST SP 800-63B's AAL1, which asks no idle
	// timeout; docs/settings.md gives AAL2's 30 minutes and the cost).
	IdleTimeout time.Duration
	// TouchInterval is how often an active session's last activity is
	// written to the store: a request that comes TouchInterval or more
	// after the last write writes once (tokens.Manager.ValidateIdle),
	// every other request writes nothing. A session may so end up to
	// TouchInterval before IdleTimeout. Default, with IdleTimeout set: a
	// minute, or IdleTimeout/10 when that is shorter. It must be below
	// IdleTimeout, and is an error without it.
	TouchInterval time.Duration

	// Logger and Metrics receive the audit events store.unavailable when
	// the store cannot be asked, token.tag_mismatch when a session was
	// issued under another tokens.Config.TagKey, and cookie.duplicate when
	// a request carries two session cookies of the name, one of which may
	// have been planted by a sibling subdomain: it is then answered as one
	// without a session (see package audit). Refusals of bad or expired tokens are
	// not events: they are the normal traffic of every protected route.
	// Default nil: none.
	Logger  *slog.Logger
	Metrics audit.Metrics
}

// Remember restores a browser's session from a remember-me credential the
// request carries beside (or instead of) its session cookie. A [Guard] in
// cookie mode calls it (GuardConfig.Remember); auth.Authenticator.RememberMe
// implements it with a rotated device chain. Implementations must be safe
// for concurrent use.
type Remember interface {
	// Remembered reports whether r carries a well-formed remember-me
	// credential. It does no I/O: garbage, and two credentials of one name
	// (a sibling subdomain can plant one), are no credential, and the
	// guard answers as it does without one.
	Remembered(r *http.Request) bool
	// Restore redeems r's credential for a new session of the project
	// (the project the guard reads cookies for: "" without
	// GuardConfig.Project) and returns its token and expiry; it sets its
	// own rotated credential on w, or clears it when the credential is
	// spent or dead. The guard puts the token into the session cookie.
	// Errors: tokens.ErrMissing when r carries no usable credential
	// (nothing was done: the guard answers as without one); an error
	// matching tokens.ErrInvalid (dead) or tokens.ErrReused (a spent
	// credential replayed: its chain is revoked), on which the guard also
	// clears the project's session cookie, dead by then; an error
	// wrapping store.ErrUnavailable when the store cannot be asked (503).
	// Any error but ErrMissing refuses the request with its Problem (a
	// rate limit's 429, say); only the two token errors clear anything.
	Restore(w http.ResponseWriter, r *http.Request, project string) (token string, expires time.Time, err error)
}

// Guard protects routes: it takes the session token from the bearer header
// or the cookie, validates it (shape first, then one store lookup), and puts
// the [Principal] in the request's context. With an idle timeout
// (GuardConfig.IdleTimeout), a request also writes the session's last
// activity, at most once per GuardConfig.TouchInterval. It is safe for
// concurrent use.
//
// A store that fails means "not authenticated": the request is refused with
// 503 and never let through.
type Guard struct {
	tokens   *tokens.Manager
	cookies  *Cookies
	remember Remember
	project  func(*http.Request) string
	deny     func(http.ResponseWriter, *http.Request, error)
	rec      *audit.Recorder
	idle     tokens.Idle
	// crossOrigin checks cookie-authenticated requests; nil with
	// AllowCrossOriginCookies.
	crossOrigin *http.CrossOriginProtection
}

// NewGuard checks cfg and returns a Guard.
func NewGuard(cfg GuardConfig) (*Guard, error) {
	if cfg.Tokens == nil {
		return nil, errors.New("middleware: GuardConfig.Tokens is nil")
	}
	if cfg.Remember != nil && cfg.Cookies == nil {
		return nil, errors.New("middleware: GuardConfig.Remember needs GuardConfig.Cookies to keep the session it restores")
	}
	g := &Guard{tokens: cfg.Tokens, cookies: cfg.Cookies, remember: cfg.Remember, project: cfg.Project, deny: cfg.Deny,
		rec: audit.New(cfg.Logger, cfg.Metrics)}
	g.idle = tokens.Idle{Timeout: cfg.IdleTimeout, TouchInterval: cfg.TouchInterval}
	if g.idle.Timeout > 0 && g.idle.TouchInterval == 0 {
		g.idle.TouchInterval = min(time.Minute, max(g.idle.Timeout/10, 1))
	}
	if err := g.idle.Check(); err != nil {
		return nil, fmt.Errorf("middleware: GuardConfig.IdleTimeout, TouchInterval: %w", err)
	}
	if g.deny == nil {
		g.deny = func(w http.ResponseWriter, _ *http.Request, err error) { problem.Write(w, err) }
	}
	switch {
	case cfg.AllowCrossOriginCookies && cfg.CrossOrigin != nil:
		return nil, errors.New("middleware: GuardConfig sets both CrossOrigin and AllowCrossOriginCookies")
	case cfg.AllowCrossOriginCookies:
	case cfg.CrossOrigin != nil:
		g.crossOrigin = cfg.CrossOrigin
	default:
		g.crossOrigin = http.NewCrossOriginProtection()
	}
	return g, nil
}

// Authenticate returns the principal of the request's session, or why there
// is none. A session cookie on a cross-origin request with an unsafe method
// is refused ([ErrCrossOrigin]) before any store lookup. It never restores
// a session from GuardConfig.Remember: it has no response to set the
// cookies on (Handler and Optional do).
func (g *Guard) Authenticate(r *http.Request) (Principal, error) {
	return g.authenticate(nil, r)
}

// AuthenticateOrRestore is Authenticate for a handler that answers the
// request itself (a server-rendered page that sends a browser without a
// session to its login form): with GuardConfig.Remember, a browser whose
// session is gone comes back from its remember-me cookie, and the new
// session and rotated remember-me cookies are set on w, as Handler does.
func (g *Guard) AuthenticateOrRestore(w http.ResponseWriter, r *http.Request) (Principal, error) {
	return g.authenticate(w, r)
}

// authenticate is Authenticate; with w it also restores a session from
// g.remember when the request has no valid session cookie.
func (g *Guard) authenticate(w http.ResponseWriter, r *http.Request) (Principal, error) {
	project := ""
	if g.project != nil {
		project = g.project(r)
	}
	token := tokens.FromAuthorization(r.Header.Get("Authorization"))
	fromCookie := false
	if token == "" && g.cookies != nil {
		var duplicate bool
		if token, duplicate = g.cookies.sessionToken(r, project); duplicate {
			g.rec.Record(r.Context(), audit.CookieDuplicate, slog.String(audit.KeyClient, r.RemoteAddr))
			return Principal{}, ErrNoToken
		}
		fromCookie = true
	}
	// remembers reports whether the request may come back from a
	// remember-me credential: asked only when the session cookie did not
	// do, so that the hot path (a live session) never parses it.
	remembers := func() bool { return fromCookie && w != nil && g.remember != nil && g.remember.Remembered(r) }
	if token == "" {
		if !remembers() {
			return Principal{}, ErrNoToken
		}
		if err := g.checkOrigin(r); err != nil {
			return Principal{}, err
		}
		return g.restore(w, r, project, nil)
	}
	if fromCookie {
		if err := g.checkOrigin(r); err != nil {
			return Principal{}, err
		}
	}
	p, err := g.validate(r, project, token)
	// Only a session that is not there (expired, idle, revoked) comes
	// back from the remember-me credential: a store failure is 503, a
	// session of another project or key is refused as is.
	if err != nil && (errors.Is(err, tokens.ErrInvalid) || errors.Is(err, tokens.ErrIdle)) && remembers() {
		return g.restore(w, r, project, err)
	}
	return p, err
}

// checkOrigin refuses a cross-origin request with an unsafe method that
// presents a cookie credential (a session or remember-me cookie): a page
// of another origin must not get a session out of either. Check answers
// nil at once for GET, HEAD and OPTIONS: the cookie requests of the hot
// path pay for a switch.
func (g *Guard) checkOrigin(r *http.Request) error {
	if g.crossOrigin == nil {
		return nil
	}
	if err := g.crossOrigin.Check(r); err != nil {
		return fmt.Errorf("%w: %w", ErrCrossOrigin, err)
	}
	return nil
}

// restore brings the session back from the remember-me credential; prev
// is why the session cookie did not do (nil: there was none), answered
// when the credential turns out unusable before any I/O.
func (g *Guard) restore(w http.ResponseWriter, r *http.Request, project string, prev error) (Principal, error) {
	if prev == nil {
		prev = ErrNoToken
	}
	token, expires, err := g.remember.Restore(w, r, project)
	if err == nil {
		err = g.cookies.SetSession(w, r, project, token, expires)
	}
	if err != nil {
		switch {
		case errors.Is(err, tokens.ErrMissing):
			return Principal{}, prev
		case errors.Is(err, store.ErrUnavailable):
			g.rec.Record(r.Context(), audit.StoreUnavailable, slog.String(audit.KeyOp, "remember"),
				slog.String(audit.KeyClient, r.RemoteAddr))
		case errors.Is(err, tokens.ErrInvalid), errors.Is(err, tokens.ErrReused):
			// The credential is dead or spent (its chain, sessions
			// included, is revoked), and the session cookie, if any,
			// was already dead: the browser keeps neither. Best
			// effort: the answer is 401 anyway.
			_ = g.cookies.ClearSession(w, r, project)
		}
		return Principal{}, err
	}
	return g.validate(r, project, token)
}

// validate looks the session token up and makes its principal.
func (g *Guard) validate(r *http.Request, project, token string) (Principal, error) {
	id, rec, err := g.tokens.ValidateIdle(r.Context(), store.KindSession, token, g.idle)
	if err != nil {
		switch {
		case g.rec == nil:
		case errors.Is(err, store.ErrUnavailable):
			g.rec.Record(r.Context(), audit.StoreUnavailable, slog.String(audit.KeyOp, "validate"),
				slog.String(audit.KeyClient, r.RemoteAddr))
		case errors.Is(err, tokens.ErrTagMismatch):
			g.rec.Record(r.Context(), audit.TokenTagMismatch, slog.String(audit.KeyOp, "validate"),
				slog.String(audit.KeyKind, store.KindSession.String()), slog.String(audit.KeyClient, r.RemoteAddr))
		}
		return Principal{}, err
	}
	if g.project != nil && rec.Project != project {
		return Principal{}, ErrWrongProject
	}
	return Principal{
		Subject: rec.Subject, Project: rec.Project, Device: rec.Device, Kind: rec.Kind,
		IssuedAt: rec.IssuedAt, ExpiresAt: rec.ExpiresAt, AuthTime: rec.AuthTime, Assurance: rec.Assurance,
		session: [16]byte(id.Hash[:16]),
	}, nil
}

// Check reports whether the request carries a valid session that it may
// use: nil, or the error the guard would deny it with (among them
// [ErrCrossOrigin]).
func (g *Guard) Check(r *http.Request) error {
	_, err := g.Authenticate(r)
	return err
}

// Handler lets through requests with a valid session, with the principal in
// their context, and denies the others. With GuardConfig.Remember, a
// browser whose session cookie is missing or dead comes back silently
// from its remember-me cookie: the response then carries the new session
// cookie and the rotated remember-me cookie.
func (g *Guard) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := g.authenticate(w, r)
		if err != nil {
			g.deny(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, &p)))
	})
}

// Optional lets every request through, with the principal in the context
// when the session is valid. A store failure is still denied (503): a page
// that would show a logged-in user must not guess. So is a cross-origin
// request with an unsafe method that carries the session cookie (403): it
// is the browser of a logged-in user made to post by another origin, not an
// anonymous visitor.
func (g *Guard) Optional(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := g.authenticate(w, r)
		switch {
		case err == nil:
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, &p))
		case errors.Is(err, store.ErrUnavailable), errors.Is(err, ErrCrossOrigin):
			g.deny(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}
