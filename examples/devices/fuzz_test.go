package main

import (
	"encoding/json"
	"log"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/examples/internal/exfuzz"
	"github.com/gatehouse-go/gatehouse/examples/internal/extest"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/store/memory"
)

// FuzzAPI sends any method, target, headers and body to a fresh app:
// Login and ReAuthenticate (JSON, text/json and form bodies), Logout, Me,
// Devices, the APIKey and APIToken query parameters, Authorization
// headers, fields and suppressResponseCodes. Nothing panics or answers
// 500; every error is the API's JSON with a stable Code and its
// StatusCode (the HTTP status too, unless suppressResponseCodes); and
// nothing succeeds without the APIKey and the demo password, or a token
// the test itself obtained. In the input, "$SESSION" stands for a session
// token and "$DEVICE" for a re-authentication token of device "phone",
// both from a login through the API on each run.
func FuzzAPI(f *testing.F) {
	const (
		key   = "?APIKey=" + demoAPIKey
		json_ = "Content-Type: application/json"
		form  = "Content-Type: application/x-www-form-urlencoded"
		login = "/api/v1/Authentication/Login"
		reAu  = "/api/v1/Authentication/ReAuthenticate"
		me    = "/api/v1/Users/Me"
	)
	good := `{"userName":"ada","password":"correct horse battery staple"`
	for _, seed := range [][4]string{
		{"POST", login + key, json_, good + `}`},
		{"POST", login + key, json_, good + `,"deviceName":"phone","generateReAuthenticationToken":true}`},
		{"POST", login + key, json_, good + `,"generateReAuthenticationToken":true}`},
		{"POST", login + key, json_, good + `,"generateReAuthenticationToken":"yes"}`},
		{"POST", login + key, "Content-Type: text/json; charset=utf-8", good + `}`},
		{"POST", login + key, json_, `{"USERNAME":"ADA","Password":"correct horse battery staple"}`},
		{"POST", login + key, json_, `{"userName":"ada","password":"wrong"}`},
		{"POST", login + key, json_, `{"userName":"ada"}`},
		{"POST", login + key, json_, `{"userName":"ada","password":"correct horse battery staple"} {}`},
		{"POST", login + key, form, "userName=ada&password=correct+horse+battery+staple&deviceName=phone&generateReAuthenticationToken=true"},
		{"POST", login + key, form, "USERNAME=ada&PASSWORD=correct%20horse%20battery%20staple&generateReAuthenticationToken=maybe"},
		{"POST", login + key, form, "userName=ada&password=%zz"},
		{"POST", login + key, "Content-Type: text/plain", good + `}`},
		{"POST", login, json_, good + `}`},
		{"POST", login + "?apikey=" + demoAPIKey + "&suppressResponseCodes=true", json_, `{}`},
		{"POST", login + key + "&fields=SessionToken,Me", json_, good + `}`},
		{"POST", reAu + key, json_, `{"deviceName":"phone","reAuthenticationToken":"$DEVICE"}`},
		{"POST", reAu + key, json_, `{"deviceName":"tablet","reAuthenticationToken":"$DEVICE"}`},
		{"POST", reAu + key, form, `deviceName=phone&reAuthenticationToken=$DEVICE`},
		{"POST", reAu + key, json_, `{"deviceName":"phone","reAuthenticationToken":"$SESSION"}`},
		{"POST", reAu + key, json_, `{"deviceName":"phone"}`},
		{"GET", me + key + "&APIToken=$SESSION", "", ""},
		{"GET", me + key + "&apitoken=$SESSION&fields=FirstName", "", ""},
		{"GET", me + key, "Authorization: Bearer $SESSION", ""},
		{"GET", me + key + "&APIToken=$DEVICE", "", ""},
		{"GET", me + key + "&APIToken=ghs_abcd_" + strings.Repeat("A", 43) + "&suppressResponseCodes=1", "", ""},
		{"GET", me + "/Devices" + key + "&APIToken=$SESSION&fields=DeviceName", "", ""},
		{"DELETE", me + "/Devices/phone" + key + "&APIToken=$SESSION", "", ""},
		{"DELETE", me + "/Devices/tablet" + key + "&APIToken=$SESSION", "", ""},
		{"POST", "/api/v1/Authentication/Logout" + key + "&APIToken=$SESSION&deviceName=phone", "", ""},
		{"POST", "/api/v1/Authentication/Logout" + key + "&APIToken=$SESSION", json_, `{"deviceName":"phone"}`},
		{"POST", "/api/v1/Authentication/Logout" + key + "&APIToken=$SESSION", form, `deviceName=%zz`},
		{"PUT", me + key, "", ""},
		{"GET", "/nope" + key + "&suppressResponseCodes=true", "", ""},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}

	routes := exfuzz.Routes("POST "+login, "POST "+reAu, "POST /api/v1/Authentication/Logout", "GET "+me,
		"GET "+me+"/Devices", "DELETE "+me+"/Devices/{deviceName}")
	codes := exfuzz.Codes("not_found", "method_not_allowed")

	f.Fuzz(func(t *testing.T, method, target, headers, body string) {
		defer exfuzz.Watch(method, target, headers, body)()
		clock := fakeclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		mem := memory.New(memory.Options{Now: clock.Now, SweepInterval: -1})
		defer mem.Close()
		logs := &extest.Buffer{}
		h, err := newApp(config{tagKey: extest.TagKey, store: mem, now: clock.Now, hasher: exfuzz.Hasher{}, logger: log.New(logs, "", 0)})
		if err != nil {
			t.Fatal(err)
		}
		all := method + target + headers + body
		var session, device string
		if strings.Contains(all, "$SESSION") || strings.Contains(all, "$DEVICE") {
			r, _ := exfuzz.Request("POST", login+key, json_, good+`,"deviceName":"phone","generateReAuthenticationToken":true}`)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			var res loginData
			if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &res) != nil || res.SessionToken == "" || res.ReAuthenticationToken == "" {
				t.Fatalf("login: %d %s", w.Code, w.Body)
			}
			session, device = res.SessionToken, res.ReAuthenticationToken
		}
		expand := strings.NewReplacer("$SESSION", session, "$DEVICE", device).Replace
		x, ok := exfuzz.Serve(t, h, routes, expand, method, target, headers, body)
		if !ok {
			return
		}
		r, w, fail := x.R, x.W, x.Fail
		if x.ServerError() || internalError.MatchString(logs.String()) {
			fail("server error: " + logs.String())
		}
		if x.MuxRedirect() {
			return
		}
		var obj map[string]json.RawMessage
		var arr []json.RawMessage
		if json.Unmarshal(w.Body.Bytes(), &obj) != nil && json.Unmarshal(w.Body.Bytes(), &arr) != nil {
			fail("the body is not JSON")
		}
		if _, isError := obj["StatusCode"]; isError || w.Code >= 400 {
			var e errorBody
			switch {
			case json.Unmarshal(w.Body.Bytes(), &e) != nil || !codes[e.Code]:
				fail("error without a stable code")
			case e.StatusCode < 400 || e.StatusCode >= 500 && e.StatusCode != http.StatusServiceUnavailable:
				fail("error with a StatusCode that is no error")
			case suppressed(r) && w.Code != http.StatusOK, !suppressed(r) && w.Code != e.StatusCode:
				fail("the HTTP status does not match StatusCode and suppressResponseCodes")
			}
			return
		}
		if w.Code != http.StatusOK {
			fail("a success other than 200")
		}
		if queryValue(r, "APIKey") != demoAPIKey {
			fail("success without the APIKey")
		}
		switch x.Pattern {
		case "POST " + login:
			if passwordOf(r, expand(body)) != demoPassword {
				fail("logged in without the password")
			}
		case "POST " + reAu:
			var req reAuthenticationInfo
			mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if mt == "application/x-www-form-urlencoded" {
				v, _ := url.ParseQuery(expand(body))
				req.ReAuthenticationToken = formValue(v, "reAuthenticationToken")
			} else {
				_ = json.Unmarshal([]byte(expand(body)), &req)
			}
			if device == "" || req.ReAuthenticationToken != device {
				fail("re-authenticated without the test's device token")
			}
		default:
			if session == "" || sessionToken(r) != session {
				fail("a session route without the test's session")
			}
		}
	})
}

// password is the password field of a login body, read as the app reads it.
func passwordOf(r *http.Request, body string) string {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/x-www-form-urlencoded" {
		v, _ := url.ParseQuery(body)
		return formValue(v, "password")
	}
	var req authenticationInfo
	_ = json.Unmarshal([]byte(body), &req)
	return req.Password
}
