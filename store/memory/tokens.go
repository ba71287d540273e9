package memory

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
)

// Put implements [store.Writer]. It fails for an invalid tag or an empty
// subject; a record put already expired only removes what was under id.
func (s *Store) Put(_ context.Context, id store.ID, rec store.Record) error {
	if err := store.CheckPut(id, rec); err != nil {
		return err
	}
	if len(rec.Project)+len(rec.Device) > math.MaxUint16 {
		return errors.New("memory: record's Project and Device longer than 64 KiB")
	}
	now := s.clock()
	is, old := s.lockFind(id, now)
	defer is.mu.Unlock()
	expires := nanos(rec.ExpiresAt)
	if expires <= now {
		if old != nil {
			s.drop(is, old)
		}
		return nil
	}
	if old == nil && !s.reserveToken() {
		return store.ErrFull
	}
	sub := is.subject(id.Tag, rec.Subject)
	s.insert(is, sub, newEntry(id.Hash, sub.head, rec), old)
	return nil
}

// Get implements [store.Reader]. It takes one read lock and does not
// allocate.
func (s *Store) Get(_ context.Context, id store.ID) (store.Record, bool, error) {
	if !store.ValidRoutingTag(id.Tag) {
		return store.Record{}, false, nil
	}
	ts := s.tokenShard(&id.Hash)
	ts.mu.RLock()
	e := ts.m[tokenKey{id.Hash, id.Tag}]
	if e == nil || e.spent {
		ts.mu.RUnlock()
		return store.Record{}, false, nil
	}
	rec, expires := e.record(), e.expires
	ts.mu.RUnlock()
	// The clock is read last, and outside the lock, because it can cost
	// more than the lookup; an unknown token never pays for it.
	if expires <= s.clock() {
		return store.Record{}, false, nil
	}
	return rec, true, nil
}

// Consume implements [store.Consumer].
func (s *Store) Consume(_ context.Context, id store.ID) (store.Record, bool, error) {
	if !store.ValidRoutingTag(id.Tag) {
		return store.Record{}, false, nil
	}
	is, e := s.lockFind(id, s.clock())
	defer is.mu.Unlock()
	if e == nil || e.spent {
		return store.Record{}, false, nil
	}
	rec := e.record()
	s.drop(is, e)
	return rec, true, nil
}

// Rotate implements [store.Rotator]. Besides a next with another tag, it
// refuses a next equal to old and a lifetime that is not positive: those
// are mistakes of the caller, and the error does not wrap
// [store.ErrUnavailable].
func (s *Store) Rotate(_ context.Context, old, next store.ID, lifetime time.Duration) (store.Rotation, error) {
	if err := store.CheckRotate(old, next, lifetime); err != nil {
		return store.Rotation{}, err
	}
	if !store.ValidRoutingTag(old.Tag) {
		return store.Rotation{Status: store.RotateMissing}, nil
	}
	now := s.clock()
	is, e := s.lockFind(old, now)
	defer is.mu.Unlock()
	if e == nil {
		return store.Rotation{Status: store.RotateMissing}, nil
	}
	if e.spent {
		// A record without a family belongs to no chain: its reuse is
		// reported and revokes nothing (store.RotateReused).
		revoked := 0
		if family := e.family(); family != "" {
			_, revoked = s.prune(is, e.subj, now, func(x *entry) bool { return x.family() == family })
		}
		return store.Rotation{Status: store.RotateReused, Record: e.record(), Revoked: revoked}, nil
	}

	prev := s.tokenShard(&next.Hash).find(tokenKey{next.Hash, next.Tag})
	if prev == nil && !s.reserveToken() {
		return store.Rotation{}, store.ErrFull
	}
	expires := addNanos(now, lifetime)
	if e.chainEnd != noTime {
		expires = min(expires, e.chainEnd)
	}
	succ := e.successor(next.Hash, now, expires)
	ts := s.tokenShard(&e.hash)
	ts.mu.Lock()
	e.spent = true
	ts.mu.Unlock()
	s.insert(is, e.subj, succ, prev)
	return store.Rotation{Status: store.RotateDone, Record: succ.record()}, nil
}

// Touch implements [store.Toucher]. A touch that is not due takes the
// index shard's lock and writes nothing.
func (s *Store) Touch(_ context.Context, id store.ID, minInterval time.Duration) (bool, error) {
	if err := store.CheckTouch(minInterval); err != nil {
		return false, err
	}
	if !store.ValidRoutingTag(id.Tag) {
		return false, nil
	}
	now := s.clock()
	is, e := s.lockFind(id, now)
	defer is.mu.Unlock()
	if e == nil || e.spent {
		return false, nil
	}
	seen := e.lastSeen
	if seen == noTime {
		seen = e.issued
	}
	if seen != noTime && now < addNanos(seen, minInterval) {
		return false, nil
	}
	ts := s.tokenShard(&e.hash)
	ts.mu.Lock()
	e.lastSeen = now
	ts.mu.Unlock()
	return true, nil
}

// Delete implements [store.Writer]. An expired record that has not been
// swept yet is removed but not reported.
func (s *Store) Delete(_ context.Context, id store.ID) (bool, error) {
	if !store.ValidRoutingTag(id.Tag) {
		return false, nil
	}
	is, e := s.lockFind(id, s.clock())
	defer is.mu.Unlock()
	if e == nil {
		return false, nil
	}
	s.drop(is, e)
	return true, nil
}

// DeleteAll implements [store.SubjectIndex]. Spent records are not live, so it
// leaves them: a replay after "log out everywhere" is still recognised.
func (s *Store) DeleteAll(_ context.Context, tag, subject string, f store.Filter) (int, error) {
	if !store.ValidRoutingTag(tag) {
		return 0, nil
	}
	now := s.clock()
	is := s.indexShard(tag)
	is.mu.Lock()
	defer is.mu.Unlock()
	sub := is.find(tag, subject)
	if sub == nil {
		return 0, nil
	}
	_, n := s.prune(is, sub, now, func(x *entry) bool { return f.Match(x.record()) })
	return n, nil
}

// List implements [store.SubjectIndex].
func (s *Store) List(_ context.Context, tag, subject string, f store.Filter) ([]store.Item, error) {
	if !store.ValidRoutingTag(tag) {
		return nil, nil
	}
	now := s.clock()
	is := s.indexShard(tag)
	is.mu.RLock()
	defer is.mu.RUnlock()
	sub := is.find(tag, subject)
	if sub == nil {
		return nil, nil
	}
	var items []store.Item
	for x := sub.head; x != nil; x = x.next {
		if r := x.record(); !x.spent && x.expires > now && f.Match(r) {
			items = append(items, store.Item{ID: store.ID{Tag: tag, Hash: x.hash}, Record: r})
		}
	}
	return items, nil
}
