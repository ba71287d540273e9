package storetest

import (
	"sync/atomic"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
)

var rotateCases = []testCase{
	{"Successor", testRotateSuccessor},
	{"ChainEnd", testRotateChainEnd},
	{"Missing", testRotateMissing},
	{"TagMismatch", testRotateTagMismatch},
	{"ReuseRevokesFamily", testRotateReuse},
	{"ReuseWithoutFamily", testRotateReuseWithoutFamily},
	{"ReplayOfOlderLink", testRotateReplayOlder},
	{"SpentExpires", testRotateSpentExpires},
	{"SpentKeptUntilChainEnd", testRotateSpentKeptUntilChainEnd},
	{"Race", testRotateRace},
}

// device returns a device token record of subject in family.
func (e *env) device(subject, family, device string) store.Record {
	r := e.rec(store.KindDevice, subject)
	r.Family, r.Device = family, device
	return r
}

func testRotateSuccessor(e *env) {
	old := e.device("user", "fam", "phone")
	old.Project = "p"
	old.ChainEnd = e.clk.Now().Add(30 * 24 * time.Hour)
	old.AuthTime = e.clk.Now().Add(-time.Minute)
	old.Assurance = 3
	oldID := e.putNew(old)
	e.clk.Advance(time.Minute)

	nextID := newID()
	rot := e.rotate(oldID, nextID, 2*time.Hour)
	if rot.Status != store.RotateDone || rot.Revoked != 0 {
		e.Fatalf("Rotate = %v (revoked %d), want RotateDone", rot.Status, rot.Revoked)
	}
	want := old
	want.IssuedAt = e.clk.Now()
	want.ExpiresAt = e.clk.Now().Add(2 * time.Hour)
	if msg := diff(rot.Record, want); msg != "" {
		e.Fatalf("Rotation.Record: %s", msg)
	}
	e.wantHit(nextID, want)
	e.wantMiss(oldID, "of a spent record")
	if _, ok, err := e.s.Consume(e.ctx, oldID); ok || err != nil {
		e.Fatalf("Consume of a spent record = (_, %v, %v), want a miss", ok, err)
	}
	e.wantList("user", store.Filter{}, map[store.ID]store.Record{nextID: want})
}

func testRotateChainEnd(e *env) {
	r := e.device("user", "fam", "phone")
	r.ChainEnd = e.clk.Now().Add(30 * time.Minute)
	id := e.putNew(r)
	next := newID()
	rot := e.rotate(id, next, 2*time.Hour)
	if rot.Status != store.RotateDone {
		e.Fatalf("Rotate = %v, want RotateDone", rot.Status)
	}
	if !sameTime(rot.Record.ExpiresAt, r.ChainEnd) {
		e.Fatalf("successor expires %v, want the chain's end %v", rot.Record.ExpiresAt, r.ChainEnd)
	}
	e.clk.Advance(30 * time.Minute)
	e.wantMiss(next, "of a successor at its chain's end")
}

func testRotateMissing(e *env) {
	next := newID()
	if rot := e.rotate(newID(), next, time.Hour); rot.Status != store.RotateMissing {
		e.Fatalf("Rotate of an unknown id = %v, want RotateMissing", rot.Status)
	}

	r := e.device("user", "fam", "phone")
	r.ExpiresAt = e.clk.Now().Add(time.Minute)
	expired := e.putNew(r)
	consumed := e.putNew(e.device("user", "fam2", "laptop"))
	if _, ok, err := e.s.Consume(e.ctx, consumed); !ok || err != nil {
		e.Fatalf("Consume = (_, %v, %v), want a hit", ok, err)
	}
	e.clk.Advance(time.Minute)
	if rot := e.rotate(expired, next, time.Hour); rot.Status != store.RotateMissing {
		e.Fatalf("Rotate of an expired record = %v, want RotateMissing", rot.Status)
	}
	if rot := e.rotate(consumed, next, time.Hour); rot.Status != store.RotateMissing {
		e.Fatalf("Rotate of a consumed record = %v, want RotateMissing", rot.Status)
	}
	e.wantMiss(next, "of a successor that was never made")
}

// testRotateTagMismatch: the successor must share the tag (and so the
// Redis Cluster slot) of its predecessor; anything else is refused whole.
func testRotateTagMismatch(e *env) {
	r := e.device("user", "fam", "phone")
	id := e.putNew(r)
	next := idWithTag("t1")
	if _, err := e.s.Rotate(e.ctx, id, next, time.Hour); err == nil {
		e.Fatal("Rotate to another tag succeeded, want an error")
	}
	e.wantHit(id, r)
	e.wantMiss(next, "of a successor under another tag")
}

