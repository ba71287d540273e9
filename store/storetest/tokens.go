package storetest

import (
	"sync/atomic"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
)

var tokenCases = []testCase{
	{"RoundTrip", testRoundTrip},
	{"GetUnknown", testGetUnknown},
	{"BadTag", testBadTag},
	{"PutReplaces", testPutReplaces},
	{"Expiry", testExpiry},
	{"Delete", testDelete},
}

var consumeCases = []testCase{
	{"Once", testConsumeOnce},
	{"SingleUseUnderRace", testConsumeRace},
	{"Expired", testConsumeExpired},
}

// testRoundTrip stores every field, and every kind, and reads them back.
func testRoundTrip(e *env) {
	now := e.clk.Now()
	full := store.Record{
		Kind:      store.KindDevice,
		Subject:   "user-1",
		Project:   "project-1",
		Device:    "phone",
		Family:    "family-1",
		IssuedAt:  now.Add(-time.Minute),
		ExpiresAt: now.Add(time.Hour),
		ChainEnd:  now.Add(30 * 24 * time.Hour),
		AuthTime:  now.Add(-2 * time.Minute),
		Assurance: 2,
		LastSeen:  now.Add(-30 * time.Second),
	}
	id := e.putNew(full)
	e.wantHit(id, full)

	// A store keeps any Kind and any Assurance as given, so that a new
	// kind of token, or a new level, needs no change to a store.
	wide := e.rec(store.Kind(200), "user-1")
	wide.Assurance = 255
	e.wantHit(e.putNew(wide), wide)

	// Zero optional times must come back zero, not as the epoch.
	for k := store.KindSession; k.Valid(); k++ {
		r := e.rec(k, "user-2")
		id := e.putNew(r)
		e.wantHit(id, r)
	}
}

func testGetUnknown(e *env) {
	e.wantMiss(newID(), "of an unknown id")
	e.putNew(e.rec(store.KindSession, "user"))
	e.wantMiss(newID(), "of an unknown id in a non-empty store")
}

// testBadTag checks that a tag outside the documented alphabet is a miss
// for every read, and that the tag is part of the ID.
func testBadTag(e *env) {
	r := e.rec(store.KindSession, "user")
	id := e.putNew(r)
	other := id
	other.Tag = "t1"
	e.wantMiss(other, "with another tag")

	for _, bad := range []string{"", "T0", "t-0", "t:0", "{t0}", "t 0", "t0\n", "ü", "0123456789abcdefg"} {
		bid := store.ID{Tag: bad, Hash: id.Hash}
		e.wantMiss(bid, "with tag "+bad)
		if _, ok, err := e.s.Consume(e.ctx, bid); ok || err != nil {
			e.Errorf("Consume with tag %q = (_, %v, %v), want a miss", bad, ok, err)
		}
		if rot, err := e.s.Rotate(e.ctx, bid, store.ID{Tag: bad, Hash: newID().Hash}, time.Hour); err == nil && rot.Status != store.RotateMissing {
			e.Errorf("Rotate with tag %q = %v, want RotateMissing or an error", bad, rot.Status)
		}
		if ok, err := e.s.Delete(e.ctx, bid); ok || err != nil {
			e.Errorf("Delete with tag %q = (%v, %v), want (false, nil)", bad, ok, err)
		}
		if n, err := e.s.DeleteAll(e.ctx, bad, "user", store.Filter{}); n != 0 || err != nil {
			e.Errorf("DeleteAll with tag %q = (%d, %v), want (0, nil)", bad, n, err)
		}
		if items, err := e.s.List(e.ctx, bad, "user", store.Filter{}); len(items) != 0 || err != nil {
			e.Errorf("List with tag %q = (%d items, %v), want none", bad, len(items), err)
		}
		// Put may refuse a bad tag; what it must not do is make it readable.
		e.s.Put(e.ctx, bid, r)
		e.wantMiss(bid, "after Put with tag "+bad)
	}
	e.wantHit(id, r)
}

// testPutReplaces checks that a record replaced by one of another subject
// leaves the first subject's index, so that its DeleteAll cannot reach it.
func testPutReplaces(e *env) {
	id := e.putNew(e.rec(store.KindSession, "alice"))
	r := e.rec(store.KindDevice, "bob")
	r.Device = "phone"
	e.put(id, r)
	e.wantHit(id, r)
	e.wantList("alice", store.Filter{}, nil)
	e.wantList("bob", store.Filter{}, map[store.ID]store.Record{id: r})
	if n, err := e.s.DeleteAll(e.ctx, tag, "alice", store.Filter{}); n != 0 || err != nil {
		e.Fatalf("DeleteAll(alice) = (%d, %v), want (0, nil)", n, err)
	}
	e.wantHit(id, r)
}

