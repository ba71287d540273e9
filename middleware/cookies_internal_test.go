package middleware

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestCookieValueMatchesNetHTTP: the allocation-free lookup finds what
// http.Request.Cookie finds for every well-formed header.
func TestCookieValueMatchesNetHTTP(t *testing.T) {
	for _, h := range [][]string{
		{"gh=abc"},
		{"a=1; gh=abc; b=2"},
		{"a=1;gh=abc"},
		{"a=1", "gh=second-line"},
		{`gh="quoted"`},
		{"ghx=1; gh=2"},
		{"xgh=1; gh=2"},
		{"gh=first; gh=second"},
		{"a=1; b=2"},
		{""},
		{"gh="},
		{"  gh=spaced  ; a=1"},
		{"\u00a0gh=planted; gh=real"},
		{"\u3000gh=planted; gh=real"},
		{"\vgh=planted; gh=real"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Cookie"] = h
		want, err := r.Cookie("gh")
		got, ok := cookieValue(r.Header, "gh")
		if (err == nil) != ok || (ok && got != want.Value) {
			t.Errorf("%q: cookieValue = %q, %v; net/http = %v, %v", h, got, ok, want, err)
		}
	}
}

// TestVerifiedCookies: a verified value is served from memory, a changed
// one is checked in full (and refused), the cached value is never edited
// through SetSession, and the memory starts afresh past its bound.
func TestVerifiedCookies(t *testing.T) {
	c, err := NewCookies(CookieConfig{HashKey: []byte(strings.Repeat("k", 32))})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	if err := c.SetSession(w, httptest.NewRequest("GET", "/", nil), "p", "tok1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ck := w.Result().Cookies()[0]
	req := func(value string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: ck.Name, Value: value})
		return r
	}
	if got := c.SessionToken(req(ck.Value), "p"); got != "tok1" {
		t.Fatalf("first read: %q", got)
	}
	if _, ok := c.verified.get(ck.Value); !ok {
		t.Fatal("a verified value was not remembered")
	}
	if got := c.SessionToken(req(ck.Value), "p"); got != "tok1" {
		t.Fatalf("remembered read: %q", got)
	}
	tampered := ck.Value[:len(ck.Value)-2] + "AA"
	if got := c.SessionToken(req(tampered), "p"); got != "" {
		t.Fatalf("tampered cookie read as %q", got)
	}
	if _, ok := c.verified.get(tampered); ok {
		t.Fatal("a tampered value was remembered")
	}
	w = httptest.NewRecorder()
	if err := c.SetSession(w, req(ck.Value), "q", "tok2", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if cached, _ := c.verified.get(ck.Value); len(cached.Tokens) != 1 || cached.Tokens["q"] != "" {
		t.Fatalf("SetSession changed the remembered value: %+v", cached)
	}
	for i := range maxVerifiedCookies + 5 {
		c.verified.put(strings.Repeat("x", 8)+string(rune(i)), nil)
	}
	if n := c.verified.n.Load(); n > maxVerifiedCookies {
		t.Fatalf("%d remembered, bound is %d", n, maxVerifiedCookies)
	}
}
