package account_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gatehouse-go/gatehouse/internal/browsertest"
	"github.com/gatehouse-go/gatehouse/internal/oidcprovider"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
)

// TestPagesBrowserSocial: in Chromium, a new user clicks "Log in with
// Test" on the login page, logs in on the provider's own login form, and
// lands signed in on the overview of a new account; logs out, and logs in
// again by the button; and the Linked accounts page lists the provider.
// The app is served on http://localhost (a secure context, where the
// Secure __Host- cookies stay) with the production cookie; the provider
// on its loopback port, another site, so the flow's SameSite=Lax binding
// cookie must survive the cross-site redirect back.
func TestPagesBrowserSocial(t *testing.T) {
	browser := browsertest.New(t)
	ln, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	origin := "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	srv.URL = origin // the provider redirects to the name the browser used
	s := newSocialOn(t, teststores.All()[0], false, srv, mux, productionCookies(t))
	s.h.clock.Advance(time.Since(s.h.clock.Now()))
	s.op.AddUser(oidcprovider.User{Subject: "op-grace", Email: "grace@example.com", EmailVerified: true, Password: opPassword})
	base := origin + pagesPath
	shots := newShots(t)

	tab := browsertest.NewTab(t, browser)
	bstep(t, tab, "desktop viewport", chromedp.EmulateViewport(1100, 800))
	bstep(t, tab, "open the login page", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.ID("login-with-test")))
	shots.take(tab, "social-01-login")
	bstep(t, tab, "click Log in with Test", chromedp.Click(chromedp.ID("login-with-test")),
		chromedp.WaitVisible(chromedp.ID(oidcprovider.UsernameField)))
	shots.take(tab, "social-02-provider")
	bstep(t, tab, "log in at the provider",
		chromedp.SendKeys(chromedp.ID(oidcprovider.UsernameField), "grace@example.com"),
		chromedp.SendKeys(chromedp.ID(oidcprovider.PasswordField), opPassword),
		chromedp.Click(chromedp.ID(oidcprovider.LoginButton)),
		chromedp.WaitVisible(chromedp.ID("account")))
	if got := brun(t, tab, "read the address", chromedp.Text(chromedp.ID("user-email"))); got != "grace@example.com" {
		t.Fatalf("overview of %q", got)
	}
	shots.take(tab, "social-03-home")

	bstep(t, tab, "open Linked accounts", chromedp.Click(chromedp.ID("identities-link")), chromedp.WaitVisible(chromedp.ID("identities")))
	if got := brun(t, tab, "read the list", chromedp.Text(chromedp.ID("identities"))); !strings.Contains(got, "Test") ||
		!strings.Contains(got, "grace@example.com") {
		t.Errorf("linked accounts: %q", got)
	}
	shots.take(tab, "social-04-identities")

	bstep(t, tab, "log out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-with-test")))
	bstep(t, tab, "log in again by the button", chromedp.Click(chromedp.ID("login-with-test")),
		chromedp.WaitVisible(chromedp.ID(oidcprovider.UsernameField)),
		chromedp.SendKeys(chromedp.ID(oidcprovider.UsernameField), "grace@example.com"),
		chromedp.SendKeys(chromedp.ID(oidcprovider.PasswordField), opPassword),
		chromedp.Click(chromedp.ID(oidcprovider.LoginButton)),
		chromedp.WaitVisible(chromedp.ID("account")))
	if n := s.h.users.Len(); n != 1 {
		t.Fatalf("%d accounts after two logins, want 1", n)
	}
}
