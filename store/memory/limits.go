package memory

import (
	"context"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
)

var _ store.Limits = (*Store)(nil)

// Take implements [store.Limits]. A limit is one int64 under its key,
// kept (and counted against Options.MaxCounters) until it has passed.
func (s *Store) Take(_ context.Context, key string, r store.Rate, n int) (store.Decision, error) {
	if err := store.CheckTake(r, n); err != nil {
		return store.Decision{}, err
	}
	now := s.clock()
	cs := s.counterShard(key)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	tat, ok := cs.limits[key]
	newTAT, allowed, retry, remaining := store.GCRA(tat, now, int64(r.Interval), r.Burst, n)
	if !allowed {
		return store.Decision{RetryAfter: time.Duration(retry), Remaining: remaining}, nil
	}
	if !ok {
		if !s.reserveCounter(cs, "", now) {
			return store.Decision{}, store.ErrFull
		}
		key = strings.Clone(key)
	}
	cs.limits[key] = newTAT
	return store.Decision{Allowed: true, Remaining: remaining}, nil
}
