package tokens_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/storefault"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

type fixture struct {
	clock *fakeclock.Clock
	store *storefault.Store
	m     *tokens.Manager
}

func newFixture(t testing.TB, cfg tokens.Config) fixture {
	t.Helper()
	env := testfix.New(t, cfg)
	return fixture{env.Clock, env.Store, env.Tokens}
}

var ctx = context.Background()

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := tokens.New(tokens.Config{}); err == nil {
		t.Error("nil store accepted")
	}
	if _, err := tokens.New(tokens.Config{Store: memory.New(memory.Options{}), TagKey: testfix.TagKey, SessionTTL: -time.Second}); err == nil {
		t.Error("negative lifetime accepted")
	}
}

// TestNewRequiresSecretTagKey is finding 2 of issue 15: the routing tag's
// key was public by default, so anyone could tell from the tag in a token
// or a public verification id which guessable user id it belongs to. New
// now refuses a config without a key, or with one shorter than 32 bytes.
func TestNewRequiresSecretTagKey(t *testing.T) {
	mem := memory.New(memory.Options{})
	t.Cleanup(func() { mem.Close() })
	for name, key := range map[string][]byte{
		"none":     nil,
		"empty":    {},
		"31 bytes": []byte(strings.Repeat("k", tokens.MinTagKeyLen-1)),
	} {
		if _, err := tokens.New(tokens.Config{Store: mem, TagKey: key}); err == nil || !strings.Contains(err.Error(), "TagKey") {
			t.Errorf("%s: New = %v, want an error naming TagKey", name, err)
		}
	}
	if _, err := tokens.New(tokens.Config{Store: mem, TagKey: []byte(strings.Repeat("k", tokens.MinTagKeyLen))}); err != nil {
		t.Fatalf("a 32-byte key: %v", err)
	}
	// The key is the caller's: changing the slice afterwards changes nothing.
	key := []byte(strings.Repeat("x", 32))
	m2, _ := tokens.New(tokens.Config{Store: mem, TagKey: key})
	before := m2.Tag("u1")
	key[0] = 'y'
	if m2.Tag("u1") != before {
		t.Error("the Manager kept the caller's slice: its tags changed with it")
	}
}

func TestDefaultLifetimes(t *testing.T) {
	f := newFixture(t, tokens.Config{})
	for kind, want := range map[store.Kind]time.Duration{
		store.KindSession:      24 * time.Hour,
		store.KindLogin:        5 * time.Minute,
		store.KindDevice:       30 * 24 * time.Hour,
		store.KindVerification: 24 * time.Hour,
		store.KindReset:        time.Hour,
	} {
		if got := f.m.TTL(kind); got != want {
			t.Errorf("TTL(%s) = %v, want %v", kind, got, want)
		}
	}
}

func TestIssueValidateExpire(t *testing.T) {
	f := newFixture(t, tokens.Config{})
	iss, err := f.m.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u1", Project: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	if tokens.KindOf(iss.Token) != store.KindSession {
		t.Fatalf("token %q does not show its kind", iss.Token)
	}
	rec, err := f.m.Validate(ctx, store.KindSession, iss.Token)
	if err != nil || rec.Subject != "u1" || rec.Project != "p1" {
		t.Fatalf("Validate = %+v, %v", rec, err)
	}
	if _, err := f.m.Validate(ctx, store.KindLogin, iss.Token); !errors.Is(err, tokens.ErrWrongKind) {
		t.Errorf("session token validated as login token: %v", err)
	}
	f.clock.Advance(24*time.Hour - time.Millisecond)
	if _, err := f.m.Validate(ctx, store.KindSession, iss.Token); err != nil {
		t.Errorf("just before expiry: %v", err)
	}
	f.clock.Advance(time.Millisecond)
	if _, err := f.m.Validate(ctx, store.KindSession, iss.Token); !errors.Is(err, tokens.ErrInvalid) {
		t.Errorf("at expiry: %v, want ErrInvalid", err)
	}
}

