package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/examples/internal/extest"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// The Redis stores of teststores share servers across the binary.
func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

const day = 24 * time.Hour

// internalError matches the line fail logs for a 500.
var internalError = regexp.MustCompile(`(?m)^devices: [A-Z]+ /`)

type env struct {
	srv   *httptest.Server
	clock *fakeclock.Clock
	store store.Store
	logs  *extest.Buffer
}

// eachStore runs f on a fresh app over every store: memory, Redis, Redis
// Cluster. The store, the tokens and auth all read one fake clock.
func eachStore(t *testing.T, f func(t *testing.T, e *env)) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			clock := fakeclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			e := &env{clock: clock, store: sf.Open(t, clock.Now), logs: &extest.Buffer{}}
			h, err := newApp(config{tagKey: extest.TagKey, store: e.store, now: clock.Now, hasher: password.Bcrypt{Cost: 4}, logger: log.New(e.logs, "", 0)})
			if err != nil {
				t.Fatal(err)
			}
			e.srv = httptest.NewTLSServer(h)
			t.Cleanup(e.srv.Close)
			f(t, e)
			if internalError.MatchString(e.logs.String()) {
				t.Errorf("internal errors (500) were logged:\n%s", e.logs)
			}
		})
	}
}

// api returns the URL of path under /api/v1 with the demo APIKey and the
// given query parameters (name, value, name, value...).
func api(path string, params ...string) string {
	return apiWith(path, append([]string{"APIKey", demoAPIKey}, params...)...)
}

// apiWith is api without the APIKey.
func apiWith(path string, params ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(params); i += 2 {
		q.Add(params[i], params[i+1])
	}
	if len(q) == 0 {
		return "/api/v1" + path
	}
	return "/api/v1" + path + "?" + q.Encode()
}

type result struct {
	status int
	header http.Header
	raw    []byte
	obj    map[string]any // the body, when it is an object
	arr    []any          // the body, when it is an array
}

func (r result) String() string { return fmt.Sprintf("%d %s", r.status, r.raw) }

