// Package clientaddr names the client a request comes from by its network
// address, canonical and grouped, so that counters and limits keyed by
// client cannot be dodged by writing one address another way.
//
// An IPv4 address counts alone (/32). An IPv6 address counts with its /64:
// one host is usually given a whole /64, so counting each address apart
// would hand an attacker 2^64 fresh clients. An IPv4-mapped IPv6 address
// (::ffff:192.0.2.1) is the IPv4 address it maps, and a zone (%eth0) is
// dropped. Keys are built from the parsed address, never from the raw
// text.
package clientaddr

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
)

// DefaultIPv6Bits is how much of an IPv6 address names one client.
const DefaultIPv6Bits = 64

// ErrNoAddress: a remote address that is empty or not an IP address (a
// Unix socket's, say).
var ErrNoAddress = errors.New("clientaddr: no IP address")

// Parse reads a remote address as http.Request.RemoteAddr carries it
// ("192.0.2.1:1234", "[2001:db8::1%eth0]:1234") or a bare IP address, and
// returns it canonical: unmapped, without zone.
func Parse(remoteAddr string) (netip.Addr, error) {
	if remoteAddr == "" {
		return netip.Addr{}, ErrNoAddress
	}
	host := remoteAddr
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: %q", ErrNoAddress, remoteAddr)
	}
	return a.Unmap().WithZone(""), nil
}

// Group returns the network a counts in: a /32 for IPv4, the first
// ipv6Bits of an IPv6 address (DefaultIPv6Bits when 0). The zero Prefix
// for the zero Addr.
func Group(a netip.Addr, ipv6Bits int) netip.Prefix {
	if !a.IsValid() {
		return netip.Prefix{}
	}
	a = a.Unmap().WithZone("")
	bits := 32
	if a.Is6() {
		bits = ipv6Bits
		if bits <= 0 || bits > 128 {
			bits = DefaultIPv6Bits
		}
	}
	p, _ := a.Prefix(bits) // bits is in range for a's family
	return p
}

// FromRequest returns the client of r: its RemoteAddr, grouped as Group
// does with DefaultIPv6Bits. A RemoteAddr that is not an IP address gives
// the zero Prefix, which counts as one client of its own (every such
// request together).
//
// Behind a reverse proxy RemoteAddr is the proxy's: pass the handlers a
// function that returns the address the proxy vouches for, never a header
// a client can set freely.
func FromRequest(r *http.Request) netip.Prefix {
	a, err := Parse(r.RemoteAddr)
	if err != nil {
		return netip.Prefix{}
	}
	return Group(a, DefaultIPv6Bits)
}

// Key returns the text a counter or limit is keyed by for p: the
// canonical prefix ("192.0.2.1/32", "2001:db8::/64"), or "unknown" for
// the zero Prefix. A prefix an app built itself is made canonical first
// (masked, unmapped, without zone), so that two addresses of one network
// are one key.
func Key(p netip.Prefix) string {
	if !p.IsValid() {
		return "unknown"
	}
	return canonical(p).String()
}

// canonical masks p, and writes an IPv4-mapped IPv6 prefix as the IPv4
// prefix it maps.
func canonical(p netip.Prefix) netip.Prefix {
	a, bits := p.Addr().WithZone(""), p.Bits()
	if a.Is4In6() {
		a, bits = a.Unmap(), max(bits-96, 0)
	}
	q, err := a.Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return q
}
