package middleware

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// Cookies keeps session tokens in one gorilla/sessions cookie: one token per
// project, so a browser can be logged in to several projects at once. The
// cookie is HttpOnly, Secure (unless InsecureAllowHTTP) and SameSite=Lax. It
// is safe for concurrent use.
type Cookies struct {
	name     string
	store    *sessions.CookieStore
	opts     sessions.Options
	verified verifiedCookies
}

// verifiedCookies remembers cookie values that passed their HMAC check,
// with what they decode to, so that a browser's every request does not pay
// for the HMAC and the decoding again (they were four fifths of a cookie
// request's cost). Only verified values go in, keyed by the whole value, so
// a forged or altered cookie is never found here and is checked in full.
// It holds at most maxVerifiedCookies values, then starts afresh.
type verifiedCookies struct {
	m atomic.Pointer[sync.Map] // value → map[string]string, never mutated
	n atomic.Int64
}

const maxVerifiedCookies = 10000

func (v *verifiedCookies) get(value string) (map[string]string, bool) {
	m := v.m.Load()
	if m == nil {
		return nil, false
	}
	got, ok := m.Load(value)
	if !ok {
		return nil, false
	}
	return got.(map[string]string), true
}

func (v *verifiedCookies) put(value string, decoded map[string]string) {
	m := v.m.Load()
	if m == nil || v.n.Add(1) > maxVerifiedCookies {
		m = new(sync.Map)
		v.m.Store(m)
		v.n.Store(1)
	}
	m.Store(value, decoded)
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
			sc.SetSerializer(valuesSerializer{})
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

// values decodes the cookie; a missing or tampered cookie is empty. The
// map may be shared: callers must not change it (see edit).
func (c *Cookies) values(r *http.Request) map[string]string {
	value, ok := cookieValue(r.Header, c.name)
	if !ok {
		return nil
	}
	if v, ok := c.verified.get(value); ok {
		return v
	}
	var v map[string]string
	if securecookie.DecodeMulti(c.name, value, &v, c.store.Codecs...) != nil {
		return nil
	}
	c.verified.put(strings.Clone(value), v)
	return v
}

// cookieValue finds the first cookie called name in the Cookie headers
// without allocating, as every guarded request does it. It is more lenient
// than http.Request.Cookie about malformed pairs, which costs nothing here:
// the value it returns is then verified (HMAC) or found verified before.
func cookieValue(h http.Header, name string) (string, bool) {
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
				v := part[len(name)+1:]
				if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
					v = v[1 : len(v)-1]
				}
				return v, true
			}
		}
	}
	return "", false
}

// edit returns a copy of the cookie's values to change, never nil.
func (c *Cookies) edit(r *http.Request) map[string]string {
	v := maps.Clone(c.values(r))
	if v == nil {
		v = map[string]string{}
	}
	return v
}

// SessionToken returns the session token the cookie holds for the project,
// or "".
func (c *Cookies) SessionToken(r *http.Request, project string) string {
	return c.values(r)[projectKey(project)]
}

// SetSession puts the token for the project into the cookie, keeping the
// sessions of other projects, and sets the cookie to last until expires
// (or longer, when another project's session does).
func (c *Cookies) SetSession(w http.ResponseWriter, r *http.Request, project, token string, expires time.Time) error {
	v := c.edit(r)
	v[projectKey(project)] = token
	until := expires
	if prev := cookieEnd(v); prev.After(until) {
		until = prev
	}
	v[endKey] = strconv.FormatInt(until.Unix(), 10)
	return c.save(w, v, int(time.Until(until).Seconds())+1)
}

// ClearSession removes the project's token; the cookie is deleted when no
// project is left.
func (c *Cookies) ClearSession(w http.ResponseWriter, r *http.Request, project string) error {
	v := c.edit(r)
	delete(v, projectKey(project))
	if len(v) <= 1 { // only the end is left
		return c.save(w, nil, -1)
	}
	return c.save(w, v, int(time.Until(cookieEnd(v)).Seconds())+1)
}

// ClearAll deletes the cookie, ending the browser's hold on every project.
func (c *Cookies) ClearAll(w http.ResponseWriter) error { return c.save(w, nil, -1) }

// endKey holds when the cookie should expire: the latest session end of its
// projects. Project keys start "p:", so it never collides with one.
const endKey = "end"

func cookieEnd(v map[string]string) time.Time {
	n, err := strconv.ParseInt(v[endKey], 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(n, 0)
}

func (c *Cookies) save(w http.ResponseWriter, v map[string]string, maxAge int) error {
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

// valuesSerializer writes the cookie's string pairs as length-prefixed
// bytes. gorilla's default, gob, costs about 200 allocations per decode, on
// the path of every browser request; this costs a handful.
type valuesSerializer struct{}

func (valuesSerializer) Serialize(src any) ([]byte, error) {
	m, ok := src.(map[string]string)
	if !ok {
		return nil, fmt.Errorf("middleware: cannot serialize %T into the session cookie", src)
	}
	var b []byte
	for k, v := range m {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return b, nil
}

func (valuesSerializer) Deserialize(src []byte, dst any) error {
	p, ok := dst.(*map[string]string)
	if !ok {
		return fmt.Errorf("middleware: cannot deserialize the session cookie into %T", dst)
	}
	m := make(map[string]string, 2)
	for len(src) > 0 {
		var kv [2]string
		for i := range kv {
			n, size := binary.Uvarint(src)
			if size <= 0 || n > uint64(len(src)-size) {
				return errors.New("middleware: malformed session cookie")
			}
			kv[i] = string(src[size : size+int(n)])
			src = src[size+int(n):]
		}
		m[kv[0]] = kv[1]
	}
	*p = m
	return nil
}

// hasPrefixFold is strings.HasPrefix ignoring case: browsers match the
// cookie prefixes that way.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