// keys returns the object's field names, sorted.
func (r result) keys() []string {
	var ks []string
	for k := range r.obj {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func (r result) str(key string) string { s, _ := r.obj[key].(string); return s }

// do sends a request; a body is sent with the content type given.
func (e *env) do(t *testing.T, method, target, contentType, body string) result {
	t.Helper()
	var v any
	res, raw := extest.DoJSON(t, e.srv.Client(), extest.Request(t, method, e.srv.URL+target, contentType, body), &v)
	out := result{status: res.StatusCode, header: res.Header, raw: raw}
	out.obj, _ = v.(map[string]any)
	out.arr, _ = v.([]any)
	return out
}

func (e *env) get(t *testing.T, target string) result {
	t.Helper()
	return e.do(t, "GET", target, "", "")
}

func (e *env) postJSON(t *testing.T, target string, body any) result {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return e.do(t, "POST", target, "application/json", string(b))
}

func loginBody(device string, generate bool) map[string]any {
	return map[string]any{"userName": demoUser, "password": demoPassword, "deviceName": device, "generateReAuthenticationToken": generate}
}

// tokensOf is what a Login or ReAuthenticate answered.
type tokensOf struct{ session, device string }

// login logs ada in with a re-authentication token for the device.
func (e *env) login(t *testing.T, device string) tokensOf {
	t.Helper()
	res := e.postJSON(t, api("/Authentication/Login"), loginBody(device, true))
	if res.status != 200 || res.obj["Authenticated"] != true || res.str("ReAuthenticationToken") == "" {
		t.Fatalf("login on %s: %v", device, res)
	}
	return tokensOf{res.str("SessionToken"), res.str("ReAuthenticationToken")}
}

func (e *env) reAuth(t *testing.T, device, token string) result {
	t.Helper()
	return e.postJSON(t, api("/Authentication/ReAuthenticate"), map[string]string{"deviceName": device, "reAuthenticationToken": token})
}

func (e *env) mustReAuth(t *testing.T, device, token string) tokensOf {
	t.Helper()
	res := e.reAuth(t, device, token)
	if res.status != 200 || res.obj["Authenticated"] != true {
		t.Fatalf("re-authenticate %s: %v", device, res)
	}
	return tokensOf{res.str("SessionToken"), res.str("ReAuthenticationToken")}
}

func (e *env) me(t *testing.T, session string) result {
	t.Helper()
	return e.get(t, api("/Users/Me", "APIToken", session))
}

// wantError checks an error answer's status and code.
func wantError(t *testing.T, what string, res result, status int, code string) {
	t.Helper()
	if res.status != status || res.str("Code") != code || res.str("Message") == "" {
		t.Fatalf("%s: %v; want %d %q with a message", what, res, status, code)
	}
}

// deviceTokens counts the live device tokens of ada's device, straight
// from the store: the API lists a device once however many chains it has.
func (e *env) deviceTokens(t *testing.T, device string) int {
	t.Helper()
	tm, err := tokens.New(tokens.Config{Store: e.store, TagKey: extest.TagKey, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	items, err := tm.List(context.Background(), demoUserID, store.Filter{Kind: store.KindDevice, Device: device})
	if err != nil {
		t.Fatal(err)
	}
	return len(items)
}

var wantMe = map[string]any{
	"ID": demoUserID, "FirstName": "Ada", "LastName": "Lovelace",
	"ImageURL": "https://upload.wikimedia.org/wikipedia/commons/a/a4/Ada_Lovelace_portrait.jpg",
}

func TestLoginAnswersLikeTheSeed(t *testing.T) {
	form := func(device, generate string) string {
		return url.Values{"userName": {demoUser}, "password": {demoPassword}, "deviceName": {device}, "generateReAuthenticationToken": {generate}}.Encode()
	}
	jsonBody := func(generate bool) string {
		b, _ := json.Marshal(loginBody("phone", generate))
		return string(b)
	}
	eachStore(t, func(t *testing.T, e *env) {
		for _, tc := range []struct {
			name, contentType, body string
			wantDeviceToken         bool
		}{
			{"JSON", "application/json", jsonBody(true), true},
			{"text/json", "text/json", jsonBody(true), true},
			{"JSON with charset", "application/json; charset=utf-8", jsonBody(true), true},
			{"form", "application/x-www-form-urlencoded", form("phone", "true"), true},
			{"JSON without a device token", "application/json", jsonBody(false), false},
			{"form without a device token", "application/x-www-form-urlencoded", form("phone", "false"), false},
			{"form, field names in another case", "application/x-www-form-urlencoded",
				"UserName=ada&Password=correct+horse+battery+staple&DeviceName=tablet&GenerateReAuthenticationToken=True", true},
		} {
			res := e.do(t, "POST", api("/Authentication/Login"), tc.contentType, tc.body)
			if res.status != 200 {
				t.Fatalf("%s: %v", tc.name, res)
			}
			if got := res.keys(); !slices.Equal(got, []string{"Authenticated", "Me", "ReAuthenticationToken", "SessionToken"}) {
				t.Errorf("%s: fields %v, want the seed's LoginData", tc.name, got)
			}
			if !strings.HasPrefix(string(res.raw), `{"Authenticated":true,"ReAuthenticationToken":`) {
				t.Errorf("%s: fields not in the seed's order: %s", tc.name, res.raw)
			}
			me, _ := res.obj["Me"].(map[string]any)
			if fmt.Sprint(me) != fmt.Sprint(wantMe) {
				t.Errorf("%s: Me = %v, want %v", tc.name, me, wantMe)
			}
			if got := res.str("ReAuthenticationToken") != ""; got != tc.wantDeviceToken {
				t.Errorf("%s: ReAuthenticationToken %q", tc.name, res.str("ReAuthenticationToken"))
			}
			if m := e.me(t, res.str("SessionToken")); m.status != 200 || m.str("ID") != demoUserID {
				t.Errorf("%s: Me with the session: %v", tc.name, m)
			}
		}

		noDevice := loginBody("", true)
		res := e.postJSON(t, api("/Authentication/Login"), noDevice)
		wantError(t, "a device token without deviceName", res, 400, "missing_field")
		if res.str("Field") != "deviceName" || res.obj["Authenticated"] != false {
			t.Errorf("no deviceName: %v", res)
		}

		wrong := loginBody("phone", true)
		wrong["password"] = "wrong"
		res = e.postJSON(t, api("/Authentication/Login"), wrong)
		wantError(t, "wrong password", res, 401, "invalid_credentials")
		if res.obj["Authenticated"] != false {
			t.Errorf("wrong password: %v, want Authenticated false", res)
		}

		res = e.postJSON(t, api("/Authentication/Login"), map[string]string{"password": demoPassword})
		wantError(t, "no userName", res, 400, "missing_field")
		if res.str("Field") != "userName" || !strings.Contains(res.str("Message"), `"userName"`) {
			t.Errorf("no userName: %v", res)
		}
		wantError(t, "bad generate flag in a form", e.do(t, "POST", api("/Authentication/Login"),
			"application/x-www-form-urlencoded", form("phone", "maybe")), 400, "invalid_field")
		wantError(t, "plain text", e.do(t, "POST", api("/Authentication/Login"), "text/plain", "hello"), 415, "unsupported_media_type")
		wantError(t, "broken JSON", e.do(t, "POST", api("/Authentication/Login"), "application/json", "{"), 400, "malformed_body")
	})
}

func TestAPIKeyIsRequired(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		s := e.login(t, "phone").session
		for _, tc := range []struct{ method, path string }{
			{"POST", "/Authentication/Login"},
			{"POST", "/Authentication/ReAuthenticate"},
			{"POST", "/Authentication/Logout"},
			{"GET", "/Users/Me"},
			{"GET", "/Users/Me/Devices"},
			{"DELETE", "/Users/Me/Devices/phone"},
			{"GET", "/no/such/path"},
		} {
			for name, target := range map[string]string{
				"no APIKey":    apiWith(tc.path, "APIToken", s),
				"wrong APIKey": apiWith(tc.path, "APIKey", "demo-api-kez", "APIToken", s),
				"empty APIKey": apiWith(tc.path, "APIKey", "", "APIToken", s),
			} {
				res := e.do(t, tc.method, target, "application/json", `{}`)
				wantError(t, tc.method+" "+tc.path+", "+name, res, 401, "invalid_app_credentials")
			}
		}
		// The parameter's name matches in any case, like the seed's API.
		if res := e.get(t, apiWith("/Users/Me", "apikey", demoAPIKey, "apitoken", s)); res.status != 200 {
			t.Errorf("lower-case parameter names: %v", res)
		}
	})
}

func TestReAuthenticateRotates(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		first := e.login(t, "phone")
		e.clock.Advance(10 * day)
		next := e.mustReAuth(t, "phone", first.device)
		if next.device == first.device || next.session == first.session || next.device == "" {
			t.Fatalf("re-authentication gave %+v after %+v: want new tokens", next, first)
		}
		if m := e.me(t, next.session); m.status != 200 || m.str("FirstName") != "Ada" {
			t.Fatalf("Me with the new session: %v", m)
		}
		// Form bodies work here too, and the chain goes on.
		res := e.do(t, "POST", api("/Authentication/ReAuthenticate"), "application/x-www-form-urlencoded",
			url.Values{"deviceName": {"phone"}, "reAuthenticationToken": {next.device}}.Encode())
		if res.status != 200 || res.str("ReAuthenticationToken") == "" {
			t.Fatalf("form re-authentication: %v", res)
		}
		if n := e.deviceTokens(t, "phone"); n != 1 {
			t.Errorf("%d live device tokens on the phone, want 1", n)
		}
		wantError(t, "another device's name", e.reAuth(t, "laptop", res.str("ReAuthenticationToken")), 401, "invalid_token")
		e.mustReAuth(t, "phone", res.str("ReAuthenticationToken")) // not spent by the wrong name
		wantError(t, "no token", e.reAuth(t, "phone", ""), 400, "missing_field")
		wantError(t, "no device", e.reAuth(t, "", res.str("ReAuthenticationToken")), 400, "missing_field")
		wantError(t, "garbage", e.reAuth(t, "phone", "garbage"), 401, "invalid_token")
		wantError(t, "a session token", e.reAuth(t, "phone", next.session), 401, "invalid_token")
	})
}

