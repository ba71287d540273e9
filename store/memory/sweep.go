package memory

import (
	"sync"
	"time"
	"weak"
)

// Sweep deletes every expired entry now and returns how many it deleted.
// The sweeper calls it every [Options.SweepInterval]; tests call it to
// sweep at a moment of their choosing.
func (s *Store) Sweep() int {
	now := s.clock()
	n := 0
	for i := range s.index {
		is := &s.index[i]
		is.mu.Lock()
		for _, sub := range is.m {
			expired, _ := s.prune(is, sub, now, nil)
			n += expired
		}
		is.mu.Unlock()
	}
	for i := range s.counters {
		cs := &s.counters[i]
		cs.mu.Lock()
		for k, c := range cs.m {
			if c.resetAt <= now {
				delete(cs.m, k)
				s.counterCount.Add(-1)
				n++
			}
		}
		for g, group := range cs.attempts {
			for k, c := range group {
				if c.resetAt <= now {
					delete(group, k)
					s.counterCount.Add(-1)
					n++
				}
			}
			if len(group) == 0 {
				delete(cs.attempts, g)
			}
		}
		for k, tat := range cs.limits {
			if tat <= now {
				delete(cs.limits, k)
				s.counterCount.Add(-1)
				n++
			}
		}
		cs.mu.Unlock()
	}
	return n
}

type sweeper struct {
	stop chan struct{}
	done chan struct{}
	kick chan struct{} // asks for a sweep before the next tick
	once sync.Once
}

func (w *sweeper) halt() { w.once.Do(func() { close(w.stop) }) }

func (w *sweeper) nudge() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// kickGap spaces out the sweeps a full store asks for: each one walks the
// whole store, and a flood of refused writes must not turn into a flood
// of sweeps.
const kickGap = time.Second

func (w *sweeper) run(s weak.Pointer[Store], every time.Duration) {
	defer close(w.done)
	t := time.NewTicker(every)
	defer t.Stop()
	var last time.Time
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		case <-w.kick:
			if time.Since(last) < kickGap {
				continue
			}
		}
		st := s.Value()
		if st == nil {
			return
		}
		st.Sweep()
		last = time.Now()
	}
}
