// Package extest holds the helpers the examples' tests share: a buffer
// safe to read while an app still writes its log to it, and the calls
// that send a request and read a JSON answer. Only tests import it.
package extest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TagKey is the examples' tests' tokens.Config.TagKey (the apps take
// theirs from -tag-key or GATEHOUSE_TAG_KEY): one fixed key, so that a
// test's own token manager on an app's store agrees with the app's.
var TagKey = []byte("gatehouse examples' test routing-tag key")

// Buffer collects what is written to it, from any goroutine; String can
// be read while writes go on (an app's log while requests still log, a
// browser's output).
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Request is a request to url with body (none when empty) and, when
// contentType is not empty, that Content-Type.
func Request(t testing.TB, method, url, contentType, body string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// JSONType is the Content-Type of a JSON body: application/json, or ""
// when there is no body.
func JSONType(body string) string {
	if body == "" {
		return ""
	}
	return "application/json"
}

// DoJSON sends req with client and returns the answer and its body, which
// it decodes into v. It fails the test unless the answer is JSON: a body
// v can hold, sent as "application/json; charset=utf-8".
func DoJSON(t testing.TB, client *http.Client, req *http.Request, v any) (*http.Response, []byte) {
	t.Helper()
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("%s %s: Content-Type %q, body %s", req.Method, req.URL.Path, ct, raw)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s %s: %d, body is not the JSON expected (%v): %s", req.Method, req.URL.Path, res.StatusCode, err, raw)
	}
	return res, raw
}