func TestReplayRevokesTheDeviceChain(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		phone := e.login(t, "phone")
		laptop := e.login(t, "laptop")
		next := e.mustReAuth(t, "phone", phone.device)

		res := e.reAuth(t, "phone", phone.device)
		wantError(t, "replay of the spent token", res, 401, "token_reused")
		if res.obj["Authenticated"] != false {
			t.Errorf("replay: %v, want Authenticated false", res)
		}
		if !strings.Contains(e.logs.String(), `reused re-authentication token of device "phone"`) {
			t.Errorf("the reuse was not logged:\n%s", e.logs)
		}
		wantError(t, "the successor after the replay", e.reAuth(t, "phone", next.device), 401, "invalid_token")
		wantError(t, "the successor's session", e.me(t, next.session), 401, "invalid_token")
		wantError(t, "the password login's session", e.me(t, phone.session), 401, "invalid_token")
		if n := e.deviceTokens(t, "phone"); n != 0 {
			t.Errorf("%d live device tokens on the phone after the replay, want 0", n)
		}

		if m := e.me(t, laptop.session); m.status != 200 {
			t.Errorf("the laptop's session: %v", m)
		}
		e.mustReAuth(t, "laptop", laptop.device)
		// A password login brings the phone back.
		again := e.login(t, "phone")
		e.mustReAuth(t, "phone", again.device)
	})
}

