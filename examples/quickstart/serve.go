// This file is how the example runs: the -addr and -redis flags, the
// store (memory, or Redis when -redis names one) and a server that stops
// gracefully on SIGINT or SIGTERM: the few lines an app writes around
// net/http, store/memory and store/redis. It is this example's own copy,
// so that the example can be copied alone as the start of an app; the
// other examples have theirs, and `duplicates` flags the copies on
// purpose.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/store/redis"
)

// serveApp is the whole of main: it reads -addr (default addr) and
// -redis, opens the store, listens, builds the app with newApp for the
// address it listens on, calls banner with the base URL
// ("http://host:port") and a line saying where the tokens live, and serves
// until SIGINT or SIGTERM. It exits the program on error.
func serveApp(addr string, newApp func(st store.Store, a net.Addr) (http.Handler, error), banner func(baseURL, storeInfo string)) {
	listen := flag.String("addr", addr, "address to listen on")
	redisSpec := flag.String("redis", "", "keep tokens in Redis instead of memory: host:port or redis://host:port[/db] (one server), "+
		"host:port,host:port,... or cluster://host:port (Cluster seeds), or sentinel://master@host:port[,host:port...]")
	flag.Parse()

	st, closeStore, storeInfo, err := openStore(*redisSpec)
	if err != nil {
		log.Fatal(err)
	}
	err = listenAndServe(*listen, func(a net.Addr) (http.Handler, error) { return newApp(st, a) },
		func(url string) { banner(url, storeInfo) })
	closeStore()
	if err != nil {
		log.Fatal(err)
	}
}

// openStore returns the store spec names (memory when spec is empty), a
// function that releases it, and a line saying what it is. A Redis that
// does not answer is an error now rather than 503s later.
func openStore(spec string) (store.Store, func(), string, error) {
	if spec == "" {
		st := memory.New(memory.Options{})
		return st, func() { st.Close() }, "tokens in memory: restarting logs everyone out", nil
	}
	c, err := redis.NewClient(spec)
	if err != nil {
		return nil, nil, "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, nil, "", fmt.Errorf("redis %s: %w", spec, err)
	}
	st, err := redis.New(c, redis.Options{})
	if err != nil {
		c.Close()
		return nil, nil, "", err
	}
	return st, func() { c.Close() }, "tokens in Redis at " + spec, nil
}

// listenAndServe listens on addr, builds the handler with newApp for the
// address it listens on, calls banner with the base URL and serves, with a
// timeout for reading request headers, until SIGINT or SIGTERM; then it
// gives open requests 5 seconds to finish and returns nil.
func listenAndServe(addr string, newApp func(a net.Addr) (http.Handler, error), banner func(baseURL string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	h, err := newApp(ln.Addr())
	if err != nil {
		ln.Close()
		return err
	}
	banner("http://" + ln.Addr().String())

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

// loopback reports whether a server on a only listens on this machine,
// where plain HTTP is acceptable and a cookie cannot carry the Secure flag.
func loopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