func TestGarbageNeverReachesTheStore(t *testing.T) {
	f := newFixture(t, tokens.Config{})
	login, _ := f.m.Issue(ctx, store.KindLogin, tokens.Claims{Subject: "u1"})
	before := f.store.Calls()
	for _, tok := range []string{"", "x", "ghs_abcd_" + "!!!", login.Token, login.Token + "x"} {
		if _, err := f.m.Validate(ctx, store.KindSession, tok); err == nil {
			t.Errorf("Validate(%q) passed", tok)
		}
		if _, err := f.m.Consume(ctx, store.KindSession, tok); err == nil {
			t.Errorf("Consume(%q) passed", tok)
		}
	}
	if n := f.store.Calls() - before; n != 0 {
		t.Errorf("%d store calls for malformed or wrong-kind tokens, want 0", n)
	}
}

func TestConsumeOnceUnderRace(t *testing.T) {
	f := newFixture(t, tokens.Config{})
	iss, _ := f.m.Issue(ctx, store.KindLogin, tokens.Claims{Subject: "u1", Project: "p1"})
	var wins sync.WaitGroup
	start := make(chan struct{})
	results := make(chan error, 100)
	for range 100 {
		wins.Add(1)
		go func() {
			defer wins.Done()
			<-start
			_, err := f.m.Consume(ctx, store.KindLogin, iss.Token)
			results <- err
		}()
	}
	close(start)
	wins.Wait()
	close(results)
	ok := 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, tokens.ErrInvalid):
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d consumers won, want exactly 1", ok)
	}
}

func TestLoginTokenExpiresAfterFiveMinutes(t *testing.T) {
	f := newFixture(t, tokens.Config{})
	iss, _ := f.m.Issue(ctx, store.KindLogin, tokens.Claims{Subject: "u1", Project: "p1"})
	f.clock.Advance(5*time.Minute + time.Second)
	if _, err := f.m.Consume(ctx, store.KindLogin, iss.Token); !errors.Is(err, tokens.ErrInvalid) {
		t.Fatalf("consume after 5m1s: %v, want ErrInvalid", err)
	}
}