func TestParallelRedemptionsOneWins(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		phone := e.login(t, "phone")
		body, _ := json.Marshal(map[string]string{"deviceName": "phone", "reAuthenticationToken": phone.device})
		const n = 50
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			wins  []tokensOf
			codes = map[string]int{}
			start = make(chan struct{})
		)
		for range n {
			wg.Go(func() {
				<-start
				req, _ := http.NewRequest("POST", e.srv.URL+api("/Authentication/ReAuthenticate"), bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				res, err := e.srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer res.Body.Close()
				var out map[string]any
				_ = json.NewDecoder(res.Body).Decode(&out)
				mu.Lock()
				defer mu.Unlock()
				if res.StatusCode == 200 {
					s, _ := out["SessionToken"].(string)
					d, _ := out["ReAuthenticationToken"].(string)
					wins = append(wins, tokensOf{s, d})
					return
				}
				code, _ := out["Code"].(string)
				codes[fmt.Sprintf("%d %s", res.StatusCode, code)]++
			})
		}
		close(start)
		wg.Wait()
		if len(wins) != 1 {
			t.Fatalf("%d of %d redemptions won, want exactly 1 (others: %v)", len(wins), n, codes)
		}
		for c := range codes {
			if c != "401 token_reused" && c != "401 invalid_token" {
				t.Errorf("losers answered %v, want 401 token_reused or invalid_token", codes)
			}
		}
		// The chain ends consistent: one live device token or none, and
		// the winner's session lives exactly when its device token does.
		live := e.deviceTokens(t, "phone")
		if live > 1 {
			t.Fatalf("%d live device tokens on the phone, want at most 1", live)
		}
		sessionLive := e.me(t, wins[0].session).status == 200
		if sessionLive != (live == 1) {
			t.Errorf("winner's session live %v, live device tokens %d", sessionLive, live)
		}
		if live == 1 {
			e.mustReAuth(t, "phone", wins[0].device)
		} else {
			wantError(t, "winner's token of a revoked chain", e.reAuth(t, "phone", wins[0].device), 401, "invalid_token")
		}
	})
}

