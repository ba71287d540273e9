// Package limit rate-limits what strangers can ask of an app: logins,
// password resets, verification, mail, sign-up and second factors, per
// client network, per account and in all, on a store's [store.Limits]
// (GCRA: one unit back every interval, a burst at once), so that every
// instance of the app shares one count.
//
// A [Limiter] is configured per [Class] of endpoint with a [Policy]. Its
// [Limiter.Allow] takes one unit from each limit that applies and answers
// an *[Error] (429 rate_limited, with when to retry) when one is spent;
// [Limiter.Handler] puts the per-client and global limits of a class in
// front of any route. Keys are built from canonical values (a client's
// network from package clientaddr, an account's stable id), never from
// raw request text, and a limit's state is gone once it has refilled.
//
// What the limits are for: a per-client limit bounds what one address can
// make the app do, and so what it can make the app store; a per-account
// limit bounds what anyone can do to one account (mail sent to it, say).
// A global limit protects something outside the app (a mail server's
// reputation) and is off by default: a flood from many addresses would
// spend it for everybody, which is the denial of service the per-client
// limits exist to prevent.
package limit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/clientaddr"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
)

// Class names a kind of endpoint, each with a Policy of its own.
type Class string

// The classes gatehouse's endpoints use.
const (
	Login  Class = "login"  // password logins and device re-authentication
	Reset  Class = "reset"  // password reset requests and their redemption
	Verify Class = "verify" // redeeming verification and login-link tokens
	Mail   Class = "mail"   // asking for a confirmation message
	Signup Class = "signup" // creating an account
	MFA    Class = "mfa"    // second-factor checks
)

// Policy is how much of one class is allowed: each Rate that is valid
// (see store.Rate.Valid) is enforced, a zero Rate is no limit.
type Policy struct {
	PerClient  store.Rate // from one client network (an IPv4 address, an IPv6 /64)
	PerAccount store.Rate // on one account, from all clients
	Global     store.Rate // on the whole app; spend it only on what a flood may take from everyone
}

// DefaultPolicies returns the limits a Limiter enforces for the classes
// that Config.Policies does not name, as a new map each call. Per-client
// only, sized for people behind a shared address (an office, a carrier's
// NAT): a person retrying is never near them, a script is stopped within a
// burst.
func DefaultPolicies() map[Class]Policy {
	m := make(map[Class]Policy, len(defaultPolicies))
	for c, p := range defaultPolicies {
		m[c] = p
	}
	return m
}

var defaultPolicies = map[Class]Policy{
	Login:  {PerClient: store.PerPeriod(100, 10*time.Minute)},
	Reset:  {PerClient: store.PerPeriod(20, time.Hour)},
	Verify: {PerClient: store.PerPeriod(60, 10*time.Minute)},
	// Per account too: messages to one account or address that strangers
	// set off (package account's notices) from many networks would
	// otherwise flood its inbox; 5 an hour as auth.MaxMessagesPerHour.
	Mail:   {PerClient: store.PerPeriod(20, time.Hour), PerAccount: store.PerPeriod(5, time.Hour)},
	Signup: {PerClient: store.PerPeriod(20, time.Hour)},
	MFA:    {PerClient: store.PerPeriod(30, 10*time.Minute)},
}

// Scope says which limit refused a request.
type Scope string

// The scopes of a Policy.
const (
	ScopeClient  Scope = "client"
	ScopeAccount Scope = "account"
	ScopeGlobal  Scope = "global"
)

// ErrLimited matches every *Error with errors.Is.
var ErrLimited = errors.New("limit: rate limited")

// Error reports a request refused by a limit (429 rate_limited). Until is
// when the same request would be allowed.
type Error struct {
	Class      Class
	Scope      Scope
	Until      time.Time
	RetryAfter time.Duration // Until less the time of the refusal
}

func (e *Error) Error() string {
	return fmt.Sprintf("limit: %s rate limited per %s until %s", e.Class, e.Scope, e.Until.UTC().Format(time.RFC3339))
}

// Is reports whether target is ErrLimited.
func (e *Error) Is(target error) bool { return target == ErrLimited }

// Problem implements problem.Problemer: 429 rate_limited, with Until
// rounded up to the second so that a retry at Until is allowed.
func (e *Error) Problem() problem.Error {
	until := problem.UntilSecond(e.Until)
	return problem.Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
		Message: "too many requests; try again later", Until: until, RetryAfter: e.RetryAfter}
}