func TestRotateAndReuse(t *testing.T) {
	f := newFixture(t, tokens.Config{})
	phone, err := f.m.Issue(ctx, store.KindDevice, tokens.Claims{Subject: "u1", Device: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	laptop, _ := f.m.Issue(ctx, store.KindDevice, tokens.Claims{Subject: "u1", Device: "laptop"})
	next, err := f.m.Rotate(ctx, phone.Token)
	if err != nil {
		t.Fatal(err)
	}
	if next.Token == phone.Token || next.Record.Family != phone.Record.Family || next.Record.Device != "phone" {
		t.Fatalf("successor %+v does not continue the chain of %+v", next.Record, phone.Record)
	}
	// Replaying the spent token revokes the chain, successor included.
	if _, err := f.m.Rotate(ctx, phone.Token); !errors.Is(err, tokens.ErrReused) {
		t.Fatalf("replay: %v, want ErrReused", err)
	}
	if _, err := f.m.Rotate(ctx, next.Token); !errors.Is(err, tokens.ErrInvalid) {
		t.Fatalf("successor after reuse: %v, want ErrInvalid", err)
	}
	if _, err := f.m.Validate(ctx, store.KindDevice, laptop.Token); err != nil {
		t.Fatalf("other device revoked too: %v", err)
	}
}

func TestDeviceChainAbsoluteLifetime(t *testing.T) {
	f := newFixture(t, tokens.Config{DeviceTTL: 10 * 24 * time.Hour, DeviceChainTTL: 25 * 24 * time.Hour})
	iss, _ := f.m.Issue(ctx, store.KindDevice, tokens.Claims{Subject: "u1", Device: "phone"})
	tok := iss.Token
	for day := 0; ; day += 9 {
		f.clock.Advance(9 * 24 * time.Hour)
		next, err := f.m.Rotate(ctx, tok)
		if day+9 >= 25 {
			if !errors.Is(err, tokens.ErrInvalid) {
				t.Fatalf("day %d, past the chain's end: %v, want ErrInvalid", day+9, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("day %d: %v", day+9, err)
		}
		if end := iss.Record.IssuedAt.Add(25 * 24 * time.Hour); next.Record.ExpiresAt.After(end) {
			t.Fatalf("successor expires %v, after the chain's end %v", next.Record.ExpiresAt, end)
		}
		tok = next.Token
	}
}

func TestNewDeviceLoginReplacesChain(t *testing.T) {
	f := newFixture(t, tokens.Config{})
	old, _ := f.m.Issue(ctx, store.KindDevice, tokens.Claims{Subject: "u1", Device: "phone"})
	if _, err := f.m.Issue(ctx, store.KindDevice, tokens.Claims{Subject: "u1", Device: "phone"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Rotate(ctx, old.Token); err == nil {
		t.Fatal("the replaced chain still rotates")
	}
	list, err := f.m.List(ctx, "u1", store.Filter{Kind: store.KindDevice})
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %d items, %v; want 1", len(list), err)
	}
}

func TestRevokeAllByProject(t *testing.T) {
	f := newFixture(t, tokens.Config{})
	a, _ := f.m.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u1", Project: "A"})
	b, _ := f.m.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u1", Project: "B"})
	other, _ := f.m.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u2", Project: "A"})
	n, err := f.m.RevokeAll(ctx, "u1", store.Filter{Project: "A"})
	if err != nil || n != 1 {
		t.Fatalf("RevokeAll = %d, %v; want 1", n, err)
	}
	if _, err := f.m.Validate(ctx, store.KindSession, a.Token); err == nil {
		t.Error("revoked session still valid")
	}
	for _, tok := range []string{b.Token, other.Token} {
		if _, err := f.m.Validate(ctx, store.KindSession, tok); err != nil {
			t.Errorf("session of another project or subject revoked: %v", err)
		}
	}
	if err := f.m.Revoke(ctx, store.KindSession, b.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Validate(ctx, store.KindSession, b.Token); err == nil {
		t.Error("Revoke did not end the session")
	}
}

func TestStoreDownFailsClosed(t *testing.T) {
	f := newFixture(t, tokens.Config{})
	iss, _ := f.m.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u1"})
	f.store.SetDown(true)
	if _, err := f.m.Validate(ctx, store.KindSession, iss.Token); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Validate with the store down: %v, want ErrUnavailable", err)
	}
	if _, err := f.m.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u1"}); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Issue with the store down: %v", err)
	}
	f.store.SetDown(false)
	if _, err := f.m.Validate(ctx, store.KindSession, iss.Token); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func BenchmarkValidate(b *testing.B) {
	f := newFixture(b, tokens.Config{})
	iss, _ := f.m.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u1"})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.m.Validate(ctx, store.KindSession, iss.Token); err != nil {
			b.Fatal(err)
		}
	}
}

// TestForeignTagKeyIsRefusedLoudly is finding 1 of issue 15: two instances
// of one app on one store, with different TagKeys. The routing tag is read
// from the token, so the store finds the record whichever key is set; but
// the instance with the other key derives another tag for the subject and
// would find none of its tokens to list or revoke. Validate, Consume and
// Rotate must refuse such a token with ErrTagMismatch (401 invalid_token,
// told apart from ErrInvalid by errors.Is), never accept it silently.
func TestForeignTagKeyIsRefusedLoudly(t *testing.T) {
	mem := memory.New(memory.Options{})
	t.Cleanup(func() { mem.Close() })
	newManager := func(key string) *tokens.Manager {
		m, err := tokens.New(tokens.Config{Store: mem, TagKey: []byte(key)})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	a := newManager("instance A's tag key, 32 bytes long")
	b := newManager("instance B's tag key, 32 bytes long")
	subject := "u1"
	if a.Tag(subject) == b.Tag(subject) {
		t.Fatalf("both keys give %s the tag %q: pick other keys", subject, a.Tag(subject))
	}
	refused := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, tokens.ErrTagMismatch) || errors.Is(err, tokens.ErrInvalid) {
			t.Errorf("%s under the other key: %v, want ErrTagMismatch (and not ErrInvalid)", op, err)
		}
		if p := problem.Of(err); p.Status != 401 || p.Code != "invalid_token" {
			t.Errorf("%s under the other key answers %d %s, want 401 invalid_token", op, p.Status, p.Code)
		}
	}

	sess, err := a.Issue(ctx, store.KindSession, tokens.Claims{Subject: subject})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Validate(ctx, store.KindSession, sess.Token)
	refused("Validate", err)
	if _, err := a.Validate(ctx, store.KindSession, sess.Token); err != nil {
		t.Fatalf("Validate by the issuing instance: %v", err)
	}

	link, _ := a.Issue(ctx, store.KindLogin, tokens.Claims{Subject: subject})
	_, err = b.Consume(ctx, store.KindLogin, link.Token)
	refused("Consume", err)

	dev, _ := a.Issue(ctx, store.KindDevice, tokens.Claims{Subject: subject, Device: "phone"})
	_, err = b.Validate(ctx, store.KindDevice, dev.Token)
	refused("Validate(device)", err)
	next, err := b.Rotate(ctx, dev.Token)
	refused("Rotate", err)
	if next.Token != "" {
		t.Error("Rotate under the other key handed out a successor")
	}
	if items, err := a.List(ctx, subject, store.Filter{Kind: store.KindDevice}); err != nil || len(items) != 0 {
		t.Errorf("after a refused rotation the subject holds device tokens %v (%v); want none", items, err)
	}
}

// TestValidateIdle, on a fake clock: a session used more often than the
// touch interval is touched once per interval and otherwise costs one
// lookup and no write; activity keeps it alive up to its absolute expiry;
// one left idle for the timeout is refused as ErrIdle, and revoked.
func TestValidateIdle(t *testing.T) {
	f := newFixture(t, tokens.Config{})
	idle := tokens.Idle{Timeout: 30 * time.Minute, TouchInterval: time.Minute}
	iss, err := f.m.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	validate := func() (store.Record, error) {
		t.Helper()
		_, rec, err := f.m.ValidateIdle(ctx, store.KindSession, iss.Token, idle)
		return rec, err
	}

	// A request every 10 seconds for the whole 24-hour lifetime: one
	// touch a minute, nothing written by the other five of six requests.
	start, calls := f.clock.Now(), f.store.Calls()
	requests := 0
	for f.clock.Now().Before(iss.Record.ExpiresAt) {
		rec, err := validate()
		if err != nil {
			t.Fatalf("after %v of activity: %v", f.clock.Now().Sub(start), err)
		}
		if d := f.clock.Now().Sub(rec.Seen()); d >= idle.TouchInterval {
			t.Fatalf("record last seen %v ago after a validation", d)
		}
		requests++
		f.clock.Advance(10 * time.Second)
	}
	touches := f.store.Touches()
	t.Logf("%d requests over %v: %d touches, %d store calls", requests, iss.Record.ExpiresAt.Sub(start), touches, f.store.Calls()-calls)
	if want := int64(24 * 60); touches != want-1 && touches != want {
		t.Errorf("%d touches in 24 hours of requests every 10s with a 1-minute interval, want about %d", touches, want)
	}
	if got := f.store.Calls() - calls; got != int64(requests)+touches {
		t.Errorf("%d store calls for %d requests and %d touches: some request did more than a lookup and a due touch", got, requests, touches)
	}
	// The absolute expiry holds however active the session was.
	if _, err := validate(); !errors.Is(err, tokens.ErrInvalid) {
		t.Fatalf("past the absolute expiry: %v, want ErrInvalid", err)
	}

	// Idle for the timeout: refused, answered as an expired token, revoked.
	iss, err = f.m.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(5 * time.Minute)
	if _, err := validate(); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(30*time.Minute - time.Millisecond)
	if _, err := validate(); err != nil {
		t.Fatalf("idle just under the timeout: %v", err)
	}
	f.clock.Advance(30 * time.Minute)
	_, err = validate()
	if !errors.Is(err, tokens.ErrIdle) || errors.Is(err, tokens.ErrInvalid) {
		t.Fatalf("idle for the timeout: %v, want ErrIdle", err)
	}
	if p := problem.Of(err); p.Status != 401 || p.Code != "invalid_token" {
		t.Errorf("ErrIdle answers %d %s, want 401 invalid_token", p.Status, p.Code)
	}
	if _, err := f.m.Validate(ctx, store.KindSession, iss.Token); !errors.Is(err, tokens.ErrInvalid) {
		t.Errorf("an idle session was not revoked: Validate = %v", err)
	}

	// Without a timeout nothing is ever touched.
	iss, _ = f.m.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u1"})
	before := f.store.Touches()
	for range 10 {
		f.clock.Advance(time.Hour)
		if _, _, err := f.m.ValidateIdle(ctx, store.KindSession, iss.Token, tokens.Idle{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.store.Touches() - before; n != 0 {
		t.Errorf("%d touches without an idle timeout", n)
	}
}

// TestValidateIdleStoreDown: a store that cannot be asked, for the lookup
// or for a due touch, fails the validation (503): fail closed.
func TestValidateIdleStoreDown(t *testing.T) {
	f := newFixture(t, tokens.Config{})
	idle := tokens.Idle{Timeout: 30 * time.Minute, TouchInterval: time.Minute}
	iss, _ := f.m.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u1"})
	f.clock.Advance(2 * time.Minute)
	f.store.SetDown(true)
	if _, _, err := f.m.ValidateIdle(ctx, store.KindSession, iss.Token, idle); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("store down: %v, want ErrUnavailable", err)
	}
	f.store.SetDown(false)
	if _, _, err := f.m.ValidateIdle(ctx, store.KindSession, iss.Token, idle); err != nil {
		t.Fatal(err)
	}
}

func TestIdleCheck(t *testing.T) {
	for name, idle := range map[string]tokens.Idle{
		"negative timeout":       {Timeout: -time.Minute, TouchInterval: time.Second},
		"negative interval":      {Timeout: time.Minute, TouchInterval: -time.Second},
		"interval alone":         {TouchInterval: time.Second},
		"timeout alone":          {Timeout: time.Minute},
		"interval not below it":  {Timeout: time.Minute, TouchInterval: time.Minute},
		"interval above timeout": {Timeout: time.Minute, TouchInterval: time.Hour},
	} {
		if idle.Check() == nil {
			t.Errorf("%s: %+v accepted", name, idle)
		}
	}
	for _, idle := range []tokens.Idle{{}, {Timeout: 30 * time.Minute, TouchInterval: time.Minute}} {
		if err := idle.Check(); err != nil {
			t.Errorf("%+v: %v", idle, err)
		}
	}
}

// TestPendingKind: a second-step pending token has its own prefix, lasts
// PendingTTL (5 minutes by default), is spent by its first Consume, and
// opens nothing of another kind (issue 18).
func TestPendingKind(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg  tokens.Config
		want time.Duration
	}{
		"default":    {tokens.Config{}, 5 * time.Minute},
		"configured": {tokens.Config{PendingTTL: time.Minute}, time.Minute},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, tc.cfg)
			if got := f.m.TTL(store.KindPending); got != tc.want {
				t.Fatalf("TTL = %v, want %v", got, tc.want)
			}
			iss, err := f.m.Issue(ctx, store.KindPending, tokens.Claims{Subject: "u1", Project: "p", Assurance: 1})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(iss.Token, "ghp_") || tokens.KindOf(iss.Token) != store.KindPending {
				t.Fatalf("token %q: want prefix ghp_ and kind pending", iss.Token[:4])
			}
			if _, err := f.m.Validate(ctx, store.KindSession, iss.Token); !errors.Is(err, tokens.ErrWrongKind) {
				t.Fatalf("pending as session: %v, want ErrWrongKind", err)
			}
			f.clock.Advance(tc.want - time.Second)
			rec, err := f.m.Consume(ctx, store.KindPending, iss.Token)
			if err != nil || rec.Subject != "u1" || rec.Assurance != 1 {
				t.Fatalf("Consume = %+v, %v", rec, err)
			}
			if _, err := f.m.Consume(ctx, store.KindPending, iss.Token); !errors.Is(err, tokens.ErrInvalid) {
				t.Fatalf("second Consume: %v, want ErrInvalid", err)
			}
			late, _ := f.m.Issue(ctx, store.KindPending, tokens.Claims{Subject: "u1"})
			f.clock.Advance(tc.want)
			if _, err := f.m.Consume(ctx, store.KindPending, late.Token); !errors.Is(err, tokens.ErrInvalid) {
				t.Fatalf("expired: %v, want ErrInvalid", err)
			}
		})
	}
}