// testExpiry checks that a record is a miss from the instant of its
// ExpiresAt on, swept or not.
func testExpiry(e *env) {
	r := e.rec(store.KindSession, "user")
	r.ExpiresAt = e.clk.Now().Add(10 * time.Second)
	id := e.putNew(r)
	e.clk.Advance(10*time.Second - time.Millisecond)
	e.wantHit(id, r)
	e.clk.Advance(time.Millisecond)
	e.wantMiss(id, "at ExpiresAt")
	e.wantList("user", store.Filter{}, nil)
	if n, err := e.s.DeleteAll(e.ctx, tag, "user", store.Filter{}); n != 0 || err != nil {
		e.Errorf("DeleteAll of an expired record = (%d, %v), want (0, nil)", n, err)
	}

	// A record put already expired is never seen.
	r.ExpiresAt = e.clk.Now()
	id = newID()
	if err := e.s.Put(e.ctx, id, r); err == nil {
		e.wantMiss(id, "of a record put expired")
	}
}

func testDelete(e *env) {
	keep := e.rec(store.KindSession, "user")
	kept := e.putNew(keep)
	id := e.putNew(e.rec(store.KindSession, "user"))
	if ok, err := e.s.Delete(e.ctx, id); !ok || err != nil {
		e.Fatalf("Delete = (%v, %v), want (true, nil)", ok, err)
	}
	e.wantMiss(id, "after Delete")
	if ok, err := e.s.Delete(e.ctx, id); ok || err != nil {
		e.Fatalf("second Delete = (%v, %v), want (false, nil)", ok, err)
	}
	if ok, err := e.s.Delete(e.ctx, newID()); ok || err != nil {
		e.Fatalf("Delete of an unknown id = (%v, %v), want (false, nil)", ok, err)
	}
	e.wantList("user", store.Filter{}, map[store.ID]store.Record{kept: keep})

	// Deleting a spent record forgets it: a replay is then simply unknown.
	old := e.putNew(e.rec(store.KindDevice, "user"))
	next := newID()
	e.rotate(old, next, time.Hour)
	if ok, err := e.s.Delete(e.ctx, old); !ok || err != nil {
		e.Fatalf("Delete of a spent record = (%v, %v), want (true, nil)", ok, err)
	}
	if rot := e.rotate(old, newID(), time.Hour); rot.Status != store.RotateMissing {
		e.Fatalf("Rotate of a deleted spent record = %v, want RotateMissing", rot.Status)
	}
	if _, ok, _ := e.s.Get(e.ctx, next); !ok {
		e.Fatal("the successor went with its deleted predecessor")
	}
}

func testConsumeOnce(e *env) {
	r := e.rec(store.KindLogin, "user")
	r.Project = "p"
	id := e.putNew(r)
	got, ok, err := e.s.Consume(e.ctx, id)
	if err != nil || !ok {
		e.Fatalf("Consume = (_, %v, %v), want a hit", ok, err)
	}
	if msg := diff(got, r); msg != "" {
		e.Fatalf("Consume: %s", msg)
	}
	if got, ok, err := e.s.Consume(e.ctx, id); ok || err != nil || got != (store.Record{}) {
		e.Fatalf("second Consume = (%+v, %v, %v), want a miss", got, ok, err)
	}
	e.wantMiss(id, "after Consume")
	e.wantList("user", store.Filter{}, nil)
	if _, ok, err := e.s.Consume(e.ctx, newID()); ok || err != nil {
		e.Fatalf("Consume of an unknown id = (_, %v, %v), want a miss", ok, err)
	}
}

// testConsumeRace releases 1000 goroutines on one token: exactly one wins.
func testConsumeRace(e *env) {
	r := e.rec(store.KindLogin, "user")
	id := e.putNew(r)
	var hits, misses, errs atomic.Int64
	race(1000, func(int) {
		got, ok, err := e.s.Consume(e.ctx, id)
		switch {
		case err != nil:
			errs.Add(1)
		case ok:
			if diff(got, r) != "" {
				errs.Add(1)
			}
			hits.Add(1)
		default:
			misses.Add(1)
		}
	})
	if hits.Load() != 1 || misses.Load() != 999 || errs.Load() != 0 {
		e.Fatalf("1000 concurrent Consumes: %d hits, %d misses, %d errors or wrong records; want 1, 999, 0",
			hits.Load(), misses.Load(), errs.Load())
	}
}

func testConsumeExpired(e *env) {
	r := e.rec(store.KindVerification, "user")
	r.ExpiresAt = e.clk.Now().Add(time.Minute)
	id := e.putNew(r)
	e.clk.Advance(time.Minute)
	if got, ok, err := e.s.Consume(e.ctx, id); ok || err != nil || got != (store.Record{}) {
		e.Fatalf("Consume at ExpiresAt = (%+v, %v, %v), want a miss", got, ok, err)
	}
}
