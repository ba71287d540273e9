package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// CookieConfig configures [Cookies]. HashKey is required; every other zero
// field means its default.
type CookieConfig struct {
	// Name of the cookie; default "__Host-gatehouse", or "gatehouse" when
	// the cookie cannot be a __Host- cookie (InsecureAllowHTTP, a Domain,
	// or a Path other than "/"). The __Host- prefix makes browsers refuse
	// the cookie unless it is Secure, host-only and for the whole site, so
	// a sibling subdomain or a plain-HTTP page cannot plant or overwrite
	// it. A Name with the prefix whose settings break those rules is an
	// error, as is a __Secure- Name with InsecureAllowHTTP.
	Name string
	// HashKey authenticates the cookie (HMAC-SHA256); at least 32 random
	// bytes, the same on every instance of the app. Required.
	HashKey []byte
	// BlockKey encrypts the cookie (AES): 16, 24 or 32 random bytes.
	// Default none: the cookie holds only opaque random tokens, which the
	// store resolves, so encryption adds little but hides which projects a
	// browser holds sessions for.
	BlockKey []byte
	// Path and Domain of the cookie; Path defaults to "/".
	Path, Domain string
	// SameSite; default http.SameSiteLaxMode.
	SameSite http.SameSite
	// InsecureAllowHTTP drops the Secure flag so that the cookie travels
	// over plain HTTP. Only for local development: anyone on the network
	// can read such a cookie.
	InsecureAllowHTTP bool
}

// Cookies keeps session tokens in one cookie: one token per project, so a
// browser can be logged in to several projects at once. The cookie is
// HttpOnly, Secure (unless InsecureAllowHTTP) and SameSite=Lax; its value
// is signed (and, with a BlockKey, encrypted) by gorilla/securecookie, and
// lasts as long as the latest of its sessions. It is safe for concurrent
// use.
type Cookies struct {
	name  string
	codec *securecookie.SecureCookie
	// attrs holds what every Set-Cookie carries besides the name, the
	// value and the lifetime: Path, Domain, Secure, HttpOnly, SameSite.
	// gorilla/sessions builds the cookie from them (sessions.NewCookie),
	// as its own stores do.
	attrs    sessions.Options
	verified verifiedCookies
}

// NewCookies checks cfg and returns Cookies.
func NewCookies(cfg CookieConfig) (*Cookies, error) {
	if len(cfg.HashKey) < 32 {
		return nil, errors.New("middleware: CookieConfig.HashKey needs at least 32 bytes")
	}
	switch len(cfg.BlockKey) {
	case 0, 16, 24, 32:
	default:
		return nil, fmt.Errorf("middleware: CookieConfig.BlockKey has %d bytes; want 16, 24 or 32", len(cfg.BlockKey))
	}
	path := cfg.Path
	if path == "" {
		path = "/"
	}
	hostOnly := !cfg.InsecureAllowHTTP && cfg.Domain == "" && path == "/"
	c := &Cookies{name: cfg.Name}
	switch {
	case c.name == "" && hostOnly:
		c.name = "__Host-gatehouse"
	case c.name == "":
		c.name = "gatehouse"
	case hasPrefixFold(c.name, "__Host-") && !hostOnly:
		return nil, errors.New("middleware: a __Host- cookie must be Secure, with no Domain and Path \"/\"; browsers would refuse it")
	case hasPrefixFold(c.name, "__Secure-") && cfg.InsecureAllowHTTP:
		return nil, errors.New("middleware: a __Secure- cookie must be Secure; browsers would refuse it over HTTP")
	}
	c.codec = newCookieCodec(cfg.HashKey, cfg.BlockKey)
	c.attrs = sessions.Options{
		Path:     path,
		Domain:   cfg.Domain,
		HttpOnly: true,
		Secure:   !cfg.InsecureAllowHTTP,
		SameSite: cfg.SameSite,
	}
	if c.attrs.SameSite == 0 {
		c.attrs.SameSite = http.SameSiteLaxMode
	}
	return c, nil
}

// read decodes the request's cookie; a missing or tampered cookie is nil,
// and so are two cookies of its name (see lookup). The value may be
// shared: callers must not change it (clone it).
func (c *Cookies) read(r *http.Request) *sessionCookie {
	s, _ := c.lookup(r)
	return s
}

