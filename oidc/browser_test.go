package oidc_test

import (
	"bytes"
	"context"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-go/gatehouse/internal/browsertest"
	"github.com/gatehouse-go/gatehouse/internal/oidcprovider"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/oidc"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/tokens"
)

var browserPage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>App</title>
<style>body{font-family:sans-serif;margin:2em}dt{font-weight:bold}#error{color:#b00}</style></head>
<body>
{{- if .ID}}
<h1>Signed in</h1>
<dl id="identity">
<dt>Issuer</dt><dd id="issuer">{{.ID.Issuer}}</dd>
<dt>Subject</dt><dd id="subject">{{.ID.Subject}}</dd>
<dt>Email</dt><dd id="email">{{.ID.Email}}</dd>
<dt>Email verified</dt><dd id="email-verified">{{.ID.EmailVerified}}</dd>
<dt>Name</dt><dd id="name">{{.ID.Name}}</dd>
<dt>Next</dt><dd id="next">{{.Next}}</dd>
</dl>
{{- else if .Code}}
<h1>Login failed</h1><p id="error">{{.Code}}</p>
{{- else}}
<h1>App</h1><p><a id="login" href="/login?next=/dashboard">Log in with Test</a></p>
{{- end}}
</body></html>`))

type browserPageData struct {
	ID   *oidc.Identity
	Next string
	Code string
}

// TestBrowser: in Chromium, the app's "Log in with Test" link runs Begin,
// the provider's login form (zitadel behind internal/oidcprovider) takes
// the password, and the app's callback shows the identity Finish
// returned; opening the callback again is refused (invalid_state). The app is
// on http://localhost, where Chromium keeps the Secure __Host- binding
// cookie (localhost is a secure context), so the RP runs with its
// production cookie settings. Screenshots go to GATEHOUSE_SCREENSHOTS.
func TestBrowser(t *testing.T) {
	browser := browsertest.New(t)
	tab := browsertest.NewTab(t, browser)
	shots := newOIDCShots(t)

	p := oidcprovider.Start(t)
	p.AddUser(oidcprovider.User{Subject: zSubject, Email: zUser, EmailVerified: true,
		Password: zPassword, Name: "Ada Lovelace"})
	tm, err := tokens.New(tokens.Config{Store: teststores.All()[0].Open(t, time.Now),
		TagKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://localhost:" + ln.Addr().String()[strings.LastIndexByte(ln.Addr().String(), ':')+1:]
	p.AddClient("browser-app", zSecret, base+"/callback")
	rp, err := oidc.New(oidc.Config{Tokens: tm,
		Providers: []oidc.Provider{{Name: "test", Issuer: p.Issuer(), ClientID: "browser-app",
			ClientSecret: zSecret, RedirectURL: base + "/callback"}},
		RedirectAllowlist: []string{"/dashboard"}})
	if err != nil {
		t.Fatal(err)
	}
	render := func(w http.ResponseWriter, status int, d browserPageData) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_ = browserPage.Execute(w, d)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { render(w, 200, browserPageData{}) })
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		if err := rp.Begin(w, r, "test", r.FormValue("next")); err != nil {
			problem.Write(w, err)
		}
	})
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		id, next, err := rp.Finish(w, r)
		if err != nil {
			render(w, problem.Of(err).Status, browserPageData{Code: problem.Of(err).Code})
			return
		}
		render(w, 200, browserPageData{ID: &id, Next: next})
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	user, pass := "#"+oidcprovider.UsernameField, "#"+oidcprovider.PasswordField
	obstep(t, tab, "desktop viewport", chromedp.EmulateViewport(900, 600))
	obstep(t, tab, "open the app", chromedp.Navigate(base+"/"), chromedp.WaitVisible("#login"))
	shots.take(tab, "oidc-01-app")
	obstep(t, tab, "click Log in with Test", chromedp.Click("#login"), chromedp.WaitVisible(user))
	if loc := obrun(t, tab, "read the location", chromedp.Location()); !strings.HasPrefix(loc, p.Issuer()+"/login") {
		t.Fatalf("the login link led to %s, not the provider's login form", loc)
	}
	obstep(t, tab, "fill the login form",
		chromedp.SendKeys(user, zUser),
		chromedp.SendKeys(pass, zPassword))
	shots.take(tab, "oidc-02-provider-login")
	obstep(t, tab, "log in", chromedp.Click("#"+oidcprovider.LoginButton), chromedp.WaitVisible("#identity"))
	shots.take(tab, "oidc-03-signed-in")
	for sel, want := range map[string]string{"#issuer": p.Issuer(), "#subject": zSubject, "#email": zUser,
		"#email-verified": "true", "#name": "Ada Lovelace", "#next": "/dashboard"} {
		if got := obrun(t, tab, "read "+sel, chromedp.Text(sel)); got != want {
			t.Errorf("%s shows %q, want %q", sel, got, want)
		}
	}
	cb := obrun(t, tab, "read the location", chromedp.Location())
	if !strings.HasPrefix(cb, base+"/callback?") {
		t.Fatalf("landed on %s, not the app's callback", cb)
	}

	// Opening the callback again replays its state: refused.
	// Same-URL navigation is a reload to Chromium, after which chromedp's
	// node queries hang on the old document: the page is read by script.
	obstep(t, tab, "open the callback again", chromedp.Navigate(cb))
	if got := obrun(t, tab, "read the error", chromedp.Evaluate[string](
		`document.getElementById("error")?.textContent ?? document.body.innerText`)); got != "invalid_state" {
		t.Fatalf("the replayed callback shows %q, want invalid_state", got)
	}
	shots.take(tab, "oidc-04-replayed")
}

const oidcBrowserStepTimeout = 20 * time.Second

func obstep(t *testing.T, tab context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	obrun(t, tab, what, chromedp.Steps(actions...))
}

// obrun runs one action in tab within oidcBrowserStepTimeout and returns
// its value.
func obrun[T any](t *testing.T, tab context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, oidcBrowserStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// oidcShots keeps screenshots in GATEHOUSE_SCREENSHOTS, or a temporary
// directory.
type oidcShots struct {
	t   *testing.T
	dir string
}

func newOIDCShots(t *testing.T) *oidcShots {
	dir := os.Getenv("GATEHOUSE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &oidcShots{t: t, dir: dir}
}

func (s *oidcShots) take(tab context.Context, name string) {
	s.t.Helper()
	png := obrun(s.t, tab, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(s.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("screenshot: %s", path)
}