// testRotateReuse replays a spent device token: its family, and only its
// family, is revoked.
func testRotateReuse(e *env) {
	first := e.putNew(e.device("user", "fam-a", "phone"))
	second := newID()
	e.rotate(first, second, time.Hour)
	session := e.rec(store.KindSession, "user")
	session.Family, session.Device = "fam-a", "phone"
	sessionID := e.putNew(session)

	// The same family name under another subject, another family of the
	// same subject and a family-less session all stay.
	laptop := e.device("user", "fam-b", "laptop")
	laptopID := e.putNew(laptop)
	plain := e.rec(store.KindSession, "user")
	plainID := e.putNew(plain)
	other := e.device("other", "fam-a", "phone")
	otherID := e.putNew(other)

	rot := e.rotate(first, newID(), time.Hour)
	if rot.Status != store.RotateReused || rot.Revoked != 2 {
		e.Fatalf("replay = %v revoking %d, want RotateReused revoking 2 (successor and session)", rot.Status, rot.Revoked)
	}
	if rot.Record.Subject != "user" || rot.Record.Family != "fam-a" {
		e.Fatalf("replay reported record %+v, want the spent one", rot.Record)
	}
	e.wantMiss(second, "of a successor in a revoked family")
	e.wantMiss(sessionID, "of a session in a revoked family")
	e.wantMiss(first, "of a replayed spent record")
	e.wantHit(laptopID, laptop)
	e.wantHit(plainID, plain)
	e.wantHit(otherID, other)
	if rot := e.rotate(second, newID(), time.Hour); rot.Status != store.RotateMissing {
		e.Fatalf("Rotate of a revoked successor = %v, want RotateMissing", rot.Status)
	}
	if _, ok, err := e.s.Consume(e.ctx, first); ok || err != nil {
		e.Fatalf("Consume of a spent record = (_, %v, %v), want a miss", ok, err)
	}
}

// testRotateReuseWithoutFamily replays a spent record whose Family is
// empty: it is reported as reuse, and revokes nothing, since a record
// without a family belongs to no chain (the contract of RotateReused). In
// particular the subject's other family-less records, its successor
// included, are not taken for its family.
func testRotateReuseWithoutFamily(e *env) {
	first := e.putNew(e.device("user", "", "phone"))
	second := newID()
	succ := e.rotate(first, second, time.Hour).Record
	plain := e.rec(store.KindSession, "user")
	plainID := e.putNew(plain)
	other := e.device("user", "", "laptop")
	otherID := e.putNew(other)
	chained := e.device("user", "fam", "tablet")
	chainedID := e.putNew(chained)

	rot := e.rotate(first, newID(), time.Hour)
	if rot.Status != store.RotateReused || rot.Revoked != 0 {
		e.Fatalf("replay of a family-less record = %v revoking %d, want RotateReused revoking 0", rot.Status, rot.Revoked)
	}
	if rot.Record.Subject != "user" || rot.Record.Family != "" || rot.Record.Device != "phone" {
		e.Fatalf("replay reported record %+v, want the spent one", rot.Record)
	}
	e.wantHit(second, succ)
	e.wantHit(plainID, plain)
	e.wantHit(otherID, other)
	e.wantHit(chainedID, chained)
}

// testRotateReplayOlder replays a link further back in a chain: the live
// end of the chain goes, and the spent links in between stay spent.
func testRotateReplayOlder(e *env) {
	a := e.putNew(e.device("user", "fam", "phone"))
	b, c := newID(), newID()
	e.rotate(a, b, time.Hour)
	e.rotate(b, c, time.Hour)
	if rot := e.rotate(a, newID(), time.Hour); rot.Status != store.RotateReused || rot.Revoked != 1 {
		e.Fatalf("replay of the first link = %v revoking %d, want RotateReused revoking 1", rot.Status, rot.Revoked)
	}
	e.wantMiss(c, "of the chain's live end after a replay")
	if rot := e.rotate(b, newID(), time.Hour); rot.Status != store.RotateReused || rot.Revoked != 0 {
		e.Fatalf("replay of the middle link = %v revoking %d, want RotateReused revoking 0", rot.Status, rot.Revoked)
	}
	e.wantList("user", store.Filter{}, nil)
}