// Config configures a Limiter. Store is required.
type Config struct {
	// Store keeps the limits; usually the store that keeps the tokens.
	Store store.Limits
	// Policies replace DefaultPolicies() class by class: a class named here
	// gets exactly this Policy (Policy{} turns its limits off); the others
	// keep their default.
	Policies map[Class]Policy
	// Logger and Metrics receive the audit event request.rate_limited for
	// each refusal, with the class and scope; default none.
	Logger  *slog.Logger
	Metrics audit.Metrics
	// Now is the clock Until is reckoned from; default time.Now. Give the
	// store the same clock.
	Now func() time.Time
}

// Limiter enforces a Policy per Class. It is safe for concurrent use.
type Limiter struct {
	store    store.Limits
	policies map[Class]Policy
	rec      *audit.Recorder
	now      func() time.Time
}

// New checks cfg and returns a Limiter.
func New(cfg Config) (*Limiter, error) {
	if cfg.Store == nil {
		return nil, errors.New("limit: Config.Store is nil")
	}
	l := &Limiter{store: cfg.Store, policies: map[Class]Policy{}, rec: audit.New(cfg.Logger, cfg.Metrics), now: cfg.Now}
	if l.now == nil {
		l.now = time.Now
	}
	for c, p := range defaultPolicies {
		l.policies[c] = p
	}
	for c, p := range cfg.Policies {
		if c == "" {
			return nil, errors.New("limit: a policy for the empty class")
		}
		for _, r := range []store.Rate{p.PerClient, p.PerAccount, p.Global} {
			if r != (store.Rate{}) && !r.Valid() {
				return nil, fmt.Errorf("limit: class %s: rate %+v needs a positive Interval and Burst, Interval × Burst at most %v", c, r, store.MaxRateSpan)
			}
		}
		l.policies[c] = p
	}
	return l, nil
}

// Policy returns the policy the Limiter enforces for class.
func (l *Limiter) Policy(class Class) Policy { return l.policies[class] }

// Allow takes one unit from each limit of class that applies: the
// client's, the account's when account is not "", and the global one, in
// that order, so a client that floods spends its own limit first. It
// returns nil, an *Error for the first limit that is spent, or a store
// failure (wrapping store.ErrUnavailable: fail closed). account is a
// stable id the caller vouches for (a subject), never text a client typed;
// the zero client (unknown address) is one client of its own.
func (l *Limiter) Allow(ctx context.Context, class Class, client netip.Prefix, account string) error {
	p, ok := l.policies[class]
	if !ok {
		return fmt.Errorf("limit: no policy for class %q", class)
	}
	if err := l.take(ctx, class, ScopeClient, p.PerClient, clientaddr.Key(client)); err != nil {
		return err
	}
	if account != "" {
		if err := l.take(ctx, class, ScopeAccount, p.PerAccount, account); err != nil {
			return err
		}
	}
	return l.take(ctx, class, ScopeGlobal, p.Global, "")
}

func (l *Limiter) take(ctx context.Context, class Class, scope Scope, r store.Rate, id string) error {
	if !r.Valid() {
		return nil
	}
	d, err := l.store.Take(ctx, "limit:"+string(class)+":"+string(scope)+":"+id, r, 1)
	if err != nil {
		return err // the caller records the failure, once, as its own
	}
	if d.Allowed {
		return nil
	}
	l.rec.Record(ctx, audit.RateLimited, slog.String(audit.KeyClass, string(class)), slog.String(audit.KeyScope, string(scope)))
	return &Error{Class: class, Scope: scope, Until: l.now().Add(d.RetryAfter), RetryAfter: d.RetryAfter}
}

// Handler returns middleware that takes one unit of class's per-client
// and global limits for each request before it reaches next, and answers
// with problem.Write when one is spent (429), when the client cannot be
// told (400, see clientaddr), or when the store fails (503). client finds
// the client; nil means clientaddr.FromRequest (RemoteAddr, no proxies):
// behind a proxy, pass a clientaddr.Resolver's Client method.
func (l *Limiter) Handler(class Class, client func(*http.Request) (netip.Prefix, error)) func(http.Handler) http.Handler {
	if _, ok := l.policies[class]; !ok {
		panic(fmt.Sprintf("limit: Handler for class %q, which has no policy", class))
	}
	if client == nil {
		client = func(r *http.Request) (netip.Prefix, error) { return clientaddr.FromRequest(r), nil }
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := client(r)
			if err == nil {
				err = l.Allow(r.Context(), class, c, "")
			}
			if err != nil {
				if errors.Is(err, store.ErrUnavailable) {
					l.rec.Record(r.Context(), audit.StoreUnavailable, slog.String(audit.KeyOp, "rate_limit"))
				}
				problem.Write(w, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
