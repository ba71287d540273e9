package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
)

// Factory returns a new, empty store whose clock is now. Each call must be
// independent of the others (a Redis store uses a fresh key prefix).
type Factory func(t *testing.T, now func() time.Time) store.Store

// Run checks that the stores newStore makes keep the contract of package
// store. Every subtest gets a fresh store from newStore and a fresh clock.
func Run(t *testing.T, newStore Factory) {
	t.Helper()
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					clk := newClock()
					c.run(&env{T: t, s: newStore(t, clk.Now), clk: clk, ctx: t.Context()})
				})
			}
		})
	}
}

type group struct {
	name  string
	cases []testCase
}

type testCase struct {
	name string
	run  func(e *env)
}

var groups = []group{
	{"Tokens", tokenCases},
	{"Consume", consumeCases},
	{"Rotate", rotateCases},
	{"Touch", touchCases},
	{"DeleteAll", deleteAllCases},
	{"List", listCases},
	{"Keys", keyCases},
	{"Counters", counterCases},
	{"Limits", limitCases},
	{"Attempts", attemptCases},
	{"Context", contextCases},
}

// clock is the suite's fake time. It starts on a whole millisecond so that
// a store keeping milliseconds gives back exactly what it was given.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now().Truncate(time.Millisecond)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	if d < 0 {
		panic("storetest: the clock only moves forward")
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is one subtest's store and clock, with helpers that fail the test on
// any error, since no error is expected of a healthy store.
type env struct {
	*testing.T
	s   store.Store
	clk *clock
	ctx context.Context
}

const tag = "t0"

func newID() store.ID { return idWithTag(tag) }

func idWithTag(tag string) store.ID {
	id := store.ID{Tag: tag}
	rand.Read(id.Hash[:])
	return id
}

// rec returns a record of subject that lives for an hour from now.
func (e *env) rec(kind store.Kind, subject string) store.Record {
	now := e.clk.Now()
	return store.Record{Kind: kind, Subject: subject, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
}

func (e *env) put(id store.ID, r store.Record) {
	e.Helper()
	if err := e.s.Put(e.ctx, id, r); err != nil {
		e.Fatalf("Put(%s): %v", id.Tag, err)
	}
}

// putNew stores r under a fresh ID and returns the ID.
func (e *env) putNew(r store.Record) store.ID {
	e.Helper()
	id := newID()
	e.put(id, r)
	return id
}

// wantHit fails unless Get finds want under id.
func (e *env) wantHit(id store.ID, want store.Record) {
	e.Helper()
	got, ok, err := e.s.Get(e.ctx, id)
	if err != nil || !ok {
		e.Fatalf("Get = (_, %v, %v), want a hit", ok, err)
	}
	if msg := diff(got, want); msg != "" {
		e.Fatalf("Get: %s", msg)
	}
}

// wantMiss fails unless Get reports a miss under id.
func (e *env) wantMiss(id store.ID, why string) {
	e.Helper()
	got, ok, err := e.s.Get(e.ctx, id)
	if err != nil || ok || got != (store.Record{}) {
		e.Fatalf("Get %s = (%+v, %v, %v), want a miss", why, got, ok, err)
	}
}

func (e *env) rotate(old, next store.ID, lifetime time.Duration) store.Rotation {
	e.Helper()
	r, err := e.s.Rotate(e.ctx, old, next, lifetime)
	if err != nil {
		e.Fatalf("Rotate: %v", err)
	}
	return r
}

func (e *env) list(subject string, f store.Filter) []store.Item {
	e.Helper()
	items, err := e.s.List(e.ctx, tag, subject, f)
	if err != nil {
		e.Fatalf("List(%q, %+v): %v", subject, f, err)
	}
	return items
}

// wantList fails unless the subject's records matching f are exactly want.
func (e *env) wantList(subject string, f store.Filter, want map[store.ID]store.Record) {
	e.Helper()
	items := e.list(subject, f)
	seen := make(map[store.ID]bool)
	for _, it := range items {
		w, ok := want[it.ID]
		switch {
		case !ok:
			e.Errorf("List(%q, %+v) has unexpected %+v", subject, f, it.Record)
		case seen[it.ID]:
			e.Errorf("List(%q, %+v) has %+v twice", subject, f, it.Record)
		default:
			if msg := diff(it.Record, w); msg != "" {
				e.Errorf("List(%q, %+v): %s", subject, f, msg)
			}
		}
		seen[it.ID] = true
	}
	for id, w := range want {
		if !seen[id] {
			e.Errorf("List(%q, %+v) lacks %+v", subject, f, w)
		}
	}
}

// race runs fn on n goroutines released together, so that they really
// contend, and waits for them.
func race(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// sameTime compares to the millisecond, the precision a store may keep.
func sameTime(a, b time.Time) bool {
	return a.IsZero() == b.IsZero() && a.Truncate(time.Millisecond).Equal(b.Truncate(time.Millisecond))
}

// diff describes how got differs from want, or returns "".
func diff(got, want store.Record) string {
	var bad []string
	field := func(name string, ok bool, g, w any) {
		if !ok {
			bad = append(bad, fmt.Sprintf("%s = %q, want %q", name, fmt.Sprint(g), fmt.Sprint(w)))
		}
	}
	field("Kind", got.Kind == want.Kind, got.Kind, want.Kind)
	field("Subject", got.Subject == want.Subject, got.Subject, want.Subject)
	field("Project", got.Project == want.Project, got.Project, want.Project)
	field("Device", got.Device == want.Device, got.Device, want.Device)
	field("Family", got.Family == want.Family, got.Family, want.Family)
	field("IssuedAt", sameTime(got.IssuedAt, want.IssuedAt), got.IssuedAt, want.IssuedAt)
	field("ExpiresAt", sameTime(got.ExpiresAt, want.ExpiresAt), got.ExpiresAt, want.ExpiresAt)
	field("ChainEnd", sameTime(got.ChainEnd, want.ChainEnd), got.ChainEnd, want.ChainEnd)
	field("AuthTime", sameTime(got.AuthTime, want.AuthTime), got.AuthTime, want.AuthTime)
	field("Assurance", got.Assurance == want.Assurance, got.Assurance, want.Assurance)
	field("LastSeen", sameTime(got.LastSeen, want.LastSeen), got.LastSeen, want.LastSeen)
	return strings.Join(bad, "; ")
}

// wantUnavailable fails unless err is nil or wraps store.ErrUnavailable.
func wantUnavailable(t *testing.T, op string, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("%s: error %v does not wrap store.ErrUnavailable", op, err)
	}
}
