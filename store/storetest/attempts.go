package storetest

import (
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
)

var attemptCases = []testCase{
	{"PerClientLock", testAttemptPerClient},
	{"TotalNeedsTwoClients", testAttemptTotal},
	{"AccountHeldSilently", testAttemptHeld},
	{"ForgiveKeepsOthers", testAttemptForgive},
	{"LockEndIsFixed", testAttemptLockEnd},
	{"Uncount", testAttemptUncount},
	{"WindowAndClear", testAttemptWindow},
	{"CallerMistakes", testAttemptMistakes},
	{"ExactUnderRace", testAttemptRace},
}

// attempt is a login through name by client on account ("" for none),
// at most 3 per client and 5 in all, counted for 15 minutes and locked
// for at least 10 from the attempt that reaches a limit.
func attempt(name, client, account string) store.Attempt {
	a := store.Attempt{
		Group: "g:" + account, Name: "n:" + name, NameClient: "n:" + name + "|" + client,
		PerClient: 3, Total: 5, Window: 15 * time.Minute, LockFor: 10 * time.Minute,
	}
	if account == "" {
		a.Group = "g:" + name
	} else {
		a.Account, a.AccountClient = "a:"+account, "a:"+account+"|"+client
	}
	return a
}

func (e *env) count(a store.Attempt) store.AttemptResult {
	e.Helper()
	r, err := e.s.CountAttempt(e.ctx, a)
	if err != nil {
		e.Fatalf("CountAttempt(%s): %v", a.NameClient, err)
	}
	return r
}

// testAttemptPerClient: a client's attempts through one name are counted
// up to PerClient; its next is locked until LockFor after the attempt
// that reached the limit, and counts nothing. Another client is not
// locked by it.
func testAttemptPerClient(e *env) {
	a := attempt("jill", "c1", "")
	start := e.clk.Now()
	for i := range 3 {
		if r := e.count(a); r.Locked || r.Held || !r.NameCounted || r.AccountCounted {
			e.Fatalf("attempt %d of 3: %+v, want counted", i+1, r)
		}
		e.clk.Advance(time.Minute)
	}
	want := start.Add(15 * time.Minute) // the window outlasts 10 min from the third
	r := e.count(a)
	if !r.Locked || !r.Until.Equal(want) || r.NameCounted {
		e.Fatalf("attempt past the limit: %+v, want locked until %v", r, want)
	}
	if r := e.count(attempt("jill", "c2", "")); r.Locked {
		e.Fatalf("another client: %+v, want not locked", r)
	}
	// A longer LockFor outlives the window.
	b := attempt("jack", "c1", "")
	b.LockFor = time.Hour
	for range 3 {
		e.count(b)
	}
	if r := e.count(b); !r.Locked || !r.Until.Equal(e.clk.Now().Add(time.Hour)) {
		e.Fatalf("lock for an hour: %+v, want until %v", r, e.clk.Now().Add(time.Hour))
	}
}

// testAttemptTotal: one client alone never reaches Total; two do, and
// then every client is locked but a known device, whose own limit still
// holds.
func testAttemptTotal(e *env) {
	for range 3 {
		e.count(attempt("jill", "c1", "s1"))
	}
	if r := e.count(attempt("jill", "c1", "s1")); !r.Locked {
		e.Fatalf("c1 past its limit: %+v, want locked", r)
	}
	if r := e.count(attempt("jill", "c3", "s1")); r.Locked || r.Held {
		e.Fatalf("c3 after c1 alone: %+v, want counted", r)
	}
	e.count(attempt("jill", "c2", "s1")) // 5 in all
	if r := e.count(attempt("jill", "c4", "s1")); !r.Locked {
		e.Fatalf("c4 after five: %+v, want locked", r)
	}
	known := attempt("jill", "c5", "s1")
	known.KnownDevice = true
	for i := range 3 {
		if r := e.count(known); r.Locked || r.Held {
			e.Fatalf("known device, attempt %d: %+v, want counted", i+1, r)
		}
	}
	if r := e.count(known); !r.Locked {
		e.Fatalf("known device past its own limit: %+v, want locked", r)
	}
}

