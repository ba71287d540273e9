package extest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// Limits are what [CheckServerLimits] expects of a server.
type Limits struct {
	Idle           time.Duration // http.Server.IdleTimeout
	Read           time.Duration // http.Server.ReadTimeout
	MaxHeaderBytes int           // http.Server.MaxHeaderBytes
}

// CheckServerLimits shows that srv, made with the limits want, lets go of
// the connections a slow or idle client would hold: an idle keep-alive
// connection is closed after want.Idle (before want.Read, which a missing
// IdleTimeout falls back to), a request whose body stalls is cut off
// after want.Read, and headers over want.MaxHeaderBytes are refused with
// 431. It serves srv on a loopback port with a handler of its own, which
// reads the body and answers 200. Choose short limits, Idle well under
// Read and Read about a second, so that the test waits for nothing long.
func CheckServerLimits(t *testing.T, srv *http.Server, want Limits) {
	t.Helper()
	if want.Idle <= 0 || want.Read < 4*want.Idle || want.Read > 2*time.Second || want.MaxHeaderBytes <= 0 {
		t.Fatalf("CheckServerLimits wants short limits with Idle well under Read: %+v", want)
	}
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
			return
		}
		io.WriteString(w, "ok")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	dial := func(t *testing.T) (net.Conn, *bufio.Reader) {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	}
	// closedWithin reads from c until the server closes it, and fails the
	// test unless that happens within d of start.
	closedWithin := func(t *testing.T, what string, c net.Conn, r *bufio.Reader, start time.Time, d time.Duration) {
		t.Helper()
		c.SetReadDeadline(start.Add(d + 3*time.Second))
		_, err := io.Copy(io.Discard, r)
		took := time.Since(start)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("%s: the connection was still open after %v", what, took.Round(time.Millisecond))
		}
		if took > d {
			t.Errorf("%s: closed after %v, want within %v", what, took.Round(time.Millisecond), d)
		}
	}

	t.Run("idle keep-alive", func(t *testing.T) {
		c, r := dial(t)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n")
		res, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Close {
			t.Fatalf("first request: %d, close=%v; want 200 on a kept-alive connection", res.StatusCode, res.Close)
		}
		// Now idle: the server must hang up after Idle, well before Read.
		closedWithin(t, "idle connection", c, r, time.Now(), (want.Idle+want.Read)/2)
	})

	t.Run("slow body", func(t *testing.T) {
		c, r := dial(t)
		start := time.Now()
		io.WriteString(c, "POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length: 1000\r\n\r\nthe first bytes of a body that never ends")
		// An answer (400) may come first; then the server must hang up.
		closedWithin(t, "stalled body", c, r, start, want.Read+want.Read/2)
	})

	t.Run("header size", func(t *testing.T) {
		c, r := dial(t)
		// net/http allows 4096 bytes over MaxHeaderBytes.
		big := strings.Repeat("a", want.MaxHeaderBytes+8192)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: example.test\r\nX-Big: "+big+"\r\n\r\n")
		res, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("%d bytes of headers: %d, want 431", len(big), res.StatusCode)
		}
	})
}
