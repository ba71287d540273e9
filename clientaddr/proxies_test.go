package clientaddr

import (
	"errors"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

var proxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}

func TestResolverClient(t *testing.T) {
	for _, tc := range []struct {
		name    string
		header  string // Config.Header
		remote  string
		values  []string // header lines, in order
		want    string
		wantErr error
	}{
		{name: "no proxy trusted: header ignored", remote: "198.51.100.7:1", values: []string{"203.0.113.1"}, want: "198.51.100.7/32"},
		{name: "untrusted peer spoofing XFF changes nothing", remote: "198.51.100.7:1", values: []string{"10.0.0.1, 192.0.2.99"}, want: "198.51.100.7/32"},
		{name: "trusted proxy: rightmost hop", remote: "10.0.0.2:1", values: []string{"192.0.2.5"}, want: "192.0.2.5/32"},
		{name: "client's own prefix is never read", remote: "10.0.0.2:1", values: []string{"6.6.6.6, 192.0.2.5"}, want: "192.0.2.5/32"},
		{name: "chain of trusted proxies is skipped", remote: "10.0.0.2:1", values: []string{"6.6.6.6, 192.0.2.5, 10.1.1.1", "10.2.2.2"}, want: "192.0.2.5/32"},
		{name: "junk left of the client is never read", remote: "10.0.0.2:1", values: []string{"not an address, ,,[", "192.0.2.5"}, want: "192.0.2.5/32"},
		{name: "all hops trusted: leftmost", remote: "10.0.0.2:1", values: []string{"10.9.9.9, 10.8.8.8"}, want: "10.9.9.9/32"},
		{name: "trusted proxy without header: the proxy", remote: "10.0.0.2:1", want: "10.0.0.2/32"},
		{name: "ipv6 client grouped", remote: "[fd00::1]:1", values: []string{"2001:db8:1:2:3:4:5:6"}, want: "2001:db8:1:2::/64"},
		{name: "mapped ipv4 peer is trusted", remote: "[::ffff:10.0.0.2]:1", values: []string{"192.0.2.5"}, want: "192.0.2.5/32"},
		{name: "hop with port and zone", remote: "10.0.0.2:1", values: []string{"[fe80::1%eth0]:443"}, want: "fe80::/64"},
		{name: "hop ipv4 with port", remote: "10.0.0.2:1", values: []string{"192.0.2.5:8080"}, want: "192.0.2.5/32"},
		{name: "malformed hop from a trusted proxy", remote: "10.0.0.2:1", values: []string{"6.6.6.6, garbage"}, wantErr: ErrForwarded},
		{name: "empty hop from a trusted proxy", remote: "10.0.0.2:1", values: []string{"192.0.2.5, "}, wantErr: ErrForwarded},
		{name: "too many trusted hops", remote: "10.0.0.2:1", values: []string{strings.Repeat("10.0.0.3, ", 40) + "10.0.0.4"}, wantErr: ErrForwarded},
		{name: "empty RemoteAddr", remote: "", wantErr: ErrNoClient},
		{name: "unix socket", remote: "@", wantErr: ErrNoClient},

		{name: "Forwarded", header: Forwarded, remote: "10.0.0.2:1", values: []string{`for=6.6.6.6, for=192.0.2.60;proto=http;by=203.0.113.43`}, want: "192.0.2.60/32"},
		{name: "Forwarded quoted ipv6 with port", header: Forwarded, remote: "10.0.0.2:1", values: []string{`For="[2001:db8:cafe::17]:4711"`}, want: "2001:db8:cafe::/64"},
		{name: "Forwarded comma inside quotes", header: Forwarded, remote: "10.0.0.2:1", values: []string{`for="a,b", for=192.0.2.60`}, want: "192.0.2.60/32"},
		{name: "Forwarded ignores XFF", header: Forwarded, remote: "10.0.0.2:1", want: "10.0.0.2/32"},
		{name: "Forwarded unknown from trusted", header: Forwarded, remote: "10.0.0.2:1", values: []string{"for=unknown"}, wantErr: ErrForwarded},
		{name: "Forwarded without for", header: Forwarded, remote: "10.0.0.2:1", values: []string{"proto=https"}, wantErr: ErrForwarded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := MustNew(Config{TrustedProxies: proxies, Header: tc.header})
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			name := tc.header
			if name == "" {
				name = XForwardedFor
			}
			for _, v := range tc.values {
				r.Header.Add(name, v)
			}
			if tc.header == Forwarded {
				r.Header.Add(XForwardedFor, "6.6.6.6") // never read
			}
			got, err := res.Client(r)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Client = %v, %v; want %v", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Fatalf("Client = %v, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Header: "X-Real-IP"},
		{IPv6Bits: 129},
		{IPv6Bits: -1},
		{MaxHops: -1},
		{TrustedProxies: []netip.Prefix{{}}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	r := MustNew(Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104")}})
	if !r.isTrusted(netip.MustParseAddr("10.1.2.3")) {
		t.Error("an IPv4-mapped trusted prefix does not cover the IPv4 peers it maps")
	}
}

// FuzzResolverClient: any RemoteAddr and header lines give a canonical
// client (a valid prefix whose address is unmapped and zoneless) or one of
// the two errors; never a panic, and an untrusted peer is always itself.
func FuzzResolverClient(f *testing.F) {
	f.Add("10.0.0.2:1", "6.6.6.6, 192.0.2.5", false)
	f.Add("10.0.0.2:1", `for="[2001:db8::1]:1";by=x, for=192.0.2.1`, true)
	f.Add("198.51.100.7:9", "10.0.0.1", false)
	f.Add("[fd00::1%25x]:1", `"",",`, true)
	f.Add("", "", false)
	f.Fuzz(func(t *testing.T, remote, value string, fwd bool) {
		header := XForwardedFor
		if fwd {
			header = Forwarded
		}
		res := MustNew(Config{TrustedProxies: proxies, Header: header})
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set(header, value)
		got, err := res.Client(r)
		if err != nil {
			if !errors.Is(err, ErrForwarded) && !errors.Is(err, ErrNoClient) {
				t.Fatalf("%q %q: undocumented error %v", remote, value, err)
			}
			return
		}
		if !got.IsValid() || got.Addr().Zone() != "" || got.Addr().Is4In6() || got != got.Masked() {
			t.Fatalf("%q %q: not canonical: %v", remote, value, got)
		}
		if peer, perr := Parse(remote); perr == nil && !res.isTrusted(peer) && got != Group(peer, 0) {
			t.Fatalf("untrusted peer %q became %v through %q", remote, got, value)
		}
	})
}
