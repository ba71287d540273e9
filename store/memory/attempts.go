package memory

import (
	"context"
	"strings"

	"github.com/gatehouse-go/gatehouse/store"
)

var _ store.Attempts = (*Store)(nil)

// CountAttempt implements [store.Attempts]. The group's counters live in
// one shard, under its lock; each counter is an entry against
// Options.MaxCounters. A counter that reaches its limit is flagged locked
// and is never evicted while it lasts (see Options.MaxCounters); the
// others may be, when the budget is full.
func (s *Store) CountAttempt(_ context.Context, a store.Attempt) (store.AttemptResult, error) {
	if err := store.CheckAttempt(a); err != nil {
		return store.AttemptResult{}, err
	}
	now := s.clock()
	keys := [4]string{a.NameClient, a.Name, a.AccountClient, a.Account}
	cs := s.counterShard(a.Group)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	group := cs.attempts[a.Group]
	var counts [4]counter
	for i, k := range keys {
		if c, ok := group[k]; ok && k != "" && c.resetAt > now {
			counts[i] = c
		}
	}
	r, out := countAttempt(a, now, counts)
	if r.Locked {
		return r, nil
	}
	// Room first, for every counter this attempt creates, so that a full
	// store changes nothing.
	fresh := 0
	for i, k := range keys {
		if _, ok := group[k]; !ok && out[i].n > 0 {
			fresh++
		}
	}
	for j := range fresh {
		// An eviction frees a place and takes it: giving the place back
		// is the same as for a free one.
		if !s.reserveCounter(cs, a.Group, now) {
			s.counterCount.Add(-int64(j))
			return store.AttemptResult{}, store.ErrFull
		}
	}
	if group == nil {
		group = make(map[string]counter, 4)
		cs.attempts[strings.Clone(a.Group)] = group
	}
	for i, k := range keys {
		if out[i].n == 0 {
			continue
		}
		if _, ok := group[k]; !ok {
			k = strings.Clone(k)
		}
		group[k] = out[i]
	}
	return r, nil
}

// countAttempt is the decision of CountAttempt on counts already read (a
// zero count for one missing or expired), in nanoseconds: the result, and
// the counts to store in the order nameClient, name, accountClient,
// account, where a zero count is left as it was. The Lua of the Redis
// store (attemptScript) mirrors it line for line, all but the locked flag,
// which only this store's eviction reads.
func countAttempt(a store.Attempt, now int64, c [4]counter) (store.AttemptResult, [4]counter) {
	const nameClient, name, accountClient, account = 0, 1, 2, 3
	k, m := int64(a.PerClient), int64(a.Total)
	var until int64
	if c[nameClient].n >= k {
		until = c[nameClient].resetAt
	}
	if !a.KnownDevice && c[name].n >= m {
		until = max(until, c[name].resetAt)
	}
	if until > 0 {
		return store.AttemptResult{Locked: true, Until: toTime(until)}, [4]counter{}
	}
	held := a.Account != "" && (c[accountClient].n >= k || (!a.KnownDevice && c[account].n >= m))
	hit := func(c counter, limit int64) counter {
		if c.n == 0 {
			c.resetAt = addNanos(now, a.Window)
		}
		c.n++
		// Only the attempt that reaches the limit sets the lock's end:
		// later ones (a known device's, past a total) must not push it on,
		// or the owner's own logins would renew an attacker's lock.
		if c.n == limit {
			c.resetAt = max(c.resetAt, addNanos(now, a.LockFor))
			c.locked = true
		}
		return c
	}
	var out [4]counter
	out[nameClient] = hit(c[nameClient], k)
	out[name] = hit(c[name], m)
	r := store.AttemptResult{Held: held, NameCounted: true}
	if a.Account != "" && !held {
		out[accountClient] = hit(c[accountClient], k)
		out[account] = hit(c[account], m)
		r.AccountCounted = true
	}
	return r, out
}

// ForgiveAttempt implements [store.Attempts].
func (s *Store) ForgiveAttempt(_ context.Context, a store.Attempt) error {
	return s.inGroup(a, func(cs *counterShard, group map[string]counter, now int64) {
		s.forgive(cs, a, group, now)
	})
}

// inGroup checks a and calls f with its group's counters (nil for none)
// under the group's shard lock.
func (s *Store) inGroup(a store.Attempt, f func(cs *counterShard, group map[string]counter, now int64)) error {
	if err := store.CheckAttempt(a); err != nil {
		return err
	}
	now := s.clock()
	cs := s.counterShard(a.Group)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	f(cs, cs.attempts[a.Group], now)
	return nil
}

// forgive is ForgiveAttempt under the group's lock.
func (s *Store) forgive(cs *counterShard, a store.Attempt, group map[string]counter, now int64) {
	if group == nil {
		return
	}
	forgive := func(client, all string) {
		c, ok := group[client]
		if !ok || client == "" {
			return
		}
		delete(group, client)
		s.counterCount.Add(-1)
		if t, ok := group[all]; ok && c.resetAt > now && t.resetAt > now {
			t.n = max(0, t.n-c.n)
			t.locked = t.n >= int64(a.Total)
			group[all] = t
		}
	}
	forgive(a.NameClient, a.Name)
	forgive(a.AccountClient, a.Account)
	if len(group) == 0 {
		delete(cs.attempts, a.Group)
	}
}

// UncountAttempt implements [store.Attempts].
func (s *Store) UncountAttempt(_ context.Context, a store.Attempt, r store.AttemptResult) error {
	return s.inGroup(a, func(_ *counterShard, group map[string]counter, now int64) {
		takeBack := func(k string, limit int) {
			if c, ok := group[k]; ok && c.resetAt > now && c.n > 0 {
				c.n--
				c.locked = c.n >= int64(limit)
				group[k] = c
			}
		}
		if r.NameCounted {
			takeBack(a.NameClient, a.PerClient)
			takeBack(a.Name, a.Total)
		}
		if r.AccountCounted {
			takeBack(a.AccountClient, a.PerClient)
			takeBack(a.Account, a.Total)
		}
	})
}

// ClearAttempts implements [store.Attempts].
func (s *Store) ClearAttempts(_ context.Context, group string) error {
	cs := s.counterShard(group)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if g, ok := cs.attempts[group]; ok {
		s.counterCount.Add(-int64(len(g)))
		delete(cs.attempts, group)
	}
	return nil
}
