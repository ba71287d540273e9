package memory

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
)

// heldCounters counts the entries of the counter budget in the maps.
func (s *Store) heldCounters() int {
	n := 0
	for i := range s.counters {
		cs := &s.counters[i]
		cs.mu.RLock()
		n += len(cs.m) + len(cs.limits)
		for _, g := range cs.attempts {
			n += len(g)
		}
		cs.mu.RUnlock()
	}
	return n
}

// wantCounted fails t unless the budgets' counts match what the maps hold.
func wantCounted(t *testing.T, s *Store) {
	t.Helper()
	tokens, _, _ := s.held()
	u := s.Usage()
	if held := s.heldCounters(); u.Tokens != tokens || u.Counters != held || s.Len() != tokens+held {
		t.Fatalf("Usage %+v, Len %d; the maps hold %d tokens and %d counters", u, s.Len(), tokens, held)
	}
}

// floodAttempt is a login attempt with a name of nobody from client.
func floodAttempt(i int, client string) store.Attempt {
	name := fmt.Sprint("nobody-", i)
	return store.Attempt{Group: "n:" + name, Name: name, NameClient: name + "|" + client,
		PerClient: 3, Total: 10, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
}

// target is the attempts on one account through one name from client.
func target(client string) store.Attempt {
	return store.Attempt{Group: "a:1815", Name: "ada", NameClient: "ada|" + client,
		Account: "1815", AccountClient: "1815|" + client,
		PerClient: 3, Total: 10, Window: 15 * time.Minute, LockFor: 15 * time.Minute}
}

// TestTokensUnaffectedByFullCounters: a counter budget filled by what
// anonymous requests create (rate limits, attempts on unknown names,
// counters) takes no room from tokens, which still fill their own budget
// to the last record; and Len is both budgets together.
func TestTokensUnaffectedByFullCounters(t *testing.T) {
	const maxTokens, maxCounters = 50, 40
	s, clk := newTestCaps(t, maxTokens, maxCounters)
	ctx := t.Context()
	for i := 0; s.Usage().Counters < maxCounters; i++ {
		if _, err := s.Hit(ctx, fmt.Sprint("plain-", i), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	// Full of live plain counters: nothing may be evicted, so new ones of
	// every kind are refused.
	if _, err := s.Take(ctx, "limit:new", store.PerPeriod(5, time.Minute), 1); !errors.Is(err, store.ErrFull) {
		t.Fatalf("Take on a counter budget full of plain counters: %v, want ErrFull", err)
	}
	if _, err := s.CountAttempt(ctx, floodAttempt(0, "c")); !errors.Is(err, store.ErrFull) {
		t.Fatalf("CountAttempt on a counter budget full of plain counters: %v, want ErrFull", err)
	}
	ids := make([]store.ID, maxTokens)
	for i := range ids {
		ids[i] = newID()
		rec := record(clk, fmt.Sprint("user-", i%7), time.Hour)
		rec.Kind = store.KindSession
		if err := s.Put(ctx, ids[i], rec); err != nil {
			t.Fatalf("token %d of %d beside a full counter budget: %v", i+1, maxTokens, err)
		}
	}
	if rot, err := s.Rotate(ctx, ids[0], newID(), time.Hour); !errors.Is(err, store.ErrFull) {
		t.Fatalf("Rotate on a full token budget = %v, %v; want ErrFull", rot.Status, err)
	}
	for i, id := range ids {
		if _, ok, err := s.Get(ctx, id); !ok || err != nil {
			t.Fatalf("token %d: %v, %v", i, ok, err)
		}
	}
	if u := s.Usage(); u.Tokens != maxTokens || u.Counters != maxCounters || u.Evicted != 0 || s.Len() != maxTokens+maxCounters {
		t.Fatalf("Usage %+v, Len %d; want %d tokens, %d counters, no eviction", u, s.Len(), maxTokens, maxCounters)
	}
	wantCounted(t, s)

	// Expired counters, swept or not, make room for new ones, whatever
	// the tokens hold.
	clk.Advance(time.Hour)
	if _, err := s.Hit(ctx, "after", time.Hour); err != nil {
		t.Fatalf("Hit once the plain counters expired: %v", err)
	}
	if u := s.Usage(); u.Evicted != 1 {
		t.Fatalf("Usage %+v, want the expired counter evicted", u)
	}
}

// TestLockedGroupIsNeverEvicted: an account locked before a flood stays
// locked through 20,000 attempts on unknown names and rate limits of new
// clients, which cycle a counter budget of 64 entries hundreds of times.
// Every one of them finds room (by eviction), and the budget never holds
// more than its cap.
func TestLockedGroupIsNeverEvicted(t *testing.T) {
	const maxCounters = 64
	s, _ := newTestCaps(t, 10, maxCounters)
	ctx := t.Context()
	// Three clients spend their 3 attempts each, a fourth the tenth: the
	// name is locked for every client (Name at Total) and the account
	// held (Account at Total), besides each client's own locks.
	for i := range 10 {
		r, err := s.CountAttempt(ctx, target(fmt.Sprint("c", i/3)))
		if err != nil || r.Locked || r.Held {
			t.Fatalf("attempt %d before the lock: %+v, %v", i+1, r, err)
		}
	}
	before, err := s.CountAttempt(ctx, target("someone-else"))
	if err != nil || !before.Locked {
		t.Fatalf("after 10 failures from 4 clients: %+v, %v; want locked", before, err)
	}
	held, err := s.CountAttempt(ctx, store.Attempt{Group: "a:1815", Name: "ada@example.com", NameClient: "ada@example.com|x",
		Account: "1815", AccountClient: "1815|x", PerClient: 3, Total: 10, Window: 15 * time.Minute, LockFor: 15 * time.Minute})
	if err != nil || !held.Held {
		t.Fatalf("through another name: %+v, %v; want held", held, err)
	}

	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 5000 {
				if _, err := s.CountAttempt(ctx, floodAttempt(w*5000+i, fmt.Sprint("f", w))); err != nil {
					t.Errorf("flood attempt: %v", err)
					return
				}
				if _, err := s.Take(ctx, fmt.Sprint("limit:login:client:", w, "-", i), store.PerPeriod(100, 10*time.Minute), 1); err != nil {
					t.Errorf("flood rate limit: %v", err)
					return
				}
				if u := s.Usage(); u.Counters > maxCounters {
					t.Errorf("the counter budget holds %d, over its cap of %d", u.Counters, maxCounters)
					return
				}
			}
		})
	}
	wg.Wait()
	u := s.Usage()
	t.Logf("after the flood: %+v", u)
	if u.Evicted < 20_000 {
		t.Fatalf("%d evictions, want the flood to have cycled the budget", u.Evicted)
	}
	wantCounted(t, s)
	after, err := s.CountAttempt(ctx, target("someone-new"))
	if err != nil || !after.Locked || !after.Until.Equal(before.Until) {
		t.Fatalf("after the flood: %+v, %v; want locked until %v as before", after, err, before.Until)
	}
	held, err = s.CountAttempt(ctx, store.Attempt{Group: "a:1815", Name: "ada@example.com", NameClient: "ada@example.com|y",
		Account: "1815", AccountClient: "1815|y", PerClient: 3, Total: 10, Window: 15 * time.Minute, LockFor: 15 * time.Minute})
	if err != nil || !held.Held {
		t.Fatalf("through another name after the flood: %+v, %v; want held", held, err)
	}
	for i := range 3 {
		if r, err := s.CountAttempt(ctx, target(fmt.Sprint("c", i))); err != nil || !r.Locked {
			t.Fatalf("client c%d after the flood: %+v, %v; want its own lock", i, r, err)
		}
	}
}

