package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	redisstore "github.com/gatehouse-go/gatehouse/store/redis"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// contenders, in the order of the table. Names are stable: cmd/ratios
// reads them.
var contenders = []contender{
	{name: "baseline", setup: setupBaseline},
	{name: "floor", setup: setupFloor},
	{name: "gatehouse-memory-bearer", setup: setupGatehouseMemory(false)},
	{name: "gatehouse-memory-cookie", setup: setupGatehouseMemory(true)},
	{name: "scs-memstore", setup: setupSCSMemstore},
	{name: "gorilla-cookiestore", setup: setupGorilla},
	{name: "jwt-hs256", setup: setupJWT},
	{name: "floor-redis", redis: true, setup: setupFloorRedis(false)},
	{name: "gatehouse-redis", redis: true, setup: setupGatehouseRedis(false, redisstore.Options{})},
	{name: "gatehouse-redis-coalesced", redis: true, setup: setupGatehouseRedis(false, redisstore.Options{Coalesce: true})},
	{name: "scs-goredisstore", redis: true, setup: setupSCSRedis},
	{name: "floor-cluster", redis: true, setup: setupFloorRedis(true)},
	{name: "gatehouse-cluster", redis: true, setup: setupGatehouseRedis(true, redisstore.Options{})},
}

type ctxKey struct{}

// baseline: no authentication at all, the cost of the harness itself.
func setupBaseline(testing.TB, *roundTrips) (func(http.Handler) http.Handler, *http.Request, func(*http.Request) string) {
	mw := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, subject)))
		})
	}
	return mw, httptest.NewRequest("GET", "/", nil), whoString
}

func whoString(r *http.Request) string { s, _ := r.Context().Value(ctxKey{}).(string); return s }

// floorSession is what the hand-written middleware keeps per session.
type floorSession struct {
	Subject string
	Expires time.Time
}

// floor: the lean middleware anyone could write: cookie → SHA-256 → map
// (under a RWMutex) → context.
func setupFloor(testing.TB, *roundTrips) (func(http.Handler) http.Handler, *http.Request, func(*http.Request) string) {
	var mu sync.RWMutex
	sessions := map[[32]byte]*floorSession{}
	token := "kq3JpL0dYb7m2Vt8xWcR5nZs4Ea9Hf6UgTo1Bi0yMu"
	sessions[sha256.Sum256([]byte(token))] = &floorSession{Subject: subject, Expires: time.Now().Add(time.Hour)}
	mw := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ck, err := r.Cookie("sid")
			if err != nil {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			h := sha256.Sum256([]byte(ck.Value))
			mu.RLock()
			s := sessions[h]
			mu.RUnlock()
			if s == nil || time.Now().After(s.Expires) {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, s)))
		})
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: "sid", Value: token})
	return mw, req, func(r *http.Request) string {
		s, _ := r.Context().Value(ctxKey{}).(*floorSession)
		if s == nil {
			return ""
		}
		return s.Subject
	}
}

// floor-redis and floor-cluster: the same lean middleware on Redis: cookie
// → SHA-256 → one GET of a value of a session record's size → context.
func setupFloorRedis(onCluster bool) func(testing.TB, *roundTrips) (func(http.Handler) http.Handler, *http.Request, func(*http.Request) string) {
	return func(tb testing.TB, rt *roundTrips) (func(http.Handler) http.Handler, *http.Request, func(*http.Request) string) {
		var c redis.UniversalClient
		if onCluster {
			c = newClusterClient(tb, rt)
		} else {
			c = newClient(tb, rt)
		}
		token := "kq3JpL0dYb7m2Vt8xWcR5nZs4Ea9Hf6UgTo1Bi0yMu"
		sum := sha256.Sum256([]byte(token))
		key := "floor:" + hex.EncodeToString(sum[:])
		value := subject + ":" + string(make([]byte, 60)) // about a session record's size
		if err := c.Set(context.Background(), key, value, time.Hour).Err(); err != nil {
			tb.Fatal(err)
		}
		mw := func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ck, err := r.Cookie("sid")
				if err != nil {
					http.Error(w, "unauthorized", http.StatusUnauthorized)
					return
				}
				h := sha256.Sum256([]byte(ck.Value))
				var k [6 + 64]byte
				copy(k[:], "floor:")
				hex.Encode(k[6:], h[:])
				v, err := c.Get(r.Context(), string(k[:])).Result()
				if err != nil {
					http.Error(w, "unauthorized", http.StatusUnauthorized)
					return
				}
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, v[:len(subject)])))
			})
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.AddCookie(&http.Cookie{Name: "sid", Value: token})
		return mw, req, whoString
	}
}

func whoPrincipal(r *http.Request) string {
	p, _ := middleware.FromContext(r.Context())
	return p.Subject
}

