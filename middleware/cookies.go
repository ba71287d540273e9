package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// CookieConfig configures [Cookies]. HashKey is required; every other zero
// field means its default.
type CookieConfig struct {
	// Name of the cookie; default "gatehouse".
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

// Cookies keeps session tokens in one gorilla/sessions cookie: one token per
// project, so a browser can be logged in to several projects at once. The
// cookie is HttpOnly, Secure (unless InsecureAllowHTTP) and SameSite=Lax. It
// is safe for concurrent use.
type Cookies struct {
	name  string
	store *sessions.CookieStore
	opts  sessions.Options
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
	c := &Cookies{name: cfg.Name}
	if c.name == "" {
		c.name = "gatehouse"
	}
	keys := [][]byte{cfg.HashKey}
	if len(cfg.BlockKey) > 0 {
		keys = append(keys, cfg.BlockKey)
	}
	c.store = sessions.NewCookieStore(keys...)
	// The store's records decide when a session ends; the codec's own
	// timestamp check would only cut sessions longer than its default.
	for _, codec := range c.store.Codecs {
		if sc, ok := codec.(*securecookie.SecureCookie); ok {
			sc.MaxAge(0)
		}
	}
	c.opts = sessions.Options{
		Path:     cfg.Path,
		Domain:   cfg.Domain,
		HttpOnly: true,
		Secure:   !cfg.InsecureAllowHTTP,
		SameSite: cfg.SameSite,
	}
	if c.opts.Path == "" {
		c.opts.Path = "/"
	}
	if c.opts.SameSite == 0 {
		c.opts.SameSite = http.SameSiteLaxMode
	}
	return c, nil
}

func projectKey(project string) string { return "p:" + project }

// values decodes the cookie; a missing or tampered cookie is empty.
func (c *Cookies) values(r *http.Request) map[any]any {
	ck, err := r.Cookie(c.name)
	if err != nil {
		return nil
	}
	var v map[any]any
	if securecookie.DecodeMulti(c.name, ck.Value, &v, c.store.Codecs...) != nil {
		return nil
	}
	return v
}

// SessionToken returns the session token the cookie holds for the project,
// or "".
func (c *Cookies) SessionToken(r *http.Request, project string) string {
	tok, _ := c.values(r)[projectKey(project)].(string)
	return tok
}

// SetSession puts the token for the project into the cookie, keeping the
// sessions of other projects, and sets the cookie to last until expires
// (or longer, when another project's session does).
func (c *Cookies) SetSession(w http.ResponseWriter, r *http.Request, project, token string, expires time.Time) error {
	v := c.values(r)
	if v == nil {
		v = map[any]any{}
	}
	v[projectKey(project)] = token
	until := expires
	if prev, ok := v["exp"].(int64); ok && time.Unix(prev, 0).After(until) {
		until = time.Unix(prev, 0)
	}
	v["exp"] = until.Unix()
	return c.save(w, v, int(time.Until(until).Seconds())+1)
}

// ClearSession removes the project's token; the cookie is deleted when no
// project is left.
func (c *Cookies) ClearSession(w http.ResponseWriter, r *http.Request, project string) error {
	v := c.values(r)
	delete(v, projectKey(project))
	if len(v) <= 1 { // only "exp" is left
		return c.save(w, map[any]any{}, -1)
	}
	exp, _ := v["exp"].(int64)
	return c.save(w, v, int(time.Until(time.Unix(exp, 0)).Seconds())+1)
}

// ClearAll deletes the cookie, ending the browser's hold on every project.
func (c *Cookies) ClearAll(w http.ResponseWriter) error { return c.save(w, map[any]any{}, -1) }

func (c *Cookies) save(w http.ResponseWriter, v map[any]any, maxAge int) error {
	opts := c.opts
	opts.MaxAge = maxAge
	value := ""
	if maxAge > 0 {
		var err error
		if value, err = securecookie.EncodeMulti(c.name, v, c.store.Codecs...); err != nil {
			return fmt.Errorf("middleware: encoding the session cookie: %w", err)
		}
	}
	http.SetCookie(w, sessions.NewCookie(c.name, value, &opts))
	return nil
}
