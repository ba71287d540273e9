// Command devices serves seed 002: a mobile-style API where a password
// login can also return a re-authentication token for the device, good
// for 30 days and rotated on every use, so the app signs the user back in
// without keeping the password. Every call carries the app's APIKey in the
// query; responses can be trimmed with fields and forced to 200 with
// suppressResponseCodes.
//
//	go run ./examples/devices [-addr 127.0.0.1:8083] [-redis redis://127.0.0.1:6379]
package main

import (
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

func main() {
	serveApp("127.0.0.1:8083", func(st store.Store, tagKey []byte, a net.Addr) (http.Handler, error) {
		return newApp(config{store: st, tagKey: tagKey})
	}, func(url, storeInfo string) {
		fmt.Printf(`devices example (seed 002) listening on %[1]s

  curl -s -X POST '%[1]s/api/v1/Authentication/Login?APIKey=%[2]s' \
    -H 'Content-Type: application/json' \
    -d '{"userName":"ada","password":"%[3]s","deviceName":"phone","generateReAuthenticationToken":true}'

  then: curl -s '%[1]s/api/v1/Users/Me?APIKey=%[2]s&APIToken=<SessionToken>'
  (more in examples/devices/README.md; %[4]s)
`, url, demoAPIKey, demoPassword, storeInfo)
	})
}

type config struct {
	store store.Store
	now   func() time.Time // default time.Now; give the store the same clock
	// tagKey is tokens.Config.TagKey, the routing-tag key: required, a
	// secret of 32 or more bytes that every instance shares (serve.go reads
	// it from -tag-key or GATEHOUSE_TAG_KEY).
	tagKey []byte
	// hasher checks passwords and hashes the demo user's at start-up;
	// default bcrypt at cost 10. Tests inject a cheap one.
	hasher password.Hasher
	// logger reports internal errors and reused tokens; default
	// log.Default().
	logger *log.Logger
}

// demoAPIKey is the app's key: the APIKey query parameter of every call.
const demoAPIKey = "demo-api-key"

func newApp(cfg config) (http.Handler, error) {
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.logger == nil {
		cfg.logger = log.Default()
	}
	hasher := cfg.hasher
	if hasher == nil {
		hasher = password.Bcrypt{Cost: 10}
	}
	dir, err := newDirectory(hasher)
	if err != nil {
		return nil, err
	}
	// Device tokens last 30 days from each use, their chain 90 days from
	// the password login: the defaults, spelled out.
	tm, err := tokens.New(tokens.Config{
		Store:          cfg.store,
		Now:            cfg.now,
		TagKey:         cfg.tagKey,
		DeviceTTL:      30 * 24 * time.Hour,
		DeviceChainTTL: 90 * 24 * time.Hour,
	})
	if err != nil {
		return nil, err
	}
	authn, err := auth.New(auth.Config{Users: dir, Tokens: tm, Counters: cfg.store, Hasher: hasher, Now: cfg.now})
	if err != nil {
		return nil, err
	}
	// Logins are rate limited inside auth; the other routes anyone may
	// call take the same store's limits here, per client address.
	limits, err := limit.New(limit.Config{Store: cfg.store, Now: cfg.now})
	if err != nil {
		return nil, err
	}
	s := &server{authn: authn, limits: limits, tokens: tm, dir: dir, now: cfg.now, logger: cfg.logger}
	apps, err := middleware.NewApps(middleware.AppsConfig{
		Credentials: []middleware.AppCredential{{ID: "demo", Secret: demoAPIKey}},
		Source:      apiKey,
		Deny:        func(w http.ResponseWriter, r *http.Request, err error) { s.fail(w, r, err) },
	})
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/Authentication/Login", s.login)
	mux.HandleFunc("POST /api/v1/Authentication/ReAuthenticate", s.limited(limit.Login, s.reAuthenticate))
	mux.HandleFunc("POST /api/v1/Authentication/Logout", s.authed(s.logout))
	mux.HandleFunc("GET /api/v1/Users/Me", s.authed(s.me))
	mux.HandleFunc("GET /api/v1/Users/Me/Devices", s.authed(s.devices))
	mux.HandleFunc("DELETE /api/v1/Users/Me/Devices/{deviceName}", s.authed(s.revokeDevice))
	return apps.Handler(withFallback(mux, s.fail)), nil
}

// apiKey reads the APIKey query parameter, its name in any case, as the
// seed's API does.
func apiKey(r *http.Request) (middleware.AppCredential, bool) {
	key := queryValue(r, "APIKey")
	return middleware.AppCredential{ID: "demo", Secret: key}, key != ""
}