// TestChallengeKind: a WebAuthn challenge has its own prefix, lasts
// ChallengeTTL (5 minutes by default), is spent by its first Consume, and
// is no other kind (issue 18: challenges are one-time tokens).
func TestChallengeKind(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg  tokens.Config
		want time.Duration
	}{
		"default":    {tokens.Config{}, 5 * time.Minute},
		"configured": {tokens.Config{ChallengeTTL: 2 * time.Minute}, 2 * time.Minute},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, tc.cfg)
			if got := f.m.TTL(store.KindChallenge); got != tc.want {
				t.Fatalf("TTL = %v, want %v", got, tc.want)
			}
			iss, err := f.m.Issue(ctx, store.KindChallenge, tokens.Claims{Subject: "u1", Project: "webauthn.get"})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(iss.Token, "ghc_") || tokens.KindOf(iss.Token) != store.KindChallenge {
				t.Fatalf("token %q: want prefix ghc_ and kind challenge", iss.Token[:4])
			}
			if _, err := f.m.Validate(ctx, store.KindPending, iss.Token); !errors.Is(err, tokens.ErrWrongKind) {
				t.Fatalf("challenge as pending: %v, want ErrWrongKind", err)
			}
			f.clock.Advance(tc.want - time.Second)
			if rec, err := f.m.Consume(ctx, store.KindChallenge, iss.Token); err != nil || rec.Project != "webauthn.get" {
				t.Fatalf("Consume = %+v, %v", rec, err)
			}
			if _, err := f.m.Consume(ctx, store.KindChallenge, iss.Token); !errors.Is(err, tokens.ErrInvalid) {
				t.Fatalf("second Consume: %v, want ErrInvalid", err)
			}
			late, _ := f.m.Issue(ctx, store.KindChallenge, tokens.Claims{Subject: "u1"})
			f.clock.Advance(tc.want)
			if _, err := f.m.Consume(ctx, store.KindChallenge, late.Token); !errors.Is(err, tokens.ErrInvalid) {
				t.Fatalf("expired: %v, want ErrInvalid", err)
			}
		})
	}
}

