// Command accounts is "team notes" on the account API: people sign up,
// confirm their address from a mailed link, log in (a page, or JSON for a
// single-page or mobile client), keep notes, see and end their sessions
// and devices, turn on two-step verification (an authenticator app and
// recovery codes), add passkeys and log in with them, change their password or address, and delete their
// account. All the account routes are gatehouse's package account; the
// app writes its notes.
//
//	go run ./examples/accounts [-addr 127.0.0.1:8090] [-redis host:port]
//
// Mail is printed to the log: follow the links from there.
package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gatehouse-go/gatehouse/account"
	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/passkey"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

func main() {
	serveApp("127.0.0.1:8090", func(st store.Store, tagKey []byte, a net.Addr) (http.Handler, error) {
		base := "http://" + a.String()
		if !loopback(a) {
			base = "https://" + a.String() // behind TLS: use your public URL here
		}
		return newApp(appConfig{store: st, tagKey: tagKey, secure: !loopback(a), mailer: logMailer{pages: base + "/account"},
			logger: slog.Default(), passkeyOrigin: passkeyOrigin(a)})
	}, func(url, storeInfo string) {
		fmt.Printf(`team notes listening on %[1]s

  Browser:  open %[1]s/account/signup, then follow the link printed below
            (passkeys need a host name: on this machine use http://localhost:<port>)
  API:      curl -s -X POST %[1]s/api/account/signup -H 'Content-Type: application/json' \
              -d '{"email":"you@example.com","password":"a long passphrase of yours"}'

Tokens: %[2]s. Ctrl-C stops it.
`, url, storeInfo)
	})
}

type appConfig struct {
	store      store.Store
	tagKey     []byte // tokens.Config.TagKey: a shared secret of 32+ bytes
	secure     bool   // cookies only over HTTPS (off on loopback HTTP)
	mailer     auth.Mailer
	users      *account.MemoryUsers // nil: a new, empty table
	logger     *slog.Logger
	bcryptCost int // 0: the library default
	// passkeyOrigin is the origin browsers open the pages at, such as
	// "https://notes.example.com" or "http://localhost:8090": passkeys are
	// bound to its host. "" leaves passkeys off.
	passkeyOrigin string
}

// passkeyOrigin is where a browser opens an app listening on a: WebAuthn
// takes a host name, never an IP address, so a loopback address is
// "localhost" (a secure context over plain HTTP), and another address
// gets no passkeys (behind TLS: use your public URL here).
func passkeyOrigin(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsLoopback() {
		return ""
	}
	return "http://localhost:" + strconv.Itoa(tcp.Port)
}

// newApp wires gatehouse: the store's tokens, the authenticator over the
// user table, the session cookie and its guard, and the account API and
// pages. This is all the auth code the app has.
func newApp(cfg appConfig) (http.Handler, error) {
	users := cfg.users
	if users == nil {
		users = account.NewMemoryUsers()
	}
	tm, err := tokens.New(tokens.Config{Store: cfg.store, TagKey: cfg.tagKey})
	if err != nil {
		return nil, err
	}
	// Second factors: TOTP and recovery codes, their secrets sealed with
	// a key of the app's (a real app loads a fixed one from its secrets,
	// and keeps the sealed factors in its database, not in memory).
	sealKey := make([]byte, 32)
	rand.Read(sealKey)
	ring, err := mfa.NewKeyring(mfa.SealingKey{ID: "1", Secret: sealKey})
	if err != nil {
		return nil, err
	}
	// Passkeys: one Manager is a login of its own (auth's Passwordless),
	// a second factor (mfa's Passkeys) and the account's list. The RP ID
	// is the host the browser opens; a real app keeps the credentials in
	// its database.
	var pk *passkey.Manager
	var pkFactor mfa.Passkeys
	var pkLogin auth.Passwordless
	if cfg.passkeyOrigin != "" {
		u, err := url.Parse(cfg.passkeyOrigin)
		if err != nil {
			return nil, err
		}
		pk, err = passkey.New(passkey.Config{RPID: u.Hostname(), RPDisplayName: "Team Notes", Origins: []string{cfg.passkeyOrigin},
			Tokens: tm, Credentials: new(mfa.MemoryFactors), Logger: cfg.logger})
		if err != nil {
			return nil, err
		}
		pkFactor, pkLogin = pk, pk
	}
	factors, err := mfa.New(mfa.Config{Store: cfg.store, Factors: new(mfa.MemoryFactors), Keyring: ring,
		Issuer: "Team Notes", Logger: cfg.logger, Passkeys: pkFactor})
	if err != nil {
		return nil, err
	}
	// HideUnconfirmed: a login of an unconfirmed account answers as a
	// wrong password, or signup followed by login would tell who has one.
	// SecondFactor: a login of an account with an authenticator app asks
	// for its code before any session is issued.
	authn, err := auth.New(auth.Config{Users: users, Tokens: tm, Counters: cfg.store, Mailer: cfg.mailer,
		HideUnconfirmed: true, BcryptCost: cfg.bcryptCost, Logger: cfg.logger, SecondFactor: factors, Passwordless: pkLogin})
	if err != nil {
		return nil, err
	}
	// A real app loads a fixed key from its secrets, shared by instances.
	cookieKey := make([]byte, 32)
	rand.Read(cookieKey)
	name := "notes"
	if cfg.secure {
		name = "__Host-notes"
	}
	cookies, err := middleware.NewCookies(middleware.CookieConfig{Name: name, HashKey: cookieKey, InsecureAllowHTTP: !cfg.secure})
	if err != nil {
		return nil, err
	}
	// Remember brings back a browser that ticked "keep me signed in" when
	// its session ends, from a remember-me cookie rotated on each use.
	guard, err := middleware.NewGuard(middleware.GuardConfig{Tokens: tm, Cookies: cookies, Logger: cfg.logger,
		Remember: authn.RememberMe(auth.RememberOptions{})})
	if err != nil {
		return nil, err
	}
	acct, err := account.New(account.Config{Auth: authn, Tokens: tm, Guard: guard, Users: users, Mailer: cfg.mailer,
		Cookies: cookies, PagesPath: "/account", RememberMe: true, MFA: factors, Passkeys: pk, Logger: cfg.logger})
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.Handle("/api/account/", http.StripPrefix("/api/account", acct.API()))
	mux.Handle("/account/", http.StripPrefix("/account", acct.Pages()))
	mux.Handle("GET /{$}", http.RedirectHandler("/account/", http.StatusSeeOther))
	notes := newNotes()
	mux.Handle("GET /api/notes", guard.Handler(http.HandlerFunc(notes.list)))
	mux.Handle("POST /api/notes", guard.Handler(http.HandlerFunc(notes.add)))
	return mux, nil
}

// logMailer prints each message to the log, with the link a real mail
// would carry (account.PageLink): the demo's stand-in for a mail service.
type logMailer struct{ pages string }

func (m logMailer) Send(_ context.Context, msg auth.Message) error {
	line := fmt.Sprintf("mail to %s: %s", msg.To, msg.Purpose)
	if link := account.PageLink(m.pages, msg); link != "" {
		line += " " + link
	}
	log.Print(line)
	return nil
}
