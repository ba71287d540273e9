package main

// The quickstart in a real browser: headless Chromium, driven over the
// DevTools protocol by chromedp, against the app served over TLS as it
// runs in production (secure cookies on). The HTTP-level tests in
// main_test.go check the same flow with a Go client; this one checks what
// only a browser does: it fills and submits the form, stores the cookie by
// its flags, hides it from scripts, and sends Origin and Sec-Fetch-Site on
// a form post from another site.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/gatehouse-go/gatehouse/examples/internal/extest"
)

// stepTimeout bounds each browser step. A login hashes with bcrypt cost 10,
// about a second under -race, so this leaves a wide margin.
const stepTimeout = 30 * time.Second

// evilHost is the other site of the cross-origin rows. Chromium maps it to
// 127.0.0.1 (--host-resolver-rules), so the page it serves is cross-site
// to the quickstart on 127.0.0.1 without any DNS.
const evilHost = "evil.example"

func TestBrowserChromium(t *testing.T) {
	browser := newBrowser(t)
	a, err := newApp(appConfig{tagKey: extest.TagKey, secureCookies: true, bcryptCost: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	srv := httptest.NewTLSServer(a)
	t.Cleanup(srv.Close)

	t.Run("login, cookie flags, logout", func(t *testing.T) {
		tab := newTab(t, browser)
		step(t, tab, "open /", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("login")))
		login(t, tab)

		c := sessionCookie(t, tab, srv.URL)
		if c == nil {
			t.Fatal("no session cookie after login")
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
			tab := newTab(t, browser)
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
		if c.Name == "gatehouse_quickstart" {
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

// newBrowser starts headless Chromium for the test and stops it at the end.
// It skips the test when Chromium is not installed, unless
// GATEHOUSE_REQUIRE_BROWSER=1 (make test sets it, after installing it).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	out := new(extest.Buffer)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.CombinedOutput(out),
		// As root on a machine without a display or a GPU.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		// No traffic of Chromium's own: this machine's network is closed,
		// and every refused connection would be noise in its log.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		// The test servers have httptest's self-signed certificate; TLS is
		// what lets the Secure cookie be set at all.
		chromedp.IgnoreCertErrors,
		chromedp.Flag("host-resolver-rules", "MAP "+evilHost+" 127.0.0.1"),
		// chromedp gives each browser a fresh --user-data-dir under the
		// temporary directory and removes it when the browser stops.
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		if t.Failed() {
			t.Logf("chromium's output (less its D-Bus complaints):\n%s", withoutDBus(out.String()))
		}
	})
	// The first run starts the browser and ties it to ctx, so it cannot
	// carry a deadline of its own: a timer cancels it instead.
	start(t, ctx, cancel, "start chromium")
	return ctx
}

// newTab opens a tab in a new browser context of browser (its own cookie
// jar, like a private window) and closes it at the end of the test.
func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	start(t, ctx, cancel, "open a tab")
	return ctx
}

// start runs nothing on ctx, which starts its browser or tab, and gives up
// after stepTimeout.
func start(t *testing.T, ctx context.Context, cancel context.CancelFunc, what string) {
	t.Helper()
	timer := time.AfterFunc(stepTimeout, cancel)
	err := chromedp.Do(ctx)
	if !timer.Stop() {
		t.Fatalf("%s: not done after %v (%v)", what, stepTimeout, err)
	}
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	const msg = "chromium is not installed; `make test` installs it (Debian package chromium) and runs this test"
	if os.Getenv("GATEHOUSE_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// withoutDBus drops the lines in which Chromium complains that it has no
// D-Bus, as on every machine without a desktop session.
func withoutDBus(log string) string {
	var keep []string
	for line := range strings.Lines(log) {
		if !strings.Contains(line, "dbus") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "")
}
