package main

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/examples/internal/extest"
)

// TestServerLimits is finding 8 of issue 15: with only ReadHeaderTimeout
// set, slow bodies and idle keep-alive connections stayed open, and
// enough of them exhausted the server's file descriptors. The server
// serve.go runs sets every limit, and each one lets go in time (shown on
// short limits, so nothing waits long).
func TestServerLimits(t *testing.T) {
	srv := newHTTPServer(nil, defaultLimits)
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout,
	} {
		if d <= 0 || d > 2*time.Minute {
			t.Errorf("%s = %v, want a limit of at most 2 minutes", name, d)
		}
	}
	if n := srv.MaxHeaderBytes; n <= 0 || n > 64<<10 {
		t.Errorf("MaxHeaderBytes = %d, want a limit of at most 64 KiB", n)
	}
	short := serverLimits{readHeader: 500 * time.Millisecond, read: time.Second, write: 2 * time.Second,
		idle: 100 * time.Millisecond, maxHeader: 1 << 10}
	extest.CheckServerLimits(t, newHTTPServer(nil, short),
		extest.Limits{Idle: short.idle, Read: short.read, MaxHeaderBytes: short.maxHeader})
}

// TestRoutingTagKey is finding 2 of issue 15 in the examples: the key
// comes from -tag-key (or GATEHOUSE_TAG_KEY); without one, only a server
// on loopback runs, on a random key of its own, and anything else refuses
// to start.
func TestRoutingTagKey(t *testing.T) {
	lo := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	public := &net.TCPAddr{IP: net.IPv4zero, Port: 8080}
	given := strings.Repeat("k", 32)
	for _, a := range []net.Addr{lo, public} {
		if key, err := routingTagKey(given, a); err != nil || string(key) != given {
			t.Errorf("given a key, on %v: %q, %v", a, key, err)
		}
	}
	if _, err := routingTagKey("", public); err == nil || !strings.Contains(err.Error(), "-tag-key") {
		t.Errorf("no key on %v: %v, want an error naming -tag-key", public, err)
	}
	k1, err1 := routingTagKey("", lo)
	k2, err2 := routingTagKey("", lo)
	if err1 != nil || err2 != nil || len(k1) < 32 || string(k1) == string(k2) {
		t.Errorf("no key on loopback: %q, %q (%v, %v); want two random keys of 32+ bytes", k1, k2, err1, err2)
	}
}
