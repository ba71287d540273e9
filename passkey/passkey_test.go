package passkey_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/internal/storefault"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/passkey"
	"github.com/gatehouse-go/gatehouse/passkey/passkeytest"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

var start = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)

const (
	rpID   = "example.com"
	origin = "https://example.com"
)

type env struct {
	m     *passkey.Manager
	tm    *tokens.Manager
	creds *mfa.MemoryFactors
	clock *fakeclock.Clock
	auth  *passkeytest.Authenticator
	cfg   passkey.Config
}

func newEnv(t testing.TB, st store.Store, clock *fakeclock.Clock, edit func(*passkey.Config)) *env {
	t.Helper()
	tm, err := tokens.New(tokens.Config{Store: st, Now: clock.Now, TagKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{tm: tm, creds: new(mfa.MemoryFactors), clock: clock, auth: passkeytest.New(origin)}
	e.cfg = passkey.Config{RPID: rpID, RPDisplayName: "Example", Origins: []string{origin},
		Tokens: tm, Credentials: e.creds, Now: clock.Now}
	if edit != nil {
		edit(&e.cfg)
	}
	m, err := passkey.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	return e
}

// eachStore runs f on memory, Redis and Redis Cluster, with a fake clock
// shared by the token store and the manager.
func eachStore(t *testing.T, edit func(*passkey.Config), f func(t *testing.T, e *env)) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			clock := fakeclock.New(start)
			f(t, newEnv(t, sf.Open(t, clock.Now), clock, edit))
		})
	}
}

// memEnv is an env on the memory store only.
func memEnv(t *testing.T, edit func(*passkey.Config)) *env {
	clock := fakeclock.New(start)
	return newEnv(t, teststores.All()[0].Open(t, clock.Now), clock, edit)
}

// register adds a passkey for subject and returns its key.
func (e *env) register(t testing.TB, subject string, opts ...passkeytest.Option) *passkeytest.Key {
	t.Helper()
	ctx := context.Background()
	o, err := e.m.BeginRegistration(ctx, subject, subject+"@example.com", "")
	ok(t, "BeginRegistration", err)
	resp, k, err := e.auth.Register(o, opts...)
	ok(t, "Register", err)
	_, err = e.m.FinishRegistration(ctx, subject, resp, "laptop")
	ok(t, "FinishRegistration", err)
	return k
}

// login answers a second-factor login of subject with k.
func (e *env) login(t testing.TB, subject string, k *passkeytest.Key, opts ...passkeytest.Option) (passkey.Result, error) {
	t.Helper()
	ctx := context.Background()
	o, err := e.m.BeginLogin(ctx, subject)
	ok(t, "BeginLogin", err)
	resp, err := e.auth.Login(o, k, opts...)
	ok(t, "Login", err)
	return e.m.FinishLogin(ctx, subject, resp)
}

func ok(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// is checks err is want and that its problem code is want's.
func is(t testing.TB, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
	if got, w := problem.Of(err).Code, problem.Of(want).Code; got != w {
		t.Fatalf("%s: code %q, want %q", what, got, w)
	}
}

// TestCeremonies: a passkey registers, passes a second-factor login and a
// passwordless one, on every store; the counter and LastUsed follow.
func TestCeremonies(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		ctx := t.Context()
		for _, alg := range []int{passkeytest.ES256, passkeytest.EdDSA, passkeytest.RS256} {
			e.clock.Advance(time.Minute)
			subject := "u:" + string(rune('a'+(-alg)%26))
			k := e.register(t, subject, passkeytest.WithAlgorithm(alg))
			list, err := e.m.List(ctx, subject)
			ok(t, "List", err)
			if len(list) != 1 || list[0].ID != k.IDString() || list[0].Algorithm != alg || list[0].Nickname != "laptop" ||
				!list[0].Created.Equal(e.clock.Now()) || !list[0].BackupEligible || len(list[0].Transports) != 2 {
				t.Fatalf("List = %+v", list)
			}
			e.clock.Advance(time.Second)
			res, err := e.login(t, subject, k)
			ok(t, "FinishLogin", err)
			if !res.UserVerified || res.Credential.SignCount != 1 || !res.Credential.LastUsed.Equal(e.clock.Now()) {
				t.Fatalf("Result = %+v", res)
			}
			o, err := e.m.BeginPasswordless(ctx)
			ok(t, "BeginPasswordless", err)
			if bytes.Contains(o, []byte("allowCredentials")) {
				t.Fatalf("passwordless options list credentials: %s", o)
			}
			resp, err := e.auth.Login(o, k)
			ok(t, "Login", err)
			who, res, err := e.m.FinishPasswordless(ctx, resp)
			ok(t, "FinishPasswordless", err)
			if who != subject || res.Credential.SignCount != 2 {
				t.Fatalf("FinishPasswordless = %q, %+v", who, res)
			}
			has, err := e.m.HasPasskeys(ctx, subject)
			if err != nil || !has {
				t.Fatalf("HasPasskeys = %v, %v", has, err)
			}
		}
	})
}

