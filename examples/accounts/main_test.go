package main

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/examples/internal/extest"
	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/store/memory"
)

// outbox keeps the messages the app sends.
type outbox struct {
	mu   sync.Mutex
	msgs []auth.Message
}

func (o *outbox) Send(_ context.Context, m auth.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, m)
	return nil
}

func (o *outbox) last(t *testing.T) auth.Message {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.msgs) == 0 {
		t.Fatal("no mail")
	}
	return o.msgs[len(o.msgs)-1]
}

func newTestApp(t *testing.T) (*httptest.Server, *outbox) {
	t.Helper()
	st := memory.New(memory.Options{})
	t.Cleanup(func() { st.Close() })
	mail := &outbox{}
	h, err := newApp(appConfig{store: st, tagKey: extest.TagKey, mailer: mail, bcryptCost: 10})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, mail
}

func call(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return res.StatusCode, out
}

// TestTeamNotes is the newcomer's scenario over the JSON API: sign up,
// confirm from the mail, log in, keep a note, log out everywhere.
func TestTeamNotes(t *testing.T) {
	srv, mail := newTestApp(t)
	api := srv.URL + "/api"
	if code, _ := call(t, "POST", api+"/account/signup", "", `{"email":"ada@example.com","password":"a long passphrase of ada's"}`); code != 202 {
		t.Fatalf("signup: %d", code)
	}
	if code, out := call(t, "POST", api+"/account/login", "", `{"login":"ada@example.com","password":"a long passphrase of ada's"}`); code != 401 || out["code"] != "invalid_credentials" {
		t.Fatalf("login before confirming: %d %v", code, out)
	}
	if code, out := call(t, "POST", api+"/account/email/confirm", "", `{"token":"`+mail.last(t).Token+`"}`); code != 200 {
		t.Fatalf("confirm: %d %v", code, out)
	}
	code, out := call(t, "POST", api+"/account/login", "", `{"login":"ada@example.com","password":"a long passphrase of ada's"}`)
	token, _ := out["token"].(string)
	if code != 200 || token == "" {
		t.Fatalf("login: %d %v", code, out)
	}
	if code, _ := call(t, "POST", api+"/notes", token, `{"text":"hello"}`); code != 201 {
		t.Fatalf("add note: %d", code)
	}
	if code, out := call(t, "GET", api+"/notes", token, ""); code != 200 || len(out["notes"].([]any)) != 1 {
		t.Fatalf("list notes: %d %v", code, out)
	}
	if code, _ := call(t, "POST", api+"/account/logout-everywhere", token, ""); code != 204 {
		t.Fatalf("logout everywhere: %d", code)
	}
	if code, _ := call(t, "GET", api+"/notes", token, ""); code != 401 {
		t.Fatalf("notes after logout everywhere: %d", code)
	}
}

