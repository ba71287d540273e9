package oidc_test

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/oidc"
	"github.com/gatehouse-go/gatehouse/problem"
)

// TestBrowserFlow runs the flow as a browser does, over TLS with a
// cookie jar following redirects: the __Host- cookie set at /login comes
// back at the callback, and a second browser replaying the callback URL
// is refused.
func TestBrowserFlow(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			clock := fakeclock.New(start)
			mux := http.NewServeMux()
			app := httptest.NewTLSServer(mux)
			t.Cleanup(app.Close)
			e := newEnv(t, sf.Open(t, clock.Now), clock, func(cfg *oidc.Config, _ *fakeOP) {
				cfg.Providers[0].RedirectURL = app.URL + "/callback"
			})
			mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
				if err := e.rp.Begin(w, r, r.FormValue("provider"), r.FormValue("next")); err != nil {
					problem.Write(w, err)
				}
			})
			mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
				id, next, err := e.rp.Finish(w, r)
				if err != nil {
					problem.Write(w, err)
					return
				}
				json.NewEncoder(w).Encode(map[string]string{"sub": id.Subject, "iss": id.Issuer, "next": next})
			})
			newBrowser := func() (*http.Client, *string) {
				jar, _ := cookiejar.New(nil)
				c := new(http.Client)
				*c = *app.Client() // a copy: the server's client is one value
				c.Jar = jar
				last := new(string)
				c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
					*last = req.URL.String()
					return nil
				}
				return c, last
			}
			c, last := newBrowser()
			resp, err := c.Get(app.URL + "/login?provider=op&next=" + url.QueryEscape("/dashboard"))
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]string
			json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
			if resp.StatusCode != 200 || got["sub"] != subject || got["iss"] != e.op.issuer() || got["next"] != "/dashboard" {
				t.Fatalf("%d %v", resp.StatusCode, got)
			}
			// Another browser opening the callback URL (a fresh flow's,
			// stolen before use) is refused, and its owner too after.
			c2, _ := newBrowser()
			c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
				*last = req.URL.String()
				if req.URL.Path == "/callback" {
					return http.ErrUseLastResponse
				}
				return nil
			}
			resp, err = c.Get(app.URL + "/login?provider=op")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			cb := *last
			for _, b := range []*http.Client{c2, c} {
				resp, err = b.Get(cb)
				if err != nil {
					t.Fatal(err)
				}
				var p problem.Error
				json.NewDecoder(resp.Body).Decode(&p)
				resp.Body.Close()
				if resp.StatusCode != 401 || p.Code != "invalid_state" {
					t.Fatalf("%d %+v", resp.StatusCode, p)
				}
			}
		})
	}
}