func TestDeviceTokenExpiresAfter30DaysUnused(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		early := e.login(t, "phone")
		e.clock.Advance(30*day - time.Second)
		next := e.mustReAuth(t, "phone", early.device) // just in time; a new 30 days begin
		late := e.login(t, "laptop")
		e.clock.Advance(30*day - time.Second)
		e.mustReAuth(t, "phone", next.device)
		e.clock.Advance(time.Second)
		wantError(t, "30 days unused", e.reAuth(t, "laptop", late.device), 401, "invalid_token")
	})
}

func TestChainEndsNinetyDaysAfterThePassword(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		tok := e.login(t, "phone").device
		for range 3 { // days 29, 58 and 87
			e.clock.Advance(29 * day)
			tok = e.mustReAuth(t, "phone", tok).device
		}
		e.clock.Advance(3 * day) // day 90, though the last token is 3 days old
		wantError(t, "past the chain's absolute end", e.reAuth(t, "phone", tok), 401, "invalid_token")
		// Only a password login brings the device back.
		fresh := e.login(t, "phone")
		e.clock.Advance(29 * day)
		e.mustReAuth(t, "phone", fresh.device)
	})
}

func TestPasswordLoginReplacesTheDeviceChain(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		old := e.login(t, "phone")
		e.clock.Advance(time.Minute)
		fresh := e.login(t, "phone")
		wantError(t, "the replaced chain", e.reAuth(t, "phone", old.device), 401, "invalid_token")
		e.mustReAuth(t, "phone", fresh.device)
		if n := e.deviceTokens(t, "phone"); n != 1 {
			t.Errorf("%d live device tokens on the phone, want 1", n)
		}
	})
}

func TestDevicesListRevokeAndLogout(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		phone := e.login(t, "phone")
		e.clock.Advance(time.Hour)
		laptop := e.login(t, "laptop")
		e.clock.Advance(time.Hour)
		phone = e.mustReAuth(t, "phone", phone.device)

		res := e.get(t, api("/Users/Me/Devices", "APIToken", phone.session))
		if res.status != 200 || len(res.arr) != 2 {
			t.Fatalf("devices: %v", res)
		}
		first, _ := res.arr[0].(map[string]any)
		second, _ := res.arr[1].(map[string]any)
		if first["DeviceName"] != "phone" || first["Current"] != true || second["DeviceName"] != "laptop" || second["Current"] != false {
			t.Errorf("devices, most recently used first: %s", res.raw)
		}
		if first["Created"] != "2026-01-02T03:04:05Z" || first["LastUsed"] != "2026-01-02T05:04:05Z" {
			t.Errorf("phone created %v, last used %v", first["Created"], first["LastUsed"])
		}
		if bytes.Contains(res.raw, []byte(phone.device)) {
			t.Error("the device list shows a token")
		}
		wantError(t, "devices without a session", e.get(t, api("/Users/Me/Devices")), 401, "missing_token")

		res = e.do(t, "DELETE", api("/Users/Me/Devices/laptop", "APIToken", phone.session), "", "")
		if res.status != 200 || res.obj["Revoked"] != true || res.str("DeviceName") != "laptop" {
			t.Fatalf("revoke the laptop: %v", res)
		}
		wantError(t, "the revoked laptop's token", e.reAuth(t, "laptop", laptop.device), 401, "invalid_token")
		wantError(t, "the revoked laptop's session", e.me(t, laptop.session), 401, "invalid_token")
		wantError(t, "revoke it again", e.do(t, "DELETE", api("/Users/Me/Devices/laptop", "APIToken", phone.session), "", ""), 404, "not_found")
		if m := e.me(t, phone.session); m.status != 200 {
			t.Fatalf("revoking the laptop ended the phone: %v", m)
		}

		// Logout alone ends the session, not the device.
		plain := e.postJSON(t, api("/Authentication/Login"), loginBody("", false)).str("SessionToken")
		res = e.do(t, "POST", api("/Authentication/Logout", "APIToken", plain), "", "")
		if res.status != 200 || res.obj["LoggedOut"] != true {
			t.Fatalf("logout: %v", res)
		}
		wantError(t, "a logged-out session", e.me(t, plain), 401, "invalid_token")
		if m := e.me(t, phone.session); m.status != 200 {
			t.Fatalf("logging another session out ended the phone's: %v", m)
		}
		// With deviceName, it ends the device's chain as well.
		res = e.postJSON(t, api("/Authentication/Logout", "APIToken", phone.session), map[string]string{"deviceName": "phone"})
		if res.status != 200 || res.str("DeviceName") != "phone" {
			t.Fatalf("logout of the phone: %v", res)
		}
		wantError(t, "the phone's session", e.me(t, phone.session), 401, "invalid_token")
		wantError(t, "the phone's device token", e.reAuth(t, "phone", phone.device), 401, "invalid_token")
		wantError(t, "logout without a session", e.do(t, "POST", api("/Authentication/Logout"), "", ""), 401, "missing_token")
	})
}

