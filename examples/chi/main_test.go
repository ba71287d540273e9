package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/store/memory"
)

// newServer runs the chi app over TLS with a memory store.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	st := memory.New(memory.Options{})
	t.Cleanup(func() { st.Close() })
	h, err := newRouter(config{store: st, tagKey: []byte("chi example's test routing-tag key"), bcryptCost: 10})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// call sends one request and returns the status and the decoded JSON body
// (nil when there is none).
func call(t *testing.T, srv *httptest.Server, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s %s: %d, not JSON: %q", method, path, res.StatusCode, b)
		}
	}
	return res.StatusCode, v
}

func TestLoginGuardLogout(t *testing.T) {
	t.Parallel()
	srv := newServer(t)

	status, login := call(t, srv, "POST", "/login", "", `{"username":"demo","password":"gatehouse-demo"}`)
	token, _ := login["token"].(string)
	if status != http.StatusOK || token == "" {
		t.Fatalf("login: %d %v", status, login)
	}

	for _, tc := range []struct {
		name, path, token string
		status            int
		key, want         string // a field of the answer and its value
	}{
		{"me with the bearer", "/me", token, 200, "subject", "user-1"},
		{"own profile by URL param", "/users/user-1", token, 200, "subject", "user-1"},
		{"someone else's profile", "/users/user-2", token, 403, "code", "forbidden"},
		{"me without a token", "/me", "", 401, "code", "missing_token"},
		{"profile without a token", "/users/user-1", "", 401, "code", "missing_token"},
		{"me with a bad token", "/me", "junk", 401, "code", "invalid_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(t, srv, "GET", tc.path, tc.token, "")
			if status != tc.status || body[tc.key] != tc.want {
				t.Fatalf("GET %s: %d %v; want %d with %s %q", tc.path, status, body, tc.status, tc.key, tc.want)
			}
		})
	}

	if status, body := call(t, srv, "POST", "/logout", token, ""); status != http.StatusNoContent {
		t.Fatalf("logout: %d %v", status, body)
	}
	for _, path := range []string{"/me", "/users/user-1"} {
		if status, body := call(t, srv, "GET", path, token, ""); status != http.StatusUnauthorized || body["code"] != "invalid_token" {
			t.Fatalf("GET %s after logout: %d %v; want 401 invalid_token", path, status, body)
		}
	}
}

func TestWrongPasswordAndRouting(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	if status, body := call(t, srv, "POST", "/login", "", `{"username":"demo","password":"wrong"}`); status != 401 || body["code"] != "invalid_credentials" {
		t.Errorf("wrong password: %d %v", status, body)
	}
	// chi answers what is not routed: gatehouse does not see it.
	if status, _ := call(t, srv, "GET", "/login", "", ""); status != http.StatusMethodNotAllowed {
		t.Errorf("GET /login: %d, want 405", status)
	}
}

func TestOpenStore(t *testing.T) {
	st, done, err := openStore("")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.(*memory.Store); !ok {
		t.Errorf("no -redis gave %T, want the memory store", st)
	}
	done()
	for _, spec := range []string{"redis://127.0.0.1:1", "bogus://x"} {
		if _, _, err := openStore(spec); err == nil {
			t.Errorf("openStore(%q) opened", spec)
		}
	}
}

// TestServerLimits is finding 8 of issue 15 for this example: the server
// sets every limit on what a connection may hold, not only
// ReadHeaderTimeout (the main module's examples show each limit at work,
// in examples/internal/extest).
func TestServerLimits(t *testing.T) {
	srv := newHTTPServer(nil)
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout,
	} {
		if d <= 0 || d > 2*time.Minute {
			t.Errorf("%s = %v, want a limit of at most 2 minutes", name, d)
		}
	}
	if n := srv.MaxHeaderBytes; n <= 0 || n > 64<<10 {
		t.Errorf("MaxHeaderBytes = %d, want a limit of at most 64 KiB", n)
	}
}

// TestRoutingTagKey: the key comes from -tag-key or GATEHOUSE_TAG_KEY;
// without one only a loopback server starts, on a random key.
func TestRoutingTagKey(t *testing.T) {
	public := &net.TCPAddr{IP: net.IPv4zero, Port: 8080}
	if _, err := routingTagKey("", public); err == nil {
		t.Error("no key off loopback: accepted")
	}
	k1, err1 := routingTagKey("", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	k2, err2 := routingTagKey("", &net.TCPAddr{IP: net.IPv6loopback})
	if err1 != nil || err2 != nil || len(k1) < 32 || string(k1) == string(k2) {
		t.Errorf("no key on loopback: %q, %q (%v, %v); want two random keys", k1, k2, err1, err2)
	}
}
