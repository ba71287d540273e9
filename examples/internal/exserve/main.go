package exserve

import (
	"flag"
	"log"
	"net"
	"net/http"

	"github.com/gatehouse-go/gatehouse/examples/internal/exstore"
	"github.com/gatehouse-go/gatehouse/store"
)

// App builds an example's handler on its store, for the address it
// listens on.
type App func(st store.Store, a net.Addr) (http.Handler, error)

// Main is an example's whole main function: the -addr flag (default addr)
// and -redis (see exstore), the store, then Run. banner gets the base URL
// and a line saying where the tokens live. It exits the program on error.
func Main(addr string, app App, banner func(baseURL, storeInfo string)) {
	listen := flag.String("addr", addr, "address to listen on")
	redisSpec := exstore.Flag()
	flag.Parse()

	st, closeStore, storeInfo, err := exstore.Open(*redisSpec)
	if err != nil {
		log.Fatal(err)
	}
	err = Run(*listen, func(a net.Addr) (http.Handler, error) { return app(st, a) },
		func(url string) { banner(url, storeInfo) })
	closeStore()
	if err != nil {
		log.Fatal(err)
	}
}
