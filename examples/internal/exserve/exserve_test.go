package exserve

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunServesUntilSIGTERM(t *testing.T) {
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run("127.0.0.1:0", func(a net.Addr) (http.Handler, error) {
			if !Loopback(a) {
				t.Errorf("127.0.0.1 is not loopback: %v", a)
			}
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") }), nil
		}, func(url string) { urls <- url })
	}()
	url := <-urls
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("banner URL %q", url)
	}
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "hello" {
		t.Errorf("got %q", b)
	}
	syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run still serving 10 s after SIGTERM")
	}
}

func TestRunErrors(t *testing.T) {
	if err := Run("256.0.0.1:0", nil, nil); err == nil {
		t.Error("listened on a bad address")
	}
	boom := errors.New("boom")
	if err := Run("127.0.0.1:0", func(net.Addr) (http.Handler, error) { return nil, boom }, func(string) { t.Error("banner after a failed app") }); !errors.Is(err, boom) {
		t.Errorf("Run = %v, want the app's error", err)
	}
}

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:1": true, "[::1]:1": true, "0.0.0.0:1": false, "192.0.2.1:1": false} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := Loopback(a); got != want {
			t.Errorf("Loopback(%s) = %v", addr, got)
		}
	}
	if Loopback(&net.UnixAddr{Name: "x"}) {
		t.Error("a Unix socket counted as loopback")
	}
}