// guardOn issues a session on st and returns the guard's middleware and a
// request carrying the session as a bearer header, or as the cookie.
func guardOn(tb testing.TB, st store.Tokens, cookie bool) (func(http.Handler) http.Handler, *http.Request) {
	m := must(tokens.New(tokens.Config{Store: st, TagKey: tagKey}))
	iss := must(m.Issue(context.Background(), store.KindSession, tokens.Claims{Subject: subject, Project: "100909072"}))
	cfg := middleware.GuardConfig{Tokens: m}
	req := httptest.NewRequest("GET", "/", nil)
	if cookie {
		ck := must(middleware.NewCookies(middleware.CookieConfig{HashKey: []byte("0123456789abcdef0123456789abcdef")}))
		cfg.Cookies = ck
		w := httptest.NewRecorder()
		if err := ck.SetSession(w, req, "", iss.Token, iss.Record.ExpiresAt); err != nil {
			tb.Fatal(err)
		}
		for _, c := range w.Result().Cookies() {
			req.AddCookie(c)
		}
	} else {
		req.Header.Set("Authorization", "Bearer "+iss.Token)
	}
	g := must(middleware.NewGuard(cfg))
	return g.Handler, req
}

// gatehouse-memory-*: middleware.Guard on the in-process store.
func setupGatehouseMemory(cookie bool) func(testing.TB, *roundTrips) (func(http.Handler) http.Handler, *http.Request, func(*http.Request) string) {
	return func(tb testing.TB, _ *roundTrips) (func(http.Handler) http.Handler, *http.Request, func(*http.Request) string) {
		st := memory.New(memory.Options{})
		tb.Cleanup(func() { st.Close() })
		mw, req := guardOn(tb, st, cookie)
		return mw, req, whoPrincipal
	}
}

// gatehouse-redis, gatehouse-redis-coalesced and gatehouse-cluster:
// middleware.Guard (bearer) on the Redis store with opts. Coalesced, the
// lookups of concurrent requests go to Redis together as one pipeline, so
// its round trips per validation fall below 1 under the 16 goroutines
// while each validation is still one GET (cmds/op).
func setupGatehouseRedis(onCluster bool, opts redisstore.Options) func(testing.TB, *roundTrips) (func(http.Handler) http.Handler, *http.Request, func(*http.Request) string) {
	return func(tb testing.TB, rt *roundTrips) (func(http.Handler) http.Handler, *http.Request, func(*http.Request) string) {
		var c redis.UniversalClient
		if onCluster {
			c = newClusterClient(tb, rt)
		} else {
			c = newClient(tb, rt)
		}
		st := must(redisstore.New(c, opts))
		mw, req := guardOn(tb, st, false)
		return mw, req, whoPrincipal
	}
}

// scsSession makes a session holding the subject with sm and returns a
// request carrying its cookie.
func scsSession(tb testing.TB, sm *scs.SessionManager) *http.Request {
	ctx, err := sm.Load(context.Background(), "")
	if err != nil {
		tb.Fatal(err)
	}
	sm.Put(ctx, "user", subject)
	token, _, err := sm.Commit(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: sm.Cookie.Name, Value: token})
	return req
}

// scs-memstore: scs's LoadAndSave on its memory store.
func setupSCSMemstore(tb testing.TB, _ *roundTrips) (func(http.Handler) http.Handler, *http.Request, func(*http.Request) string) {
	sm := scs.New()
	ms := memstore.NewWithCleanupInterval(time.Minute)
	tb.Cleanup(ms.StopCleanup)
	sm.Store = ms
	return sm.LoadAndSave, scsSession(tb, sm), func(r *http.Request) string { return sm.GetString(r.Context(), "user") }
}

// scs-goredisstore: scs's LoadAndSave on its go-redis store.
func setupSCSRedis(tb testing.TB, rt *roundTrips) (func(http.Handler) http.Handler, *http.Request, func(*http.Request) string) {
	sm := scs.New()
	sm.Store = goredisstore.New(newClient(tb, rt))
	return sm.LoadAndSave, scsSession(tb, sm), func(r *http.Request) string { return sm.GetString(r.Context(), "user") }
}

// gorilla-cookiestore: the session lives in an HMAC-authenticated cookie,
// decoded on every request (store.New: no per-request registry, which
// would cache the session on the reused request).
func setupGorilla(tb testing.TB, _ *roundTrips) (func(http.Handler) http.Handler, *http.Request, func(*http.Request) string) {
	cs := sessions.NewCookieStore([]byte("0123456789abcdef0123456789abcdef"))
	req := httptest.NewRequest("GET", "/", nil)
	s, _ := cs.New(req, "session")
	s.Values["user"] = subject
	w := httptest.NewRecorder()
	if err := cs.Save(req, w, s); err != nil {
		tb.Fatal(err)
	}
	for _, c := range w.Result().Cookies() {
		req.AddCookie(c)
	}
	mw := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := cs.New(r, "session")
			user, _ := s.Values["user"].(string)
			if err != nil || user == "" {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, user)))
		})
	}
	return mw, req, whoString
}

// jwt-hs256: a bearer JWT checked with golang-jwt (HS256 only, expiry
// required), its claims put in the context.
func setupJWT(tb testing.TB, _ *roundTrips) (func(http.Handler) http.Handler, *http.Request, func(*http.Request) string) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Now()
	tok := must(jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Subject:   subject,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	}).SignedString(key))
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	keyFunc := func(*jwt.Token) (any, error) { return key, nil }
	mw := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := r.Header.Get("Authorization")
			if len(h) < 7 || h[:7] != "Bearer " {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			var claims jwt.RegisteredClaims
			if _, err := parser.ParseWithClaims(h[7:], &claims, keyFunc); err != nil {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, claims.Subject)))
		})
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	return mw, req, whoString
}