// testAttemptHeld: after PerClient attempts on an account through one
// name, the client's attempts through another name of that account are
// held: the new name is counted, the account is not. After Total in all,
// every client but a known device is held.
func testAttemptHeld(e *env) {
	for range 3 {
		e.count(attempt("jill", "c1", "s1"))
	}
	r := e.count(attempt("jill@example.com", "c1", "s1"))
	if r.Locked || !r.Held || !r.NameCounted || r.AccountCounted {
		e.Fatalf("c1 through another name: %+v, want held, name counted", r)
	}
	e.count(attempt("jill@example.com", "c2", "s1"))
	e.count(attempt("jill@example.com", "c2", "s1")) // 5 on the account
	if r := e.count(attempt("jill@example.com", "c3", "s1")); r.Locked || !r.Held {
		e.Fatalf("c3 after five on the account: %+v, want held", r)
	}
	known := attempt("jill@example.com", "c4", "s1")
	known.KnownDevice = true
	if r := e.count(known); r.Locked || r.Held || !r.AccountCounted {
		e.Fatalf("known device: %+v, want counted, not held", r)
	}
}

// testAttemptForgive: a right password takes its client's counts back
// off the totals and ends them; what other clients counted stays.
func testAttemptForgive(e *env) {
	for range 2 {
		e.count(attempt("jill", "c1", "s1"))
	}
	for range 3 {
		e.count(attempt("jill", "c2", "s1")) // 5 in all
	}
	if r := e.count(attempt("jill", "c3", "s1")); !r.Locked {
		e.Fatalf("after five: %+v, want locked", r)
	}
	if err := e.s.ForgiveAttempt(e.ctx, attempt("jill", "c2", "s1")); err != nil {
		e.Fatal(err)
	}
	// c1's two stay: three more in all, from any client, c2 included.
	for _, c := range []string{"c2", "d1", "d2"} {
		if r := e.count(attempt("jill", c, "s1")); r.Locked || r.Held || !r.AccountCounted {
			e.Fatalf("%s after c2 was forgiven: %+v, want counted", c, r)
		}
	}
	if r := e.count(attempt("jill", "d3", "s1")); !r.Locked {
		e.Fatalf("c1's two and three more: %+v, want locked", r)
	}
	// Forgiving a client with no counts, or a group with none, is no error.
	if err := e.s.ForgiveAttempt(e.ctx, attempt("nobody", "c9", "s9")); err != nil {
		e.Fatal(err)
	}
}

// testAttemptLockEnd: the attempt that reaches a limit sets the lock's
// end; a known device's attempts past the limit do not move it, so the
// owner's logins cannot keep an attacker's lock alive.
func testAttemptLockEnd(e *env) {
	a := attempt("jill", "c1", "s1")
	a.LockFor = 20 * time.Minute
	for _, c := range []string{"c1", "c1", "c1", "c2", "c2"} {
		b := a
		b.NameClient, b.AccountClient = "n:jill|"+c, "a:s1|"+c
		e.count(b)
	}
	want := e.clk.Now().Add(20 * time.Minute)
	for range 3 {
		e.clk.Advance(5 * time.Minute)
		known := a
		known.NameClient, known.AccountClient, known.KnownDevice = "n:jill|dev", "a:s1|dev", true
		if r := e.count(known); r.Locked {
			e.Fatalf("known device: %+v", r)
		}
		if err := e.s.ForgiveAttempt(e.ctx, known); err != nil {
			e.Fatal(err)
		}
	}
	b := a
	b.NameClient, b.AccountClient = "n:jill|c3", "a:s1|c3"
	if r := e.count(b); !r.Locked || !r.Until.Equal(want) {
		e.Fatalf("after the known device's logins: %+v, want locked until %v", r, want)
	}
}

