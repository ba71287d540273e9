package proof

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// TestSessionListAndRevoke is the first piece of issue 16's session
// management, end to end over HTTP on every store: a user logged in from
// three places lists its sessions, sees which one is the request's own
// (by the public id on the principal, never a token), and ends another
// one, whose next request is refused; an id of another user ends nothing;
// then it ends every session but its own.
func TestSessionListAndRevoke(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			ap := newApp(t, sf.Open(t, time.Now), authtest.FastCost)
			a, g, mux, srv := ap.auth, ap.guard, ap.mux, ap.srv
			mux.Handle("GET /sessions", g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				p, _ := middleware.FromContext(r.Context())
				list, err := a.Sessions(r.Context(), p.Subject, p.SessionID())
				if err != nil {
					http.Error(w, err.Error(), 500)
					return
				}
				json.NewEncoder(w).Encode(list)
			})))
			mux.Handle("POST /sessions/{id}/revoke", g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				p, _ := middleware.FromContext(r.Context())
				ended, err := a.RevokeSession(r.Context(), p.Subject, r.PathValue("id"))
				if err != nil {
					http.Error(w, err.Error(), 500)
					return
				}
				if !ended {
					http.Error(w, "no such session", 404)
					return
				}
				w.WriteHeader(204)
			})))
			c := srv.Client()
			login := func() string {
				res, err := c.Post(srv.URL+"/login", "application/json", strings.NewReader(fmt.Sprintf(`{"username":"ada","password":%q}`, rightPassword)))
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var out struct{ Token string }
				if json.NewDecoder(res.Body).Decode(&out); out.Token == "" {
					t.Fatalf("login: %d", res.StatusCode)
				}
				return out.Token
			}
			call := func(method, path, tok string) (int, string) {
				req, _ := http.NewRequest(method, srv.URL+path, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return res.StatusCode, string(b)
			}
			laptop, phone, tablet := login(), login(), login()
			status, body := call("GET", "/sessions", laptop)
			var list []auth.SessionInfo
			if err := json.Unmarshal([]byte(body), &list); status != 200 || err != nil || len(list) != 3 {
				t.Fatalf("list: %d %s", status, body)
			}
			var current []string
			for _, s := range list {
				if strings.Contains(body, laptop) || strings.Contains(body, phone) || len(s.ID) != tokens.PublicIDLen {
					t.Fatalf("the list shows a token or a malformed id: %s", body)
				}
				if s.Current {
					current = append(current, s.ID)
				}
			}
			if len(current) != 1 {
				t.Fatalf("%d sessions marked current, want 1: %s", len(current), body)
			}
			// The phone's id, as the phone itself lists it.
			_, phoneBody := call("GET", "/sessions", phone)
			var phoneList []auth.SessionInfo
			json.Unmarshal([]byte(phoneBody), &phoneList)
			phoneID := ""
			for _, s := range phoneList {
				if s.Current {
					phoneID = s.ID
				}
			}
			if phoneID == "" || phoneID == current[0] {
				t.Fatalf("phone's id %q, laptop's %q", phoneID, current[0])
			}
			if status, _ := call("POST", "/sessions/"+phoneID+"/revoke", laptop); status != 204 {
				t.Fatalf("revoke the phone's session: %d", status)
			}
			if status, _ := call("GET", "/sessions", phone); status != 401 {
				t.Fatalf("the revoked phone's next request: %d, want 401", status)
			}
			for _, tok := range []string{laptop, tablet} {
				if status, _ := call("GET", "/sessions", tok); status != 200 {
					t.Fatalf("another session after the revocation: %d", status)
				}
			}
			for _, id := range []string{phoneID, "not-an-id", strings.Repeat("A", tokens.PublicIDLen)} {
				if status, _ := call("POST", "/sessions/"+id+"/revoke", laptop); status != 404 {
					t.Fatalf("revoke %q: %d, want 404", id, status)
				}
			}
			// "Log out my other sessions", from the laptop.
			if n, err := a.RevokeOtherSessions(t.Context(), "1815", current[0]); err != nil || n != 1 {
				t.Fatalf("RevokeOtherSessions = %d, %v; want the tablet's 1", n, err)
			}
			if status, _ := call("GET", "/sessions", tablet); status != 401 {
				t.Fatalf("the tablet after the others were revoked: %d, want 401", status)
			}
			if status, _ := call("GET", "/sessions", laptop); status != 200 {
				t.Fatalf("the laptop, which revoked the others: %d, want 200", status)
			}
		})
	}
}

// TestSinglePageAppGetsACookieFromAJSONLogin (issue 16): a JSON login that
// asks for the cookie gets a __Host- session cookie and no token in the
// body; the page's next requests authenticate with the cookie alone, and
// a cross-site POST carrying it is refused before the store is asked. On
// every store, over TLS as browsers require of a __Host- cookie.
func TestSinglePageAppGetsACookieFromAJSONLogin(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			st := sf.Open(t, time.Now)
			tm, err := tokens.New(tokens.Config{Store: st, TagKey: testfix.TagKey})
			if err != nil {
				t.Fatal(err)
			}
			h := authtest.NewHasher()
			hash, _ := h.Hash([]byte(rightPassword))
			a, err := auth.New(auth.Config{Users: oneUser{hash}, Tokens: tm, Counters: st, Hasher: h})
			if err != nil {
				t.Fatal(err)
			}
			cookies, err := middleware.NewCookies(middleware.CookieConfig{HashKey: testfix.TagKey})
			if err != nil {
				t.Fatal(err)
			}
			g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: tm, Cookies: cookies})
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.Handle("POST /login", a.LoginHandler(auth.HandlerOptions{Cookies: cookies}))
			mux.Handle("/me", g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				p, _ := middleware.FromContext(r.Context())
				fmt.Fprint(w, p.Subject)
			})))
			srv := httptest.NewTLSServer(mux)
			defer srv.Close()
			c := srv.Client()
			c.Jar, _ = cookiejar.New(nil)
			res, err := c.Post(srv.URL+"/login", "application/json", strings.NewReader(fmt.Sprintf(`{"username":"ada","password":%q,"session":"cookie"}`, rightPassword)))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			var session *http.Cookie
			for _, ck := range res.Cookies() {
				if ck.Name == "__Host-gatehouse" {
					session = ck
				}
			}
			if res.StatusCode != 200 || session == nil || !session.Secure || !session.HttpOnly || strings.Contains(string(body), "token") {
				t.Fatalf("JSON login asking for the cookie: %d %s, cookie %v", res.StatusCode, body, session)
			}
			res, err = c.Get(srv.URL + "/me")
			if err != nil {
				t.Fatal(err)
			}
			me, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || string(me) != "1815" {
				t.Fatalf("GET /me with the cookie alone: %d %s", res.StatusCode, me)
			}
			req, _ := http.NewRequest("POST", srv.URL+"/me", nil)
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			res, err = c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden {
				t.Fatalf("a cross-site POST with the cookie: %d, want 403", res.StatusCode)
			}
		})
	}
}