// TestPagesMounted: the account pages answer under /account/, and the
// root sends a browser there.
func TestPagesMounted(t *testing.T) {
	srv, _ := newTestApp(t)
	res, err := http.Get(srv.URL + "/account/signup")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "<form") || !strings.Contains(string(body), `action="/account/signup"`) {
		t.Fatalf("GET /account/signup: %d %.300s", res.StatusCode, body)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = noFollow.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 303 || res.Header.Get("Location") != "/account/" {
		t.Fatalf("GET /: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestLogMailerLinksToThePages: the demo's mail log carries the page a
// real mail would link to.
func TestLogMailerLinksToThePages(t *testing.T) {
	var buf strings.Builder
	log.SetOutput(&buf)
	defer log.SetOutput(os.Stderr)
	m := logMailer{pages: "http://127.0.0.1:8090/account"}
	m.Send(t.Context(), auth.Message{Purpose: auth.PurposeConfirmEmail, To: "ada@example.com", Token: "ghv_x.eQ"})
	if !strings.Contains(buf.String(), "http://127.0.0.1:8090/account/confirm?token=ghv_x.eQ") {
		t.Fatalf("logged %q", buf.String())
	}
}

// TestNotesRefuseCrossSiteCookiePosts: the notes routes take the pages'
// session cookie, so a POST another site's page makes the browser send
// with it is refused (403 cross_origin) before anything is stored; the
// same POST from the app's own origin passes.
func TestNotesRefuseCrossSiteCookiePosts(t *testing.T) {
	srv, mail := newTestApp(t)
	api := srv.URL + "/api"
	const pw = "a long passphrase of ada's"
	call(t, "POST", api+"/account/signup", "", `{"email":"ada@example.com","password":"`+pw+`"}`)
	call(t, "POST", api+"/account/email/confirm", "", `{"token":"`+mail.last(t).Token+`"}`)
	res, err := http.Post(api+"/account/login", "application/json", strings.NewReader(`{"login":"ada@example.com","password":"`+pw+`","session":"cookie"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cookies := res.Cookies()
	post := func(site string) int {
		req, _ := http.NewRequest("POST", api+"/notes", strings.NewReader(`{"text":"hello"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Sec-Fetch-Site", site)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := post("cross-site"); got != 403 {
		t.Fatalf("cross-site POST /api/notes with the cookie: %d, want 403", got)
	}
	if got := post("same-origin"); got != 201 {
		t.Fatalf("same-origin POST /api/notes with the cookie: %d, want 201", got)
	}
}

// TestTwoStepLogin: a user turns on two-step verification over the JSON
// API (the password, the QR code's key, a first code, ten recovery
// codes); the next login answers only a pending token, and the second
// step with a recovery code gives the session.
func TestTwoStepLogin(t *testing.T) {
	srv, mail := newTestApp(t)
	api := srv.URL + "/api"
	const pw = "a long passphrase of ada's"
	call(t, "POST", api+"/account/signup", "", `{"email":"ada@example.com","password":"`+pw+`"}`)
	call(t, "POST", api+"/account/email/confirm", "", `{"token":"`+mail.last(t).Token+`"}`)
	_, out := call(t, "POST", api+"/account/login", "", `{"login":"ada@example.com","password":"`+pw+`"}`)
	token, _ := out["token"].(string)

	code, out := call(t, "POST", api+"/account/mfa/totp", token, `{"password":"`+pw+`"}`)
	if code != 200 || out["qr_png"] == "" {
		t.Fatalf("enrol: %d %v", code, out)
	}
	key, err := mfa.ParseKeyURI(out["uri"].(string))
	if err != nil {
		t.Fatal(err)
	}
	code, out = call(t, "POST", api+"/account/mfa/totp/confirm", token, `{"code":"`+key.Code(time.Now())+`"}`)
	codes, _ := out["recovery_codes"].([]any)
	if code != 200 || len(codes) != 10 {
		t.Fatalf("confirm: %d %v", code, out)
	}

	code, out = call(t, "POST", api+"/account/login", "", `{"login":"ada@example.com","password":"`+pw+`"}`)
	pending, _ := out["pending"].(string)
	if code != 401 || out["code"] != "second_factor_required" || pending == "" || out["token"] != nil {
		t.Fatalf("login with two-step verification on: %d %v", code, out)
	}
	code, out = call(t, "POST", api+"/account/login/second", "", `{"pending":"`+pending+`","kind":"recovery","code":"`+codes[0].(string)+`"}`)
	token, _ = out["token"].(string)
	if code != 200 || token == "" {
		t.Fatalf("second step: %d %v", code, out)
	}
	if code, _ := call(t, "POST", api+"/notes", token, `{"text":"hello"}`); code != 201 {
		t.Fatalf("add note after two steps: %d", code)
	}
}

// TestPasskeysWired: with an origin the app offers passkeys (the login
// page loads passkey.js, the passwordless options name the RP ID); the
// origin comes from a loopback address as localhost, never an IP.
func TestPasskeysWired(t *testing.T) {
	st := memory.New(memory.Options{})
	t.Cleanup(func() { st.Close() })
	h, err := newApp(appConfig{store: st, tagKey: extest.TagKey, mailer: &outbox{}, bcryptCost: 10, passkeyOrigin: "http://localhost:8090"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	res, err := http.Get(srv.URL + "/account/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(page), "/account/passkey.js") || !strings.Contains(string(page), "Log in with a passkey") {
		t.Fatalf("the login page offers no passkey: %s", page)
	}
	status, out := call(t, "POST", srv.URL+"/api/account/login/passkey/options", "", "")
	if status != 200 || out["rpId"] != "localhost" {
		t.Fatalf("passwordless options: %d %v", status, out)
	}
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8090}, "http://localhost:8090"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 9000}, "http://localhost:9000"},
		{&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 443}, ""},
	} {
		if got := passkeyOrigin(tc.addr); got != tc.want {
			t.Errorf("passkeyOrigin(%v) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}
