package memory

// What a full counter budget gives up, and why.
//
// The counter budget (Options.MaxCounters) holds what anyone can make the
// store keep: rate limits, login attempt counters and plain counters. The
// per-client rate limits bound how much of it one client network can
// take, so a flood from few addresses never fills it; one from many
// addresses can. Then a store must either refuse new entries, and every
// login that needs one answers 503 store_full until the flood's entries
// expire (up to a lockout window), or make room by forgetting something.
// Forgetting the wrong thing is worse than refusing: a lock evicted is a
// lock lifted, and a flood would become the way to reset a targeted
// account's lockout. So the store forgets only what no lock depends on:
//
//   - an expired entry of any kind (it is a miss already);
//   - a rate limit: forgetting it gives one client network its burst
//     back early, never more than its burst;
//   - a login attempt counter below its limit (store.Attempts): its
//     count starts over early.
//
// and never
//
//   - an attempt counter that has reached its limit (the counter is
//     flagged locked when the attempt that reaches it is counted): every
//     lock and hold of CountAttempt is read from such a counter, so
//     keeping them keeps every lock, however long the flood;
//   - a plain counter (store.Counters) that is live: the store cannot
//     tell which one is at its caller's limit (the mail sent to one
//     account, a lock kept as a counter), so it keeps them all.
//
// Among the entries it may forget it takes the one that expires soonest,
// out of a few sampled (as Redis's volatile-ttl policy samples five):
// that forgets the least, since the entry would be gone by then anyway. A
// client network that spent its burst has the latest rate-limit expiry of
// all, so a flood's own limits are the last to go, and a count below its
// limit that is forgotten is the one closest to starting over on its own.
// What remains open is that such a count, of an account under attack that
// is not yet locked, starts over early: more guesses, each still limited
// per client network (limit.Login) and per client by its own counter.
//
// When nothing may be forgotten (the budget holds only locks and live
// plain counters) the new entry is refused with store.ErrFull: the store
// fails closed rather than lift a lock.

const (
	// evictSample is how many candidates of each kind a shard offers.
	evictSample = 5
	// evictScan bounds the entries of each kind one shard's scan looks
	// at, so that a shard full of locks costs a bounded walk.
	evictScan = 64
)

// reserveCounter takes room for one new entry of the counter budget in
// cs, whose write lock the caller holds: a free place, or the place of an
// entry it evicts (never one of group skip in cs, which the caller is
// changing). Eviction looks in cs first, then in the other shards it can
// lock without waiting, so that two shards making room never wait on each
// other. It reports false when there is no room, and wakes the sweeper.
func (s *Store) reserveCounter(cs *counterShard, skip string, now int64) bool {
	if take(&s.counterCount, s.maxCounters) {
		return true
	}
	if s.evictFrom(cs, skip, now) {
		return true
	}
	for j := 1; j < counterShards; j++ {
		o := &s.counters[(cs.idx+j)%counterShards]
		if !o.mu.TryLock() {
			continue
		}
		ok := s.evictFrom(o, "", now)
		o.mu.Unlock()
		if ok {
			return true
		}
	}
	s.nudge()
	return false
}

// victim is an entry that may be evicted.
type victim struct {
	kind   uint8  // one of the kinds below
	group  string // an attempt counter's group
	key    string
	expiry int64
}

const (
	limitVictim uint8 = iota
	attemptVictim
	counterVictim
)

// evictFrom deletes the entry of cs that may go and expires soonest of
// those it samples, leaving its place counted for the caller's new one.
// The caller holds cs's write lock. It reports whether there was one.
func (s *Store) evictFrom(cs *counterShard, skip string, now int64) bool {
	var best victim
	found := false
	offer := func(v victim) {
		if !found || v.expiry < best.expiry {
			best, found = v, true
		}
	}
	// Go starts each range over a map at a random place: the first few
	// entries are a sample. Every rate limit may go.
	seen := 0
	for k, tat := range cs.limits {
		offer(victim{kind: limitVictim, key: k, expiry: tat})
		if seen++; seen >= evictSample {
			break
		}
	}
	seen, scanned := 0, 0
attempts:
	for g, group := range cs.attempts {
		if g == skip {
			continue
		}
		for k, c := range group {
			if scanned++; scanned > evictScan {
				break attempts
			}
			if c.locked && c.resetAt > now {
				continue
			}
			offer(victim{kind: attemptVictim, group: g, key: k, expiry: c.resetAt})
			if seen++; seen >= evictSample {
				break attempts
			}
		}
	}
	seen, scanned = 0, 0
	for k, c := range cs.m {
		if scanned++; scanned > evictScan {
			break
		}
		if c.resetAt <= now {
			offer(victim{kind: counterVictim, key: k, expiry: c.resetAt})
			if seen++; seen >= evictSample {
				break
			}
		}
	}
	if !found {
		return false
	}
	switch best.kind {
	case limitVictim:
		delete(cs.limits, best.key)
	case attemptVictim:
		group := cs.attempts[best.group]
		delete(group, best.key)
		if len(group) == 0 {
			delete(cs.attempts, best.group)
		}
	case counterVictim:
		delete(cs.m, best.key)
	}
	s.evicted.Add(1)
	return true
}
