package password

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func newScheduler(t testing.TB, cfg SchedulerConfig) *Scheduler {
	t.Helper()
	s, err := NewScheduler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSchedulerFairness is attack 5 of issue 14 counted, not timed: one
// client keeps 32 checks in flight against one slot while a second client
// logs in 50 times. Each of the second client's checks runs, and at most 2
// other checks run between its arrival and its start (the one in the slot
// and one turn of the flooder): its wait is at most 2 checks, so its
// latency at most 3 checks.
func TestSchedulerFairness(t *testing.T) {
	s := newScheduler(t, SchedulerConfig{Slots: 1, Wait: 10 * time.Second})
	var started atomic.Int64
	check := func() { started.Add(1); time.Sleep(200 * time.Microsecond) }

	stop := make(chan struct{})
	var flood sync.WaitGroup
	var floodRan, floodBusy atomic.Int64
	for range 32 {
		flood.Add(1)
		go func() {
			defer flood.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := s.Run(context.Background(), "junk", false, check); err != nil {
					floodBusy.Add(1)
					time.Sleep(50 * time.Microsecond)
				} else {
					floodRan.Add(1)
				}
			}
		}()
	}
	time.Sleep(5 * time.Millisecond) // the flood fills its share first
	var ok, busy int
	var waits []int64
	for range 50 {
		before := started.Load()
		var at int64
		err := s.Run(context.Background(), "owner", false, func() { at = started.Load(); check() })
		if err != nil {
			busy++
			continue
		}
		ok++
		waits = append(waits, at-before)
	}
	close(stop)
	flood.Wait()
	sort.Slice(waits, func(i, j int) bool { return waits[i] < waits[j] })
	t.Logf("owner: %d ran, %d busy; checks ahead of it: median %d, max %d; flood: %d ran, %d shed",
		ok, busy, waits[len(waits)/2], waits[len(waits)-1], floodRan.Load(), floodBusy.Load())
	if ok < 45 {
		t.Errorf("the owner's checks ran %d of 50 times beside a flood, want ≥ 90%%", ok)
	}
	if max := waits[len(waits)-1]; max > 2 {
		t.Errorf("up to %d checks ran ahead of an owner's check that was waiting, want ≤ 2", max)
	}
}

func TestSchedulerShedsAtOnce(t *testing.T) {
	s := newScheduler(t, SchedulerConfig{Slots: 1, Wait: time.Hour, MaxQueue: 3, MaxQueuePerClient: 2})
	hold := make(chan struct{})
	running := make(chan struct{})
	go s.Run(context.Background(), "a", false, func() { close(running); <-hold })
	<-running
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); _ = s.Run(context.Background(), "a", false, func() {}) }()
	}
	waitFor(t, func() bool { return s.queued() == 2 })
	start := time.Now()
	if err := s.Run(context.Background(), "a", false, func() { t.Error("ran past the client's queue") }); !errors.Is(err, ErrBusy) {
		t.Fatalf("third queued check of one client: %v, want ErrBusy", err)
	}
	wg.Add(1)
	go func() { defer wg.Done(); _ = s.Run(context.Background(), "b", false, func() {}) }()
	waitFor(t, func() bool { return s.queued() == 3 })
	// The queue is full. A newcomer takes the place of the newest check of
	// the client with the most waiting ("a", two): that check is busy.
	wg.Add(1)
	go func() { defer wg.Done(); _ = s.Run(context.Background(), "c", false, func() {}) }()
	waitFor(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.clients["c"] != nil && len(s.clients["a"].queued[1]) == 1
	})
	// Now nobody has two waiting: the next newcomer is refused at once.
	if err := s.Run(context.Background(), "d", false, func() { t.Error("ran past the queue") }); !errors.Is(err, ErrBusy) {
		t.Fatalf("a check past MaxQueue: %v, want ErrBusy", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("shedding took %v: it must not wait", d)
	}
	close(hold)
	wg.Wait()
	if n := s.tracked(); n != 0 {
		t.Errorf("%d clients still tracked when idle", n)
	}
}

