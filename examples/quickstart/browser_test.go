package main

// The quickstart in a real browser: headless Chromium, driven over the
// DevTools protocol by chromedp, against the app served over TLS as it
// runs in production (secure cookies on). The HTTP-level tests in
// main_test.go check the same flow with a Go client; this one checks what
// only a browser does: it fills and submits the form, stores the cookie by
// its flags, hides it from scripts, and sends Origin and Sec-Fetch-Site on
// a form post from another site.

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/gatehouse-go/gatehouse/examples/internal/extest"
	"github.com/gatehouse-go/gatehouse/internal/browsertest"
)

// stepTimeout bounds each browser step. A login hashes with bcrypt cost 10,
// about a second under -race, so this leaves a wide margin.
const stepTimeout = 30 * time.Second

// evilHost is the other site of the cross-origin rows. Chromium maps it to
// 127.0.0.1 (--host-resolver-rules), so the page it serves is cross-site
// to the quickstart on 127.0.0.1 without any DNS.
const evilHost = "evil.example"

func TestBrowserChromium(t *testing.T) {
	browser := browsertest.New(t, chromedp.Flag("host-resolver-rules", "MAP "+evilHost+" 127.0.0.1"))
	a, err := newApp(appConfig{tagKey: extest.TagKey, secureCookies: true, bcryptCost: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	posts := new(postLog)
	srv := httptest.NewTLSServer(posts.wrap(a))
	t.Cleanup(srv.Close)

	t.Run("login, cookie flags, logout", func(t *testing.T) {
		tab := browsertest.NewTab(t, browser)
		step(t, tab, "open /", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("login")))
		login(t, tab)

		c := sessionCookie(t, tab, srv.URL)
		if c == nil {
			t.Fatal("no session cookie after login")
		}
		if !strings.HasPrefix(c.Name, "__Host-") || c.Domain != "127.0.0.1" {
			t.Errorf("session cookie %s for %q: want a __Host- cookie, host-only", c.Name, c.Domain)
		}
		if !c.HTTPOnly || !c.Secure || c.SameSite != network.CookieSameSiteLax || c.Path != "/" {
			t.Errorf("session cookie %s: HttpOnly=%v Secure=%v SameSite=%q Path=%q; want HttpOnly, Secure, SameSite=Lax, Path=/",
				c.Name, c.HTTPOnly, c.Secure, c.SameSite, c.Path)
		}
		if js := run(t, tab, "read document.cookie", chromedp.Evaluate[string]("document.cookie")); strings.Contains(js, c.Name) {
			t.Errorf("scripts can read the session cookie: document.cookie = %q", js)
		}
		if status := fetchStatus(t, tab, "/me"); status != http.StatusOK {
			t.Errorf("GET /me from the page with the cookie: %d, want 200", status)
		}

		step(t, tab, "log out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login")))
		if c := sessionCookie(t, tab, srv.URL); c != nil {
			t.Errorf("session cookie %s still set after logout", c.Name)
		}
		if status := fetchStatus(t, tab, "/me"); status != http.StatusUnauthorized {
			t.Errorf("GET /me after logout: %d, want 401", status)
		}
	})

	// A page of another origin posts a form to the quickstart on load, as a
	// CSRF attack would. http.CrossOriginProtection refuses it from the
	// browser's Sec-Fetch-Site header: no session is made or ended.
	for _, tc := range []struct {
		name     string
		host     string // where the attacking page is served
		path     string // what it posts to
		loggedIn bool   // the victim has a session first
	}{
		{"cross-site login", evilHost, "/login", false},
		{"same-site login from another port", "127.0.0.1", "/login", false},
		{"cross-site logout of a session", evilHost, "/logout", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := browsertest.NewTab(t, browser)
			if tc.loggedIn {
				step(t, tab, "open /", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("login")))
				login(t, tab)
			}
			before := sessionCookie(t, tab, srv.URL)

			target := srv.URL + tc.path
			evil := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprintf(w, `<!doctype html><html><body onload="document.forms[0].submit()">
<form method="post" action="%s">
<input name="username" value="demo"><input name="password" value="gatehouse-demo">
</form></body></html>`, target)
			}))
			t.Cleanup(evil.Close)
			evilURL := strings.Replace(evil.URL, "127.0.0.1", tc.host, 1)

			// The first page the quickstart shows: the answer to the post,
			// or where it redirected had the post been let through.
			res := run(t, tab, "the other origin posts to "+tc.path,
				chromedp.WaitEvent(network.ResponseReceived, func(ev network.EventResponseReceived) bool {
					return ev.Type == network.ResourceTypeDocument && strings.HasPrefix(ev.Response.URL, srv.URL+"/")
				}, chromedp.Navigate(evilURL+"/")))
			if res.Response.URL != target || res.Response.Status != http.StatusForbidden {
				t.Fatalf("cross-origin POST %s: the browser got %d from %s, want 403 from %s",
					tc.path, res.Response.Status, res.Response.URL, target)
			}
			// Chromium shows the JSON answer in a <pre>; the page that
			// posted has none, so this waits for the answer to be shown.
			step(t, tab, "show the refusal", chromedp.WaitVisible(chromedp.CSS("body > pre")))
			if loc := run(t, tab, "read the location", chromedp.Location()); loc != target {
				t.Fatalf("the browser is at %s, want %s", loc, target)
			}
			body := run(t, tab, "read the refusal", chromedp.Text(chromedp.CSS("body > pre")))
			if !strings.Contains(body, `"code":"cross_origin"`) {
				t.Errorf("cross-origin POST %s answered %s", tc.path, body)
			}

			after := sessionCookie(t, tab, srv.URL)
			switch {
			case before == nil && after != nil:
				t.Errorf("a cross-origin post to %s set the session cookie %s", tc.path, after.Name)
			case before != nil && (after == nil || after.Value != before.Value):
				t.Errorf("a cross-origin post to %s changed the session cookie", tc.path)
			}
			want := chromedp.ID("login")
			if tc.loggedIn {
				want = chromedp.ID("user") // still logged in
			}
			step(t, tab, "reopen /", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(want))
		})
	}

	// A page of another origin makes the logged-in user's browser post
	// notes to the quickstart with fetch and credentials: "include", as a
	// CSRF attack on a JSON API would. It sends what a page may send
	// without a CORS preflight (a form-encoded body, and JSON as
	// text/plain), so the browser does send the posts. From another port
	// of the same host the site is the same, so the SameSite=Lax cookie
	// goes along and only the guard's cross-origin check stops the post;
	// from another site the browser withholds the cookie.
	for _, tc := range []struct {
		name   string
		host   string // where the attacking page is served
		site   string // the Sec-Fetch-Site the quickstart sees
		cookie bool   // whether the browser sends the session cookie
		status int
		code   string
	}{
		{"fetch from another port (same site)", "127.0.0.1", "same-site", true, http.StatusForbidden, "cross_origin"},
		{"fetch from another site", evilHost, "cross-site", false, http.StatusUnauthorized, "missing_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := browsertest.NewTab(t, browser)
			step(t, tab, "open /", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("login")))
			login(t, tab)
			posts.take()
			// The app's own page may post: same origin.
			status := run(t, tab, "post a note from the app's page", chromedp.Evaluate[int](
				`fetch("/notes", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({text: "mine"})}).then(r => r.status)`,
				chromedp.EvalAwaitPromise))
			if got := posts.take(); status != http.StatusCreated || len(got) != 1 || got[0].site != "same-origin" || !got[0].cookie {
				t.Fatalf("same-origin POST /notes: %d, seen by the server as %+v; want 201 with the cookie", status, got)
			}

			target := srv.URL + "/notes"
			evil := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><title>posting</title>
<style>body{font:16px system-ui,sans-serif;max-width:40rem;margin:4rem auto}</style></head>
<body><h1>A page of another origin</h1>
<p>It makes the visitor's browser post notes to <code>%s</code>, with credentials:</p>
<ol id="out"></ol>
<script>
const target = %s, out = document.getElementById("out");
function show(what, p) {
  return p.then(r => "answered, status " + r.status, e => "no answer for this page (" + e.message + ")")
    .then(s => { const li = document.createElement("li"); li.textContent = what + ": " + s; out.append(li); });
}
show("a form-encoded note", fetch(target, {method: "POST", credentials: "include",
    headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "text=forged+form"}))
  .then(() => show("a JSON note as text/plain", fetch(target, {method: "POST", credentials: "include",
    body: JSON.stringify({text: "forged json"})})))
  .then(() => { document.title = "done"; });
</script></body></html>`, template.HTMLEscapeString(target), jsString(target))
			}))
			t.Cleanup(evil.Close)
			evilURL := strings.Replace(evil.URL, "127.0.0.1", tc.host, 1)

			step(t, tab, "open the other origin's page", chromedp.Navigate(evilURL+"/"))
			run(t, tab, "wait for its posts", chromedp.Poll[bool](`document.title === "done"`))
			screenshot(t, tab, "csrf-"+tc.host+"-attacker")
			got := posts.take()
			if len(got) != 2 {
				t.Fatalf("the quickstart saw %d posts from the other origin, want 2: %+v", len(got), got)
			}
			for _, p := range got {
				if p.site != tc.site || p.cookie != tc.cookie || p.status != tc.status || !strings.Contains(p.body, `"code":"`+tc.code+`"`) {
					t.Errorf("POST /notes from %s: Sec-Fetch-Site %q, cookie %v, answered %d %s; want %q, cookie %v, %d %s",
						evilURL, p.site, p.cookie, p.status, strings.TrimSpace(p.body), tc.site, tc.cookie, tc.status, tc.code)
				}
			}

			step(t, tab, "reopen /", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("notes")))
			screenshot(t, tab, "csrf-"+tc.host+"-victim")
			// The demo user's notes: "mine" once for each row so far.
			if notes := run(t, tab, "read the notes", chromedp.Text(chromedp.ID("notes"))); strings.Contains(notes, "forged") || !strings.Contains(notes, "mine") {
				t.Errorf("the user's notes after the other origin's posts: %q, want only \"mine\"", notes)
			}
		})
	}
}

// postLog keeps what the quickstart saw of each POST /notes: what the
// browser sent and what the app answered.
type postLog struct {
	mu    sync.Mutex
	posts []notePost
}

type notePost struct {
	site   string // Sec-Fetch-Site
	cookie bool   // the session cookie came along
	status int
	body   string
}

func (l *postLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/notes" {
			h.ServeHTTP(w, r)
			return
		}
		c := &capture{ResponseWriter: w}
		h.ServeHTTP(c, r)
		_, cookie := cookieNamed(r, "__Host-quickstart")
		l.mu.Lock()
		l.posts = append(l.posts, notePost{site: r.Header.Get("Sec-Fetch-Site"), cookie: cookie, status: c.status, body: c.body.String()})
		l.mu.Unlock()
	})
}

// take returns the posts seen since the last take.
func (l *postLog) take() []notePost {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.posts
	l.posts = nil
	return p
}

func cookieNamed(r *http.Request, name string) (string, bool) {
	c, err := r.Cookie(name)
	if err != nil {
		return "", false
	}
	return c.Value, true
}

// capture passes a response on and keeps its status and body.
type capture struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *capture) WriteHeader(status int) {
	c.status = status
	c.ResponseWriter.WriteHeader(status)
}

func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

// screenshot saves what tab shows as name.png in $GATEHOUSE_SCREENSHOTS,
// or in the test's temporary directory, and logs where.
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	png := run(t, tab, "screenshot "+name, chromedp.FullScreenshot(100))
	dir := os.Getenv("GATEHOUSE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// login fills the form of the page open in tab with the demo user, submits
// it, and waits for the logged-in page.
func login(t *testing.T, tab context.Context) {
	t.Helper()
	step(t, tab, "log in",
		chromedp.SendKeys(chromedp.CSS(`#login input[name="username"]`), "demo"),
		chromedp.SendKeys(chromedp.CSS(`#login input[name="password"]`), "gatehouse-demo"),
		chromedp.Click(chromedp.CSS(`#login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("user")),
	)
	if who := run(t, tab, "read the user", chromedp.Text(chromedp.ID("user"))); !strings.Contains(who, "Logged in as user-1") {
		t.Fatalf("logged-in page says %q", who)
	}
}

// sessionCookie returns the quickstart's session cookie as the browser
// keeps it for url, or nil.
func sessionCookie(t *testing.T, tab context.Context, url string) *network.Cookie {
	t.Helper()
	res := run(t, tab, "read cookies", chromedp.Action[network.GetCookiesResult](
		func(ctx context.Context, _ *chromedp.Target) (network.GetCookiesResult, error) {
			return chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
		}))
	for _, c := range res.Cookies {
		if c.Name == "__Host-quickstart" {
			return c
		}
	}
	return nil
}

// fetchStatus fetches path from the page open in tab, with its cookies, and
// returns the status.
func fetchStatus(t *testing.T, tab context.Context, path string) int {
	t.Helper()
	return run(t, tab, "fetch "+path, chromedp.Evaluate[int](
		`fetch(`+jsString(path)+`, {credentials: "same-origin"}).then(r => r.status)`, chromedp.EvalAwaitPromise))
}

func jsString(s string) string { return fmt.Sprintf("%q", s) }

// step runs actions in tab within stepTimeout and fails the test on error.
func step(t *testing.T, tab context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	run(t, tab, what, chromedp.Steps(actions...))
}

// run runs one action in tab within stepTimeout and returns its value.
func run[T any](t *testing.T, tab context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}
