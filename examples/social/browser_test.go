package main

// The example in headless Chromium as `go run` serves it: plain HTTP on
// http://localhost, with the Dev provider on another loopback port. It
// checks what the Go tests cannot: that a browser keeps the Secure
// __Host- cookies (the flow's and the session's) from http://localhost,
// which is why the app does without oidc.Config.InsecureCookie.

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-go/gatehouse/examples/internal/extest"
	"github.com/gatehouse-go/gatehouse/internal/browsertest"
	"github.com/gatehouse-go/gatehouse/internal/oidcprovider"
)

const browserStepTimeout = 30 * time.Second

func TestBrowserLocalhost(t *testing.T) {
	browser := browsertest.New(t)
	tab := browsertest.NewTab(t, browser)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base, err := baseURL("", ln.Addr())
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(appConfig{tagKey: extest.TagKey, baseURL: base, devProvider: true})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	srv := newHTTPServer(a, defaultLimits)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(tab, browserStepTimeout)
		defer cancel()
		if _, err := chromedp.Run(ctx, chromedp.Steps(actions...)); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(tab, browserStepTimeout)
		defer cancel()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	user, pass, login := "#"+oidcprovider.UsernameField, "#"+oidcprovider.PasswordField, "#"+oidcprovider.LoginButton

	step("open the app", chromedp.Navigate(base+"/"), chromedp.WaitVisible("#login-dev"))
	step("log in with the Dev provider",
		chromedp.Click("#login-dev"),
		chromedp.WaitVisible(user),
		chromedp.SendKeys(user, devUser),
		chromedp.SendKeys(pass, devPassword),
		chromedp.Click(login),
		chromedp.WaitVisible("#user"))
	if got := text("#user"); !strings.Contains(got, "Ada Lovelace") {
		t.Fatalf("logged in as %q", got)
	}
	step("log out", chromedp.Click("#logout"), chromedp.WaitVisible("#login-dev"))

	step("log in as the unverified user",
		chromedp.Click("#login-dev"),
		chromedp.WaitVisible(user),
		chromedp.SendKeys(user, devUnverifiedUser),
		chromedp.SendKeys(pass, devPassword),
		chromedp.Click(login),
		chromedp.WaitVisible("#error"))
	if got := text("#error"); !strings.Contains(got, "no verified email address") {
		t.Errorf("refusal page says %q", got)
	}
}
