package auth_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/password"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/clientaddr"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// TestLoginsRateLimitedPerClient: by default one client gets 100 logins
// in a burst, then one every 6 s; past that a login is 429 rate_limited
// before any lookup or hash, the same for known and unknown users, and
// other clients are untouched.
func TestLoginsRateLimitedPerClient(t *testing.T) {
	f := newFixture(t, auth.Config{})
	flooder := netip.MustParsePrefix("198.51.100.7/32")
	login := func(client netip.Prefix, name string) error {
		_, err := f.a.Login(ctx, auth.Credentials{Login: name, Password: rightPassword, Client: client}, "")
		return err
	}
	for i := range 100 {
		if err := login(flooder, "john_doe"); err != nil {
			t.Fatalf("login %d of the burst: %v", i+1, err)
		}
	}
	compares := f.hasher.Compares.Load()
	known, unknown := login(flooder, "john_doe"), login(flooder, "nobody")
	if !errors.Is(known, limit.ErrLimited) || problem.Of(known) != problem.Of(unknown) {
		t.Fatalf("past the burst: known %v, unknown %v; want the same rate_limited", known, unknown)
	}
	if p := problem.Of(known); p.Status != 429 || p.Code != "rate_limited" || p.RetryAfter != 6*time.Second {
		t.Fatalf("problem %+v, want 429 rate_limited after 6s", p)
	}
	if n := f.hasher.Compares.Load() - compares; n != 0 {
		t.Fatalf("%d password checks for rate-limited logins, want 0", n)
	}
	if err := login(netip.MustParsePrefix("192.0.2.50/32"), "john_doe"); err != nil {
		t.Fatalf("another client: %v", err)
	}
	f.clock.Advance(6 * time.Second)
	if err := login(flooder, "john_doe"); err != nil {
		t.Fatalf("after 6 s: %v", err)
	}
	if _, err := auth.New(auth.Config{Users: f.users, Tokens: f.tokens, Counters: f.store, Limiter: &limit.Limiter{}, NoRateLimits: true}); err == nil {
		t.Error("New accepted both a Limiter and NoRateLimits")
	}
}