// TestFullOfLocksFailsClosed: when every entry of the counter budget is a
// lock, a new entry is refused (ErrFull) and every lock stays.
func TestFullOfLocksFailsClosed(t *testing.T) {
	const names = 7
	s, _ := newTestCaps(t, 10, 3*names)
	ctx := t.Context()
	attempt := func(name int, client string) store.Attempt {
		a := floodAttempt(name, client)
		a.PerClient, a.Total = 1, 2
		return a
	}
	// Each name tried once from each of two clients: its two per-client
	// counters and its all-clients counter are at their limits.
	for i := range names {
		for _, c := range []string{"x", "y"} {
			if r, err := s.CountAttempt(ctx, attempt(i, c)); err != nil || r.Locked {
				t.Fatalf("name %d from %s: %+v, %v", i, c, r, err)
			}
		}
	}
	if _, err := s.CountAttempt(ctx, attempt(names, "z")); !errors.Is(err, store.ErrFull) {
		t.Fatalf("a new name on a budget full of locks: %v, want ErrFull", err)
	}
	if _, err := s.Take(ctx, "limit:new", store.PerPeriod(5, time.Minute), 1); !errors.Is(err, store.ErrFull) {
		t.Fatalf("a new rate limit on a budget full of locks: %v, want ErrFull", err)
	}
	for i := range names {
		if r, err := s.CountAttempt(ctx, attempt(i, "z")); err != nil || !r.Locked {
			t.Fatalf("name %d after the refusals: %+v, %v; want locked", i, r, err)
		}
	}
	if u := s.Usage(); u.Evicted != 0 {
		t.Fatalf("Usage %+v: a lock was evicted", u)
	}
	wantCounted(t, s)
}

// TestEvictsSoonestExpiry: of the entries of one shard that may go, a new
// entry takes the place of the one that expires first; a client's spent
// rate limit, whose refill ends last, stays.
func TestEvictsSoonestExpiry(t *testing.T) {
	s, _ := newTestCaps(t, 10, 3)
	ctx := t.Context()
	// Four keys of one shard, so that the sample sees them all.
	var keys []string
	shard := s.counterShard("k-0")
	for i := 0; len(keys) < 4; i++ {
		if k := fmt.Sprint("k-", i); s.counterShard(k) == shard {
			keys = append(keys, k)
		}
	}
	rate := store.PerPeriod(10, 10*time.Minute) // one unit back a minute
	spend := func(key string, n int) {
		t.Helper()
		if d, err := s.Take(ctx, key, rate, n); err != nil || !d.Allowed {
			t.Fatalf("Take %d of %s: %+v, %v", n, key, d, err)
		}
	}
	spend(keys[0], 10) // spent: refilled in 10 minutes
	spend(keys[1], 1)  // refilled in 1 minute
	spend(keys[2], 5)  // in 5
	spend(keys[3], 1)  // evicts keys[1]
	shard.mu.RLock()
	_, one := shard.limits[keys[1]]
	_, spent := shard.limits[keys[0]]
	shard.mu.RUnlock()
	if one || !spent {
		t.Fatalf("after an eviction: the 1-minute limit is kept (%v), the spent one is kept (%v); want false, true", one, spent)
	}
	if d, _ := s.Take(ctx, keys[0], rate, 1); d.Allowed {
		t.Fatal("the spent limit was forgotten: its client got its burst back")
	}
	if u := s.Usage(); u.Evicted != 1 || u.Counters != 3 {
		t.Fatalf("Usage %+v, want 1 eviction, 3 counters", u)
	}
}
