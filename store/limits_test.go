package store

import (
	"testing"
	"time"
)

func TestGCRA(t *testing.T) {
	const iv = int64(10) // one unit every 10 ticks, burst 3
	var tat int64
	now := int64(1000)
	take := func(n int) (bool, int64, int) {
		newTAT, ok, retry, rem := GCRA(tat, now, iv, 3, n)
		if ok {
			tat = newTAT
		} else if newTAT != max(tat, now) {
			t.Fatalf("a refused take moved the state: %d", newTAT)
		}
		return ok, retry, rem
	}
	for i, want := range []int{2, 1, 0} {
		if ok, _, rem := take(1); !ok || rem != want {
			t.Fatalf("take %d of the burst: %v, remaining %d; want allowed, %d", i+1, ok, rem, want)
		}
	}
	if ok, retry, rem := take(1); ok || retry != 10 || rem != 0 {
		t.Fatalf("fourth take: %v, retry %d, remaining %d; want refused, 10, 0", ok, retry, rem)
	}
	now += 10
	if ok, _, _ := take(1); !ok {
		t.Fatal("a unit came free after one interval and was refused")
	}
	now += 1000 // idle: the state has passed, the full burst is back
	if ok, _, rem := take(3); !ok || rem != 0 {
		t.Fatalf("full burst after idling: %v, remaining %d", ok, rem)
	}
	if ok, retry, _ := take(2); ok || retry != 20 {
		t.Fatalf("take 2 with none left: %v, retry %d; want refused, 20", ok, retry)
	}
}

func TestCheckTake(t *testing.T) {
	good := PerPeriod(5, time.Minute)
	if good.Interval != 12*time.Second || good.Burst != 5 || CheckTake(good, 5) != nil {
		t.Fatalf("PerPeriod(5, minute) = %+v", good)
	}
	for _, tc := range []struct {
		r Rate
		n int
	}{{Rate{}, 1}, {Rate{Interval: time.Second}, 1}, {good, 0}, {good, 6}, {PerPeriod(0, time.Second), 1},
		{Rate{Interval: MaxRateSpan, Burst: 2}, 1}, {Rate{Interval: 1 << 62, Burst: 1 << 30}, 1}} {
		if CheckTake(tc.r, tc.n) == nil {
			t.Errorf("CheckTake(%+v, %d) accepted", tc.r, tc.n)
		}
	}
}