// lookup is read, and reports whether the request carried more than one
// cookie of the name. A browser sends two when another host planted one:
// a sibling subdomain can set a cookie for the parent domain, sent with
// this host's own, and whichever came first would win; the planted one can
// hold the attacker's session, logging the victim in as the attacker. So
// duplicates are no cookie at all. That holds for __Host- names too:
// browsers keep one such cookie per host and name, so a duplicate never
// comes from a browser that works as specified, and some browsers let a
// nameless cookie ("=__Host-x=v", set for the parent domain) pass as one
// (Squarcina et al., "Cookie Crumbles", USENIX Security 2023).
func (c *Cookies) lookup(r *http.Request) (s *sessionCookie, duplicate bool) {
	value, n := cookieValue(r.Header, c.name)
	if n != 1 {
		return nil, n > 1
	}
	if s, ok := c.verified.get(value); ok {
		return s, false
	}
	s = new(sessionCookie)
	if c.codec.Decode(c.name, value, s) != nil {
		return nil, false
	}
	c.verified.put(strings.Clone(value), s)
	return s, false
}

// cookieValue finds the cookie called name in the Cookie headers without
// allocating, as every guarded request does it; http.Request.Cookie builds
// a *http.Cookie and a slice for it (2 allocations, several times the
// time). n is how many cookies of that name the headers carry, counted up
// to 2 (the value is then ""): the walk goes on past the cookie to the end
// of the headers, a few more comparisons and no allocation. It
// trims names and unquotes values as net/http does (see
// TestCookieValueMatchesNetHTTP) but is more lenient about malformed pairs,
// which costs nothing here: the value it returns is then verified (HMAC) or
// found verified before, and a malformed pair of the name counts as a
// duplicate.
func cookieValue(h http.Header, name string) (value string, n int) {
	for _, line := range h["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			// Only ASCII space and tab, as net/http: trimming Unicode
			// spaces would read "\u00a0__Host-x" as "__Host-x", a cookie
			// the browser let another site set because its name does
			// not carry the prefix.
			part = strings.Trim(part, " \t")
			if len(part) > len(name) && part[len(name)] == '=' && part[:len(name)] == name {
				if n == 1 {
					return "", 2
				}
				v := part[len(name)+1:]
				if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
					v = v[1 : len(v)-1]
				}
				value, n = v, 1
			}
		}
	}
	return value, n
}

// SessionToken returns the session token the cookie holds for the project,
// or "": also when the request carries two cookies of the name, which a
// sibling subdomain can plant (a [Guard] records the audit event
// cookie.duplicate for those).
func (c *Cookies) SessionToken(r *http.Request, project string) string {
	return c.read(r).token(project)
}

// sessionToken is SessionToken, and reports duplicates.
func (c *Cookies) sessionToken(r *http.Request, project string) (token string, duplicate bool) {
	s, dup := c.lookup(r)
	return s.token(project), dup
}

// SetSession puts the token for the project into the cookie, keeping the
// sessions of other projects, and sets the cookie to last until expires
// (or longer, when another project's session does).
func (c *Cookies) SetSession(w http.ResponseWriter, r *http.Request, project, token string, expires time.Time) error {
	s := c.read(r).clone()
	s.Tokens[project] = token
	until := expires
	if s.End.After(until) {
		until = s.End
	}
	s.End = time.Unix(until.Unix(), 0)
	return c.write(w, s, int(time.Until(until).Seconds())+1)
}

// ClearSession removes the project's token; the cookie is deleted when no
// project is left.
func (c *Cookies) ClearSession(w http.ResponseWriter, r *http.Request, project string) error {
	s := c.read(r).clone()
	delete(s.Tokens, project)
	if len(s.Tokens) == 0 {
		return c.write(w, nil, -1)
	}
	return c.write(w, s, int(time.Until(s.End).Seconds())+1)
}

// ClearAll deletes the cookie, ending the browser's hold on every project.
func (c *Cookies) ClearAll(w http.ResponseWriter) error { return c.write(w, nil, -1) }

// write sets the cookie to s for maxAge seconds. With maxAge <= 0, s is not
// read and the value is empty; maxAge < 0 deletes the cookie.
func (c *Cookies) write(w http.ResponseWriter, s *sessionCookie, maxAge int) error {
	opts := c.attrs
	opts.MaxAge = maxAge
	var value string
	if maxAge > 0 {
		var err error
		if value, err = c.codec.Encode(c.name, s); err != nil {
			return fmt.Errorf("middleware: encoding the session cookie: %w", err)
		}
	}
	// NewCookie sets Expires from MaxAge too (in the past when deleting),
	// for browsers that ignore Max-Age.
	http.SetCookie(w, sessions.NewCookie(c.name, value, &opts))
	return nil
}

// hasPrefixFold is strings.HasPrefix ignoring case: browsers match the
// cookie prefixes that way.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