// testRotateSpentExpires: a spent record without a ChainEnd is kept only
// until its own expiry.
func testRotateSpentExpires(e *env) {
	r := e.device("user", "fam", "phone")
	r.ExpiresAt = e.clk.Now().Add(10 * time.Minute)
	old := e.putNew(r)
	next := newID()
	e.rotate(old, next, time.Hour)
	e.clk.Advance(10 * time.Minute)
	if rot := e.rotate(old, newID(), time.Hour); rot.Status != store.RotateMissing || rot.Revoked != 0 {
		e.Fatalf("replay after the spent record expired = %v (revoked %d), want RotateMissing", rot.Status, rot.Revoked)
	}
	if _, ok, err := e.s.Get(e.ctx, next); !ok || err != nil {
		e.Fatalf("Get of the successor = (_, %v, %v), want a hit", ok, err)
	}
}

// testRotateSpentKeptUntilChainEnd: a spent record with a ChainEnd is kept
// past its own expiry, until the chain's end. A thief who rotated a stolen
// token, and rotates on, keeps the chain alive past that token's expiry;
// when its owner presents it after that, the replay must still be
// recognised and end the thief's chain, not be a miss that leaves it live.
func testRotateSpentKeptUntilChainEnd(e *env) {
	start := e.clk.Now()
	r := e.device("user", "fam", "phone")
	r.ExpiresAt = start.Add(10 * time.Minute)
	r.ChainEnd = start.Add(3 * time.Hour)
	stolen := e.putNew(r)
	b, c := newID(), newID()
	e.rotate(stolen, b, time.Hour) // b lives until start+1h
	e.clk.Advance(50 * time.Minute)
	e.rotate(b, c, time.Hour) // c lives until start+1h50m
	e.clk.Advance(30 * time.Minute)

	// start+1h20m: stolen and b are both past their own expiry.
	rot := e.rotate(stolen, newID(), time.Hour)
	if rot.Status != store.RotateReused || rot.Revoked != 1 {
		e.Fatalf("replay of a spent record past its own expiry, before its chain's end = %v revoking %d; want RotateReused revoking 1 (the live end)",
			rot.Status, rot.Revoked)
	}
	if rot.Record.Family != "fam" || !sameTime(rot.Record.ExpiresAt, r.ExpiresAt) {
		e.Fatalf("replay reported record %+v, want the spent one with its own ExpiresAt %v", rot.Record, r.ExpiresAt)
	}
	e.wantMiss(c, "of the chain's live end after a replay")
	if rot := e.rotate(b, newID(), time.Hour); rot.Status != store.RotateReused || rot.Revoked != 0 {
		e.Fatalf("replay of the middle link past its own expiry = %v revoking %d, want RotateReused revoking 0", rot.Status, rot.Revoked)
	}

	// At the chain's end every link of it is forgotten.
	e.clk.Advance(r.ChainEnd.Sub(e.clk.Now()))
	if rot := e.rotate(stolen, newID(), time.Hour); rot.Status != store.RotateMissing || rot.Revoked != 0 {
		e.Fatalf("replay at the chain's end = %v (revoked %d), want RotateMissing", rot.Status, rot.Revoked)
	}
	if ok, err := e.s.Delete(e.ctx, b); ok || err != nil {
		e.Fatalf("Delete of a spent record at its chain's end = (%v, %v), want (false, nil)", ok, err)
	}
}

// testRotateRace rotates one record from many goroutines: exactly one
// rotates, and the family never ends with two live records.
func testRotateRace(e *env) {
	old := e.putNew(e.device("user", "fam", "phone"))
	var rotated, other, errs atomic.Int64
	race(50, func(int) {
		rot, err := e.s.Rotate(e.ctx, old, newID(), time.Hour)
		switch {
		case err != nil:
			errs.Add(1)
		case rot.Status == store.RotateDone:
			rotated.Add(1)
		case rot.Status == store.RotateReused || rot.Status == store.RotateMissing:
			other.Add(1)
		default:
			errs.Add(1)
		}
	})
	if rotated.Load() != 1 || other.Load() != 49 || errs.Load() != 0 {
		e.Fatalf("50 concurrent Rotates: %d rotated, %d reused or missing, %d errors; want 1, 49, 0",
			rotated.Load(), other.Load(), errs.Load())
	}
	if items := e.list("user", store.Filter{Family: "fam"}); len(items) > 1 {
		e.Fatalf("the family has %d live records after the race, want at most 1", len(items))
	}
}
