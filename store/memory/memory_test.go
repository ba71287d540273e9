package memory

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		s := New(Options{Now: now})
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// newTest returns a store without a sweeper and its clock.
func newTest(t testing.TB, max int) (*Store, *fakeclock.Clock) {
	clk := fakeclock.New(time.Now())
	s := New(Options{MaxRecords: max, SweepInterval: -1, Now: clk.Now})
	t.Cleanup(func() { s.Close() })
	return s, clk
}

func newID() store.ID {
	id := store.ID{Tag: "t0"}
	rand.Read(id.Hash[:])
	return id
}

func record(clk *fakeclock.Clock, subject string, ttl time.Duration) store.Record {
	return store.Record{Kind: store.KindDevice, Subject: subject, Family: "f-" + subject, ExpiresAt: clk.Now().Add(ttl)}
}

// held counts what the store's maps hold, to catch entries and index
// nodes that outlive their records.
func (s *Store) held() (tokens, subjects, counters int) {
	for i := range s.tokens {
		tokens += len(s.tokens[i].m)
	}
	for i := range s.index {
		subjects += len(s.index[i].m)
	}
	for i := range s.counters {
		counters += len(s.counters[i].m)
	}
	return tokens, subjects, counters
}

func wantEmpty(t *testing.T, s *Store) {
	t.Helper()
	tokens, subjects, counters := s.held()
	if tokens+subjects+counters != 0 || s.Len() != 0 {
		t.Fatalf("store holds %d tokens, %d subjects, %d counters, Len %d; want nothing",
			tokens, subjects, counters, s.Len())
	}
}

func TestSweep(t *testing.T) {
	s, clk := newTest(t, 0)
	ctx := t.Context()
	short, long := newID(), newID()
	for i := range 10 {
		if err := s.Put(ctx, newID(), record(clk, fmt.Sprint("user-", i), time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	s.Put(ctx, short, record(clk, "spender", time.Minute))
	s.Put(ctx, long, record(clk, "keeper", time.Hour))
	next := newID()
	if rot, err := s.Rotate(ctx, short, next, time.Minute); err != nil || rot.Status != store.RotateDone {
		t.Fatalf("Rotate = %v, %v", rot.Status, err)
	}
	s.Hit(ctx, "short", time.Minute)
	s.Hit(ctx, "long", time.Hour)
	if n := s.Sweep(); n != 0 {
		t.Fatalf("Sweep before anything expired removed %d", n)
	}

	clk.Advance(time.Minute)
	// 10 records, the spent one, its successor and a counter.
	if n := s.Sweep(); n != 13 {
		t.Fatalf("Sweep removed %d, want 13", n)
	}
	if tokens, subjects, counters := s.held(); tokens != 1 || subjects != 1 || counters != 1 || s.Len() != 2 {
		t.Fatalf("after Sweep: %d tokens, %d subjects, %d counters, Len %d; want 1, 1, 1, 2",
			tokens, subjects, counters, s.Len())
	}
	clk.Advance(time.Hour)
	s.Sweep()
	wantEmpty(t, s)
}

func TestSweeperRuns(t *testing.T) {
	clk := fakeclock.New(time.Now())
	s := New(Options{SweepInterval: time.Millisecond, Now: clk.Now})
	defer s.Close()
	s.Put(t.Context(), newID(), record(clk, "user", time.Minute))
	s.Hit(t.Context(), "k", time.Minute)
	clk.Advance(time.Minute)
	for deadline := time.Now().Add(5 * time.Second); s.Len() != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the sweeper left %d entries", s.Len())
		}
	}
	wantEmpty(t, s)
}

// waitGoroutines waits for the number of goroutines to fall to n.
func waitGoroutines(t *testing.T, n int, why string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d goroutines, want %d", why, runtime.NumGoroutine(), n)
		}
		runtime.GC()
	}
}

