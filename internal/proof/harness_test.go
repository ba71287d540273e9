package proof

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/testfix"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

const rightPassword = "correct horse battery staple"

// oneUser is a user table with one account, "ada", also found by its
// address "ada@example.com".
type oneUser struct{ hash []byte }

func (u oneUser) FindUser(_ context.Context, login string) (auth.User, error) {
	if login == "ada" || login == "ada@example.com" {
		return auth.User{Subject: "1815", PasswordHash: u.hash, Active: true, EmailConfirmed: true}, nil
	}
	return auth.User{}, auth.ErrUnknownUser
}

// app is an HTTP app over a store: POST /login and a guarded GET /me.
type app struct {
	srv    *httptest.Server
	hasher *authtest.Hasher
	tokens *tokens.Manager
	auth   *auth.Authenticator
	guard  *middleware.Guard
	mux    *http.ServeMux // a test may add routes while it serves
}

func newApp(t testing.TB, st store.Store, cost int) *app {
	t.Helper()
	tm, err := tokens.New(tokens.Config{Store: st, TagKey: testfix.TagKey})
	if err != nil {
		t.Fatal(err)
	}
	h := &authtest.Hasher{Bcrypt: password.Bcrypt{Cost: cost}}
	hash, err := h.Hash([]byte(rightPassword))
	if err != nil {
		t.Fatal(err)
	}
	// The rows on this harness send thousands of logins from one address
	// to measure the store's failures, not the rate limit (which limit's
	// and auth's own tests cover), so it is off here.
	a, err := auth.New(auth.Config{Users: oneUser{hash}, Tokens: tm, Counters: st, Hasher: h, NoRateLimits: true})
	if err != nil {
		t.Fatal(err)
	}
	g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: tm})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /login", a.LoginHandler(auth.HandlerOptions{}))
	mux.Handle("GET /me", g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := middleware.FromContext(r.Context())
		fmt.Fprint(w, p.Subject)
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &app{srv: srv, hasher: h, tokens: tm, auth: a, guard: g, mux: mux}
}

// result is one request of a load run.
type result struct {
	start, end time.Time
	login      bool // a login attempt (else GET /me)
	status     int
	body       string
}

// do sends one request: a login of a random unknown user (so every one
// costs a comparison and none locks an account) or GET /me with tok.
func (a *app) do(c *http.Client, login bool, tok string) result {
	r := result{start: time.Now(), login: login}
	var req *http.Request
	if login {
		body := fmt.Sprintf(`{"username":"nobody-%s","password":"wrong"}`, rand.Text()[:8])
		req, _ = http.NewRequest("POST", a.srv.URL+"/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req, _ = http.NewRequest("GET", a.srv.URL+"/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.Do(req)
	r.end = time.Now()
	if err != nil {
		r.body = err.Error()
		return r
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	r.status, r.body = resp.StatusCode, string(b)
	return r
}

// load sends rate requests a second (one in ten a login) until stop is
// closed, at most inFlight at once, and returns every result.
func (a *app) load(rate, inFlight int, tok string, stop <-chan struct{}) []result {
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: inFlight}, Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	var (
		mu   sync.Mutex
		out  []result
		wg   sync.WaitGroup
		sem  = make(chan struct{}, inFlight)
		tick = time.NewTicker(time.Second / time.Duration(rate))
	)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			wg.Wait()
			return out
		case <-tick.C:
		}
		select {
		case sem <- struct{}{}:
		default:
			continue // the bound: a stalled server does not pile up requests
		}
		wg.Add(1)
		go func(login bool) {
			defer wg.Done()
			r := a.do(c, login, tok)
			<-sem
			mu.Lock()
			out = append(out, r)
			mu.Unlock()
		}(i%10 == 0)
	}
}

// login returns a session token for ada.
func (a *app) login(t testing.TB) string {
	t.Helper()
	resp, err := http.Post(a.srv.URL+"/login", "application/json",
		strings.NewReader(`{"username":"ada","password":"`+rightPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("login: %d %s", resp.StatusCode, b)
	}
	i := strings.Index(string(b), `"token":"`)
	if i < 0 {
		t.Fatalf("login answer without a token: %s", b)
	}
	tok := string(b[i+9:])
	return tok[:strings.IndexByte(tok, '"')]
}

// noLeak waits for the goroutine count to fall back to before (give or
// take the runtime's own), failing t if it does not: goleak's check, in a
// few lines, without a dependency.
func noLeak(t testing.TB, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before+2 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, %d before the test:\n%s", n, before, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
