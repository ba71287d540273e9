package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/examples/internal/extest"

	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/store"
)

// newServer runs the quickstart over TLS, as it would run in production,
// with secure cookies and a browser-like client (cookie jar, no redirects
// followed automatically so each answer can be checked).
func newServer(t *testing.T) (*httptest.Server, *http.Client) {
	t.Helper()
	return newServerOn(t, nil)
}

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// eachStore runs f on a quickstart over memory, Redis and a Redis Cluster,
// as -redis would give it.
func eachStore(t *testing.T, f func(t *testing.T, srv *httptest.Server, c *http.Client)) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			srv, c := newServerOn(t, sf.Open(t, time.Now))
			f(t, srv, c)
		})
	}
}

// newServerOn is newServer with the store st (nil: the app's own).
func newServerOn(t *testing.T, st store.Store) (*httptest.Server, *http.Client) {
	t.Helper()
	a, err := newApp(appConfig{tagKey: extest.TagKey, store: st, secureCookies: true, bcryptCost: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	srv := httptest.NewTLSServer(a)
	t.Cleanup(srv.Close)
	c := srv.Client()
	c.Jar, _ = cookiejar.New(nil)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return srv, c
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func do(t *testing.T, c *http.Client, method, url, contentType, payload string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

const form = "application/x-www-form-urlencoded"

func TestBrowserFlow(t *testing.T) {
	eachStore(t, func(t *testing.T, srv *httptest.Server, c *http.Client) {

		res := do(t, c, "GET", srv.URL+"/", "", "")
		if page := body(t, res); res.StatusCode != 200 || !strings.Contains(page, `<form method="post" action="/login"`) {
			t.Fatalf("GET / logged out: %d\n%s", res.StatusCode, page)
		}

		res = do(t, c, "POST", srv.URL+"/login", form, "username=demo&password=wrong")
		if loc := res.Header.Get("Location"); res.StatusCode != 303 || loc != "/?error=invalid_credentials" {
			t.Fatalf("wrong password: %d %q", res.StatusCode, loc)
		}

		res = do(t, c, "POST", srv.URL+"/login", form, "username=demo&password=gatehouse-demo")
		if res.StatusCode != 303 || res.Header.Get("Location") != "/" {
			t.Fatalf("form login: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		set := res.Header.Get("Set-Cookie")
		if !strings.HasPrefix(set, "__Host-quickstart=") {
			t.Errorf("session cookie %q: over HTTPS it should be the __Host- cookie __Host-quickstart", set)
		}
		for _, flag := range []string{"HttpOnly", "Secure", "SameSite=Lax"} {
			if !strings.Contains(set, flag) {
				t.Errorf("session cookie %q lacks %s", set, flag)
			}
		}
		first := c.Jar.Cookies(mustURL(t, srv.URL))[0].Value

		if page := body(t, do(t, c, "GET", srv.URL+"/", "", "")); !strings.Contains(page, "Logged in as <strong>user-1</strong>") {
			t.Fatalf("GET / logged in:\n%s", page)
		}
		res = do(t, c, "GET", srv.URL+"/me", "", "")
		if b := body(t, res); res.StatusCode != 200 || !strings.Contains(b, `"subject":"user-1"`) {
			t.Fatalf("GET /me with the cookie: %d %s", res.StatusCode, b)
		}

		// Logging in again gives a new session (no fixation).
		do(t, c, "POST", srv.URL+"/login", form, "username=demo&password=gatehouse-demo").Body.Close()
		if again := c.Jar.Cookies(mustURL(t, srv.URL))[0].Value; again == first {
			t.Fatal("a second login kept the same cookie")
		}

		res = do(t, c, "POST", srv.URL+"/logout", form, "")
		if res.StatusCode != 303 {
			t.Fatalf("logout: %d", res.StatusCode)
		}
		res = do(t, c, "GET", srv.URL+"/me", "", "")
		if b := body(t, res); res.StatusCode != 401 || !strings.Contains(b, `"code":"missing_token"`) {
			t.Fatalf("GET /me after logout: %d %s", res.StatusCode, b)
		}
	})
}

func TestCrossOriginFormIsRefused(t *testing.T) {
	srv, c := newServer(t)
	for _, path := range []string{"/login", "/logout"} {
		res := do(t, c, "POST", srv.URL+path, form, "username=demo&password=gatehouse-demo",
			"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		if b := body(t, res); res.StatusCode != 403 || !strings.Contains(b, `"cross_origin"`) {
			t.Fatalf("cross-origin POST %s: %d %s", path, res.StatusCode, b)
		}
	}
	if len(c.Jar.Cookies(mustURL(t, srv.URL))) != 0 {
		t.Fatal("a cross-origin login set a cookie")
	}
}

// TestCookieNameOverHTTP: on a loopback address over plain HTTP (go run on
// a laptop) the cookie cannot be Secure, so it cannot be a __Host- one
// either; over HTTPS it is (TestBrowserFlow).
func TestCookieNameOverHTTP(t *testing.T) {
	a, err := newApp(appConfig{tagKey: extest.TagKey, bcryptCost: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res := do(t, c, "POST", srv.URL+"/login", form, "username=demo&password=gatehouse-demo")
	res.Body.Close()
	if set := res.Header.Get("Set-Cookie"); !strings.HasPrefix(set, "quickstart=") || strings.Contains(set, "Secure") {
		t.Fatalf("session cookie over plain HTTP: %q; want quickstart=..., not Secure", set)
	}
}

// TestNotes: POST /notes is a route of the app's own behind the guard. It
// takes JSON from API clients and the form of / from the browser; with the
// cookie, a post from another origin is refused (403 cross_origin) before
// it reaches the handler, and a bearer client is not asked where it is.
func TestNotes(t *testing.T) {
	srv, c := newServer(t)
	res := do(t, c, "POST", srv.URL+"/login", form, "username=demo&password=gatehouse-demo")
	res.Body.Close()
	sameOrigin := []string{"Origin", srv.URL, "Sec-Fetch-Site", "same-origin"}

	res = do(t, c, "POST", srv.URL+"/notes", form, "text=from+the+form", sameOrigin...)
	if res.Body.Close(); res.StatusCode != 303 {
		t.Fatalf("form post of a note: %d", res.StatusCode)
	}
	if page := body(t, do(t, c, "GET", srv.URL+"/", "", "")); !strings.Contains(page, "<li>from the form</li>") {
		t.Fatalf("the note is not on the page:\n%s", page)
	}
	for _, h := range [][]string{
		{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"},
		{"Origin", "https://blog." + strings.TrimPrefix(srv.URL, "https://"), "Sec-Fetch-Site", "same-site"},
		{"Origin", "https://evil.example"}, // a browser without Sec-Fetch-Site
	} {
		res := do(t, c, "POST", srv.URL+"/notes", "application/json", `{"text":"forged"}`, h...)
		if b := body(t, res); res.StatusCode != 403 || !strings.Contains(b, `"code":"cross_origin"`) {
			t.Errorf("cross-origin POST /notes with the cookie (%q): %d %s", h, res.StatusCode, b)
		}
	}

	c.Jar = nil
	res = do(t, c, "POST", srv.URL+"/login", "application/json", `{"username":"demo","password":"gatehouse-demo"}`)
	var login struct{ Token string }
	if b := body(t, res); json.Unmarshal([]byte(b), &login) != nil || login.Token == "" {
		t.Fatalf("JSON login: %s", b)
	}
	res = do(t, c, "POST", srv.URL+"/notes", "application/json", `{"text":"from the API"}`,
		"Authorization", "Bearer "+login.Token, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if b := body(t, res); res.StatusCode != 201 || b != `{"text":"from the API"}`+"\n" {
		t.Fatalf("JSON post with the bearer token: %d %s", res.StatusCode, b)
	}
	res = do(t, c, "GET", srv.URL+"/notes", "", "", "Authorization", "Bearer "+login.Token)
	if b := body(t, res); res.StatusCode != 200 || b != `{"notes":["from the form","from the API"]}`+"\n" {
		t.Fatalf("GET /notes: %d %s", res.StatusCode, b)
	}
	for _, tc := range []struct{ ctype, body, code string }{
		{"application/json", `{"text":`, "malformed_body"},
		{"application/json", `{"text":"  "}`, "invalid_field"},
		{"application/json", `{"text":"` + strings.Repeat("é", 201) + `"}`, "invalid_field"},
		{"text/plain", `{"text":"x"}`, "unsupported_media_type"},
	} {
		res := do(t, c, "POST", srv.URL+"/notes", tc.ctype, tc.body, "Authorization", "Bearer "+login.Token)
		if b := body(t, res); !strings.Contains(b, `"code":"`+tc.code+`"`) {
			t.Errorf("POST /notes %s %.20q: %d %s; want %s", tc.ctype, tc.body, res.StatusCode, b, tc.code)
		}
	}
}

func TestAPIFlow(t *testing.T) {
	eachStore(t, func(t *testing.T, srv *httptest.Server, c *http.Client) {
		c.Jar = nil
		res := do(t, c, "POST", srv.URL+"/login", "application/json", `{"username":"demo","password":"gatehouse-demo"}`)
		var login struct {
			Token     string `json:"token"`
			ExpiresAt string `json:"expires_at"`
		}
		if b := body(t, res); res.StatusCode != 200 || json.Unmarshal([]byte(b), &login) != nil || login.Token == "" || login.ExpiresAt == "" {
			t.Fatalf("JSON login: %d %s", res.StatusCode, b)
		}
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Error("login answer may be cached")
		}
		bearer := []string{"Authorization", "Bearer " + login.Token}
		if res := do(t, c, "GET", srv.URL+"/me", "", "", bearer...); res.StatusCode != 200 {
			t.Fatalf("GET /me with the bearer token: %d %s", res.StatusCode, body(t, res))
		}
		if res := do(t, c, "POST", srv.URL+"/logout", "", "", bearer...); res.StatusCode != 204 {
			t.Fatalf("logout: %d %s", res.StatusCode, body(t, res))
		}
		if res := do(t, c, "GET", srv.URL+"/me", "", "", bearer...); res.StatusCode != 401 {
			t.Fatalf("GET /me after logout: %d", res.StatusCode)
		}
	})
}

func TestBadInput(t *testing.T) {
	srv, c := newServer(t)
	for _, tc := range []struct {
		name, method, path, ctype, body string
		header                          []string
		status                          int
		code                            string
	}{
		{"malformed JSON", "POST", "/login", "application/json", `{"username":`, nil, 400, "malformed_body"},
		{"JSON of the wrong type", "POST", "/login", "application/json", `{"username":1,"password":true}`, nil, 400, "malformed_body"},
		{"trailing data", "POST", "/login", "application/json", `{"username":"demo","password":"x"} {}`, nil, 400, "malformed_body"},
		{"a JSON array", "POST", "/login", "application/json", `[]`, nil, 400, "malformed_body"},
		{"wrong content type", "POST", "/login", "text/plain", `username=demo`, nil, 415, "unsupported_media_type"},
		{"no content type", "POST", "/login", "", `{}`, nil, 415, "unsupported_media_type"},
		{"body over 64 KiB", "POST", "/login", "application/json", `{"username":"` + strings.Repeat("a", 70<<10) + `"}`, nil, 413, "body_too_large"},
		{"missing password", "POST", "/login", "application/json", `{"username":"demo"}`, nil, 400, "missing_field"},
		{"missing username", "POST", "/login", "application/json", `{"password":"x"}`, nil, 400, "missing_field"},
		{"password over 72 bytes", "POST", "/login", "application/json", `{"username":"demo","password":"` + strings.Repeat("p", 73) + `"}`, nil, 400, "password_too_long"},
		{"unknown user", "POST", "/login", "application/json", `{"username":"nobody","password":"x"}`, nil, 401, "invalid_credentials"},
		{"garbage bearer", "GET", "/me", "", "", []string{"Authorization", "Bearer ghs_abcd_!!!!"}, 401, "invalid_token"},
		{"huge bearer", "GET", "/me", "", "", []string{"Authorization", "Bearer " + strings.Repeat("x", 4000)}, 401, "invalid_token"},
		{"logout without a token", "POST", "/logout", "", "", nil, 401, "missing_token"},
		{"logout with garbage", "POST", "/logout", "", "", []string{"Authorization", "Bearer junk"}, 401, "invalid_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := do(t, c, tc.method, srv.URL+tc.path, tc.ctype, tc.body, tc.header...)
			var p struct{ Code, Message string }
			b := body(t, res)
			if res.StatusCode != tc.status || json.Unmarshal([]byte(b), &p) != nil || p.Code != tc.code || p.Message == "" {
				t.Fatalf("%d %s; want %d with code %q", res.StatusCode, b, tc.status, tc.code)
			}
		})
	}
	if res := do(t, c, "GET", srv.URL+"/login", "", ""); res.StatusCode != 405 {
		t.Errorf("GET /login: %d, want 405", res.StatusCode)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
