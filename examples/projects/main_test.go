package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/examples/internal/extest"

	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/store"
)

type env struct {
	srv   *httptest.Server
	clock *fakeclock.Clock
}

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// eachStore runs f on a fresh app over memory, Redis and a Redis Cluster.
func eachStore(t *testing.T, f func(t *testing.T, e *env)) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			clock := fakeclock.New(time.Now())
			f(t, newEnv(t, clock, sf.Open(t, clock.Now)))
		})
	}
}

func newEnv(t *testing.T, clock *fakeclock.Clock, st store.Store) *env {
	t.Helper()
	h, err := newApp(config{tagKey: extest.TagKey, store: st, now: clock.Now, secureCookies: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return &env{srv: srv, clock: clock}
}

// browser is a client with its own cookie jar that does not follow redirects.
func (e *env) browser() *http.Client {
	c := e.srv.Client()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: c.Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var appHeaders = map[string]string{
	"api-id":    "15263",
	"api-user":  "api-admin@regpacks.com",
	"api-token": "cd2e514f-7gab-3cde-62fg-51abcd4e7362",
}

func (e *env) call(t *testing.T, headers map[string]string, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/reg/api2/users/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("%d: body is not JSON: %v", res.StatusCode, err)
	}
	return res.StatusCode, out
}

func (e *env) login(t *testing.T, group string) map[string]any {
	t.Helper()
	status, out := e.call(t, appHeaders, `{"action":"login","group_id":`+group+`,"clogin_id":102670540,"doc":{}}`)
	if status != 200 || out["success"] != true || out["user_token"] == "" {
		t.Fatalf("login to %s: %d %v", group, status, out)
	}
	return out
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestLoginResponseMatchesTheSeed(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		first := e.login(t, "100909072")
		if got := first["system_action"].([]any); len(got) != 1 || got[0] != "user registered" {
			t.Fatalf("first login: system_action %v, want [user registered]", got)
		}
		if first["msg"] != "user logged in" {
			t.Errorf("msg %v", first["msg"])
		}
		info := first["user_info"].(map[string]any)
		if info["clogin_id"] != "102670540" || info["group_id"] != "100909072" || info["connected_to"] != "102670540" {
			t.Errorf("user_info %v", info)
		}
		meta := first["meta_info"].(map[string]any)
		for _, k := range []string{"u_name", "total_forms", "uid", "group_id", "clogin_id", "application_date_raw", "assigned_admin_id"} {
			if _, ok := meta[k]; !ok {
				t.Errorf("meta_info lacks %q", k)
			}
		}
		if again := e.login(t, "100909072"); len(again["system_action"].([]any)) != 0 {
			t.Errorf("second login registers again: %v", again["system_action"])
		}
	})
}

func TestBrowserRedeemsOnceAndHoldsTwoProjects(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		b := e.browser()
		for _, group := range []string{"100909072", "100909073"} {
			tok := e.login(t, group)["user_token"].(string)
			res, _ := get(t, b, e.srv.URL+"/reg/login?user_token="+tok)
			if res.StatusCode != 303 || res.Header.Get("Location") != "/reg/projects/"+group+"/" {
				t.Fatalf("redeem for %s: %d %q", group, res.StatusCode, res.Header.Get("Location"))
			}
			if res.Header.Get("Referrer-Policy") != "no-referrer" {
				t.Error("the token URL may leak through Referer")
			}
			if cs := res.Cookies(); len(cs) != 1 || cs[0].Name != "__Host-reg_session" || !cs[0].Secure || cs[0].Domain != "" || cs[0].Path != "/" {
				t.Errorf("session cookie over HTTPS: %v; want the __Host- cookie __Host-reg_session", res.Header.Values("Set-Cookie"))
			}
			// Spent: a second redemption is refused and sets nothing.
			res, body := get(t, e.browser(), e.srv.URL+"/reg/login?user_token="+tok)
			if res.StatusCode != 401 || !strings.Contains(body, "no longer valid") || len(res.Cookies()) != 0 {
				t.Fatalf("second redemption: %d %s", res.StatusCode, body)
			}
		}
		for _, group := range []string{"100909072", "100909073"} {
			if res, body := get(t, b, e.srv.URL+"/reg/projects/"+group+"/"); res.StatusCode != 200 || !strings.Contains(body, "Miles Davis") {
				t.Fatalf("project %s with both sessions: %d %s", group, res.StatusCode, body)
			}
		}
		// Logging out of one project leaves the other.
		if status, out := e.call(t, appHeaders, `{"action":"logout","group_id":100909072,"clogin_id":102670540,"doc":{}}`); status != 200 || out["success"] != true {
			t.Fatalf("logout: %d %v", status, out)
		}
		if res, _ := get(t, b, e.srv.URL+"/reg/projects/100909072/"); res.StatusCode != 401 {
			t.Errorf("project logged out of: %d, want 401", res.StatusCode)
		}
		if res, _ := get(t, b, e.srv.URL+"/reg/projects/100909073/"); res.StatusCode != 200 {
			t.Errorf("the other project: %d, want 200", res.StatusCode)
		}
	})
}

