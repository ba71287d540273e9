package auth

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// FuzzParseRemember: no input panics the remember-me cookie parser, and
// what it accepts has the one shape SetRememberCookie writes, so that
// nothing else reaches the store: a browser name of the generated shape,
// a dot, and a device token's text (bounded, ASCII, base64url and "_").
func FuzzParseRemember(f *testing.F) {
	name := newBrowserName()
	tok := "ghd_abcd_" + strings.Repeat("A", 43)
	for _, seed := range []string{
		name + "." + tok, "", ".", name, name + ".", "." + tok, tok,
		name + "." + name + "." + tok, "browser-." + tok, "browser-AAAAAAAAAAA." + tok,
		"browser-AAAAAAAAAAB." + tok, // non-canonical: the last character's spare bits set
		strings.ToUpper(name) + "." + tok, name + ".ghs_abcd_" + strings.Repeat("A", 43),
		name + "." + tok + "!", name + "." + tok + strings.Repeat("A", 200), name + ".\xff" + tok, name + "." + tok + "\x00",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		device, token, ok := parseRemember(value)
		if !ok {
			if device != "" || token != "" {
				t.Fatalf("parseRemember(%q) refused it but returned %q, %q", value, device, token)
			}
			return
		}
		if device+"."+token != value || !validBrowserName(device) || !utf8.ValidString(token) ||
			len(token) > maxRememberTokenLen || tokens.KindOf(token) != store.KindDevice || strings.ContainsAny(token, ".=+/ \"") {
			t.Fatalf("parseRemember(%q) = %q, %q: accepted a value of another shape", value, device, token)
		}
		if checkDeviceName(device) != nil {
			t.Fatalf("parseRemember(%q): device %q is no device name", value, device)
		}
	})
}

// TestBrowserNames: every generated name reads back, and is a valid
// device name; two are never alike.
func TestBrowserNames(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		n := newBrowserName()
		if !validBrowserName(n) || checkDeviceName(n) != nil || seen[n] {
			t.Fatalf("newBrowserName() = %q: invalid or repeated", n)
		}
		seen[n] = true
	}
}

// TestRememberFromRequestRefusesDuplicates: two cookies of the name (a
// sibling subdomain can plant one) are none.
func TestRememberFromRequestRefusesDuplicates(t *testing.T) {
	v := newBrowserName() + ".ghd_abcd_" + strings.Repeat("A", 43)
	r, _ := http.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", RememberCookie+"="+v)
	if _, _, ok := RememberFromRequest(r); !ok {
		t.Fatal("one well-formed cookie refused")
	}
	r.Header.Set("Cookie", RememberCookie+"="+v+"; "+RememberCookie+"="+v)
	if _, _, ok := RememberFromRequest(r); ok {
		t.Fatal("two cookies of the name accepted")
	}
}