func TestCloseStopsSweeper(t *testing.T) {
	base := runtime.NumGoroutine()
	s := New(Options{})
	if n := runtime.NumGoroutine(); n != base+1 {
		t.Fatalf("New started %d goroutines, want 1", n-base)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	waitGoroutines(t, base, "after Close")

	// A closed store still answers.
	id := newID()
	if err := s.Put(t.Context(), id, store.Record{Kind: store.KindSession, Subject: "u", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Get(t.Context(), id); !ok || err != nil {
		t.Fatalf("Get after Close = (_, %v, %v)", ok, err)
	}
}

func TestDroppedStoreStopsSweeper(t *testing.T) {
	base := runtime.NumGoroutine()
	New(Options{SweepInterval: time.Millisecond})
	waitGoroutines(t, base, "after the store was dropped")
}

func TestNoSweeper(t *testing.T) {
	base := runtime.NumGoroutine()
	s := New(Options{SweepInterval: -1})
	if n := runtime.NumGoroutine(); n != base {
		t.Fatalf("a negative SweepInterval started %d goroutines", n-base)
	}
	s.Close()
}

// newTestCaps returns a store without a sweeper, with room for maxTokens
// token records and maxCounters counters, and its clock.
func newTestCaps(t testing.TB, maxTokens, maxCounters int) (*Store, *fakeclock.Clock) {
	clk := fakeclock.New(time.Now())
	s := New(Options{MaxRecords: maxTokens, MaxCounters: maxCounters, SweepInterval: -1, Now: clk.Now})
	t.Cleanup(func() { s.Close() })
	return s, clk
}

func TestFull(t *testing.T) {
	s, clk := newTestCaps(t, 2, 1)
	ctx := t.Context()
	a, b := newID(), newID()
	rec := record(clk, "user", time.Minute)
	s.Put(ctx, a, rec)
	s.Put(ctx, b, rec)
	if _, err := s.Hit(ctx, "k", time.Minute); err != nil {
		t.Fatal(err)
	}

	wantFull := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrFull) || !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("%s on a full store: %v, want store.ErrFull wrapping store.ErrUnavailable", op, err)
		}
	}
	wantFull("Put", s.Put(ctx, newID(), rec))
	_, err := s.Hit(ctx, "other", time.Minute)
	wantFull("Hit", err)
	_, err = s.Rotate(ctx, a, newID(), time.Minute)
	wantFull("Rotate", err)
	if _, ok, _ := s.Get(ctx, a); !ok {
		t.Fatal("a failed Rotate spent its record")
	}

	// What replaces or updates an entry needs no room.
	if err := s.Put(ctx, a, rec); err != nil {
		t.Fatalf("Put replacing a record on a full store: %v", err)
	}
	if c, err := s.Hit(ctx, "k", time.Minute); err != nil || c.N != 2 {
		t.Fatalf("Hit of an existing counter on a full store = (%d, %v)", c.N, err)
	}

	// Deleting frees room, and so does sweeping what expired.
	s.Delete(ctx, b)
	if err := s.Put(ctx, newID(), rec); err != nil {
		t.Fatalf("Put after Delete: %v", err)
	}
	clk.Advance(time.Minute)
	wantFull("Put of expired but unswept", s.Put(ctx, newID(), record(clk, "user", time.Minute)))
	s.Sweep()
	for range 2 {
		if err := s.Put(ctx, newID(), record(clk, "user", time.Minute)); err != nil {
			t.Fatalf("Put after Sweep: %v", err)
		}
	}
}

// TestFullWakesSweeper: room comes back soon after expiry, without
// waiting for the next tick.
func TestFullWakesSweeper(t *testing.T) {
	clk := fakeclock.New(time.Now())
	s := New(Options{MaxRecords: 1, SweepInterval: time.Hour, Now: clk.Now})
	defer s.Close()
	ctx := t.Context()
	if err := s.Put(ctx, newID(), record(clk, "user", time.Minute)); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		err := s.Put(ctx, newID(), record(clk, "user", time.Minute))
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrFull) || time.Now().After(deadline) {
			t.Fatalf("Put on a store full of expired records: %v", err)
		}
	}
}

func TestCallerMistakes(t *testing.T) {
	s, clk := newTest(t, 0)
	ctx := t.Context()
	id := newID()
	rec := record(clk, "user", time.Minute)
	s.Put(ctx, id, rec)

	for _, c := range []struct {
		name string
		err  error
	}{
		{"Put with a bad tag", s.Put(ctx, store.ID{Tag: "T!"}, rec)},
		{"Put without a subject", s.Put(ctx, newID(), store.Record{Kind: store.KindSession, ExpiresAt: rec.ExpiresAt})},
		{"Rotate to another tag", rotateErr(s.Rotate(ctx, id, store.ID{Tag: "t1"}, time.Minute))},
		{"Rotate to the same id", rotateErr(s.Rotate(ctx, id, id, time.Minute))},
		{"Rotate with no lifetime", rotateErr(s.Rotate(ctx, id, newID(), 0))},
		{"Hit with no window", countErr(s.Hit(ctx, "k", 0))},
	} {
		if c.err == nil || errors.Is(c.err, store.ErrUnavailable) {
			t.Errorf("%s: error %v, want a caller's-mistake error", c.name, c.err)
		}
	}
	if _, ok, _ := s.Get(ctx, id); !ok {
		t.Fatal("a refused Rotate spent its record")
	}
	if s.Len() != 1 {
		t.Fatalf("refused calls left Len %d, want 1", s.Len())
	}
}