// TestOptions: the options say what the server will check.
func TestOptions(t *testing.T) {
	e := memEnv(t, nil)
	ctx := t.Context()
	k := e.register(t, "u:1")
	o, err := e.m.BeginRegistration(ctx, "u:1", "u1@example.com", "U One")
	ok(t, "BeginRegistration", err)
	for _, want := range []string{`"residentKey":"required"`, `"userVerification":"required"`, `"excludeCredentials":[{"type":"public-key","id":"` + k.IDString(),
		`"alg":-7`, `"alg":-8`, `"alg":-257`, `"id":"example.com"`, `"timeout":300000`, `"attestation":"none"`} {
		if !bytes.Contains(o, []byte(want)) {
			t.Errorf("creation options lack %s: %s", want, o)
		}
	}
	ch, err := passkeytest.ChallengeOf(o)
	if err != nil || tokens.KindOf(ch) != store.KindChallenge {
		t.Errorf("challenge %q is not a challenge token: %v", ch, err)
	}
	o, err = e.m.BeginLogin(ctx, "u:1")
	ok(t, "BeginLogin", err)
	for _, want := range []string{`"allowCredentials":[{"type":"public-key","id":"` + k.IDString(), `"userVerification":"required"`, `"rpId":"example.com"`} {
		if !bytes.Contains(o, []byte(want)) {
			t.Errorf("request options lack %s: %s", want, o)
		}
	}
	_, err = e.m.BeginLogin(ctx, "u:none")
	is(t, "BeginLogin without passkeys", err, passkey.ErrNotFound)
	_, err = e.m.BeginRegistration(ctx, string(bytes.Repeat([]byte{'x'}, 65)), "x", "")
	if !errors.Is(err, passkey.ErrInvalidSubject) {
		t.Errorf("subject of 65 bytes: %v", err)
	}
}