// testAttemptUncount: an attempt taken back costs nobody a try: not its
// client, not the totals, and a held attempt takes nothing off the
// account it was not counted on.
func testAttemptUncount(e *env) {
	for range 2 {
		e.count(attempt("jill", "c1", "s1"))
	}
	a := attempt("jill", "c1", "s1")
	r := e.count(a) // c1's third: it would lock c1
	if err := e.s.UncountAttempt(e.ctx, a, r); err != nil {
		e.Fatal(err)
	}
	if r := e.count(a); r.Locked || !r.AccountCounted {
		e.Fatalf("after the third was taken back: %+v, want counted", r)
	}
	if r := e.count(a); !r.Locked {
		e.Fatalf("c1's fourth (third counted): %+v, want locked", r)
	}
	h := attempt("jill@example.com", "c1", "s1")
	r = e.count(h)
	if !r.Held || r.AccountCounted {
		e.Fatalf("held: %+v", r)
	}
	if err := e.s.UncountAttempt(e.ctx, h, r); err != nil {
		e.Fatal(err)
	}
	// The account still has c1's 3; two more from c2 reach the total.
	e.count(attempt("jill@example.com", "c2", "s1"))
	e.count(attempt("jill@example.com", "c2", "s1"))
	if r := e.count(attempt("jill@example.com", "c3", "s1")); !r.Held {
		e.Fatalf("after five on the account: %+v, want held", r)
	}
	// Nothing to take back is no error.
	if err := e.s.UncountAttempt(e.ctx, attempt("nobody", "c9", ""), store.AttemptResult{NameCounted: true}); err != nil {
		e.Fatal(err)
	}
}

// testAttemptWindow: counts end with their window; ClearAttempts ends
// every count of the group at once, and only of that group.
func testAttemptWindow(e *env) {
	for range 3 {
		e.count(attempt("jill", "c1", ""))
	}
	e.clk.Advance(15 * time.Minute)
	if r := e.count(attempt("jill", "c1", "")); r.Locked {
		e.Fatalf("after the window: %+v, want counted", r)
	}
	for range 3 {
		e.count(attempt("jack", "c1", "s1"))
		e.count(attempt("joe", "c1", "s2"))
	}
	if err := e.s.ClearAttempts(e.ctx, "g:s1"); err != nil {
		e.Fatal(err)
	}
	if r := e.count(attempt("jack", "c1", "s1")); r.Locked || r.Held {
		e.Fatalf("after ClearAttempts: %+v, want counted", r)
	}
	if r := e.count(attempt("joe", "c1", "s2")); !r.Locked {
		e.Fatalf("another group after ClearAttempts: %+v, want still locked", r)
	}
}

func testAttemptMistakes(e *env) {
	for _, a := range []store.Attempt{
		{},
		func() store.Attempt { a := attempt("x", "c", ""); a.Total = a.PerClient; return a }(),
		func() store.Attempt { a := attempt("x", "c", ""); a.PerClient = 0; return a }(),
		func() store.Attempt { a := attempt("x", "c", ""); a.Window = 0; return a }(),
		func() store.Attempt { a := attempt("x", "c", "s"); a.AccountClient = ""; return a }(),
	} {
		if _, err := e.s.CountAttempt(e.ctx, a); err == nil {
			e.Errorf("CountAttempt(%+v) = nil error", a)
		}
	}
}

// testAttemptRace: 40 clients at once on one account through two names:
// exactly Total attempts are counted on the account (the others held or
// locked), however they interleave.
func testAttemptRace(e *env) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	counted := 0
	for i := range 40 {
		wg.Go(func() {
			name := []string{"jill", "jill@example.com"}[i%2]
			r, err := e.s.CountAttempt(e.ctx, attempt(name, fmt.Sprint("c", i), "s1"))
			if err != nil {
				e.Error(err)
				return
			}
			if r.AccountCounted {
				mu.Lock()
				counted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if counted != 5 {
		e.Fatalf("%d attempts counted on the account, want exactly 5", counted)
	}
}