// TestTrustChain: a trust token (issue 18: "don't ask for the second
// factor on this browser") is a chain of its own: rotated on each use,
// a replay revokes it, it ends TrustTTL after the login that started it
// however often it is rotated, and it is no device token.
func TestTrustChain(t *testing.T) {
	f := newFixture(t, tokens.Config{TrustTTL: 10 * 24 * time.Hour})
	first, err := f.m.Issue(ctx, store.KindTrust, tokens.Claims{Subject: "u1", Device: "trust-x", Assurance: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first.Token, "ght_") || first.Record.Family == "" || !first.Record.ChainEnd.Equal(first.Record.AuthTime.Add(10*24*time.Hour)) {
		t.Fatalf("issued %q %+v", first.Token[:4], first.Record)
	}
	if _, err := f.m.Rotate(ctx, first.Token); !errors.Is(err, tokens.ErrWrongKind) {
		t.Fatalf("trust token as device token: %v, want ErrWrongKind", err)
	}
	dev, _ := f.m.Issue(ctx, store.KindDevice, tokens.Claims{Subject: "u1", Device: "d"})
	if _, err := f.m.RotateTrust(ctx, dev.Token); !errors.Is(err, tokens.ErrWrongKind) {
		t.Fatalf("device token as trust token: %v, want ErrWrongKind", err)
	}
	f.clock.Advance(6 * 24 * time.Hour)
	next, err := f.m.RotateTrust(ctx, first.Token)
	if err != nil || next.Record.Assurance != 2 || next.Record.Family != first.Record.Family || !next.Record.ExpiresAt.Equal(first.Record.ChainEnd) {
		t.Fatalf("RotateTrust = %+v, %v", next.Record, err)
	}
	if _, err := f.m.RotateTrust(ctx, first.Token); !errors.Is(err, tokens.ErrReused) {
		t.Fatalf("replay: %v, want ErrReused", err)
	}
	if _, err := f.m.RotateTrust(ctx, next.Token); !errors.Is(err, tokens.ErrInvalid) {
		t.Fatalf("successor after a replay: %v, want ErrInvalid (the chain is revoked)", err)
	}
	late, _ := f.m.Issue(ctx, store.KindTrust, tokens.Claims{Subject: "u1", Device: "trust-y"})
	f.clock.Advance(10 * 24 * time.Hour)
	if _, err := f.m.RotateTrust(ctx, late.Token); !errors.Is(err, tokens.ErrInvalid) {
		t.Fatalf("past the chain's end: %v, want ErrInvalid", err)
	}
}