func TestSchedulerWaitAndCancel(t *testing.T) {
	s := newScheduler(t, SchedulerConfig{Slots: 1, Wait: 20 * time.Millisecond})
	hold, running := make(chan struct{}), make(chan struct{})
	go s.Run(context.Background(), "a", false, func() { close(running); <-hold })
	<-running
	if err := s.Run(context.Background(), "b", false, func() {}); !errors.Is(err, ErrBusy) {
		t.Fatalf("no slot within the wait: %v, want ErrBusy", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Run(ctx, "b", false, func() {}); !errors.Is(err, ErrBusy) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v, want ErrBusy joined with context.Canceled", err)
	}
	close(hold)
	waitFor(t, func() bool { return s.tracked() == 0 })
	if s.queued() != 0 {
		t.Errorf("%d waiters left behind by checks that gave up", s.queued())
	}
}

// runOrder holds the only slot of a scheduler, queues one check per
// entry of first (marked First or not) in that order, releases the slot
// and returns the order the checks ran in, "F" for First and "p" for the
// others.
func runOrder(t *testing.T, first ...bool) string {
	s := newScheduler(t, SchedulerConfig{Slots: 1, Wait: time.Hour, MaxQueuePerClient: 8})
	hold, running := make(chan struct{}), make(chan struct{})
	go s.Run(context.Background(), "x", false, func() { close(running); <-hold })
	<-running
	var order []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, f := range first {
		name := map[bool]string{true: "F", false: "p"}[f]
		wg.Go(func() {
			_ = s.Run(context.Background(), fmt.Sprint(name, i), f, func() { mu.Lock(); order = append(order, name); mu.Unlock() })
		})
		waitFor(t, func() bool { return s.queued() == i+1 })
	}
	close(hold)
	wg.Wait()
	return strings.Join(order, "")
}

// TestSchedulerFirstGoesFirst: a check marked First (a known device) is
// given the next slot ahead of every check that waited longer.
func TestSchedulerFirstGoesFirst(t *testing.T) {
	if got := runOrder(t, false, false, false, true); got != "Fppp" {
		t.Fatalf("order %s: the known device's check did not go first", got)
	}
}

// TestSchedulerFirstNeverStarvesTheRest: with First and plain checks
// waiting, they alternate: a flood marked First (anyone can know a device
// of an account of their own) takes at most every other slot.
func TestSchedulerFirstNeverStarvesTheRest(t *testing.T) {
	if got := runOrder(t, true, true, true, false, false, false); got != "FpFpFp" {
		t.Fatalf("order %s, want FpFpFp: First checks alternate with the others", got)
	}
}

// TestSchedulerNeverOverSlots: many clients, random First, never more than
// Slots running at once, and every check either runs or is ErrBusy.
func TestSchedulerNeverOverSlots(t *testing.T) {
	s := newScheduler(t, SchedulerConfig{Slots: 3, Wait: 50 * time.Millisecond})
	var now, peak atomic.Int64
	var wg sync.WaitGroup
	var ran, busy atomic.Int64
	for i := range 400 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Run(context.Background(), fmt.Sprint(i%7), i%5 == 0, func() {
				n := now.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(100 * time.Microsecond)
				now.Add(-1)
			})
			switch {
			case err == nil:
				ran.Add(1)
			case errors.Is(err, ErrBusy):
				busy.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if peak.Load() > 3 {
		t.Errorf("%d checks ran at once with 3 slots", peak.Load())
	}
	if ran.Load()+busy.Load() != 400 || ran.Load() == 0 {
		t.Errorf("ran %d, busy %d of 400", ran.Load(), busy.Load())
	}
	if s.tracked() != 0 || s.queued() != 0 || s.free != 3 {
		t.Errorf("idle scheduler holds %d clients, %d waiters, %d free slots", s.tracked(), s.queued(), s.free)
	}
}

func TestNewSchedulerRefusesNegatives(t *testing.T) {
	for _, cfg := range []SchedulerConfig{{Slots: -1}, {Wait: -1}, {MaxQueue: -1}, {MaxQueuePerClient: -1}} {
		if _, err := NewScheduler(cfg); err == nil {
			t.Errorf("NewScheduler(%+v) accepted", cfg)
		}
	}
}

func (s *Scheduler) queued() int  { s.mu.Lock(); defer s.mu.Unlock(); return s.waiting }
func (s *Scheduler) tracked() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.clients) }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5 s")
		}
	}
}

// TestSchedulerQueueFullOfFloodersAdmitsNewcomers: four clients keep the
// whole queue (4 × 4 places) filled; a fifth client with one check must
// still get in, taking the place of a flooder's newest check. Found by a
// review: before, 49 of the fifth client's 50 checks were refused.
func TestSchedulerQueueFullOfFloodersAdmitsNewcomers(t *testing.T) {
	s := newScheduler(t, SchedulerConfig{Slots: 1, Wait: 2 * time.Second})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := range 4 {
		for range 8 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if s.Run(context.Background(), fmt.Sprint("flood", c), false, func() { time.Sleep(2 * time.Millisecond) }) != nil {
						time.Sleep(20 * time.Microsecond)
					}
				}
			})
		}
	}
	waitFor(t, func() bool { return s.queued() == 16 })
	var ok, busy int
	for range 50 {
		if err := s.Run(context.Background(), "victim", false, func() {}); err != nil {
			busy++
		} else {
			ok++
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("victim: %d ran, %d busy", ok, busy)
	if ok < 45 {
		t.Errorf("a fifth client ran %d of 50 checks while four others kept the queue full, want ≥ 90%%", ok)
	}
	if s.tracked() != 0 || s.queued() != 0 || s.free != 1 {
		t.Errorf("idle scheduler holds %d clients, %d waiters, %d free slots", s.tracked(), s.queued(), s.free)
	}
}

// BenchmarkOwnerUnderFlood measures issue 14's target for the fair
// scheduler: one slot, 32 goroutines of one client flooding it with 1 ms
// checks, and an owner's check each iteration. It reports the owner's p50
// and p99 latency in checks (target: p99 ≤ 3) and the share of the owner's
// checks that ran (target: ≥ 90 %).
//
//	go test -run x -bench OwnerUnderFlood ./password
func BenchmarkOwnerUnderFlood(b *testing.B) {
	const check = time.Millisecond
	s := newScheduler(b, SchedulerConfig{Slots: 1, Wait: time.Minute})
	// The unit is what a check really takes here (a 1 ms sleep takes
	// longer on a loaded machine), measured inside the slot.
	var inSlot, checks atomic.Int64
	work := func() {
		start := time.Now()
		time.Sleep(check)
		inSlot.Add(int64(time.Since(start)))
		checks.Add(1)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if s.Run(context.Background(), "flood", false, work) != nil {
					time.Sleep(50 * time.Microsecond)
				}
			}
		})
	}
	time.Sleep(10 * check)
	var took []time.Duration
	ran := 0
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if s.Run(context.Background(), "owner", false, work) == nil {
			ran++
		}
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	slices.Sort(took)
	unit := float64(inSlot.Load()) / float64(checks.Load())
	b.ReportMetric(float64(took[len(took)/2])/unit, "p50-checks")
	b.ReportMetric(float64(took[len(took)*99/100])/unit, "p99-checks")
	b.ReportMetric(100*float64(ran)/float64(len(took)), "%ran")
}
