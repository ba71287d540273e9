package middleware_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/middleware"
)

// TestCrossOriginCookieRequests: a request that presents its session as a
// cookie with an unsafe method passes only from the app's own origin
// (Sec-Fetch-Site, or Origin against Host for older browsers); a bearer
// header is not a browser's ambient credential and is not checked; the
// opt-out and trusted origins do what they say.
func TestCrossOriginCookieRequests(t *testing.T) {
	f := newFixture(t)
	tok := f.session(t, "u1", "")
	cookie := f.cookieFor(t, map[string]string{"": tok})
	trusted := func() *http.CrossOriginProtection {
		c := http.NewCrossOriginProtection()
		if err := c.AddTrustedOrigin("https://admin.example.com"); err != nil {
			t.Fatal(err)
		}
		return c
	}()

	type hdr = map[string]string
	for _, tc := range []struct {
		name   string
		cfg    middleware.GuardConfig
		method string
		bearer bool
		header hdr
		status int
		code   string
	}{
		{name: "POST same-origin", method: "POST", header: hdr{"Sec-Fetch-Site": "same-origin"}, status: 200},
		{name: "POST typed in the address bar", method: "POST", header: hdr{"Sec-Fetch-Site": "none"}, status: 200},
		{name: "POST cross-site", method: "POST", header: hdr{"Sec-Fetch-Site": "cross-site"}, status: 403, code: "cross_origin"},
		{name: "POST same-site (a sibling subdomain or another port)", method: "POST", header: hdr{"Sec-Fetch-Site": "same-site"}, status: 403, code: "cross_origin"},
		{name: "PUT cross-site", method: "PUT", header: hdr{"Sec-Fetch-Site": "cross-site"}, status: 403, code: "cross_origin"},
		{name: "PATCH cross-site", method: "PATCH", header: hdr{"Sec-Fetch-Site": "cross-site"}, status: 403, code: "cross_origin"},
		{name: "DELETE cross-site", method: "DELETE", header: hdr{"Sec-Fetch-Site": "cross-site"}, status: 403, code: "cross_origin"},
		{name: "old browser: Origin of another host", method: "POST", header: hdr{"Origin": "https://evil.example"}, status: 403, code: "cross_origin"},
		{name: "old browser: Origin of this host", method: "POST", header: hdr{"Origin": "http://example.com"}, status: 200},
		{name: "not a browser: no Sec-Fetch-Site, no Origin", method: "POST", status: 200},
		{name: "GET cross-site is a navigation", method: "GET", header: hdr{"Sec-Fetch-Site": "cross-site"}, status: 200},
		{name: "HEAD cross-site", method: "HEAD", header: hdr{"Sec-Fetch-Site": "cross-site"}, status: 200},
		{name: "bearer POST cross-site", method: "POST", bearer: true, header: hdr{"Sec-Fetch-Site": "cross-site"}, status: 200},
		{name: "opt-out", cfg: middleware.GuardConfig{AllowCrossOriginCookies: true}, method: "POST", header: hdr{"Sec-Fetch-Site": "cross-site"}, status: 200},
		{name: "trusted origin", cfg: middleware.GuardConfig{CrossOrigin: trusted}, method: "POST",
			header: hdr{"Sec-Fetch-Site": "same-site", "Origin": "https://admin.example.com"}, status: 200},
		{name: "untrusted origin beside a trusted one", cfg: middleware.GuardConfig{CrossOrigin: trusted}, method: "POST",
			header: hdr{"Sec-Fetch-Site": "same-site", "Origin": "https://blog.example.com"}, status: 403, code: "cross_origin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Tokens, cfg.Cookies = f.tokens, f.cookies
			g, err := middleware.NewGuard(cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(tc.method, "http://example.com/notes", strings.NewReader(`{"text":"hi"}`))
			if tc.bearer {
				r.Header.Set("Authorization", "Bearer "+tok)
			} else {
				r.Header.Set("Cookie", cookie)
			}
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			for name, h := range map[string]http.Handler{"Handler": g.Handler(echo), "Optional": g.Optional(echo)} {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != tc.status || (tc.code != "" && !strings.Contains(w.Body.String(), `"code":"`+tc.code+`"`)) {
					t.Errorf("%s: %d %s; want %d %s", name, w.Code, w.Body, tc.status, tc.code)
				}
			}
			err = g.Check(r)
			if refused := tc.status == 403; refused != errors.Is(err, middleware.ErrCrossOrigin) || (!refused && err != nil) {
				t.Errorf("Check = %v; want ErrCrossOrigin: %v", err, refused)
			}
		})
	}
}

// TestCrossOriginIsRefusedBeforeTheStore: the refusal needs no lookup, so
// a cross-site post costs no store round trip (here: it is answered 403
// while the store is down, where a lookup would answer 503).
func TestCrossOriginIsRefusedBeforeTheStore(t *testing.T) {
	f := newFixture(t)
	cookie := f.cookieFor(t, map[string]string{"": f.session(t, "u1", "")})
	var got error
	g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: f.tokens, Cookies: f.cookies,
		Deny: func(w http.ResponseWriter, _ *http.Request, err error) { got = err; w.WriteHeader(http.StatusTeapot) }})
	if err != nil {
		t.Fatal(err)
	}
	f.store.SetDown(true)
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("Cookie", cookie)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	g.Handler(echo).ServeHTTP(httptest.NewRecorder(), r)
	if !errors.Is(got, middleware.ErrCrossOrigin) || !strings.Contains(got.Error(), "Sec-Fetch-Site") {
		t.Fatalf("the deny hook got %v; want ErrCrossOrigin wrapping the reason", got)
	}
}

func TestGuardConfigCrossOriginIsOneChoice(t *testing.T) {
	f := newFixture(t)
	_, err := middleware.NewGuard(middleware.GuardConfig{Tokens: f.tokens,
		CrossOrigin: http.NewCrossOriginProtection(), AllowCrossOriginCookies: true})
	if err == nil {
		t.Fatal("both a CrossOrigin check and AllowCrossOriginCookies accepted")
	}
}