func TestSessionForOneProjectDoesNotOpenAnother(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		b := e.browser()
		get(t, b, e.srv.URL+"/reg/login?user_token="+e.login(t, "100909072")["user_token"].(string))
		if res, _ := get(t, b, e.srv.URL+"/reg/projects/100909073/"); res.StatusCode != 401 {
			t.Fatalf("project B with a session for A: %d, want 401", res.StatusCode)
		}
		if res, _ := get(t, e.browser(), e.srv.URL+"/reg/projects/100909072/"); res.StatusCode != 401 {
			t.Fatalf("no session: %d, want 401", res.StatusCode)
		}
	})
}

func TestRedeemOnceUnderRace(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		tok := e.login(t, "100909072")["user_token"].(string)
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		start := make(chan struct{})
		for range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res, err := e.browser().Get(e.srv.URL + "/reg/login?user_token=" + tok)
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				mu.Lock()
				codes[res.StatusCode]++
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		// One address gets 60 redemptions at once (limit.Verify): the rest
		// are 429 before they reach the token.
		if codes[303] != 1 || codes[401] != 59 || codes[429] != 40 {
			t.Fatalf("100 concurrent redemptions: %v, want exactly one 303, 59 401 and 40 429", codes)
		}
	})
}

func TestUserTokenExpiresAfterFiveMinutes(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		tok := e.login(t, "100909072")["user_token"].(string)
		e.clock.Advance(5*time.Minute + time.Second)
		if res, _ := get(t, e.browser(), e.srv.URL+"/reg/login?user_token="+tok); res.StatusCode != 401 {
			t.Fatalf("redeemed after 5m1s: %d, want 401", res.StatusCode)
		}
	})
}

func TestUsersErrors(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		wrong := map[string]string{"api-id": "15263", "api-user": "api-admin@regpacks.com", "api-token": "cd2e514f-7gab-3cde-62fg-51abcd4e7363"}
		noUser := map[string]string{"api-id": "15263", "api-token": appHeaders["api-token"]}
		for _, tc := range []struct {
			name    string
			headers map[string]string
			body    string
			status  int
			code    string
		}{
			{"wrong token", wrong, `{"action":"login","group_id":100909072,"clogin_id":102670540}`, 401, "invalid_app_credentials"},
			{"missing api-user", noUser, `{"action":"login","group_id":100909072,"clogin_id":102670540}`, 401, "invalid_app_credentials"},
			{"no credentials", nil, `{"action":"login","group_id":100909072,"clogin_id":102670540}`, 401, "invalid_app_credentials"},
			{"malformed JSON", appHeaders, `{"action":`, 400, "malformed_body"},
			{"missing group_id", appHeaders, `{"action":"login","clogin_id":102670540}`, 400, "missing_field"},
			{"missing clogin_id", appHeaders, `{"action":"login","group_id":100909072}`, 400, "missing_field"},
			{"missing action", appHeaders, `{"group_id":100909072,"clogin_id":102670540}`, 400, "missing_field"},
			{"string id", appHeaders, `{"action":"login","group_id":"100909072","clogin_id":102670540}`, 400, "invalid_field"},
			{"fractional id", appHeaders, `{"action":"login","group_id":1.5,"clogin_id":102670540}`, 400, "invalid_field"},
			{"unknown action", appHeaders, `{"action":"delete","group_id":100909072,"clogin_id":102670540}`, 400, "unknown_action"},
			{"unknown user", appHeaders, `{"action":"login","group_id":100909072,"clogin_id":1}`, 404, "unknown_user"},
			{"unknown project", appHeaders, `{"action":"login","group_id":1,"clogin_id":102670540}`, 404, "unknown_project"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, out := e.call(t, tc.headers, tc.body)
				if status != tc.status || out["code"] != tc.code || out["success"] != false || out["msg"] == "" {
					t.Fatalf("%d %v; want %d %s", status, out, tc.status, tc.code)
				}
			})
		}
	})
}
