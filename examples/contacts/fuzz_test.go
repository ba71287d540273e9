package main

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

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
		{"GET", "/api/Me", "Cookie: contacts=abc", ""},
		{"GET", "/api/Me", "Authorization: Bearer $RESET", ""},
		{"POST", "/api/Me", "", ""},
		{"GET", "/outbox", "", ""},
		{"GET", "/nope", "", ""},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}

	routes := http.NewServeMux()
	for _, p := range []string{"POST /api/Login", "POST /api/Validation", "POST /api/PasswordReset", "POST /api/PasswordReset/Confirm",
		"GET /api/Me", "GET /outbox"} {
		routes.Handle(p, http.NotFoundHandler())
	}
	codes := append(slices.Clone(gatehouseCodes), "invalid_base64", "too_long", "invalid_validation", "not_found", "method_not_allowed")
	passwords := []string{}
	for _, c := range demoContacts {
		passwords = append(passwords, c.password)
	}

	f.Fuzz(func(t *testing.T, method, target, headers, body string) {
		// The clock starts at the real time: cookies get their Max-Age
		// from time.Now.
		clock := fakeclock.New(time.Now().UTC().Truncate(time.Second))
		mem := memory.New(memory.Options{Now: clock.Now, SweepInterval: -1})
		defer mem.Close()
		logs := &logBuffer{}
		logger := log.New(logs, "", 0)
		ob := &outbox{logger: logger}
		h, err := newApp(config{store: mem, now: clock.Now, hasher: fastHasher{}, outbox: ob, logger: logger, cookieKey: make([]byte, 32)})
		if err != nil {
			t.Fatal(err)
		}
		post := func(path, body string) *httptest.ResponseRecorder {
			r, _ := fuzzRequest("POST", path, json_, body)
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
			cs := w.Result().Cookies()
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
		r, ok := fuzzRequest(expand(method), expand(target), expand(headers), expand(body))
		if !ok {
			return
		}
		_, pattern := routes.Handler(r)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fail := func(why string) {
			t.Helper()
			t.Fatalf("%s\n%s %q\n%q\n%q\n→ %d %v %s", why, r.Method, r.URL, headers, body, w.Code, w.Header(), w.Body)
		}
		if w.Code >= 500 && w.Code != http.StatusServiceUnavailable || internalError.MatchString(logs.String()) {
			fail("server error: " + logs.String())
		}
		if isRedirectOfMux(w) {
			return
		}
		if w.Code >= 400 {
			var p struct{ Code string }
			if json.Unmarshal(w.Body.Bytes(), &p) != nil || !slices.Contains(codes, p.Code) {
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
		switch pattern {
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
			fail("success on no route: " + pattern)
		}
	})
}

// fuzzRequest builds the request a server reads from a request line,
// header lines ("Name: value", one a line) and a body; ok is false where
// net/http itself would refuse the request before any handler runs.
func fuzzRequest(method, target, headers, body string) (r *http.Request, ok bool) {
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: example.test\r\n")
	for line := range strings.SplitSeq(headers, "\n") {
		if line = strings.TrimSuffix(line, "\r"); line != "" {
			b.WriteString(line + "\r\n")
		}
	}
	b.WriteString("\r\n")
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(b.String())))
	if err != nil {
		return nil, false
	}
	r.Header.Del("Content-Length")
	r.Header.Del("Transfer-Encoding")
	r.TransferEncoding = nil
	r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
	r.RemoteAddr = "192.0.2.1:1234"
	return r, true
}

// fastHasher stands in for bcrypt so that every run can build a fresh app:
// SHA-256, compared in constant time. Only the fuzz targets use it.
type fastHasher struct{}

func (fastHasher) Hash(pw []byte) ([]byte, error) {
	sum := sha256.Sum256(pw)
	return sum[:], nil
}

func (fastHasher) Compare(hash, pw []byte) error {
	if sum := sha256.Sum256(pw); subtle.ConstantTimeCompare(hash, sum[:]) != 1 {
		return errors.New("fastHasher: mismatch")
	}
	return nil
}

func (fastHasher) NeedsRehash([]byte) bool { return false }

// gatehouseCodes are the stable codes of gatehouse's errors.
var gatehouseCodes = []string{
	"store_full", "store_unavailable", "busy", "rate_limited", "missing_token", "invalid_token", "token_reused",
	"invalid_app_credentials", "wrong_project", "invalid_credentials", "unknown_user", "inactive", "unconfirmed",
	"locked", "password_too_long", "malformed_body", "body_too_large", "unsupported_media_type", "cross_origin",
	"missing_field", "invalid_field",
}

// isRedirectOfMux reports ServeMux's own redirects, cleaning a path or
// adding its slash.
func isRedirectOfMux(w *httptest.ResponseRecorder) bool {
	switch w.Code {
	case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return w.Header().Get("Location") != ""
	}
	return false
}
