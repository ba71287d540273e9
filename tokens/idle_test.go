package tokens_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

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
