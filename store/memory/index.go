package memory

import (
	"github.com/gatehouse-go/gatehouse/store"
)

// subject heads the list of one subject's entries. Its key, the index
// map's key too, is the tag, a colon and the subject's name: a tag has no
// colon, so no two pairs share a key.
type subject struct {
	key    string
	tagLen uint8
	head   *entry
}

func (sub *subject) tag() string  { return sub.key[:sub.tagLen] }
func (sub *subject) name() string { return sub.key[sub.tagLen+1:] }

// subjectKey appends the index key of the tag and subject to buf, so that
// a lookup can build it on the stack.
func subjectKey(buf []byte, tag, subject string) []byte {
	return append(append(append(buf, tag...), ':'), subject...)
}

func (is *indexShard) find(tag, subject string) *subject {
	var buf [64]byte
	return is.m[string(subjectKey(buf[:0], tag, subject))]
}

// subject returns the subject, added to the index if it is new. A subject
// with no entries must not stay, so the caller files one at once.
func (is *indexShard) subject(tag, name string) *subject {
	if sub := is.find(tag, name); sub != nil {
		return sub
	}
	sub := &subject{key: string(subjectKey(nil, tag, name)), tagLen: uint8(len(tag))}
	is.m[sub.key] = sub
	return sub
}

// unlink takes e out of its subject's list, and the subject out of the
// index once it has no entries left, so that nothing of it lingers.
func (is *indexShard) unlink(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		e.subj.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	}
	e.prev, e.next = nil, nil
	if e.subj.head == nil {
		delete(is.m, e.subj.key)
	}
}

// lockFind locks the index shard of id's tag and returns it with the entry
// under id, live or spent; an entry past its until is dropped and not
// returned. The caller unlocks the shard.
func (s *Store) lockFind(id store.ID, now int64) (*indexShard, *entry) {
	is := s.indexShard(id.Tag)
	is.mu.Lock()
	e := s.tokenShard(&id.Hash).find(tokenKey{id.Hash, id.Tag})
	if e != nil && e.until() <= now {
		s.drop(is, e)
		e = nil
	}
	return is, e
}

// insert files the new entry e (whose room is reserved) under sub, in
// place of old if there is one. The caller holds is.
func (s *Store) insert(is *indexShard, sub *subject, e *entry, old *entry) {
	e.subj = sub
	e.next = sub.head
	if sub.head != nil {
		sub.head.prev = e
	}
	sub.head = e
	if old != nil {
		is.unlink(old) // its map slot is e's now
	}
	ts := s.tokenShard(&e.hash)
	ts.mu.Lock()
	ts.m[tokenKey{e.hash, sub.tag()}] = e
	ts.mu.Unlock()
}

// drop removes e from the store. The caller holds is.
func (s *Store) drop(is *indexShard, e *entry) {
	ts := s.tokenShard(&e.hash)
	ts.mu.Lock()
	delete(ts.m, tokenKey{e.hash, e.subj.tag()})
	ts.mu.Unlock()
	is.unlink(e)
	s.tokenCount.Add(-1)
}

// prune drops the subject's entries past their until (expired ones, and
// spent ones whose chain has ended), and its live entries that match (if
// match is not nil), and returns how many of each it dropped. The caller
// holds is.
func (s *Store) prune(is *indexShard, sub *subject, now int64, match func(*entry) bool) (expired, matched int) {
	for x := sub.head; x != nil; {
		next := x.next
		switch {
		case x.until() <= now:
			s.drop(is, x)
			expired++
		case match != nil && !x.spent && match(x):
			s.drop(is, x)
			matched++
		}
		x = next
	}
	return expired, matched
}
