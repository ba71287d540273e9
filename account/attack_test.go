package account_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
)

// dropCookie removes a cookie from c's jar, as a browser does when its
// Max-Age runs out.
func dropCookie(c *pageClient, base, name string) {
	u, _ := url.Parse(base)
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: "", Path: "/", MaxAge: -1}})
}

// TestPagesLogoutEndsRememberMe: a remembered browser whose session
// cookie has run out (it lasts the session; the remember-me cookie lasts
// 30 days) presses "Log out" on a page it still shows. The logout must
// end the remember-me chain too: else the very next page brings the
// session back, and a user who logged out of a shared computer is not.
func TestPagesLogoutEndsRememberMe(t *testing.T) {
	eachStore(t, func(t *testing.T, st teststores.Store) {
		h := newHarness(t, st.Open, withRememberMe(t))
		h.signup(t, "ada@example.com", "ada")
		srv := pagesServer(t, h, true)
		c := newPageClient(t, srv)
		if p := c.post("/login", url.Values{"login": {"ada"}, "password": {strongPassword}, "remember": {"on"}}); p.status != 303 {
			t.Fatalf("login: %d", p.status)
		}
		if rememberCookie(t, c, srv.URL) == "" {
			t.Fatal("no remember-me cookie")
		}
		h.clock.Advance(25 * time.Hour)
		dropCookie(c, srv.URL, "__Host-sess")
		dropCookie(c, srv.URL, "sess")

		p := c.post("/logout", url.Values{})
		if p.status != 303 {
			t.Fatalf("logout: %d to %q", p.status, p.location)
		}
		if p := c.get("/login"); p.status != 200 {
			t.Fatalf("GET /login after logging out: %d to %q, want the login form (the remember-me cookie signed the browser back in)", p.status, p.location)
		}
		if p := c.get("/"); p.status != 303 || !strings.HasPrefix(p.location, pagesPath+"/login") {
			t.Fatalf("GET / after logging out: %d to %q, want the login page", p.status, p.location)
		}
		if d, err := h.auth.Devices(t.Context(), mustSubject(t, h, "ada")); err != nil || len(d) != 0 {
			t.Fatalf("devices after logout: %v %v, want none", d, err)
		}
	})
}

func mustSubject(t *testing.T, h *harness, login string) string {
	t.Helper()
	u, err := h.users.FindUser(t.Context(), login)
	if err != nil {
		t.Fatal(err)
	}
	return u.Subject
}

var _ = auth.RememberCookie
