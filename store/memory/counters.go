package memory

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
)

// counter is a count and when it ends (unix nanoseconds). locked marks an
// attempt counter that has reached its limit: eviction leaves it alone
// (see Options.MaxCounters). Plain counters leave it false.
type counter struct {
	n, resetAt int64
	locked     bool
}

// Hit implements [store.Counters]. It fails for a window that is not
// positive.
func (s *Store) Hit(_ context.Context, key string, window time.Duration) (store.Count, error) {
	if window <= 0 {
		return store.Count{}, fmt.Errorf("memory: counter window %v", window)
	}
	now := s.clock()
	cs := s.counterShard(key)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c, ok := cs.m[key]
	if !ok || c.resetAt <= now {
		if !ok {
			if !s.reserveCounter(cs, "", now) {
				return store.Count{}, store.ErrFull
			}
			key = strings.Clone(key)
		}
		c = counter{resetAt: addNanos(now, window)}
	}
	c.n++
	cs.m[key] = c
	return store.Count{N: c.n, ResetAt: toTime(c.resetAt)}, nil
}

// Peek implements [store.Counters].
func (s *Store) Peek(_ context.Context, key string) (store.Count, error) {
	now := s.clock()
	cs := s.counterShard(key)
	cs.mu.RLock()
	defer cs.mu.RUnlock()
	c, ok := cs.m[key]
	if !ok || c.resetAt <= now {
		return store.Count{}, nil
	}
	return store.Count{N: c.n, ResetAt: toTime(c.resetAt)}, nil
}

// Reset implements [store.Counters].
func (s *Store) Reset(_ context.Context, key string) error {
	cs := s.counterShard(key)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if _, ok := cs.m[key]; ok {
		delete(cs.m, key)
		s.counterCount.Add(-1)
	}
	return nil
}
