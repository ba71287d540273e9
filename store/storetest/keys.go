package storetest

import (
	"context"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
)

var keyCases = []testCase{
	{"HostileStrings", testHostileStrings},
	{"HostileCounterKeys", testHostileCounterKeys},
}

var contextCases = []testCase{
	{"Cancelled", testCancelled},
}

// hostile are strings that a store building keys or index entries by
// concatenation, escaping or encoding could mangle or confuse: each must
// come back byte for byte and stay apart from all the others.
var hostile = []string{
	"", "{", "}", "{t0}", ":", "a:b", "a", "a:", ":a", "a::b", " ", "a b",
	"\n", "a\nb", "\t", "\x00", "a\x00b", "\xff\xfe", "ü日本語🔑", "*", "?[]",
	"\"'\\", "%s%d", "a|b", "a,b", "a;b", "a=b", "a/b", "a\\b",
	strings.Repeat("x", 300), strings.Repeat("{:}", 100),
}

// testHostileStrings stores one record per pair of hostile subject and
// project (devices and families hostile too) and checks that each is
// found, listed and deleted alone.
func testHostileStrings(e *env) {
	subjects := hostile[1:] // a subject is never empty
	type entry struct {
		id  store.ID
		rec store.Record
	}
	bySubject := make(map[string][]entry)
	for i, s := range subjects {
		for j := range 4 {
			p := hostile[(i+j*7)%len(hostile)]
			r := e.rec(store.KindSession, s)
			r.Project, r.Device, r.Family = p, hostile[(i+j+1)%len(hostile)], hostile[(i+3*j+2)%len(hostile)]
			bySubject[s] = append(bySubject[s], entry{e.putNew(r), r})
		}
	}
	for s, entries := range bySubject {
		want := make(map[store.ID]store.Record)
		for _, en := range entries {
			e.wantHit(en.id, en.rec)
			want[en.id] = en.rec
		}
		e.wantList(s, store.Filter{}, want)
	}
	for s, entries := range bySubject {
		// The projects of one subject differ, so a non-empty one picks
		// out one record.
		k := 0
		if entries[k].rec.Project == "" {
			k = 1
		}
		gone := entries[k]
		f := store.Filter{Project: gone.rec.Project, Device: gone.rec.Device, Family: gone.rec.Family}
		n, err := e.s.DeleteAll(e.ctx, tag, s, f)
		if err != nil || n != 1 {
			e.Fatalf("DeleteAll(%q, %+q) = (%d, %v), want (1, nil)", s, f, n, err)
		}
		for i, en := range entries {
			if i == k {
				e.wantMiss(en.id, "after DeleteAll")
			} else {
				e.wantHit(en.id, en.rec)
			}
		}
	}
}

// testHostileCounterKeys also checks that counter keys, which are made of
// the caller's data, cannot reach the tokens' key space.
func testHostileCounterKeys(e *env) {
	r := e.rec(store.KindSession, "user")
	id := e.putNew(r)
	for _, k := range []string{tag, "{" + tag + "}:", "user", tag + ":user", "{" + tag + "}:user"} {
		e.hit(k, time.Minute)
	}
	for i, k := range hostile {
		for range i + 1 {
			e.hit(k, time.Minute)
		}
	}
	for i, k := range hostile {
		c, err := e.s.Peek(e.ctx, k)
		if err != nil || c.N != int64(i+1) {
			e.Fatalf("Peek(%q) = (%d, %v), want (%d, nil)", k, c.N, err, i+1)
		}
	}
	e.wantHit(id, r)
	e.wantList("user", store.Filter{}, map[store.ID]store.Record{id: r})
}

// testCancelled calls every method with a cancelled context: a store may
// still answer, or fail with store.ErrUnavailable, but must not panic or
// report a hit it does not have.
func testCancelled(e *env) {
	live := e.rec(store.KindSession, "user")
	liveID := e.putNew(live)
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()

	if r, ok, err := e.s.Get(ctx, liveID); err != nil || !ok {
		wantUnavailable(e.T, "Get", err)
		if ok || r != (store.Record{}) {
			e.Error("Get reported a hit together with an error")
		}
	} else if msg := diff(r, live); msg != "" {
		e.Errorf("Get: %s", msg)
	}
	unknown := newID()
	if _, ok, err := e.s.Get(ctx, unknown); ok {
		e.Error("Get of an unknown id hit")
	} else {
		wantUnavailable(e.T, "Get", err)
	}
	if _, ok, err := e.s.Consume(ctx, unknown); ok {
		e.Error("Consume of an unknown id hit")
	} else {
		wantUnavailable(e.T, "Consume", err)
	}
	rot, err := e.s.Rotate(ctx, unknown, newID(), time.Hour)
	if err == nil && rot.Status != store.RotateMissing {
		e.Errorf("Rotate of an unknown id = %v", rot.Status)
	}
	wantUnavailable(e.T, "Rotate", err)
	wantUnavailable(e.T, "Put", e.s.Put(ctx, newID(), live))
	_, err = e.s.Delete(ctx, unknown)
	wantUnavailable(e.T, "Delete", err)
	_, err = e.s.List(ctx, tag, "user", store.Filter{})
	wantUnavailable(e.T, "List", err)
	_, err = e.s.DeleteAll(ctx, tag, "nobody", store.Filter{})
	wantUnavailable(e.T, "DeleteAll", err)
	_, err = e.s.Hit(ctx, "k", time.Minute)
	wantUnavailable(e.T, "Hit", err)
	_, err = e.s.Peek(ctx, "k")
	wantUnavailable(e.T, "Peek", err)
	wantUnavailable(e.T, "Reset", e.s.Reset(ctx, "k"))

	// The store still works for a live context.
	e.wantHit(liveID, live)
}
