// Package exfuzz is what the examples' fuzz targets share: building the
// request a server would read from fuzz input, serving it, telling which
// route it reached, and judging the answer against the stable error codes.
// Only tests import it.
package exfuzz

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Limit is how long one fuzz input may run. Each takes milliseconds (a
// fresh app, a SHA-256 Hasher, a fake clock: nothing waits); the fuzzing
// engine kills a worker whose input runs 10 s and says only that it hung.
const Limit = 5 * time.Second

// Watch starts the clock on one fuzz input: call the function it returns
// when the input is done (defer exfuzz.Watch(method, target, headers,
// body)()). An input still running after Limit panics with the input and
// every goroutine's stack, to show what it waits on; the process ends, and
// a fuzzing run writes the input under testdata/fuzz.
func Watch(input ...string) (done func()) {
	return watch(Limit, func(msg string) { panic(msg) }, input)
}

func watch(limit time.Duration, fire func(string), input []string) (done func()) {
	t := time.AfterFunc(limit, func() {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		fire(fmt.Sprintf("exfuzz: an input has run over %v: %q\n\n%s", limit, input, buf))
	})
	return func() { t.Stop() }
}

// Request builds the request a server reads from a request line, header
// lines ("Name: value", one a line) and a body; ok is false where
// net/http itself would refuse the request before any handler runs.
func Request(method, target, headers, body string) (r *http.Request, ok bool) {
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

// Routes is a ServeMux of patterns ("METHOD /path"), to tell with its
// Handler method which one a request reaches.
func Routes(patterns ...string) *http.ServeMux {
	mux := http.NewServeMux()
	for _, p := range patterns {
		mux.Handle(p, http.NotFoundHandler())
	}
	return mux
}

// Codes is the set of stable codes an API answers errors with:
// gatehouse's and the extra ones of its own.
func Codes(extra ...string) map[string]bool {
	codes := map[string]bool{}
	for _, c := range append(gatehouseCodes[:len(gatehouseCodes):len(gatehouseCodes)], extra...) {
		codes[c] = true
	}
	return codes
}

// gatehouseCodes are the stable codes of gatehouse's errors.
var gatehouseCodes = []string{
	"store_full", "store_unavailable", "busy", "rate_limited", "missing_token", "invalid_token", "token_reused",
	"invalid_app_credentials", "wrong_project", "invalid_credentials", "unknown_user", "inactive", "unconfirmed",
	"locked", "password_too_long", "malformed_body", "body_too_large", "unsupported_media_type", "cross_origin",
	"missing_field", "invalid_field",
	"password_too_short", "password_invalid", "password_blocklisted", "password_context", "password_breached",
	"breach_check_unavailable",
}

// Exchange is one fuzz request and the app's answer.
type Exchange struct {
	R       *http.Request              // the request, placeholders replaced
	W       *httptest.ResponseRecorder // the answer
	Pattern string                     // the route R reaches; "" for none

	t             *testing.T
	headers, body string // as the input wrote them
}

// Serve builds the request of the fuzz input with expand applied to each
// part, finds its route in routes and serves it with h. ok is false, and
// nothing is served, where net/http would refuse the request.
func Serve(t *testing.T, h http.Handler, routes *http.ServeMux, expand func(string) string, method, target, headers, body string) (x *Exchange, ok bool) {
	r, ok := Request(expand(method), expand(target), expand(headers), expand(body))
	if !ok {
		return nil, false
	}
	_, pattern := routes.Handler(r)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return &Exchange{R: r, W: w, Pattern: pattern, t: t, headers: headers, body: body}, true
}

// Fail ends the test with why, the request as the input wrote it and the
// answer.
func (x *Exchange) Fail(why string) {
	x.t.Helper()
	x.t.Fatalf("%s\n%s %q\n%q\n%q\n→ %d %v %s", why, x.R.Method, x.R.URL, x.headers, x.body, x.W.Code, x.W.Header(), x.W.Body)
}

// ServerError reports an answer no input should get: 5xx other than 503
// (the store is down).
func (x *Exchange) ServerError() bool {
	return x.W.Code >= 500 && x.W.Code != http.StatusServiceUnavailable
}

// MuxRedirect reports ServeMux's own redirects, cleaning a path or adding
// its slash.
func (x *Exchange) MuxRedirect() bool {
	switch x.W.Code {
	case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return x.W.Header().Get("Location") != ""
	}
	return false
}

// ErrorCode is the code of a JSON error body ({"code": ...} in any case);
// "" when the body is no JSON object.
func (x *Exchange) ErrorCode() string {
	var e struct{ Code string }
	if json.Unmarshal(x.W.Body.Bytes(), &e) != nil {
		return ""
	}
	return e.Code
}

// Hasher stands in for bcrypt so that every run can build a fresh app:
// SHA-256, compared in constant time.
type Hasher struct{}

func (Hasher) Hash(pw []byte) ([]byte, error) {
	sum := sha256.Sum256(pw)
	return sum[:], nil
}

func (Hasher) Compare(hash, pw []byte) error {
	if sum := sha256.Sum256(pw); subtle.ConstantTimeCompare(hash, sum[:]) != 1 {
		return errors.New("exfuzz.Hasher: mismatch")
	}
	return nil
}

func (Hasher) NeedsRehash([]byte) bool { return false }