func TestMeNeedsASession(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		tok := e.login(t, "phone")
		if m := e.me(t, tok.session); m.status != 200 || fmt.Sprint(m.obj) != fmt.Sprint(wantMe) {
			t.Fatalf("Me: %v", m)
		}
		wantError(t, "no APIToken", e.get(t, api("/Users/Me")), 401, "missing_token")
		wantError(t, "garbage", e.me(t, "garbage"), 401, "invalid_token")
		wantError(t, "a device token", e.me(t, tok.device), 401, "invalid_token")
		e.clock.Advance(day)
		wantError(t, "a session after 24 hours", e.me(t, tok.session), 401, "invalid_token")
	})
}

func TestFieldsAndSuppressResponseCodes(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		s := e.login(t, "phone").session
		login := func(params ...string) func() result {
			return func() result {
				return e.postJSON(t, api("/Authentication/Login", params...), loginBody("tablet", true))
			}
		}
		wrongLogin := func(params ...string) func() result {
			return func() result {
				b := loginBody("tablet", true)
				b["password"] = "wrong"
				return e.postJSON(t, api("/Authentication/Login", params...), b)
			}
		}
		me := func(params ...string) func() result {
			return func() result { return e.get(t, api("/Users/Me", params...)) }
		}
		for _, tc := range []struct {
			name   string
			do     func() result
			status int
			keys   string // the body's fields, sorted, comma-separated
			code   string // the body's Code, for errors
		}{
			{"one field", me("APIToken", s, "fields", "FirstName"), 200, "FirstName", ""},
			{"comma-separated, any case", me("APIToken", s, "fields", "firstname, LASTNAME"), 200, "FirstName,LastName", ""},
			{"repeated parameter", me("APIToken", s, "fields", "ID", "fields", "ImageURL"), 200, "ID,ImageURL", ""},
			{"unknown names ignored", me("APIToken", s, "fields", "Nope,ID"), 200, "ID", ""},
			{"none found: whole object", me("APIToken", s, "fields", "Nope"), 200, "FirstName,ID,ImageURL,LastName", ""},
			{"empty: whole object", me("APIToken", s, "fields", ""), 200, "FirstName,ID,ImageURL,LastName", ""},
			{"parameter name in any case", me("APIToken", s, "Fields", "LastName"), 200, "LastName", ""},
			{"login trimmed", login("fields", "SessionToken,ReAuthenticationToken"), 200, "ReAuthenticationToken,SessionToken", ""},
			{"login, top-level only", login("fields", "FirstName"), 200, "Authenticated,Me,ReAuthenticationToken,SessionToken", ""},
			{"errors are never trimmed", wrongLogin("fields", "SessionToken"), 401, "Authenticated,Code,Message,StatusCode", "invalid_credentials"},
			{"suppressed error", wrongLogin("suppressResponseCodes", "true"), 200, "Authenticated,Code,Message,StatusCode", "invalid_credentials"},
			{"suppressed, any case", me("SuppressResponseCodes", "TRUE"), 200, "Code,Message,StatusCode", "missing_token"},
			{"not suppressed", me("suppressResponseCodes", "false"), 401, "Code,Message,StatusCode", "missing_token"},
			{"not a bool: not suppressed", me("suppressResponseCodes", "yes please"), 401, "Code,Message,StatusCode", "missing_token"},
			{"suppressed success", me("APIToken", s, "suppressResponseCodes", "true"), 200, "FirstName,ID,ImageURL,LastName", ""},
			{"suppressed and trimmed", me("APIToken", s, "suppressResponseCodes", "true", "fields", "ID"), 200, "ID", ""},
			{"suppressed bad API key", func() result {
				return e.get(t, apiWith("/Users/Me", "APIKey", "nope", "suppressResponseCodes", "true"))
			}, 200, "Code,Message,StatusCode", "invalid_app_credentials"},
			{"suppressed 404", func() result { return e.get(t, api("/Nope", "suppressResponseCodes", "true")) }, 200, "Code,Message,StatusCode", "not_found"},
			{"suppressed 405", func() result { return e.get(t, api("/Authentication/Login", "suppressResponseCodes", "true")) }, 200, "Code,Message,StatusCode", "method_not_allowed"},
		} {
			res := tc.do()
			if res.status != tc.status || strings.Join(res.keys(), ",") != tc.keys || res.str("Code") != tc.code {
				t.Errorf("%s: %v; want %d with fields %s and code %q", tc.name, res, tc.status, tc.keys, tc.code)
			}
			if tc.code != "" && res.obj["StatusCode"] == float64(200) {
				t.Errorf("%s: StatusCode 200 in an error body", tc.name)
			}
		}

		// A list has each element trimmed.
		res := e.get(t, api("/Users/Me/Devices", "APIToken", s, "fields", "DeviceName"))
		if res.status != 200 || len(res.arr) != 2 || fmt.Sprint(res.arr) != "[map[DeviceName:phone] map[DeviceName:tablet]]" {
			t.Errorf("trimmed device list: %v", res)
		}
	})
}

