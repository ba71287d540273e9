package middleware

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestCookieValueMatchesNetHTTP: the allocation-free lookup finds what
// http.Request.Cookie finds for every well-formed header, and counts the
// cookies of the name as http.Request.CookiesNamed does (up to 2).
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
		{"gh=first", "a=1; gh=second"},
		{"gh=1; gh=2; gh=3"},
		{"a=1; gh=only; b=2", "c=3"},
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
		all := r.CookiesNamed("gh")
		got, n := cookieValue(r.Header, "gh")
		switch {
		case len(all) > 1 && (n != 2 || got != ""):
			t.Errorf("%q: cookieValue = %q, %d; want \"\", 2 for %d cookies", h, got, n, len(all))
		case len(all) <= 1 && (n != len(all) || n == 1 && got != all[0].Value):
			t.Errorf("%q: cookieValue = %q, %d; net/http = %v", h, got, n, all)
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

// FuzzSessionCookieDecode: decode never panics on any bytes (the codec's
// HMAC keeps them out in practice, but a leaked key must not become a
// crash), and what it accepts writes back as bytes that decode the same.
func FuzzSessionCookieDecode(f *testing.F) {
	valid := (&sessionCookie{Tokens: map[string]string{"": "a", "p": "b"}, End: time.Unix(1893456000, 0)}).appendBinary(nil)
	for _, b := range [][]byte{nil, valid, valid[:len(valid)-1], {cookieFormat}, {2, 0}, []byte("\x02p:\x03tok\x03end\x0a1893456000")} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s sessionCookie
		if s.decode(b) != nil {
			return
		}
		var again sessionCookie
		if err := again.decode(s.appendBinary(nil)); err != nil {
			t.Fatalf("%x decoded to %+v, which does not decode back: %v", b, s, err)
		}
		if !maps.Equal(s.Tokens, again.Tokens) || !s.End.Equal(again.End) {
			t.Fatalf("%x: %+v, then %+v", b, s, again)
		}
	})
}

// BenchmarkSessionToken: reading the project's token from a browser's
// Cookie header, among other cookies: Hit is a repeat value (the hot path:
// it must not allocate), Miss a value seen for the first time (HMAC and
// decoding).
func BenchmarkSessionToken(b *testing.B) {
	c, err := NewCookies(CookieConfig{HashKey: []byte(strings.Repeat("k", 32))})
	if err != nil {
		b.Fatal(err)
	}
	w := httptest.NewRecorder()
	if err := c.SetSession(w, httptest.NewRequest("GET", "/", nil), "100909072", "ghs_"+strings.Repeat("A", 60), time.Now().Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	ck := w.Result().Cookies()[0]
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", "_ga=GA1.2.3; theme=dark; "+ck.Name+"="+ck.Value+"; lang=en")
	for _, miss := range []bool{false, true} {
		name := "Hit"
		if miss {
			name = "Miss"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if miss {
					c.verified.m.Store(nil)
				}
				if c.SessionToken(r, "100909072") == "" {
					b.Fatal("no token")
				}
			}
		})
	}
}
