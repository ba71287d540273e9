package storetest

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
)

var touchCases = []testCase{
	{"AtMostOncePerInterval", testTouchInterval},
	{"KeepsTheRest", testTouchKeepsTheRest},
	{"Misses", testTouchMisses},
	{"OneWriterUnderRace", testTouchRace},
	{"BadInterval", testTouchBadInterval},
}

func (e *env) touch(id store.ID, every time.Duration) bool {
	e.Helper()
	ok, err := e.s.Touch(e.ctx, id, every)
	if err != nil {
		e.Fatalf("Touch: %v", err)
	}
	return ok
}

// testTouchInterval: a record is touched only when it was last seen (or
// issued, if never touched) at least the interval ago, and a touch sets
// LastSeen to the store's now.
func testTouchInterval(e *env) {
	r := e.rec(store.KindSession, "user")
	id := e.putNew(r)
	if e.touch(id, time.Minute) {
		e.Fatal("Touch of a record issued now wrote, want no write before the interval")
	}
	e.wantHit(id, r) // LastSeen still zero
	e.clk.Advance(59 * time.Second)
	if e.touch(id, time.Minute) {
		e.Fatal("Touch 59s after issue wrote")
	}
	e.clk.Advance(time.Second)
	if !e.touch(id, time.Minute) {
		e.Fatal("Touch one interval after issue did not write")
	}
	r.LastSeen = e.clk.Now()
	e.wantHit(id, r)
	if e.touch(id, time.Minute) {
		e.Fatal("second Touch at the same instant wrote")
	}
	e.clk.Advance(30 * time.Second)
	if e.touch(id, time.Minute) {
		e.Fatal("Touch 30s after the last one wrote")
	}
	e.wantHit(id, r)
	e.clk.Advance(45 * time.Second)
	if !e.touch(id, time.Minute) {
		e.Fatal("Touch 75s after the last one did not write")
	}
	r.LastSeen = e.clk.Now()
	e.wantHit(id, r)
	// An interval of zero always writes.
	e.clk.Advance(time.Millisecond)
	if !e.touch(id, 0) {
		e.Fatal("Touch with interval 0 did not write")
	}
	r.LastSeen = e.clk.Now()
	e.wantHit(id, r)
	// A record put with a LastSeen counts from it, not from IssuedAt.
	seen := e.rec(store.KindSession, "user")
	seen.IssuedAt = seen.IssuedAt.Add(-time.Hour)
	seen.LastSeen = e.clk.Now().Add(-10 * time.Second)
	if e.touch(e.putNew(seen), time.Minute) {
		e.Fatal("Touch of a record seen 10s ago wrote")
	}
}

// testTouchKeepsTheRest: a touch changes LastSeen alone: the expiry holds,
// the record stays listed and revocable, and a rotation's successor
// starts untouched.
func testTouchKeepsTheRest(e *env) {
	r := e.rec(store.KindDevice, "user")
	r.Project, r.Device, r.Family, r.Assurance = "p", "phone", "fam", 2
	r.AuthTime, r.ChainEnd = r.IssuedAt, r.IssuedAt.Add(2*time.Hour)
	id := e.putNew(r)
	e.clk.Advance(10 * time.Minute)
	if !e.touch(id, time.Minute) {
		e.Fatal("Touch did not write")
	}
	r.LastSeen = e.clk.Now()
	e.wantHit(id, r)
	e.wantList("user", store.Filter{}, map[store.ID]store.Record{id: r})

	next := newID()
	rot := e.rotate(id, next, 3*time.Hour) // held to the chain's end, 2h
	if rot.Status != store.RotateDone || !rot.Record.LastSeen.IsZero() {
		e.Fatalf("Rotate of a touched record = %v with LastSeen %v, want RotateDone and no LastSeen", rot.Status, rot.Record.LastSeen)
	}
	if e.touch(id, 0) {
		e.Error("Touch of a spent record wrote")
	}

	s := e.rec(store.KindSession, "user")
	sid := e.putNew(s)
	e.clk.Advance(59 * time.Minute)
	if !e.touch(sid, time.Minute) {
		e.Fatal("Touch did not write")
	}
	e.clk.Advance(time.Minute) // the record's own expiry: touching did not move it
	e.wantMiss(sid, "past the expiry of a touched record")
	if e.touch(sid, 0) {
		e.Error("Touch of an expired record wrote")
	}
	if n, err := e.s.DeleteAll(e.ctx, tag, "user", store.Filter{}); err != nil || n != 1 {
		e.Errorf("DeleteAll = %d, %v; want the successor alone", n, err)
	}
}

// testTouchMisses: unknown, deleted and bad-tag ids are misses: false and
// a nil error, and nothing is created.
func testTouchMisses(e *env) {
	if e.touch(newID(), 0) {
		e.Error("Touch of an unknown id wrote")
	}
	id := e.putNew(e.rec(store.KindSession, "user"))
	if _, err := e.s.Delete(e.ctx, id); err != nil {
		e.Fatal(err)
	}
	if e.touch(id, 0) {
		e.Error("Touch of a deleted record wrote")
	}
	e.wantMiss(id, "after touching a deleted record")
	for _, bad := range []string{"", "T0", "{t0}", "0123456789abcdefg"} {
		if ok, err := e.s.Touch(e.ctx, store.ID{Tag: bad, Hash: id.Hash}, 0); ok || err != nil {
			e.Errorf("Touch with tag %q = %v, %v; want a miss", bad, ok, err)
		}
	}
}

// testTouchRace: of many touches of one record at one instant, one writes.
func testTouchRace(e *env) {
	id := e.putNew(e.rec(store.KindSession, "user"))
	e.clk.Advance(time.Hour - time.Minute)
	var wrote atomic.Int32
	race(16, func(int) {
		ok, err := e.s.Touch(e.ctx, id, time.Minute)
		if err != nil {
			e.Errorf("Touch: %v", err)
		}
		if ok {
			wrote.Add(1)
		}
	})
	if n := wrote.Load(); n != 1 {
		e.Errorf("%d of 16 concurrent touches wrote, want 1", n)
	}
}

// testTouchBadInterval: a negative interval is the caller's mistake.
func testTouchBadInterval(e *env) {
	id := e.putNew(e.rec(store.KindSession, "user"))
	e.clk.Advance(time.Minute)
	ok, err := e.s.Touch(e.ctx, id, -time.Second)
	if err == nil || ok || errors.Is(err, store.ErrUnavailable) {
		e.Errorf("Touch(-1s) = %v, %v; want a caller error", ok, err)
	}
	if !e.touch(id, time.Second) {
		e.Error("the refused Touch changed the record")
	}
}