func rotateErr(_ store.Rotation, err error) error { return err }
func countErr(_ store.Count, err error) error     { return err }

// TestIndexUnderRace mixes every kind of change across few subjects while
// time passes and the sweeper runs, then checks that nothing is left
// behind once everything has expired.
func TestIndexUnderRace(t *testing.T) {
	s, clk := newTest(t, 0)
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				clk.Advance(time.Millisecond)
				s.Sweep()
			}
		}
	})
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				subject := fmt.Sprint("user-", i%5)
				id := newID()
				rec := record(clk, subject, time.Duration(i%7+1)*time.Millisecond)
				rec.Family = fmt.Sprint("f", i%3)
				if err := s.Put(ctx, id, rec); err != nil {
					t.Error(err)
					return
				}
				switch (g + i) % 5 {
				case 0:
					s.Consume(ctx, id)
				case 1:
					next := newID()
					s.Rotate(ctx, id, next, time.Millisecond)
					s.Rotate(ctx, id, newID(), time.Millisecond)
				case 2:
					s.DeleteAll(ctx, "t0", subject, store.Filter{Family: rec.Family})
				case 3:
					s.Put(ctx, id, record(clk, "other-"+subject, time.Millisecond))
				case 4:
					s.List(ctx, "t0", subject, store.Filter{})
				}
				s.Hit(ctx, subject, time.Millisecond)
			}
		})
	}
	time.Sleep(10 * time.Millisecond)
	close(stop)
	wg.Wait()
	clk.Advance(time.Hour)
	s.Sweep()
	wantEmpty(t, s)
}

func TestGetDoesNotAllocate(t *testing.T) {
	s, clk := newTest(t, 0)
	id := newID()
	rec := record(clk, "user", time.Hour)
	rec.Project, rec.Device = "project", "phone"
	s.Put(t.Context(), id, rec)
	ctx := t.Context()
	if n := testing.AllocsPerRun(1000, func() { s.Get(ctx, id) }); n != 0 {
		t.Fatalf("Get allocates %v times", n)
	}
}

// TestBytesPerSession measures the heap a live session token takes, index
// and map slots included. The index costs most when every subject has one
// session; the limit is checked for two, and the worst case logged.
func TestBytesPerSession(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocates 300,000 records, slowly under the race detector")
	}
	for _, perSubject := range []int{1, 2, 10} {
		per := bytesPerSession(t, 100_000, perSubject)
		t.Logf("%.0f bytes per live session token, %d per subject", per, perSubject)
		if perSubject > 1 && per > 250 {
			t.Errorf("%.0f bytes per live session token, want at most 250", per)
		}
	}
}

func bytesPerSession(t *testing.T, n, perSubject int) float64 {
	ids := make([]store.ID, n)
	for i := range ids {
		ids[i] = newID()
	}
	projects := []string{"project-1", "project-2", "project-3"}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, clk := newTest(t, 0)
	for i, id := range ids {
		rec := store.Record{
			Kind:      store.KindSession,
			Subject:   fmt.Sprintf("user-%08d", i/perSubject),
			Project:   projects[i%len(projects)],
			IssuedAt:  clk.Now(),
			ExpiresAt: clk.Now().Add(time.Hour),
		}
		if err := s.Put(t.Context(), id, rec); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

func BenchmarkGet(b *testing.B) {
	s, clk := newTest(b, 0)
	ids := make([]store.ID, 10_000)
	for i := range ids {
		ids[i] = newID()
		rec := record(clk, fmt.Sprint("user-", i), time.Hour)
		rec.Kind, rec.Project = store.KindSession, "project"
		s.Put(context.Background(), ids[i], rec)
	}
	ctx := context.Background()
	b.Run("Serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, ok, _ := s.Get(ctx, ids[i%len(ids)]); !ok {
				b.Fatal("miss")
			}
			i++
		}
	})
	b.Run("Miss", func(b *testing.B) {
		b.ReportAllocs()
		unknown := newID()
		for b.Loop() {
			if _, ok, _ := s.Get(ctx, unknown); ok {
				b.Fatal("hit")
			}
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, ok, _ := s.Get(ctx, ids[i%len(ids)]); !ok {
					b.Fatal("miss")
				}
				i += 7
			}
		})
	})
}
