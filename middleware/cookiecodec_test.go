package middleware

import (
	"encoding/binary"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSessionCookieRoundTrip: what appendBinary writes, decode reads back,
// for no project, the project "" and several, and with a BlockKey the
// whole cookie round-trips through the codec.
func TestSessionCookieRoundTrip(t *testing.T) {
	end := time.Unix(1893456000, 0)
	for name, tokens := range map[string]map[string]string{
		"none":     {},
		"empty":    {"": "ghs_tok"},
		"several":  {"": "a", "100909072": "b", "p|q;r=\"s\"": strings.Repeat("t", 300)},
		"no token": {"p": ""},
	} {
		in := &sessionCookie{Tokens: tokens, End: end}
		var out sessionCookie
		if err := out.decode(in.appendBinary(nil)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !maps.Equal(out.Tokens, tokens) || !out.End.Equal(end) {
			t.Errorf("%s: decoded %+v, want %+v", name, out, in)
		}
	}
	for name, block := range map[string][]byte{"signed": nil, "encrypted": []byte(strings.Repeat("b", 32))} {
		c, err := NewCookies(CookieConfig{HashKey: []byte(strings.Repeat("k", 32)), BlockKey: block})
		if err != nil {
			t.Fatal(err)
		}
		in := &sessionCookie{Tokens: map[string]string{"p": "tok"}, End: end}
		value, err := c.codec.Encode(c.name, in)
		if err != nil {
			t.Fatal(err)
		}
		if block != nil && strings.Contains(value, "tok") {
			t.Errorf("%s: the value shows its token", name)
		}
		var out sessionCookie
		if err := c.codec.Decode(c.name, value, &out); err != nil || out.token("p") != "tok" {
			t.Errorf("%s: decoded %+v, %v", name, out, err)
		}
		if err := c.codec.Decode("other-name", value, &out); err == nil {
			t.Errorf("%s: a value decoded under another cookie name", name)
		}
	}
}

// TestSessionCookieRefuses: decode refuses what appendBinary never writes,
// including the format before the typed value (string pairs with "p:"
// projects and an "end" key).
func TestSessionCookieRefuses(t *testing.T) {
	pair := func(b []byte, s ...string) []byte {
		for _, s := range s {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
		return b
	}
	head := binary.AppendVarint([]byte{cookieFormat}, 1893456000)
	for name, b := range map[string][]byte{
		"empty":           nil,
		"old format":      pair(nil, "p:", "tok", "end", "1893456000"),
		"other format":    append([]byte{2}, head[1:]...),
		"no end":          {cookieFormat},
		"bad end":         {cookieFormat, 0x80},
		"project only":    pair(head, "p"),
		"short project":   append(binary.AppendUvarint(head, 5), "abc"...),
		"short token":     append(pair(head, "p"), append(binary.AppendUvarint(nil, 9), "tok"...)...),
		"huge length":     binary.AppendUvarint(head, 1<<63),
		"truncated len":   append(head, 0x80),
		"project twice":   pair(head, "p", "a", "p", "b"),
		"trailing byte":   append(pair(head, "p", "a"), 1),
		"overlong varint": append(head, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
	} {
		var s sessionCookie
		if err := s.decode(b); err == nil {
			t.Errorf("%s: decoded %+v", name, s)
		}
	}
}

// TestCookieLifetime: the cookie lasts until the latest end of its
// sessions (Max-Age and Expires), a shorter session added later does not
// shorten it, removing a project keeps it, and removing the last deletes it.
func TestCookieLifetime(t *testing.T) {
	c, err := NewCookies(CookieConfig{HashKey: []byte(strings.Repeat("k", 32))})
	if err != nil {
		t.Fatal(err)
	}
	var header string
	step := func(f func(w http.ResponseWriter, r *http.Request) error) *http.Cookie {
		t.Helper()
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		if header != "" {
			r.Header.Set("Cookie", header)
		}
		if err := f(w, r); err != nil {
			t.Fatal(err)
		}
		ck := w.Result().Cookies()[0]
		header = ck.Name + "=" + ck.Value
		return ck
	}
	near := func(ck *http.Cookie, d time.Duration) {
		t.Helper()
		if got := time.Duration(ck.MaxAge) * time.Second; got < d-2*time.Second || got > d+2*time.Second {
			t.Errorf("Max-Age %v, want about %v", got, d)
		}
		if got := time.Until(ck.Expires); got < d-3*time.Second || got > d+2*time.Second {
			t.Errorf("Expires in %v, want about %v", got, d)
		}
	}
	near(step(func(w http.ResponseWriter, r *http.Request) error {
		return c.SetSession(w, r, "a", "tokA", time.Now().Add(time.Hour))
	}), time.Hour)
	near(step(func(w http.ResponseWriter, r *http.Request) error {
		return c.SetSession(w, r, "b", "tokB", time.Now().Add(10*time.Minute))
	}), time.Hour)
	near(step(func(w http.ResponseWriter, r *http.Request) error {
		return c.ClearSession(w, r, "a")
	}), time.Hour)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", header)
	if a, b := c.SessionToken(r, "a"), c.SessionToken(r, "b"); a != "" || b != "tokB" {
		t.Fatalf("after clearing a: a %q, b %q", a, b)
	}
	ck := step(func(w http.ResponseWriter, r *http.Request) error { return c.ClearSession(w, r, "b") })
	if ck.MaxAge >= 0 || ck.Value != "" || !ck.Expires.Before(time.Unix(2, 0)) {
		t.Fatalf("last project cleared: %+v", ck)
	}
}
