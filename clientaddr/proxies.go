package clientaddr

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gatehouse-go/gatehouse/problem"
)

// ErrForwarded: the request came through a trusted proxy whose forwarding
// header cannot be read: a hop that is not an IP address, or more hops than
// Config.MaxHops (400 invalid_forwarded). The trusted proxy wrote that part
// of the header, so the deployment is at fault, not the client; the request
// is refused rather than counted under a guess.
var ErrForwarded = problem.New("clientaddr: unreadable forwarding header from a trusted proxy", problem.Error{
	Status: http.StatusBadRequest, Code: "invalid_forwarded", Message: "the forwarding header could not be read"})

// ErrNoClient: the request's RemoteAddr is not an IP address (400
// no_client_address), so it cannot be counted as any client.
var ErrNoClient = problem.New("clientaddr: the request has no client address", problem.Error{
	Status: http.StatusBadRequest, Code: "no_client_address", Message: "the client address is unknown"})

// Headers a Resolver can read the client from, behind trusted proxies.
const (
	XForwardedFor = "X-Forwarded-For"
	Forwarded     = "Forwarded" // RFC 7239
)

// Config configures a [Resolver]. The zero Config reads RemoteAddr alone.
type Config struct {
	// TrustedProxies are the networks of the reverse proxies in front of
	// the app. A request whose peer is in one of them has its client read
	// from Header, walked from the right: each hop a trusted proxy added
	// is skipped, and the first hop that is not a trusted proxy is the
	// client. Whatever a client wrote into the header itself lies left of
	// that hop and is never read. Default none: RemoteAddr is the client,
	// and forwarding headers are ignored.
	TrustedProxies []netip.Prefix
	// Header is the one forwarding header the proxies set: XForwardedFor
	// (the default) or Forwarded. Only one is read: a client could send
	// the other through a proxy that passes it on untouched.
	Header string
	// IPv6Bits is how much of an IPv6 address names one client; default
	// DefaultIPv6Bits (64). 128 counts every address apart.
	IPv6Bits int
	// MaxHops bounds the hops walked in the header; default 16. A header
	// needing more is ErrForwarded.
	MaxHops int
}

// Resolver finds the client of a request. It is safe for concurrent use.
type Resolver struct {
	trusted []netip.Prefix
	header  string
	bits    int
	maxHops int
}

// New checks cfg and returns a Resolver.
func New(cfg Config) (*Resolver, error) {
	r := &Resolver{header: cfg.Header, bits: cfg.IPv6Bits, maxHops: cfg.MaxHops}
	switch r.header {
	case "":
		r.header = XForwardedFor
	case XForwardedFor, Forwarded:
	default:
		return nil, fmt.Errorf("clientaddr: Config.Header %q: want %q or %q", cfg.Header, XForwardedFor, Forwarded)
	}
	if r.bits == 0 {
		r.bits = DefaultIPv6Bits
	}
	if r.bits < 1 || r.bits > 128 {
		return nil, fmt.Errorf("clientaddr: Config.IPv6Bits %d is outside 1..128", cfg.IPv6Bits)
	}
	if r.maxHops == 0 {
		r.maxHops = 16
	}
	if r.maxHops < 1 {
		return nil, errors.New("clientaddr: negative Config.MaxHops")
	}
	for _, p := range cfg.TrustedProxies {
		if !p.IsValid() {
			return nil, errors.New("clientaddr: an invalid prefix in Config.TrustedProxies")
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			// Peers are unmapped (Parse), so a prefix written as
			// ::ffff:10.0.0.0/104 must be the IPv4 10.0.0.0/8 to match.
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		r.trusted = append(r.trusted, p.Masked())
	}
	return r, nil
}

// MustNew is New that panics on a bad Config, for package-level setup.
func MustNew(cfg Config) *Resolver {
	r, err := New(cfg)
	if err != nil {
		panic(err)
	}
	return r
}

// Client returns the client of req, grouped as the Resolver counts
// clients. It answers ErrNoClient when RemoteAddr is not an IP address and
// ErrForwarded when a trusted proxy's header cannot be read.
func (r *Resolver) Client(req *http.Request) (netip.Prefix, error) {
	peer, err := Parse(req.RemoteAddr)
	if err != nil {
		return netip.Prefix{}, ErrNoClient
	}
	if !r.isTrusted(peer) {
		return Group(peer, r.bits), nil
	}
	client := peer
	hops := 0
	walk := func(hop string) bool {
		hops++
		if hops > r.maxHops {
			err = ErrForwarded
			return false
		}
		a, perr := r.parseHop(hop)
		if perr != nil {
			err = ErrForwarded
			return false
		}
		client = a
		return r.isTrusted(a) // a trusted proxy added this hop: go on left
	}
	lines := req.Header.Values(r.header)
	for i := len(lines) - 1; i >= 0 && err == nil; i-- {
		if !eachFromRight(lines[i], walk) {
			break
		}
	}
	if err != nil {
		return netip.Prefix{}, err
	}
	return Group(client, r.bits), nil
}

func (r *Resolver) isTrusted(a netip.Addr) bool {
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop reads one hop of the header: an address (X-Forwarded-For, some
// proxies add a port), or a Forwarded element's for= parameter.
func (r *Resolver) parseHop(hop string) (netip.Addr, error) {
	hop = strings.TrimSpace(hop)
	if r.header == Forwarded {
		v, ok := forParam(hop)
		if !ok {
			return netip.Addr{}, ErrForwarded
		}
		hop = v
	}
	if len(hop) > 2 && hop[0] == '[' && strings.IndexByte(hop, ']') > 0 {
		// "[2001:db8::1]" or "[2001:db8::1]:443": Parse reads the latter.
		if hop[len(hop)-1] == ']' {
			hop = hop[1 : len(hop)-1]
		}
	}
	return Parse(hop)
}

// forParam returns the value of the for= parameter of one Forwarded
// element ("for=192.0.2.60;proto=http;by=203.0.113.43"), unquoted.
func forParam(element string) (string, bool) {
	for pair := range strings.SplitSeq(element, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || !strings.EqualFold(name, "for") {
			continue
		}
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		return value, value != ""
	}
	return "", false
}

// eachFromRight calls f with each comma-separated part of a header line,
// the rightmost first, until f returns false; commas inside double quotes
// (a Forwarded quoted-string) do not separate. It reports whether f asked
// for more.
func eachFromRight(line string, f func(string) bool) bool {
	end := len(line)
	quoted := false
	for i := len(line) - 1; i >= 0; i-- {
		switch line[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				if !f(line[i+1 : end]) {
					return false
				}
				end = i
			}
		}
	}
	return f(line[:end])
}
