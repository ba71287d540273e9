package clientaddr

import (
	"errors"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestFromRequest(t *testing.T) {
	for _, tc := range []struct{ name, remote, want string }{
		{"ipv4", "192.0.2.7:1234", "192.0.2.7/32"},
		{"ipv4 bare", "192.0.2.7", "192.0.2.7/32"},
		{"ipv4-mapped ipv6 is ipv4", "[::ffff:192.0.2.7]:1234", "192.0.2.7/32"},
		{"ipv6 grouped by /64", "[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"ipv6 zone dropped", "[fe80::1%eth0]:80", "fe80::/64"},
		{"loopback v6", "[::1]:80", "::/64"},
		{"empty", "", "unknown"},
		{"unix socket", "@", "unknown"},
		{"host name", "example.com:80", "unknown"},
		{"garbage", "[::1", "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			if got := Key(FromRequest(r)); got != tc.want {
				t.Errorf("Key(FromRequest(%q)) = %q, want %q", tc.remote, got, tc.want)
			}
		})
	}
}

func TestSameHostAnyPortOneClient(t *testing.T) {
	a, _ := Parse("[2001:db8::1]:1")
	b, _ := Parse("[2001:db8::ffff:2]:2")
	if Group(a, 0) != Group(b, 0) {
		t.Errorf("two addresses of one /64 are two clients: %v, %v", Group(a, 0), Group(b, 0))
	}
	if Group(a, 128) == Group(b, 128) {
		t.Error("with 128 bits two addresses are one client")
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"", "nope", "1.2.3.4.5:6"} {
		if _, err := Parse(in); !errors.Is(err, ErrNoAddress) {
			t.Errorf("Parse(%q) = %v, want ErrNoAddress", in, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"192.0.2.1:80", "[::ffff:10.0.0.1]:1", "[fe80::1%25eth0]:1", "", "::1", "[::1]:", strings.Repeat("9", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		a, err := Parse(in)
		if err != nil {
			return
		}
		if a.Zone() != "" || a.Is4In6() {
			t.Fatalf("Parse(%q) = %v: not canonical", in, a)
		}
		p := Group(a, 0)
		if !p.IsValid() || !p.Contains(a) {
			t.Fatalf("Group(%v) = %v", a, p)
		}
		if _, err := netip.ParsePrefix(Key(p)); err != nil {
			t.Fatalf("Key(%v) = %q does not parse back", p, Key(p))
		}
	})
}

// TestKeyIsCanonical: prefixes an app builds itself (unmasked, mapped,
// with a zone) key like the canonical network, so a custom Client cannot
// hand every address its own limit (found by a review).
func TestKeyIsCanonical(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"2001:db8::1/64", "2001:db8::ffff/64"},
		{"::ffff:192.0.2.1/128", "192.0.2.1/32"},
		{"::ffff:192.0.2.1/120", "192.0.2.0/24"},
	} {
		if ka, kb := Key(netip.MustParsePrefix(tc.a)), Key(netip.MustParsePrefix(tc.b)); ka != kb {
			t.Errorf("Key(%s) = %s, Key(%s) = %s: want one key", tc.a, ka, tc.b, kb)
		}
	}
}
