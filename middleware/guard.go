package middleware

import (
	"context"
	"errors"
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
)

// Principal is who a request is authenticated as.
type Principal struct {
	Subject   string
	Project   string
	Device    string
	Kind      store.Kind
	IssuedAt  time.Time
	ExpiresAt time.Time
	AuthTime  time.Time
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
	// Logger and Metrics receive the audit events store.unavailable when
	// the store cannot be asked, and token.tag_mismatch when a session was
	// issued under another tokens.Config.TagKey (see package audit; both
	// are warnings). Refusals of bad or expired tokens are not events:
	// they are the normal traffic of every protected route. Default nil:
	// none.
	Logger  *slog.Logger
	Metrics audit.Metrics
}

// Guard protects routes: it takes the session token from the bearer header
// or the cookie, validates it (shape first, then one store lookup), and puts
// the [Principal] in the request's context. It is safe for concurrent use.
//
// A store that fails means "not authenticated": the request is refused with
// 503 and never let through.
type Guard struct {
	tokens  *tokens.Manager
	cookies *Cookies
	project func(*http.Request) string
	deny    func(http.ResponseWriter, *http.Request, error)
	rec     *audit.Recorder
}

// NewGuard checks cfg and returns a Guard.
func NewGuard(cfg GuardConfig) (*Guard, error) {
	if cfg.Tokens == nil {
		return nil, errors.New("middleware: GuardConfig.Tokens is nil")
	}
	g := &Guard{tokens: cfg.Tokens, cookies: cfg.Cookies, project: cfg.Project, deny: cfg.Deny,
		rec: audit.New(cfg.Logger, cfg.Metrics)}
	if g.deny == nil {
		g.deny = func(w http.ResponseWriter, _ *http.Request, err error) { problem.Write(w, err) }
	}
	return g, nil
}

// Authenticate returns the principal of the request's session, or why there
// is none.
func (g *Guard) Authenticate(r *http.Request) (Principal, error) {
	project := ""
	if g.project != nil {
		project = g.project(r)
	}
	token := tokens.FromAuthorization(r.Header.Get("Authorization"))
	if token == "" && g.cookies != nil {
		token = g.cookies.SessionToken(r, project)
	}
	if token == "" {
		return Principal{}, ErrNoToken
	}
	rec, err := g.tokens.Validate(r.Context(), store.KindSession, token)
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
		IssuedAt: rec.IssuedAt, ExpiresAt: rec.ExpiresAt, AuthTime: rec.AuthTime,
	}, nil
}

// Check reports whether the request carries a valid session: nil, or the
// error the guard would deny it with.
func (g *Guard) Check(r *http.Request) error {
	_, err := g.Authenticate(r)
	return err
}

// Handler lets through requests with a valid session, with the principal in
// their context, and denies the others.
func (g *Guard) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := g.Authenticate(r)
		if err != nil {
			g.deny(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, &p)))
	})
}

// Optional lets every request through, with the principal in the context
// when the session is valid. A store failure is still denied (503): a page
// that would show a logged-in user must not guess.
func (g *Guard) Optional(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := g.Authenticate(r)
		switch {
		case err == nil:
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, &p))
		case errors.Is(err, store.ErrUnavailable):
			g.deny(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}