// TestConfig: New refuses what cannot work or is unsafe.
func TestConfig(t *testing.T) {
	clock := fakeclock.New(start)
	base := newEnv(t, teststores.All()[0].Open(t, clock.Now), clock, nil).cfg
	for name, edit := range map[string]func(*passkey.Config){
		"no tokens":          func(c *passkey.Config) { c.Tokens = nil },
		"no credentials":     func(c *passkey.Config) { c.Credentials = nil },
		"no RP ID":           func(c *passkey.Config) { c.RPID = "" },
		"RP ID with scheme":  func(c *passkey.Config) { c.RPID = "https://example.com" },
		"RP ID with port":    func(c *passkey.Config) { c.RPID = "example.com:443" },
		"RP ID an IP":        func(c *passkey.Config) { c.RPID = "192.0.2.1" },
		"no name":            func(c *passkey.Config) { c.RPDisplayName = "" },
		"no origins":         func(c *passkey.Config) { c.Origins = nil },
		"http origin":        func(c *passkey.Config) { c.Origins = []string{"http://example.com"} },
		"foreign origin":     func(c *passkey.Config) { c.Origins = []string{"https://example.org"} },
		"suffix not sub":     func(c *passkey.Config) { c.Origins = []string{"https://badexample.com"} },
		"origin with path":   func(c *passkey.Config) { c.Origins = []string{"https://example.com/login"} },
		"unknown algorithm":  func(c *passkey.Config) { c.Algorithms = []int{-7, 42} },
		"empty algorithms":   func(c *passkey.Config) { c.Algorithms = []int{} },
		"negative max":       func(c *passkey.Config) { c.MaxCredentials = -1 },
		"tiny response":      func(c *passkey.Config) { c.MaxResponseBytes = 10 },
		"unknown UV setting": func(c *passkey.Config) { c.UserVerification = 9 },
	} {
		cfg := base
		edit(&cfg)
		if _, err := passkey.New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	for name, edit := range map[string]func(*passkey.Config){
		"localhost": func(c *passkey.Config) { c.RPID = "localhost"; c.Origins = []string{"http://localhost:8080"} },
		"subdomain": func(c *passkey.Config) { c.Origins = []string{"https://login.example.com", "https://example.com:8443"} },
		"ES256 only, UV": func(c *passkey.Config) {
			c.Algorithms = []int{passkey.AlgES256}
			c.UserVerification = passkey.UVPreferred
		},
	} {
		cfg := base
		edit(&cfg)
		if _, err := passkey.New(cfg); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestStoreDown: with the token store down every ceremony fails closed
// with an error wrapping store.ErrUnavailable (a 503), audited as
// store.unavailable; the passkey works again once it is back.
func TestStoreDown(t *testing.T) {
	var log logBuf
	clock := fakeclock.New(start)
	fault := storefault.Wrap(teststores.All()[0].Open(t, clock.Now))
	e := newEnv(t, fault, clock, withLog(&log))
	ctx := t.Context()
	k := e.register(t, "u:1")
	o, err := e.m.BeginLogin(ctx, "u:1")
	ok(t, "BeginLogin", err)
	resp, _ := e.auth.Login(o, k)
	fault.SetDown(true)
	log.events(t)
	_, err = e.m.FinishLogin(ctx, "u:1", resp)
	if !errors.Is(err, store.ErrUnavailable) || problem.Of(err).Status != 503 {
		t.Fatalf("FinishLogin with the store down: %v (%d)", err, problem.Of(err).Status)
	}
	if ev := log.events(t); len(ev) != 1 || ev[0]["event"] != "store.unavailable" {
		t.Fatalf("events %v", ev)
	}
	for name, f := range map[string]func() error{
		"BeginLogin":        func() error { _, err := e.m.BeginLogin(ctx, "u:1"); return err },
		"BeginPasswordless": func() error { _, err := e.m.BeginPasswordless(ctx); return err },
		"BeginRegistration": func() error { _, err := e.m.BeginRegistration(ctx, "u:1", "u1", ""); return err },
	} {
		if err := f(); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s with the store down: %v", name, err)
		}
	}
	fault.SetDown(false)
	_, err = e.login(t, "u:1", k)
	ok(t, "login once the store is back", err)
}

// TestLongSubject: a subject over 64 bytes cannot register a passkey, and
// has none: asking is no error, so auth may ask at every login.
func TestLongSubject(t *testing.T) {
	e := memEnv(t, nil)
	ctx := t.Context()
	long := strings.Repeat("s", 65)
	has, err := e.m.HasPasskeys(ctx, long)
	if has || err != nil {
		t.Fatalf("HasPasskeys = %v, %v", has, err)
	}
	_, err = e.m.BeginLogin(ctx, long)
	is(t, "BeginLogin", err, passkey.ErrNotFound)
	if _, err := e.m.BeginRegistration(ctx, long, "x", ""); !errors.Is(err, passkey.ErrInvalidSubject) {
		t.Fatalf("BeginRegistration: %v", err)
	}
	if _, err := e.m.FinishRegistration(ctx, long, []byte("{}"), ""); !errors.Is(err, passkey.ErrInvalidSubject) {
		t.Fatalf("FinishRegistration: %v", err)
	}
	if _, err := e.m.Has(ctx, ""); !errors.Is(err, passkey.ErrInvalidSubject) {
		t.Fatalf("Has(\"\"): %v", err)
	}
}

// TestOriginSlash: an origin configured with its trailing slash matches
// the browser's, which has none.
func TestOriginSlash(t *testing.T) {
	e := memEnv(t, func(c *passkey.Config) { c.Origins = []string{origin + "/"} })
	k := e.register(t, "u:1")
	_, err := e.login(t, "u:1", k)
	ok(t, "login", err)
}