// TestReAuthenticateTakesTheLoginLimit: redeeming a device token is a
// login without the password, so it takes the same per-address limit as
// password logins (100 at once): a client cannot guess device tokens
// faster than passwords.
func TestReAuthenticateTakesTheLoginLimit(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		var last result
		for range 101 { // one redemption is a login of the limit's burst of 100
			last = e.reAuth(t, "phone", "ghd_nope")
		}
		wantError(t, "101st re-authentication from one address", last, http.StatusTooManyRequests, "rate_limited")
	})
}

// TestLogoutOfADeviceSessionEndsItsChain: a device that logs out with its
// session cannot sign back in with its re-authentication token (issue 15,
// finding 5); the other device stays signed in.
func TestLogoutOfADeviceSessionEndsItsChain(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		phone := e.login(t, "phone")
		laptop := e.login(t, "laptop")
		phone = e.mustReAuth(t, "phone", phone.device)
		res := e.do(t, "POST", api("/Authentication/Logout", "APIToken", phone.session), "", "")
		if res.status != 200 || res.obj["LoggedOut"] != true {
			t.Fatalf("logout: %v", res)
		}
		wantError(t, "the logged-out phone's device token", e.reAuth(t, "phone", phone.device), 401, "invalid_token")
		if m := e.me(t, laptop.session); m.status != 200 {
			t.Fatalf("the phone's logout ended the laptop's session: %v", m)
		}
		e.mustReAuth(t, "laptop", laptop.device)
	})
}