// TestResetForUnknownAddressStoresNothing is attack 1 of issue 14 at its
// root: a reset request for an address of no account leaves nothing in
// the store, so a flood of them cannot fill it (before: one counter each,
// for an hour).
func TestResetForUnknownAddressStoresNothing(t *testing.T) {
	f, mail := resetFixture(t, auth.Config{NoRateLimits: true, ResetMinDuration: -1})
	mem := f.store.Store.(*memory.Store)
	before := mem.Len()
	for i := range 500 {
		if err := f.a.RequestPasswordReset(ctx, "nobody"+string(rune('a'+i%26))+"@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	if n := mem.Len() - before; n != 0 {
		t.Fatalf("500 resets for unknown addresses left %d entries in the store, want 0", n)
	}
	if err := f.a.RequestPasswordReset(ctx, "john_doe@domain.com"); err != nil || len(mail.Messages()) != 1 {
		t.Fatalf("a known address: %v, %d messages", err, len(mail.Messages()))
	}
}

// TestFullStoreIsNoOracle is attack 2 of issue 14: once the store is full
// (refusing writes, answering reads), a reset for an address with an
// account used to answer 503 store_full and one for an address without
// none, 200. Both now return nil; the operator sees store.unavailable.
func TestFullStoreIsNoOracle(t *testing.T) {
	f := newFixture(t, auth.Config{})
	mem := memory.New(memory.Options{MaxRecords: 10, MaxCounters: 10})
	t.Cleanup(func() { mem.Close() })
	tm, err := tokens.New(tokens.Config{Store: mem, TagKey: testfix.TagKey})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	a, err := auth.New(auth.Config{Users: f.users, Tokens: tm, Counters: mem, Hasher: f.hasher, Mailer: &authtest.Outbox{},
		ResetMinDuration: -1, NoRateLimits: true, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; mem.Len() < 10; i++ {
		if _, err := mem.Hit(ctx, fmt.Sprint("filler-", i), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	known := a.RequestPasswordReset(ctx, "john_doe@domain.com")
	unknown := a.RequestPasswordReset(ctx, "nobody@domain.com")
	if known != nil || unknown != nil {
		t.Fatalf("full store: known address %v, unknown %v; want nil for both", known, unknown)
	}
	if !strings.Contains(logs.String(), `"event":"store.unavailable"`) {
		t.Fatalf("no store.unavailable event for the operator: %s", logs.String())
	}
}

// TestLoginHandlerBehindAProxy: with a clientaddr.Resolver as the
// handler's Client, a peer that is no trusted proxy is limited as itself
// whatever X-Forwarded-For it sends; clients forwarded by the trusted
// proxy are limited apart; junk from the proxy is 400 invalid_forwarded
// and checks no password.
func TestLoginHandlerBehindAProxy(t *testing.T) {
	f := newFixture(t, auth.Config{NoRateLimits: true})
	lim, err := limit.New(limit.Config{Store: f.store, Now: f.clock.Now,
		Policies: map[limit.Class]limit.Policy{limit.Login: {PerClient: store.Rate{Interval: time.Minute, Burst: 2}}}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(auth.Config{Users: f.users, Tokens: f.tokens, Counters: f.store, Hasher: f.hasher, Limiter: lim, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	res := clientaddr.MustNew(clientaddr.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	h := a.LoginHandler(auth.HandlerOptions{Client: res.Client})
	do := func(remote, xff string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/login", strings.NewReader(`{"username":"john_doe","password":"`+rightPassword+`"}`))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr, r.Header["X-Forwarded-For"] = remote, []string{xff}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for i, want := range []int{200, 200, 429, 429} {
		if w := do("198.51.100.7:1", fmt.Sprintf("192.0.2.%d", i)); w.Code != want {
			t.Fatalf("spoofing peer, request %d: %d %s, want %d", i+1, w.Code, w.Body, want)
		}
	}
	for i := range 4 {
		if w := do("10.0.0.9:1", fmt.Sprintf("192.0.2.%d", 100+i)); w.Code != 200 {
			t.Fatalf("forwarded client %d: %d %s", i, w.Code, w.Body)
		}
	}
	compares := f.hasher.Compares.Load()
	if w := do("10.0.0.9:1", "not-an-address"); w.Code != 400 || !strings.Contains(w.Body.String(), "invalid_forwarded") {
		t.Fatalf("junk from the trusted proxy: %d %s", w.Code, w.Body)
	}
	if f.hasher.Compares.Load() != compares {
		t.Fatal("a password was checked for a request whose client is unknown")
	}
}

// TestHashPasswordTakesItsTurn: an app hashing a new password through the
// Authenticator waits for a hashing slot like a login, and is answered
// busy when none comes, so sign-ups cannot take the cores logins need.
func TestHashPasswordTakesItsTurn(t *testing.T) {
	f := newFixture(t, auth.Config{MaxConcurrentHashes: 1, HashWait: 20 * time.Millisecond})
	f.hasher.Block = make(chan struct{})
	held := make(chan error, 1)
	go func() {
		_, err := f.a.Login(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword, Client: netip.MustParsePrefix("192.0.2.1/32")}, "")
		held <- err
	}()
	for f.hasher.Compares.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	if _, err := f.a.HashPassword(ctx, "a new password", netip.MustParsePrefix("192.0.2.2/32")); !errors.Is(err, password.ErrBusy) {
		t.Fatalf("HashPassword with the slot taken: %v, want password.ErrBusy", err)
	}
	close(f.hasher.Block)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	h, err := f.a.HashPassword(ctx, "a new password", netip.Prefix{})
	if err != nil || f.hasher.Bcrypt.Compare(h, []byte("a new password")) != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	if _, err := f.a.HashPassword(ctx, strings.Repeat("x", 73), netip.Prefix{}); !errors.Is(err, password.ErrTooLong) {
		t.Fatalf("73 bytes: %v", err)
	}
}
