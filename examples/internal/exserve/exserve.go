// Package exserve is how the examples run: Main reads -addr and -redis and
// opens the store; Run listens, builds the app for the address it got,
// prints how to reach it, and serves until SIGINT or SIGTERM, then shuts
// down gracefully. It is the few lines an app of your own would write
// around net/http.
package exserve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Run listens on addr, builds the handler with newApp for the address it
// listens on, calls banner with the base URL ("http://host:port") and
// serves until SIGINT or SIGTERM. It returns nil after a clean shutdown.
func Run(addr string, newApp func(a net.Addr) (http.Handler, error), banner func(baseURL string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	h, err := newApp(ln.Addr())
	if err != nil {
		ln.Close()
		return err
	}
	banner(URL(ln.Addr()))
	return serve(ln, h)
}

// URL is the base URL of a server listening on a.
func URL(a net.Addr) string { return "http://" + a.String() }

// Loopback reports whether a server on a only listens on this machine,
// where plain HTTP is acceptable and a cookie cannot carry the Secure flag.
func Loopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// serve serves h on ln, with a timeout for reading request headers, until
// SIGINT or SIGTERM, then gives open requests 5 seconds to finish.
func serve(ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
