// This file is how the example runs: the -addr, -redis and -tag-key
// flags, the store (memory, or Redis when -redis names one) and a server
// with timeouts that stops gracefully on SIGINT or SIGTERM: the few lines
// an app writes around net/http, store/memory and store/redis. It is this
// example's own copy, so that the example can be copied alone as the
// start of an app; the other examples have theirs, and `duplicates` flags
// the copies on purpose.

package main

import (
	"context"
	"crypto/rand"
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

// serveApp is the whole of main: it reads -addr (default addr), -redis
// and -tag-key, opens the store, listens, builds the app with newApp for
// the store, the routing-tag key (tokens.Config.TagKey) and the address it
// listens on, calls banner with the base URL ("http://host:port") and a
// line saying where the tokens live, and serves until SIGINT or SIGTERM.
// It exits the program on error.
func serveApp(addr string, newApp func(st store.Store, tagKey []byte, a net.Addr) (http.Handler, error), banner func(baseURL, storeInfo string)) {
	listen := flag.String("addr", addr, "address to listen on")
	redisSpec := flag.String("redis", "", "keep tokens in Redis instead of memory: host:port or redis://host:port[/db] (one server), "+
		"host:port,host:port,... or cluster://host:port (Cluster seeds), or sentinel://master@host:port[,host:port...]")
	tagKey := flag.String("tag-key", os.Getenv("GATEHOUSE_TAG_KEY"), "the routing-tag key (tokens.Config.TagKey): a secret of 32 or more bytes, "+
		"the same on every instance, such as the output of `openssl rand -base64 32`; default $GATEHOUSE_TAG_KEY, "+
		"and a random key for this run when the server listens on loopback only")
	flag.Parse()

	st, closeStore, storeInfo, err := openStore(*redisSpec)
	if err != nil {
		log.Fatal(err)
	}
	err = listenAndServe(*listen, func(a net.Addr) (http.Handler, error) {
		key, err := routingTagKey(*tagKey, a)
		if err != nil {
			return nil, err
		}
		return newApp(st, key, a)
	}, func(url string) { banner(url, storeInfo) })
	closeStore()
	if err != nil {
		log.Fatal(err)
	}
}

// routingTagKey returns the key of -tag-key or GATEHOUSE_TAG_KEY. Without
// one, a server that listens on loopback only (a demo on this machine)
// gets a random key for this run, with a warning; any other refuses to
// start, because instances that share a store must share the key, and a
// key made up per process breaks "log out everywhere" across them.
func routingTagKey(key string, a net.Addr) ([]byte, error) {
	if key != "" {
		return []byte(key), nil
	}
	if !loopback(a) {
		return nil, errors.New("set -tag-key or GATEHOUSE_TAG_KEY: a secret of 32 or more bytes " +
			"(openssl rand -base64 32), the same on every instance of the app")
	}
	log.Print("warning: no -tag-key or GATEHOUSE_TAG_KEY: using a random routing-tag key for this run. " +
		"Every instance that shares a store must share one key: set it before running more than one.")
	return []byte(rand.Text() + rand.Text()), nil // 52 characters, 260 random bits
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

// serverLimits bound what one connection may hold: without them a client
// that sends its body slowly, or keeps a connection open and idle, holds
// a file descriptor and a goroutine for as long as it likes, and a few
// thousand such clients starve the logins of everyone else.
type serverLimits struct {
	readHeader time.Duration // to read the request line and headers
	read       time.Duration // to read the whole request, body included
	write      time.Duration // from the end of the headers to the end of the answer
	idle       time.Duration // a keep-alive connection waiting for its next request
	maxHeader  int           // bytes of request line and headers
}

// defaultLimits are this example's, and docs/settings.md's advice: a
// login form or a JSON body arrives in well under 10 s, and the slowest
// answer (a login waiting for its turn to hash) is sent in under 30 s.
var defaultLimits = serverLimits{
	readHeader: 5 * time.Second,
	read:       10 * time.Second,
	write:      30 * time.Second,
	idle:       60 * time.Second,
	maxHeader:  16 << 10,
}

// newHTTPServer returns the server for h with the limits l.
func newHTTPServer(h http.Handler, l serverLimits) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.readHeader,
		ReadTimeout:       l.read,
		WriteTimeout:      l.write,
		IdleTimeout:       l.idle,
		MaxHeaderBytes:    l.maxHeader,
	}
}

// listenAndServe listens on addr, builds the handler with newApp for the
// address it listens on, calls banner with the base URL and serves, with
// defaultLimits, until SIGINT or SIGTERM; then it gives open requests 5
// seconds to finish and returns nil.
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

	srv := newHTTPServer(h, defaultLimits)
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
