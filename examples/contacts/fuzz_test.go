package main

import (
	"encoding/json"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/examples/internal/exfuzz"
	"github.com/gatehouse-go/gatehouse/examples/internal/extest"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/store/memory"
)

// FuzzAPI sends any method, target, headers and body to a fresh app:
// Login (JSON with a Base64 password), Validation, PasswordReset and its
// Confirm, Me (bearer or cookie) and whatever else. Nothing panics or
// answers 500; every error is JSON with a stable code; and nothing
// succeeds without a contact's password or a token the test itself
// obtained (a reset request answers 200 for any address, by design). In
// the input, "$SESSION" stands for a session token of grace, "$COOKIE"
// for her session cookie, "$VID" and "$VVAL" for the validation pair of
// alan's login, and "$RESET" for a reset token of grace, all obtained
// through the API on each run.
func FuzzAPI(f *testing.F) {
	const json_ = "Content-Type: application/json"
	for _, seed := range [][4]string{
		{"POST", "/api/Login", json_, `{"emailaddress":"grace@example.com","password":"aG9wcGVyLXNlY3JldA=="}`},
		{"POST", "/api/Login", json_, `{"emailaddress":"Grace@Example.com ","password":"aG9wcGVyLXNlY3JldA"}`},
		{"POST", "/api/Login", json_, `{"emailaddress":"alan@example.com","password":"dHVyaW5nLXNlY3JldA=="}`},
		{"POST", "/api/Login", json_, `{"emailaddress":"grace@example.com","password":"aG9wcGVyLXNlY3JldA="}`},
		{"POST", "/api/Login", json_, `{"emailaddress":"grace@example.com","password":"aG9wcGVyLXNlY3JldB=="}`},
		{"POST", "/api/Login", json_, `{"emailaddress":"grace@example.com","password":"aG9wcGVy_XNlY3JldA=="}`},
		{"POST", "/api/Login", json_, `{"emailaddress":"grace@example.com","password":"d3Jvbmc="}`},
		{"POST", "/api/Login", json_, `{"emailaddress":"grace@example.com","password":"===="}`},
		{"POST", "/api/Login", json_, `{"emailaddress":"grace@example.com","password":"` + strings.Repeat("QUFB", 38) + `"}`},
		{"POST", "/api/Login", json_, `{"emailaddress":"` + strings.Repeat("a", 251) + `","password":"eA=="}`},
		{"POST", "/api/Login", json_, `{"emailaddress":"grace@example.com"}`},
		{"POST", "/api/Login", "Content-Type: application/x-www-form-urlencoded", `emailaddress=grace@example.com&password=aG9wcGVyLXNlY3JldA==`},
		{"POST", "/api/Validation", json_, `{"ValidationID":"$VID","ValidationVal":"$VVAL"}`},
		{"POST", "/api/Validation", json_, `{"validationid":"$VID","validationval":"$VVAL "}`},
		{"POST", "/api/Validation", json_, `{"ValidationID":"$VID","ValidationVal":"$RESET"}`},
		{"POST", "/api/Validation", json_, `{"ValidationID":"vid_abcd_` + strings.Repeat("A", 43) + `","ValidationVal":"` + strings.Repeat("A", 43) + `"}`},
		{"POST", "/api/Validation", json_, `{"ValidationID":"$VID"}`},
		{"POST", "/api/PasswordReset", json_, `{"emailaddress":"grace@example.com"}`},
		{"POST", "/api/PasswordReset", json_, `{"emailaddress":"nobody@example.com"}`},
		{"POST", "/api/PasswordReset", json_, `{"emailaddress":""}`},
		{"POST", "/api/PasswordReset/Confirm", json_, `{"token":"$RESET","password":"bmV3LXNlY3JldA=="}`},
		{"POST", "/api/PasswordReset/Confirm", json_, `{"token":"$RESET","password":"bmV3LXNlY3JldA="}`},
		{"POST", "/api/PasswordReset/Confirm", json_, `{"token":"$RESET","password":"` + strings.Repeat("QUFB", 30) + `"}`},
		{"POST", "/api/PasswordReset/Confirm", json_, `{"token":"$SESSION","password":"bmV3LXNlY3JldA=="}`},
		{"POST", "/api/PasswordReset/Confirm", json_, `{"token":"ghr_abcd_` + strings.Repeat("A", 43) + `","password":"eA=="}`},
		{"GET", "/api/Me", "Authorization: Bearer $SESSION", ""},
		{"GET", "/api/Me", "Cookie: $COOKIE", ""},
		{"GET", "/api/Me", "Cookie: __Host-contacts=abc", ""},
		{"GET", "/api/Me", "Authorization: Bearer $RESET", ""},
		{"POST", "/api/Me", "", ""},
		{"GET", "/outbox", "", ""},
		{"GET", "/nope", "", ""},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}

	routes := exfuzz.Routes("POST /api/Login", "POST /api/Validation", "POST /api/PasswordReset", "POST /api/PasswordReset/Confirm",
		"GET /api/Me", "GET /outbox")
	codes := exfuzz.Codes("invalid_base64", "too_long", "not_found", "method_not_allowed")
	passwords := []string{}
	for _, c := range demoContacts {
		passwords = append(passwords, c.password)
	}

	f.Fuzz(func(t *testing.T, method, target, headers, body string) {
		defer exfuzz.Watch(method, target, headers, body)()
		// The clock starts at the real time: cookies get their Max-Age
		// from time.Now.
		clock := fakeclock.New(time.Now().UTC().Truncate(time.Second))
		mem := memory.New(memory.Options{Now: clock.Now, SweepInterval: -1})
		defer mem.Close()
		logs := &extest.Buffer{}
		logger := log.New(logs, "", 0)
		ob := &outbox{logger: logger}
		// No reset floor: it is a 10 ms wall-clock wait per reset request,
		// which only slows the fuzzer down (the floor has tests of its own).
		h, err := newApp(config{tagKey: extest.TagKey, store: mem, now: clock.Now, hasher: exfuzz.Hasher{}, outbox: ob, logger: logger, cookieKey: make([]byte, 32),
			resetMin: -1})
		if err != nil {
			t.Fatal(err)
		}
		post := func(path, body string) *httptest.ResponseRecorder {
			r, _ := exfuzz.Request("POST", path, json_, body)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				t.Fatalf("POST %s %s: %d %s", path, body, w.Code, w.Body)
			}
			return w
		}
		all := method + target + headers + body
		var session, cookie, vid, vval, reset string
		if strings.Contains(all, "$SESSION") || strings.Contains(all, "$COOKIE") {
			w := post("/api/Login", `{"emailaddress":"grace@example.com","password":"aG9wcGVyLXNlY3JldA=="}`)
			var res loginResponse
			cs := slices.DeleteFunc(w.Result().Cookies(), func(c *http.Cookie) bool { return c.Name == auth.KnownDeviceCookie })
			if json.Unmarshal(w.Body.Bytes(), &res) != nil || res.SessionToken == "" || len(cs) != 1 {
				t.Fatalf("login: %s %v", w.Body, cs)
			}
			session, cookie = res.SessionToken, cs[0].Name+"="+cs[0].Value
		}
		if strings.Contains(all, "$VID") || strings.Contains(all, "$VVAL") {
			w := post("/api/Login", `{"emailaddress":"alan@example.com","password":"dHVyaW5nLXNlY3JldA=="}`)
			var res loginResponse
			if json.Unmarshal(w.Body.Bytes(), &res) != nil || res.ResponseMessage.ValidationID == nil || res.ResponseMessage.ValidationVal == nil {
				t.Fatalf("login of alan: %s", w.Body)
			}
			vid, vval = *res.ResponseMessage.ValidationID, *res.ResponseMessage.ValidationVal
		}
		if strings.Contains(all, "$RESET") {
			post("/api/PasswordReset", `{"emailaddress":"grace@example.com"}`)
			m, ok := ob.last("grace@example.com")
			if !ok {
				t.Fatal("no reset mail")
			}
			reset = m.Token
		}
		expand := strings.NewReplacer("$SESSION", session, "$COOKIE", cookie, "$VID", vid, "$VVAL", vval, "$RESET", reset).Replace
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
		if w.Code >= 400 {
			if !codes[x.ErrorCode()] {
				fail("error without a stable code")
			}
			return
		}
		if w.Code != http.StatusOK {
			fail("a success other than 200")
		}
		var fields struct {
			EmailAddress, Password, Token string
			ValidationID, ValidationVal   string
		}
		_ = json.Unmarshal([]byte(expand(body)), &fields)
		switch x.Pattern {
		case "POST /api/Login":
			if pw, err := decodePassword("password", fields.Password); err != nil || !slices.Contains(passwords, pw) {
				fail("logged in without a contact's password")
			}
		case "POST /api/Validation":
			if vid == "" || fields.ValidationID != vid || fields.ValidationVal != vval {
				fail("validated without the test's pair")
			}
		case "POST /api/PasswordReset/Confirm":
			if reset == "" || fields.Token != reset {
				fail("reset without the test's token")
			}
		case "GET /api/Me":
			c := r.Header.Get("Cookie")
			if (session == "" || !strings.Contains(r.Header.Get("Authorization"), session)) && (cookie == "" || !strings.Contains(c, cookie)) {
				fail("/api/Me without the test's session")
			}
		case "POST /api/PasswordReset", "GET /outbox":
			// 200 for any address; the demo outbox is open by design.
		default:
			fail("success on no route: " + x.Pattern)
		}
	})
}
