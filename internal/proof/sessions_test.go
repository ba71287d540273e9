package proof

import (
	"encoding/json"
	"errors"
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
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/storefault"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/store"
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
				t.Helper()
				return bearerCall(t, srv, method, path, tok)
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

// TestIdleTimeout is issue 16's idle timeout end to end over HTTP on every
// store, on a fake clock: a session used every 15 seconds stays alive to
// its absolute expiry and no further, and costs one store write a minute
// (the touch interval) while every other request is one lookup and no
// write, counted at the store and, on Redis, in commands on the wire; a
// session left idle for the timeout is refused as an expired one (401
// invalid_token) and revoked.
func TestIdleTimeout(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			// Redis keeps real-time TTLs: the records here live hours, so
			// the frozen clock never outruns them.
			clock := fakeclock.New(time.Now().Truncate(time.Millisecond))
			raw, cmds := sf.OpenCounted(t, clock.Now)
			st := storefault.Wrap(raw)
			tm, err := tokens.New(tokens.Config{Store: st, Now: clock.Now, TagKey: testfix.TagKey, SessionTTL: 2 * time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: tm, IdleTimeout: 30 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				p, _ := middleware.FromContext(r.Context())
				io.WriteString(w, p.Subject)
			})))
			t.Cleanup(srv.Close)
			get := func(tok string) (int, string) {
				t.Helper()
				return bearerCall(t, srv, "GET", "/me", tok)
			}
			refused := func(tok, why string) {
				t.Helper()
				if status, body := get(tok); status != 401 || !strings.Contains(body, `"invalid_token"`) {
					t.Fatalf("%s: %d %s, want 401 invalid_token", why, status, body)
				}
			}
			issue := func() tokens.Issued {
				t.Helper()
				iss, err := tm.Issue(t.Context(), store.KindSession, tokens.Claims{Subject: "ada"})
				if err != nil {
					t.Fatal(err)
				}
				return iss
			}
			wire := func() int64 {
				if cmds == nil {
					return 0
				}
				return cmds.N.Load()
			}

			// Active: a request every 15 s until the absolute expiry.
			iss := issue()
			calls, touches, sent := st.Calls(), st.Touches(), wire()
			requests := int64(0)
			for clock.Now().Before(iss.Record.ExpiresAt) {
				if status, body := get(iss.Token); status != 200 || body != "ada" {
					t.Fatalf("after %v of activity: %d %s", clock.Now().Sub(iss.Record.IssuedAt), status, body)
				}
				requests++
				clock.Advance(15 * time.Second)
			}
			refused(iss.Token, "past the absolute expiry of an active session")
			requests++
			touches = st.Touches() - touches
			calls = st.Calls() - calls
			sent = wire() - sent
			t.Logf("%s: %d requests in 2h: %d touches (writes), %d store calls, %d Redis commands",
				sf.Name, requests, touches, calls, sent)
			if touches < 119 || touches > 120 {
				t.Errorf("%d touches in 2 hours of requests every 15s, want one a minute (119 or 120)", touches)
			}
			if calls != requests+touches {
				t.Errorf("%d store calls for %d requests and %d touches, want one lookup per request and the touches", calls, requests, touches)
			}
			// One GET per request and one script per touch; a script a node
			// has not seen yet costs one more command (NOSCRIPT, EVAL).
			if cmds != nil && (sent < requests+touches || sent > requests+touches+6) {
				t.Errorf("%d Redis commands for %d requests and %d touches", sent, requests, touches)
			}

			// Idle: refused once the timeout has passed since the last
			// request that touched it, and revoked.
			iss = issue()
			clock.Advance(29 * time.Minute)
			if status, _ := get(iss.Token); status != 200 {
				t.Fatalf("after 29 minutes idle: %d", status)
			}
			clock.Advance(29 * time.Minute)
			if status, _ := get(iss.Token); status != 200 {
				t.Fatalf("29 minutes after the last request: %d", status)
			}
			clock.Advance(30 * time.Minute)
			refused(iss.Token, "30 minutes idle")
			if _, err := tm.Validate(t.Context(), store.KindSession, iss.Token); !errors.Is(err, tokens.ErrInvalid) {
				t.Errorf("the idle session is still there: Validate = %v", err)
			}
			refused(iss.Token, "again, after the idle session was revoked")
		})
	}
}

// bearerCall sends method path to srv with tok as the bearer token and
// returns the status and body.
func bearerCall(t *testing.T, srv *httptest.Server, method, path, tok string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
